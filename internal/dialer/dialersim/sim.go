// Package dialersim is the dialer simulation behind `centralita bench
// dialer`: a campaign's pacer (internal/dialer/pacing) drives a real
// simulated switch (internal/telephony/sim) on an injected discrete-event
// clock, with the customer model of the reference notes (§3.5 "simulation
// baseline"):
//
//   - N agents, logged in for the whole shift (8 hours by default); each
//     holds a nailed-up leg into the switch (an answered inbound leg) and is
//     bridged to the customers it talks to;
//   - every dialed customer is an Originate to a number whose sim.Party
//     answers live with probability p after U(5, 20) s, or else ends
//     non-live (busy or rejected, half each) after U(3, 25) s;
//   - a live answer goes at once to a free agent, or waits for one at most
//     2 s; then it is abandoned: the switch plays the "abandon" prompt and
//     the harness hangs up;
//   - a connected customer talks for an exponential time with mean AHT
//     (talk + wrap-up, no separate wrap-up) and hangs up; the agent is free
//     again at once.
//
// The harness reacts to every switch event (Answered, Hangup,
// PlaybackDone) and to its own 2 s deadlines, reports them to the pacer
// and, once the events of an instant are handled, asks the pacer how many
// calls to place (pacer.Calls) — no polling loop. In progressive mode an
// agent is reserved for each call in flight (Idle − InFlight), so no call
// is ever abandoned. Every replication is deterministic for its seed, and
// progressive and predictive runs of a cell see the same customers in the
// same order (common random numbers).
//
// Occupancy = handle time inside the shift / logged-in time. Abandonment =
// abandoned / live answers, for answers inside the shift.
//
// The §3.5 baseline's naive predictive policy runs on the same harness
// (Naive, TuneNaive), so that the pacer can be compared with it on the
// same customers rather than only with the printed table.
package dialersim

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// Cell is one point of the grid.
type Cell struct {
	Agents int
	P      float64       // live-answer probability
	AHT    time.Duration // mean handle time (exponential)
}

// Config is one replication.
type Config struct {
	Mode  pacing.Mode
	Cell  Cell
	Shift time.Duration // 0 means 8 hours
	Seed  uint64
	// Pacing overrides the pacer's configuration (its Mode is ignored).
	Pacing pacing.Config
	// Model, when set, is given to the pacer before the shift starts
	// (SetModel): the estimates learned in a previous shift.
	Model *pacing.Model
	// Policy, when set, decides instead of the pacer (the §3.5 naive
	// policy: Naive); the pacer still sees every observation.
	Policy Policy
	// Step, when its At is positive, changes the live-answer probability
	// to Step.P for the calls placed from At into the shift on (a list of
	// another quality, the evening): how fast pacing follows a step.
	Step Step
	// Trace, when set, is called after every decision (diagnostics).
	Trace func(now time.Time, placed int, s pacing.Snapshot, st pacing.Stats)
}

// Step is a change of the customers' live-answer probability during a
// shift.
type Step struct {
	At time.Duration // into the shift; 0: no step
	P  float64
}

// Result of one replication, or the sum of several (RunCell).
type Result struct {
	Mode  pacing.Mode
	Cell  Cell
	Reps  int
	Shift time.Duration

	Occupancy           float64 // handle time / logged-in time
	AbandonPct          float64 // abandoned / live answers × 100
	MaxRepAbandonPct    float64 // the worst replication's abandonment
	TalkMinPerAgentHour float64

	HandleTime time.Duration // inside the shift, all agents
	// HourlyHandle is HandleTime by hour of the shift (hours past the
	// 24th in the last), to tell a shift's start from its steady state.
	HourlyHandle [24]time.Duration
	LoggedIn     time.Duration
	Placed       int
	Live         int // live answers inside the shift
	Abandoned    int
	Connected    int
	Events       uint64 // switch events
	PacerCalls   int    // pacer.Calls invocations
	MaxInFlight  int

	// PeakDayPct is the day's highest running abandonment rate (% of the
	// day's live answers so far) at any abandonment once the day had
	// PeakFrom live answers (the worst replication): how close the day
	// came to its cap at any instant, not only at its end. The pacer's
	// guard reacts to each abandonment, and calls already in flight when
	// it trips can still abandon, so it can pass the cap briefly.
	PeakDayPct float64
	// HitRateChanges counts the steps in the live-answer rate the pacer
	// noticed (Stats.HitRateChanges); on a steady rate, its false alarms.
	HitRateChanges int
	// RepOccupancy is each replication's occupancy, in order (Occupancy is
	// their mean: every replication has the same logged-in time).
	RepOccupancy []float64
	// With a Step: live answers and abandonments in the StepWindow after
	// it, and how long after it the pacer's hit-rate estimate was first
	// within 10 % of the new rate (summed over replications; the rest of
	// the shift when it never was).
	StepLive, StepAbandoned int
	StepReconverge          time.Duration
}

// PeakFrom is the day's live answers from which PeakDayPct is watched (a
// day's first abandonment is over 3 % until it has 34).
const PeakFrom = 500

// StepWindow is how long after a Step its live answers and abandonments
// are counted.
const StepWindow = 10 * time.Minute

// Start is the simulated start of every shift: a Monday 09:00 UTC.
var Start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

const (
	ringTimeout  = 30 * time.Second
	abandonAudio = "abandon"
)

type callState int

const (
	inFlight callState = iota
	waiting
	connected
	abandoned
)

type call struct {
	leg         string
	placedAt    time.Time
	answeredAt  time.Time
	connectedAt time.Time
	state       callState
	idx         int // index in harness.flight while in flight
	agent       *agent
	inShift     bool // answered inside the shift
}

type agent struct {
	leg  string
	call *call
}

type harness struct {
	cfg   Config
	clk   *eventClock
	sw    *sim.Switch
	pacer *pacing.Pacer
	rng   *rand.Rand
	ctx   context.Context
	end   time.Time

	next   sim.Party // what the number being dialed will do
	seq    int
	read   uint64
	calls  map[string]*call
	flight []*call
	wait   []*call // FIFO of live answers waiting for an agent
	free   []*agent
	agents []*agent

	busySnap   []time.Duration
	flightSnap []time.Duration

	res Result
	// reconverged: after the Step, the hit-rate estimate came within 10 %
	// of the new rate.
	reconverged bool
}

// Simulate runs one replication.
func Simulate(cfg Config) Result {
	r, _ := simulate(cfg)
	return r
}

// simulate runs one replication and returns the pacer's learned model too.
func simulate(cfg Config) (Result, pacing.Model) {
	if cfg.Shift <= 0 {
		cfg.Shift = 8 * time.Hour
	}
	h := &harness{
		cfg:   cfg,
		clk:   newEventClock(Start),
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		ctx:   context.Background(),
		end:   Start.Add(cfg.Shift),
		calls: map[string]*call{},
	}
	h.sw = sim.New(h.clk, sim.Options{
		Numbers: func(string) sim.Party { return h.next },
		Prompts: map[string]time.Duration{abandonAudio: 4 * time.Second},
	})
	pc := cfg.Pacing
	pc.Mode = cfg.Mode
	h.pacer = pacing.New(pc, Start)
	if cfg.Model != nil {
		h.pacer.SetModel(*cfg.Model)
	}
	h.res = Result{Mode: cfg.Mode, Cell: cfg.Cell, Reps: 1, Shift: cfg.Shift}

	// Agents log in: a nailed-up leg each.
	for i := 0; i < cfg.Cell.Agents; i++ {
		leg := h.sw.InjectCall("agent-"+strconv.Itoa(i+1), "login", sim.Caller{})
		if err := h.sw.Answer(h.ctx, leg); err != nil {
			panic(err)
		}
		a := &agent{leg: leg}
		h.agents = append(h.agents, a)
		h.free = append(h.free, a)
	}
	h.drain()

	stop := h.end.Add(pacing.Grace + time.Second)
	h.decide()
	for {
		t, ok := h.clk.next()
		if !ok || t.After(stop) {
			break
		}
		for h.clk.fireAt(t) {
			h.drain()
		}
		if t.Before(h.end) {
			h.decide()
		}
	}
	h.clk.advanceTo(stop)

	// Close the books at the end of the shift.
	for _, a := range h.agents {
		if c := a.call; c != nil {
			h.handled(c.connectedAt, h.end)
		}
	}
	h.res.LoggedIn = time.Duration(cfg.Cell.Agents) * cfg.Shift
	h.res.Events = h.sw.Emitted()
	h.sw.Close()
	for range h.sw.Events() { // let the switch deliver its last events and finish
	}
	if cfg.Step.At > 0 && !h.reconverged {
		h.res.StepReconverge = max(0, cfg.Shift-cfg.Step.At)
	}
	h.res.HitRateChanges = h.pacer.Stats(h.end).HitRateChanges
	h.res.finish()
	h.res.MaxRepAbandonPct = h.res.AbandonPct
	return h.res, h.pacer.Model()
}

func (r *Result) finish() {
	if r.LoggedIn > 0 {
		r.Occupancy = float64(r.HandleTime) / float64(r.LoggedIn)
		r.TalkMinPerAgentHour = r.HandleTime.Minutes() / r.LoggedIn.Hours()
	}
	if r.Live > 0 {
		r.AbandonPct = 100 * float64(r.Abandoned) / float64(r.Live)
	}
}

// drain handles every event the switch emitted so far (handling one may
// cause more).
func (h *harness) drain() {
	for h.read < h.sw.Emitted() {
		e := <-h.sw.Events()
		h.read++
		h.event(e)
	}
}

func (h *harness) event(e telephony.Event) {
	c := h.calls[e.Leg]
	if c == nil {
		return // agent legs
	}
	now := e.Time
	switch e.Type {
	case telephony.Answered:
		h.unflight(c)
		c.answeredAt = now
		c.inShift = now.Before(h.end)
		h.pacer.Answered(now, now.Sub(c.placedAt), true)
		if c.inShift {
			h.res.Live++
			if h.inStepWindow(now) {
				h.res.StepLive++
			}
		}
		if len(h.free) > 0 {
			h.connect(c)
			return
		}
		c.state = waiting
		h.wait = append(h.wait, c)
		h.clk.AfterFunc(pacing.Grace, func() { h.expire(c) })
	case telephony.Hangup:
		delete(h.calls, e.Leg)
		switch c.state {
		case inFlight:
			h.unflight(c)
			h.pacer.Failed(now, now.Sub(c.placedAt))
		case connected:
			a := c.agent
			a.call, c.agent = nil, nil
			h.pacer.Handled(now, now.Sub(c.connectedAt))
			h.handled(c.connectedAt, now)
			h.free = append(h.free, a)
			for len(h.wait) > 0 && len(h.free) > 0 {
				w := h.wait[0]
				h.wait = h.wait[1:]
				h.connect(w)
			}
		}
	case telephony.PlaybackDone:
		if c.state == abandoned {
			_ = h.sw.Hangup(h.ctx, c.leg, "")
		}
	}
}

// handled adds an agent's handle time from..to, cut at the end of the
// shift, to the totals and to the hours it falls in.
func (h *harness) handled(from, to time.Time) {
	if to.After(h.end) {
		to = h.end
	}
	if !to.After(from) {
		return
	}
	h.res.HandleTime += to.Sub(from)
	for from.Before(to) {
		i := int(from.Sub(Start) / time.Hour)
		i = max(0, min(i, len(h.res.HourlyHandle)-1))
		next := Start.Add(time.Duration(i+1) * time.Hour)
		if i == len(h.res.HourlyHandle)-1 || next.After(to) {
			next = to
		}
		h.res.HourlyHandle[i] += next.Sub(from)
		from = next
	}
}

// HourlyOccupancy is the occupancy in each whole or partial hour of the
// shift (handle time over the agents' time in that hour).
func (r Result) HourlyOccupancy() []float64 {
	var out []float64
	agents := time.Duration(r.Cell.Agents * r.Reps)
	for i := 0; i < len(r.HourlyHandle) && time.Duration(i)*time.Hour < r.Shift; i++ {
		span := r.Shift - time.Duration(i)*time.Hour // the last bucket holds the rest
		if i < len(r.HourlyHandle)-1 {
			span = min(span, time.Hour)
		}
		out = append(out, float64(r.HourlyHandle[i])/float64(agents*span))
	}
	return out
}

// expire: a live answer's 2 s are up.
func (h *harness) expire(c *call) {
	if c.state != waiting {
		return
	}
	for i, w := range h.wait {
		if w == c {
			h.wait = append(h.wait[:i], h.wait[i+1:]...)
			break
		}
	}
	c.state = abandoned
	now := h.clk.Now()
	h.pacer.Abandoned(now)
	if c.inShift {
		h.res.Abandoned++
		if h.res.Live >= PeakFrom {
			h.res.PeakDayPct = max(h.res.PeakDayPct, 100*float64(h.res.Abandoned)/float64(h.res.Live))
		}
		if h.inStepWindow(now) {
			h.res.StepAbandoned++
		}
	}
	if err := h.sw.Play(h.ctx, c.leg, abandonAudio); err != nil {
		_ = h.sw.Hangup(h.ctx, c.leg, "")
	}
}

func (h *harness) connect(c *call) {
	a := h.free[len(h.free)-1]
	h.free = h.free[:len(h.free)-1]
	now := h.clk.Now()
	if err := h.sw.Bridge(h.ctx, c.leg, a.leg); err != nil {
		panic(err)
	}
	c.state, c.agent, c.connectedAt = connected, a, now
	a.call = c
	h.pacer.Connected(now, now.Sub(c.answeredAt))
	if c.inShift {
		h.res.Connected++
	}
}

func (h *harness) unflight(c *call) {
	if c.idx < 0 {
		return
	}
	last := h.flight[len(h.flight)-1]
	h.flight[c.idx] = last
	last.idx = c.idx
	h.flight = h.flight[:len(h.flight)-1]
	c.idx = -1
}

// decide asks the pacer and places what it says.
func (h *harness) decide() {
	now := h.clk.Now()
	h.busySnap = h.busySnap[:0]
	for _, a := range h.agents {
		if a.call != nil {
			h.busySnap = append(h.busySnap, now.Sub(a.call.connectedAt))
		}
	}
	h.flightSnap = h.flightSnap[:0]
	for _, c := range h.flight {
		h.flightSnap = append(h.flightSnap, now.Sub(c.placedAt))
	}
	snap := pacing.Snapshot{
		Now:      now,
		Idle:     len(h.free),
		Busy:     h.busySnap,
		InFlight: h.flightSnap,
		Waiting:  len(h.wait),
	}
	var n int
	if h.cfg.Policy != nil {
		n = h.cfg.Policy.Calls(snap)
	} else {
		n = h.pacer.Calls(snap)
	}
	if h.cfg.Trace != nil {
		h.cfg.Trace(now, n, snap, h.pacer.Stats(now))
	}
	if !h.reconverged && h.stepped(now) {
		if st := h.cfg.Step; math.Abs(h.pacer.Stats(now).HitRate-st.P) <= 0.1*st.P {
			h.reconverged = true
			h.res.StepReconverge = now.Sub(Start.Add(st.At))
		}
	}
	h.res.PacerCalls++
	for i := 0; i < n; i++ {
		h.dial(now)
	}
	if len(h.flight) > h.res.MaxInFlight {
		h.res.MaxInFlight = len(h.flight)
	}
	h.drain()
}

// stepped: the configured Step has happened by now.
func (h *harness) stepped(now time.Time) bool {
	return h.cfg.Step.At > 0 && !now.Before(Start.Add(h.cfg.Step.At))
}

// inStepWindow: now is within StepWindow after the configured Step.
func (h *harness) inStepWindow(now time.Time) bool {
	return h.stepped(now) && now.Before(Start.Add(h.cfg.Step.At+StepWindow))
}

// dial places one call to the next customer.
func (h *harness) dial(now time.Time) {
	p := h.cfg.Cell
	u, live, nonLive, kind := h.rng.Float64(), h.rng.Float64(), h.rng.Float64(), h.rng.Float64()
	talk := time.Duration(h.rng.ExpFloat64() * float64(p.AHT))
	if talk < time.Millisecond {
		talk = time.Millisecond
	}
	hit := p.P
	if h.stepped(now) {
		hit = h.cfg.Step.P
	}
	if u < hit {
		h.next = sim.Party{Outcome: sim.Answer, After: secs(5 + 15*live), TalkTime: talk}
	} else {
		o := sim.Busy
		if kind < 0.5 {
			o = sim.Reject
		}
		h.next = sim.Party{Outcome: o, After: secs(3 + 22*nonLive)}
	}
	h.seq++
	leg, err := h.sw.Originate(h.ctx, telephony.OriginateRequest{
		To:          "tel:+1555" + strconv.Itoa(1000000+h.seq),
		From:        "+34910000000",
		RingTimeout: ringTimeout,
	})
	if err != nil {
		panic(err)
	}
	c := &call{leg: leg, placedAt: now, idx: len(h.flight)}
	h.calls[leg] = c
	h.flight = append(h.flight, c)
	h.pacer.Placed(now)
	h.res.Placed++
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// SeedFor derives a replication's seed from the run's seed and the cell:
// both modes of a cell get the same one.
func SeedFor(seed uint64, c Cell, rep int) uint64 {
	x := seed ^ 0x243f6a8885a308d3
	for _, v := range []uint64{uint64(c.Agents), uint64(math.Round(c.P * 1000)), uint64(c.AHT / time.Second), uint64(rep)} {
		x ^= v + 0x9e3779b97f4a7c15 + (x << 6) + (x >> 2)
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 31
	}
	return x
}

// RunCell runs reps replications of a cell in one mode and adds them up.
func RunCell(mode pacing.Mode, c Cell, reps int, shift time.Duration, seed uint64, pc pacing.Config) Result {
	return RunCellWarm(mode, c, reps, shift, 0, seed, pc)
}

// RunCellWarm is RunCell where, in predictive mode and when warmup > 0,
// each replication is preceded by a warm-up shift of that length on the
// same cell (other customers: its own seed) whose results are not counted;
// the pacer's learned estimates (pacing.Model) are carried over from the
// warm-up into the counted shift, as the live dialer carries them over from
// a campaign's previous shift. The abandonment record is not carried over:
// the counted shift starts a new day with no slack.
func RunCellWarm(mode pacing.Mode, c Cell, reps int, shift, warmup time.Duration, seed uint64, pc pacing.Config) Result {
	return RunCellStep(mode, c, reps, shift, warmup, seed, pc, Step{})
}

// RunCellStep is RunCellWarm with a step in the customers' live-answer
// rate during each counted shift.
func RunCellStep(mode pacing.Mode, c Cell, reps int, shift, warmup time.Duration, seed uint64, pc pacing.Config, step Step) Result {
	return runReps(reps, func(r int) Result {
		cfg := Config{Mode: mode, Cell: c, Shift: shift, Seed: SeedFor(seed, c, r), Pacing: pc, Step: step}
		if mode == pacing.Predictive && warmup > 0 {
			_, m := simulate(Config{Mode: mode, Cell: c, Shift: warmup, Seed: SeedFor(seed^0x5eed5eed, c, r), Pacing: pc})
			cfg.Model = &m
		}
		return Simulate(cfg)
	})
}

// runReps runs replications 0..reps-1 one after another and adds them up.
func runReps(reps int, run func(rep int) Result) Result {
	var sum Result
	var occ []float64
	for r := 0; r < reps; r++ {
		res := run(r)
		occ = append(occ, res.Occupancy)
		if r == 0 {
			sum = res
			continue
		}
		sum.Reps++
		sum.HandleTime += res.HandleTime
		for i, d := range res.HourlyHandle {
			sum.HourlyHandle[i] += d
		}
		sum.LoggedIn += res.LoggedIn
		sum.Placed += res.Placed
		sum.Live += res.Live
		sum.Abandoned += res.Abandoned
		sum.Connected += res.Connected
		sum.Events += res.Events
		sum.PacerCalls += res.PacerCalls
		sum.MaxInFlight = max(sum.MaxInFlight, res.MaxInFlight)
		sum.MaxRepAbandonPct = max(sum.MaxRepAbandonPct, res.AbandonPct)
		sum.PeakDayPct = max(sum.PeakDayPct, res.PeakDayPct)
		sum.HitRateChanges += res.HitRateChanges
		sum.StepLive += res.StepLive
		sum.StepAbandoned += res.StepAbandoned
		sum.StepReconverge += res.StepReconverge
	}
	sum.finish()
	sum.RepOccupancy = occ
	return sum
}

// OccupancySE is the standard error of Occupancy as the mean of the
// replications: their sample standard deviation over √reps (0 with fewer
// than two).
func (r Result) OccupancySE() float64 {
	n := float64(len(r.RepOccupancy))
	if n < 2 {
		return 0
	}
	var mean, ss float64
	for _, o := range r.RepOccupancy {
		mean += o / n
	}
	for _, o := range r.RepOccupancy {
		ss += (o - mean) * (o - mean)
	}
	return math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}
