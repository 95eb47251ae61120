package pacing

import "math"

// hitRate estimates the live-answer rate among resolved calls: decayed
// counts (memory about hitMemory calls), so that the estimate is steady,
// plus a two-sided Bernoulli CUSUM that notices a step (a list of another
// quality, the evening's answer rate) within a hundred or so calls. On a
// step the counts restart from the calls seen since the change began,
// instead of waiting thousands of calls for the memory to fade: after a
// step from 0.1 to 0.3 at 100 agents the decayed estimate alone took about
// ten minutes to reach 0.25, while the calls already in flight at the old
// rate abandoned in bursts.
type hitRate struct {
	live, all float64 // decayed counts
	decay     float64

	up, down cusum // a rise and a fall of the rate
	changes  int   // steps detected
}

// cusum is one side of the test: its statistic, and the calls (and live
// answers among them) since it last stood at zero, the change's estimated
// start.
type cusum struct {
	s, n, live float64
}

// add moves the statistic by the log-likelihood ratio of x under p1
// against p0.
func (c *cusum) add(x, p0, p1 float64) {
	llr := math.Log((1 - p1) / (1 - p0))
	if x == 1 {
		llr = math.Log(p1 / p0)
	}
	c.s = math.Max(0, c.s+llr)
	if c.s == 0 {
		c.n, c.live = 0, 0
		return
	}
	c.n, c.live = c.n+1, c.live+x
}

const (
	// The CUSUM looks for a rate changeRatio times higher or lower than
	// the estimate (plus changeFloor on the way up, so that a rate near 0
	// can be seen to rise).
	changeRatio = 1.6
	changeFloor = 0.02
	// changeH is the decision threshold in log-likelihood: e^14 (about a
	// million calls) between false alarms on a steady rate, a busy
	// 100-agent day's calls being about half a million. A false alarm
	// only restarts the estimate from the last hundred or so calls.
	changeH = 14.0
	// changeWarm: no detection until the estimate rests on this many
	// calls (the prior and the day's first calls are not a rate to
	// step from).
	changeWarm = 500.0
	// changeMin: the restarted estimate rests on at least this many
	// calls (the most recent), so that it is not a handful of draws.
	changeMin = 100.0
)

func newHitRate(prior, weight, memory float64) hitRate {
	return hitRate{live: prior * weight, all: weight, decay: 1 - 1/memory}
}

// rate is the estimate.
func (h *hitRate) rate() float64 { return h.live / h.all }

// add records a resolved call.
func (h *hitRate) add(live bool) {
	x := 0.0
	if live {
		x = 1
	}
	if h.all >= changeWarm {
		if h.step(x) {
			return
		}
	} else {
		h.up, h.down = cusum{}, cusum{}
	}
	h.live = h.live*h.decay + x
	h.all = h.all*h.decay + 1
}

// step advances both CUSUMs with observation x against the estimate and,
// when one crosses the threshold, restarts the counts from the calls since
// it last stood at zero (x included). It reports whether it did.
func (h *hitRate) step(x float64) bool {
	p0 := math.Max(0.001, math.Min(0.999, h.rate()))
	h.up.add(x, p0, math.Min(0.999, changeRatio*p0+changeFloor))
	h.down.add(x, p0, p0/changeRatio)
	var c cusum
	down := false
	switch {
	case h.up.s > changeH:
		c = h.up
	case h.down.s > changeH:
		c, down = h.down, true
	default:
		return false
	}
	n, l := c.n, c.live
	if n < changeMin {
		// Too few calls since the change began for a rate of their own:
		// blend the missing weight in at the old estimate.
		l += (changeMin - n) * p0
		n = changeMin
	}
	if down {
		// The test fires when the recent calls look lowest, so their rate
		// is biased low, and a rate too low over-dials into abandonments
		// (a step from 0.3 to 0.1 at 25 agents abandoned 6.6 % of the
		// next ten minutes' live answers restarting from it). Restart from
		// the upper end of its interval instead: the calls that follow
		// bring it down within a few hundred, under-dialing meanwhile.
		l = n * math.Min(p0, wilsonUpper(l/n, n, softZ))
	}
	h.live, h.all = l, n
	h.up, h.down = cusum{}, cusum{}
	h.changes++
	return true
}
