package routing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// The property test drives the engine with long random sequences of inputs
// — in random orders, with duplicates, late events, removals while offers
// are pending — and after every step checks the engine against a model
// kept by the test and against invariants computed from scratch:
//
//   - no agent has two offers, no interaction is offered to two agents, and
//     every offer goes to an available member of the queue that may take it;
//   - the engine's interactions, offers and availability equal the model's,
//     so every offer resolved through accept, decline, timeout, dequeue or a
//     withdrawal the engine reported;
//   - at rest no available, unoffered agent could take a waiting
//     interaction of one of its queues (eligibility recomputed by the test
//     from the configuration: membership, ALL skills, bullseye ring reached,
//     preferred-agent phase);
//   - no waiting interaction is past its overflow deadline;
//   - positions equal a brute-force sort; heaps, indexes and the treap are
//     consistent;
//   - at the end, letting time pass resolves every offer.

// source of choices: a seeded PRNG, or fuzz bytes.
type source interface {
	intn(n int) int
	done() bool
}

type prng struct{ r *rand.Rand }

func (p prng) intn(n int) int { return p.r.IntN(n) }
func (p prng) done() bool     { return false }

type bytesSource struct {
	b []byte
	i int
}

func (s *bytesSource) intn(n int) int {
	if s.i >= len(s.b) {
		return 0
	}
	v := int(s.b[s.i])
	s.i++
	if n > 256 {
		if s.i < len(s.b) {
			v = v<<8 | int(s.b[s.i])
			s.i++
		}
	}
	return v % n
}
func (s *bytesSource) done() bool { return s.i >= len(s.b) }

const (
	nAgents = 8
	nQueues = 4
	nSkills = 4
	nIxs    = 40
)

func agentID(i int) string { return fmt.Sprintf("a%d", i) }
func queueID(i int) string { return fmt.Sprintf("q%d", i) }
func skillID(i int) string { return fmt.Sprintf("s%d", i) }
func ixID(i int) string    { return fmt.Sprintf("i%d", i) }

// model is what the test believes, updated from its own inputs (before
// sending them) and from the engine's callbacks.
type model struct {
	agents  map[string]Agent
	avail   map[string]bool
	queues  map[string]Queue
	ixs     map[string]Interaction // waiting or offered; QueueID follows overflows
	offers  map[string]string      // interaction → agent
	offered map[string]string      // agent → interaction
	errs    []string
	st      *state
	log     []string

	nOffers, nTimeouts, nWithdrawn, nOverflows, nDropped int
}

func newModel() *model {
	return &model{agents: map[string]Agent{}, avail: map[string]bool{}, queues: map[string]Queue{},
		ixs: map[string]Interaction{}, offers: map[string]string{}, offered: map[string]string{}}
}

func (m *model) fail(format string, args ...any) {
	m.errs = append(m.errs, fmt.Sprintf(format, args...))
}

func (m *model) resolve(ix, agent string) {
	delete(m.offers, ix)
	delete(m.offered, agent)
}

// Callbacks (run on the engine goroutine while the test waits in Sync).
func (m *model) Offer(o Offer) {
	m.nOffers++
	m.log = append(m.log, fmt.Sprintf("%d offer %+v", m.st.now, o))
	if a, ok := m.offers[o.InteractionID]; ok {
		m.fail("%s offered to %s while offered to %s", o.InteractionID, o.AgentID, a)
	}
	if ix, ok := m.offered[o.AgentID]; ok {
		m.fail("%s offered %s while alerting %s", o.AgentID, o.InteractionID, ix)
	}
	ix, ok := m.ixs[o.InteractionID]
	if !ok {
		m.fail("offer of unknown %s", o.InteractionID)
	} else if ix.QueueID != o.QueueID {
		m.fail("offer of %s from %s, but it is in %s", o.InteractionID, o.QueueID, ix.QueueID)
	}
	a, ok := m.agents[o.AgentID]
	if !ok || !m.avail[o.AgentID] {
		m.fail("offer to unknown or unavailable %s", o.AgentID)
	} else if !slices.Contains(a.Queues, o.QueueID) {
		m.fail("offer to %s, not a member of %s", o.AgentID, o.QueueID)
	} else if six := m.st.ixs[o.InteractionID]; six != nil {
		// The callback runs on the engine's goroutine: its state is ours to read.
		wait := time.Duration(m.st.now - six.arrived)
		if !eligible(a, ix, m.queues[o.QueueID], wait) {
			m.fail("offer of %s to %s, who may not take it after %v in %+v", o.InteractionID, o.AgentID, wait, m.queues[o.QueueID])
		}
	}
	m.offers[o.InteractionID] = o.AgentID
	m.offered[o.AgentID] = o.InteractionID
}

func (m *model) OfferTimedOut(ix, agent string) {
	m.nTimeouts++
	m.log = append(m.log, fmt.Sprintf("%d timeout %s %s", m.st.now, ix, agent))
	if m.offers[ix] != agent {
		m.fail("timeout of %s/%s, not pending", ix, agent)
	}
	m.resolve(ix, agent)
	if _, ok := m.agents[agent]; ok {
		m.avail[agent] = false
	}
}

func (m *model) OfferWithdrawn(ix, agent string) {
	m.nWithdrawn++
	m.log = append(m.log, fmt.Sprintf("%d withdrawn %s %s", m.st.now, ix, agent))
	if m.offers[ix] != agent {
		m.fail("withdrawal of %s/%s, not pending", ix, agent)
	}
	m.resolve(ix, agent)
}

func (m *model) Overflowed(id, from, to string) {
	m.nOverflows++
	m.log = append(m.log, fmt.Sprintf("%d overflow %s %s %s", m.st.now, id, from, to))
	ix, ok := m.ixs[id]
	if !ok || ix.QueueID != from {
		m.fail("overflow of %s from %s: model has %+v", id, from, ix)
	}
	if _, ok := m.queues[to]; !ok {
		m.fail("overflow of %s to unknown %s", id, to)
	}
	if _, ok := m.offers[id]; ok {
		m.fail("overflow of %s while offered", id)
	}
	ix.QueueID = to
	m.ixs[id] = ix
}

func (m *model) Dropped(id, q string) {
	m.nDropped++
	m.log = append(m.log, fmt.Sprintf("%d dropped %s %s", m.st.now, id, q))
	if _, ok := m.offers[id]; ok {
		m.fail("%s dropped while offered", id)
	}
	if ix, ok := m.ixs[id]; ok {
		if ix.QueueID != q {
			m.fail("%s dropped from %s, but in %s", id, q, ix.QueueID)
		}
		if _, ok := m.queues[q]; ok {
			m.fail("%s dropped from existing queue %s", id, q)
		}
		delete(m.ixs, id)
	}
}

// run is one random sequence.
type run struct {
	t     testing.TB
	src   source
	clk   *clock.Fake
	e     *Engine
	m     *model
	ctx   context.Context
	steps int
	trace []string
}

func newRun(t testing.TB, src source) (*run, func()) {
	clk := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	m := newModel()
	e := New(clk, m)
	m.st = e.st
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	return &run{t: t, src: src, clk: clk, e: e, m: m, ctx: ctx}, func() { cancel(); <-done }
}

func (r *run) pick(n int) int { return r.src.intn(n) }

func (r *run) randQueue(id string) Queue {
	q := Queue{ID: id, Strategy: Strategies[r.pick(len(Strategies))], SkillEvaluation: []string{"NONE", "BEST", "ALL", ""}[r.pick(4)],
		AlertingTimeout: time.Duration(5+r.pick(16)) * time.Second, ServiceLevelTarget: time.Duration(10+r.pick(20)) * time.Second}
	if r.pick(10) < 4 {
		q.OverflowAfter, q.OverflowQueue = time.Duration(20+r.pick(70))*time.Second, queueID(r.pick(nQueues+1))
	}
	if q.Strategy == Bullseye {
		for i := range 1 + r.pick(3) {
			q.Bullseye = append(q.Bullseye, Ring{After: time.Duration(i*10+r.pick(10)) * time.Second, MinProficiency: float64(r.pick(6))})
		}
	}
	if q.Strategy == PreferredAgent && r.pick(3) > 0 {
		q.PreferredAgentWait = time.Duration(1+r.pick(30)) * time.Second
	}
	return q
}

func (r *run) randAgent(id string) Agent {
	a := Agent{ID: id, Skills: map[string]float64{}}
	for i := range nQueues {
		if r.pick(2) == 0 {
			a.Queues = append(a.Queues, queueID(i))
		}
	}
	if r.pick(5) == 0 && len(a.Queues) > 0 {
		a.Queues = append(a.Queues, a.Queues[0]) // duplicate membership
	}
	for i := range nSkills {
		if r.pick(3) > 0 {
			a.Skills[skillID(i)] = float64(r.pick(11)) / 2
		}
	}
	return a
}

func (r *run) randIx() Interaction {
	ix := Interaction{ID: ixID(r.pick(nIxs)), QueueID: queueID(r.pick(nQueues + 1)), Priority: r.pick(3)}
	for range r.pick(3) {
		ix.Skills = append(ix.Skills, skillID(r.pick(nSkills)))
	}
	for range r.pick(3) {
		ix.PreferredAgents = append(ix.PreferredAgents, agentID(r.pick(nAgents+1)))
	}
	switch r.pick(4) {
	case 0:
	case 1:
		ix.EnqueuedAt = r.clk.Now().Add(5 * time.Second) // clock skew
	default:
		ix.EnqueuedAt = r.clk.Now().Add(-time.Duration(r.pick(60)) * time.Second)
	}
	return ix
}

// offerPair returns a pending offer most of the time, else a random pair.
func (r *run) offerPair() (string, string) {
	if len(r.m.offers) > 0 && r.pick(5) > 0 {
		ids := make([]string, 0, len(r.m.offers))
		for id := range r.m.offers {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		id := ids[r.pick(len(ids))]
		return id, r.m.offers[id]
	}
	return ixID(r.pick(nIxs)), agentID(r.pick(nAgents))
}

// step sends one random input, updating the model first.
func (r *run) step() {
	m := r.m
	var op string
	switch k := r.pick(100); {
	case k < 3:
		q := r.randQueue(queueID(r.pick(nQueues)))
		op = fmt.Sprintf("SetQueue %+v", q)
		m.queues[q.ID] = q
		r.e.SetQueue(q)
	case k < 4:
		id := queueID(r.pick(nQueues))
		op = "RemoveQueue " + id
		delete(m.queues, id)
		r.e.RemoveQueue(id)
	case k < 9:
		a := r.randAgent(agentID(r.pick(nAgents)))
		op = fmt.Sprintf("SetAgent %+v", a)
		if _, ok := m.agents[a.ID]; !ok {
			m.avail[a.ID] = false
		}
		m.agents[a.ID] = a
		r.e.SetAgent(a)
	case k < 10:
		id := agentID(r.pick(nAgents))
		op = "RemoveAgent " + id
		delete(m.agents, id)
		delete(m.avail, id)
		r.e.RemoveAgent(id)
	case k < 30:
		id, v := agentID(r.pick(nAgents)), r.pick(10) < 7
		op = fmt.Sprintf("SetAvailable %s %v", id, v)
		if _, ok := m.agents[id]; ok {
			m.avail[id] = v
		}
		r.e.SetAvailable(id, v)
	case k < 48:
		ix := r.randIx()
		op = fmt.Sprintf("Enqueue %+v", ix)
		if _, known := m.ixs[ix.ID]; !known {
			if _, ok := m.queues[ix.QueueID]; ok {
				m.ixs[ix.ID] = ix
			}
		}
		r.e.Enqueue(ix)
	case k < 54:
		id := ixID(r.pick(nIxs))
		if len(m.offers) > 0 && r.pick(2) == 0 {
			id, _ = r.offerPair()
		}
		op = "Dequeue " + id
		if a, ok := m.offers[id]; ok {
			m.resolve(id, a)
		}
		delete(m.ixs, id)
		r.e.Dequeue(id)
	case k < 68:
		ix, a := r.offerPair()
		op = "Accept " + ix + " " + a
		if m.offers[ix] == a {
			m.resolve(ix, a)
			delete(m.ixs, ix)
			m.avail[a] = false
		}
		r.e.Accept(ix, a)
	case k < 76:
		ix, a := r.offerPair()
		op = "Decline " + ix + " " + a
		twice := r.pick(4) == 0
		if m.offers[ix] == a {
			m.resolve(ix, a)
			m.avail[a] = false
		}
		r.e.Decline(ix, a)
		if twice {
			op += " (twice)"
			r.e.Decline(ix, a)
		}
	case k < 80:
		ix, a := ixID(r.pick(nIxs)), agentID(r.pick(nAgents))
		op = "Complete " + ix + " " + a
		r.e.Complete(ix, a)
	default:
		var d time.Duration
		switch r.pick(6) {
		case 0:
			d = 0
		case 1:
			d = time.Duration(1+r.pick(180)) * time.Second
		default:
			d = time.Duration(r.pick(4000)) * time.Millisecond
		}
		op = fmt.Sprintf("Advance %v", d)
		r.clk.Advance(d)
	}
	r.trace = append(r.trace, op)
	if len(r.trace) > 30 {
		r.trace = r.trace[1:]
	}
	r.steps++
	r.check()
}

func (r *run) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("step %d: %s\nlast inputs:\n  %s", r.steps, fmt.Sprintf(format, args...), strings.Join(r.trace, "\n  "))
}

func (r *run) check() {
	r.t.Helper()
	var err error
	if derr := r.e.do(r.ctx, func(s *state) { err = r.invariants(s) }); derr != nil {
		r.t.Fatal(derr)
	}
	if len(r.m.errs) > 0 {
		r.fatalf("callbacks: %s", strings.Join(r.m.errs, "; "))
	}
	if err != nil {
		r.fatalf("%v", err)
	}
}

// eligible is the test's own reading of who may take an interaction.
func eligible(a Agent, ix Interaction, q Queue, wait time.Duration) bool {
	if !slices.Contains(a.Queues, q.ID) {
		return false
	}
	skills := dedupe(ix.Skills)
	eval := q.SkillEvaluation
	if eval != "NONE" && eval != "BEST" {
		eval = "ALL"
	}
	if eval == "ALL" {
		for _, s := range skills {
			if _, ok := a.Skills[s]; !ok {
				return false
			}
		}
	}
	if q.Strategy == Bullseye && len(q.Bullseye) > 0 && len(skills) > 0 {
		rings := slices.Clone(q.Bullseye)
		slices.SortStableFunc(rings, func(x, y Ring) int { return cmp.Compare(x.After, y.After) })
		thr := math.Inf(1)
		for i, ring := range rings {
			if i == 0 || ring.After <= wait {
				thr = min(thr, ring.MinProficiency)
			}
		}
		for _, s := range skills {
			if a.Skills[s] < thr {
				return false
			}
		}
	}
	if q.Strategy == PreferredAgent && wait < q.PreferredAgentWait && len(dedupe(ix.PreferredAgents)) > 0 && !slices.Contains(ix.PreferredAgents, a.ID) {
		return false
	}
	return true
}

func (r *run) invariants(s *state) error {
	m := r.m
	now := r.clk.Now().UnixNano()
	if s.now != now {
		return fmt.Errorf("engine time %d, clock %d", s.now, now)
	}
	// The engine agrees with the model.
	if len(s.ixs) != len(m.ixs) {
		return fmt.Errorf("engine has %d interactions, model %d", len(s.ixs), len(m.ixs))
	}
	for id, mix := range m.ixs {
		ix := s.ixs[id]
		if ix == nil || ix.q.cfg.ID != mix.QueueID {
			return fmt.Errorf("interaction %s: engine %v, model queue %s", id, ix != nil, mix.QueueID)
		}
		want := m.offers[id]
		if got := ""; ix.offered != nil {
			got = ix.offered.id
			if got != want {
				return fmt.Errorf("%s offered to %q, model %q", id, got, want)
			}
		} else if want != "" {
			return fmt.Errorf("%s not offered, model says %s", id, want)
		}
	}
	if len(s.agents) != len(m.agents) {
		return fmt.Errorf("engine has %d agents, model %d", len(s.agents), len(m.agents))
	}
	for ix, agent := range m.offers {
		if !slices.Contains(m.agents[agent].Queues, m.ixs[ix].QueueID) {
			return fmt.Errorf("%s alerting %s, not a member of %s", agent, ix, m.ixs[ix].QueueID)
		}
	}
	for id := range m.agents {
		a := s.agents[id]
		if a == nil || a.avail != m.avail[id] {
			return fmt.Errorf("agent %s availability: model %v", id, m.avail[id])
		}
		if (a.offer != nil) != (m.offered[id] != "") {
			return fmt.Errorf("agent %s offer mismatch", id)
		}
	}
	// Nobody stuck; nothing past its overflow.
	for _, mix := range m.ixs {
		ix := s.ixs[mix.ID]
		if ix.offered != nil {
			continue
		}
		q := m.queues[mix.QueueID]
		wait := time.Duration(now - ix.arrived)
		if q.OverflowAfter > 0 && q.OverflowQueue != "" && q.OverflowQueue != q.ID && wait >= q.OverflowAfter {
			if _, ok := m.queues[q.OverflowQueue]; ok {
				return fmt.Errorf("%s waited %v in %s, overflow after %v to %s", mix.ID, wait, q.ID, q.OverflowAfter, q.OverflowQueue)
			}
		}
		for id, a := range m.agents {
			if m.avail[id] && m.offered[id] == "" && eligible(a, mix, q, wait) {
				return fmt.Errorf("stuck: agent %s is idle and may take %s (%+v) in %+v after %v", id, mix.ID, mix, q, wait)
			}
		}
	}
	// Positions.
	for qid, q := range s.queues {
		var waiting []*ixState
		for _, ix := range q.ixs {
			if ix.offered == nil {
				waiting = append(waiting, ix)
			}
		}
		slices.SortFunc(waiting, func(a, b *ixState) int {
			if ixBefore(a, b) {
				return -1
			}
			return 1
		})
		for i, ix := range waiting {
			if p, _, err := s.position(ix.id); err != nil || p != i+1 {
				return fmt.Errorf("queue %s: %s at position %d, want %d (%v)", qid, ix.id, p, i+1, err)
			}
		}
	}
	return s.check()
}

// check verifies the engine's indexes against its own records.
func (s *state) check() error {
	for i, te := range s.timers {
		if te.idx != i || i > 0 && timerBefore(te, s.timers[(i-1)/2]) {
			return fmt.Errorf("timer heap broken at %d", i)
		}
		if te.at <= s.now {
			return fmt.Errorf("deadline %d not processed at %d", te.at, s.now)
		}
	}
	if len(s.timers) > 0 && (!s.armed || s.armedAt > s.timers[0].at) {
		return fmt.Errorf("earliest deadline %d not armed (armed %v at %d)", s.timers[0].at, s.armed, s.armedAt)
	}
	for id, a := range s.agents {
		if a.offer != nil && (a.offer.offered != a || !a.avail) {
			return fmt.Errorf("agent %s offer links broken", id)
		}
		want := map[*class]int{}
		if a.routable() {
			for _, qid := range a.queues {
				if q := s.queues[qid]; q != nil {
					for _, c := range q.classList {
						if l := c.level(a); l >= 0 {
							want[c] = l
						}
					}
				}
			}
		}
		if len(a.entries) != len(want) {
			return fmt.Errorf("agent %s in %d idle heaps, want %d", id, len(a.entries), len(want))
		}
		for i, e := range a.entries {
			if l, ok := want[e.cls]; !ok || e.aidx != i || e.ag != a || l != e.level {
				return fmt.Errorf("agent %s entry %d wrong", id, i)
			}
			if h := e.cls.idle[e.level]; e.idx >= len(h) || h[e.idx] != e {
				return fmt.Errorf("agent %s entry %d not at its heap index", id, i)
			}
		}
		for _, qid := range a.queues {
			if s.members[qid][id] == nil || s.members[qid][id].ag != a {
				return fmt.Errorf("agent %s membership of %s missing", id, qid)
			}
		}
	}
	for qid, ms := range s.members {
		for id, mb := range ms {
			if s.agents[id] != mb.ag || !slices.Contains(mb.ag.queues, qid) {
				return fmt.Errorf("stale membership %s/%s", qid, id)
			}
		}
	}
	nix := 0
	for qid, q := range s.queues {
		if q.cfg.ID != qid {
			return fmt.Errorf("queue %s has id %s", qid, q.cfg.ID)
		}
		placed := map[*class]int{}
		waiting, inPQ := 0, 0
		for i, ix := range q.ixs {
			nix++
			if ix.qidx != i || ix.q != q || s.ixs[ix.id] != ix {
				return fmt.Errorf("%s: queue links broken", ix.id)
			}
			if ix.overflowT.idx >= 0 && (q.cfg.OverflowQueue == "" || ix.overflowDue) {
				return fmt.Errorf("%s: overflow deadline %v, due %v", ix.id, ix.overflowT.idx >= 0, ix.overflowDue)
			}
			if ix.offered != nil {
				if ix.inTreap || ix.inPQ || ix.inPref || ix.offered.offer != ix {
					return fmt.Errorf("%s: offered but placed", ix.id)
				}
				if (q.cfg.AlertingTimeout > 0) != (ix.alertT.idx >= 0) {
					return fmt.Errorf("%s: alert deadline %v", ix.id, ix.alertT.idx >= 0)
				}
				continue
			}
			waiting++
			if ix.overflowDue || ix.alertT.idx >= 0 {
				return fmt.Errorf("%s: waiting with offer state", ix.id)
			}
			if !ix.inTreap || ix.inPQ == ix.prefPhase || ix.cls != q.classes[ix.ckey] {
				return fmt.Errorf("%s: not placed right", ix.id)
			}
			placed[ix.cls]++
			if ix.inPQ {
				inPQ++
				if h := ix.cls.waiting[ix.level]; ix.hidx >= len(h) || h[ix.hidx] != ix {
					return fmt.Errorf("%s: not at its heap index", ix.id)
				}
			}
			if ix.inPref != (q.cfg.Strategy == PreferredAgent && len(ix.pref) > 0) {
				return fmt.Errorf("%s: preferred index %v", ix.id, ix.inPref)
			}
			for _, id := range ix.pref {
				if _, ok := s.pref[id][ix]; ok != ix.inPref {
					return fmt.Errorf("%s: preferred index for %s", ix.id, id)
				}
			}
		}
		if tsize(q.order) != waiting {
			return fmt.Errorf("queue %s: treap %d, waiting %d", qid, tsize(q.order), waiting)
		}
		if err := tcheck(q.order); err != nil {
			return fmt.Errorf("queue %s: %v", qid, err)
		}
		n := 0
		for _, c := range q.classList {
			if q.classes[c.key] != c || c.q != q || c.placed != placed[c] {
				return fmt.Errorf("queue %s class %q: placed %d, want %d", qid, c.key, c.placed, placed[c])
			}
			for l, h := range c.waiting {
				n += len(h)
				for i, ix := range h {
					if ix.hidx != i || ix.level != l || ix.cls != c || i > 0 && ixBefore(ix, h[(i-1)/2]) {
						return fmt.Errorf("queue %s class %q: waiting heap broken", qid, c.key)
					}
				}
			}
			for l, h := range c.idle {
				for i, e := range h {
					if e.idx != i || e.level != l || e.cls != c || !e.ag.routable() || i > 0 && entryBefore(e, h[(i-1)/2]) {
						return fmt.Errorf("queue %s class %q: idle heap broken", qid, c.key)
					}
				}
			}
		}
		if n != inPQ || len(q.classList) != len(q.classes) {
			return fmt.Errorf("queue %s: %d in class heaps, want %d", qid, n, inPQ)
		}
	}
	if nix != len(s.ixs) {
		return fmt.Errorf("%d interactions in queues, %d known", nix, len(s.ixs))
	}
	for id, set := range s.pref {
		if len(set) == 0 {
			return fmt.Errorf("empty preferred set for %s", id)
		}
		for ix := range set {
			if !ix.inPref || s.ixs[ix.id] != ix || !slices.Contains(ix.pref, id) {
				return fmt.Errorf("preferred index: %s for %s", ix.id, id)
			}
		}
	}
	return nil
}

func tcheck(t *ixState) error {
	if t == nil {
		return nil
	}
	if t.tsz != 1+tsize(t.tl)+tsize(t.tr) {
		return errors.New("treap size wrong")
	}
	if t.tl != nil && (t.tl.tp > t.tp || !ixBefore(t.tl, t)) || t.tr != nil && (t.tr.tp > t.tp || !ixBefore(t, t.tr)) {
		return errors.New("treap order wrong")
	}
	if err := tcheck(t.tl); err != nil {
		return err
	}
	return tcheck(t.tr)
}

// drain lets time pass until every offer has resolved.
func (r *run) drain() {
	r.t.Helper()
	for i := 0; len(r.m.offers) > 0; i++ {
		if i > 4*nAgents+10 {
			r.fatalf("offers never resolve: %v", r.m.offers)
		}
		r.clk.Advance(20 * time.Second)
		r.trace = append(r.trace, "drain: Advance 20s")
		r.check()
	}
}

func (r *run) setup() {
	for i := range nQueues {
		q := r.randQueue(queueID(i))
		r.m.queues[q.ID] = q
		r.e.SetQueue(q)
	}
	for i := range nAgents {
		a := r.randAgent(agentID(i))
		r.m.agents[a.ID], r.m.avail[a.ID] = a, false
		r.e.SetAgent(a)
	}
	r.check()
}

func TestPropertyRandomSequences(t *testing.T) {
	seeds, steps := 32, 4000
	if testing.Short() {
		seeds, steps = 4, 1000
	}
	var total [5]int
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r, stop := newRun(t, prng{rand.New(rand.NewPCG(uint64(seed), 42))})
			defer stop()
			r.setup()
			for range steps {
				r.step()
			}
			r.drain()
			m := r.m
			for i, n := range []int{m.nOffers, m.nTimeouts, m.nWithdrawn, m.nOverflows, m.nDropped} {
				total[i] += n
			}
		})
	}
	t.Logf("%d steps: %d offers, %d timeouts, %d withdrawals, %d overflows, %d dropped", seeds*steps, total[0], total[1], total[2], total[3], total[4])
	if total[0] < seeds*steps/20 || slices.Contains(total[:], 0) {
		t.Fatalf("the generator is not exercising the engine: %v", total)
	}
}

// The same inputs at the same times give the same decisions, in the same
// order, at the same engine times.
func TestDeterministic(t *testing.T) {
	var logs [2][]string
	for i := range logs {
		r, stop := newRun(t, prng{rand.New(rand.NewPCG(99, 1))})
		r.setup()
		for range 3000 {
			r.step()
		}
		r.drain()
		stop()
		logs[i] = r.m.log
	}
	if len(logs[0]) < 100 || !slices.Equal(logs[0], logs[1]) {
		t.Fatalf("runs differ (%d and %d decisions)", len(logs[0]), len(logs[1]))
	}
}

// Same invariants, the operation stream read from fuzz bytes:
//
//	go test ./internal/routing -run XXX -fuzz FuzzEngine -fuzztime 60s
func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("routing engine fuzz seed: alerting timeout, decline, overflow, bullseye"))
	seed := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range seed {
		seed[i] = byte(rng.IntN(256))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &bytesSource{b: data}
		r, stop := newRun(t, src)
		defer stop()
		r.setup()
		for !src.done() {
			r.step()
		}
		r.drain()
	})
}
