package routing_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/routing"
)

func TestStrategiesMatchDirectory(t *testing.T) {
	var got []string
	for _, s := range routing.Strategies {
		got = append(got, string(s))
	}
	if !slices.Equal(got, directory.RoutingStrategies) {
		t.Fatalf("routing %v, directory %v", got, directory.RoutingStrategies)
	}
}

func TestLongestIdle(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.LongestIdle, AlertingTimeout: 10 * time.Second})
	for _, a := range []string{"a", "b", "c"} {
		h.agent(a, "q", nil)
	}
	h.available("c", "a", "b")
	h.enqueue("i1", "q", 0)
	h.expect("offer i1 c")
	h.e.Accept("i1", "c")
	h.enqueue("i2", "q", 0)
	h.enqueue("i3", "q", 0)
	h.enqueue("i4", "q", 0)
	h.expect("offer i2 a", "offer i3 b")
	h.e.SetAvailable("c", true)
	h.expect("offer i4 c")
	// Making an idle agent available again does not reset its idle time.
	h.e.Accept("i2", "a")
	h.e.Accept("i3", "b")
	h.e.Accept("i4", "c")
	h.available("b", "a")
	h.e.SetAvailable("b", true)
	h.enqueue("i5", "q", 0)
	h.expect("offer i5 b")
}

func TestLeastOccupied(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.LeastOccupied})
	h.agent("a", "q", nil)
	h.agent("b", "q", nil)
	h.available("a", "b")
	h.enqueue("i1", "q", 0)
	h.enqueue("i2", "q", 0)
	h.expect("offer i1 a", "offer i2 b")
	h.e.Accept("i1", "a")
	h.e.Accept("i2", "b")
	h.advance(time.Minute)
	h.e.Complete("i2", "b") // b busy 1 min
	h.advance(9 * time.Minute)
	h.e.Complete("i1", "a") // a busy 10 min
	h.e.Complete("i1", "a") // a late duplicate changes nothing
	h.available("a", "b")   // a is now the longest idle
	h.enqueue("i3", "q", 0)
	h.expect("offer i3 b")
	h.enqueue("i4", "q", 0)
	h.expect("offer i4 a")

	// The window rolls: 30 minutes busy five hours ago weigh less than two
	// minutes busy just now.
	h2 := newHarness(t)
	h2.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.LeastOccupied})
	h2.agent("old", "q", nil)
	h2.agent("new", "q", nil)
	h2.available("old")
	h2.enqueue("x", "q", 0)
	h2.expect("offer x old")
	h2.e.Accept("x", "old")
	h2.advance(30 * time.Minute)
	h2.e.Complete("x", "old")
	h2.advance(5 * time.Hour)
	h2.available("new")
	h2.enqueue("y", "q", 0)
	h2.expect("offer y new")
	h2.e.Accept("y", "new")
	h2.advance(2 * time.Minute)
	h2.available("new", "old") // new is longer idle and was busy for less in total
	h2.enqueue("z", "q", 0)
	h2.expect("offer z old")
}

func TestRoundRobin(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.RoundRobin})
	for _, a := range []string{"a", "b", "c"} {
		h.agent(a, "q", nil)
	}
	h.available("c", "b", "a") // idle order is the reverse of the rotation
	var got []string
	for i := range 7 {
		id := "i" + string(rune('0'+i))
		h.enqueue(id, "q", 0)
		h.sync()
		log := h.rec.take()
		if len(log) != 1 {
			t.Fatalf("%s: %v", id, log)
		}
		got = append(got, log[0])
		agent := log[0][len(log[0])-1:]
		h.cycle(id, agent)
		if i == 3 {
			h.e.SetAvailable("c", false) // c leaves: the rotation skips it
		}
		if i == 5 {
			h.e.SetAvailable("c", true)
		}
	}
	want := offers("i0 a", "i1 b", "i2 c", "i3 a", "i4 b", "i5 a", "i6 c")
	if !slices.Equal(got, want) {
		t.Fatalf("rotation %q, want %q", got, want)
	}
}

func TestSkillsBestMatch(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.SkillsBestMatch, SkillEvaluation: routing.EvaluateAll})
	h.agent("x", "q", map[string]float64{"es": 2})
	h.agent("y", "q", map[string]float64{"es": 5})
	h.agent("z", "q", map[string]float64{"es": 5, "en": 1})
	h.agent("w", "q", map[string]float64{"en": 5})
	h.available("x", "y", "z", "w")
	h.enqueue("i1", "q", 0, "es")
	h.expect("offer i1 y") // best proficiency; z ties but is less long idle
	h.enqueue("i2", "q", 0, "es")
	h.expect("offer i2 z")
	h.enqueue("i3", "q", 0, "es", "en") // only z has both, and it is alerting
	h.expect()
	h.enqueue("i4", "q", 0, "es")
	h.expect("offer i4 x")
	h.enqueue("i5", "q", 0, "es")
	h.expect() // w lacks es (ALL)
	h.e.Decline("i2", "z")
	h.expect() // z is unavailable; i2 waits ahead of i5
	h.e.SetAvailable("z", true)
	h.expect("offer i2 z") // i2 ranks before i3 (both z may take)
	if p, _ := h.position("i3"); p != 1 {
		t.Fatalf("i3 position %d", p)
	}
	// A skill added to w makes it eligible at once.
	h.agent("w", "q", map[string]float64{"en": 5, "es": 1})
	h.expect("offer i3 w")
}

func TestSkillEvaluation(t *testing.T) {
	for _, tc := range []struct {
		eval string
		want []string
	}{
		// a: es 1, longest idle; b: es 4; c: no es.
		{routing.EvaluateAll, offers("i1 a", "i2 b")},
		{routing.EvaluateBest, offers("i1 b", "i2 a", "i3 c")},
		{routing.EvaluateNone, offers("i1 a", "i2 c", "i3 b")},
	} {
		t.Run(tc.eval, func(t *testing.T) {
			h := newHarness(t)
			h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.LongestIdle, SkillEvaluation: tc.eval})
			h.agent("a", "q", map[string]float64{"es": 1})
			h.agent("b", "q", map[string]float64{"es": 4})
			h.agent("c", "q", nil)
			h.available("a", "c", "b")
			h.enqueue("i1", "q", 0, "es")
			h.enqueue("i2", "q", 0, "es")
			h.enqueue("i3", "q", 0, "es")
			h.expect(tc.want...)
		})
	}
}

func TestPreferredAgent(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.PreferredAgent, PreferredAgentWait: 30 * time.Second, AlertingTimeout: time.Minute})
	for _, a := range []string{"a", "b", "p"} {
		h.agent(a, "q", nil)
	}
	h.available("a", "b", "p")
	pref := func(id string, agents ...string) {
		h.e.Enqueue(routing.Interaction{ID: id, QueueID: "q", PreferredAgents: agents})
	}
	pref("i1", "p", "ghost")
	h.expect("offer i1 p") // a and b are longer idle
	h.e.Accept("i1", "p")
	pref("i2", "p")
	h.advance(10 * time.Second)
	h.expect() // a and b idle, but i2 waits for p
	if p, w := h.position("i2"); p != 1 || w != 3*time.Minute/3 {
		t.Fatalf("i2 position %d, wait %v", p, w)
	}
	h.e.SetAvailable("p", true)
	h.expect("offer i2 p")
	h.e.Accept("i2", "p")
	pref("i3", "p")
	h.advance(29 * time.Second)
	h.expect()
	h.advance(time.Second)
	h.expect("offer i3 a") // the wait is over: the longest idle takes it

	// A preferred agent who frees up takes its preferred interaction before
	// an older one.
	h.e.Accept("i3", "a")
	h.enqueue("old", "q", 0)
	h.expect("offer old b")
	h.e.Accept("old", "b")
	h.enqueue("older", "q", 5)
	pref("mine", "p")
	h.e.SetAvailable("p", true)
	h.expect("offer mine p")

	// With no wait the interaction goes to anyone at once.
	h.e.SetQueue(routing.Queue{ID: "now", Strategy: routing.PreferredAgent})
	h.agent("d", "now", nil)
	h.available("d")
	h.e.Enqueue(routing.Interaction{ID: "i4", QueueID: "now", PreferredAgents: []string{"p"}})
	h.expect("offer i4 d")
}

func TestBullseyeWidens(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", Strategy: routing.Bullseye, SkillEvaluation: routing.EvaluateAll, AlertingTimeout: time.Minute,
		// Out of order and with a ring that would narrow: the engine sorts
		// the rings and keeps thresholds non-increasing.
		Bullseye: []routing.Ring{{After: 20 * time.Second, MinProficiency: 0}, {MinProficiency: 5}, {After: 10 * time.Second, MinProficiency: 3}, {After: 15 * time.Second, MinProficiency: 4}}})
	h.agent("hi", "q", map[string]float64{"es": 5})
	h.agent("mid", "q", map[string]float64{"es": 3})
	h.agent("low", "q", map[string]float64{"es": 1})
	h.agent("none", "q", nil)
	h.available("mid", "low", "none")
	start := h.clk.Now()
	h.enqueue("i1", "q", 0, "es")
	h.advance(9 * time.Second)
	h.expect() // ring 0: proficiency 5 only
	h.advance(time.Second)
	h.expect("offer i1 mid")
	if got := h.clk.Now().Sub(start); got != 10*time.Second {
		t.Fatalf("widened after %v", got)
	}
	h.e.Decline("i1", "mid")
	h.advance(9 * time.Second)
	h.expect() // ring 2 (4 → kept at 3): low is still out
	h.advance(time.Second)
	h.expect("offer i1 low") // ring 3: anyone with es (ALL keeps "none" out)
	h.e.Accept("i1", "low")
	// An expert takes a new one at once.
	h.available("hi")
	h.enqueue("i2", "q", 0, "es")
	h.expect("offer i2 hi")
	// No skills required: everyone is in ring 0.
	h.enqueue("i3", "q", 0)
	h.expect("offer i3 none")
}

func TestPriorityThenFIFO(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q"})
	h.agent("a", "q", nil)
	h.enqueue("l1", "q", 0)
	h.e.Enqueue(routing.Interaction{ID: "l2", QueueID: "q", EnqueuedAt: h.clk.Now().Add(-5 * time.Second)})
	h.enqueue("h1", "q", 5)
	same := h.clk.Now().Add(time.Second)
	h.e.Enqueue(routing.Interaction{ID: "l3", QueueID: "q", EnqueuedAt: same})
	h.e.Enqueue(routing.Interaction{ID: "l4", QueueID: "q", EnqueuedAt: same})
	want := []string{"h1", "l2", "l1", "l3", "l4"}
	for i, id := range want {
		if p, _ := h.position(id); p != i+1 {
			t.Fatalf("%s at %d, want %d", id, p, i+1)
		}
	}
	var got []string
	for range want {
		h.e.SetAvailable("a", true)
		o := h.lastOffer()
		got = append(got, o.InteractionID)
		h.e.Accept(o.InteractionID, "a")
	}
	if !slices.Equal(got, want) {
		t.Fatalf("served %v, want %v", got, want)
	}
}

func TestAlertingTimeoutReroutes(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", AlertingTimeout: 8 * time.Second})
	h.agent("a", "q", nil)
	h.agent("b", "q", nil)
	h.available("a", "b")
	h.enqueue("i1", "q", 0)
	h.expect("offer i1 a")
	h.advance(7 * time.Second)
	h.expect()
	h.enqueue("i2", "q", 0)
	h.expect("offer i2 b")
	h.advance(time.Second)
	h.expect("timeout i1 a") // b is alerting: i1 waits, ahead of nobody
	if st := h.status("a"); st != routing.StatusNotResponding {
		t.Fatalf("a is %s", st)
	}
	h.advance(7 * time.Second)
	h.expect("timeout i2 b")
	if p, _ := h.position("i1"); p != 1 {
		t.Fatalf("i1 lost its place: %d", p)
	}
	h.e.SetAvailable("b", true)
	h.expect("offer i1 b")
	o := h.lastOffer()
	if o.Attempt != 2 || o.Timeout != 8*time.Second || o.QueueID != "q" {
		t.Fatalf("offer %+v", o)
	}
	// A timeout with another agent idle re-routes at once.
	h.e.SetAvailable("a", true)
	h.expect("offer i2 a")
	h.advance(8 * time.Second)
	h.expect("timeout i1 b", "timeout i2 a")
	h.e.Accept("i1", "b") // too late
	h.expect()
	if st := h.status("b"); st != routing.StatusNotResponding {
		t.Fatalf("b is %s", st)
	}
}

func TestDecline(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", AlertingTimeout: 20 * time.Second})
	h.agent("a", "q", nil)
	h.agent("b", "q", nil)
	h.available("a")
	h.enqueue("i1", "q", 0)
	h.enqueue("i2", "q", 0)
	h.expect("offer i1 a")
	h.e.Decline("i1", "b") // not b's offer
	h.expect()
	h.e.Decline("i1", "a")
	h.e.Decline("i1", "a") // twice
	h.expect()
	if p, _ := h.position("i1"); p != 1 {
		t.Fatalf("i1 position %d", p)
	}
	if st := h.status("a"); st != routing.StatusNotResponding {
		t.Fatalf("a is %s", st)
	}
	h.available("b")
	h.expect("offer i1 b")
	h.advance(time.Minute) // the declined offer's timer was cancelled: only b's fires
	h.expect("timeout i1 b")
	h.e.SetAvailable("a", true)
	h.expect("offer i1 a")
}

func TestDequeue(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", AlertingTimeout: 10 * time.Second})
	h.agent("a", "q", nil)
	h.enqueue("i1", "q", 0)
	h.enqueue("i2", "q", 0)
	h.enqueue("i3", "q", 0)
	h.e.Dequeue("i1") // waiting
	h.expect()
	if p, _ := h.position("i2"); p != 1 {
		t.Fatalf("i2 position %d", p)
	}
	if _, _, err := h.e.Position(h.ctx, "i1"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("i1: %v", err)
	}
	h.available("a")
	h.expect("offer i2 a")
	if p, _ := h.position("i2"); p != 0 {
		t.Fatalf("offered position %d", p)
	}
	h.e.Dequeue("i2") // offered: a is free and takes the next one
	h.expect("offer i3 a")
	h.e.Accept("i2", "a") // late
	h.advance(10 * time.Second)
	h.expect("timeout i3 a") // only i3's offer was pending
	if st := h.stats("q"); st.Abandoned != 2 || st.Waiting != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOverflow(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "A", OverflowAfter: 30 * time.Second, OverflowQueue: "B", AlertingTimeout: time.Minute})
	h.e.SetQueue(routing.Queue{ID: "B", AlertingTimeout: time.Minute})
	h.agent("y", "B", nil)
	h.enqueue("i1", "A", 0)
	h.advance(10 * time.Second)
	h.enqueue("i2", "B", 0)
	h.advance(19 * time.Second)
	h.expect()
	h.advance(time.Second)
	h.expect("overflow i1 A B")
	// i1 keeps its EnqueuedAt: it ranks ahead of i2, who came later.
	if p, _ := h.position("i1"); p != 1 {
		t.Fatalf("i1 position %d", p)
	}
	if p, _ := h.position("i2"); p != 2 {
		t.Fatalf("i2 position %d", p)
	}
	if st := h.stats("A"); st.Overflowed != 1 || st.Waiting != 0 || st.ServiceLevel != 1 {
		t.Fatalf("A %+v", st)
	}
	if st := h.stats("B"); st.LongestWait != 20*time.Second {
		t.Fatalf("B longest wait %v", st.LongestWait) // i2's 20 s; i1 is 0 s into B
	}
	h.available("y")
	h.expect("offer i1 y")

	// Overflow while offered waits for the offer to end.
	h.agent("x", "A", nil)
	h.available("x")
	h.enqueue("i3", "A", 0)
	h.expect("offer i3 x")
	h.advance(40 * time.Second)
	h.expect()
	h.e.Accept("i1", "y")
	h.e.SetAvailable("y", true)
	h.expect("offer i2 y")
	h.advance(20 * time.Second)
	h.expect("timeout i3 x", "overflow i3 A B") // y is alerting with i2
	if p, _ := h.position("i3"); p != 1 {
		t.Fatalf("i3 position %d", p)
	}
	h.e.Decline("i2", "y")
	h.e.SetAvailable("y", true)
	h.expect("offer i2 y") // i2 has waited longer than i3
}

func TestAgentRemovedWhileOffered(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", AlertingTimeout: 10 * time.Second})
	h.agent("a", "q", nil)
	h.agent("b", "q", nil)
	h.available("a", "b")
	h.enqueue("i1", "q", 0)
	h.expect("offer i1 a")
	h.e.RemoveAgent("a")
	h.expect("withdrawn i1 a", "offer i1 b")
	h.e.Accept("i1", "a")
	h.e.SetAvailable("a", true)
	h.e.RemoveAgent("a")
	h.advance(10 * time.Second)
	h.expect("timeout i1 b")
	if _, err := h.e.AgentState(h.ctx, "a"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatal(err)
	}
	// Leaving the queue or going unavailable while alerting withdraws too.
	h.agent("c", "q", nil)
	h.available("c")
	h.expect("offer i1 c")
	h.agent("c", "other", nil)
	h.expect("withdrawn i1 c")
	h.agent("c", "q", nil)
	h.expect("offer i1 c")
	h.e.SetAvailable("c", false)
	h.expect("withdrawn i1 c")
	if st := h.status("c"); st != routing.StatusOffQueue {
		t.Fatalf("c is %s", st)
	}
}

func TestQueueRemoved(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q1"})
	h.e.SetQueue(routing.Queue{ID: "q2"})
	h.agent("a", "q1 q2", nil)
	h.available("a")
	h.enqueue("i1", "q1", 5)
	h.expect("offer i1 a")
	h.enqueue("i3", "q1", 0)
	h.enqueue("i2", "q2", 0)
	h.e.RemoveQueue("q1")
	h.expect("withdrawn i1 a", "dropped i1 q1", "dropped i3 q1", "offer i2 a")
	h.enqueue("i4", "q1", 0)
	h.expect("dropped i4 q1")
	if _, err := h.e.QueueStats(h.ctx, "q1"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatal(err)
	}
	// The membership stays: the queue set again takes a's work.
	h.e.Accept("i2", "a")
	h.e.SetAvailable("a", true)
	h.e.SetQueue(routing.Queue{ID: "q1"})
	h.enqueue("i5", "q1", 0)
	h.expect("offer i5 a")
}

func TestPositionAndEstimatedWait(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q"})
	if st := h.stats("q"); st.EstimatedWait != routing.Unknown || st.AverageHandleTime != routing.DefaultHandleTime {
		t.Fatalf("empty queue %+v", st)
	}
	h.agent("a", "q", nil)
	h.agent("b", "q", nil)
	h.available("a", "b")
	if st := h.stats("q"); st.EstimatedWait != 0 || st.AgentsAvailable != 2 {
		t.Fatalf("idle agents %+v", st)
	}
	for _, id := range []string{"i1", "i2", "i3", "i4", "i5"} {
		h.enqueue(id, "q", 0)
	}
	h.e.Accept("i1", "a")
	h.e.Accept("i2", "b")
	h.sync()
	// k × AHT / N, AHT 3 min by default, N = 2 agents interacting.
	if p, w := h.position("i4"); p != 2 || w != 3*time.Minute {
		t.Fatalf("i4: %d %v", p, w)
	}
	st := h.stats("q")
	if st.Waiting != 3 || st.AgentsOnQueue != 2 || st.AgentsAvailable != 0 || st.EstimatedWait != 6*time.Minute {
		t.Fatalf("stats %+v", st)
	}
	h.advance(60 * time.Second)
	h.e.Complete("i1", "a")
	h.e.SetAvailable("a", true) // takes i3
	h.sync()
	if p, w := h.position("i5"); p != 2 || w != 60*time.Second {
		t.Fatalf("i5 after a 60 s handle time: %d %v", p, w)
	}
	if st := h.stats("q"); st.AverageHandleTime != time.Minute || st.Alerting != 1 || st.LongestWait != 60*time.Second {
		t.Fatalf("stats %+v", st)
	}
	h.e.SetAvailable("a", false)
	h.e.RemoveAgent("b")
	if _, w := h.position("i5"); w != routing.Unknown {
		t.Fatalf("nobody on queue: %v", w)
	}
}

func TestServiceLevel(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", ServiceLevel: 0.8, ServiceLevelTarget: 20 * time.Second})
	h.agent("a", "q", nil)
	for _, id := range []string{"i1", "i2", "i3", "i4"} {
		h.enqueue(id, "q", 0)
	}
	h.advance(5 * time.Second)
	h.e.Dequeue("i3") // abandoned within the target: not counted
	h.advance(5 * time.Second)
	h.e.SetAvailable("a", true)
	h.e.Accept("i1", "a") // answered at 10 s
	h.advance(20 * time.Second)
	h.e.SetAvailable("a", true)
	h.e.Accept("i2", "a") // answered at 30 s
	h.advance(10 * time.Second)
	h.e.Dequeue("i4") // abandoned at 40 s
	st := h.stats("q")
	if st.Answered != 2 || st.AnsweredInTarget != 1 || st.Abandoned != 2 || st.AbandonedAfterTarget != 1 ||
		math.Abs(st.ServiceLevel-1.0/3) > 1e-9 || st.ServiceLevelGoal != 0.8 || st.ServiceLevelTarget != 20*time.Second {
		t.Fatalf("stats %+v", st)
	}
	h.advance(routing.ServiceLevelWindow - time.Minute)
	if st := h.stats("q"); st.Answered != 2 {
		t.Fatalf("still in the window: %+v", st)
	}
	h.advance(2 * time.Minute)
	if st := h.stats("q"); st.Answered != 0 || st.Abandoned != 0 || st.ServiceLevel != 1 {
		t.Fatalf("after the window: %+v", st)
	}
}

func TestSetQueueReroutes(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q", SkillEvaluation: routing.EvaluateAll})
	h.agent("a", "q", nil)
	h.available("a")
	h.enqueue("i1", "q", 0, "fr")
	h.expect()
	h.e.SetQueue(routing.Queue{ID: "q", SkillEvaluation: routing.EvaluateNone})
	h.expect("offer i1 a")
	// A new overflow rule applies to interactions already waiting.
	h.e.SetQueue(routing.Queue{ID: "z"})
	h.enqueue("i2", "q", 0)
	h.advance(time.Minute)
	h.e.SetQueue(routing.Queue{ID: "q", OverflowAfter: 30 * time.Second, OverflowQueue: "z"})
	h.expect("overflow i2 q z")
}

func TestAgentInSeveralQueues(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q1"})
	h.e.SetQueue(routing.Queue{ID: "q2"})
	h.agent("a", "q1 q2", nil)
	h.enqueue("i1", "q1", 0)
	h.advance(time.Second)
	h.enqueue("i2", "q2", 1)
	h.advance(time.Second)
	h.enqueue("i3", "q2", 0)
	h.e.SetAvailable("a", true)
	h.expect("offer i2 a") // priority first
	h.cycle("i2", "a")
	h.expect("offer i1 a") // then the longest waiting, whatever the queue
	h.cycle("i1", "a")
	h.expect("offer i3 a")
}

func TestIgnoredInputs(t *testing.T) {
	h := newHarness(t)
	h.e.SetQueue(routing.Queue{ID: "q"})
	h.e.SetAvailable("ghost", true)
	h.e.Accept("nope", "ghost")
	h.e.Decline("nope", "ghost")
	h.e.Complete("nope", "ghost")
	h.e.Dequeue("nope")
	h.e.RemoveAgent("ghost")
	h.e.RemoveQueue("nope")
	h.e.Enqueue(routing.Interaction{ID: "", QueueID: "q"})
	h.e.SetAgent(routing.Agent{})
	h.e.SetQueue(routing.Queue{})
	h.agent("a", "q", nil)
	h.enqueue("i1", "q", 0)
	h.enqueue("i1", "q", 9) // duplicate id
	h.available("a")
	h.expect("offer i1 a")
	h.e.SetAvailable("a", true) // twice
	h.expect()
	if st := h.stats("q"); st.Alerting != 1 || st.Waiting != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRealClock(t *testing.T) {
	events := make(chan string, 10)
	d := chanDecisions(events)
	e := routing.New(clock.Real{}, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	e.SetQueue(routing.Queue{ID: "q", AlertingTimeout: time.Millisecond})
	e.SetAgent(routing.Agent{ID: "a", Queues: []string{"q"}})
	e.SetAvailable("a", true)
	e.Enqueue(routing.Interaction{ID: "i", QueueID: "q"})
	for _, want := range []string{"offer i a", "timeout i a"} {
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %q: %v", want, ctx.Err())
		}
	}
	cancel()
	<-done
	if err := e.Sync(context.Background()); !errors.Is(err, routing.ErrStopped) {
		t.Fatalf("after stop: %v", err)
	}
}

type chanDecisions chan string

func (c chanDecisions) Offer(o routing.Offer)          { c <- "offer " + o.InteractionID + " " + o.AgentID }
func (c chanDecisions) OfferTimedOut(ix, a string)     { c <- "timeout " + ix + " " + a }
func (c chanDecisions) Overflowed(ix, from, to string) { c <- "overflow " + ix }

func TestValidate(t *testing.T) {
	if err := (routing.Queue{ID: "q", Strategy: routing.Bullseye, SkillEvaluation: "BEST"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (routing.Queue{Strategy: "random", SkillEvaluation: "SOME", AlertingTimeout: -1}).Validate(); err == nil {
		t.Fatal("bad queue accepted")
	}
}
