package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every routing strategy and ACD setting of a queue, set through
// PUT /api/v2/routing/queues/{id} and proven end to end: simulated calls
// reach the queue, and the test checks whose station rings. The demo has
// agentN on station 100N; Ventas has agent1..3, Soporte agent3..5.

// station is the demo station of agentN.
func station(username string) string { return "100" + strings.TrimPrefix(username, "agent") }

// putVentas replaces Ventas's settings (name kept) and returns the queue.
func (ce *callEnv) putVentas(t *testing.T, settings map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"name": "Ventas"}
	for k, v := range settings {
		body[k] = v
	}
	return ce.must(t, 200, "PUT", "/api/v2/routing/queues/"+ce.ventas, ce.token(t, pAdmin), body).obj(t)
}

// skill gives a user a skill with a proficiency.
func (ce *callEnv) skill(t *testing.T, username, skillID string, proficiency float64) {
	t.Helper()
	ce.must(t, 200, "POST", "/api/v2/users/"+ce.userID(t, username)+"/routingskills", ce.token(t, pAdmin),
		map[string]any{"id": skillID, "proficiency": proficiency})
}

// ringing returns the username whose station rings for conversation cid
// ("" if none), once everything due has happened. It checks that at most
// one agent is offered the call, and that the agent participant and the
// switch agree.
func (ce *callEnv) ringing(t *testing.T, cid string) string {
	t.Helper()
	ce.quiet(t)
	c := ce.conv(t, cid)
	who := ""
	for _, p := range c.parts() {
		if p["purpose"] != "agent" || p["state"] != "alerting" {
			continue
		}
		if who != "" {
			t.Fatalf("two agents alerting at once: %v", c)
		}
		info, ok := ce.sw.Info(ce.leg(t, p))
		if !ok || info.State != "ringing" {
			t.Fatalf("agent participant alerting but its phone does not ring: %+v in %v", info, c)
		}
		who = "agent" + strings.TrimPrefix(info.Station, "100")
		if u, _ := p["user"].(map[string]any); u["id"] != ce.userID(t, who) {
			t.Fatalf("station %s rings for user %v, not %s", info.Station, u["id"], who)
		}
	}
	return who
}

// wantRing asserts that username's station rings for cid.
func (ce *callEnv) wantRing(t *testing.T, cid, username, why string) {
	t.Helper()
	if got := ce.ringing(t, cid); got != username {
		t.Fatalf("%s: %s rings, want %s (%v)", why, orNobody(got), username, ce.conv(t, cid))
	}
}

// wantWaiting asserts that nobody is offered cid: it waits in queueID.
func (ce *callEnv) wantWaiting(t *testing.T, cid, queueID, why string) {
	t.Helper()
	if got := ce.ringing(t, cid); got != "" {
		t.Fatalf("%s: %s rings, want the call waiting", why, got)
	}
	c := ce.conv(t, cid)
	q, _ := c.part("acd", "")["queue"].(map[string]any)
	if c.state("acd", "") != "connected" || q["id"] != queueID {
		t.Fatalf("%s: the call is not waiting in queue %s: %v", why, queueID, c)
	}
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

// answer has username answer the offer of cid.
func (ce *callEnv) answer(t *testing.T, cid, username string) {
	t.Helper()
	p := ce.conv(t, cid).part("agent", ce.userID(t, username))
	ce.must(t, 202, "PATCH", partPath(cid, p), ce.token(t, username), map[string]any{"state": "connected"})
	ce.quiet(t)
	if st := ce.conv(t, cid).state("agent", ce.userID(t, username)); st != "connected" {
		t.Fatalf("%s answered, but is %s", username, st)
	}
}

// hangUp has username leave cid (Ventas's wrap-up is optional: IDLE again).
func (ce *callEnv) hangUp(t *testing.T, cid, username string) {
	t.Helper()
	p := ce.conv(t, cid).part("agent", ce.userID(t, username))
	ce.must(t, 202, "PATCH", partPath(cid, p), ce.token(t, username), map[string]any{"state": "disconnected"})
	ce.quiet(t)
	ce.wantStatus(t, username, "IDLE")
}

// take answers and hangs up at once: the agent is IDLE again, newest idle.
func (ce *callEnv) take(t *testing.T, cid, username string) {
	t.Helper()
	ce.answer(t, cid, username)
	ce.hangUp(t, cid, username)
}

// rest puts username on a break and back On Queue: IDLE again, newest idle.
func (ce *callEnv) rest(t *testing.T, username string) {
	t.Helper()
	id, tok := ce.userID(t, username), ce.token(t, username)
	ce.must(t, 200, "PATCH", "/api/v2/users/"+id+"/presences/purecloud", tok, map[string]any{"presenceDefinition": map[string]any{"id": presenceBreak}})
	ce.advance(t, time.Second)
	ce.must(t, 200, "PATCH", "/api/v2/users/"+id+"/presences/purecloud", tok, onQueueBody())
	ce.advance(t, time.Second)
	ce.wantStatus(t, username, "IDLE")
}

func (ce *callEnv) wantStatus(t *testing.T, username, status string) {
	t.Helper()
	rs := ce.must(t, 200, "GET", "/api/v2/users/"+ce.userID(t, username)+"/routingstatus", ce.token(t, pSupervisor), nil).obj(t)
	if rs["status"] != status {
		t.Fatalf("%s is %v, want %s", username, rs["status"], status)
	}
}

// agentsOnQueue logs the agents in On Queue one second apart: the first
// has been idle longest.
func (ce *callEnv) agentsOnQueue(t *testing.T, usernames ...string) {
	t.Helper()
	for _, u := range usernames {
		ce.onQueue(t, u, station(u))
		ce.advance(t, time.Second)
	}
}

// offeredTo lists the agents ever offered conversation cid.
func (ce *callEnv) offeredTo(t *testing.T, cid string) []string {
	t.Helper()
	var out []string
	for _, p := range ce.conv(t, cid).parts() {
		if p["purpose"] == "agent" {
			u, _ := p["user"].(map[string]any)
			out = append(out, fmt.Sprint(u["id"]))
		}
	}
	return out
}

// inOrder checks that the socket received events matching each step, in
// this order (other events may come between).
func (s *sock) inOrder(steps ...sockStep) {
	s.t.Helper()
	i := 0
	for _, st := range steps {
		for i < len(s.events) && !st.match(s.events[i]) {
			i++
		}
		if i == len(s.events) {
			var seen []string
			for _, ev := range s.events {
				seen = append(seen, ev.topic+" "+statusOf(ev)+conv(ev.body).String())
			}
			s.t.Fatalf("socket: no %s after the steps before it; received:\n  %s", st.what, strings.Join(seen, "\n  "))
		}
		i++
	}
}

type sockStep struct {
	what  string
	match func(ev sockEvent) bool
}

func statusOf(ev sockEvent) string {
	if rs, ok := ev.body["routingStatus"].(map[string]any); ok {
		return fmt.Sprint(rs["status"]) + " "
	}
	return ""
}

func statusStep(userID, status string) sockStep {
	return sockStep{"routing status " + status, func(ev sockEvent) bool {
		return ev.topic == "v2.users."+userID+".routingStatus" && statusOf(ev) == status+" "
	}}
}

func convStep(cid, userID, state string) sockStep {
	return sockStep{"conversation " + cid + " with the agent " + state, func(ev sockEvent) bool {
		return ev.topic == "v2.users."+userID+".conversations" && ev.body["id"] == cid && conv(ev.body).state("agent", userID) == state
	}}
}

// longest_idle: the agent idle longest gets the call, whoever had the last
// call and however busy they were (what round robin and least occupied
// would not do).
func TestStrategyLongestIdle(t *testing.T) {
	ce := startCalls(t)
	if q := ce.putVentas(t, map[string]any{"routingStrategy": "longest_idle"}); q["routingStrategy"] != "longest_idle" {
		t.Fatalf("queue %v", q)
	}
	ce.agentsOnQueue(t, "agent2", "agent3", "agent1")
	cid := ce.inject(t, "Ventas", "+34600000101")
	ce.wantRing(t, cid, "agent2", "the first on queue")
	ce.answer(t, cid, "agent2")
	ce.advance(t, time.Minute)
	ce.hangUp(t, cid, "agent2")
	// agent3 and agent1 take a break: agent2, just off a call, is now idle longest.
	ce.rest(t, "agent3")
	ce.rest(t, "agent1")
	for i, want := range []string{"agent2", "agent3", "agent1", "agent2"} {
		cid := ce.inject(t, "Ventas", fmt.Sprintf("+3460000011%d", i))
		ce.wantRing(t, cid, want, fmt.Sprintf("call %d", i+2))
		ce.take(t, cid, want)
	}
}

// least_occupied: the agent with the least busy time gets the call, even
// when another has been idle longer.
func TestStrategyLeastOccupied(t *testing.T) {
	ce := startCalls(t)
	ce.putVentas(t, map[string]any{"routingStrategy": "least_occupied"})
	ce.agentsOnQueue(t, "agent1", "agent2")
	// No busy time yet: the longest idle, agent1, who then talks five minutes.
	cid := ce.inject(t, "Ventas", "+34600000201")
	ce.wantRing(t, cid, "agent1", "a tie")
	ce.answer(t, cid, "agent1")
	ce.advance(t, 5*time.Minute)
	ce.hangUp(t, cid, "agent1")
	// agent2 comes back from a break: agent1 has now been idle longer, but
	// agent2 has been busy less.
	ce.rest(t, "agent2")
	cid = ce.inject(t, "Ventas", "+34600000202")
	ce.wantRing(t, cid, "agent2", "least occupied")
	ce.take(t, cid, "agent2")
	// agent2's short call does not make it busier than agent1's five minutes.
	ce.rest(t, "agent2")
	cid = ce.inject(t, "Ventas", "+34600000203")
	ce.wantRing(t, cid, "agent2", "still the least occupied")
}

// round_robin: a rotation over the three members that does not follow
// idle time (breaks reorder who is idle longest, not the rotation).
func TestStrategyRoundRobin(t *testing.T) {
	ce := startCalls(t)
	ce.putVentas(t, map[string]any{"routingStrategy": "round_robin"})
	ce.agentsOnQueue(t, "agent1", "agent2", "agent3")
	var order []string
	for i := range 3 {
		cid := ce.inject(t, "Ventas", fmt.Sprintf("+3460000030%d", i))
		who := ce.ringing(t, cid)
		if who == "" || slices.Contains(order, who) {
			t.Fatalf("call %d rings %s after %v", i+1, orNobody(who), order)
		}
		order = append(order, who)
		ce.take(t, cid, who)
	}
	// The second round: before each call the agent whose turn it is takes
	// a break and comes back, so the longest idle is someone else.
	for i, want := range order {
		if i < 2 {
			ce.rest(t, want)
		}
		cid := ce.inject(t, "Ventas", fmt.Sprintf("+3460000031%d", i))
		ce.wantRing(t, cid, want, fmt.Sprintf("round 2, call %d (rotation %v)", i+1, order))
		ce.take(t, cid, want)
	}
}

// skills_best_match: the highest proficiency in the required skills wins,
// whether the queue requires the skill or the call asks for it.
func TestStrategySkillsBestMatch(t *testing.T) {
	ce := startCalls(t)
	ventasSkill := ce.findID(t, "/api/v2/routing/skills", "Ventas")
	ingles := ce.findID(t, "/api/v2/routing/skills", "Inglés")
	q := ce.putVentas(t, map[string]any{"routingStrategy": "skills_best_match", "skillIds": []string{ventasSkill}})
	if ids, _ := q["skillIds"].([]any); len(ids) != 1 || ids[0] != ventasSkill {
		t.Fatalf("queue skills %v", q["skillIds"])
	}
	ce.skill(t, "agent1", ventasSkill, 2)
	ce.skill(t, "agent2", ventasSkill, 5)
	ce.skill(t, "agent3", ventasSkill, 3)
	ce.agentsOnQueue(t, "agent1", "agent3", "agent2") // agent2 idle the shortest
	cid1 := ce.inject(t, "Ventas", "+34600000401")
	ce.wantRing(t, cid1, "agent2", "proficiency 5")
	ce.answer(t, cid1, "agent2")
	cid2 := ce.inject(t, "Ventas", "+34600000402")
	ce.wantRing(t, cid2, "agent3", "proficiency 3 beats 2, though agent1 is idle longer")
	ce.answer(t, cid2, "agent3")
	ce.hangUp(t, cid1, "agent2")
	ce.hangUp(t, cid2, "agent3")

	// The queue requires nothing now; the call asks for English: agent1
	// (5) beats agent2 (4); agent3 lacks it.
	ce.putVentas(t, map[string]any{"routingStrategy": "skills_best_match"})
	ce.skill(t, "agent1", ingles, 5)
	ce.rest(t, "agent1") // the longest idle is agent2, then agent3
	cid3 := ce.inject(t, "Ventas", "+34600000403", "skillIds", []string{ingles})
	ce.wantRing(t, cid3, "agent1", "English 5 beats 4")
	if c := ce.conv(t, cid3); c.part("acd", "") == nil {
		t.Fatalf("conversation %v", c)
	}
}

// preferred_agent: a preferred agent who is free gets the call; when busy,
// the call waits the queue's preferredAgentWaitSeconds, then anyone takes it.
func TestStrategyPreferredAgent(t *testing.T) {
	ce := startCalls(t)
	a3 := ce.userID(t, "agent3")
	q := ce.putVentas(t, map[string]any{"routingStrategy": "preferred_agent", "preferredAgentWaitSeconds": 20})
	if q["preferredAgentWaitSeconds"] != float64(20) {
		t.Fatalf("queue %v", q)
	}
	ws := ce.socket(t, "agent3", userTopics(a3)...)
	ce.agentsOnQueue(t, "agent1", "agent2", "agent3")
	cid := ce.inject(t, "Ventas", "+34600000501", "preferredAgentIds", []string{a3})
	ce.wantRing(t, cid, "agent3", "the preferred agent is free")
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a3) == "alerting" })
	ce.answer(t, cid, "agent3")
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a3) == "connected" })
	ws.status(a3, "INTERACTING")
	ws.inOrder(statusStep(a3, "IDLE"), statusStep(a3, "INTERACTING"), convStep(cid, a3, "alerting"), convStep(cid, a3, "connected"))
	if got := ws.statuses(a3); !slices.Equal(got, []string{"IDLE", "INTERACTING"}) {
		t.Errorf("agent3's routing statuses %v", got)
	}

	// agent3 is busy: the next call that prefers agent3 waits 20 s for them.
	cid2 := ce.inject(t, "Ventas", "+34600000502", "preferredAgentIds", []string{a3})
	ce.wantWaiting(t, cid2, ce.ventas, "agent3 is busy")
	ce.advance(t, 19*time.Second)
	ce.wantWaiting(t, cid2, ce.ventas, "after 19 s of the 20 s wait")
	ce.advance(t, time.Second)
	ce.wantRing(t, cid2, "agent1", "after the wait, the longest idle")

	// A call preferring nobody in particular goes to the longest idle at once.
	cid3 := ce.inject(t, "Ventas", "+34600000503")
	ce.wantRing(t, cid3, "agent2", "no preference")
}

// bullseye: first only agents with a high proficiency in the required
// skill; each ring's time in queue lets lower proficiencies in.
func TestStrategyBullseye(t *testing.T) {
	ce := startCalls(t)
	ventasSkill := ce.findID(t, "/api/v2/routing/skills", "Ventas")
	rings := []map[string]any{{"afterSeconds": 0, "minProficiency": 5}, {"afterSeconds": 10, "minProficiency": 3}, {"afterSeconds": 20, "minProficiency": 0}}
	q := ce.putVentas(t, map[string]any{"routingStrategy": "bullseye", "skillIds": []string{ventasSkill}, "bullseye": map[string]any{"rings": rings}})
	if b, _ := q["bullseye"].(map[string]any); len(b["rings"].([]any)) != 3 {
		t.Fatalf("queue %v", q)
	}
	ce.skill(t, "agent1", ventasSkill, 1)
	ce.skill(t, "agent2", ventasSkill, 5)
	ce.skill(t, "agent3", ventasSkill, 3)
	ce.agentsOnQueue(t, "agent1", "agent3", "agent2") // agent2 idle the shortest
	cid1 := ce.inject(t, "Ventas", "+34600000601")
	ce.wantRing(t, cid1, "agent2", "ring 0: proficiency 5 only")
	ce.answer(t, cid1, "agent2")

	cid2 := ce.inject(t, "Ventas", "+34600000602")
	ce.wantWaiting(t, cid2, ce.ventas, "ring 0, the only 5 is busy")
	ce.advance(t, 9*time.Second)
	ce.wantWaiting(t, cid2, ce.ventas, "9 s: still ring 0")
	ce.advance(t, time.Second)
	ce.wantRing(t, cid2, "agent3", "10 s: ring 1 lets proficiency 3 in")
	ce.answer(t, cid2, "agent3")

	cid3 := ce.inject(t, "Ventas", "+34600000603")
	ce.advance(t, 19*time.Second)
	ce.wantWaiting(t, cid3, ce.ventas, "19 s: ring 1, agent1 has 1")
	ce.advance(t, time.Second)
	ce.wantRing(t, cid3, "agent1", "20 s: ring 2 lets everyone in")
}

// skillEvaluationMethod ALL: an agent lacking a required skill is never
// offered the call, however long it waits; BEST lets anyone take it.
func TestSkillEvaluationAll(t *testing.T) {
	ce := startCalls(t)
	ingles := ce.findID(t, "/api/v2/routing/skills", "Inglés") // agent2 only, among Ventas's members
	a1, a3 := ce.userID(t, "agent1"), ce.userID(t, "agent3")
	ce.putVentas(t, map[string]any{"routingStrategy": "longest_idle", "skillEvaluationMethod": "ALL", "skillIds": []string{ingles}})
	ce.agentsOnQueue(t, "agent1", "agent3", "agent2")
	cid1 := ce.inject(t, "Ventas", "+34600000701")
	ce.wantRing(t, cid1, "agent2", "the only one with English")
	ce.answer(t, cid1, "agent2")

	cid2 := ce.inject(t, "Ventas", "+34600000702")
	for range 5 {
		ce.advance(t, time.Minute)
		ce.wantWaiting(t, cid2, ce.ventas, "agent1 and agent3 lack English")
	}
	if got := ce.offeredTo(t, cid2); len(got) != 0 {
		t.Fatalf("offered to %v", got)
	}
	ce.wantStatus(t, "agent1", "IDLE")
	ce.wantStatus(t, "agent3", "IDLE")

	// BEST: anyone may take it; the waiting call goes out at once.
	ce.putVentas(t, map[string]any{"routingStrategy": "longest_idle", "skillEvaluationMethod": "BEST", "skillIds": []string{ingles}})
	ce.wantRing(t, cid2, "agent1", "BEST, then the longest idle")
	if got := ce.offeredTo(t, cid2); !slices.Equal(got, []string{a1}) || slices.Contains(got, a3) {
		t.Fatalf("offered to %v", got)
	}
}

// Priority: a later call with a higher priority is offered before earlier
// normal ones; equal priorities go by arrival.
func TestPriority(t *testing.T) {
	ce := startCalls(t)
	early := ce.inject(t, "Ventas", "+34600000801")
	ce.advance(t, 5*time.Second)
	urgent := ce.inject(t, "Ventas", "+34600000802", "priority", 10)
	ce.advance(t, 5*time.Second)
	late := ce.inject(t, "Ventas", "+34600000803")
	ce.wantWaiting(t, early, ce.ventas, "nobody on queue")
	ce.onQueue(t, "agent1", "1001")
	ce.wantRing(t, urgent, "agent1", "priority 10 first")
	ce.answer(t, urgent, "agent1")
	ce.onQueue(t, "agent2", "1002")
	ce.wantRing(t, early, "agent2", "then the earliest")
	ce.answer(t, early, "agent2")
	ce.onQueue(t, "agent3", "1003")
	ce.wantRing(t, late, "agent3", "then the next")
}

// A call an agent places to a queue carries the platform's priority and
// routingSkillsIds: agent3, who lacks English, is passed over; agent2 gets
// it before an earlier call.
func TestPlacedCallToQueueCarriesPriorityAndSkills(t *testing.T) {
	ce := startCalls(t)
	ingles := ce.findID(t, "/api/v2/routing/skills", "Inglés")
	a5 := ce.userID(t, "agent5")
	ce.loggedIn(t, "agent5", "1005")
	first := ce.inject(t, "Ventas", "+34600000901")
	ce.advance(t, time.Second)
	second := ce.inject(t, "Ventas", "+34600000902")
	ce.advance(t, time.Second)
	placed := ce.must(t, 200, "POST", "/api/v2/conversations/calls", ce.token(t, "agent5"),
		map[string]any{"callQueueId": ce.ventas, "priority": 5, "routingSkillsIds": []string{ingles}}).obj(t)["id"].(string)
	ce.wantWaiting(t, placed, ce.ventas, "nobody on queue")
	if ce.conv(t, placed).state("user", a5) != "connected" {
		t.Fatalf("agent5's own leg: %v", ce.conv(t, placed))
	}
	ce.onQueue(t, "agent3", "1003")
	ce.wantRing(t, first, "agent3", "agent3 lacks English: the earliest other call")
	ce.answer(t, first, "agent3")
	ce.onQueue(t, "agent2", "1002")
	ce.wantRing(t, placed, "agent2", "priority 5 before the earlier call")
	ce.answer(t, placed, "agent2")
	ce.wantWaiting(t, second, ce.ventas, "everyone busy")
}

// Overflow: a call still waiting after the queue's overflow time moves to
// the other queue, whose agent gets it; the agent's socket sees it.
func TestOverflow(t *testing.T) {
	ce := startCalls(t)
	a4 := ce.userID(t, "agent4")
	q := ce.putVentas(t, map[string]any{"overflow": map[string]any{"afterSeconds": 30, "queueId": ce.soporte}})
	if o, _ := q["overflow"].(map[string]any); o["afterSeconds"] != float64(30) || o["queueId"] != ce.soporte {
		t.Fatalf("queue %v", q)
	}
	ws := ce.socket(t, "agent4", userTopics(a4)...)
	ce.loggedIn(t, "agent1", "1001") // a Ventas member, but off queue
	ce.onQueue(t, "agent4", "1004")  // Soporte only
	cid := ce.inject(t, "Ventas", "+34600001001")
	ce.wantWaiting(t, cid, ce.ventas, "nobody on Ventas")
	ce.advance(t, 29*time.Second)
	ce.wantWaiting(t, cid, ce.ventas, "after 29 s")
	ce.advance(t, time.Second)
	ce.wantRing(t, cid, "agent4", "after 30 s in Soporte")
	c := ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "alerting" })
	var queues []string
	for _, p := range c.parts() {
		if p["purpose"] == "acd" {
			qr, _ := p["queue"].(map[string]any)
			queues = append(queues, fmt.Sprintf("%v %v %v", qr["name"], p["state"], p["disconnectType"]))
		}
	}
	if !slices.Equal(queues, []string{"Ventas disconnected transfer", "Soporte connected <nil>"}) {
		t.Errorf("acd participants %v", queues)
	}
	if qr, _ := c.part("agent", a4)["queue"].(map[string]any); qr["id"] != ce.soporte {
		t.Errorf("agent4's offer comes from %v", qr)
	}
	ce.answer(t, cid, "agent4")
	ws.conv(cid, ".conversations", func(c conv) bool { return c.state("agent", a4) == "connected" })
	ws.inOrder(statusStep(a4, "IDLE"), statusStep(a4, "INTERACTING"), convStep(cid, a4, "alerting"), convStep(cid, a4, "connected"))
	if got := ws.statuses(a4); !slices.Equal(got, []string{"IDLE", "INTERACTING"}) {
		t.Errorf("agent4's routing statuses %v", got)
	}

	// Deleting the overflow queue leaves Ventas without overflow.
	other := ce.must(t, 200, "POST", "/api/v2/routing/queues", ce.token(t, pAdmin), map[string]any{"name": "Desborde"}).obj(t)["id"].(string)
	ce.putVentas(t, map[string]any{"overflow": map[string]any{"afterSeconds": 30, "queueId": other}})
	ce.must(t, 204, "DELETE", "/api/v2/routing/queues/"+other, ce.token(t, pAdmin), nil)
	if q := ce.must(t, 200, "GET", "/api/v2/routing/queues/"+ce.ventas, ce.token(t, pAdmin), nil).obj(t); q["overflow"] != nil {
		t.Errorf("overflow after deleting its queue: %v", q["overflow"])
	}
}
