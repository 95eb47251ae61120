package pacing

import (
	"math"
	"math/rand/v2"
	"testing"
)

// feedHit adds n resolved calls at rate p and returns how many of them
// passed before the estimate was first within 10 % of p (n if never).
func feedHit(h *hitRate, n int, p float64, rng *rand.Rand) int {
	within := n
	for i := 0; i < n; i++ {
		h.add(rng.Float64() < p)
		if within == n && math.Abs(h.rate()-p) <= 0.1*p {
			within = i + 1
		}
	}
	return within
}

// A steady rate raises no alarm over two busy days' calls, and a step is
// followed within a few hundred calls instead of the thousands the decayed
// counts alone need.
func TestHitRateStep(t *testing.T) {
	for _, tc := range []struct {
		from, to float64
		within   int // calls until the estimate is within 10 % of the new rate
	}{
		{0.1, 0.3, 1000},
		{0.3, 0.1, 2000},
		{0.2, 0.5, 300},
		{0.5, 0.2, 1000},
	} {
		rng := rand.New(rand.NewPCG(11, uint64(100*tc.from)))
		h := new(hitRate)
		*h = newHitRate(priorHit, priorHitWeight, hitMemory)
		feedHit(h, 1_000_000, tc.from, rng)
		if h.changes != 0 {
			t.Errorf("%.1f steady over a million calls: %d steps noticed, want none", tc.from, h.changes)
		}
		if math.Abs(h.rate()-tc.from) > 0.15*tc.from {
			t.Fatalf("%.1f steady: estimate %.3f", tc.from, h.rate())
		}
		got := feedHit(h, 20000, tc.to, rng)
		if h.changes != 1 {
			t.Errorf("%.1f → %.1f: %d steps noticed, want 1", tc.from, tc.to, h.changes)
		}
		if got > tc.within {
			t.Errorf("%.1f → %.1f: within 10 %% of the new rate after %d calls, want ≤ %d", tc.from, tc.to, got, tc.within)
		}
		// The decayed counts alone take thousands of calls, at least twice
		// the bound: it is one they would fail.
		slow := hitRate{live: tc.from * hitMemory, all: hitMemory, decay: 1 - 1/hitMemory}
		n := 0
		for ; n < 20000 && math.Abs(slow.rate()-tc.to) > 0.1*tc.to; n++ {
			x := 0.0
			if rng.Float64() < tc.to {
				x = 1
			}
			slow.live = slow.live*slow.decay + x
			slow.all = slow.all*slow.decay + 1
		}
		if n <= 2*tc.within {
			t.Errorf("%.1f → %.1f: decayed counts alone got there in %d calls; the test no longer tells the CUSUM's worth", tc.from, tc.to, n)
		}
	}
}

// Until the estimate rests on changeWarm calls (the prior and the day's
// first calls) nothing is a step.
func TestHitRateNoStepWhileWarming(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := new(hitRate)
	*h = newHitRate(priorHit, priorHitWeight, hitMemory)
	feedHit(h, int(changeWarm)-20, 0.5, rng) // far from the 0.2 prior
	if h.changes != 0 {
		t.Fatalf("%d steps noticed while warming up", h.changes)
	}
}
