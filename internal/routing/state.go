package routing

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

type msgKind uint8

const (
	mWake msgKind = iota + 1
	mSetQueue
	mRemoveQueue
	mSetAgent
	mRemoveAgent
	mSetAvailable
	mEnqueue
	mDequeue
	mAccept
	mDecline
	mComplete
	mQuery
)

// msg is one input, stamped with the clock when it was sent (at, Unix ns).
type msg struct {
	kind msgKind
	flag bool
	at   int64
	gen  uint64
	a, b string
	p    any
}

// maxClasses is how many skill classes a queue keeps before dropping those
// without waiting interactions.
const maxClasses = 64

// Occupancy half-life for least_occupied.
const occupancyHalfLife = time.Hour

var (
	occTauNs = float64(occupancyHalfLife) / math.Ln2
	occTauS  = occTauNs / 1e9
)

type agentState struct {
	id            string
	queues        []string
	skills        map[string]float64
	avail         bool     // the session layer says on queue and idle
	offer         *ixState // pending offer
	interacting   bool     // from Accept to Complete / SetAvailable(true)
	notResponding bool     // after a timeout or a decline, until SetAvailable(true)
	curIx, curQ   string   // the accepted interaction and its queue
	busySince     int64
	idleSince     int64
	idleSeq       uint64
	occ           float64 // busy seconds, exponentially weighted, as of occAt
	occAt         int64
	entries       []*agentEntry // in idle heaps, while routable and not offered
}

func (a *agentState) routable() bool { return a.avail && a.offer == nil }

// occKey ranks agents by weighted busy time; occ·e^(-(t-occAt)/τ) compares
// the same way at every t, so its logarithm at t=0 is a fixed key.
func (a *agentState) occKey() float64 {
	if a.occ <= 0 {
		return negInf
	}
	return math.Log(a.occ) + float64(a.occAt)/occTauNs
}

type member struct {
	ag      *agentState
	joinSeq uint64
	rrLast  uint64 // round robin: the queue's counter at the last offer
}

type queueState struct {
	cfg        Queue
	needAll    bool
	scored     bool
	usesSkills bool
	ringAt     []int64   // bullseye: when each ring starts (ring 0 at 0)
	thr        []float64 // bullseye: effective thresholds, non-increasing
	classes    map[string]*class
	classList  []*class
	ixs        []*ixState // waiting and offered
	order      *ixState   // treap of the waiting ones
	rr         uint64
	sl         slWindow
	aht        float64 // ns
	ahtN       int
}

func (q *queueState) levels() int { return max(1, len(q.thr)) }

func (q *queueState) classKey(skills []string) string {
	if !q.usesSkills || len(skills) == 0 {
		return ""
	}
	return strings.Join(skills, "\x00")
}

func (q *queueState) configure(cfg Queue) {
	q.cfg = cfg
	q.needAll = cfg.SkillEvaluation == EvaluateAll
	q.scored = cfg.SkillEvaluation == EvaluateBest || (cfg.Strategy == SkillsBestMatch && cfg.SkillEvaluation != EvaluateNone)
	q.ringAt, q.thr = nil, nil
	if cfg.Strategy == Bullseye && len(cfg.Bullseye) > 0 {
		for i, r := range cfg.Bullseye {
			at, t := int64(r.After), r.MinProficiency
			if i == 0 {
				at = 0
			} else if t > q.thr[i-1] {
				t = q.thr[i-1]
			}
			q.ringAt = append(q.ringAt, at)
			q.thr = append(q.thr, t)
		}
	}
	q.usesSkills = cfg.SkillEvaluation != EvaluateNone || len(q.thr) > 0
}

func (q *queueState) addHandle(d int64) {
	q.ahtN++
	alpha := 0.1
	if q.ahtN < 10 {
		alpha = 1 / float64(q.ahtN)
	}
	q.aht += alpha * (float64(d) - q.aht)
}

// normalize applies the documented defaults to a queue configuration.
func normalize(q Queue) Queue {
	if !slices.Contains(Strategies, q.Strategy) {
		q.Strategy = LongestIdle
	}
	switch q.SkillEvaluation {
	case EvaluateNone, EvaluateBest, EvaluateAll:
	default:
		q.SkillEvaluation = EvaluateAll
	}
	if q.ServiceLevelTarget <= 0 {
		q.ServiceLevelTarget = 20 * time.Second
	}
	q.AlertingTimeout = max(0, q.AlertingTimeout)
	q.OverflowAfter = max(0, q.OverflowAfter)
	q.PreferredAgentWait = max(0, q.PreferredAgentWait)
	if q.OverflowQueue == q.ID || q.OverflowAfter == 0 {
		q.OverflowQueue, q.OverflowAfter = "", 0
	}
	slices.SortStableFunc(q.Bullseye, func(a, b Ring) int {
		if a.After < b.After {
			return -1
		}
		if a.After > b.After {
			return 1
		}
		return 0
	})
	return q
}

// class: the interactions of a queue that require the same skills, and
// the idle members that may take them.
type class struct {
	q       *queueState
	key     string
	skills  []string
	needAll bool
	scored  bool
	thr     []float64
	placed  int                        // interactions placed with this class
	waiting []indexedHeap[*ixState]    // per bullseye level
	idle    []indexedHeap[*agentEntry] // per innermost eligible level
}

// level is the innermost level at which a may take this class's
// interactions, or -1.
func (c *class) level(a *agentState) int {
	if c.needAll {
		for _, sk := range c.skills {
			if _, ok := a.skills[sk]; !ok {
				return -1
			}
		}
	}
	if len(c.thr) == 0 || len(c.skills) == 0 {
		return 0
	}
	p := math.Inf(1)
	for _, sk := range c.skills {
		p = min(p, a.skills[sk])
	}
	for l, t := range c.thr {
		if p >= t {
			return l
		}
	}
	return -1
}

func (c *class) score(a *agentState) float64 {
	if !c.scored {
		return 0
	}
	s := 0.0
	for _, sk := range c.skills {
		s += a.skills[sk]
	}
	return s
}

func (c *class) hasWaiting() bool {
	for _, h := range c.waiting {
		if len(h) > 0 {
			return true
		}
	}
	return false
}

type ixState struct {
	id          string
	prio        int
	enq         int64
	seq         uint64
	skills      []string
	pref        []string
	q           *queueState
	ckey        string
	cls         *class
	arrived     int64 // in the current queue
	level       int   // bullseye ring reached
	prefPhase   bool  // waiting for its preferred agents only
	offered     *agentState
	attempts    int
	overflowDue bool
	inPQ        bool
	hidx        int
	inPref      bool
	inTreap     bool
	qidx        int
	tl, tr      *ixState
	tp          uint32
	tsz         int
	alertT      timerEntry
	phaseT      timerEntry
	overflowT   timerEntry
}

// state is everything the loop owns.
type state struct {
	eng     *Engine
	clock   clock.Clock
	d       Decisions
	n       Notices
	now     int64
	seq     uint64
	rng     uint64
	agents  map[string]*agentState
	queues  map[string]*queueState
	members map[string]map[string]*member // queue id → agent id → membership (the queue may not exist yet)
	ixs     map[string]*ixState
	pref    map[string]map[*ixState]struct{} // agent id → waiting interactions preferring it
	timers  timerHeap

	armed     bool
	armedAt   int64
	armedGen  uint64
	wakeTimer clock.Timer

	free  []*agentEntry
	cands []cand
}

type cand struct {
	c *class
	l int
	m *member
}

func newState(e *Engine, d Decisions) *state {
	s := &state{eng: e, clock: e.clock, d: d, rng: 0x9E3779B97F4A7C15,
		agents: map[string]*agentState{}, queues: map[string]*queueState{}, members: map[string]map[string]*member{},
		ixs: map[string]*ixState{}, pref: map[string]map[*ixState]struct{}{}}
	s.n, _ = d.(Notices)
	return s
}

func (s *state) next() uint64 { s.seq++; return s.seq }

func (s *state) rand() uint32 {
	s.rng ^= s.rng << 13
	s.rng ^= s.rng >> 7
	s.rng ^= s.rng << 17
	return uint32(s.rng >> 32)
}

// ---------------------------------------------------------------- loop --

func (s *state) apply(m *msg) {
	s.runDue(m.at)
	if m.at > s.now {
		s.now = m.at
	}
	switch m.kind {
	case mWake:
		if m.gen == s.armedGen {
			s.armed, s.wakeTimer = false, nil
		}
	case mSetQueue:
		s.setQueue(m.p.(*Queue))
	case mRemoveQueue:
		s.removeQueue(m.a)
	case mSetAgent:
		s.setAgent(m.p.(*Agent))
	case mRemoveAgent:
		s.removeAgent(m.a)
	case mSetAvailable:
		s.setAvailable(m.a, m.flag)
	case mEnqueue:
		s.enqueue(m.p.(*Interaction))
	case mDequeue:
		s.dequeue(m.a)
	case mAccept:
		s.accept(m.a, m.b)
	case mDecline:
		s.decline(m.a, m.b)
	case mComplete:
		s.complete(m.a, m.b)
	}
	s.runDue(s.now)
	s.arm()
	if m.kind == mQuery {
		m.p.(func(*state))(s)
	}
}

// runDue processes every deadline up to t, in order.
func (s *state) runDue(t int64) {
	for len(s.timers) > 0 && s.timers[0].at <= t {
		te := s.timers[0]
		s.timers.remove(0)
		if te.at > s.now {
			s.now = te.at
		}
		s.fire(te)
	}
}

// arm keeps one clock timer set for the earliest deadline.
func (s *state) arm() {
	if len(s.timers) == 0 {
		return
	}
	at := s.timers[0].at
	if s.armed && s.armedAt <= at {
		return
	}
	if s.wakeTimer != nil {
		s.wakeTimer.Stop()
	}
	s.armedGen++
	s.armed, s.armedAt = true, at
	gen, eng := s.armedGen, s.eng
	d := time.Duration(at - s.clock.Now().UnixNano())
	s.wakeTimer = s.clock.AfterFunc(max(0, d), func() { eng.post(msg{kind: mWake, at: at, gen: gen}) })
}

func (s *state) disarm() {
	if s.wakeTimer != nil {
		s.wakeTimer.Stop()
		s.wakeTimer, s.armed = nil, false
	}
}

func (s *state) schedule(te *timerEntry, kind timerKind, ix *ixState, at int64) {
	s.cancel(te)
	te.at, te.seq, te.kind, te.ix = at, s.next(), kind, ix
	s.timers.push(te)
}

func (s *state) cancel(te *timerEntry) {
	if te.idx >= 0 {
		s.timers.remove(te.idx)
	}
}

func (s *state) fire(te *timerEntry) {
	ix := te.ix
	switch te.kind {
	case tAlert:
		a := ix.offered
		a.offer, a.avail, a.notResponding = nil, false, true
		s.d.OfferTimedOut(ix.id, a.id)
		s.requeue(ix)
	case tPhase:
		if ix.offered != nil {
			s.setPhase(ix)
			return
		}
		s.unplace(ix)
		s.setPhase(ix)
		s.place(ix)
		s.routeIx(ix)
	case tOverflow:
		if ix.offered != nil {
			ix.overflowDue = true
			return
		}
		s.overflow(ix)
	}
}

// ------------------------------------------------------------- matching --

// routeIx offers a waiting interaction to the best idle agent that may
// take it, if any.
func (s *state) routeIx(ix *ixState) {
	q := ix.q
	if q.cfg.Strategy == PreferredAgent && len(ix.pref) > 0 {
		var best *agentState
		var bestScore float64
		qm := s.members[q.cfg.ID]
		for _, id := range ix.pref {
			a := s.agents[id]
			if a == nil || !a.routable() || qm[id] == nil || ix.cls.level(a) < 0 {
				continue
			}
			sc := ix.cls.score(a)
			if best == nil || sc > bestScore || sc == bestScore && (a.idleSince < best.idleSince || a.idleSince == best.idleSince && a.idleSeq < best.idleSeq) {
				best, bestScore = a, sc
			}
		}
		if best != nil {
			s.offer(ix, best)
			return
		}
		if ix.prefPhase {
			return
		}
	}
	c := ix.cls
	var best *agentEntry
	for l := 0; l <= ix.level && l < len(c.idle); l++ {
		if h := c.idle[l]; len(h) > 0 && (best == nil || entryBefore(h[0], best)) {
			best = h[0]
		}
	}
	if best != nil {
		s.offer(ix, best.ag)
	}
}

// routeAgent gives a routable agent (not in any idle heap) the best
// interaction it may take, or files it in the idle heaps.
func (s *state) routeAgent(a *agentState) {
	if set := s.pref[a.id]; len(set) > 0 {
		var best *ixState
		for ix := range set {
			if s.members[ix.q.cfg.ID][a.id] == nil || ix.cls.level(a) < 0 {
				continue
			}
			if best == nil || ixBefore(ix, best) {
				best = ix
			}
		}
		if best != nil {
			s.offer(best, a)
			return
		}
	}
	cands := s.cands[:0]
	var best *ixState
	for _, qid := range a.queues {
		q := s.queues[qid]
		if q == nil {
			continue
		}
		m := s.members[qid][a.id]
		for _, c := range q.classList {
			l := c.level(a)
			if l < 0 {
				continue
			}
			cands = append(cands, cand{c, l, m})
			for li := l; li < len(c.waiting); li++ {
				if h := c.waiting[li]; len(h) > 0 && (best == nil || ixBefore(h[0], best)) {
					best = h[0]
				}
			}
		}
	}
	if best != nil {
		clear(cands)
		s.cands = cands[:0]
		s.offer(best, a)
		return
	}
	for _, cd := range cands {
		s.pushIdle(a, cd.c, cd.l, cd.m)
	}
	clear(cands)
	s.cands = cands[:0]
}

func (s *state) offer(ix *ixState, a *agentState) {
	s.unplace(ix)
	s.removeIdle(a)
	q := ix.q
	ix.offered, a.offer = a, ix
	ix.attempts++
	if m := s.members[q.cfg.ID][a.id]; m != nil {
		q.rr++
		m.rrLast = q.rr
	}
	if q.cfg.AlertingTimeout > 0 {
		s.schedule(&ix.alertT, tAlert, ix, s.now+int64(q.cfg.AlertingTimeout))
	}
	s.d.Offer(Offer{InteractionID: ix.id, AgentID: a.id, QueueID: q.cfg.ID, Attempt: ix.attempts, Timeout: q.cfg.AlertingTimeout})
}

func (s *state) pushIdle(a *agentState, c *class, l int, m *member) {
	var e *agentEntry
	if n := len(s.free); n > 0 {
		e = s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
	} else {
		e = new(agentEntry)
	}
	*e = agentEntry{ag: a, cls: c, level: l, score: c.score(a), t: a.idleSince, seq: a.idleSeq}
	switch c.q.cfg.Strategy {
	case LeastOccupied:
		e.primary = a.occKey()
	case RoundRobin:
		if m != nil {
			e.primary, e.t, e.seq = float64(m.rrLast), 0, m.joinSeq
		}
	}
	e.aidx = len(a.entries)
	a.entries = append(a.entries, e)
	c.idle[l].push(e)
}

func (s *state) removeIdle(a *agentState) {
	for i, e := range a.entries {
		e.cls.idle[e.level].remove(e.idx)
		a.entries[i] = nil
		s.freeEntry(e)
	}
	a.entries = a.entries[:0]
}

func (s *state) freeEntry(e *agentEntry) {
	*e = agentEntry{}
	if len(s.free) < 4096 {
		s.free = append(s.free, e)
	}
}

// classFor finds or creates the class of key in q, filing the idle
// members that may take it.
func (s *state) classFor(q *queueState, key string, skills []string) *class {
	if c := q.classes[key]; c != nil {
		return c
	}
	if len(q.classList) >= maxClasses {
		for i := len(q.classList) - 1; i >= 0; i-- {
			if c := q.classList[i]; c.placed == 0 {
				s.dropClass(c)
			}
		}
	}
	n := q.levels()
	c := &class{q: q, key: key, needAll: q.needAll, scored: q.scored, thr: q.thr,
		waiting: make([]indexedHeap[*ixState], n), idle: make([]indexedHeap[*agentEntry], n)}
	if key != "" {
		c.skills = skills
	}
	q.classes[key] = c
	q.classList = append(q.classList, c)
	for _, m := range s.members[q.cfg.ID] {
		if a := m.ag; a.routable() {
			if l := c.level(a); l >= 0 {
				s.pushIdle(a, c, l, m)
			}
		}
	}
	return c
}

func (s *state) dropClass(c *class) {
	for l := range c.idle {
		for _, e := range c.idle[l] {
			a := e.ag
			last := len(a.entries) - 1
			if e.aidx != last {
				a.entries[e.aidx] = a.entries[last]
				a.entries[e.aidx].aidx = e.aidx
			}
			a.entries[last] = nil
			a.entries = a.entries[:last]
			s.freeEntry(e)
		}
		c.idle[l] = nil
	}
	q := c.q
	delete(q.classes, c.key)
	i := slices.Index(q.classList, c)
	q.classList = slices.Delete(q.classList, i, i+1)
}

// ------------------------------------------------- interactions in queues --

// place files a waiting interaction in its class, the preferred-agent index
// and the queue order.
func (s *state) place(ix *ixState) {
	q := ix.q
	c := s.classFor(q, ix.ckey, ix.skills)
	ix.cls = c
	c.placed++
	if !ix.prefPhase {
		c.waiting[ix.level].push(ix)
		ix.inPQ = true
	}
	if q.cfg.Strategy == PreferredAgent && len(ix.pref) > 0 {
		for _, id := range ix.pref {
			set := s.pref[id]
			if set == nil {
				set = map[*ixState]struct{}{}
				s.pref[id] = set
			}
			set[ix] = struct{}{}
		}
		ix.inPref = true
	}
	q.order = tinsert(q.order, ix, s.rand())
	ix.inTreap = true
}

func (s *state) unplace(ix *ixState) {
	if !ix.inTreap {
		return
	}
	if ix.inPQ {
		ix.cls.waiting[ix.level].remove(ix.hidx)
		ix.inPQ = false
	}
	if ix.inPref {
		for _, id := range ix.pref {
			if set := s.pref[id]; set != nil {
				delete(set, ix)
				if len(set) == 0 {
					delete(s.pref, id)
				}
			}
		}
		ix.inPref = false
	}
	ix.cls.placed--
	ix.q.order = tdelete(ix.q.order, ix)
	ix.inTreap = false
}

func (s *state) enterQueue(ix *ixState, q *queueState, arrived int64) {
	ix.q, ix.arrived = q, arrived
	ix.qidx = len(q.ixs)
	q.ixs = append(q.ixs, ix)
	ix.ckey = q.classKey(ix.skills)
	s.setPhase(ix)
	s.setOverflow(ix)
}

func (s *state) leaveQueue(ix *ixState) {
	q := ix.q
	last := len(q.ixs) - 1
	if ix.qidx != last {
		q.ixs[ix.qidx] = q.ixs[last]
		q.ixs[ix.qidx].qidx = ix.qidx
	}
	q.ixs[last] = nil
	q.ixs = q.ixs[:last]
	s.cancel(&ix.phaseT)
	s.cancel(&ix.overflowT)
}

// setPhase computes the bullseye ring or preferred-agent phase from the
// time in queue and schedules the next change. ix must not be placed.
func (s *state) setPhase(ix *ixState) {
	q := ix.q
	wait := s.now - ix.arrived
	ix.level, ix.prefPhase = 0, false
	s.cancel(&ix.phaseT)
	if n := len(q.ringAt); n > 0 {
		l := 0
		for l+1 < n && q.ringAt[l+1] <= wait {
			l++
		}
		ix.level = l
		if l+1 < n {
			s.schedule(&ix.phaseT, tPhase, ix, ix.arrived+q.ringAt[l+1])
		}
	}
	if q.cfg.Strategy == PreferredAgent && len(ix.pref) > 0 && wait < int64(q.cfg.PreferredAgentWait) {
		ix.prefPhase = true
		s.schedule(&ix.phaseT, tPhase, ix, ix.arrived+int64(q.cfg.PreferredAgentWait))
	}
}

func (s *state) setOverflow(ix *ixState) {
	s.cancel(&ix.overflowT)
	ix.overflowDue = false
	if q := ix.q; q.cfg.OverflowQueue != "" {
		s.schedule(&ix.overflowT, tOverflow, ix, ix.arrived+int64(q.cfg.OverflowAfter))
	}
}

// requeue puts an interaction whose offer ended back at its position and
// routes it (or overflows it, if that fell due during the offer).
func (s *state) requeue(ix *ixState) {
	ix.offered = nil
	s.cancel(&ix.alertT)
	if ix.overflowDue {
		ix.overflowDue = false
		if s.overflow(ix) {
			return
		}
	}
	s.place(ix)
	s.routeIx(ix)
}

func (s *state) overflow(ix *ixState) bool {
	from := ix.q
	to := s.queues[from.cfg.OverflowQueue]
	if to == nil || to == from {
		return false
	}
	s.unplace(ix)
	s.leaveQueue(ix)
	from.sl.at(s.now).overflowed++
	s.enterQueue(ix, to, s.now)
	s.place(ix)
	s.d.Overflowed(ix.id, from.cfg.ID, to.cfg.ID)
	s.routeIx(ix)
	return true
}

func (s *state) forget(ix *ixState) {
	s.unplace(ix)
	s.cancel(&ix.alertT)
	s.leaveQueue(ix)
	delete(s.ixs, ix.id)
}

func (s *state) withdraw(a *agentState) {
	ix := a.offer
	a.offer = nil
	if s.n != nil {
		s.n.OfferWithdrawn(ix.id, a.id)
	}
	s.requeue(ix)
}

func (s *state) endBusy(a *agentState) {
	d := s.now - a.busySince
	a.occ = a.occ*math.Exp(-float64(s.now-a.occAt)/occTauNs) + occTauS*(1-math.Exp(-float64(d)/occTauNs))
	a.occAt = s.now
	if q := s.queues[a.curQ]; q != nil {
		q.addHandle(d)
	}
	a.interacting, a.curIx, a.curQ = false, "", ""
}

// --------------------------------------------------------------- inputs --

func (s *state) setQueue(in *Queue) {
	if in.ID == "" {
		return
	}
	cfg := normalize(*in)
	q := s.queues[cfg.ID]
	if q == nil {
		q = &queueState{classes: map[string]*class{}, aht: float64(DefaultHandleTime)}
		q.sl.init()
		q.configure(cfg)
		s.queues[cfg.ID] = q
		s.overflowInto(q)
		return
	}
	if sameQueue(q.cfg, cfg) {
		return // the caller re-sends every queue on any directory change
	}
	all := slices.Clone(q.ixs)
	for _, ix := range all {
		s.unplace(ix)
	}
	for len(q.classList) > 0 {
		s.dropClass(q.classList[len(q.classList)-1])
	}
	q.configure(cfg)
	var waiting []*ixState
	for _, ix := range all {
		ix.ckey = q.classKey(ix.skills)
		s.setPhase(ix)
		s.setOverflow(ix)
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
	for _, ix := range waiting {
		s.place(ix)
	}
	for _, ix := range waiting {
		if ix.offered == nil {
			s.routeIx(ix)
		}
	}
}

func sameQueue(a, b Queue) bool {
	return a.ID == b.ID && a.Strategy == b.Strategy && a.AlertingTimeout == b.AlertingTimeout && a.SkillEvaluation == b.SkillEvaluation &&
		a.ServiceLevel == b.ServiceLevel && a.ServiceLevelTarget == b.ServiceLevelTarget && a.OverflowAfter == b.OverflowAfter &&
		a.OverflowQueue == b.OverflowQueue && a.PreferredAgentWait == b.PreferredAgentWait && slices.Equal(a.Bullseye, b.Bullseye)
}

// overflowInto moves to a newly set queue the interactions of queues that
// overflow into it and are past their overflow deadline (they stayed
// because the queue did not exist). Scanning is fine here: queues are set
// rarely.
func (s *state) overflowInto(to *queueState) {
	var from []*queueState
	for _, q := range s.queues {
		if q.cfg.OverflowQueue == to.cfg.ID && len(q.ixs) > 0 {
			from = append(from, q)
		}
	}
	slices.SortFunc(from, func(a, b *queueState) int { return strings.Compare(a.cfg.ID, b.cfg.ID) })
	for _, q := range from {
		due := slices.DeleteFunc(slices.Clone(q.ixs), func(ix *ixState) bool {
			return ix.overflowT.idx >= 0 || s.now-ix.arrived < int64(q.cfg.OverflowAfter)
		})
		slices.SortFunc(due, func(a, b *ixState) int {
			if ixBefore(a, b) {
				return -1
			}
			return 1
		})
		for _, ix := range due {
			if ix.offered != nil {
				ix.overflowDue = true
			} else {
				s.overflow(ix)
			}
		}
	}
}

func (s *state) removeQueue(id string) {
	q := s.queues[id]
	if q == nil {
		return
	}
	var freed []*agentState
	for _, ix := range slices.Clone(q.ixs) {
		if a := ix.offered; a != nil {
			a.offer = nil
			if s.n != nil {
				s.n.OfferWithdrawn(ix.id, a.id)
			}
			freed = append(freed, a)
		}
		s.forget(ix)
		if s.n != nil {
			s.n.Dropped(ix.id, id)
		}
	}
	for len(q.classList) > 0 {
		s.dropClass(q.classList[len(q.classList)-1])
	}
	delete(s.queues, id)
	for _, a := range freed {
		if s.agents[a.id] == a && a.routable() && len(a.entries) == 0 {
			s.routeAgent(a)
		}
	}
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *state) setAgent(in *Agent) {
	if in.ID == "" {
		return
	}
	a := s.agents[in.ID]
	if a == nil {
		a = &agentState{id: in.ID}
		s.agents[in.ID] = a
	}
	qs := dedupe(in.Queues)
	if len(qs) == len(a.queues) && maps.Equal(a.skills, in.Skills) && !slices.ContainsFunc(qs, func(q string) bool { return !slices.Contains(a.queues, q) }) {
		return // nothing changed
	}
	for _, qid := range a.queues {
		if !slices.Contains(qs, qid) {
			delete(s.members[qid], a.id)
			if len(s.members[qid]) == 0 {
				delete(s.members, qid)
			}
		}
	}
	for _, qid := range qs {
		if !slices.Contains(a.queues, qid) {
			m := s.members[qid]
			if m == nil {
				m = map[string]*member{}
				s.members[qid] = m
			}
			m[a.id] = &member{ag: a, joinSeq: s.next()}
		}
	}
	a.queues, a.skills = qs, in.Skills
	if a.offer != nil && s.members[a.offer.q.cfg.ID][a.id] == nil {
		s.withdraw(a)
	}
	if a.routable() {
		s.removeIdle(a)
		s.routeAgent(a)
	}
}

func (s *state) removeAgent(id string) {
	a := s.agents[id]
	if a == nil {
		return
	}
	for _, qid := range a.queues {
		delete(s.members[qid], id)
		if len(s.members[qid]) == 0 {
			delete(s.members, qid)
		}
	}
	delete(s.agents, id)
	a.avail = false
	s.removeIdle(a)
	if a.offer != nil {
		s.withdraw(a)
	}
}

func (s *state) setAvailable(id string, v bool) {
	a := s.agents[id]
	if a == nil {
		return
	}
	if v {
		if a.avail {
			return
		}
		if a.interacting {
			s.endBusy(a)
		}
		a.notResponding, a.avail = false, true
		a.idleSince, a.idleSeq = s.now, s.next()
		s.routeAgent(a)
		return
	}
	if !a.avail {
		return
	}
	a.avail = false
	if a.offer != nil {
		s.withdraw(a)
	} else {
		s.removeIdle(a)
	}
}

func (s *state) enqueue(in *Interaction) {
	if in.ID == "" || s.ixs[in.ID] != nil {
		return
	}
	q := s.queues[in.QueueID]
	if q == nil {
		if s.n != nil {
			s.n.Dropped(in.ID, in.QueueID)
		}
		return
	}
	enq := s.now
	if !in.EnqueuedAt.IsZero() {
		enq = in.EnqueuedAt.UnixNano()
	}
	skills := dedupe(in.Skills)
	slices.Sort(skills)
	ix := &ixState{id: in.ID, prio: in.Priority, enq: enq, seq: s.next(), skills: skills, pref: dedupe(in.PreferredAgents)}
	ix.alertT.idx, ix.phaseT.idx, ix.overflowT.idx = -1, -1, -1
	s.ixs[in.ID] = ix
	s.enterQueue(ix, q, min(enq, s.now))
	s.place(ix)
	s.routeIx(ix)
}

func (s *state) dequeue(id string) {
	ix := s.ixs[id]
	if ix == nil {
		return
	}
	q := ix.q
	b := q.sl.at(s.now)
	b.abandoned++
	if s.now-ix.arrived > int64(q.cfg.ServiceLevelTarget) {
		b.abandonedAfter++
	}
	a := ix.offered
	if a != nil {
		a.offer = nil
	}
	s.forget(ix)
	if a != nil && a.routable() {
		s.routeAgent(a)
	}
}

func (s *state) accept(ixID, agID string) {
	ix := s.ixs[ixID]
	if ix == nil || ix.offered == nil || ix.offered.id != agID {
		return
	}
	a, q := ix.offered, ix.q
	b := q.sl.at(s.now)
	b.answered++
	if s.now-ix.arrived <= int64(q.cfg.ServiceLevelTarget) {
		b.answeredIn++
	}
	a.offer, a.avail, a.notResponding = nil, false, false
	a.interacting, a.curIx, a.curQ, a.busySince = true, ix.id, q.cfg.ID, s.now
	s.forget(ix)
}

func (s *state) decline(ixID, agID string) {
	ix := s.ixs[ixID]
	if ix == nil || ix.offered == nil || ix.offered.id != agID {
		return
	}
	a := ix.offered
	a.offer, a.avail, a.notResponding = nil, false, true
	s.requeue(ix)
}

func (s *state) complete(ixID, agID string) {
	a := s.agents[agID]
	if a == nil || !a.interacting || a.curIx != ixID {
		return
	}
	s.endBusy(a)
}

// -------------------------------------------------------------- queries --

func (s *state) onQueue(qid string) (idle, on int) {
	for _, m := range s.members[qid] {
		a := m.ag
		if a.routable() {
			idle++
		}
		if a.avail || a.interacting {
			on++
		}
	}
	return idle, on
}

func (s *state) position(id string) (int, time.Duration, error) {
	ix := s.ixs[id]
	if ix == nil {
		return 0, 0, ErrNotFound
	}
	if ix.offered != nil {
		return 0, 0, nil
	}
	q := ix.q
	k := trank(q.order, ix) + 1
	_, on := s.onQueue(q.cfg.ID)
	if on == 0 {
		return k, Unknown, nil
	}
	return k, time.Duration(float64(k) * q.aht / float64(on)), nil
}

func (s *state) stats(id string) (Stats, error) {
	q := s.queues[id]
	if q == nil {
		return Stats{}, ErrNotFound
	}
	st := Stats{QueueID: id, AverageHandleTime: time.Duration(q.aht), ServiceLevelGoal: q.cfg.ServiceLevel, ServiceLevelTarget: q.cfg.ServiceLevelTarget}
	for _, ix := range q.ixs {
		if ix.offered != nil {
			st.Alerting++
		} else {
			st.Waiting++
		}
		st.LongestWait = max(st.LongestWait, time.Duration(s.now-ix.arrived))
	}
	st.AgentsAvailable, st.AgentsOnQueue = s.onQueue(id)
	switch {
	case st.AgentsOnQueue == 0:
		st.EstimatedWait = Unknown
	case st.AgentsAvailable > 0:
		st.EstimatedWait = 0
	default:
		st.EstimatedWait = time.Duration(float64(st.Waiting+1) * q.aht / float64(st.AgentsOnQueue))
	}
	t := q.sl.sum(s.now)
	st.Answered, st.AnsweredInTarget, st.Abandoned, st.AbandonedAfterTarget, st.Overflowed = t.answered, t.answeredIn, t.abandoned, t.abandonedAfter, t.overflowed
	st.ServiceLevel = 1
	if d := t.answered + t.abandonedAfter; d > 0 {
		st.ServiceLevel = float64(t.answeredIn) / float64(d)
	}
	return st, nil
}

func (s *state) agentState(id string) (AgentState, error) {
	a := s.agents[id]
	if a == nil {
		return AgentState{}, ErrNotFound
	}
	as := AgentState{ID: id, Interacting: a.curIx}
	if a.idleSince != 0 {
		as.IdleSince = time.Unix(0, a.idleSince)
	}
	switch {
	case a.offer != nil:
		as.Status, as.Offered = StatusAlerting, a.offer.id
	case a.interacting:
		as.Status = StatusInteracting
	case a.avail:
		as.Status = StatusIdle
	case a.notResponding:
		as.Status = StatusNotResponding
	default:
		as.Status = StatusOffQueue
	}
	return as, nil
}

// ------------------------------------------------------- service level --

const slBuckets = int(ServiceLevelWindow / time.Minute)

type slBucket struct {
	min                                                         int64
	answered, answeredIn, abandoned, abandonedAfter, overflowed int
}

type slWindow [slBuckets]slBucket

func (w *slWindow) init() {
	for i := range w {
		w[i].min = math.MinInt64
	}
}

func minuteOf(t int64) int64 {
	m := t / int64(time.Minute)
	if t < 0 && t%int64(time.Minute) != 0 {
		m--
	}
	return m
}

func (w *slWindow) at(now int64) *slBucket {
	m := minuteOf(now)
	i := m % int64(slBuckets)
	if i < 0 {
		i += int64(slBuckets)
	}
	b := &w[i]
	if b.min != m {
		*b = slBucket{min: m}
	}
	return b
}

func (w *slWindow) sum(now int64) slBucket {
	m := minuteOf(now)
	var t slBucket
	for _, b := range w {
		if b.min > m-int64(slBuckets) && b.min <= m {
			t.answered += b.answered
			t.answeredIn += b.answeredIn
			t.abandoned += b.abandoned
			t.abandonedAfter += b.abandonedAfter
			t.overflowed += b.overflowed
		}
	}
	return t
}
