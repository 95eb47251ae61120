package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/app/apptest"
)

// snapshot reads everything the API can show, as the admin client sees it:
// every collection, every queue's members and wrap-up codes, every user's
// skills. Keys are request paths, values the canonical JSON answers.
func snapshot(t *testing.T, e *testEnv, tok string) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(path string) *response {
		t.Helper()
		r := e.must(t, 200, "GET", path, tok, nil)
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v) // sorted keys
		out[path] = string(b)
		return r
	}
	users := get("/api/v2/users?state=any&pageSize=500")
	get("/api/v2/stations?pageSize=500")
	queues := get("/api/v2/routing/queues?pageSize=500")
	get("/api/v2/routing/skills?pageSize=500")
	get("/api/v2/routing/wrapupcodes?pageSize=500")
	get("/api/v2/presencedefinitions?pageSize=500&deactivated=true")
	get("/api/v2/oauth/clients?pageSize=500")
	for _, q := range queues.entities(t) {
		get("/api/v2/routing/queues/" + q["id"].(string) + "/members?pageSize=100")
		get("/api/v2/routing/queues/" + q["id"].(string) + "/wrapupcodes?pageSize=500")
	}
	for _, u := range users.entities(t) {
		get("/api/v2/users/" + u["id"].(string) + "/routingskills?pageSize=500")
	}
	return out
}

// equalSnapshots reports the differences between two snapshots.
func equalSnapshots(t *testing.T, before, after map[string]string) bool {
	t.Helper()
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	same := true
	for _, k := range keys {
		if before[k] != after[k] {
			same = false
			t.Errorf("%s changed:\nbefore %s\nafter  %s", k, trunc(before[k]), trunc(after[k]))
		}
	}
	return same
}

func trunc(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

type badCase struct {
	name         string
	method, path string
	body         any    // string: sent raw
	who          string // principal; default the admin client
	status       int
	code         string
	field        string // a detail must name it ("" = not checked)
}

func TestBadInputChangesNothing(t *testing.T) {
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	admin := e.token(t, pAdminCC)
	e.token(t, pAgent)
	u, a5 := e.userID(t, "agent1"), e.userID(t, "agent5")
	q := e.findID(t, "/api/v2/routing/queues", "Ventas")
	sk := e.findID(t, "/api/v2/routing/skills", "Ventas")
	notHeld := e.findID(t, "/api/v2/routing/skills", "Facturación") // agent4's only
	wc := e.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada")
	st := e.findID(t, "/api/v2/stations", "1001")
	brk := e.findID(t, "/api/v2/presencedefinitions", "1 - Descanso")
	const available = "6a3af858-942f-489d-9700-5f9bcdcdae9b"
	agentClient, _ := e.roleClient(t, "agent")
	extra := e.must(t, 200, "POST", "/api/v2/routing/wrapupcodes", admin, map[string]any{"category": "Extra", "subcategory": "Libre"}).obj(t)["id"].(string)

	const (
		bad  = "bad.request"
		dup  = "duplicate.value"
		nf   = "not.found"
		conf = "conflict"
		na   = "not.authorized"
	)
	malformed := `{"name": "x",`
	long := strings.Repeat("x", 101)
	U := "/api/v2/users/"
	RQ := "/api/v2/routing/queues/"
	cases := []badCase{
		// Users.
		{"user malformed", "POST", "/api/v2/users", malformed, "", 400, bad, ""},
		{"user not an object", "POST", "/api/v2/users", `["x"]`, "", 400, bad, ""},
		{"user name type", "POST", "/api/v2/users", map[string]any{"name": 5, "username": "nuevo"}, "", 400, bad, "name"},
		{"user name missing", "POST", "/api/v2/users", map[string]any{"username": "nuevo"}, "", 400, bad, "name"},
		{"user name blank", "POST", "/api/v2/users", map[string]any{"name": "   ", "username": "nuevo"}, "", 400, bad, "name"},
		{"user unknown field", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "nuevo", "nickname": "n"}, "", 400, bad, "nickname"},
		{"user duplicate username", "POST", "/api/v2/users", map[string]any{"name": "Otra Ana", "username": "admin", "password": "secret"}, "", 400, dup, "username"},
		{"user no username", "POST", "/api/v2/users", map[string]any{"name": "N"}, "", 400, bad, "username"},
		{"user bad username", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "bad name!"}, "", 400, bad, "username"},
		{"user bad email", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "nuevo", "email": "not-an-email"}, "", 400, bad, "email"},
		{"user bad role", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "nuevo", "roles": []string{"root"}}, "", 400, bad, "roles"},
		{"user short password", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "nuevo", "password": "ab"}, "", 400, bad, "password"},
		{"user bad state", "POST", "/api/v2/users", map[string]any{"name": "N", "username": "nuevo", "state": "deleted"}, "", 400, bad, "state"},
		{"get user bad id", "GET", U + "not-a-uuid", nil, "", 400, bad, "userId"},
		{"get user uppercase id", "GET", U + strings.ToUpper(u), nil, "", 400, bad, "userId"},
		{"get user unknown", "GET", U + unknownID, nil, "", 404, nf, ""},
		{"list users bad state", "GET", "/api/v2/users?state=zombie", nil, "", 400, bad, "state"},
		{"list users bad sort", "GET", "/api/v2/users?sortOrder=sideways", nil, "", 400, bad, "sortOrder"},
		{"list users bad id", "GET", "/api/v2/users?id=" + u + ",nope", nil, "", 400, bad, "id"},
		{"patch user bad id", "PATCH", U + "not-a-uuid", map[string]any{"version": 1}, "", 400, bad, "userId"},
		{"patch user unknown", "PATCH", U + unknownID, map[string]any{"version": 1, "name": "x"}, "", 404, nf, ""},
		{"patch user malformed", "PATCH", U + u, malformed, "", 400, bad, ""},
		{"patch user version type", "PATCH", U + u, map[string]any{"version": "1", "name": "x"}, "", 400, bad, "version"},
		{"patch user version missing", "PATCH", U + u, map[string]any{"name": "x"}, "", 400, bad, "version"},
		{"patch user unknown field", "PATCH", U + u, map[string]any{"version": 1, "salary": 1}, "", 400, bad, "salary"},
		{"patch user stale version", "PATCH", U + u, map[string]any{"version": 99, "name": "Cambiada"}, "", 409, conf, "version"},
		{"patch user bad email", "PATCH", U + u, map[string]any{"version": 1, "email": "nope"}, "", 400, bad, "email"},
		{"patch user no roles", "PATCH", U + u, map[string]any{"version": 1, "roles": []string{}}, "", 400, bad, "roles"},
		{"patch user bad role", "PATCH", U + u, map[string]any{"version": 1, "roles": []string{"god"}}, "", 400, bad, "roles"},
		{"patch user bad state", "PATCH", U + u, map[string]any{"version": 1, "state": "zombie"}, "", 400, bad, "state"},
		{"patch user empty name", "PATCH", U + u, map[string]any{"version": 1, "name": ""}, "", 400, bad, "name"},
		{"delete user bad id", "DELETE", U + "not-a-uuid", nil, "", 400, bad, "userId"},
		{"delete user unknown", "DELETE", U + unknownID, nil, "", 404, nf, ""},
		{"password bad id", "POST", U + "not-a-uuid/password", map[string]any{"newPassword": "abcd"}, "", 400, bad, "userId"},
		{"password unknown user", "POST", U + unknownID + "/password", map[string]any{"newPassword": "abcd"}, "", 404, nf, ""},
		{"password missing", "POST", U + u + "/password", map[string]any{}, "", 400, bad, "newPassword"},
		{"password short", "POST", U + u + "/password", map[string]any{"newPassword": "ab"}, "", 400, bad, "newPassword"},
		{"password type", "POST", U + u + "/password", map[string]any{"newPassword": 1234}, "", 400, bad, "newPassword"},
		{"password malformed", "POST", U + u + "/password", malformed, "", 400, bad, ""},
		{"own password wrong old", "POST", U + "me/password", map[string]any{"oldPassword": "wrong", "newPassword": "abcd"}, pAgent, 400, bad, "oldPassword"},
		{"own password missing new", "POST", U + "me/password", map[string]any{"oldPassword": "agent"}, pAgent, 400, bad, "newPassword"},
		{"own password short", "POST", U + "me/password", map[string]any{"oldPassword": "agent", "newPassword": "a"}, pAgent, 400, bad, "newPassword"},
		{"skills of bad id", "GET", U + "not-a-uuid/routingskills", nil, "", 400, bad, "userId"},
		{"skills of unknown", "GET", U + unknownID + "/routingskills", nil, "", 404, nf, ""},
		{"queues of bad id", "GET", U + "not-a-uuid/queues", nil, "", 400, bad, "userId"},
		{"queues of unknown", "GET", U + unknownID + "/queues", nil, "", 404, nf, ""},
		{"add skill bad user", "POST", U + "not-a-uuid/routingskills", map[string]any{"id": sk, "proficiency": 1}, "", 400, bad, "userId"},
		{"add skill unknown user", "POST", U + unknownID + "/routingskills", map[string]any{"id": sk, "proficiency": 1}, "", 404, nf, ""},
		{"add skill bad skill id", "POST", U + u + "/routingskills", map[string]any{"id": "nope", "proficiency": 1}, "", 400, bad, "id"},
		{"add skill unknown skill", "POST", U + u + "/routingskills", map[string]any{"id": unknownID, "proficiency": 1}, "", 400, bad, "id"},
		{"add skill missing id", "POST", U + u + "/routingskills", map[string]any{"proficiency": 1}, "", 400, bad, "id"},
		{"add skill proficiency high", "POST", U + u + "/routingskills", map[string]any{"id": sk, "proficiency": 6}, "", 400, bad, "proficiency"},
		{"add skill proficiency negative", "POST", U + u + "/routingskills", map[string]any{"id": sk, "proficiency": -1}, "", 400, bad, "proficiency"},
		{"add skill proficiency type", "POST", U + u + "/routingskills", map[string]any{"id": sk, "proficiency": "high"}, "", 400, bad, "proficiency"},
		{"add skill unknown field", "POST", U + u + "/routingskills", map[string]any{"id": sk, "proficiency": 1, "level": 2}, "", 400, bad, "level"},
		{"add skill malformed", "POST", U + u + "/routingskills", malformed, "", 400, bad, ""},
		{"remove skill bad user", "DELETE", U + "not-a-uuid/routingskills/" + sk, nil, "", 400, bad, "userId"},
		{"remove skill bad skill", "DELETE", U + u + "/routingskills/nope", nil, "", 400, bad, "skillId"},
		{"remove skill unknown user", "DELETE", U + unknownID + "/routingskills/" + sk, nil, "", 404, nf, ""},
		{"remove skill not held", "DELETE", U + u + "/routingskills/" + notHeld, nil, "", 404, nf, ""},

		// Stations.
		{"station malformed", "POST", "/api/v2/stations", malformed, "", 400, bad, ""},
		{"station name type", "POST", "/api/v2/stations", map[string]any{"name": 2001, "password": "pw-2001"}, "", 400, bad, "name"},
		{"station name missing", "POST", "/api/v2/stations", map[string]any{"password": "pw-2001"}, "", 400, bad, "name"},
		{"station unknown field", "POST", "/api/v2/stations", map[string]any{"name": "2001", "password": "pw-2001", "pin": 1}, "", 400, bad, "pin"},
		{"station duplicate", "POST", "/api/v2/stations", map[string]any{"name": "1001", "password": "pw-2001"}, "", 400, dup, "name"},
		{"station sip without password", "POST", "/api/v2/stations", map[string]any{"name": "2001"}, "", 400, bad, "password"},
		{"station bad type", "POST", "/api/v2/stations", map[string]any{"name": "2001", "type": "fax", "password": "pw"}, "", 400, bad, "type"},
		{"station bad name", "POST", "/api/v2/stations", map[string]any{"name": "20 01", "password": "pw-2001"}, "", 400, bad, "name"},
		{"station remote without number", "POST", "/api/v2/stations", map[string]any{"name": "2001", "type": "remote"}, "", 400, bad, "remoteNumber"},
		{"get station bad id", "GET", "/api/v2/stations/not-a-uuid", nil, "", 400, bad, "stationId"},
		{"get station unknown", "GET", "/api/v2/stations/" + unknownID, nil, "", 404, nf, ""},
		{"put station bad id", "PUT", "/api/v2/stations/not-a-uuid", map[string]any{"name": "1001"}, "", 400, bad, "stationId"},
		{"put station unknown", "PUT", "/api/v2/stations/" + unknownID, map[string]any{"name": "2001"}, "", 404, nf, ""},
		{"put station duplicate", "PUT", "/api/v2/stations/" + st, map[string]any{"name": "1002"}, "", 400, dup, "name"},
		{"put station malformed", "PUT", "/api/v2/stations/" + st, malformed, "", 400, bad, ""},
		{"put station name missing", "PUT", "/api/v2/stations/" + st, map[string]any{}, "", 400, bad, "name"},
		{"put station unknown field", "PUT", "/api/v2/stations/" + st, map[string]any{"name": "1001", "extra": true}, "", 400, bad, "extra"},
		{"delete station bad id", "DELETE", "/api/v2/stations/not-a-uuid", nil, "", 400, bad, "stationId"},
		{"delete station unknown", "DELETE", "/api/v2/stations/" + unknownID, nil, "", 404, nf, ""},

		// Queues.
		{"queue malformed", "POST", "/api/v2/routing/queues", malformed, "", 400, bad, ""},
		{"queue name type", "POST", "/api/v2/routing/queues", map[string]any{"name": 7}, "", 400, bad, "name"},
		{"queue name missing", "POST", "/api/v2/routing/queues", map[string]any{"description": "d"}, "", 400, bad, "name"},
		{"queue unknown field", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "priority": 1}, "", 400, bad, "priority"},
		{"queue duplicate", "POST", "/api/v2/routing/queues", map[string]any{"name": "Ventas"}, "", 400, dup, "name"},
		{"queue alerting timeout", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "mediaSettings": map[string]any{"call": map[string]any{
			"alertingTimeoutSeconds": 3, "serviceLevel": map[string]any{"percentage": 0.8, "durationMs": 20000}}}}, "", 400, bad, "mediaSettings.call.alertingTimeoutSeconds"},
		{"queue service level", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "mediaSettings": map[string]any{"call": map[string]any{
			"alertingTimeoutSeconds": 10, "serviceLevel": map[string]any{"percentage": 1.5, "durationMs": 20000}}}}, "", 400, bad, "mediaSettings.call.serviceLevel.percentage"},
		{"queue wrapup prompt", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "acwSettings": map[string]any{"wrapupPrompt": "SOMETIMES"}}, "", 400, bad, "acwSettings.wrapupPrompt"},
		{"queue timeout needed", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT"}}, "", 400, bad, "acwSettings.timeoutMs"},
		{"queue strategy", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "routingStrategy": "random"}, "", 400, bad, "routingStrategy"},
		{"queue skill evaluation", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "skillEvaluationMethod": "MOST"}, "", 400, bad, "skillEvaluationMethod"},
		// Queue ACD settings (Centralita extensions).
		{"queue overflow unknown queue", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "overflow": map[string]any{"afterSeconds": 30, "queueId": unknownID}}, "", 400, bad, "overflow.queueId"},
		{"queue overflow no time", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "overflow": map[string]any{"queueId": q}}, "", 400, bad, "overflow.afterSeconds"},
		{"queue overflow zero time", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "overflow": map[string]any{"afterSeconds": 0, "queueId": q}}, "", 400, bad, "overflow.afterSeconds"},
		{"queue overflow after a day", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "overflow": map[string]any{"afterSeconds": 86401, "queueId": q}}, "", 400, bad, "overflow.afterSeconds"},
		{"queue overflow no queue", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "overflow": map[string]any{"afterSeconds": 30}}, "", 400, bad, "overflow.queueId"},
		{"queue first ring later", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{"rings": []any{
			map[string]any{"afterSeconds": 5, "minProficiency": 3}}}}, "", 400, bad, "bullseye.rings[0].afterSeconds"},
		{"queue rings unsorted", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{"rings": []any{
			map[string]any{"afterSeconds": 0, "minProficiency": 4}, map[string]any{"afterSeconds": 20, "minProficiency": 3}, map[string]any{"afterSeconds": 10, "minProficiency": 2}}}}, "", 400, bad, "bullseye.rings[2].afterSeconds"},
		{"queue ring narrows", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{"rings": []any{
			map[string]any{"afterSeconds": 0, "minProficiency": 2}, map[string]any{"afterSeconds": 10, "minProficiency": 3}}}}, "", 400, bad, "bullseye.rings[1].minProficiency"},
		{"queue ring proficiency", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{"rings": []any{
			map[string]any{"afterSeconds": 0, "minProficiency": 6}}}}, "", 400, bad, "bullseye.rings[0].minProficiency"},
		{"queue too many rings", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{"rings": rings(7)}}, "", 400, bad, "bullseye.rings"},
		{"queue rings missing", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "bullseye": map[string]any{}}, "", 400, bad, "bullseye.rings"},
		{"queue preferred wait negative", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "preferredAgentWaitSeconds": -1}, "", 400, bad, "preferredAgentWaitSeconds"},
		{"queue preferred wait over a day", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "preferredAgentWaitSeconds": 86401}, "", 400, bad, "preferredAgentWaitSeconds"},
		{"queue unknown skill", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "skillIds": []string{sk, unknownID}}, "", 400, bad, "skillIds[1]"},
		{"queue skill not an id", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "skillIds": []string{"nope"}}, "", 400, bad, "skillIds[0]"},
		{"queue too many skills", "POST", "/api/v2/routing/queues", map[string]any{"name": "Q", "skillIds": manyIDs(21)}, "", 400, bad, "skillIds"},
		{"put queue overflow to itself", "PUT", RQ + q, map[string]any{"name": "Ventas", "overflow": map[string]any{"afterSeconds": 30, "queueId": q}}, "", 400, bad, "overflow.queueId"},
		{"put queue unknown skill", "PUT", RQ + q, map[string]any{"name": "Ventas", "skillIds": []string{unknownID}}, "", 400, bad, "skillIds[0]"},
		{"put queue ring narrows", "PUT", RQ + q, map[string]any{"name": "Ventas", "routingStrategy": "bullseye", "bullseye": map[string]any{"rings": []any{
			map[string]any{"afterSeconds": 0, "minProficiency": 1}, map[string]any{"afterSeconds": 10, "minProficiency": 1.5}}}}, "", 400, bad, "bullseye.rings[1].minProficiency"},
		{"list queues bad id", "GET", "/api/v2/routing/queues?id=nope", nil, "", 400, bad, "id"},
		{"get queue bad id", "GET", RQ + "not-a-uuid", nil, "", 400, bad, "queueId"},
		{"get queue unknown", "GET", RQ + unknownID, nil, "", 404, nf, ""},
		{"put queue bad id", "PUT", RQ + "not-a-uuid", map[string]any{"name": "Q"}, "", 400, bad, "queueId"},
		{"put queue unknown", "PUT", RQ + unknownID, map[string]any{"name": "Q"}, "", 404, nf, ""},
		{"put queue duplicate", "PUT", RQ + q, map[string]any{"name": "Soporte"}, "", 400, dup, "name"},
		{"put queue malformed", "PUT", RQ + q, malformed, "", 400, bad, ""},
		{"put queue empty name", "PUT", RQ + q, map[string]any{"name": ""}, "", 400, bad, "name"},
		{"put queue unknown field", "PUT", RQ + q, map[string]any{"name": "Ventas", "color": "red"}, "", 400, bad, "color"},
		{"delete queue bad id", "DELETE", RQ + "not-a-uuid", nil, "", 400, bad, "queueId"},
		{"delete queue unknown", "DELETE", RQ + unknownID, nil, "", 404, nf, ""},
		{"members bad queue", "GET", RQ + "not-a-uuid/members", nil, "", 400, bad, "queueId"},
		{"members unknown queue", "GET", RQ + unknownID + "/members", nil, "", 404, nf, ""},
		{"members bad joined", "GET", RQ + q + "/members?joined=maybe", nil, "", 400, bad, "joined"},
		{"add members bad queue", "POST", RQ + "not-a-uuid/members", []any{map[string]any{"id": a5}}, "", 400, bad, "queueId"},
		{"add members unknown queue", "POST", RQ + unknownID + "/members", []any{map[string]any{"id": a5}}, "", 404, nf, ""},
		{"add members object", "POST", RQ + q + "/members", map[string]any{"id": a5}, "", 400, bad, ""},
		{"add members malformed", "POST", RQ + q + "/members", `[{"id":`, "", 400, bad, ""},
		{"add members empty", "POST", RQ + q + "/members", []any{}, "", 400, bad, ""},
		{"add members bad id", "POST", RQ + q + "/members", []any{map[string]any{"id": "nope"}}, "", 400, bad, "id"},
		{"add members one unknown", "POST", RQ + q + "/members", []any{map[string]any{"id": a5}, map[string]any{"id": unknownID}}, "", 400, bad, "[1].id"},
		{"add members bad delete flag", "POST", RQ + q + "/members?delete=maybe", []any{map[string]any{"id": a5}}, "", 400, bad, "delete"},
		{"remove members bad id", "POST", RQ + q + "/members?delete=true", []any{map[string]any{"id": "nope"}}, "", 400, bad, "id"},
		{"join bad queue", "PATCH", RQ + "not-a-uuid/members", []any{map[string]any{"id": u, "joined": false}}, "", 400, bad, "queueId"},
		{"join unknown queue", "PATCH", RQ + unknownID + "/members", []any{map[string]any{"id": u, "joined": false}}, "", 404, nf, ""},
		{"join type", "PATCH", RQ + q + "/members", []any{map[string]any{"id": u, "joined": "no"}}, "", 400, bad, ""},
		{"join non-member", "PATCH", RQ + q + "/members", []any{map[string]any{"id": u, "joined": false}, map[string]any{"id": a5, "joined": false}}, "", 400, bad, "id"},
		{"join bad id", "PATCH", RQ + q + "/members", []any{map[string]any{"id": "nope", "joined": false}}, "", 400, bad, "id"},
		{"queue codes bad queue", "GET", RQ + "not-a-uuid/wrapupcodes", nil, "", 400, bad, "queueId"},
		{"queue codes unknown queue", "GET", RQ + unknownID + "/wrapupcodes", nil, "", 404, nf, ""},
		{"assign codes bad queue", "POST", RQ + "not-a-uuid/wrapupcodes", []any{map[string]any{"id": extra}}, "", 400, bad, "queueId"},
		{"assign codes unknown queue", "POST", RQ + unknownID + "/wrapupcodes", []any{map[string]any{"id": extra}}, "", 404, nf, ""},
		{"assign codes bad id", "POST", RQ + q + "/wrapupcodes", []any{map[string]any{"id": "nope"}}, "", 400, bad, "id"},
		{"assign codes one unknown", "POST", RQ + q + "/wrapupcodes", []any{map[string]any{"id": extra}, map[string]any{"id": unknownID}}, "", 400, bad, "[1].id"},
		{"assign codes empty", "POST", RQ + q + "/wrapupcodes", []any{}, "", 400, bad, ""},
		{"assign codes object", "POST", RQ + q + "/wrapupcodes", map[string]any{"id": extra}, "", 400, bad, ""},
		{"unassign code bad queue", "DELETE", RQ + "not-a-uuid/wrapupcodes/" + wc, nil, "", 400, bad, "queueId"},
		{"unassign code bad code", "DELETE", RQ + q + "/wrapupcodes/nope", nil, "", 400, bad, "codeId"},
		{"unassign code not assigned", "DELETE", RQ + q + "/wrapupcodes/" + extra, nil, "", 404, nf, ""},
		{"unassign code unknown queue", "DELETE", RQ + unknownID + "/wrapupcodes/" + wc, nil, "", 404, nf, ""},

		// Simulated calls: what they ask of the ACD.
		{"simulate unknown skill", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "skillIds": []string{sk, unknownID}}, "", 400, bad, "skillIds[1]"},
		{"simulate skill not an id", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "skillIds": []string{"nope"}}, "", 400, bad, "skillIds[0]"},
		{"simulate too many skills", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "skillIds": manyIDs(21)}, "", 400, bad, "skillIds"},
		{"simulate unknown preferred agent", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "preferredAgentIds": []string{u, unknownID}}, "", 400, bad, "preferredAgentIds[1]"},
		{"simulate preferred agent not an id", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "preferredAgentIds": []string{"nope"}}, "", 400, bad, "preferredAgentIds[0]"},
		{"simulate too many preferred agents", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "preferredAgentIds": manyIDs(11)}, "", 400, bad, "preferredAgentIds"},
		{"simulate negative priority", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "priority": -1}, "", 400, bad, "priority"},
		{"simulate priority too high", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "priority": 1000001}, "", 400, bad, "priority"},
		{"simulate priority type", "POST", "/api/v2/simulation/calls", map[string]any{"to": "Ventas", "from": "", "priority": "high"}, "", 400, bad, "priority"},

		// Placed calls to a queue: the platform's priority and routingSkillsIds.
		{"place call priority to a number", "POST", "/api/v2/conversations/calls", map[string]any{"phoneNumber": "+34911000555", "priority": 3}, pAgent, 400, bad, "priority"},
		{"place call skills to a number", "POST", "/api/v2/conversations/calls", map[string]any{"phoneNumber": "+34911000555", "routingSkillsIds": []string{sk}}, pAgent, 400, bad, "routingSkillsIds"},
		{"place call unknown skill", "POST", "/api/v2/conversations/calls", map[string]any{"callQueueId": q, "routingSkillsIds": []string{unknownID}}, pAgent, 400, bad, "routingSkillsIds[0]"},
		{"place call priority too high", "POST", "/api/v2/conversations/calls", map[string]any{"callQueueId": q, "priority": 1000001}, pAgent, 400, bad, "priority"},

		// Skills.
		{"skill malformed", "POST", "/api/v2/routing/skills", malformed, "", 400, bad, ""},
		{"skill name type", "POST", "/api/v2/routing/skills", map[string]any{"name": 1}, "", 400, bad, "name"},
		{"skill name missing", "POST", "/api/v2/routing/skills", map[string]any{}, "", 400, bad, "name"},
		{"skill name blank", "POST", "/api/v2/routing/skills", map[string]any{"name": "  "}, "", 400, bad, "name"},
		{"skill unknown field", "POST", "/api/v2/routing/skills", map[string]any{"name": "Francés", "level": 1}, "", 400, bad, "level"},
		{"skill duplicate", "POST", "/api/v2/routing/skills", map[string]any{"name": "Ventas"}, "", 400, dup, "name"},
		{"list skills bad id", "GET", "/api/v2/routing/skills?id=nope", nil, "", 400, bad, "id"},
		{"get skill bad id", "GET", "/api/v2/routing/skills/not-a-uuid", nil, "", 400, bad, "skillId"},
		{"get skill unknown", "GET", "/api/v2/routing/skills/" + unknownID, nil, "", 404, nf, ""},
		{"rename skill bad id", "PATCH", "/api/v2/routing/skills/not-a-uuid", map[string]any{"name": "x"}, "", 400, bad, "skillId"},
		{"rename skill unknown", "PATCH", "/api/v2/routing/skills/" + unknownID, map[string]any{"name": "x"}, "", 404, nf, ""},
		{"rename skill duplicate", "PATCH", "/api/v2/routing/skills/" + sk, map[string]any{"name": "Inglés"}, "", 400, dup, "name"},
		{"rename skill missing", "PATCH", "/api/v2/routing/skills/" + sk, map[string]any{}, "", 400, bad, "name"},
		{"rename skill malformed", "PATCH", "/api/v2/routing/skills/" + sk, malformed, "", 400, bad, ""},
		{"delete skill bad id", "DELETE", "/api/v2/routing/skills/not-a-uuid", nil, "", 400, bad, "skillId"},
		{"delete skill unknown", "DELETE", "/api/v2/routing/skills/" + unknownID, nil, "", 404, nf, ""},

		// Wrap-up codes.
		{"code malformed", "POST", "/api/v2/routing/wrapupcodes", malformed, "", 400, bad, ""},
		{"code name type", "POST", "/api/v2/routing/wrapupcodes", map[string]any{"name": 1}, "", 400, bad, "name"},
		{"code name missing", "POST", "/api/v2/routing/wrapupcodes", map[string]any{}, "", 400, bad, "name"},
		{"code subcategory alone", "POST", "/api/v2/routing/wrapupcodes", map[string]any{"name": "Suelto", "subcategory": "x"}, "", 400, bad, "subcategory"},
		{"code unknown field", "POST", "/api/v2/routing/wrapupcodes", map[string]any{"name": "x", "color": "red"}, "", 400, bad, "color"},
		{"code duplicate name", "POST", "/api/v2/routing/wrapupcodes", map[string]any{"name": "Venta - Cerrada"}, "", 400, dup, "name"},
		{"code duplicate category", "POST", "/api/v2/routing/wrapupcodes", map[string]any{"category": "Venta", "subcategory": "Cerrada"}, "", 400, dup, "name"},
		{"list codes bad id", "GET", "/api/v2/routing/wrapupcodes?id=nope", nil, "", 400, bad, "id"},
		{"list codes bad sort", "GET", "/api/v2/routing/wrapupcodes?sortBy=color", nil, "", 400, bad, "sortBy"},
		{"get code bad id", "GET", "/api/v2/routing/wrapupcodes/not-a-uuid", nil, "", 400, bad, "codeId"},
		{"get code unknown", "GET", "/api/v2/routing/wrapupcodes/" + unknownID, nil, "", 404, nf, ""},
		{"put code bad id", "PUT", "/api/v2/routing/wrapupcodes/not-a-uuid", map[string]any{"name": "x"}, "", 400, bad, "codeId"},
		{"put code unknown", "PUT", "/api/v2/routing/wrapupcodes/" + unknownID, map[string]any{"name": "x"}, "", 404, nf, ""},
		{"put code duplicate", "PUT", "/api/v2/routing/wrapupcodes/" + wc, map[string]any{"name": "Venta - Interesado"}, "", 400, dup, "name"},
		{"put code malformed", "PUT", "/api/v2/routing/wrapupcodes/" + wc, malformed, "", 400, bad, ""},
		{"put code empty", "PUT", "/api/v2/routing/wrapupcodes/" + wc, map[string]any{}, "", 400, bad, "name"},
		{"delete code bad id", "DELETE", "/api/v2/routing/wrapupcodes/not-a-uuid", nil, "", 400, bad, "codeId"},
		{"delete code unknown", "DELETE", "/api/v2/routing/wrapupcodes/" + unknownID, nil, "", 404, nf, ""},

		// Presence definitions (break states).
		{"break malformed", "POST", "/api/v2/presencedefinitions", malformed, "", 400, bad, ""},
		{"break number type", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": "5", "label": "x"}, "", 400, bad, "breakNumber"},
		{"break number missing", "POST", "/api/v2/presencedefinitions", map[string]any{"label": "x"}, "", 400, bad, "breakNumber"},
		{"break number high", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": 100, "label": "x"}, "", 400, bad, "breakNumber"},
		{"break number zero", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": 0, "label": "x"}, "", 400, bad, "breakNumber"},
		{"break label missing", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": 5}, "", 400, bad, "label"},
		{"break duplicate number", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": 1, "label": "Otro"}, "", 400, dup, "breakNumber"},
		{"break unknown field", "POST", "/api/v2/presencedefinitions", map[string]any{"breakNumber": 5, "label": "x", "color": "red"}, "", 400, bad, "color"},
		{"get presence bad id", "GET", "/api/v2/presencedefinitions/not-a-uuid", nil, "", 400, bad, "presenceId"},
		{"get presence unknown", "GET", "/api/v2/presencedefinitions/" + unknownID, nil, "", 404, nf, ""},
		{"put break bad id", "PUT", "/api/v2/presencedefinitions/not-a-uuid", map[string]any{"breakNumber": 5, "label": "x"}, "", 400, bad, "presenceId"},
		{"put break unknown", "PUT", "/api/v2/presencedefinitions/" + unknownID, map[string]any{"breakNumber": 5, "label": "x"}, "", 404, nf, ""},
		{"put system presence", "PUT", "/api/v2/presencedefinitions/" + available, map[string]any{"breakNumber": 5, "label": "x"}, "", 403, na, ""},
		{"put break duplicate", "PUT", "/api/v2/presencedefinitions/" + brk, map[string]any{"breakNumber": 2, "label": "Descanso"}, "", 400, dup, "breakNumber"},
		{"put break no label", "PUT", "/api/v2/presencedefinitions/" + brk, map[string]any{"breakNumber": 1}, "", 400, bad, "label"},
		{"put break malformed", "PUT", "/api/v2/presencedefinitions/" + brk, malformed, "", 400, bad, ""},
		{"delete presence bad id", "DELETE", "/api/v2/presencedefinitions/not-a-uuid", nil, "", 400, bad, "presenceId"},
		{"delete presence unknown", "DELETE", "/api/v2/presencedefinitions/" + unknownID, nil, "", 404, nf, ""},
		{"delete system presence", "DELETE", "/api/v2/presencedefinitions/" + available, nil, "", 403, na, ""},

		// OAuth clients.
		{"client malformed", "POST", "/api/v2/oauth/clients", malformed, "", 400, bad, ""},
		{"client name type", "POST", "/api/v2/oauth/clients", map[string]any{"name": 1, "roles": []string{"agent"}}, "", 400, bad, "name"},
		{"client name missing", "POST", "/api/v2/oauth/clients", map[string]any{"roles": []string{"agent"}}, "", 400, bad, "name"},
		{"client duplicate", "POST", "/api/v2/oauth/clients", map[string]any{"name": "Demo integration", "roles": []string{"agent"}}, "", 400, dup, "name"},
		{"client bad role", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "roles": []string{"root"}}, "", 400, bad, "roles"},
		{"client no role", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N"}, "", 400, bad, "roles"},
		{"client lifetime short", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "roles": []string{"agent"}, "accessTokenValiditySeconds": 10}, "", 400, bad, "accessTokenValiditySeconds"},
		{"client lifetime long", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "roles": []string{"agent"}, "accessTokenValiditySeconds": 172801}, "", 400, bad, "accessTokenValiditySeconds"},
		{"client bad grant", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "roles": []string{"agent"}, "authorizedGrantType": "PASSWORD"}, "", 400, bad, "authorizedGrantType"},
		{"client code without redirect", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "authorizedGrantType": "CODE"}, "", 400, bad, "registeredRedirectUri"},
		{"client bad redirect", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "authorizedGrantType": "CODE", "registeredRedirectUri": []string{"javascript:alert(1)"}}, "", 400, bad, "registeredRedirectUri[0]"},
		{"client chooses secret", "POST", "/api/v2/oauth/clients", map[string]any{"name": "N", "roles": []string{"agent"}, "secret": "my-own-secret"}, "", 400, bad, "secret"},
		{"get client unknown", "GET", "/api/v2/oauth/clients/no-such-client", nil, "", 404, nf, ""},
		{"get client long id", "GET", "/api/v2/oauth/clients/" + long, nil, "", 400, bad, "clientId"},
		{"put client unknown", "PUT", "/api/v2/oauth/clients/no-such-client", map[string]any{"name": "N", "roles": []string{"agent"}}, "", 404, nf, ""},
		{"put builtin client", "PUT", "/api/v2/oauth/clients/" + webClientID, map[string]any{"name": "Mine", "authorizedGrantType": "CODE", "registeredRedirectUri": []string{"/ui/"}}, "", 403, na, ""},
		{"put client duplicate", "PUT", "/api/v2/oauth/clients/" + agentClient, map[string]any{"name": "Demo integration", "roles": []string{"agent"}}, "", 400, dup, "name"},
		{"put client change grant", "PUT", "/api/v2/oauth/clients/" + agentClient, map[string]any{"name": "Integration agent", "authorizedGrantType": "CODE", "registeredRedirectUri": []string{"/x/"}}, "", 400, bad, "authorizedGrantType"},
		{"put client malformed", "PUT", "/api/v2/oauth/clients/" + agentClient, malformed, "", 400, bad, ""},
		{"delete client unknown", "DELETE", "/api/v2/oauth/clients/no-such-client", nil, "", 404, nf, ""},
		{"delete builtin client", "DELETE", "/api/v2/oauth/clients/" + webClientID, nil, "", 403, na, ""},
	}

	// Every write endpoint appears in the table (reads with ids too).
	writes := map[string]bool{}
	for _, c := range cases {
		writes[c.method+" "+templateOf(c.path)] = true
	}
	for _, want := range []string{
		"POST /api/v2/users", "PATCH /api/v2/users/{id}", "DELETE /api/v2/users/{id}", "POST /api/v2/users/{id}/password",
		"POST /api/v2/users/me/password", "POST /api/v2/users/{id}/routingskills", "DELETE /api/v2/users/{id}/routingskills/{id}",
		"POST /api/v2/stations", "PUT /api/v2/stations/{id}", "DELETE /api/v2/stations/{id}",
		"POST /api/v2/routing/queues", "PUT /api/v2/routing/queues/{id}", "DELETE /api/v2/routing/queues/{id}",
		"POST /api/v2/routing/queues/{id}/members", "PATCH /api/v2/routing/queues/{id}/members",
		"POST /api/v2/routing/queues/{id}/wrapupcodes", "DELETE /api/v2/routing/queues/{id}/wrapupcodes/{id}",
		"POST /api/v2/routing/skills", "PATCH /api/v2/routing/skills/{id}", "DELETE /api/v2/routing/skills/{id}",
		"POST /api/v2/routing/wrapupcodes", "PUT /api/v2/routing/wrapupcodes/{id}", "DELETE /api/v2/routing/wrapupcodes/{id}",
		"POST /api/v2/presencedefinitions", "PUT /api/v2/presencedefinitions/{id}", "DELETE /api/v2/presencedefinitions/{id}",
		"POST /api/v2/oauth/clients", "PUT /api/v2/oauth/clients/{id}", "DELETE /api/v2/oauth/clients/{id}",
		"GET /api/v2/users/{id}", "GET /api/v2/users/{id}/routingskills", "GET /api/v2/users/{id}/queues", "GET /api/v2/stations/{id}",
		"GET /api/v2/routing/queues/{id}", "GET /api/v2/routing/queues/{id}/members", "GET /api/v2/routing/queues/{id}/wrapupcodes",
		"GET /api/v2/routing/skills/{id}", "GET /api/v2/routing/wrapupcodes/{id}", "GET /api/v2/presencedefinitions/{id}", "GET /api/v2/oauth/clients/{id}",
	} {
		if !writes[want] {
			t.Errorf("no bad-input case for %s", want)
		}
	}

	before := snapshot(t, e, admin)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			who := c.who
			if who == "" {
				who = pAdminCC
			}
			m := errorBody(t, e.send(t, c.method, c.path, e.token(t, who), c.body), c.status, c.code)
			if c.field != "" && !slices.Contains(detailFields(m), c.field) {
				t.Errorf("details %v do not name %q", m["details"], c.field)
			}
			if c.method != "GET" {
				equalSnapshots(t, before, snapshot(t, e, admin))
			}
		})
	}
	// The person whose password checks failed can still log in with it.
	e.login(t, "agent1", "agent")
}

// rings returns n valid-looking bullseye rings (for the too-many case).
func rings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"afterSeconds": i * 10, "minProficiency": 0}
	}
	return out
}

// manyIDs returns n distinct unknown ids.
func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	return out
}

// templateOf replaces ids in a path by {id} (the OAuth client ids are names).
func templateOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 0 && (uuidRE.MatchString(p) || p == "not-a-uuid" || p == "nope" || p == "no-such-client" || p == webClientID ||
			strings.HasPrefix(parts[i-1], "clients") || len(p) == 36 || len(p) > 100) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
