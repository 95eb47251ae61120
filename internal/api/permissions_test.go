package api_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

// unknownID is a well-formed id that names nothing.
const unknownID = "00000000-0000-4000-8000-00000000dead"

// roleRank orders roles: each includes the ones below.
var roleRank = map[string]int{"": 0, "agent": 1, "supervisor": 2, "admin": 3}

// principalRole is the role each test principal holds.
var principalRole = map[string]string{
	pAdmin: "admin", pSupervisor: "supervisor", pAgent: "agent",
	pAdminCC: "admin", pSuperCC: "supervisor", pAgentCC: "agent",
}

var allPrincipals = []string{pAdmin, pSupervisor, pAgent, pAdminCC, pSuperCC, pAgentCC}

func isClient(p string) bool { return strings.HasPrefix(p, "cc:") }

// permCase is one operation of the matrix. The request is chosen so that an
// allowed caller gets allowed (a read, or a write the handler rejects after
// the permission check) and changes nothing.
type permCase struct {
	method, template string // as in the OpenAPI document
	path             string
	body             any
	min              string // lowest role allowed ("" = any caller)
	allowed          int    // status for an allowed caller
	// override gives the status for particular principals (handler-level rules).
	override map[string]int
	fresh    bool // the request ends the token: use a new one
}

func TestPermissionsMatrix(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	other := e.userID(t, "agent2") // someone other than every test principal
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	skill := e.findID(t, "/api/v2/routing/skills", "Ventas")
	code := e.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada")
	station := e.findID(t, "/api/v2/stations", "1001")
	brk := e.findID(t, "/api/v2/presencedefinitions", "1 - Descanso")
	ownOnly := map[string]int{pAgent: 403, pAgentCC: 403} // another user's private lists
	personOnly := map[string]int{pAdminCC: 400, pSuperCC: 400, pAgentCC: 400}
	const ob = "/api/v2/outbound"
	validSchema := map[string]any{"name": "x", "fields": []map[string]any{{"name": "k", "type": "Clave_1"}, {"name": "p", "type": "phone"}}}

	cases := []permCase{
		{method: "GET", template: "/api/v2/authorization/roles", path: "/api/v2/authorization/roles", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/tokens/me", path: "/api/v2/tokens/me", min: "", allowed: 200},
		{method: "DELETE", template: "/api/v2/tokens/me", path: "/api/v2/tokens/me", min: "", allowed: 204, fresh: true},

		{method: "GET", template: "/api/v2/users", path: "/api/v2/users", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/users", path: "/api/v2/users", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/users/me", path: "/api/v2/users/me", min: "", allowed: 200, override: personOnly},
		{method: "POST", template: "/api/v2/users/me/password", path: "/api/v2/users/me/password",
			body: map[string]any{"oldPassword": "not-the-password", "newPassword": "whatever"}, min: "", allowed: 400},
		{method: "GET", template: "/api/v2/users/{userId}", path: "/api/v2/users/" + other, min: "agent", allowed: 200},
		{method: "PATCH", template: "/api/v2/users/{userId}", path: "/api/v2/users/" + unknownID, body: map[string]any{"version": 1}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/users/{userId}", path: "/api/v2/users/" + unknownID, min: "admin", allowed: 404},
		{method: "POST", template: "/api/v2/users/{userId}/password", path: "/api/v2/users/" + unknownID + "/password",
			body: map[string]any{"newPassword": "whatever"}, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/users/{userId}/queues", path: "/api/v2/users/" + other + "/queues", min: "agent", allowed: 200, override: ownOnly},
		{method: "GET", template: "/api/v2/users/{userId}/routingskills", path: "/api/v2/users/" + other + "/routingskills", min: "agent", allowed: 200, override: ownOnly},
		{method: "POST", template: "/api/v2/users/{userId}/routingskills", path: "/api/v2/users/" + unknownID + "/routingskills",
			body: map[string]any{"id": skill, "proficiency": 3}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/users/{userId}/routingskills/{skillId}", path: "/api/v2/users/" + unknownID + "/routingskills/" + skill, min: "admin", allowed: 404},

		// Agent sessions: station login, presence, routing status.
		{method: "GET", template: "/api/v2/users/{userId}/station", path: "/api/v2/users/" + other + "/station", min: "agent", allowed: 200, override: ownOnly},
		{method: "POST", template: "/api/v2/users/{userId}/station", path: "/api/v2/users/" + unknownID + "/station",
			body: map[string]any{"stationName": "1001", "password": "device"}, min: "agent", allowed: 404, override: ownOnly},
		{method: "DELETE", template: "/api/v2/users/{userId}/station", path: "/api/v2/users/" + unknownID + "/station", min: "agent", allowed: 404, override: ownOnly},
		{method: "DELETE", template: "/api/v2/users/{userId}/station/associatedstation", path: "/api/v2/users/" + unknownID + "/station/associatedstation",
			min: "agent", allowed: 404, override: ownOnly},
		{method: "GET", template: "/api/v2/users/{userId}/presences/purecloud", path: "/api/v2/users/" + other + "/presences/purecloud", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/users/presences/purecloud/bulk", path: "/api/v2/users/presences/purecloud/bulk?id=" + other, min: "agent", allowed: 200},
		{method: "PATCH", template: "/api/v2/users/{userId}/presences/purecloud", path: "/api/v2/users/" + unknownID + "/presences/purecloud",
			body: map[string]any{"presenceDefinition": map[string]any{"id": "6a3af858-942f-489d-9700-5f9bcdcdae9b"}}, min: "agent", allowed: 404, override: ownOnly},
		{method: "POST", template: "/api/v2/users/{userId}/presences/purecloud/break", path: "/api/v2/users/" + unknownID + "/presences/purecloud/break",
			body: map[string]any{"breakNumber": 1}, min: "agent", allowed: 404, override: ownOnly},
		{method: "POST", template: "/api/v2/users/{userId}/presences/purecloud/pause", path: "/api/v2/users/" + unknownID + "/presences/purecloud/pause", min: "agent", allowed: 404, override: ownOnly},
		{method: "POST", template: "/api/v2/users/{userId}/presences/purecloud/unpause", path: "/api/v2/users/" + unknownID + "/presences/purecloud/unpause", min: "agent", allowed: 404, override: ownOnly},
		{method: "GET", template: "/api/v2/users/{userId}/routingstatus", path: "/api/v2/users/" + other + "/routingstatus", min: "agent", allowed: 200},

		// Conversations and call control: an unknown conversation is 404 for
		// anyone allowed; monitoring needs a person (the supervisor's phone).
		{method: "GET", template: "/api/v2/conversations", path: "/api/v2/conversations", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/conversations/calls", path: "/api/v2/conversations/calls", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/conversations/{conversationId}", path: "/api/v2/conversations/" + unknownID, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}", path: "/api/v2/conversations/calls/" + unknownID, min: "agent", allowed: 404},
		{method: "PATCH", template: "/api/v2/conversations/calls/{conversationId}", path: "/api/v2/conversations/calls/" + unknownID, body: map[string]any{"state": "disconnected"}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/disconnect", path: "/api/v2/conversations/" + unknownID + "/disconnect", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls", path: "/api/v2/conversations/calls", body: map[string]any{}, min: "agent", allowed: 400},
		{method: "PATCH", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID, body: map[string]any{"state": "disconnected"}, min: "agent", allowed: 404},
		{method: "PATCH", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/attributes",
			body: map[string]any{"attributes": map[string]any{"a": "b"}}, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapup", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/wrapup", min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/wrapupcodes", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/wrapupcodes", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/participants/{participantId}/digits", path: "/api/v2/conversations/" + unknownID + "/participants/" + unknownID + "/digits", body: map[string]any{"digits": "1"}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/agent", path: "/api/v2/conversations/" + unknownID + "/participants/" + unknownID + "/replace/agent", body: map[string]any{"userId": other}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/queue", path: "/api/v2/conversations/" + unknownID + "/participants/" + unknownID + "/replace/queue", body: map[string]any{"queueId": queue}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/participants/{participantId}/replace/external", path: "/api/v2/conversations/" + unknownID + "/participants/" + unknownID + "/replace/external", body: map[string]any{"address": "600000000"}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/agent", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult/agent", body: map[string]any{"userId": other}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/queue", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult/queue", body: map[string]any{"queueId": queue}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/external", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult/external", body: map[string]any{"address": "600000000"}, min: "agent", allowed: 404},
		{method: "PATCH", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult", body: map[string]any{"speakTo": "OBJECT"}, min: "agent", allowed: 404},
		{method: "DELETE", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/consult/complete", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/consult/complete", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants", path: "/api/v2/conversations/calls/" + unknownID + "/participants",
			body: map[string]any{"participants": []any{map[string]any{"address": "600000000"}}}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/conference/kickall", path: "/api/v2/conversations/calls/" + unknownID + "/conference/kickall", min: "agent", allowed: 404},
		{method: "DELETE", template: "/api/v2/conversations/calls/{conversationId}/conference", path: "/api/v2/conversations/calls/" + unknownID + "/conference", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/monitor", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/monitor", min: "supervisor", allowed: 404, override: map[string]int{pAdminCC: 400, pSuperCC: 400}},
		{method: "POST", template: "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/coach", path: "/api/v2/conversations/calls/" + unknownID + "/participants/" + unknownID + "/coach", min: "supervisor", allowed: 404, override: map[string]int{pAdminCC: 400, pSuperCC: 400}},
		{method: "POST", template: "/api/v2/conversations/{conversationId}/barge", path: "/api/v2/conversations/" + unknownID + "/barge", min: "supervisor", allowed: 404, override: map[string]int{pAdminCC: 400, pSuperCC: 400}},
		{method: "GET", template: "/api/v2/routing/queues/{queueId}/estimatedwaittime", path: "/api/v2/routing/queues/" + queue + "/estimatedwaittime", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/conversations/monitorable", path: "/api/v2/conversations/monitorable", min: "supervisor", allowed: 200},
		{method: "POST", template: "/api/v2/simulation/calls", path: "/api/v2/simulation/calls", body: map[string]any{"to": "Nowhere", "from": ""}, min: "agent", allowed: 400},

		{method: "GET", template: "/api/v2/stations", path: "/api/v2/stations", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/stations", path: "/api/v2/stations", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/stations/{stationId}", path: "/api/v2/stations/" + station, min: "agent", allowed: 200},
		{method: "PUT", template: "/api/v2/stations/{stationId}", path: "/api/v2/stations/" + unknownID, body: map[string]any{"name": "9999"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/stations/{stationId}", path: "/api/v2/stations/" + unknownID, min: "admin", allowed: 404},

		{method: "GET", template: "/api/v2/routing/queues", path: "/api/v2/routing/queues", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/routing/queues", path: "/api/v2/routing/queues", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/routing/queues/{queueId}", path: "/api/v2/routing/queues/" + queue, min: "agent", allowed: 200},
		{method: "PUT", template: "/api/v2/routing/queues/{queueId}", path: "/api/v2/routing/queues/" + unknownID, body: map[string]any{"name": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/routing/queues/{queueId}", path: "/api/v2/routing/queues/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/routing/queues/{queueId}/members", path: "/api/v2/routing/queues/" + queue + "/members", min: "supervisor", allowed: 200},
		{method: "POST", template: "/api/v2/routing/queues/{queueId}/members", path: "/api/v2/routing/queues/" + queue + "/members", body: []any{}, min: "supervisor", allowed: 400},
		{method: "PATCH", template: "/api/v2/routing/queues/{queueId}/members", path: "/api/v2/routing/queues/" + queue + "/members", body: []any{}, min: "supervisor", allowed: 400},
		{method: "GET", template: "/api/v2/routing/queues/{queueId}/wrapupcodes", path: "/api/v2/routing/queues/" + queue + "/wrapupcodes", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/routing/queues/{queueId}/wrapupcodes", path: "/api/v2/routing/queues/" + queue + "/wrapupcodes", body: []any{}, min: "admin", allowed: 400},
		{method: "DELETE", template: "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}", path: "/api/v2/routing/queues/" + queue + "/wrapupcodes/" + unknownID, min: "admin", allowed: 404},

		{method: "GET", template: "/api/v2/routing/skills", path: "/api/v2/routing/skills", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/routing/skills", path: "/api/v2/routing/skills", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/routing/skills/{skillId}", path: "/api/v2/routing/skills/" + skill, min: "agent", allowed: 200},
		{method: "PATCH", template: "/api/v2/routing/skills/{skillId}", path: "/api/v2/routing/skills/" + unknownID, body: map[string]any{"name": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/routing/skills/{skillId}", path: "/api/v2/routing/skills/" + unknownID, min: "admin", allowed: 404},

		{method: "GET", template: "/api/v2/routing/wrapupcodes", path: "/api/v2/routing/wrapupcodes", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/routing/wrapupcodes", path: "/api/v2/routing/wrapupcodes", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/routing/wrapupcodes/{codeId}", path: "/api/v2/routing/wrapupcodes/" + code, min: "agent", allowed: 200},
		{method: "PUT", template: "/api/v2/routing/wrapupcodes/{codeId}", path: "/api/v2/routing/wrapupcodes/" + unknownID, body: map[string]any{"name": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/routing/wrapupcodes/{codeId}", path: "/api/v2/routing/wrapupcodes/" + unknownID, min: "admin", allowed: 404},

		{method: "GET", template: "/api/v2/presencedefinitions", path: "/api/v2/presencedefinitions", min: "agent", allowed: 200},
		{method: "GET", template: "/api/v2/presence/definitions", path: "/api/v2/presence/definitions", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/presencedefinitions", path: "/api/v2/presencedefinitions", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/presencedefinitions/{presenceId}", path: "/api/v2/presencedefinitions/" + brk, min: "agent", allowed: 200},
		{method: "PUT", template: "/api/v2/presencedefinitions/{presenceId}", path: "/api/v2/presencedefinitions/" + unknownID,
			body: map[string]any{"breakNumber": 50, "label": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/presencedefinitions/{presenceId}", path: "/api/v2/presencedefinitions/" + unknownID, min: "admin", allowed: 404},

		{method: "GET", template: "/api/v2/oauth/clients", path: "/api/v2/oauth/clients", min: "admin", allowed: 200},
		{method: "POST", template: "/api/v2/oauth/clients", path: "/api/v2/oauth/clients", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/oauth/clients/{clientId}", path: "/api/v2/oauth/clients/demo-client", min: "admin", allowed: 200},
		{method: "PUT", template: "/api/v2/oauth/clients/{clientId}", path: "/api/v2/oauth/clients/no-such-client",
			body: map[string]any{"name": "x", "roles": []string{"agent"}}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/oauth/clients/{clientId}", path: "/api/v2/oauth/clients/no-such-client", min: "admin", allowed: 404},

		{method: "POST", template: "/api/v2/notifications/channels", path: "/api/v2/notifications/channels", min: "", allowed: 200},
		{method: "GET", template: "/api/v2/notifications/channels", path: "/api/v2/notifications/channels", min: "", allowed: 200},
		{method: "HEAD", template: "/api/v2/notifications/channels/{channelId}", path: "/api/v2/notifications/channels/streaming-0-none", min: "", allowed: 404},
		{method: "GET", template: "/api/v2/notifications/channels/{channelId}/subscriptions", path: "/api/v2/notifications/channels/streaming-0-none/subscriptions", min: "", allowed: 404},
		{method: "POST", template: "/api/v2/notifications/channels/{channelId}/subscriptions", path: "/api/v2/notifications/channels/streaming-0-none/subscriptions", body: []any{}, min: "", allowed: 404},
		{method: "PUT", template: "/api/v2/notifications/channels/{channelId}/subscriptions", path: "/api/v2/notifications/channels/streaming-0-none/subscriptions", body: []any{}, min: "", allowed: 404},
		{method: "DELETE", template: "/api/v2/notifications/channels/{channelId}/subscriptions", path: "/api/v2/notifications/channels/streaming-0-none/subscriptions", min: "", allowed: 404},
		{method: "GET", template: "/api/v2/notifications/availabletopics", path: "/api/v2/notifications/availabletopics", min: "", allowed: 200},

		// Outbound: contact data, campaigns, callbacks, the dialer desk.
		{method: "GET", template: "/api/v2/outbound/schemas", path: ob + "/schemas", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/outbound/schemas", path: ob + "/schemas", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/outbound/schemas/{schemaId}", path: ob + "/schemas/" + unknownID, min: "agent", allowed: 404},
		{method: "PUT", template: "/api/v2/outbound/schemas/{schemaId}", path: ob + "/schemas/" + unknownID, body: validSchema, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/schemas/{schemaId}", path: ob + "/schemas/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contactlists", path: ob + "/contactlists", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/outbound/contactlists", path: ob + "/contactlists", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/outbound/contactlists/{listId}", path: ob + "/contactlists/" + unknownID, min: "agent", allowed: 404},
		{method: "PUT", template: "/api/v2/outbound/contactlists/{listId}", path: ob + "/contactlists/" + unknownID, body: map[string]any{"name": "x", "schemaId": unknownID}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/contactlists/{listId}", path: ob + "/contactlists/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contactlists/{listId}/contacts", path: ob + "/contactlists/" + unknownID + "/contacts", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/contactlists/{listId}/contacts", path: ob + "/contactlists/" + unknownID + "/contacts", body: map[string]any{}, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contactlists/{listId}/contacts/{contactId}", path: ob + "/contactlists/" + unknownID + "/contacts/" + unknownID, min: "agent", allowed: 404},
		{method: "PUT", template: "/api/v2/outbound/contactlists/{listId}/contacts/{contactId}", path: ob + "/contactlists/" + unknownID + "/contacts/" + unknownID, body: map[string]any{}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/contactlists/{listId}/contacts/{contactId}", path: ob + "/contactlists/" + unknownID + "/contacts/" + unknownID, min: "admin", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/contactlists/{listId}/import", path: ob + "/contactlists/" + unknownID + "/import", body: "a,b\n", min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contactlists/{listId}/export", path: ob + "/contactlists/" + unknownID + "/export", min: "admin", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/contactlists/{listId}/findorcreate", path: ob + "/contactlists/" + unknownID + "/findorcreate", body: map[string]any{"data": "x"}, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contacts/{contactId}", path: ob + "/contacts/" + unknownID, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/contacts/{contactId}/attempts", path: ob + "/contacts/" + unknownID + "/attempts", min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/dnclists", path: ob + "/dnclists", min: "supervisor", allowed: 200},
		{method: "POST", template: "/api/v2/outbound/dnclists", path: ob + "/dnclists", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/outbound/dnclists/{dncListId}", path: ob + "/dnclists/" + unknownID, min: "supervisor", allowed: 404},
		{method: "PUT", template: "/api/v2/outbound/dnclists/{dncListId}", path: ob + "/dnclists/" + unknownID, body: map[string]any{"name": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/dnclists/{dncListId}", path: ob + "/dnclists/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/dnclists/{dncListId}/phonenumbers", path: ob + "/dnclists/" + unknownID + "/phonenumbers", min: "supervisor", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/dnclists/{dncListId}/phonenumbers", path: ob + "/dnclists/" + unknownID + "/phonenumbers", body: map[string]any{"phoneNumbers": []string{"+34911234567"}}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/dnclists/{dncListId}/phonenumbers", path: ob + "/dnclists/" + unknownID + "/phonenumbers", body: map[string]any{"phoneNumbers": []string{"+34911234567"}}, min: "admin", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/dnclists/{dncListId}/import", path: ob + "/dnclists/" + unknownID + "/import", body: "+34911234567\n", min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/campaigns", path: ob + "/campaigns", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/outbound/campaigns", path: ob + "/campaigns", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/outbound/campaigns/{campaignId}", path: ob + "/campaigns/" + unknownID, min: "agent", allowed: 404},
		{method: "PUT", template: "/api/v2/outbound/campaigns/{campaignId}", path: ob + "/campaigns/" + unknownID, body: map[string]any{"name": "x", "number": 77}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/campaigns/{campaignId}", path: ob + "/campaigns/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/campaigns/{campaignId}/stats", path: ob + "/campaigns/" + unknownID + "/stats", min: "supervisor", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/campaigns/{campaignId}/abandonment", path: ob + "/campaigns/" + unknownID + "/abandonment", min: "supervisor", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/campaigns/{campaignId}/agents", path: ob + "/campaigns/" + unknownID + "/agents", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/outbound/campaigns/{campaignId}/agents/me", path: ob + "/campaigns/" + unknownID + "/agents/me", min: "agent", allowed: 404, override: personOnly},
		{method: "DELETE", template: "/api/v2/outbound/campaigns/{campaignId}/agents/me", path: ob + "/campaigns/" + unknownID + "/agents/me", min: "agent", allowed: 404, override: personOnly},
		{method: "PUT", template: "/api/v2/outbound/campaigns/{campaignId}/agents/{userId}", path: ob + "/campaigns/" + unknownID + "/agents/" + other, min: "agent", allowed: 404, override: ownOnly},
		{method: "DELETE", template: "/api/v2/outbound/campaigns/{campaignId}/agents/{userId}", path: ob + "/campaigns/" + unknownID + "/agents/" + other, min: "agent", allowed: 404, override: ownOnly},
		{method: "GET", template: "/api/v2/users/me/outboundcampaign", path: "/api/v2/users/me/outboundcampaign", min: "agent", allowed: 200, override: personOnly},
		{method: "GET", template: "/api/v2/outbound/callbacks", path: ob + "/callbacks", min: "agent", allowed: 200},
		{method: "POST", template: "/api/v2/outbound/callbacks", path: ob + "/callbacks", body: map[string]any{}, min: "agent", allowed: 400},
		{method: "GET", template: "/api/v2/outbound/callbacks/{callbackId}", path: ob + "/callbacks/" + unknownID, min: "agent", allowed: 404},
		{method: "PATCH", template: "/api/v2/outbound/callbacks/{callbackId}", path: ob + "/callbacks/" + unknownID, body: map[string]any{}, min: "agent", allowed: 404},
		{method: "DELETE", template: "/api/v2/outbound/callbacks/{callbackId}", path: ob + "/callbacks/" + unknownID, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/outbound/me", path: ob + "/me", min: "agent", allowed: 200, override: personOnly},
		{method: "POST", template: "/api/v2/outbound/me/ready", path: ob + "/me/ready", min: "agent", allowed: 409, override: personOnly},
		{method: "POST", template: "/api/v2/outbound/me/preview/dial", path: ob + "/me/preview/dial", min: "agent", allowed: 409, override: personOnly},
		{method: "POST", template: "/api/v2/outbound/me/preview/skip", path: ob + "/me/preview/skip", min: "agent", allowed: 409, override: personOnly},
		{method: "POST", template: "/api/v2/outbound/conversations/{conversationId}/release", path: ob + "/conversations/" + unknownID + "/release", body: map[string]any{}, min: "agent", allowed: 409, override: personOnly},

		// CRM: activity log
		{method: "GET", template: "/api/v2/crm/conversations/{conversationId}/activitylog", path: "/api/v2/crm/conversations/" + unknownID + "/activitylog", min: "agent", allowed: 404},

		// CRM: screen pops, sync, click-to-dial.
		{method: "GET", template: "/api/v2/crm/conversations/{conversationId}/screenpop", path: "/api/v2/crm/conversations/" + unknownID + "/screenpop", min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/crm/conversations/{conversationId}/sync", path: "/api/v2/crm/conversations/" + unknownID + "/sync", body: map[string]any{}, min: "agent", allowed: 404},
		{method: "POST", template: "/api/v2/crm/clicktodial", path: "/api/v2/crm/clicktodial", body: map[string]any{"phone": "+34911234567"}, min: "agent", allowed: 409, override: personOnly},
		// CRM: screen-pop preview
		{method: "POST", template: "/api/v2/crm/screenpop/preview", path: "/api/v2/crm/screenpop/preview",
			body: map[string]any{"callCenterId": unknownID, "callData": map[string]any{}}, min: "supervisor", allowed: 404},

		// CRM: call centers
		{method: "GET", template: "/api/v2/crm/callcenters", path: "/api/v2/crm/callcenters", min: "supervisor", allowed: 200},
		{method: "POST", template: "/api/v2/crm/callcenters", path: "/api/v2/crm/callcenters", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/crm/callcenters/{callCenterId}", path: "/api/v2/crm/callcenters/" + unknownID, min: "agent", allowed: 404},
		{method: "PUT", template: "/api/v2/crm/callcenters/{callCenterId}", path: "/api/v2/crm/callcenters/" + unknownID, body: map[string]any{"name": "x"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/crm/callcenters/{callCenterId}", path: "/api/v2/crm/callcenters/" + unknownID, min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/crm/callcenters/{callCenterId}/xml", path: "/api/v2/crm/callcenters/" + unknownID + "/xml", min: "supervisor", allowed: 404},
		{method: "PUT", template: "/api/v2/crm/callcenters/{callCenterId}/xml", path: "/api/v2/crm/callcenters/" + unknownID + "/xml", body: "<callCenter/>", min: "admin", allowed: 400},
		{method: "POST", template: "/api/v2/crm/callcenters/import", path: "/api/v2/crm/callcenters/import", body: "not xml", min: "admin", allowed: 400},

		// Telephony: SIP trunks (admin only); recordings (an agent only of their own conversations: see recordings_test.go).
		{method: "GET", template: "/api/v2/telephony/sip/trunks", path: "/api/v2/telephony/sip/trunks", min: "admin", allowed: 200},
		{method: "POST", template: "/api/v2/telephony/sip/trunks", path: "/api/v2/telephony/sip/trunks", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/telephony/sip/trunks/{trunkId}", path: "/api/v2/telephony/sip/trunks/" + unknownID, min: "admin", allowed: 404},
		{method: "PUT", template: "/api/v2/telephony/sip/trunks/{trunkId}", path: "/api/v2/telephony/sip/trunks/" + unknownID, body: map[string]any{"name": "x", "address": "192.0.2.1"}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/telephony/sip/trunks/{trunkId}", path: "/api/v2/telephony/sip/trunks/" + unknownID, min: "admin", allowed: 404},
		// Prompts (prompts.go): supervisors read, admins change.
		{method: "GET", template: "/api/v2/architect/prompts", path: "/api/v2/architect/prompts", min: "supervisor", allowed: 200},
		{method: "POST", template: "/api/v2/architect/prompts", path: "/api/v2/architect/prompts", body: map[string]any{"name": "Not A Name"}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/architect/prompts/{promptId}", path: "/api/v2/architect/prompts/" + unknownID, min: "supervisor", allowed: 404},
		{method: "DELETE", template: "/api/v2/architect/prompts/{promptId}", path: "/api/v2/architect/prompts/" + unknownID, min: "admin", allowed: 404},
		{method: "PUT", template: "/api/v2/architect/prompts/{promptId}/audio", path: "/api/v2/architect/prompts/" + unknownID + "/audio", body: "RIFF", min: "admin", allowed: 404},
		{method: "GET", template: "/api/v2/architect/prompts/{promptId}/audio", path: "/api/v2/architect/prompts/" + unknownID + "/audio", min: "supervisor", allowed: 404},
		{method: "GET", template: "/api/v2/recordings", path: "/api/v2/recordings", min: "supervisor", allowed: 200},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}/recordings", path: "/api/v2/conversations/" + unknownID + "/recordings", min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}/recordings/{recordingId}", path: "/api/v2/conversations/" + unknownID + "/recordings/" + unknownID, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/calls/{conversationId}/recordings/{recordingId}/media", path: "/api/v2/conversations/" + unknownID + "/recordings/" + unknownID + "/media", min: "agent", allowed: 404},

		{method: "GET", template: "/api/v2/crm/conversations/{conversationId}/savelog", path: "/api/v2/crm/conversations/" + unknownID + "/savelog", min: "agent", allowed: 404},
		// Messaging: agentless text messages, Open Messaging integrations.
		{method: "POST", template: "/api/v2/conversations/messages/agentless", path: "/api/v2/conversations/messages/agentless", body: map[string]any{}, min: "agent", allowed: 400},
		{method: "GET", template: "/api/v2/conversations/messages/agentless/{messageId}", path: "/api/v2/conversations/messages/agentless/" + unknownID, min: "agent", allowed: 404},
		{method: "GET", template: "/api/v2/conversations/messaging/integrations/open", path: "/api/v2/conversations/messaging/integrations/open", min: "admin", allowed: 200},
		{method: "POST", template: "/api/v2/conversations/messaging/integrations/open", path: "/api/v2/conversations/messaging/integrations/open", body: map[string]any{}, min: "admin", allowed: 400},
		{method: "GET", template: "/api/v2/conversations/messaging/integrations/open/{integrationId}", path: "/api/v2/conversations/messaging/integrations/open/" + unknownID, min: "admin", allowed: 404},
		{method: "PATCH", template: "/api/v2/conversations/messaging/integrations/open/{integrationId}", path: "/api/v2/conversations/messaging/integrations/open/" + unknownID, body: map[string]any{}, min: "admin", allowed: 404},
		{method: "DELETE", template: "/api/v2/conversations/messaging/integrations/open/{integrationId}", path: "/api/v2/conversations/messaging/integrations/open/" + unknownID, min: "admin", allowed: 404},
	}

	// The matrix must cover every operation the API registers.
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(e.must(t, 200, "GET", "/openapi.json", "", nil).body, &doc); err != nil {
		t.Fatal(err)
	}
	var registered, covered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			registered = append(registered, strings.ToUpper(m)+" "+p)
		}
	}
	for _, c := range cases {
		covered = append(covered, c.method+" "+c.template)
	}
	sort.Strings(registered)
	sort.Strings(covered)
	if !slices.Equal(registered, covered) {
		for _, r := range registered {
			if !slices.Contains(covered, r) {
				t.Errorf("operation %s is not in the permissions matrix", r)
			}
		}
		for _, c := range covered {
			if !slices.Contains(registered, c) {
				t.Errorf("matrix operation %s is not registered", c)
			}
		}
	}

	for _, p := range allPrincipals {
		e.token(t, p) // log everyone in before the table runs
	}
	for _, c := range cases {
		for _, p := range allPrincipals {
			t.Run(c.method+" "+c.template+" as "+p, func(t *testing.T) {
				tok := e.token(t, p)
				if c.fresh {
					tok = e.freshToken(t, p)
				}
				r := e.send(t, c.method, c.path, tok, c.body)
				want, ok := c.override[p]
				if !ok {
					want = c.allowed
					if roleRank[principalRole[p]] < roleRank[c.min] {
						want = 403
					}
				}
				if r.status != want {
					t.Fatalf("got %s, want %d", r, want)
				}
				if want == 403 {
					code := "missing.permissions"
					if _, ok := c.override[p]; ok {
						code = "not.authorized"
					}
					errorBody(t, r, 403, code)
				}
			})
		}
	}
}

func TestAgentCannotAdminister(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	admin := e.token(t, pAdminCC)
	principals := []string{pAgent, pAgentCC, pSupervisor, pSuperCC}
	for _, p := range principals {
		e.token(t, p) // creates the role clients before the snapshot
	}
	before := snapshot(t, e, admin)
	for _, p := range principals {
		tok := e.token(t, p)
		for _, c := range []struct {
			path string
			body any
		}{
			{"/api/v2/users", map[string]any{"name": "Intruso", "username": "intruso", "password": "intruso", "roles": []string{"admin"}}},
			{"/api/v2/routing/queues", map[string]any{"name": "Cola nueva"}},
			{"/api/v2/stations", map[string]any{"name": "2001", "password": "secret-pw"}},
			{"/api/v2/routing/skills", map[string]any{"name": "Francés"}},
			{"/api/v2/routing/wrapupcodes", map[string]any{"category": "Otro", "subcategory": "Nuevo"}},
			{"/api/v2/presencedefinitions", map[string]any{"breakNumber": 9, "label": "Reunión"}},
			{"/api/v2/oauth/clients", map[string]any{"name": "Backdoor", "roles": []string{"admin"}}},
		} {
			errorBody(t, e.send(t, "POST", c.path, tok, c.body), 403, "missing.permissions")
		}
		// Nor change or remove people.
		errorBody(t, e.send(t, "PATCH", "/api/v2/users/"+e.userID(t, "agent2"), tok, map[string]any{"version": 1, "roles": []string{"admin"}}), 403, "missing.permissions")
		errorBody(t, e.send(t, "DELETE", "/api/v2/users/"+e.userID(t, "agent2"), tok, nil), 403, "missing.permissions")
		errorBody(t, e.send(t, "POST", "/api/v2/users/"+e.userID(t, "agent2")+"/password", tok, map[string]any{"newPassword": "owned"}), 403, "missing.permissions")
	}
	if after := snapshot(t, e, admin); !equalSnapshots(t, before, after) {
		t.Error("denied requests changed data")
	}
}

func TestPrivateUserFields(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	me, other := e.userID(t, "agent1"), e.userID(t, "agent2")
	agent := e.token(t, pAgent)

	own := e.must(t, 200, "GET", "/api/v2/users/"+me, agent, nil).obj(t)
	if own["email"] != "agent1@demo.centralita.local" || own["roles"] == nil {
		t.Errorf("own user lacks email or roles: %v", own)
	}
	theirs := e.must(t, 200, "GET", "/api/v2/users/"+other, agent, nil).obj(t)
	for _, k := range []string{"email", "roles", "primaryContactInfo"} {
		if _, ok := theirs[k]; ok {
			t.Errorf("agent sees another user's %s: %v", k, theirs[k])
		}
	}
	if theirs["name"] != "Carlos Gómez" || theirs["username"] != "agent2" {
		t.Errorf("public fields missing: %v", theirs)
	}
	// The listing applies the same rule per entry.
	for _, u := range e.must(t, 200, "GET", "/api/v2/users", agent, nil).entities(t) {
		_, hasEmail := u["email"]
		if hasEmail != (u["id"] == me) {
			t.Errorf("listing as agent1: %v has email=%v", u["username"], hasEmail)
		}
	}
	// Client-credentials agents see no one's private fields; supervisors see all.
	for _, u := range e.must(t, 200, "GET", "/api/v2/users", e.token(t, pAgentCC), nil).entities(t) {
		if _, ok := u["email"]; ok {
			t.Errorf("agent client sees %v's email", u["username"])
		}
	}
	for _, p := range []string{pSupervisor, pSuperCC, pAdmin, pAdminCC} {
		u := e.must(t, 200, "GET", "/api/v2/users/"+other, e.token(t, p), nil).obj(t)
		if u["email"] != "agent2@demo.centralita.local" {
			t.Errorf("%s does not see agent2's email: %v", p, u)
		}
	}

	// Routing skills and queues: own yes, others no.
	for _, sub := range []string{"/routingskills", "/queues"} {
		if n := e.must(t, 200, "GET", "/api/v2/users/"+me+sub, agent, nil).obj(t)["total"]; n == float64(0) {
			t.Errorf("agent1 has no %s", sub)
		}
		errorBody(t, e.send(t, "GET", "/api/v2/users/"+other+sub, agent, nil), 403, "not.authorized")
		e.must(t, 200, "GET", "/api/v2/users/"+other+sub, e.token(t, pSupervisor), nil)
	}

	// users/me needs a person.
	m := errorBody(t, e.send(t, "GET", "/api/v2/users/me", e.token(t, pAdminCC), nil), 400, "bad.request")
	if msg, _ := m["message"].(string); !strings.Contains(msg, "client-credentials") {
		t.Errorf("users/me with a client token: %q does not say why", msg)
	}
	if u := e.must(t, 200, "GET", "/api/v2/users/me", agent, nil).obj(t); u["id"] != me || u["email"] == nil {
		t.Errorf("users/me as agent1: %v", u)
	}
}

func TestSupervisorManagesQueueMembersNotUsers(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	sup := e.token(t, pSupervisor)
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	a5 := e.userID(t, "agent5")
	members := func() map[string]bool {
		out := map[string]bool{}
		for _, m := range e.must(t, 200, "GET", "/api/v2/routing/queues/"+queue+"/members", sup, nil).entities(t) {
			out[m["id"].(string)] = m["joined"].(bool)
		}
		return out
	}
	if _, ok := members()[a5]; ok {
		t.Fatal("agent5 already in Ventas")
	}
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+queue+"/members", sup, []any{map[string]any{"id": a5}})
	if j, ok := members()[a5]; !ok || !j {
		t.Fatalf("agent5 not added as joined: %v", members())
	}
	e.must(t, 204, "PATCH", "/api/v2/routing/queues/"+queue+"/members", sup, []any{map[string]any{"id": a5, "joined": false}})
	if j := members()[a5]; j {
		t.Error("agent5 still joined")
	}
	e.must(t, 204, "POST", "/api/v2/routing/queues/"+queue+"/members?delete=true", sup, []any{map[string]any{"id": a5}})
	if _, ok := members()[a5]; ok {
		t.Error("agent5 not removed")
	}
	// Not users, queues or queue settings.
	errorBody(t, e.send(t, "POST", "/api/v2/users", sup, map[string]any{"name": "Nuevo", "username": "nuevo"}), 403, "missing.permissions")
	errorBody(t, e.send(t, "PATCH", "/api/v2/users/"+a5, sup, map[string]any{"version": 1, "name": "x"}), 403, "missing.permissions")
	errorBody(t, e.send(t, "PUT", "/api/v2/routing/queues/"+queue, sup, map[string]any{"name": "Ventas 2"}), 403, "missing.permissions")
	// Agents cannot manage members at all.
	errorBody(t, e.send(t, "POST", "/api/v2/routing/queues/"+queue+"/members", e.token(t, pAgent), []any{map[string]any{"id": a5}}), 403, "missing.permissions")
}
