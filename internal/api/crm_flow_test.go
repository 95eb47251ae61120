package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/crm/salesforce/sfemu"
)

// TestScreenPopAndActivityLogBuiltin: on the demo's built-in CRM, a demo
// contact calls Ventas; when agent1 answers, the screen pop found that
// contact (pushed on v2.users.{id}.crm.screenpop and readable by REST),
// and once the call ends and is wrapped up, its activity log is written to
// the built-in store exactly once, with the disposition.
func TestScreenPopAndActivityLogBuiltin(t *testing.T) {
	ce := startCalls(t)
	ctx := context.Background()
	a1 := ce.userID(t, "agent1")
	lists, _, err := ce.app.Contacts.ListLists(ctx, "Base Demo", "", contact.Page{Limit: 1})
	if err != nil || len(lists) != 1 {
		t.Fatalf("demo list: %v %v", lists, err)
	}
	cs, _, err := ce.app.Contacts.ListContacts(ctx, lists[0].ID, "", "", contact.Page{Limit: 1})
	if err != nil || len(cs) != 1 {
		t.Fatalf("a demo contact: %v", err)
	}
	caller := cs[0].FirstPhone()
	ws := ce.socket(t, "agent1", append(userTopics(a1), "v2.users."+a1+".crm.screenpop")...)
	cid, c := ce.answered(t, ws, "agent1", "1001", caller)
	ev := ws.until("crm.screenpop", func(ev sockEvent) bool { return strings.HasSuffix(ev.topic, ".crm.screenpop") })
	dec, _ := ev.body["decision"].(map[string]any)
	action, _ := dec["action"].(map[string]any)
	rec, _ := ev.body["record"].(map[string]any)
	if ev.body["conversationId"] != cid || action["kind"] != "open" || rec == nil || rec["id"] != cs[0].ID {
		t.Fatalf("screen pop for a known caller: %v", ev.body)
	}
	pop := ce.must(t, 200, "GET", "/api/v2/crm/conversations/"+cid+"/screenpop", ce.token(t, "agent1"), nil).obj(t)
	if pop["record"].(map[string]any)["id"] != cs[0].ID {
		t.Fatalf("REST screen pop: %v", pop)
	}
	// The record found is part of the call data from now on.
	c = ce.conv(t, cid)
	if attrs := c.part("customer", "")["attributes"].(map[string]any); attrs["crmRecordId"] != cs[0].ID || attrs["crmRecordType"] != "Contact" {
		t.Fatalf("call data after the pop: %v", attrs)
	}
	// Hang up and wrap up.
	agent := c.part("agent", a1)
	ce.must(t, 202, "PATCH", partPath(cid, agent), ce.token(t, "agent1"), map[string]any{"state": "disconnected"})
	ce.quiet(t)
	ce.must(t, 202, "PATCH", partPath(cid, agent), ce.token(t, "agent1"), map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada, "notes": "interesado"}})
	ce.quiet(t)
	logPath := "/api/v2/crm/conversations/" + cid + "/activitylog"
	waitFor(t, "the activity log row", func() bool { return ce.send(t, "GET", logPath, ce.token(t, "supervisor"), nil).status == 200 })
	st := ce.must(t, 200, "GET", logPath, ce.token(t, "supervisor"), nil).obj(t)
	if st["state"] != "pending" {
		t.Fatalf("within the grace period the log waits: %v", st)
	}
	// The wrap-up reaches the queued log through the event stream (its own
	// goroutine): wait for it before the grace period ends.
	waitFor(t, "the disposition in the queued log", func() bool {
		var payload string
		err := ce.app.DB.QueryRowContext(ctx, `SELECT payload FROM crm_activity_logs WHERE conversation_id = $1`, cid).Scan(&payload)
		return err == nil && strings.Contains(payload, "Cerrada")
	})
	ce.advance(t, 61*time.Second)
	waitFor(t, "the log written", func() bool {
		return ce.must(t, 200, "GET", logPath, ce.token(t, "supervisor"), nil).obj(t)["state"] == "written"
	})
	var n int
	if err := ce.app.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_builtin_activities WHERE call_id = $1`, cid).Scan(&n); err != nil || n != 1 {
		t.Fatalf("built-in activities for the call: %d %v", n, err)
	}
	var disp, desc string
	if err := ce.app.DB.QueryRowContext(ctx, `SELECT disposition, description FROM crm_builtin_activities WHERE call_id = $1`, cid).Scan(&disp, &desc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(disp, "Cerrada") || !strings.Contains(desc, "interesado") {
		t.Fatalf("activity disposition %q description %q", disp, desc)
	}
}

// waitFor polls cond (the CRM worker and the event stream run on their own
// goroutines, outside the fake clock's reach) for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within 10 s", what)
}

// TestActivityLogSurvivesCRMOutageAndRestart: a call center on Salesforce
// (the emulator); the CRM is down while three calls end, stays down for an
// hour of fake time across a restart of the program, then comes back:
// every call's Task arrives exactly once, keyed by the call id.
func TestActivityLogSurvivesCRMOutageAndRestart(t *testing.T) {
	emu := sfemu.New()
	t.Cleanup(emu.Close)
	data, clk := t.TempDir(), newFakeClock()
	e1 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Data: data})
	ce := &callEnv{testEnv: e1, sw: e1.app.Switch()}
	ce.ventas = e1.findID(t, "/api/v2/routing/queues", "Ventas")
	ce.codeVentaCerrada = e1.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada")
	ctx := context.Background()
	cc := crm.Defaults()
	cc.Name, cc.Connector = "Acme Salesforce", "salesforce" // sorts before "Demo": the call center in use
	cc.Settings = map[string]string{"loginUrl": emu.URL(), "instanceUrl": emu.URL(), "flow": "client_credentials", "clientId": emu.ClientID}
	cc.Secrets = map[string]string{"clientSecret": emu.ClientSecret}
	if _, err := e1.app.CRM.CreateCallCenter(ctx, cc); err != nil {
		t.Fatal(err)
	}
	emu.Seed("Contact", map[string]any{"LastName": "García", "Phone": "+34600000301"})
	emu.SetDown(true)

	a1 := ce.userID(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	var calls []string
	for i, from := range []string{"+34600000301", "+34600000302", "+34600000303"} {
		if i > 0 {
			ce.must(t, 200, "PATCH", "/api/v2/users/"+a1+"/presences/purecloud", ce.token(t, "agent1"), onQueueBody())
		}
		cid, c := ce.answered(t, ws, "agent1", "1001", from)
		agent := c.part("agent", a1)
		ce.must(t, 202, "PATCH", partPath(cid, agent), ce.token(t, "agent1"), map[string]any{"state": "disconnected"})
		ce.quiet(t)
		ce.must(t, 202, "PATCH", partPath(cid, agent), ce.token(t, "agent1"), map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
		ce.quiet(t)
		calls = append(calls, cid)
	}
	status := func(e *testEnv, cid string) map[string]any {
		r := e.send(t, "GET", "/api/v2/crm/conversations/"+cid+"/activitylog", e.token(t, "supervisor"), nil)
		if r.status != 200 {
			return map[string]any{}
		}
		return r.obj(t)
	}
	for _, cid := range calls {
		waitFor(t, "the log row of "+cid, func() bool { return status(e1, cid)["state"] == "pending" })
	}
	// Half an hour of outage: attempts, no Task.
	for i := 0; i < 30; i++ {
		ce.advance(t, time.Minute)
	}
	waitFor(t, "retries during the outage", func() bool {
		a, _ := status(e1, calls[0])["attempts"].(float64)
		return a >= 3
	})
	if len(emu.Tasks()) != 0 {
		t.Fatalf("tasks written while the CRM was down: %v", emu.Tasks())
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e1.app.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}

	e2 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Data: data})
	ce2 := &callEnv{testEnv: e2, sw: e2.app.Switch()}
	for i := 0; i < 30; i++ { // the second half hour of the outage
		ce2.advance(t, time.Minute)
	}
	for _, cid := range calls {
		if st := status(e2, cid); st["state"] != "pending" {
			t.Fatalf("after the restart, still down: %v", st)
		}
	}
	emu.SetDown(false)
	for i := 0; i < 16; i++ { // at most the 15-minute backoff cap
		ce2.advance(t, time.Minute)
	}
	for _, cid := range calls {
		waitFor(t, "the log of "+cid+" written", func() bool { return status(e2, cid)["state"] == "written" })
	}
	tasks := emu.Tasks()
	byCall := map[string]int{}
	for _, tk := range tasks {
		byCall[fmt.Sprint(tk["CallObject"])]++
	}
	for _, cid := range calls {
		if byCall[cid] != 1 {
			t.Fatalf("call %s has %d tasks, want exactly 1 (tasks: %v)", cid, byCall[cid], tasks)
		}
	}
	if len(tasks) != len(calls) {
		t.Fatalf("%d tasks for %d calls", len(tasks), len(calls))
	}
	for _, tk := range tasks {
		if tk["CallType"] != "Inbound" || tk["Status"] != "Completed" || !strings.Contains(fmt.Sprint(tk["CallDisposition"]), "Cerrada") {
			t.Fatalf("task fields: %v", tk)
		}
	}
}
