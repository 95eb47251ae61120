package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Ids of the fake contact world the campaign tests inject.
const (
	cSchemaA  = "5c4e0000-0000-4000-8000-00000000000a"
	cListA1   = "11570000-0000-4000-8000-0000000000a1"
	cListA2   = "11570000-0000-4000-8000-0000000000a2"
	cListB1   = "11570000-0000-4000-8000-0000000000b1"
	cDNC      = "d0c00000-0000-4000-8000-000000000001"
	cContact1 = "c0000000-0000-4000-8000-000000000001" // list A1
	cContact2 = "c0000000-0000-4000-8000-000000000002" // list A2
	cContactB = "c0000000-0000-4000-8000-00000000000b" // list B1
)

// fakeContacts stands in for the contact store; users and queues are the
// real directory's.
type fakeContacts struct {
	a      *app.App
	mu     sync.Mutex
	status map[string]string
}

func (f *fakeContacts) ListSchema(_ context.Context, id string) (string, error) {
	switch id {
	case cListA1, cListA2:
		return cSchemaA, nil
	case cListB1:
		return "5c4e0000-0000-4000-8000-00000000000b", nil
	}
	return "", problem.NotFoundf("list %s not found", id)
}

func (f *fakeContacts) ContactList(_ context.Context, id string) (string, error) {
	switch id {
	case cContact1:
		return cListA1, nil
	case cContact2:
		return cListA2, nil
	case cContactB:
		return cListB1, nil
	}
	return "", problem.NotFoundf("contact %s not found", id)
}

func (f *fakeContacts) ContactPhone(_ context.Context, id string) (string, error) {
	return "+34911234567", nil
}

func (f *fakeContacts) SetStatus(_ context.Context, tx *store.Tx, id, status string) error {
	tx.AfterCommit(func() {
		f.mu.Lock()
		f.status[id] = status
		f.mu.Unlock()
	})
	return nil
}

func (f *fakeContacts) statusOf(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status[id]
}

func (f *fakeContacts) DNCListExists(_ context.Context, id string) error {
	if id != cDNC {
		return problem.NotFoundf("do-not-call list %s not found", id)
	}
	return nil
}

func (f *fakeContacts) QueueExists(ctx context.Context, id string) error {
	_, err := f.a.Directory.GetQueue(ctx, id)
	return err
}

func (f *fakeContacts) UserExists(ctx context.Context, id string) error {
	_, err := f.a.Directory.GetUser(ctx, id)
	return err
}

// campaignEnv starts the program with the fake contact world wired in.
func campaignEnv(t *testing.T) (*testEnv, *fakeContacts) {
	t.Helper()
	e := startEnv(t, apptest.Options{RateLimit: 100000})
	f := &fakeContacts{a: e.app, status: map[string]string{}}
	e.app.Campaigns.SetDeps(f, f, f)
	return e, f
}

func campaignBody(name string, number int, queue string) map[string]any {
	return map[string]any{
		"name": name, "number": number, "direction": "outbound", "dialingMode": "predictive",
		"contactListIds": []string{cListA1, cListA2}, "queueId": queue,
		"transferNumbers": []map[string]any{{"name": "Supervisión", "number": "+34911000000"}},
		"callingHours": map[string]any{"timeZone": "Europe/Madrid",
			"windows": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "start": "09:00", "end": "21:00"}}},
		"retryRules": []map[string]any{{"outcome": "busy", "retry": true, "delaySeconds": 900},
			{"outcome": "no-answer", "retry": true, "delaySeconds": 3600}},
		"maxAttempts": 3, "dncListIds": []string{cDNC}, "callerId": "+34910000000",
		"abandonCapPercent": 3.0, "ringTimeoutSeconds": 25, "abandonPrompt": "abandon",
		"allowReleaseWithoutCategory": true, "autoReleaseSeconds": -1, "state": "on",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestCampaignsAPI(t *testing.T) {
	e, _ := campaignEnv(t)
	admin, super, agent := e.token(t, pAdminCC), e.token(t, pSupervisor), e.token(t, pAgent)
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")

	// The demo has campaigns of its own.
	demoCampaigns := int(e.must(t, 200, "GET", "/api/v2/outbound/campaigns", agent, nil).obj(t)["total"].(float64))

	// Only admins create.
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns", agent, campaignBody("Cobranzas", 197, queue)), 403, "missing.permissions")
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns", super, campaignBody("Cobranzas", 197, queue)), 403, "missing.permissions")
	c := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, campaignBody("Cobranzas", 197, queue)).obj(t)
	id, _ := c["id"].(string)
	if !uuidRE.MatchString(id) {
		t.Fatalf("created %v", c)
	}
	for k, want := range map[string]any{"name": "Cobranzas", "number": float64(197), "direction": "outbound", "dialingMode": "predictive",
		"schemaId": cSchemaA, "queueId": queue, "inboundListId": "", "state": "on", "maxAttempts": float64(3), "ringTimeoutSeconds": float64(25),
		"abandonCapPercent": float64(3), "autoReleaseSeconds": float64(-1), "callerId": "+34910000000", "powerRatio": float64(0),
		"selfUri": "/api/v2/outbound/campaigns/" + id} {
		if c[k] != want {
			t.Errorf("created %s = %v, want %v", k, c[k], want)
		}
	}
	for _, k := range []string{"dateCreated", "dateModified"} {
		if s, _ := c[k].(string); !dateRE.MatchString(s) {
			t.Errorf("%s %v", k, c[k])
		}
	}
	if h, _ := c["callingHours"].(map[string]any); h["timeZone"] != "Europe/Madrid" || len(h["windows"].([]any)) != 1 {
		t.Errorf("callingHours %v", c["callingHours"])
	}

	// Defaults when only the essentials are given.
	minimal := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, map[string]any{
		"name": "Mínima", "number": 105, "dialingMode": "preview", "contactListIds": []string{cListA1}}).obj(t)
	for k, want := range map[string]any{"direction": "outbound", "state": "off", "maxAttempts": float64(3), "abandonCapPercent": float64(3),
		"ringTimeoutSeconds": float64(25), "autoReleaseSeconds": float64(-1), "allowReleaseWithoutCategory": true, "abandonPrompt": "abandon"} {
		if minimal[k] != want {
			t.Errorf("minimal %s = %v, want %v", k, minimal[k], want)
		}
	}
	for _, k := range []string{"transferNumbers", "retryRules", "dncListIds"} {
		if a, ok := minimal[k].([]any); !ok || len(a) != 0 {
			t.Errorf("minimal %s = %v, want []", k, minimal[k])
		}
	}
	// Inbound.
	inb := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, map[string]any{
		"name": "Entrantes", "number": 110, "direction": "inbound", "queueId": queue, "inboundListId": cListB1}).obj(t)
	if inb["dialingMode"] != "" || inb["inboundListId"] != cListB1 {
		t.Errorf("inbound %v", inb)
	}

	// Reading needs an agent.
	list := e.must(t, 200, "GET", "/api/v2/outbound/campaigns?pageSize=2", agent, nil).obj(t)
	if list["total"] != float64(demoCampaigns+3) || list["pageCount"] != float64((demoCampaigns+4)/2) || len(list["entities"].([]any)) != 2 {
		t.Errorf("list %v", list)
	}
	if r := e.must(t, 200, "GET", "/api/v2/outbound/campaigns?direction=inbound&name=Entrantes", agent, nil).entities(t); len(r) != 1 || r[0]["name"] != "Entrantes" {
		t.Errorf("inbound filter %v", r)
	}
	if r := e.must(t, 200, "GET", "/api/v2/outbound/campaigns?name=Cob*&state=on", agent, nil).entities(t); len(r) != 1 || r[0]["id"] != id {
		t.Errorf("name filter %v", r)
	}
	got := e.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+id, agent, nil).obj(t)
	if got["name"] != "Cobranzas" {
		t.Errorf("get %v", got)
	}
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/campaigns/"+unknownID, agent, nil), 404, "not.found")
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/campaigns/nope", agent, nil), 400, "bad.request")

	// PUT: what a GET returned can be sent back.
	got["name"], got["dialingMode"], got["powerRatio"] = "Cobranzas Power", "power", 2.5
	errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+id, agent, got), 403, "missing.permissions")
	put := e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+id, admin, got).obj(t)
	if put["name"] != "Cobranzas Power" || put["powerRatio"] != 2.5 || put["dateCreated"] != c["dateCreated"] || put["state"] != "on" {
		t.Errorf("put %v", put)
	}
	errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+unknownID, admin, campaignBody("X", 199, queue)), 404, "not.found")

	// Deleting.
	errorBody(t, e.send(t, "DELETE", "/api/v2/outbound/campaigns/"+minimal["id"].(string), super, nil), 403, "missing.permissions")
	e.must(t, 204, "DELETE", "/api/v2/outbound/campaigns/"+minimal["id"].(string), admin, nil)
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/campaigns/"+minimal["id"].(string), admin, nil), 404, "not.found")
	errorBody(t, e.send(t, "DELETE", "/api/v2/outbound/campaigns/"+minimal["id"].(string), admin, nil), 404, "not.found")
}

func TestCampaignsAPIBadInput(t *testing.T) {
	e, _ := campaignEnv(t)
	admin := e.token(t, pAdminCC)
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	good := campaignBody("Cobranzas", 197, queue)
	existing := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, good).obj(t)
	path := "/api/v2/outbound/campaigns/" + existing["id"].(string)
	window := func(start, end string, days ...string) map[string]any {
		return map[string]any{"timeZone": "Europe/Madrid", "windows": []map[string]any{{"days": days, "start": start, "end": end}}}
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
		code  string
	}{
		{"unknown dialing mode", with(good, "dialingMode", "agentless"), "dialingMode", ""},
		{"power ratio out of range", with(good, "dialingMode", "power", "powerRatio", 12), "powerRatio", ""},
		{"power ratio for predictive", with(good, "powerRatio", 2), "powerRatio", ""},
		{"ring timeout under 15", with(good, "ringTimeoutSeconds", 10), "ringTimeoutSeconds", ""},
		{"ring timeout 0 given", with(good, "ringTimeoutSeconds", 0), "ringTimeoutSeconds", ""},
		{"abandon cap over 3", with(good, "abandonCapPercent", 3.5), "abandonCapPercent", ""},
		{"abandon cap negative", with(good, "abandonCapPercent", -0.1), "abandonCapPercent", ""},
		{"bad HH:MM", with(good, "callingHours", window("9h", "21:00", "mon")), "callingHours.windows[0].start", ""},
		{"start after end", with(good, "callingHours", window("21:00", "09:00", "mon")), "callingHours.windows[0].end", ""},
		{"unknown day", with(good, "callingHours", window("09:00", "21:00", "lun")), "callingHours.windows[0].days[0]", ""},
		{"unknown time zone", with(good, "callingHours", map[string]any{"timeZone": "Madrid"}), "callingHours.timeZone", ""},
		{"retry unknown outcome", with(good, "retryRules", []map[string]any{{"outcome": "sad", "retry": true}}), "retryRules[0].outcome", ""},
		{"retry negative delay", with(good, "retryRules", []map[string]any{{"outcome": "busy", "retry": true, "delaySeconds": -5}}), "retryRules[0].delaySeconds", ""},
		{"retry duplicate outcome", with(good, "retryRules", []map[string]any{{"outcome": "busy", "retry": true}, {"outcome": "busy", "retry": false}}), "retryRules[1].outcome", ""},
		{"a campaign with no list", with(good, "contactListIds", []string{}), "contactListIds", ""},
		{"a campaign with no list (omitted)", with(good, "contactListIds", nil), "contactListIds", ""},
		{"lists of different schemas", with(good, "contactListIds", []string{cListA1, cListB1}), "contactListIds[1]", ""},
		{"unknown list", with(good, "contactListIds", []string{unknownID}), "contactListIds[0]", ""},
		{"unknown queue", with(good, "queueId", unknownID), "queueId", ""},
		{"unknown dnc list", with(good, "dncListIds", []string{unknownID}), "dncListIds[0]", ""},
		{"duplicate name", with(good, "name", "COBRANZAS", "number", 198), "name", "duplicate.value"},
		{"duplicate number", with(good, "name", "Otra"), "number", "duplicate.value"},
		{"caller id not a number", with(good, "callerId", "Centralita"), "callerId", ""},
		{"number out of range", with(good, "number", 0), "number", ""},
		{"no name", with(good, "name", ""), "name", ""},
		{"inbound without queue", map[string]any{"name": "In", "number": 150, "direction": "inbound", "inboundListId": cListB1}, "queueId", ""},
		{"inbound without list", map[string]any{"name": "In", "number": 150, "direction": "inbound", "queueId": queue}, "inboundListId", ""},
		{"unknown direction", with(good, "direction", "sideways"), "direction", ""},
		{"unknown field", with(good, "colour", "red"), "", ""},
	}
	before := e.must(t, 200, "GET", "/api/v2/outbound/campaigns?pageSize=500", admin, nil).body
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.code
			if code == "" {
				code = "bad.request"
			}
			m := errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns", admin, tc.body), 400, code)
			if tc.field != "" && !slices.Contains(detailFields(m), tc.field) {
				t.Errorf("POST details name %v, want %s: %v", detailFields(m), tc.field, m["message"])
			}
			if tc.code == "" { // the same body replacing the existing campaign
				m = errorBody(t, e.send(t, "PUT", path, admin, tc.body), 400, code)
				if tc.field != "" && !slices.Contains(detailFields(m), tc.field) {
					t.Errorf("PUT details name %v, want %s: %v", detailFields(m), tc.field, m["message"])
				}
			}
		})
	}
	after := e.must(t, 200, "GET", "/api/v2/outbound/campaigns?pageSize=500", admin, nil).body
	if string(before) != string(after) {
		t.Errorf("bad input changed campaigns:\n%s\n%s", before, after)
	}
}

func TestCampaignAgentsAPI(t *testing.T) {
	e, _ := campaignEnv(t)
	admin, super := e.token(t, pAdminCC), e.token(t, pSupervisor)
	agent1, agent2 := e.token(t, "agent1"), e.token(t, "agent2")
	id1, id2 := e.userID(t, "agent1"), e.userID(t, "agent2")
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	a := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, campaignBody("A", 101, queue)).obj(t)["id"].(string)
	b := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, campaignBody("B", 102, queue)).obj(t)["id"].(string)
	in := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, map[string]any{
		"name": "In", "number": 103, "direction": "inbound", "queueId": queue, "inboundListId": cListB1}).obj(t)["id"].(string)
	agentsOf := func(c string) []string {
		t.Helper()
		var ids []string
		for _, x := range e.must(t, 200, "GET", "/api/v2/outbound/campaigns/"+c+"/agents", agent1, nil).entities(t) {
			ids = append(ids, x["userId"].(string))
			if s, _ := x["dateLoggedIn"].(string); !dateRE.MatchString(s) {
				t.Errorf("dateLoggedIn %v", x["dateLoggedIn"])
			}
		}
		return ids
	}
	mine := func(tok string) map[string]any {
		t.Helper()
		return e.must(t, 200, "GET", "/api/v2/users/me/outboundcampaign", tok, nil).obj(t)
	}

	if m := mine(agent1); m["campaignId"] != "" || len(m) != 1 {
		t.Errorf("before login %v", m)
	}
	l := e.must(t, 200, "POST", "/api/v2/outbound/campaigns/"+a+"/agents/me", agent1, nil).obj(t)
	if l["userId"] != id1 || l["campaignId"] != a {
		t.Errorf("login %v", l)
	}
	if m := mine(agent1); m["campaignId"] != a || m["name"] != "A" || m["number"] != float64(101) || m["dialingMode"] != "predictive" {
		t.Errorf("after login %v", m)
	}
	if ids := agentsOf(a); !slices.Equal(ids, []string{id1}) {
		t.Errorf("agents of A %v", ids)
	}
	// An agent acts on themselves only.
	errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+a+"/agents/"+id2, agent1, nil), 403, "not.authorized")
	errorBody(t, e.send(t, "DELETE", "/api/v2/outbound/campaigns/"+a+"/agents/"+id2, agent1, nil), 403, "not.authorized")
	e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+a+"/agents/"+id2, agent2, nil)
	// Moving to B leaves A.
	e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+b+"/agents/me", agent1, nil)
	if ids := agentsOf(a); !slices.Equal(ids, []string{id2}) {
		t.Errorf("agents of A after the move %v", ids)
	}
	if ids := agentsOf(b); !slices.Equal(ids, []string{id1}) {
		t.Errorf("agents of B %v", ids)
	}
	// Supervisors log others in and out.
	e.must(t, 200, "PUT", "/api/v2/outbound/campaigns/"+b+"/agents/"+id2, super, nil)
	e.must(t, 204, "DELETE", "/api/v2/outbound/campaigns/"+b+"/agents/"+id1, super, nil)
	if ids := agentsOf(b); !slices.Equal(ids, []string{id2}) {
		t.Errorf("agents of B after the supervisor %v", ids)
	}
	if m := mine(agent1); m["campaignId"] != "" {
		t.Errorf("agent1 after being logged out %v", m)
	}
	// Refusals.
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns/"+in+"/agents/me", agent1, nil), 400, "campaign.not.outbound")
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns/"+unknownID+"/agents/me", agent1, nil), 404, "not.found")
	errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+a+"/agents/"+unknownID, super, nil), 404, "not.found")
	errorBody(t, e.send(t, "PUT", "/api/v2/outbound/campaigns/"+a+"/agents/nobody", super, nil), 400, "bad.request")
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/campaigns/"+unknownID+"/agents", agent1, nil), 404, "not.found")
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/campaigns/"+a+"/agents/me", e.token(t, pAgentCC), nil), 400, "bad.request")
	errorBody(t, e.send(t, "GET", "/api/v2/users/me/outboundcampaign", e.token(t, pAgentCC), nil), 400, "bad.request")
	// Logging out of a campaign one is not in changes nothing.
	e.must(t, 204, "DELETE", "/api/v2/outbound/campaigns/"+a+"/agents/me", agent2, nil)
	if m := mine(agent2); m["campaignId"] != b {
		t.Errorf("agent2 %v", m)
	}
	e.must(t, 204, "DELETE", "/api/v2/outbound/campaigns/"+b+"/agents/me", agent2, nil)
	if m := mine(agent2); m["campaignId"] != "" {
		t.Errorf("agent2 after logout %v", m)
	}
	// A deleted campaign's agents are logged out.
	e.must(t, 200, "POST", "/api/v2/outbound/campaigns/"+a+"/agents/me", agent1, nil)
	e.must(t, 204, "DELETE", "/api/v2/outbound/campaigns/"+a, admin, nil)
	if m := mine(agent1); m["campaignId"] != "" {
		t.Errorf("agent1 after the campaign was deleted %v", m)
	}
	// The events went out with the changes.
	var n int
	if err := e.app.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE topic = $1`,
		"v2.users."+id1+".outboundcampaign").Scan(&n); err != nil || n < 5 {
		t.Errorf("%d outboundcampaign events of agent1 (%v)", n, err)
	}
}

func TestCallbacksAPI(t *testing.T) {
	e, contacts := campaignEnv(t)
	admin, super := e.token(t, pAdminCC), e.token(t, pSupervisor)
	agent1, agent2 := e.token(t, "agent1"), e.token(t, "agent2")
	id1, id2 := e.userID(t, "agent1"), e.userID(t, "agent2")
	queue := e.findID(t, "/api/v2/routing/queues", "Ventas")
	a := e.must(t, 200, "POST", "/api/v2/outbound/campaigns", admin, campaignBody("A", 101, queue)).obj(t)["id"].(string)
	e.must(t, 200, "POST", "/api/v2/outbound/campaigns/"+a+"/agents/me", agent1, nil)
	at := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Millisecond)
	iso := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }

	// An agent schedules for the campaign and for themselves.
	owned := e.must(t, 200, "POST", "/api/v2/outbound/callbacks", agent1, map[string]any{
		"campaignId": a, "contactId": cContact1, "at": iso(at)}).obj(t)
	cbID, _ := owned["id"].(string)
	for k, want := range map[string]any{"campaignId": a, "contactId": cContact1, "phone": "+34911234567", "at": iso(at), "userId": "",
		"state": "scheduled", "conversationId": "", "createdBy": id1, "selfUri": "/api/v2/outbound/callbacks/" + cbID} {
		if owned[k] != want {
			t.Errorf("callback %s = %v, want %v", k, owned[k], want)
		}
	}
	if st := contacts.statusOf(cContact1); st != "callback" {
		t.Errorf("contact status %q", st)
	}
	personal := e.must(t, 200, "POST", "/api/v2/outbound/callbacks", agent1, map[string]any{
		"campaignId": a, "contactId": cContact2, "at": iso(at.Add(time.Hour)), "userId": id1, "phone": "+34600000001"}).obj(t)
	// Not for someone else; a supervisor may.
	errorBody(t, e.send(t, "POST", "/api/v2/outbound/callbacks", agent1, map[string]any{
		"campaignId": a, "contactId": cContact1, "at": iso(at), "userId": id2}), 403, "not.authorized")
	theirs := e.must(t, 200, "POST", "/api/v2/outbound/callbacks", super, map[string]any{
		"campaignId": a, "contactId": cContact1, "at": iso(at.Add(30 * time.Minute)), "userId": id2}).obj(t)

	// Bad input: 400 naming the field, nothing written.
	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"in the past", map[string]any{"campaignId": a, "contactId": cContact1, "at": iso(time.Now().Add(-time.Minute))}, "at"},
		{"too far", map[string]any{"campaignId": a, "contactId": cContact1, "at": iso(time.Now().Add(400 * 24 * time.Hour))}, "at"},
		{"not a date", map[string]any{"campaignId": a, "contactId": cContact1, "at": "tomorrow"}, "at"},
		{"no time", map[string]any{"campaignId": a, "contactId": cContact1}, "at"},
		{"contact not in the lists", map[string]any{"campaignId": a, "contactId": cContactB, "at": iso(at)}, "contactId"},
		{"unknown contact", map[string]any{"campaignId": a, "contactId": unknownID, "at": iso(at)}, "contactId"},
		{"unknown campaign", map[string]any{"campaignId": unknownID, "contactId": cContact1, "at": iso(at)}, "campaignId"},
		{"bad phone", map[string]any{"campaignId": a, "contactId": cContact1, "at": iso(at), "phone": "x"}, "phone"},
	}
	countCallbacks := func() int {
		var n int
		if err := e.app.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM callbacks`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n0 := countCallbacks()
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			m := errorBody(t, e.send(t, "POST", "/api/v2/outbound/callbacks", agent1, tc.body), 400, "bad.request")
			if !slices.Contains(detailFields(m), tc.field) {
				t.Errorf("details name %v, want %s: %v", detailFields(m), tc.field, m["message"])
			}
		})
	}
	if n := countCallbacks(); n != n0 {
		t.Errorf("bad input wrote callbacks: %d → %d", n0, n)
	}

	// Who sees what.
	ids := func(tok, query string) []string {
		t.Helper()
		var out []string
		for _, x := range e.must(t, 200, "GET", "/api/v2/outbound/callbacks"+query, tok, nil).entities(t) {
			out = append(out, x["id"].(string))
		}
		return out
	}
	pID, tID := personal["id"].(string), theirs["id"].(string)
	if got := ids(super, ""); !slices.Equal(got, []string{cbID, tID, pID}) {
		t.Errorf("supervisor sees %v", got)
	}
	if got := ids(agent1, ""); !slices.Equal(got, []string{cbID, pID}) {
		t.Errorf("agent1 sees %v", got)
	}
	if got := ids(agent2, ""); !slices.Equal(got, []string{tID}) { // not logged in: not the campaign's
		t.Errorf("agent2 sees %v", got)
	}
	if got := ids(super, "?userId="+id2); !slices.Equal(got, []string{tID}) {
		t.Errorf("userId filter %v", got)
	}
	if got := ids(agent1, "?userId=me"); !slices.Equal(got, []string{pID}) {
		t.Errorf("userId=me %v", got)
	}
	if got := ids(super, "?from="+iso(at.Add(time.Minute))+"&to="+iso(at.Add(time.Hour))); !slices.Equal(got, []string{tID}) {
		t.Errorf("from/to %v", got)
	}
	if got := ids(super, "?campaignId="+a+"&state=cancelled"); len(got) != 0 {
		t.Errorf("state filter %v", got)
	}
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/callbacks?from=yesterday", super, nil), 400, "bad.request")
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/callbacks/"+tID, agent1, nil), 403, "not.authorized")
	errorBody(t, e.send(t, "GET", "/api/v2/outbound/callbacks/"+unknownID, agent1, nil), 404, "not.found")
	if got := e.must(t, 200, "GET", "/api/v2/outbound/callbacks/"+cbID, agent1, nil).obj(t); got["id"] != cbID {
		t.Errorf("get %v", got)
	}

	// Moving: someone else's needs a supervisor.
	later := iso(at.Add(3 * time.Hour))
	errorBody(t, e.send(t, "PATCH", "/api/v2/outbound/callbacks/"+tID, agent1, map[string]any{"at": later}), 403, "not.authorized")
	errorBody(t, e.send(t, "DELETE", "/api/v2/outbound/callbacks/"+tID, agent1, nil), 403, "not.authorized")
	moved := e.must(t, 200, "PATCH", "/api/v2/outbound/callbacks/"+tID, super, map[string]any{"at": later, "userId": ""}).obj(t)
	if moved["at"] != later || moved["userId"] != "" || moved["state"] != "scheduled" {
		t.Errorf("moved %v", moved)
	}
	m := errorBody(t, e.send(t, "PATCH", "/api/v2/outbound/callbacks/"+pID, agent1, map[string]any{"at": iso(time.Now().Add(-time.Hour))}), 400, "bad.request")
	if !slices.Contains(detailFields(m), "at") {
		t.Errorf("move to the past names %v", detailFields(m))
	}
	if got := e.must(t, 200, "PATCH", "/api/v2/outbound/callbacks/"+pID, agent1, map[string]any{"at": later}).obj(t); got["at"] != later {
		t.Errorf("agent moves their own %v", got)
	}

	// Cancelling: the row stays, cancelled; the contact goes back to retry.
	e.must(t, 204, "DELETE", "/api/v2/outbound/callbacks/"+pID, agent1, nil)
	if got := e.must(t, 200, "GET", "/api/v2/outbound/callbacks/"+pID, agent1, nil).obj(t); got["state"] != "cancelled" {
		t.Errorf("cancelled %v", got)
	}
	if st := contacts.statusOf(cContact2); st != "retry" {
		t.Errorf("contact status after cancel %q", st)
	}
	if got := ids(super, "?state=cancelled"); !slices.Equal(got, []string{pID}) {
		t.Errorf("cancelled filter %v", got)
	}
	// The dialer takes one: it can no longer be moved or cancelled.
	ok, err := e.app.Campaigns.TakeCallback(context.Background(), cbID)
	if err != nil || !ok {
		t.Fatalf("take %v %v", ok, err)
	}
	errorBody(t, e.send(t, "DELETE", "/api/v2/outbound/callbacks/"+cbID, super, nil), 409, "callback.not.scheduled")
	errorBody(t, e.send(t, "PATCH", "/api/v2/outbound/callbacks/"+cbID, super, map[string]any{"at": later}), 409, "callback.not.scheduled")

	// Events.
	var body string
	if err := e.app.DB.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE topic = $1 ORDER BY created_at DESC, seq DESC LIMIT 1`,
		"v2.outbound.callbacks."+cbID).Scan(&body); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(body), &ev); err != nil || ev["state"] != "placing" {
		t.Errorf("last callback event %s %v", body, err)
	}
}
