package dialersim

import (
	"math"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
)

// Policy decides how many calls to place at an instant; the simulation asks
// it instead of the pacer when Config.Policy is set (the pacer still sees
// every observation).
type Policy interface {
	Calls(s pacing.Snapshot) int
}

// Naive is the reference notes' §3.5 "naive predictive" policy, so that the
// baseline can be reproduced on this simulator, on the same customers as
// the pacer (common random numbers), instead of only read from the printed
// table: keep round(α × E[agents free within the mean live-answer delay] /
// p) calls in flight, never fewer than the idle agents. It is an oracle:
// it is given the cell's true hit rate, handle time and answer delay, and
// TuneNaive sets α in hindsight on the very replications it is measured
// on, as §3.5 did.
type Naive struct {
	Alpha float64
	P     float64       // the cell's live-answer probability
	AHT   time.Duration // the cell's mean handle time
	Delay time.Duration // the mean live-answer delay
}

// NaiveFor is the policy for a cell of the simulation's customer model
// (live answers after U(5, 20) s: 12.5 s on average).
func NaiveFor(c Cell, alpha float64) Naive {
	return Naive{Alpha: alpha, P: c.P, AHT: c.AHT, Delay: 12500 * time.Millisecond}
}

// Calls is the in-flight target less the calls in flight.
func (n Naive) Calls(s pacing.Snapshot) int {
	release := -math.Expm1(-n.Delay.Seconds() / math.Max(1, n.AHT.Seconds()))
	free := float64(s.Idle) + float64(len(s.Busy))*release
	target := int(math.Round(n.Alpha * free / math.Max(n.P, 1e-3)))
	target = max(target, s.Idle)
	return max(0, target-len(s.InFlight))
}

// NaiveCap is the abandonment (% of live answers) TuneNaive tunes to.
const NaiveCap = 3.0

// Tuned is a naive policy tuned on a cell: the largest α found whose
// abandonment over the replications stays ≤ NaiveCap, its result, and the
// smallest α found over it (the bisection's bracket).
type Tuned struct {
	Naive  Naive
	Result Result
	Over   float64 // the smallest α tried whose abandonment exceeded NaiveCap; 0 if none did
}

// TuneNaive sets α by bisection, as §3.5 describes: the largest value
// whose abandonment over reps replications of the cell stays ≤ 3 %, to
// within 0.001 (at 100 agents, AHT 60 s, 0.01 of α is 0.2 points of
// occupancy). α = 0 is progressive, which never abandons, so the bracket
// always has a feasible end.
func TuneNaive(c Cell, reps int, shift time.Duration, seed uint64) Tuned {
	run := func(alpha float64) Result {
		return runReps(reps, func(r int) Result {
			return Simulate(Config{Mode: pacing.Predictive, Cell: c, Shift: shift, Seed: SeedFor(seed, c, r), Policy: NaiveFor(c, alpha)})
		})
	}
	var best Tuned
	found := false
	lo, hi := 0.0, 2.0
	// Widen the bracket until it holds an α over the cap.
	for {
		r := run(hi)
		if r.AbandonPct > NaiveCap {
			best.Over = hi
			break
		}
		lo, best.Naive, best.Result, found = hi, NaiveFor(c, hi), r, true
		if hi >= 64 {
			return best // never over the cap (a cell with no gain in predictive)
		}
		hi *= 2
	}
	for hi-lo > 0.001 {
		mid := (lo + hi) / 2
		if r := run(mid); r.AbandonPct <= NaiveCap {
			lo, best.Naive, best.Result, found = mid, NaiveFor(c, mid), r, true
		} else {
			hi, best.Over = mid, mid
		}
	}
	if !found {
		best.Naive, best.Result = NaiveFor(c, 0), run(0)
	}
	best.Result.Mode = "naive"
	return best
}
