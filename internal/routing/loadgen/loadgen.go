// Package loadgen drives a routing.Engine with a synthetic contact center
// and measures its decisions: `centralita bench routing` and the package's
// go test benchmarks use it.
//
// The contact center: Queues queues, each with one of the six strategies in
// turn, a skill evaluation (ALL, BEST, NONE in turn) and SkillsPerQueue
// skills drawn from Skills; Agents agents, each a member of QueuesPerAgent
// random queues with a proficiency of 1..5 in every skill of those queues;
// Waiting interactions, each in a random queue, requiring one of its
// skills, priority 0 (80 %), 1 (15 %) or 2 (5 %), preferring one member in
// preferred_agent queues. Bullseye rings are 4+ now, 2+ after 30 s,
// anyone after 60 s; the preferred-agent wait is 10 s; offers time out
// after 8 s.
//
// A decision is one Offer callback. Its latency runs from what made it
// possible — the later of the agent's SetAvailable, the interaction's
// Enqueue and a deadline that widened the interaction's pool (bullseye
// ring, end of the preferred-agent wait) — to the callback, all read from
// the monotonic clock. Each offer is accepted and replaced by a new interaction, so the
// number waiting stays at Waiting.
//
// Two phases:
//
//   - saturated: every agent cycles as fast as it can (accept, replace,
//     available again): the engine's throughput. Latency here is mostly
//     time spent queued behind the other agents' inputs.
//   - paced: agents are made available at Rate per second (an open loop,
//     bursts at the pacer's ~100 µs sleep granularity): the latency at that
//     load.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/routing"
)

// Config sizes the contact center and the run.
type Config struct {
	Agents, Queues, Skills, Waiting int
	QueuesPerAgent, SkillsPerQueue  int
	Decisions                       int     // per phase
	Rate                            float64 // paced phase, decisions per second; 0 skips it
	Seed                            uint64
}

// Default is the reference load.
func Default() Config {
	return Config{Agents: 1000, Queues: 100, Skills: 20, Waiting: 10000, QueuesPerAgent: 5, SkillsPerQueue: 3,
		Decisions: 200000, Rate: 20000, Seed: 1}
}

// Phase is one measured phase.
type Phase struct {
	Name                     string
	Decisions                int
	Elapsed                  time.Duration
	PerSecond                float64
	P50, P90, P99, P999, Max time.Duration
	Timeouts                 int
	Starved                  int // paced: triggers skipped because no agent was free
}

// Result of a run.
type Result struct {
	Config     Config
	Setup      time.Duration // building the contact center, to the first Sync
	Saturated  Phase
	Paced      *Phase
	HeapMB     float64 // runtime.MemStats.HeapAlloc after GC, engine loaded, at the end
	BaseHeapMB float64 // the same before the engine was built (the driver's own arrays included)
	Waiting    int     // interactions waiting at the end (sum of QueueStats)
}

type event struct {
	agent   int
	ix      string
	timeout bool
}

// sink is the engine's Decisions: it times each offer and hands it to the
// driver through a channel big enough never to block.
type sink struct {
	start     time.Time
	deadlines [][]int64 // per queue: times in queue at which more agents may take an interaction
	agentT0   []atomic.Int64
	ixT0      []atomic.Int64
	lat       []int64 // written by the engine goroutine only
	record    atomic.Bool
	events    chan event
	timeouts  atomic.Int64
}

func index(id string) int {
	n, _ := strconv.Atoi(id[1:])
	return n
}

func (s *sink) Offer(o routing.Offer) {
	now := int64(time.Since(s.start))
	a := index(o.AgentID)
	if s.record.Load() {
		ixT0 := s.ixT0[index(o.InteractionID)].Load()
		t0 := max(s.agentT0[a].Load(), ixT0)
		// A deadline (bullseye ring, end of the preferred-agent wait) that
		// passed after both inputs is the trigger.
		for _, d := range s.deadlines[index(o.QueueID)] {
			if at := ixT0 + d; at > t0 && at <= now {
				t0 = at
			}
		}
		s.lat = append(s.lat, now-t0)
	}
	s.events <- event{agent: a, ix: o.InteractionID}
}

func (s *sink) OfferTimedOut(ix, agent string) {
	s.timeouts.Add(1)
	s.events <- event{agent: index(agent), ix: ix, timeout: true}
}

func (s *sink) Overflowed(string, string, string) {}

type scenario struct {
	cfg     Config
	rng     *rand.Rand
	queues  []routing.Queue
	skills  [][]string // per queue
	members [][]string // per queue
	agents  []routing.Agent
	nextIx  int
}

func build(cfg Config) *scenario {
	sc := &scenario{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0xACD))}
	evals := []string{routing.EvaluateAll, routing.EvaluateBest, routing.EvaluateNone}
	for i := range cfg.Queues {
		q := routing.Queue{ID: fmt.Sprintf("q%d", i), Strategy: routing.Strategies[i%len(routing.Strategies)],
			SkillEvaluation: evals[(i/len(routing.Strategies))%len(evals)], AlertingTimeout: 8 * time.Second,
			ServiceLevel: 0.8, ServiceLevelTarget: 20 * time.Second}
		switch q.Strategy {
		case routing.Bullseye:
			q.Bullseye = []routing.Ring{{MinProficiency: 4}, {After: 30 * time.Second, MinProficiency: 2}, {After: time.Minute}}
		case routing.PreferredAgent:
			q.PreferredAgentWait = 10 * time.Second
		}
		sc.queues = append(sc.queues, q)
		perm := sc.rng.Perm(cfg.Skills)
		var sk []string
		for _, p := range perm[:min(cfg.SkillsPerQueue, cfg.Skills)] {
			sk = append(sk, fmt.Sprintf("s%d", p))
		}
		sc.skills = append(sc.skills, sk)
	}
	sc.members = make([][]string, cfg.Queues)
	for i := range cfg.Agents {
		a := routing.Agent{ID: fmt.Sprintf("a%d", i), Skills: map[string]float64{}}
		for _, qi := range sc.rng.Perm(cfg.Queues)[:min(cfg.QueuesPerAgent, cfg.Queues)] {
			a.Queues = append(a.Queues, sc.queues[qi].ID)
			sc.members[qi] = append(sc.members[qi], a.ID)
			for _, sk := range sc.skills[qi] {
				a.Skills[sk] = float64(1 + sc.rng.IntN(5))
			}
		}
		sc.agents = append(sc.agents, a)
	}
	return sc
}

func (sc *scenario) interaction() routing.Interaction {
	qi := sc.rng.IntN(len(sc.queues))
	ix := routing.Interaction{ID: "i" + strconv.Itoa(sc.nextIx), QueueID: sc.queues[qi].ID}
	sc.nextIx++
	if sk := sc.skills[qi]; len(sk) > 0 {
		ix.Skills = []string{sk[sc.rng.IntN(len(sk))]}
	}
	switch p := sc.rng.IntN(100); {
	case p < 5:
		ix.Priority = 2
	case p < 20:
		ix.Priority = 1
	}
	if sc.queues[qi].Strategy == routing.PreferredAgent && len(sc.members[qi]) > 0 {
		ix.PreferredAgents = []string{sc.members[qi][sc.rng.IntN(len(sc.members[qi]))]}
	}
	return ix
}

// Run builds the contact center, runs the phases and reports.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Agents <= 0 || cfg.Queues <= 0 || cfg.Decisions <= 0 || cfg.QueuesPerAgent <= 0 || cfg.Waiting <= 0 || cfg.Skills < 0 || cfg.Rate < 0 {
		return Result{}, errors.New("loadgen: agents, queues, queues per agent, waiting and decisions must be positive")
	}
	res := Result{Config: cfg}
	sc := build(cfg)
	maxIx := cfg.Waiting + 3*cfg.Decisions + 2*cfg.Agents + 16
	s := &sink{start: time.Now(), agentT0: make([]atomic.Int64, cfg.Agents), ixT0: make([]atomic.Int64, maxIx),
		lat: make([]int64, 0, cfg.Decisions+2*cfg.Agents), events: make(chan event, 2*cfg.Agents+64)}
	for _, q := range sc.queues {
		var ds []int64
		for _, r := range q.Bullseye[min(1, len(q.Bullseye)):] {
			ds = append(ds, int64(r.After))
		}
		if q.PreferredAgentWait > 0 {
			ds = append(ds, int64(q.PreferredAgentWait))
		}
		s.deadlines = append(s.deadlines, ds)
	}
	res.BaseHeapMB = heapMB()
	e := routing.New(clock.Real{}, s)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	t := time.Now()
	for _, q := range sc.queues {
		e.SetQueue(q)
	}
	for _, a := range sc.agents {
		e.SetAgent(a)
	}
	for range cfg.Waiting {
		ix := sc.interaction()
		s.ixT0[index(ix.ID)].Store(int64(time.Since(s.start)))
		e.Enqueue(ix)
	}
	if err := e.Sync(ctx); err != nil {
		return res, err
	}
	res.Setup = time.Since(t)

	now := func() int64 { return int64(time.Since(s.start)) }
	enqueue := func() {
		ix := sc.interaction()
		if n := index(ix.ID); n < len(s.ixT0) {
			s.ixT0[n].Store(now())
		}
		e.Enqueue(ix)
	}
	available := func(a int) {
		s.agentT0[a].Store(now())
		e.SetAvailable(sc.agents[a].ID, true)
	}

	// Saturated: every agent cycles; stop re-triggering after Decisions
	// offers (the first wave of one offer per agent is warm-up).
	d := &driver{e: e, s: s, sc: sc, avail: make([]bool, cfg.Agents), available: available, enqueue: enqueue}
	warm, stopAt := cfg.Agents, cfg.Agents+cfg.Decisions
	s.lat = s.lat[:0]
	s.record.Store(true)
	for a := range cfg.Agents {
		d.trigger(a)
	}
	offers := 0
	var tStart, tEnd time.Time
	for offers < stopAt {
		var ev event
		select {
		case ev = <-s.events:
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(30 * time.Second):
			return res, errors.New("loadgen: no decision for 30 s")
		}
		if d.handle(ev) {
			offers++
			if offers == warm {
				tStart = time.Now()
			}
		}
		if offers < stopAt {
			d.trigger(ev.agent)
		}
	}
	tEnd = time.Now()
	s.record.Store(false)
	if err := d.settle(ctx); err != nil {
		return res, err
	}
	lat := s.lat[min(warm, len(s.lat)):min(stopAt, len(s.lat))]
	res.Saturated = phase("saturated", lat, tEnd.Sub(tStart), int(s.timeouts.Load()))

	if cfg.Rate > 0 {
		p, err := d.paced(ctx, cfg)
		if err != nil {
			return res, err
		}
		res.Paced = &p
	}

	for _, q := range sc.queues {
		st, err := e.QueueStats(ctx, q.ID)
		if err != nil {
			return res, err
		}
		res.Waiting += st.Waiting
	}
	res.HeapMB = heapMB()
	runtime.KeepAlive(e)
	runtime.KeepAlive(s)
	return res, nil
}

// driver is the agents' side: it accepts every offer, replaces the
// interaction, and makes agents available again.
type driver struct {
	e         *routing.Engine
	s         *sink
	sc        *scenario
	avail     []bool // SetAvailable sent and no offer since
	available func(int)
	enqueue   func()
}

func (d *driver) trigger(a int) {
	d.avail[a] = true
	d.available(a)
}

// handle takes one event; it reports whether it was an offer.
func (d *driver) handle(ev event) bool {
	d.avail[ev.agent] = false
	if ev.timeout {
		return false
	}
	d.e.Accept(ev.ix, d.sc.agents[ev.agent].ID)
	d.enqueue()
	return true
}

// settle accepts (and replaces) offers until the engine makes no more.
func (d *driver) settle(ctx context.Context) error {
	for {
		if err := d.e.Sync(ctx); err != nil {
			return err
		}
		n := 0
		for drained := false; !drained; {
			select {
			case ev := <-d.s.events:
				d.handle(ev)
				n++
			default:
				drained = true
			}
		}
		if n == 0 {
			return nil
		}
	}
}

// paced makes unavailable agents available at cfg.Rate per second.
func (d *driver) paced(ctx context.Context, cfg Config) (Phase, error) {
	var ready []int
	for a, v := range d.avail {
		if !v {
			ready = append(ready, a)
		}
	}
	t0 := d.s.timeouts.Load()
	d.s.lat = d.s.lat[:0]
	d.s.record.Store(true)
	start := time.Now()
	var last, trigEnd time.Time
	sent, offers, starved := 0, 0, 0
	for {
		for drained := false; !drained; {
			select {
			case ev := <-d.s.events:
				if d.handle(ev) {
					offers++
					last = time.Now()
				}
				ready = append(ready, ev.agent)
			default:
				drained = true
			}
		}
		if sent < cfg.Decisions {
			due := min(cfg.Decisions, int(time.Since(start).Seconds()*cfg.Rate))
			for ; sent < due; sent++ {
				if len(ready) == 0 {
					starved++
					continue
				}
				a := ready[len(ready)-1]
				ready = ready[:len(ready)-1]
				d.trigger(a)
			}
			if sent == cfg.Decisions {
				trigEnd = time.Now()
			}
		} else if time.Since(trigEnd) > 200*time.Millisecond {
			break
		}
		if err := ctx.Err(); err != nil {
			return Phase{}, err
		}
		time.Sleep(100 * time.Microsecond)
	}
	d.s.record.Store(false)
	if err := d.settle(ctx); err != nil {
		return Phase{}, err
	}
	p := phase(fmt.Sprintf("paced at %.0f/s", cfg.Rate), d.s.lat[:min(offers, len(d.s.lat))], last.Sub(start), int(d.s.timeouts.Load()-t0))
	p.Starved = starved
	return p, nil
}

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

func phase(name string, lat []int64, elapsed time.Duration, timeouts int) Phase {
	p := Phase{Name: name, Decisions: len(lat), Elapsed: elapsed, Timeouts: timeouts}
	if elapsed > 0 {
		p.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) == 0 {
		return p
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	q := func(f float64) time.Duration {
		return time.Duration(sorted[min(len(sorted)-1, int(f*float64(len(sorted))))])
	}
	p.P50, p.P90, p.P99, p.P999, p.Max = q(0.50), q(0.90), q(0.99), q(0.999), time.Duration(sorted[len(sorted)-1])
	return p
}
