package pacing

import (
	"math"
	"sort"
	"time"
)

// Mode is a campaign's dialing mode.
type Mode string

// Dialing modes.
const (
	Preview     Mode = "preview"
	Progressive Mode = "progressive"
	Power       Mode = "power"
	Predictive  Mode = "predictive"
)

// DefaultAbandonCap is the abandonment cap when Config.AbandonCap is 0:
// 3 % of live answers (FTC safe harbor, Ofcom).
const DefaultAbandonCap = 0.03

// Grace is how long a live answer may wait for an agent before it counts
// as abandoned.
const Grace = 2 * time.Second

// Config configures a Pacer.
type Config struct {
	Mode       Mode
	Ratio      float64        // power: lines per free agent (1–10)
	AbandonCap float64        // fraction of live answers, default 0.03
	Location   *time.Location // where a "day" starts for the per-day count; nil = UTC
	// Target is the abandonment rate predictive pacing steers to, as a
	// fraction of live answers; 0 means 0.95 × AbandonCap. It is clamped
	// to the cap. Independently of it, a guard band keeps the day's and the
	// window's count under the cap (see the package documentation).
	Target float64
	// Threshold, when positive, fixes predictive pacing's marginal-risk
	// threshold θ instead of steering it from the abandonment record (for
	// experiments; the cap guard still applies).
	Threshold float64
}

// Snapshot is the campaign at a decision instant.
type Snapshot struct {
	Now time.Time
	// Idle: agents logged in, ready, with no connected call. An agent the
	// dialer set aside for a call still in flight counts here too: the
	// formulas subtract len(InFlight) (progressive: one call per free agent).
	Idle     int
	Busy     []time.Duration // for each agent on a campaign call or its wrap-up: time since that call was connected
	InFlight []time.Duration // for each placed call not yet answered or ended: time since it was placed
	Waiting  int             // live answers waiting for an agent right now (within their 2 s)
}

// Stats are the pacer's estimates and counts at an instant.
type Stats struct {
	Mode    Mode
	HitRate float64 // live answers per resolved call
	// HitRateChanges counts the steps in the hit rate noticed since New
	// (the estimate then restarts from the calls since the step).
	HitRateChanges int
	AnswerDelay    time.Duration // mean delay of a live answer after placing
	AHT            time.Duration // mean handle time (talk + wrap-up) of finished calls
	AHTCensored    time.Duration // predictive: the handle-time mean the last decision used (counts calls still going)

	LiveToday, AbandonedToday int
	Live30d, Abandoned30d     int
	AbandonRateToday          float64
	AbandonRate30d            float64

	Placed    int     // calls placed since New
	Answered  int     // live answers since New
	Connected int     // live answers connected to an agent since New
	Cap       float64 // the abandonment cap
	Target    float64 // the rate predictive pacing steers to (the guard band may hold it lower)
	Threshold float64 // predictive: the current marginal-risk threshold θ
	AtRisk    bool    // predictive: one more abandonment would break the cap: soft pacing (negligible-risk calls only) or progressive
	State     State   // predictive: how the last decision paced
}

// State is how predictive pacing decided, for supervisors: normally, or
// held back because the abandonment cap is at risk.
type State string

// Pacing states.
const (
	StateNormal      State = "normal"      // calls up to the risk threshold θ
	StateSoft        State = "soft"        // the cap is at risk: calls of negligible risk only
	StateProgressive State = "progressive" // the cap is at risk in a small team: one call per free agent
)

// Day is the abandonment record of one day (in Config.Location).
type Day struct {
	Date      string // YYYY-MM-DD in Location
	Live      int
	Abandoned int
}

// Model constants.
const (
	kPoints   = 8                      // answer-time quantiles for the marginal call
	delayBin  = 500 * time.Millisecond // answer / resolution delay histograms
	delayBins = 256                    // up to 128 s
	window    = 30                     // days in the rolling window

	priorHit       = 0.2
	priorHitWeight = 10.0
	hitMemory      = 2000.0 // resolved calls (exponential forgetting)
	delayMemory    = 2000.0 // observations
	handleMemory   = 3000.0 // handled calls
	// Until this many calls were handled, the mean handle time is the
	// censored estimate (finished calls' time plus busy agents' time so far,
	// over finished calls): the calls that end first are the short ones.
	censoredUntil = 1000
	priorAHT      = 180 * time.Second

	defaultTarget = 0.95 // × the cap, when Config.Target is 0

	thetaMin   = 0.0005
	thetaMax   = 0.6
	thetaBase  = 0.02  // θ's starting base
	softTheta  = 0.002 // θ while the cap is at risk (soft pacing)
	softAgents = 20    // teams this large pace softly all day at the cap (smaller ones only at the start)
	softZ      = 2.0   // and the hit rate's upper bound then, in standard errors (Wilson)
	exactTerms = 64    // busy agents + calls in flight up to which the risk is computed exactly

	slackScale = 5.0    // abandonments per e-fold of θ
	baseRate   = 0.0005 // integral gain, per live answer
	fastRate   = 0.01   // extra integral gain while the day is young
	slowLive   = 3000.0 // live answers: the base gain fades after about these
	fastLive   = 300.0  // live answers: the extra gain fades after about these
	capBand    = 1.5    // guard band under the cap, in sqrt(abandonments allowed)
	bandMin    = 0.2    // the band's least weight
	bandHit    = 0.2    // and below this hit rate it widens (see slackTerm)
	bandAgents = 20.0   // the band is full from this many agents up
	capBand0   = 2.0    // guard band under the cap, abandonments
	propScale  = 0.3    // the proportional scale, per affordable abandonment
	fastAgents = 8.0    // the extra gain fades as (fastAgents/agents)² above this
	upAgents   = 20     // from this many agents up, the proportional term's
	upClamp    = 0.3    // upward push is at most this (S/s)
	midLo      = 20     // larger teams: from this many agents
	midTarget  = 0.967  // their target, × the cap (default target only)
	midBand    = 0.7    // and the weight of capBand·sqrt(cap × live) in their band
)

// Pacer decides how many calls to place. Not safe for concurrent use.
type Pacer struct {
	cfg    Config
	loc    *time.Location
	cap    float64
	target float64
	// defTarget: Config.Target was 0 (mid-size teams may steer higher).
	defTarget bool

	// estimators
	hit            hitRate
	liveDelay      hist
	deadDelay      hist
	ahtSum, ahtW   float64 // decayed mean of handle times
	delaySum, delW float64 // decayed mean of live delays

	// derived tables
	dirty      bool
	builtAt    time.Time
	p          float64
	tau        [kPoints]float64            // seconds
	newF       [kPoints]float64            // p·F_L(τ_k)
	inflight   [delayBins][kPoints]float32 // P(live answer within τ_k | unanswered at age a)
	inflightV  [delayBins][kPoints]float32 // b(1−b)
	aht        float64                     // seconds, censoring-corrected, from the last decision
	handled    int                         // calls handled since New
	handledSum float64                     // their handle time, seconds
	cdfScratch []float64
	cdfLive    []float64

	// abandonment record, oldest first
	days []Day

	placed, answered, connected int
	theta                       float64
	logBase                     float64
	atRisk                      bool
	builtPessimistic            bool         // the tables were built with the hit rate's upper bound
	pmf                         []float64    // exactCalls' distributions, K rows
	lo, hi                      [kPoints]int // and their support
	agents                      int          // Idle + Busy at the last decision
	state                       State        // how the last decision paced
}

// New returns a Pacer for cfg at now.
func New(cfg Config, now time.Time) *Pacer {
	if cfg.AbandonCap <= 0 {
		cfg.AbandonCap = DefaultAbandonCap
	}
	defTarget := cfg.Target <= 0
	if cfg.Target <= 0 || cfg.Target > cfg.AbandonCap {
		cfg.Target = defaultTarget * cfg.AbandonCap
	}
	if cfg.Mode == "" {
		cfg.Mode = Progressive
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	p := &Pacer{
		cfg:       cfg,
		loc:       loc,
		cap:       cfg.AbandonCap,
		target:    cfg.Target,
		defTarget: defTarget,
		liveDelay: newHist(delayBins, delayBin.Seconds(), delayMemory),
		deadDelay: newHist(delayBins, delayBin.Seconds(), delayMemory),
		dirty:     true,
		theta:     thetaBase,
		logBase:   math.Log(thetaBase),
	}
	p.hit = newHitRate(priorHit, priorHitWeight, hitMemory)
	// Weak priors: delays uniform over 2–30 s, handle time exponential.
	for x := 2.25; x < 30; x += 0.5 {
		p.liveDelay.addWeight(x, 20.0/56)
		p.deadDelay.addWeight(x, 20.0/56)
	}
	p.delaySum, p.delW = 16*5, 5
	p.ahtSum, p.ahtW = priorAHT.Seconds()*5, 5
	p.cdfScratch = make([]float64, delayBins+1)
	p.day(now)
	return p
}

// ---- decisions ----

// Calls is how many new calls to place now. Preview → 0; progressive →
// max(0, Idle − len(InFlight)); power → max(0, ceil(Ratio×Idle) −
// len(InFlight)); predictive → see the package documentation, never fewer
// than progressive and exactly progressive while the cap is at risk.
func (p *Pacer) Calls(s Snapshot) int {
	prog := s.Idle - len(s.InFlight)
	if prog < 0 {
		prog = 0
	}
	switch p.cfg.Mode {
	case Preview:
		return 0
	case Power:
		r := p.cfg.Ratio
		if r < 1 {
			r = 1
		}
		if r > 10 {
			r = 10
		}
		n := int(math.Ceil(r*float64(s.Idle)-1e-9)) - len(s.InFlight)
		if n < 0 {
			n = 0
		}
		return n
	case Predictive:
		return p.predictive(s, prog)
	default:
		return prog
	}
}

func (p *Pacer) predictive(s Snapshot, prog int) int {
	d := p.day(s.Now)
	p.agents = s.Idle + len(s.Busy)
	p.atRisk = p.capAtRisk(d)
	// While the cap is at risk, only calls whose risk is negligible: at
	// the start of a day (no live answers yet, so no room at all, and none
	// abandoned), and all day in teams of softAgents or more: the
	// progressive fallback left large teams idle for the first minute of
	// every day (a 100-agent team at p = 0.1 sat at 15 % occupancy while
	// it waited for 34 live answers with 100 calls in flight) and cost
	// them 5–30 points whenever a burst of abandonments reached the cap.
	// Calls at θ = 0.2 % abandon about 0.1 % of live answers, so a large
	// team's record regains room within a minute; that holds when the
	// count is already over the cap too, where progressive pacing, which
	// abandons nothing but brings few live answers (30 % occupancy at
	// p = 0.1), took longer by the clock to get back under it (one such
	// episode cost a 100-agent, p = 0.1 day 0.4 points): soft pacing gets
	// the rate back under the cap sooner, which is what a campaign stopped
	// early is measured on. The hit rate is judged pessimistically (the
	// upper end of its interval) only at the start of a day, when it rests
	// on few calls; later the estimate is tight, and the bound (13 % above
	// an estimate of 0.1 over 2,000 calls) only cost calls. Smaller teams,
	// once the day has an abandonment, stay exactly progressive: their cap
	// is at risk for tens of minutes at a time late in the day, and even
	// negligible marginal risks add up to an abandonment over such a
	// stretch (one put a 5-agent day at 3.02 %).
	soft, pessimistic := false, false
	p.state = StateNormal
	if p.atRisk {
		clean := p.cleanStart(d)
		if !clean && p.agents < softAgents {
			p.state = StateProgressive
			return prog
		}
		soft, pessimistic = true, clean
		p.state = StateSoft
	}
	p.rebuild(s.Now, pessimistic)
	if soft {
		p.theta = softTheta
	} else {
		p.theta = p.threshold(d)
		if p.cfg.Threshold > 0 {
			p.theta = p.cfg.Threshold
		}
	}
	if s.Idle+len(s.Busy) == 0 {
		return prog
	}

	// Supply minus demand at each τ_k, before any new call.
	var mu, vr [kPoints]float64
	for k := range mu {
		mu[k] = float64(s.Idle - s.Waiting)
	}
	// Releases: exponential handle time whose mean is the exposure (finished
	// calls plus the time busy agents have spent so far) over finished calls,
	// so that the short calls that end first do not bias it at the start.
	if p.handled >= censoredUntil {
		p.aht = p.ahtSum / p.ahtW
	} else {
		exposure := p.handledSum + priorAHT.Seconds()*5
		for _, e := range s.Busy {
			exposure += e.Seconds()
		}
		p.aht = exposure / float64(p.handled+5)
	}
	p.aht = math.Max(1, p.aht)
	nb := float64(len(s.Busy))
	for k := range mu {
		r := -math.Expm1(-(p.tau[k] + Grace.Seconds()) / p.aht)
		mu[k] += nb * r
		vr[k] += nb * r * (1 - r)
	}
	var dem [kPoints]float64
	for _, a := range s.InFlight {
		i := int(a / delayBin)
		if i >= delayBins || i < 0 {
			i = delayBins - 1
		}
		b, bv := &p.inflight[i], &p.inflightV[i]
		for k := range mu {
			dem[k] += float64(b[k])
			vr[k] += float64(bv[k])
		}
	}
	for k := range mu {
		mu[k] -= dem[k]
	}

	// Place calls one by one while the marginal call's risk stays ≤ θ.
	limit := 4*(s.Idle+len(s.Busy)) + int(float64(s.Idle+len(s.Busy))/math.Max(p.p, 0.01))
	if len(s.Busy)+len(s.InFlight) <= exactTerms {
		n := p.exactCalls(s, limit)
		if n < prog {
			n = prog
		}
		return n
	}
	n := 0
	for n < limit {
		risk := 0.0
		for k := range mu {
			f := p.newF[k]
			m := mu[k] - float64(n)*f
			v := vr[k] + float64(n)*f*(1-f) + 0.25
			risk += phi((0.5 - m) / math.Sqrt(v))
		}
		risk /= kPoints
		if risk > p.theta {
			break
		}
		n++
	}
	if n < prog {
		n = prog
	}
	return n
}

// cleanStart: nothing abandoned today, and the 30-day window has room
// for one more abandonment (or none abandoned either).
func (p *Pacer) cleanStart(d int) bool {
	_, at, l30, a30 := p.counts(d)
	return at == 0 && (a30 == 0 || float64(a30+1) <= p.cap*float64(l30))
}

// exactCalls is the marginal-risk rule with the exact distribution of the
// free agents at each τ_k (releases binomial, each in-flight call's live
// answer a Bernoulli, the new calls binomial) instead of its normal
// approximation: with a handful of agents and calls the normal's tails
// are wrong by a factor, in both directions, and small teams lost
// occupancy to it (with the exact sums 5 agents, p = 0.1, AHT 300 s gain
// 1.1 points and 10 agents, p = 0.3, AHT 120 s 0.5 points). Cost
// O(K·terms·(terms + limit)).
func (p *Pacer) exactCalls(s Snapshot, limit int) int {
	nb, m := len(s.Busy), len(s.InFlight)
	size := nb + m + limit + 2
	off := m + limit + 1 // index of value 0
	if cap(p.pmf) < kPoints*size {
		p.pmf = make([]float64, kPoints*size)
	}
	pm := p.pmf[:kPoints*size]
	for i := range pm {
		pm[i] = 0
	}
	base := s.Idle - s.Waiting
	for k := 0; k < kPoints; k++ {
		row := pm[k*size : (k+1)*size]
		row[off] = 1
		lo, hi := off, off // support
		r := -math.Expm1(-(p.tau[k] + Grace.Seconds()) / p.aht)
		for j := 0; j < nb; j++ { // one more release: shift up
			for v := hi + 1; v > lo; v-- {
				row[v] = row[v]*(1-r) + row[v-1]*r
			}
			row[lo] *= 1 - r
			hi++
		}
		for _, a := range s.InFlight { // one more possible demand: shift down
			i := int(a / delayBin)
			if i >= delayBins || i < 0 {
				i = delayBins - 1
			}
			b := float64(p.inflight[i][k])
			for v := lo - 1; v < hi; v++ {
				row[v] = row[v]*(1-b) + row[v+1]*b
			}
			row[hi] *= 1 - b
			lo--
		}
		p.lo[k], p.hi[k] = lo, hi
	}
	n := 0
	for ; n < limit; n++ {
		risk := 0.0
		for k := 0; k < kPoints; k++ {
			row := pm[k*size : (k+1)*size]
			// P(base + value − new ≤ 0) = P(value ≤ −base), new calls already folded in.
			t := off - base
			for v := p.lo[k]; v <= p.hi[k] && v <= t; v++ {
				risk += row[v]
			}
		}
		risk /= kPoints
		if risk > p.theta {
			break
		}
		for k := 0; k < kPoints; k++ { // fold the new call in
			row := pm[k*size : (k+1)*size]
			f := p.newF[k]
			lo, hi := p.lo[k], p.hi[k] // lo ≥ 1: room for limit new calls
			for v := lo - 1; v < hi; v++ {
				row[v] = row[v]*(1-f) + row[v+1]*f
			}
			row[hi] *= 1 - f
			p.lo[k] = lo - 1
		}
	}
	return n
}

// capAtRisk: one more abandonment would put today's or the 30-day rate
// over the cap.
func (p *Pacer) capAtRisk(d int) bool {
	lt, at, l30, a30 := p.counts(d)
	return float64(at+1) > p.cap*float64(lt) || float64(a30+1) > p.cap*float64(l30)
}

// threshold is θ from the abandonment slack (see the package documentation).
func (p *Pacer) threshold(d int) float64 {
	st := p.slackTerm(d)
	if p.agents >= upAgents {
		// Large teams: a full e-fold above the base early in the day
		// overshoots into abandonment bursts that cost far more (the
		// guard band, the progressive fallback) than the push gains.
		st = math.Min(st, upClamp)
	}
	return math.Max(thetaMin, math.Min(thetaMax, math.Exp(p.logBase+st)))
}

// slackTerm is S/s: the abandonments still affordable at the target rate
// and inside the guard band under the cap, today and over 30 days (the
// smallest), over the controller's scale s.
func (p *Pacer) slackTerm(d int) float64 {
	lt, at, l30, a30 := p.counts(d)
	// Teams of midLo agents or more on the default target steer closer
	// to the cap with a narrower band: their days have enough live
	// answers for the count to be steered tightly, and the band held them
	// under the occupancy of the reference notes' baseline. (It once
	// stopped at 75 agents; with soft pacing and the steadier θ of
	// propScale, 100 agents gain from it too.)
	target, bandW := p.target, 1.0
	if p.defTarget && p.agents >= midLo {
		target, bandW = math.Min(p.cap, midTarget*p.cap), midBand
	}
	slack := math.Min(target*float64(lt)-float64(at), target*float64(l30)-float64(a30))
	// Early in a day the cap leaves little room: keep a guard band of
	// capBand·sqrt(cap × live) + capBand0 abandonments under the cap, so
	// that a burst of abandonments does not hit the fallback.
	band := func(l, a int) float64 {
		c := p.cap * float64(l)
		// The fallback (progressive) costs most in large teams and at
		// low hit rates, where predictive places many calls per agent;
		// small teams with high hit rates, whose days have few live
		// answers, get a light band.
		w := math.Min(1, bandMin+math.Pow(float64(p.agents)/bandAgents, 2)*math.Max(1, math.Pow(bandHit/math.Max(p.p, 0.01), 2)))
		return c - float64(a) - w*(bandW*capBand*math.Sqrt(c)+capBand0)
	}
	slack = math.Min(slack, math.Min(band(lt, at), band(l30, a30)))
	// The scale grows with the volume so that large campaigns, which see
	// many abandonments, are not jolted by each one.
	// Over the target (negative slack) it backs off at the fixed scale.
	scale := slackScale
	if slack > 0 {
		scale += propScale * p.target * float64(lt)
	}
	return math.Max(-8, math.Min(1, slack/scale))
}

// adapt moves θ's base a little toward where the slack says it should be
// (the integral part of the controller), on every live answer.
func (p *Pacer) adapt(d int) {
	lt, _, _, _ := p.counts(d)
	// Upward, faster while the day is young (small campaigns see few live
	// answers a day and would otherwise never reach the target) and slower
	// as the day's volume grows (large campaigns' estimates are tight; a
	// fast integral only adds noise). Downward at the base rate.
	// The extra gain is for small teams: in large ones (more than
	// fastAgents agents) it fades as (fastAgents/agents)², since their
	// days have live answers enough for the base gain and a fast climb
	// overshoots.
	fast := fastRate * math.Min(1, math.Pow(fastAgents/math.Max(1, float64(p.agents)), 2))
	gain := baseRate*math.Min(1, slowLive/float64(lt+1)) + fast*math.Min(1, fastLive/float64(lt+1))
	st := p.slackTerm(d)
	if st < 0 {
		gain = baseRate
	}
	p.logBase += gain * math.Max(-1, math.Min(1, st))
	p.logBase = math.Max(math.Log(thetaMin), math.Min(math.Log(thetaMax), p.logBase))
}

// phi is the standard normal CDF Φ(x).
func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// ---- observations ----

// Placed records a call placed at now.
func (p *Pacer) Placed(now time.Time) { p.placed++ }

// Answered records an answer after `after` since the call was placed; live
// is false for an answering machine.
func (p *Pacer) Answered(now time.Time, after time.Duration, live bool) {
	p.hit.add(live)
	if live {
		p.liveDelay.add(after.Seconds())
		p.delaySum = p.delaySum*p.hit.decay + after.Seconds() // forgets at the hit rate's pace
		p.delW = p.delW*p.hit.decay + 1
		p.answered++
		d := p.day(now)
		p.days[d].Live++
		if p.cfg.Mode == Predictive && !p.capAtRisk(d) {
			p.adapt(d)
		}
	} else {
		p.deadDelay.add(after.Seconds())
	}
	p.dirty = true
}

// Failed records a call that ended unanswered (busy, no answer, rejected,
// failed) after `after` since it was placed.
func (p *Pacer) Failed(now time.Time, after time.Duration) {
	p.hit.add(false)
	p.deadDelay.add(after.Seconds())
	p.dirty = true
}

// Connected records a live answer that reached an agent after waiting.
func (p *Pacer) Connected(now time.Time, waited time.Duration) { p.connected++ }

// Abandoned records a live answer that got no agent within 2 s.
func (p *Pacer) Abandoned(now time.Time) { p.days[p.day(now)].Abandoned++ }

// Handled records a campaign call an agent finished: talk + wrap-up d.
func (p *Pacer) Handled(now time.Time, d time.Duration) {
	if d < 0 {
		d = 0
	}
	g := 1 - 1/handleMemory
	p.ahtSum = p.ahtSum*g + d.Seconds()
	p.handled++
	p.handledSum += d.Seconds()
	p.ahtW = p.ahtW*g + 1
}

// Stats reports the estimates and counts at now.
func (p *Pacer) Stats(now time.Time) Stats {
	d := p.day(now)
	lt, at, l30, a30 := p.counts(d)
	st := Stats{
		Mode:           p.cfg.Mode,
		HitRate:        p.hit.rate(),
		HitRateChanges: p.hit.changes,
		AnswerDelay:    time.Duration(p.delaySum / p.delW * float64(time.Second)),
		AHT:            time.Duration(p.ahtSum / p.ahtW * float64(time.Second)),
		AHTCensored:    time.Duration(p.aht * float64(time.Second)),
		LiveToday:      lt,
		AbandonedToday: at,
		Live30d:        l30,
		Abandoned30d:   a30,
		Placed:         p.placed,
		Answered:       p.answered,
		Connected:      p.connected,
		Cap:            p.cap,
		Target:         p.target,
		Threshold:      p.theta,
		AtRisk:         p.capAtRisk(d),
		State:          p.state,
	}
	if lt > 0 {
		st.AbandonRateToday = float64(at) / float64(lt)
	}
	if l30 > 0 {
		st.AbandonRate30d = float64(a30) / float64(l30)
	}
	return st
}

// ---- per-day record ----

// day returns the index of now's day in p.days, adding it (and dropping
// days that left the window) when needed.
func (p *Pacer) day(now time.Time) int {
	date := now.In(p.loc).Format("2006-01-02")
	if n := len(p.days); n > 0 && p.days[n-1].Date == date {
		return n - 1
	}
	for i, d := range p.days {
		if d.Date == date {
			return i
		}
	}
	p.days = append(p.days, Day{Date: date})
	sort.Slice(p.days, func(i, j int) bool { return p.days[i].Date < p.days[j].Date })
	p.prune(date)
	for i, d := range p.days {
		if d.Date == date {
			return i
		}
	}
	return len(p.days) - 1 // not reached
}

// prune drops days older than the 30-day window ending on date.
func (p *Pacer) prune(date string) {
	cut := cutoff(date)
	i := 0
	for i < len(p.days) && p.days[i].Date < cut {
		i++
	}
	if i > 0 {
		p.days = append(p.days[:0], p.days[i:]...)
	}
}

// cutoff is the first date of the 30-day window ending on date.
func cutoff(date string) string {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -(window - 1)).Format("2006-01-02")
}

// counts returns today's and the window's live answers and abandonments.
func (p *Pacer) counts(d int) (lt, at, l30, a30 int) {
	cut := cutoff(p.days[d].Date)
	for _, x := range p.days {
		if x.Date >= cut && x.Date <= p.days[d].Date {
			l30 += x.Live
			a30 += x.Abandoned
		}
	}
	return p.days[d].Live, p.days[d].Abandoned, l30, a30
}

// Days returns the per-day record inside the 30-day window, oldest first.
func (p *Pacer) Days() []Day {
	return append([]Day(nil), p.days...)
}

// Restore replaces the per-day record with days (e.g. read back after a
// restart); days with an unparsable date are ignored, repeated dates are
// added up. Days outside the window ending on the newest of the restored
// and current days are dropped.
func (p *Pacer) Restore(days []Day) {
	m := map[string]Day{}
	for _, d := range p.days {
		if d.Live == 0 && d.Abandoned == 0 {
			m[d.Date] = d // keep today's (empty) entry
		}
	}
	for _, d := range days {
		if _, err := time.Parse("2006-01-02", d.Date); err != nil {
			continue
		}
		x := m[d.Date]
		x.Date = d.Date
		x.Live += d.Live
		x.Abandoned += d.Abandoned
		m[d.Date] = x
	}
	p.days = p.days[:0]
	for _, d := range m {
		p.days = append(p.days, d)
	}
	sort.Slice(p.days, func(i, j int) bool { return p.days[i].Date < p.days[j].Date })
	if len(p.days) > 0 {
		p.prune(p.days[len(p.days)-1].Date)
	}
}

// ---- model tables ----

// rebuild recomputes the derived tables when observations arrived (at most
// once a second) or when pessimistic soft pacing begins or ends (it uses
// another hit rate).
func (p *Pacer) rebuild(now time.Time, pessimistic bool) {
	if pessimistic != p.builtPessimistic || p.dirty && (p.builtAt.IsZero() || now.Sub(p.builtAt) >= time.Second || now.Before(p.builtAt)) {
		p.buildDelays(pessimistic)
		p.builtAt = now
		p.dirty = false
		p.builtPessimistic = pessimistic
	}
}

// wilsonUpper is the upper end of the Wilson score interval of a rate
// phat seen over n trials, z standard errors wide. With the prior's ten
// pseudo-calls alone (0.2) and z = 2 it is about 0.5.
func wilsonUpper(phat, n, z float64) float64 {
	z2 := z * z
	return (phat + z2/(2*n) + z*math.Sqrt(phat*(1-phat)/n+z2/(4*n*n))) / (1 + z2/n)
}

func (p *Pacer) buildDelays(pessimistic bool) {
	pl := p.hit.rate()
	pl = math.Max(0.001, math.Min(0.999, pl))
	p.p = pl
	if pessimistic {
		// Soft pacing at the start of a day, when the hit rate rests on
		// a few dozen calls and is biased low (non-live outcomes resolve
		// from 3 s, live answers from 5 s): judge its risk with the
		// rate's upper bound. (Using the bound always cost large teams
		// 0.1–0.2 points: their estimate is tight and the controller
		// already steers θ.)
		pl = math.Max(0.001, math.Min(0.999, wilsonUpper(pl, p.hit.all, softZ)))
	}
	p.cdfLive = p.liveDelay.cdf(p.cdfLive)
	p.cdfScratch = p.deadDelay.cdf(p.cdfScratch)
	fl, fn := p.cdfLive, p.cdfScratch
	w := delayBin.Seconds()
	at := func(c []float64, x float64) float64 { // CDF at x seconds, linear in bins
		if x <= 0 {
			return 0
		}
		f := x / w
		i := int(f)
		if i >= len(c)-1 {
			return 1
		}
		return c[i] + (c[i+1]-c[i])*(f-float64(i))
	}
	// τ_k: quantiles (k+0.5)/K of F_L.
	for k := 0; k < kPoints; k++ {
		q := (float64(k) + 0.5) / kPoints
		i := sort.SearchFloat64s(fl, q) // first edge with F >= q
		switch {
		case i == 0:
			p.tau[k] = 0
		case i >= len(fl):
			p.tau[k] = float64(len(fl)-1) * w
		default:
			lo, hi := fl[i-1], fl[i]
			fr := 0.0
			if hi > lo {
				fr = (q - lo) / (hi - lo)
			}
			p.tau[k] = (float64(i-1) + fr) * w
		}
		p.newF[k] = pl * q
	}
	for i := 0; i < delayBins; i++ {
		a := (float64(i) + 0.5) * w
		fa := at(fl, a)
		sl := pl * (1 - fa)
		den := sl + (1-pl)*(1-at(fn, a))
		for k := 0; k < kPoints; k++ {
			b := 0.0
			if den > 1e-12 {
				b = pl * (at(fl, a+p.tau[k]) - fa) / den
			}
			b = math.Max(0, math.Min(1, b))
			p.inflight[i][k] = float32(b)
			p.inflightV[i][k] = float32(b * (1 - b))
		}
	}
}

// ---- histogram with exponential forgetting ----

// hist is a histogram whose old observations fade: each new observation
// weighs 1/(1−1/memory) times the previous one (weights are rescaled now
// and then to stay finite).
type hist struct {
	w     []float64
	width float64
	inc   float64
	grow  float64
	total float64
}

func newHist(bins int, width, memory float64) hist {
	return hist{w: make([]float64, bins), width: width, inc: 1, grow: 1 / (1 - 1/memory)}
}

func (h *hist) index(x float64) int {
	i := int(x / h.width)
	if i < 0 || x != x {
		return 0
	}
	if i >= len(h.w) {
		return len(h.w) - 1
	}
	return i
}

func (h *hist) add(x float64) {
	h.w[h.index(x)] += h.inc
	h.total += h.inc
	h.inc *= h.grow
	if h.inc > 1e100 {
		for i := range h.w {
			h.w[i] /= h.inc
		}
		h.total /= h.inc
		h.inc = 1
	}
}

// addWeight adds a prior weight (in units of the current increment).
func (h *hist) addWeight(x, wt float64) {
	h.w[h.index(x)] += wt * h.inc
	h.total += wt * h.inc
}

// cdf returns F at the bin edges: out[i] = P(X < i·width), len bins+1.
func (h *hist) cdf(out []float64) []float64 {
	if cap(out) < len(h.w)+1 {
		out = make([]float64, len(h.w)+1)
	}
	out = out[:len(h.w)+1]
	s := 0.0
	out[0] = 0
	for i, v := range h.w {
		s += v
		out[i+1] = s / h.total
	}
	out[len(h.w)] = 1
	return out
}
