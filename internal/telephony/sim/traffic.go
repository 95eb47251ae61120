package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// Dist draws a duration from a distribution.
type Dist func(r *rand.Rand) time.Duration

// Exp is the exponential distribution with the given mean.
func Exp(mean time.Duration) Dist {
	return func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(mean)) }
}

// Fixed always gives d.
func Fixed(d time.Duration) Dist { return func(*rand.Rand) time.Duration { return d } }

// Uniform is uniform in [lo, hi).
func Uniform(lo, hi time.Duration) Dist {
	return func(r *rand.Rand) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(r.Int64N(int64(hi-lo)))
	}
}

// TrafficOptions describes a stream of inbound calls.
type TrafficOptions struct {
	// Seed makes the stream reproducible: the same seed, options and clock
	// steps give the same calls.
	Seed uint64
	// CallsPerMinute is the mean arrival rate λ; arrivals are a Poisson
	// process (exponential gaps). 0 or less generates nothing.
	CallsPerMinute float64
	// To are the dialled numbers, used in turn (round robin) or, with
	// RandomTo, uniformly at random. Empty means "900100200".
	To       []string
	RandomTo bool
	// From draws the caller's number ("" for a hidden one); nil means
	// DefaultFrom.
	From func(r *rand.Rand) string
	// Patience and TalkTime draw each caller's Caller.Patience and
	// Caller.TalkTime; nil means 0 (wait forever / never hang up).
	Patience Dist
	TalkTime Dist
	// Digits draws the digits a caller presses after being answered, and
	// when; nil means none.
	Digits func(r *rand.Rand) (digits string, after time.Duration)
	// MaxCalls stops the generator after that many calls; 0 is no limit.
	MaxCalls int
	// OnCall, if set, is called after each arrival with the new leg and the
	// caller drawn for it, outside every lock.
	OnCall func(leg string, from, to string, c Caller)
}

// DefaultFrom draws Spanish-looking mobile numbers ("+346" and 8 digits);
// one caller in ten hides the number ("").
func DefaultFrom(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return ""
	}
	return fmt.Sprintf("+346%08d", r.IntN(100_000_000))
}

// Traffic generates inbound calls into a simulated switch, timed by a clock.
type Traffic struct {
	s    *Switch
	clk  clock.Clock
	opts TrafficOptions

	mu      sync.Mutex
	ctx     context.Context
	rng     *rand.Rand
	started bool
	stopped bool
	next    clock.Timer
	token   *int // identifies the armed arrival
	n       int  // arrivals so far
	legs    []string
}

// NewTraffic prepares a generator; nothing happens until Start.
func NewTraffic(s *Switch, c clock.Clock, opts TrafficOptions) *Traffic {
	if len(opts.To) == 0 {
		opts.To = []string{"900100200"}
	}
	if opts.From == nil {
		opts.From = DefaultFrom
	}
	return &Traffic{s: s, clk: c, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
}

// Start schedules the first arrival. Once ctx is done no call arrives any
// more, as after Stop. Starting twice, or after Stop, does nothing.
func (t *Traffic) Start(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.stopped {
		return
	}
	t.started = true
	t.ctx = ctx
	context.AfterFunc(ctx, t.Stop)
	t.schedule()
}

// Stop cancels the next arrival; calls already placed go on. Idempotent.
func (t *Traffic) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.next != nil {
		t.next.Stop()
		t.next = nil
	}
}

// Arrivals is how many calls were generated so far.
func (t *Traffic) Arrivals() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Legs are the generated legs, in arrival order.
func (t *Traffic) Legs() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.legs...)
}

// schedule arms the next arrival. Called with t.mu held.
func (t *Traffic) schedule() {
	if t.stopped || t.opts.CallsPerMinute <= 0 || (t.opts.MaxCalls > 0 && t.n >= t.opts.MaxCalls) {
		return
	}
	gap := t.rng.ExpFloat64() / t.opts.CallsPerMinute * float64(time.Minute)
	if gap > math.MaxInt64/2 {
		gap = math.MaxInt64 / 2
	}
	tok := new(int)
	t.token = tok
	t.next = t.clk.AfterFunc(time.Duration(gap), func() { t.arrive(tok) })
}

func (t *Traffic) arrive(tok *int) {
	t.mu.Lock()
	if t.stopped || t.token != tok || t.ctx.Err() != nil {
		t.mu.Unlock()
		return
	}
	r := t.rng
	from := t.opts.From(r)
	var to string
	if t.opts.RandomTo {
		to = t.opts.To[r.IntN(len(t.opts.To))]
	} else {
		to = t.opts.To[t.n%len(t.opts.To)]
	}
	var c Caller
	if t.opts.Patience != nil {
		c.Patience = t.opts.Patience(r)
	}
	if t.opts.TalkTime != nil {
		c.TalkTime = t.opts.TalkTime(r)
	}
	if t.opts.Digits != nil {
		c.Digits, c.DigitsAfter = t.opts.Digits(r)
	}
	leg := t.s.InjectCall(from, to, c)
	t.n++
	t.legs = append(t.legs, leg)
	t.schedule()
	onCall := t.opts.OnCall
	t.mu.Unlock()
	if onCall != nil && leg != "" {
		onCall(leg, from, to, c)
	}
}
