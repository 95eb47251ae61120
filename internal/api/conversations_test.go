package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/config"
)

// An inbound call from the first ring to the wrap-up, through the API, with
// the events the agent's softphone receives on its WebSocket, in order.
func TestInboundCallToWrapup(t *testing.T) {
	ce := startCalls(t)
	admin, sup := ce.token(t, pAdmin), ce.token(t, pSupervisor)
	// Ventas makes wrap-up mandatory.
	ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, admin, map[string]any{"name": "Ventas", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY"}})

	a1 := ce.userID(t, "agent1")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	ce.onQueue(t, "agent1", "1001")
	ws.until("station login", func(ev sockEvent) bool {
		st, _ := ev.body["associatedStation"].(map[string]any)
		return ev.topic == "v2.users."+a1+".station" && st != nil && st["name"] == "1001"
	})
	ws.until("presence ON_QUEUE", func(ev sockEvent) bool {
		pd, _ := ev.body["presenceDefinition"].(map[string]any)
		return ev.topic == "v2.users."+a1+".presence" && pd["systemPresence"] == "ON_QUEUE" && ev.body["source"] == "PURECLOUD"
	})
	ws.status(a1, "IDLE")

	cid := ce.inject(t, "Ventas", "+34600111222")
	// The agent's socket gets the alerting conversation.
	c := ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
	cust, acd, agent := c.part("customer", ""), c.part("acd", ""), c.part("agent", a1)
	if cust["state"] != "connected" || cust["ani"] != "tel:+34600111222" || cust["name"] != "+34600111222" || cust["direction"] != "inbound" {
		t.Errorf("customer %v", cust)
	}
	if q, _ := acd["queue"].(map[string]any); acd["state"] != "connected" || q["id"] != ce.ventas || q["name"] != "Ventas" {
		t.Errorf("acd %v", acd)
	}
	if q, _ := agent["queue"].(map[string]any); q["id"] != ce.ventas || agent["alertingTimeoutMs"] != float64(8000) || agent["address"] != "station:1001" {
		t.Errorf("agent %v", agent)
	}
	if !dateRE.MatchString(c["startTime"].(string)) || c["state"] != "connected" {
		t.Errorf("conversation %v", c)
	}
	ws.status(a1, "INTERACTING")
	// The agent's phone rings.
	agentLeg := ce.leg(t, agent)
	if info, _ := ce.sw.Info(agentLeg); info.Station != "1001" || info.State != "ringing" {
		t.Fatalf("agent leg %+v", info)
	}

	// The REST view is the same; the agent lists it as theirs.
	r := ce.conv(t, cid)
	if r.state("agent", a1) != "alerting" || r["selfUri"] != "/api/v2/conversations/calls/"+cid {
		t.Fatalf("GET: %v", r)
	}
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations", t1, nil).entities(t); len(ents) != 1 || ents[0]["id"] != cid {
		t.Fatalf("agent1's conversations: %v", ents)
	}
	// Another agent neither sees it nor controls it.
	t2 := ce.token(t, "agent2")
	errorBody(t, ce.send(t, "GET", "/api/v2/conversations/"+cid, t2, nil), 403, "not.authorized")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, cust), t2, map[string]any{"state": "disconnected"}), 409, "conversation.not.participant")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t2, map[string]any{"state": "connected"}), 409, "conversation.not.participant")
	// Hold makes no sense while it rings.
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"held": true}), 409, "participant.state")

	// Answer through the API.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "connected" })
	if acd := c.part("acd", ""); acd["state"] != "disconnected" || acd["disconnectType"] != "transfer" {
		t.Errorf("acd after answer %v", acd)
	}
	custLeg := ce.leg(t, cust)
	if !ce.sw.Hears(custLeg, agentLeg) || !ce.sw.Hears(agentLeg, custLeg) {
		t.Fatal("customer and agent do not hear each other")
	}
	// Answering twice is harmless.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"state": "connected"})

	// Attributes, set by the CRM connector; null removes.
	ce.must(t, 202, "PATCH", partPath(cid, cust)+"/attributes", t1, map[string]any{"attributes": map[string]any{"CLAVESF": "42-abc", "tmp": "x"}})
	ce.must(t, 202, "PATCH", partPath(cid, cust)+"/attributes", t1, map[string]any{"attributes": map[string]any{"tmp": nil}})
	c = ws.conv(cid, ".conversations", func(c conv) bool {
		at, _ := c.part("customer", "")["attributes"].(map[string]any)
		return at["CLAVESF"] == "42-abc" && at["tmp"] == nil
	})

	// The customer hangs up: the agent goes to mandatory wrap-up.
	ce.advance(t, 95*time.Second)
	if err := ce.sw.HangupFromPeer(custLeg); err != nil {
		t.Fatal(err)
	}
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "disconnected" })
	agent = c.part("agent", a1)
	if agent["afterCallWork"] != true || agent["wrapupRequired"] != true || agent["wrapupPrompt"] != "MANDATORY" || agent["disconnectType"] != "peer" {
		t.Fatalf("agent after hangup %v", agent)
	}
	if cu := c.part("customer", ""); cu["disconnectType"] != "endpoint" || c["state"] != "disconnected" || c["endTime"] == nil {
		t.Errorf("after hangup %v / %v", cu, c)
	}
	var types []string
	for _, s := range agent["segments"].([]any) {
		sm := s.(map[string]any)
		types = append(types, sm["segmentType"].(string))
	}
	if !slices.Equal(types, []string{"alert", "interact", "wrapup"}) {
		t.Errorf("agent segments %v", types)
	}
	if _, ok := ce.sw.Info(agentLeg); ok {
		t.Error("the agent's leg is still up")
	}
	if rs := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", t1, nil).obj(t); rs["status"] != "INTERACTING" {
		t.Fatalf("routing status during wrap-up: %v", rs)
	}
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations/calls", t1, nil).entities(t); len(ents) != 1 {
		t.Fatalf("the pending wrap-up must keep the conversation in the agent's list: %v", ents)
	}

	// Wrap-up: bad codes are refused and change nothing.
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapup": map[string]any{"code": unknownID}}), 400, "wrapup.code.unknown")
	other := ce.must(t, 200, "POST", "/api/v2/routing/wrapupcodes", admin, map[string]any{"name": "No asignado"}).obj(t)["id"].(string)
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapup": map[string]any{"code": other}}), 400, "wrapup.code.not.allowed")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapupSkipped": true}), 400, "wrapup.required")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t2, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}}), 409, "conversation.not.participant")
	codes := ce.must(t, 200, "GET", partPath(cid, agent)+"/wrapupcodes", t1, nil)
	if !strings.Contains(string(codes.body), ce.codeVentaCerrada) || strings.Contains(string(codes.body), other) {
		t.Errorf("wrap-up codes of the participant: %s", codes)
	}
	ce.advance(t, 12*time.Second)
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada, "notes": "vendido"}})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["wrapup"] != nil })
	agent = c.part("agent", a1)
	w := agent["wrapup"].(map[string]any)
	if w["code"] != ce.codeVentaCerrada || w["name"] != "Venta - Cerrada" || w["notes"] != "vendido" || w["durationSeconds"] != float64(12) || agent["afterCallWork"] != false {
		t.Errorf("wrap-up %v", agent)
	}
	ws.status(a1, "IDLE")
	if got := ws.statuses(a1); !slices.Equal(got, []string{"IDLE", "INTERACTING", "IDLE"}) {
		t.Errorf("routing statuses on the socket: %v, want IDLE, INTERACTING, IDLE", got)
	}
	if wr := ce.must(t, 200, "GET", partPath(cid, agent)+"/wrapup", t1, nil).obj(t); wr["code"] != ce.codeVentaCerrada {
		t.Errorf("GET wrapup %v", wr)
	}
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations", t1, nil).entities(t); len(ents) != 0 {
		t.Fatalf("after wrap-up: %v", ents)
	}
	// A second wrap-up is refused; controls on an ended call are 409.
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}}), 409, "wrapup.done")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"state": "disconnected"}), 409, "conversation.ended")
	// The record stays readable, to its participants and supervisors.
	ce.must(t, 200, "GET", "/api/v2/conversations/"+cid, t1, nil)
	if got := conv(ce.must(t, 200, "GET", "/api/v2/conversations/"+cid, sup, nil).obj(t)); got.part("agent", a1)["wrapup"] == nil {
		t.Errorf("stored conversation %v", got)
	}
}

// An offer nobody answers within the queue's alerting timeout marks the
// agent NOT_RESPONDING and goes to the next agent; the first agent comes
// back by choosing On Queue again.
func TestAlertingTimeoutReroutes(t *testing.T) {
	ce := startCalls(t)
	a1, a2 := ce.userID(t, "agent1"), ce.userID(t, "agent2")
	sup := ce.socket(t, pSupervisor, "v2.routing.queues."+ce.ventas+".conversations", "v2.users."+a1+".routingStatus", "v2.users."+a2+".routingStatus")
	ce.onQueue(t, "agent1", "1001")
	ce.advance(t, time.Second) // agent1 has been idle longest
	ce.onQueue(t, "agent2", "1002")
	sup.status(a1, "IDLE")
	sup.status(a2, "IDLE")

	cid := ce.inject(t, "Ventas", "+34600000001")
	c := sup.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
	leg1 := ce.leg(t, c.part("agent", a1))
	sup.status(a1, "INTERACTING")
	ce.advance(t, 7*time.Second)
	if st := ce.conv(t, cid).state("agent", a1); st != "alerting" {
		t.Fatalf("after 7 s of the 8 s alerting timeout agent1 is %s", st)
	}
	ce.advance(t, time.Second)
	c = sup.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "alerting" })
	if p := c.part("agent", a1); p["state"] != "disconnected" || p["disconnectType"] != "transfer.noanswer" {
		t.Errorf("agent1's offer after the timeout: %v", p)
	}
	if c.state("acd", "") != "connected" {
		t.Errorf("the call must still wait in the queue: %v", c)
	}
	if _, ok := ce.sw.Info(leg1); ok {
		t.Error("agent1's phone still rings")
	}
	sup.status(a1, "NOT_RESPONDING")
	if rs := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", ce.token(t, "agent1"), nil).obj(t); rs["status"] != "NOT_RESPONDING" {
		t.Fatalf("agent1 %v", rs)
	}
	// agent2 answers; agent1 picks On Queue and is IDLE again.
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a2)), ce.token(t, "agent2"), map[string]any{"state": "connected"})
	sup.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "connected" })
	ce.must(t, 200, "PATCH", "/api/v2/users/"+a1+"/presences/purecloud", ce.token(t, "agent1"), onQueueBody())
	sup.status(a1, "IDLE")
	if got := sup.statuses(a1); !slices.Equal(got, []string{"IDLE", "INTERACTING", "NOT_RESPONDING", "IDLE"}) {
		t.Errorf("agent1's statuses %v", got)
	}

	// Declining (hanging up a ringing offer) also re-routes and marks NOT_RESPONDING.
	cid2 := ce.inject(t, "Ventas", "+34600000002")
	c = sup.conv(cid2, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
	ce.must(t, 202, "PATCH", partPath(cid2, c.part("agent", a1)), ce.token(t, "agent1"), map[string]any{"state": "disconnected"})
	sup.status(a1, "NOT_RESPONDING")
	c = sup.conv(cid2, ".conversations", func(c conv) bool { return c.state("agent", a1) == "disconnected" })
	if c.state("acd", "") != "connected" {
		t.Errorf("a declined call goes back to the queue: %v", c)
	}
	// Rejecting on the phone itself does the same.
	ce.must(t, 200, "PATCH", "/api/v2/users/"+a1+"/presences/purecloud", ce.token(t, "agent1"), onQueueBody())
	ce.quiet(t)
	c = ce.conv(t, cid2)
	if c.state("agent", a1) != "alerting" {
		t.Fatalf("back on queue, agent1 gets the waiting call again: %v", c)
	}
	if err := ce.sw.RejectPhone(ce.leg(t, c.part("agent", a1))); err != nil {
		t.Fatal(err)
	}
	ce.quiet(t)
	if rs := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", ce.token(t, "agent1"), nil).obj(t); rs["status"] != "NOT_RESPONDING" {
		t.Fatalf("after rejecting on the phone: %v", rs)
	}
}

// A caller who hangs up while waiting leaves the queue; one who hangs up
// while an agent's phone rings frees the agent, who stays IDLE.
func TestCallerAbandons(t *testing.T) {
	ce := startCalls(t)
	a1 := ce.userID(t, "agent1")
	sup := ce.socket(t, pSupervisor, "v2.routing.queues."+ce.ventas+".conversations", "v2.users."+a1+".routingStatus")

	cid := ce.inject(t, "Ventas", "", "patienceSeconds", 30)
	c := sup.conv(cid, ".conversations", func(c conv) bool { return c.state("acd", "") == "connected" })
	if cu := c.part("customer", ""); cu["name"] != "Anonymous" || cu["ani"] != nil {
		t.Errorf("a hidden number: %v", cu)
	}
	ce.advance(t, 29*time.Second)
	if st, err := ce.app.Engine().QueueStats(t.Context(), ce.ventas); err != nil || st.Waiting != 1 {
		t.Fatalf("waiting after 29 s: %+v %v", st, err)
	}
	ce.advance(t, time.Second)
	c = sup.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	if cu, acd := c.part("customer", ""), c.part("acd", ""); cu["disconnectType"] != "endpoint" || acd["state"] != "disconnected" {
		t.Errorf("abandoned: %v", c)
	}
	if st, _ := ce.app.Engine().QueueStats(t.Context(), ce.ventas); st.Waiting != 0 || st.Abandoned != 1 {
		t.Errorf("queue after the abandon: %+v", st)
	}

	// Abandon while the agent's phone rings.
	ce.onQueue(t, "agent1", "1001")
	sup.status(a1, "IDLE")
	cid = ce.inject(t, "Ventas", "+34600000003")
	c = sup.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
	agentLeg := ce.leg(t, c.part("agent", a1))
	if err := ce.sw.HangupFromPeer(ce.leg(t, c.part("customer", ""))); err != nil {
		t.Fatal(err)
	}
	c = sup.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	if p := c.part("agent", a1); p["state"] != "disconnected" || p["disconnectType"] != "peer" || p["afterCallWork"] == true {
		t.Errorf("agent after the caller gave up: %v", p)
	}
	if _, ok := ce.sw.Info(agentLeg); ok {
		t.Error("agent1's phone still rings")
	}
	sup.status(a1, "IDLE")
	if got := sup.statuses(a1); !slices.Equal(got, []string{"IDLE", "INTERACTING", "IDLE"}) {
		t.Errorf("agent1's statuses %v", got)
	}
	// The next call reaches agent1 at once.
	cid = ce.inject(t, "Ventas", "+34600000004")
	sup.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
}

// A restart keeps agent sessions (station, presence, routing status) and
// the pending wrap-ups; calls that were up when the switch went down end
// (their legs are gone with the in-process switch), waiting ones too, and
// the ACD works on at once.
func TestRestartRestoresSessionsAndWrapups(t *testing.T) {
	data := t.TempDir()
	clk := newFakeClock()
	e1 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Data: data})
	ce := &callEnv{testEnv: e1, sw: e1.app.Switch()}
	ce.ventas = e1.findID(t, "/api/v2/routing/queues", "Ventas")
	ce.codeVentaCerrada = e1.findID(t, "/api/v2/routing/wrapupcodes", "Venta - Cerrada")
	ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, ce.token(t, pAdmin), map[string]any{"name": "Ventas", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY"}})
	a1 := ce.userID(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	talking, _ := ce.answered(t, ws, "agent1", "1001", "+34600000060")
	waiting := ce.inject(t, "Ventas", "+34600000061") // agent1 is busy: it waits
	ce.quiet(t)
	if st := ce.conv(t, waiting); st.state("acd", "") != "connected" {
		t.Fatalf("second call: %v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e1.app.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	e2 := startEnv(t, apptest.Options{Clock: clk, RateLimit: 100000, Data: data})
	ce = &callEnv{testEnv: e2, sw: e2.app.Switch(), ventas: ce.ventas, codeVentaCerrada: ce.codeVentaCerrada}
	t1 := ce.token(t, "agent1")
	if st := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/station", t1, nil).obj(t)["associatedStation"].(map[string]any); st["name"] != "1001" {
		t.Errorf("station after restart %v", st)
	}
	if p := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/presences/purecloud", t1, nil).obj(t); p["presenceDefinition"].(map[string]any)["id"] != presenceOnQueue {
		t.Errorf("presence after restart %v", p)
	}
	if rs := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", t1, nil).obj(t); rs["status"] != "INTERACTING" {
		t.Errorf("routing status with a wrap-up pending %v", rs)
	}
	c := ce.conv(t, talking)
	agent := c.part("agent", a1)
	if c["state"] != "disconnected" || agent["disconnectType"] != "system" || agent["afterCallWork"] != true {
		t.Fatalf("the call that was up: %v", c)
	}
	if c := ce.conv(t, waiting); c["state"] != "disconnected" || c.part("customer", "")["disconnectType"] != "system" || c.state("acd", "") != "disconnected" {
		t.Errorf("the call that waited: %v", c)
	}
	if st, _ := ce.app.Engine().QueueStats(t.Context(), ce.ventas); st.Waiting != 0 {
		t.Errorf("the engine still holds %d waiting", st.Waiting)
	}
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations", t1, nil).entities(t); len(ents) != 1 || ents[0]["id"] != talking {
		t.Errorf("agent1's conversations after restart: %v", ents)
	}
	// The wrap-up frees agent1, and the ACD offers the next call at once.
	ws = ce.socket(t, "agent1", userTopics(a1)...)
	ce.must(t, 202, "PATCH", partPath(talking, agent), t1, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
	ws.status(a1, "IDLE")
	cid := ce.inject(t, "Ventas", "+34600000062")
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "alerting" })
}

// Time-limited wrap-ups: MANDATORY_TIMEOUT ends at the timeout with the
// timeout code (or earlier with the agent's code); MANDATORY_FORCED_TIMEOUT
// runs its full time even after a code.
func TestWrapupTimeouts(t *testing.T) {
	ce := startCalls(t)
	admin := ce.token(t, pAdmin)
	a1 := ce.userID(t, "agent1")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)

	ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, admin, map[string]any{"name": "Ventas", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000}})
	cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000070")
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a1)), t1, map[string]any{"state": "disconnected"})
	ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["afterCallWork"] == true })
	ce.advance(t, 29*time.Second)
	if rs := ce.must(t, 200, "GET", "/api/v2/users/"+a1+"/routingstatus", t1, nil).obj(t); rs["status"] != "INTERACTING" {
		t.Fatalf("at 29 s: %v", rs)
	}
	ce.advance(t, time.Second)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["afterCallWork"] == false })
	if w := c.part("agent", a1)["wrapup"].(map[string]any); w["code"] != "ININ-WRAP-UP-TIMEOUT" || w["durationSeconds"] != float64(30) {
		t.Errorf("timed-out wrap-up %v", w)
	}
	ws.status(a1, "IDLE")

	ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, admin, map[string]any{"name": "Ventas", "acwSettings": map[string]any{"wrapupPrompt": "MANDATORY_FORCED_TIMEOUT", "timeoutMs": 20000}})
	cid, c = ce.answered(t, ws, "agent1", "1001", "+34600000071")
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a1)), t1, map[string]any{"state": "disconnected"})
	ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["afterCallWork"] == true })
	ce.advance(t, 5*time.Second)
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a1)), t1, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["wrapup"] != nil })
	if c.part("agent", a1)["afterCallWork"] != true {
		t.Fatal("a forced time-limited wrap-up must run its full time")
	}
	ce.advance(t, 15*time.Second)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["afterCallWork"] == false })
	if w := c.part("agent", a1)["wrapup"].(map[string]any); w["code"] != ce.codeVentaCerrada {
		t.Errorf("the agent's code must stay: %v", w)
	}
	ws.status(a1, "IDLE")
}

// The simulation API serves the demo only.
func TestSimulationRefusedOutsideTheDemo(t *testing.T) {
	e := startEnv(t, apptest.Options{Mode: config.ModeServe})
	if _, _, err := e.app.Auth.CreateClient(context.Background(), auth.ClientInput{ID: "ops", Name: "Ops", GrantType: auth.GrantClientCredentials,
		Roles: []string{"admin"}, Secret: "ops-secret"}); err != nil {
		t.Fatal(err)
	}
	tok := e.clientCredentials(t, "ops", "ops-secret").AccessToken
	m := errorBody(t, e.send(t, "POST", "/api/v2/simulation/calls", tok, map[string]any{"to": "Ventas", "from": "+34600000001"}), 403, "simulation.disabled")
	if !strings.Contains(m["message"].(string), "demo") {
		t.Errorf("message %v", m["message"])
	}
	if n := len(e.app.Switch().Legs()); n != 0 {
		t.Errorf("%d legs placed", n)
	}
}

// Position and estimated wait of callers in a queue.
func TestQueuePositionAndWait(t *testing.T) {
	ce := startCalls(t)
	tok := ce.token(t, pAgent)
	ewt := func(conv string) map[string]any {
		t.Helper()
		path := "/api/v2/routing/queues/" + ce.ventas + "/estimatedwaittime"
		if conv != "" {
			path += "?conversationId=" + conv
		}
		res := ce.must(t, 200, "GET", path, tok, nil).obj(t)["results"].([]any)
		return res[0].(map[string]any)
	}
	if r := ewt(""); r["estimatedWaitTimeSeconds"] != nil || r["intent"] != "ALL" {
		t.Errorf("nobody on queue: %v", r)
	}
	a1 := ce.userID(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	ce.answered(t, ws, "agent1", "1001", "+34600000080") // agent1 busy
	first := ce.inject(t, "Ventas", "+34600000081")
	second := ce.inject(t, "Ventas", "+34600000082")
	ce.quiet(t)
	// Average handle time starts at 3 minutes; one agent on the queue.
	if r := ewt(first); r["positionInQueue"] != float64(1) || r["estimatedWaitTimeSeconds"] != float64(180) {
		t.Errorf("first in line: %v", r)
	}
	if r := ewt(second); r["positionInQueue"] != float64(2) || r["estimatedWaitTimeSeconds"] != float64(360) {
		t.Errorf("second in line: %v", r)
	}
	if r := ewt(""); r["estimatedWaitTimeSeconds"] != float64(540) || r["positionInQueue"] != nil {
		t.Errorf("a new caller: %v", r)
	}
	errorBody(t, ce.send(t, "GET", "/api/v2/routing/queues/"+ce.soporte+"/estimatedwaittime?conversationId="+first, tok, nil), 400, "conversation.not.waiting")
	errorBody(t, ce.send(t, "GET", "/api/v2/routing/queues/"+unknownID+"/estimatedwaittime", tok, nil), 404, "not.found")
}
