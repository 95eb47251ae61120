package routing

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// Hot-path benchmarks: the engine's state is driven directly, without the
// loop goroutine, so ns/op is the CPU cost of the decision itself. The
// whole engine (mailbox, goroutine hand-offs, callbacks) is measured by
// BenchmarkEngine in loadgen and by `centralita bench routing`.
//
//	go test ./internal/routing/... -run XXX -bench . -benchmem

type countDecisions struct {
	n    int
	last Offer
}

func (d *countDecisions) Offer(o Offer)                     { d.n++; d.last = o }
func (d *countDecisions) OfferTimedOut(string, string)      {}
func (d *countDecisions) Overflowed(string, string, string) {}

type benchCenter struct {
	s      *state
	d      *countDecisions
	at     int64
	rng    *rand.Rand
	queues []Queue
	skills [][]string
	agents []string
	next   int
}

// newBenchCenter: agents in 5 of the queues each, every strategy, 3 skills
// per queue out of 20, waiting interactions spread over the queues.
func newBenchCenter(agents, queues, waiting int) *benchCenter {
	d := &countDecisions{}
	clk := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	e := New(clk, d)
	c := &benchCenter{s: e.st, d: d, at: clk.Now().UnixNano(), rng: rand.New(rand.NewPCG(1, 2))}
	evals := []string{EvaluateAll, EvaluateBest, EvaluateNone}
	for i := range queues {
		q := Queue{ID: fmt.Sprintf("q%d", i), Strategy: Strategies[i%len(Strategies)], SkillEvaluation: evals[(i/6)%3], AlertingTimeout: 8 * time.Second}
		if q.Strategy == Bullseye {
			q.Bullseye = []Ring{{MinProficiency: 4}, {After: 30 * time.Second, MinProficiency: 2}, {After: time.Minute}}
		}
		c.queues = append(c.queues, q)
		var sk []string
		for _, p := range c.rng.Perm(20)[:3] {
			sk = append(sk, fmt.Sprintf("s%d", p))
		}
		c.skills = append(c.skills, sk)
		c.apply(msg{kind: mSetQueue, p: &q})
	}
	for i := range agents {
		a := Agent{ID: fmt.Sprintf("a%d", i), Skills: map[string]float64{}}
		for _, qi := range c.rng.Perm(queues)[:min(5, queues)] {
			a.Queues = append(a.Queues, c.queues[qi].ID)
			for _, sk := range c.skills[qi] {
				a.Skills[sk] = float64(1 + c.rng.IntN(5))
			}
		}
		c.agents = append(c.agents, a.ID)
		c.apply(msg{kind: mSetAgent, p: &a})
	}
	for range waiting {
		c.enqueue()
	}
	return c
}

func (c *benchCenter) apply(m msg) {
	m.at = c.at
	c.s.apply(&m)
}

func (c *benchCenter) enqueue() {
	qi := c.rng.IntN(len(c.queues))
	ix := Interaction{ID: "i" + strconv.Itoa(c.next), QueueID: c.queues[qi].ID, Skills: []string{c.skills[qi][c.rng.IntN(3)]}, Priority: c.rng.IntN(3) / 2}
	c.next++
	c.apply(msg{kind: mEnqueue, p: &ix})
}

// An agent becomes available with 10,000 interactions waiting: it takes
// the best one among its queues; it accepts and a new interaction arrives
// (no agent is idle, so the arrival only files it).
func BenchmarkAgentAvailable(b *testing.B) {
	c := newBenchCenter(1000, 100, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a := c.agents[i%len(c.agents)]
		n := c.d.n
		c.apply(msg{kind: mSetAvailable, a: a, flag: true})
		if c.d.n == n {
			c.apply(msg{kind: mSetAvailable, a: a})
			continue
		}
		c.apply(msg{kind: mAccept, a: c.d.last.InteractionID, b: a})
		c.enqueue()
	}
}

// An interaction arrives with idle agents: it goes to the best idle agent
// of its class; the agent accepts and becomes available again (filed back
// in the idle heaps of every class of its queues).
func BenchmarkInteractionArrives(b *testing.B) {
	c := newBenchCenter(1000, 100, 0)
	for _, a := range c.agents {
		c.apply(msg{kind: mSetAvailable, a: a, flag: true})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n := c.d.n
		c.enqueue()
		if c.d.n == n {
			continue
		}
		o := c.d.last
		c.apply(msg{kind: mAccept, a: o.InteractionID, b: o.AgentID})
		c.apply(msg{kind: mSetAvailable, a: o.AgentID, flag: true})
	}
}

// Position of a random interaction among 10,000 waiting in one queue.
func BenchmarkPosition(b *testing.B) {
	c := newBenchCenter(0, 1, 10000)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := c.s.position("i" + strconv.Itoa(i%10000)); err != nil {
			b.Fatal(err)
		}
	}
}
