package api_test

import (
	"testing"
	"time"
)

// answered puts username On Queue on station, injects a call to Ventas,
// answers it and returns the conversation once connected (the socket must
// follow the agent's conversations).
func (ce *callEnv) answered(t *testing.T, ws *sock, username, station, from string) (string, conv) {
	t.Helper()
	id := ce.onQueue(t, username, station)
	cid := ce.inject(t, "Ventas", from)
	c := ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", id) == "alerting" })
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", id)), ce.token(t, username), map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", id) == "connected" })
	return cid, c
}

// Hold, mute, DTMF and hanging up through the API, checked on the switch's
// media model; controls that make no sense are refused and change nothing.
func TestHoldMuteDigitsHangup(t *testing.T) {
	ce := startCalls(t)
	a1 := ce.userID(t, "agent1")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, "agent1", userTopics(a1)...)
	cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000010")
	agent, cust := c.part("agent", a1), c.part("customer", "")
	al, cl := ce.leg(t, agent), ce.leg(t, cust)
	if !ce.sw.Hears(al, cl) || !ce.sw.Hears(cl, al) {
		t.Fatal("not talking")
	}

	// Hold: the customer hears music, nobody hears anybody.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"held": true})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["held"] == true })
	if !ce.sw.HearsMusic(cl) || ce.sw.Hears(al, cl) || ce.sw.Hears(cl, al) {
		t.Error("on hold the customer must hear music and the two must not hear each other")
	}
	if p := c.part("agent", a1); !dateRE.MatchString(p["startHoldTime"].(string)) {
		t.Errorf("startHoldTime %v", p["startHoldTime"])
	}
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"held": true}) // again: no change
	ce.advance(t, 5*time.Second)
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"held": false})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["held"] == false })
	if ce.sw.HearsMusic(cl) || !ce.sw.Hears(al, cl) || !ce.sw.Hears(cl, al) {
		t.Error("resumed: they must hear each other again")
	}
	var segs []string
	for _, s := range c.part("agent", a1)["segments"].([]any) {
		segs = append(segs, s.(map[string]any)["segmentType"].(string))
	}
	if len(segs) != 4 || segs[1] != "interact" || segs[2] != "hold" || segs[3] != "interact" {
		t.Errorf("agent segments %v", segs)
	}

	// Mute: the customer no longer hears the agent; the agent still hears the customer.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"muted": true})
	ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["muted"] == true })
	if ce.sw.Hears(cl, al) || !ce.sw.Hears(al, cl) {
		t.Error("muted: one-way audio expected")
	}
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"muted": false})
	ws.conv(cid, ".conversations", func(c conv) bool { return c.part("agent", a1)["muted"] == false })
	if !ce.sw.Hears(cl, al) {
		t.Error("unmuted: the customer must hear the agent")
	}

	// Recording the customer's leg.
	ce.must(t, 202, "PATCH", partPath(cid, cust), t1, map[string]any{"recording": true})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c["recordingState"] == "active" })
	if p := c.part("customer", ""); p["recording"] != true || p["recordingState"] != "active" {
		t.Errorf("recording: %v", p)
	}
	if info, _ := ce.sw.Info(cl); !info.Recording {
		t.Error("the switch does not record the customer's leg")
	}
	ce.must(t, 202, "PATCH", partPath(cid, cust), t1, map[string]any{"recording": false})
	ws.conv(cid, ".conversations", func(c conv) bool { return c["recordingState"] == "none" })

	// DTMF from the agent's participant reaches the customer's side, digit by digit.
	digits := "/api/v2/conversations/" + cid + "/participants/" + agent["id"].(string) + "/digits"
	ce.must(t, 202, "POST", digits, t1, map[string]any{"digits": "12"})
	ce.must(t, 202, "POST", digits, t1, map[string]any{"digits": "3#"})
	if got := ce.sw.DigitsReceived(cl); got != "123#" {
		t.Errorf("digits heard by the customer %q", got)
	}
	errorBody(t, ce.send(t, "POST", digits, t1, map[string]any{"digits": "12x"}), 400, "bad.request")
	errorBody(t, ce.send(t, "POST", digits, t1, map[string]any{"digits": ""}), 400, "bad.request")

	// Nonsense: another agent's controls, unknown participants, the queue as a party.
	t2 := ce.token(t, "agent2")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t2, map[string]any{"held": true}), 409, "conversation.not.participant")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, map[string]any{"id": unknownID}), t1, map[string]any{"held": true}), 404, "not.found")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, c.part("acd", "")), t1, map[string]any{"state": "disconnected"}), 409, "participant.state")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{}), 400, "bad.request")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"state": "alerting"}), 400, "bad.request")
	if !ce.sw.Hears(cl, al) || !ce.sw.Hears(al, cl) {
		t.Error("refused controls changed the call")
	}

	// The agent hangs up: the customer is hung up too; Ventas wrap-up is optional.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"state": "disconnected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	if p := c.part("agent", a1); p["disconnectType"] != "client" || p["afterCallWork"] == true || p["wrapupRequired"] == true {
		t.Errorf("agent %v", p)
	}
	if p := c.part("customer", ""); p["disconnectType"] != "peer" {
		t.Errorf("customer %v", p)
	}
	ws.status(a1, "IDLE")
	errorBody(t, ce.send(t, "PATCH", partPath(cid, agent), t1, map[string]any{"held": true}), 409, "conversation.ended")
	// An optional wrap-up can still be recorded after the call.
	ce.must(t, 202, "PATCH", partPath(cid, agent), t1, map[string]any{"wrapup": map[string]any{"code": ce.codeVentaCerrada}})
	if w := ce.conv(t, cid).part("agent", a1)["wrapup"]; w == nil {
		t.Error("optional wrap-up after the call was not recorded")
	}

	// PATCH of the whole call hangs everyone up.
	cid, c = ce.answered(t, ws, "agent1", "1001", "+34600000011")
	ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, t1, map[string]any{"state": "disconnected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	for _, p := range c.parts() {
		if p["state"] != "disconnected" {
			t.Errorf("still up: %v", p)
		}
	}
	errorBody(t, ce.send(t, "PATCH", "/api/v2/conversations/calls/"+cid, t1, map[string]any{"state": "disconnected"}), 409, "conversation.ended")
}

// Direct (blind) transfers to a user, a queue and a number.
func TestBlindTransfers(t *testing.T) {
	ce := startCalls(t)
	a1, a2, a4 := ce.userID(t, "agent1"), ce.userID(t, "agent2"), ce.userID(t, "agent4")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, pSupervisor, append(append(userTopics(a1), "v2.users."+a2+".conversations", "v2.users."+a4+".conversations"), "v2.users."+a2+".routingStatus")...)
	ce.loggedIn(t, "agent2", "1002")

	t.Run("to a user", func(t *testing.T) {
		ws := ws.in(t)
		cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000020")
		agent, cl := c.part("agent", a1), ce.leg(t, c.part("customer", ""))
		// Nonsense first: unknown user, yourself, a user without a station.
		errorBody(t, ce.send(t, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/agent", t1, map[string]any{"userId": unknownID}), 400, "user.unknown")
		errorBody(t, ce.send(t, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/agent", t1, map[string]any{"userId": a1}), 400, "bad.request")
		errorBody(t, ce.send(t, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/agent", t1, map[string]any{"userId": a4}), 409, "user.no.station")
		if !ce.sw.Hears(cl, ce.leg(t, agent)) {
			t.Fatal("a refused transfer changed the call")
		}
		ce.must(t, 202, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/agent", t1, map[string]any{"userName": "agent2"})
		c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "alerting" })
		if p := c.part("agent", a1); p["state"] != "disconnected" || p["disconnectType"] != "transfer" {
			t.Errorf("agent1 after the transfer %v", p)
		}
		if !ce.sw.HearsMusic(cl) {
			t.Error("the customer must hear music while the transfer rings")
		}
		ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a2)), ce.token(t, "agent2"), map[string]any{"state": "connected"})
		c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "connected" })
		l2 := ce.leg(t, c.part("agent", a2))
		if !ce.sw.Hears(cl, l2) || !ce.sw.Hears(l2, cl) || ce.sw.HearsMusic(cl) {
			t.Error("customer and agent2 must talk")
		}
		ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, ce.token(t, "agent2"), map[string]any{"state": "disconnected"})
		ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	})

	t.Run("to a queue", func(t *testing.T) {
		ws := ws.in(t)
		ce.onQueue(t, "agent4", "1004") // agent4 works Soporte
		cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000021")
		agent := c.part("agent", a1)
		errorBody(t, ce.send(t, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/queue", t1, map[string]any{"queueId": unknownID}), 400, "queue.unknown")
		ce.must(t, 202, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/queue", t1, map[string]any{"queueName": "Soporte"})
		c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "alerting" })
		if q, _ := c.part("acd", "")["queue"].(map[string]any); q["id"] != ce.soporte {
			t.Errorf("the call must wait in Soporte: %v", c.part("acd", ""))
		}
		ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a4)), ce.token(t, "agent4"), map[string]any{"state": "connected"})
		c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "connected" })
		if cl, l4 := ce.leg(t, c.part("customer", "")), ce.leg(t, c.part("agent", a4)); !ce.sw.Hears(cl, l4) || !ce.sw.Hears(l4, cl) {
			t.Error("customer and agent4 must talk")
		}
		ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, ce.token(t, "agent4"), map[string]any{"state": "disconnected"})
		ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
		ce.must(t, 204, "DELETE", "/api/v2/users/"+a4+"/station", ce.token(t, "agent4"), nil)
	})

	t.Run("to a number", func(t *testing.T) {
		ws := ws.in(t)
		cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000022")
		agent, cl := c.part("agent", a1), ce.leg(t, c.part("customer", ""))
		errorBody(t, ce.send(t, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/external", t1, map[string]any{"address": "not a number"}), 400, "address.invalid")
		ce.must(t, 202, "POST", "/api/v2/conversations/"+cid+"/participants/"+agent["id"].(string)+"/replace/external", t1, map[string]any{"address": "+34911000111"})
		ce.quiet(t)
		c = ce.conv(t, cid)
		if ext := c.part("external", ""); ext["state"] != "contacting" || ext["address"] != "tel:+34911000111" {
			t.Fatalf("external while ringing: %v", c)
		}
		ce.advance(t, 3*time.Second) // the number answers after 3 s
		c = ce.conv(t, cid)
		ext := c.part("external", "")
		if ext["state"] != "connected" {
			t.Fatalf("external after 3 s: %v", c)
		}
		if el := ce.leg(t, ext); !ce.sw.Hears(cl, el) || !ce.sw.Hears(el, cl) {
			t.Error("customer and the number must talk")
		}
	})
}

// Attended transfers: consult a user (speak to each side, both, cancel
// = "end transfer"), then consult a number and complete.
func TestConsultTransfer(t *testing.T) {
	ce := startCalls(t)
	a1, a2 := ce.userID(t, "agent1"), ce.userID(t, "agent2")
	t1, t2 := ce.token(t, "agent1"), ce.token(t, "agent2")
	ws := ce.socket(t, pSupervisor, append(userTopics(a1), "v2.users."+a2+".conversations")...)
	ce.loggedIn(t, "agent2", "1002")
	cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000030")
	cust, agent := c.part("customer", ""), c.part("agent", a1)
	cl, al := ce.leg(t, cust), ce.leg(t, agent)
	consult := partPath(cid, cust) + "/consult"

	// Nonsense: consulting about yourself, with a bad speakTo, completing none.
	errorBody(t, ce.send(t, "POST", partPath(cid, agent)+"/consult/agent", t1, map[string]any{"userId": a2}), 409, "participant.state")
	errorBody(t, ce.send(t, "POST", consult+"/agent", t1, map[string]any{"userId": a2, "speakTo": "NOBODY"}), 400, "bad.request")
	errorBody(t, ce.send(t, "DELETE", consult, t1, nil), 409, "consult.none")
	errorBody(t, ce.send(t, "POST", consult+"/agent", t2, map[string]any{"userId": a1}), 409, "conversation.not.participant")

	dest := ce.must(t, 200, "POST", consult+"/agent", t1, map[string]any{"userId": a2}).obj(t)["destinationParticipantId"].(string)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "alerting" })
	if c.part("agent", a2)["id"] != dest || c.part("agent", a1)["consultParticipantId"] != dest || c.part("customer", "")["held"] != true {
		t.Fatalf("consult ringing: %v", c)
	}
	if !ce.sw.HearsMusic(cl) || ce.sw.Hears(al, cl) {
		t.Error("the customer must wait on hold")
	}
	errorBody(t, ce.send(t, "PATCH", consult, t1, map[string]any{"speakTo": "OBJECT"}), 409, "participant.state")
	errorBody(t, ce.send(t, "POST", consult+"/complete", t1, nil), 409, "participant.state")
	errorBody(t, ce.send(t, "POST", consult+"/agent", t1, map[string]any{"userId": a2}), 409, "consult.in.progress")
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a2)), t2, map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "connected" })
	l2 := ce.leg(t, c.part("agent", a2))
	if !ce.sw.Hears(al, l2) || !ce.sw.Hears(l2, al) || ce.sw.Hears(l2, cl) || !ce.sw.HearsMusic(cl) {
		t.Error("DESTINATION: agent1 and agent2 talk, the customer waits")
	}
	ce.must(t, 202, "PATCH", consult, t1, map[string]any{"speakTo": "OBJECT"})
	ce.quiet(t)
	if !ce.sw.Hears(al, cl) || !ce.sw.Hears(cl, al) || !ce.sw.HearsMusic(l2) || ce.sw.Hears(cl, l2) {
		t.Error("OBJECT: agent1 and the customer talk, agent2 waits")
	}
	ce.must(t, 202, "PATCH", consult, t1, map[string]any{"speakTo": "BOTH"})
	ce.quiet(t)
	for _, pair := range [][2]string{{al, cl}, {cl, al}, {al, l2}, {l2, al}, {cl, l2}, {l2, cl}} {
		if !ce.sw.Hears(pair[0], pair[1]) {
			t.Errorf("BOTH: %s does not hear %s", pair[0], pair[1])
		}
	}
	ce.must(t, 202, "PATCH", consult, t1, map[string]any{"speakTo": "DESTINATION"})
	ce.quiet(t)
	if !ce.sw.Hears(al, l2) || ce.sw.Hears(cl, al) || !ce.sw.HearsMusic(cl) {
		t.Error("back to DESTINATION")
	}
	// End transfer: agent2 is hung up, agent1 is back with the customer.
	ce.must(t, 202, "DELETE", consult, t1, nil)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "disconnected" })
	if c.part("customer", "")["held"] != false || c.part("agent", a1)["consultParticipantId"] != nil {
		t.Errorf("after cancel: %v", c)
	}
	if !ce.sw.Hears(al, cl) || !ce.sw.Hears(cl, al) || ce.sw.HearsMusic(cl) {
		t.Error("after cancel agent1 and the customer talk again")
	}

	// Consult a number and complete: agent1 drops out, the customer talks to the number.
	ce.must(t, 200, "POST", consult+"/external", t1, map[string]any{"address": "+34911000222"})
	ce.advance(t, 3*time.Second)
	c = ce.conv(t, cid)
	ext := c.part("external", "")
	if ext["state"] != "connected" {
		t.Fatalf("consulted number: %v", c)
	}
	el := ce.leg(t, ext)
	if !ce.sw.Hears(al, el) || !ce.sw.HearsMusic(cl) {
		t.Error("agent1 must talk to the number while the customer waits")
	}
	ce.must(t, 202, "POST", consult+"/complete", t1, nil)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "disconnected" })
	if p := c.part("agent", a1); p["disconnectType"] != "transfer.consult" {
		t.Errorf("agent1 after completing: %v", p)
	}
	if !ce.sw.Hears(cl, el) || !ce.sw.Hears(el, cl) || ce.sw.HearsMusic(cl) {
		t.Error("the customer and the number must talk after the transfer")
	}

	// Completing by hanging up (the platform's way) works too.
	cid, c = ce.answered(t, ws, "agent1", "1001", "+34600000031")
	cust = c.part("customer", "")
	ce.must(t, 200, "POST", partPath(cid, cust)+"/consult/agent", t1, map[string]any{"userId": a2})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "alerting" })
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a2)), t2, map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a2) == "connected" })
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a1)), t1, map[string]any{"state": "disconnected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a1) == "disconnected" })
	if c.part("agent", a1)["disconnectType"] != "transfer.consult" || c.state("agent", a2) != "connected" {
		t.Errorf("after hanging up during the consult: %v", c)
	}
	if cl, l2 := ce.leg(t, c.part("customer", "")), ce.leg(t, c.part("agent", a2)); !ce.sw.Hears(cl, l2) || !ce.sw.Hears(l2, cl) {
		t.Error("the customer and agent2 must talk")
	}
}

// A conference: invite a number and a user, kick all, end.
func TestConference(t *testing.T) {
	ce := startCalls(t)
	a1, a2 := ce.userID(t, "agent1"), ce.userID(t, "agent2")
	t1, t2 := ce.token(t, "agent1"), ce.token(t, "agent2")
	ws := ce.socket(t, pSupervisor, append(userTopics(a1), "v2.users."+a2+".conversations")...)
	ce.loggedIn(t, "agent2", "1002")
	cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000040")
	cl, al := ce.leg(t, c.part("customer", "")), ce.leg(t, c.part("agent", a1))
	invite := "/api/v2/conversations/calls/" + cid + "/participants"

	errorBody(t, ce.send(t, "POST", invite, t2, map[string]any{"participants": []any{map[string]any{"address": "+34911000333"}}}), 409, "conversation.not.participant")
	errorBody(t, ce.send(t, "POST", invite, t1, map[string]any{"participants": []any{map[string]any{"address": "+34911000333", "userId": a2}}}), 400, "bad.request")
	errorBody(t, ce.send(t, "POST", "/api/v2/conversations/calls/"+cid+"/conference/kickall", t1, nil), 409, "participant.state")

	v := conv(ce.must(t, 200, "POST", invite, t1, map[string]any{"participants": []any{map[string]any{"address": "+34911000333"}, map[string]any{"userId": a2}}}).obj(t))
	if v.state("external", "") != "dialing" && v.state("external", "") != "contacting" || v.state("user", a2) != "alerting" {
		t.Fatalf("invited: %v", v)
	}
	// Until they answer, agent1 and the customer go on talking.
	if !ce.sw.Hears(cl, al) {
		t.Error("the call must go on while the invitations ring")
	}
	ce.advance(t, 3*time.Second)
	c = ce.conv(t, cid)
	ce.must(t, 202, "PATCH", partPath(cid, c.part("user", a2)), t2, map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a2) == "connected" && c.state("external", "") == "connected" })
	el, l2 := ce.leg(t, c.part("external", "")), ce.leg(t, c.part("user", a2))
	legs := []string{cl, al, el, l2}
	for _, x := range legs {
		for _, y := range legs {
			if x != y && !ce.sw.Hears(x, y) {
				t.Errorf("conference: %s does not hear %s", x, y)
			}
		}
	}
	// Kick all: back to agent1 and the customer.
	ce.must(t, 202, "POST", "/api/v2/conversations/calls/"+cid+"/conference/kickall", t1, nil)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a2) == "disconnected" })
	if c.state("external", "") != "disconnected" || c.state("customer", "") != "connected" || c.state("agent", a1) != "connected" {
		t.Errorf("after kick all: %v", c)
	}
	if !ce.sw.Hears(cl, al) || !ce.sw.Hears(al, cl) {
		t.Error("agent1 and the customer must still talk")
	}
	// Invite again and end the conference: everyone is hung up.
	ce.must(t, 200, "POST", invite, t1, map[string]any{"participants": []any{map[string]any{"address": "+34911000444"}}})
	ce.advance(t, 3*time.Second)
	ce.must(t, 202, "DELETE", "/api/v2/conversations/calls/"+cid+"/conference", t1, nil)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	for _, p := range c.parts() {
		if p["state"] != "disconnected" {
			t.Errorf("after ending: %v", p)
		}
	}
	if n := len(ce.sw.Legs()); n != 0 {
		t.Errorf("%d legs still up", n)
	}
}

// Supervisors listen, coach and barge; agents cannot.
func TestMonitoring(t *testing.T) {
	ce := startCalls(t)
	a1, sv := ce.userID(t, "agent1"), ce.userID(t, "supervisor")
	t1, ts := ce.token(t, "agent1"), ce.token(t, pSupervisor)
	ws := ce.socket(t, pSupervisor, append(userTopics(a1), "v2.users."+sv+".conversations")...)
	cid, c := ce.answered(t, ws, "agent1", "1001", "+34600000050")
	agent := c.part("agent", a1)
	cl, al := ce.leg(t, c.part("customer", "")), ce.leg(t, agent)
	mon := partPath(cid, agent) + "/monitor"

	errorBody(t, ce.send(t, "POST", mon, t1, nil), 403, "missing.permissions")
	errorBody(t, ce.send(t, "POST", mon, ts, nil), 409, "user.no.station")
	if ents := ce.must(t, 200, "GET", "/api/v2/conversations/monitorable", ts, nil).obj(t)["entities"].([]any); len(ents) != 1 {
		t.Errorf("monitorable: %v", ents)
	}
	ce.loggedIn(t, "supervisor", "1005")

	// Listen: the supervisor hears both; nobody hears the supervisor.
	mid := ce.must(t, 200, "POST", mon, ts, nil).obj(t)["participantId"].(string)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("monitor", sv) == "connected" })
	m := c.part("monitor", sv)
	if m["id"] != mid || m["monitoredParticipantId"] != agent["id"] || m["monitorMode"] != "listen" {
		t.Errorf("monitor participant %v", m)
	}
	ml := ce.leg(t, m)
	check := func(mode string, want map[[2]string]bool) {
		t.Helper()
		for pair, w := range want {
			if got := ce.sw.Hears(pair[0], pair[1]); got != w {
				t.Errorf("%s: %s hears %s = %v, want %v", mode, pair[0], pair[1], got, w)
			}
		}
	}
	check("listen", map[[2]string]bool{{ml, al}: true, {ml, cl}: true, {al, ml}: false, {cl, ml}: false, {al, cl}: true, {cl, al}: true})
	// Coach: only the agent hears the supervisor.
	if id := ce.must(t, 200, "POST", partPath(cid, agent)+"/coach", ts, nil).obj(t)["participantId"]; id != mid {
		t.Errorf("coach made a new monitor participant %v", id)
	}
	ce.quiet(t)
	check("whisper", map[[2]string]bool{{ml, al}: true, {ml, cl}: true, {al, ml}: true, {cl, ml}: false, {al, cl}: true})
	// Barge: everyone hears everyone.
	ce.must(t, 200, "POST", "/api/v2/conversations/"+cid+"/barge", ts, nil)
	ce.quiet(t)
	check("barge", map[[2]string]bool{{ml, al}: true, {ml, cl}: true, {al, ml}: true, {cl, ml}: true, {al, cl}: true})
	// End monitoring: the call goes on.
	ce.must(t, 202, "PATCH", partPath(cid, m), ts, map[string]any{"state": "disconnected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("monitor", sv) == "disconnected" })
	if c.state("agent", a1) != "connected" || c.state("customer", "") != "connected" || !ce.sw.Hears(al, cl) || !ce.sw.Hears(cl, al) {
		t.Errorf("after monitoring ended: %v", c)
	}
	// ... as a plain two-party bridge again (a transfer needs one).
	ce.quiet(t)
	if info, _ := ce.sw.Info(al); info.Conference != "" || info.Bridge != cl {
		t.Errorf("after monitoring ended the agent's leg is %+v, want bridged to %s", info, cl)
	}
	// Monitoring ends with the call.
	ce.must(t, 200, "POST", mon, ts, nil)
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("monitor", sv) == "connected" })
	ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, t1, map[string]any{"state": "disconnected"})
	ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" && c.state("monitor", sv) == "disconnected" })
	errorBody(t, ce.send(t, "POST", mon, ts, nil), 409, "conversation.ended")
}

// Placing calls: to a number, to a user and to a queue.
func TestPlaceCall(t *testing.T) {
	ce := startCalls(t)
	a1, a2, a4 := ce.userID(t, "agent1"), ce.userID(t, "agent2"), ce.userID(t, "agent4")
	t1 := ce.token(t, "agent1")
	ws := ce.socket(t, pSupervisor, append(userTopics(a1), "v2.users."+a2+".conversations", "v2.users."+a4+".conversations")...)

	errorBody(t, ce.send(t, "POST", "/api/v2/conversations/calls", t1, map[string]any{"phoneNumber": "+34911000555"}), 409, "user.no.station")
	errorBody(t, ce.send(t, "POST", "/api/v2/conversations/calls", ce.token(t, pAdminCC), map[string]any{"phoneNumber": "+34911000555"}), 400, "bad.request")
	ce.onQueue(t, "agent1", "1001") // on queue: a non-ACD call makes agent1 COMMUNICATING
	ws.status(a1, "IDLE")
	errorBody(t, ce.send(t, "POST", "/api/v2/conversations/calls", t1, map[string]any{"phoneNumber": "+34911000555", "callUserId": a2}), 400, "bad.request")

	// A number: agent1's phone answers by itself, then the number rings and answers.
	r := ce.must(t, 200, "POST", "/api/v2/conversations/calls", t1, map[string]any{"phoneNumber": "+34911000555"}).obj(t)
	cid := r["id"].(string)
	if r["selfUri"] != "/api/v2/conversations/calls/"+cid {
		t.Errorf("answer %v", r)
	}
	c := ws.conv(cid, ".conversations", func(c conv) bool {
		return c.state("user", a1) == "connected" && c.state("external", "") == "contacting"
	})
	if c["direction"] != "outbound" || c["address"] != "tel:+34911000555" {
		t.Errorf("outbound conversation %v", c)
	}
	ws.status(a1, "COMMUNICATING")
	errorBody(t, ce.send(t, "POST", "/api/v2/conversations/calls", t1, map[string]any{"phoneNumber": "+34911000556"}), 409, "agent.busy")
	ce.advance(t, 3*time.Second)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("external", "") == "connected" })
	ul, el := ce.leg(t, c.part("user", a1)), ce.leg(t, c.part("external", ""))
	if !ce.sw.Hears(ul, el) || !ce.sw.Hears(el, ul) {
		t.Error("agent1 and the number must talk")
	}
	// The number hangs up: the call ends, agent1 is free (no wrap-up for a non-ACD call).
	if err := ce.sw.HangupFromPeer(el); err != nil {
		t.Fatal(err)
	}
	ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })
	ws.status(a1, "IDLE")
	// Off queue, agent1 stays OFF_QUEUE while calling.
	ce.must(t, 200, "POST", "/api/v2/users/"+a1+"/presences/purecloud/pause", t1, nil)

	// A user.
	ce.loggedIn(t, "agent2", "1002")
	cid = ce.must(t, 200, "POST", "/api/v2/conversations/calls", t1, map[string]any{"callUserId": a2}).obj(t)["id"].(string)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a2) == "alerting" })
	ce.must(t, 202, "PATCH", partPath(cid, c.part("user", a2)), ce.token(t, "agent2"), map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("user", a2) == "connected" })
	if l1, l2 := ce.leg(t, c.part("user", a1)), ce.leg(t, c.part("user", a2)); !ce.sw.Hears(l1, l2) || !ce.sw.Hears(l2, l1) {
		t.Error("agent1 and agent2 must talk")
	}
	ce.must(t, 200, "PATCH", "/api/v2/conversations/calls/"+cid, t1, map[string]any{"state": "disconnected"})
	ws.conv(cid, ".conversations", func(c conv) bool { return c["state"] == "disconnected" })

	// A queue: the ACD offers it to an agent of Soporte.
	ce.onQueue(t, "agent4", "1004")
	cid = ce.must(t, 200, "POST", "/api/v2/conversations/calls", t1, map[string]any{"callQueueId": ce.soporte}).obj(t)["id"].(string)
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "alerting" })
	ce.must(t, 202, "PATCH", partPath(cid, c.part("agent", a4)), ce.token(t, "agent4"), map[string]any{"state": "connected"})
	c = ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "connected" })
	if l1, l4 := ce.leg(t, c.part("user", a1)), ce.leg(t, c.part("agent", a4)); !ce.sw.Hears(l1, l4) || !ce.sw.Hears(l4, l1) {
		t.Error("agent1 and agent4 must talk")
	}
}
