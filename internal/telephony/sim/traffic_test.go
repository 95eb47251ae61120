package sim_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/sim"
	"github.com/centralita/centralita/internal/telephony/switchtest"
)

// TestTrafficArrivals: over one simulated hour per seed, the number of
// calls is within 4 standard deviations of λT for a Poisson process, the
// counts per minute are about as dispersed as Poisson counts (variance ≈
// mean), destinations go round robin and about one caller in ten hides the
// number.
func TestTrafficArrivals(t *testing.T) {
	const lambda = 30.0 // calls per minute
	var bins []float64
	hidden, total := 0, 0
	for seed := uint64(1); seed <= 5; seed++ {
		s, clk := newSwitch(t, sim.Options{EventBuffer: 1 << 13})
		tr := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: seed, CallsPerMinute: lambda, To: []string{"Ventas", "Soporte"}})
		tr.Start(context.Background())
		clk.Advance(time.Hour)
		evs := drain(s)
		n := len(evs)
		want := lambda * 60
		if math.Abs(float64(n)-want) > 4*math.Sqrt(want) {
			t.Errorf("seed %d: %d calls in an hour, want %.0f ± %.0f", seed, n, want, 4*math.Sqrt(want))
		}
		if tr.Arrivals() != n || len(tr.Legs()) != n {
			t.Errorf("seed %d: Arrivals %d, Legs %d, events %d", seed, tr.Arrivals(), len(tr.Legs()), n)
		}
		perMinute := make([]float64, 60)
		for i, ev := range evs {
			if ev.Type != telephony.Incoming {
				t.Fatalf("unexpected %+v", ev)
			}
			if want := []string{"Ventas", "Soporte"}[i%2]; ev.To != want {
				t.Fatalf("call %d to %q, want %q (round robin)", i, ev.To, want)
			}
			if ev.From == "" {
				hidden++
			}
			perMinute[int(ev.Time.Sub(t0)/time.Minute)]++
		}
		total += n
		bins = append(bins, perMinute...)
	}
	mean, variance := meanVar(bins)
	if d := variance / mean; d < 0.75 || d > 1.25 {
		t.Errorf("index of dispersion %.2f over %d minutes, want ≈ 1 for Poisson arrivals", d, len(bins))
	}
	if f := float64(hidden) / float64(total); f < 0.08 || f > 0.12 {
		t.Errorf("%.3f of callers hidden, want ≈ 0.1", f)
	}
	t.Logf("%d calls over 5 h at λ = %.0f/min: %.2f per minute, variance %.2f; %d hidden", total, lambda, mean, variance, hidden)
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

// TestTrafficPatience: callers nobody answers abandon exactly when their
// patience runs out, and the patience drawn has the configured mean.
func TestTrafficPatience(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{})
	patience := map[string]time.Duration{}
	tr := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: 7, CallsPerMinute: 10, Patience: sim.Exp(40 * time.Second),
		OnCall: func(leg, _, _ string, c sim.Caller) { patience[leg] = c.Patience }})
	tr.Start(context.Background())
	clk.Advance(time.Hour)
	tr.Stop()
	clk.Advance(time.Hour) // everybody still waiting gives up
	arrived := map[string]time.Time{}
	var waits []float64
	for _, ev := range drain(s) {
		switch ev.Type {
		case telephony.Incoming:
			arrived[ev.Leg] = ev.Time
		case telephony.Hangup:
			if ev.Cause != telephony.CauseAbandoned {
				t.Fatalf("%+v", ev)
			}
			if got := ev.Time.Sub(arrived[ev.Leg]); got != patience[ev.Leg] {
				t.Fatalf("%s abandoned after %v, patience %v", ev.Leg, got, patience[ev.Leg])
			}
			waits = append(waits, ev.Time.Sub(arrived[ev.Leg]).Seconds())
		default:
			t.Fatalf("unexpected %+v", ev)
		}
	}
	if len(waits) != tr.Arrivals() || len(waits) < 400 {
		t.Fatalf("%d abandons for %d arrivals", len(waits), tr.Arrivals())
	}
	mean, _ := meanVar(waits)
	if se := 40 / math.Sqrt(float64(len(waits))); math.Abs(mean-40) > 4*se {
		t.Errorf("mean patience %.1f s, want 40 ± %.1f", mean, 4*se)
	}
	if len(s.Legs()) != 0 {
		t.Fatalf("legs left: %v", s.Legs())
	}
}

// TestTrafficTalkTime: callers bridged at once to an agent hang up their
// talk time after the bridge; the agents are left unbridged, not hung up.
// Their digits come after the answer.
func TestTrafficTalkTime(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{EventBuffer: 1 << 14})
	talk := map[string]time.Duration{}
	agents := 0
	tr := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: 11, CallsPerMinute: 6, TalkTime: sim.Exp(2 * time.Minute),
		Digits: func(*rand.Rand) (string, time.Duration) { return "1", 2 * time.Second },
		OnCall: func(leg, _, _ string, c sim.Caller) {
			talk[leg] = c.TalkTime
			must(t, s.Answer(ctx, leg))
			agents++
			a, err := s.Originate(ctx, telephony.OriginateRequest{To: fmt.Sprintf("station:%d", 2000+agents)})
			must(t, err)
			must(t, s.AnswerPhone(a))
			must(t, s.Bridge(ctx, leg, a))
		}})
	tr.Start(context.Background())
	clk.Advance(time.Hour)
	tr.Stop()
	clk.Advance(3 * time.Hour)
	bridged := map[string]time.Time{}
	answered := map[string]time.Time{}
	var talks []float64
	unbridged := 0
	for _, ev := range drain(s) {
		_, caller := talk[ev.Leg]
		switch {
		case ev.Type == telephony.Answered:
			answered[ev.Leg] = ev.Time
		case ev.Type == telephony.Bridged && caller:
			bridged[ev.Leg] = ev.Time
		case ev.Type == telephony.DTMF:
			if d := ev.Time.Sub(answered[ev.Leg]); !caller || ev.Digit != "1" || d != 2*time.Second {
				t.Fatalf("DTMF %+v, %v after the answer", ev, d)
			}
		case ev.Type == telephony.Hangup:
			if !caller || ev.Cause != telephony.CauseNormal {
				t.Fatalf("unexpected %+v", ev)
			}
			if got := ev.Time.Sub(bridged[ev.Leg]); got != talk[ev.Leg] {
				t.Fatalf("%s talked %v, talk time %v", ev.Leg, got, talk[ev.Leg])
			}
			talks = append(talks, ev.Time.Sub(bridged[ev.Leg]).Seconds())
		case ev.Type == telephony.Unbridged:
			unbridged++
		}
	}
	if len(talks) != tr.Arrivals() || unbridged != len(talks) || len(s.Legs()) != agents {
		t.Fatalf("%d hangups, %d agents unbridged, %d arrivals, %d legs up", len(talks), unbridged, tr.Arrivals(), len(s.Legs()))
	}
	mean, _ := meanVar(talks)
	if se := 120 / math.Sqrt(float64(len(talks))); math.Abs(mean-120) > 4*se {
		t.Errorf("mean talk time %.1f s, want 120 ± %.1f", mean, 4*se)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrafficStop(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	tr := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: 3, CallsPerMinute: 60})
	tr.Start(ctx)
	clk.Advance(5 * time.Minute)
	n := tr.Arrivals()
	if n == 0 {
		t.Fatal("no arrivals")
	}
	cancel()
	clk.Advance(time.Hour)
	if tr.Arrivals() != n {
		t.Fatalf("%d arrivals after the context ended", tr.Arrivals()-n)
	}
	tr.Start(context.Background()) // does not restart
	clk.Advance(time.Hour)
	if tr.Arrivals() != n {
		t.Fatal("restarted")
	}

	limited := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: 3, CallsPerMinute: 60, MaxCalls: 25, RandomTo: true, To: []string{"a", "b", "c"}})
	limited.Start(context.Background())
	clk.Advance(time.Hour)
	if limited.Arrivals() != 25 {
		t.Fatalf("MaxCalls 25, got %d", limited.Arrivals())
	}
}

// scenario runs an hour of a small contact center on a fake clock, stepped
// one second at a time: traffic from seed, a test-side "ACD" that answers
// every call, plays a greeting and then bridges it to a free agent phone
// (phones answer by themselves after 2 s, one in five callers is put on
// hold for 10 s, one in seven is transferred, one in eleven is monitored
// in a conference), and returns the complete event log.
func scenario(t *testing.T, seed uint64) []telephony.Event {
	clk := clock.NewFake(t0)
	s := sim.New(clk, sim.Options{EventBuffer: 1 << 16, DefaultPhone: sim.PhoneOptions{AutoAnswerAfter: 2 * time.Second},
		Numbers: sim.Table(sim.Party{After: 4 * time.Second, TalkTime: 30 * time.Second}, nil)})
	tr := sim.NewTraffic(s, clk, sim.TrafficOptions{Seed: seed, CallsPerMinute: 4, To: []string{"Ventas"},
		Patience: sim.Exp(90 * time.Second), TalkTime: sim.Exp(3 * time.Minute),
		Digits: func(r *rand.Rand) (string, time.Duration) {
			return fmt.Sprint(r.IntN(10)), time.Second
		}})
	tr.Start(context.Background())
	stations := []string{"station:1001", "station:1002", "station:1003"}
	busy := map[string]string{}       // station -> agent leg
	waiting := []string{}             // customers greeted, waiting for an agent
	customerOf := map[string]string{} // agent leg -> customer leg
	confOf := map[string]string{}     // monitored customer -> conference
	n := 0
	var log []telephony.Event
	for step := 0; step < 3600; step++ {
		clk.Advance(time.Second)
		for evs := drain(s); len(evs) > 0; evs = drain(s) { // what the handlers cause is handled too
			for _, ev := range evs {
				log = append(log, ev)
				switch ev.Type {
				case telephony.Incoming:
					if ev.From == "supervisor" {
						break // answered where it was made
					}
					live(t, s.Answer(ctx, ev.Leg))
					live(t, s.Play(ctx, ev.Leg, "queue-wait"))
				case telephony.PlaybackDone:
					if in, ok := s.Info(ev.Leg); ok && in.Inbound && in.Bridge == "" {
						waiting = append(waiting, ev.Leg)
					}
				case telephony.Answered:
					if c := customerOf[ev.Leg]; c != "" {
						if err := s.Bridge(ctx, c, ev.Leg); err != nil {
							live(t, s.Hangup(ctx, ev.Leg, ""))
						}
					}
				case telephony.Bridged:
					in, _ := s.Info(ev.Leg)
					if !in.Inbound {
						break
					}
					n++
					switch {
					case n%5 == 0:
						live(t, s.Hold(ctx, ev.Leg))
						clk.AfterFunc(10*time.Second, func() { s.Resume(ctx, ev.Leg) })
					case n%7 == 0:
						live(t, s.Transfer(ctx, ev.Leg, "tel:+34911000000"))
					case n%11 == 0:
						conf, _ := s.NewConference(ctx)
						live(t, s.Join(ctx, conf, ev.Leg, telephony.Full, ""))
						live(t, s.Join(ctx, conf, ev.Other, telephony.Full, ""))
						sup := s.InjectCall("supervisor", "monitor", sim.Caller{TalkTime: time.Minute})
						live(t, s.Answer(ctx, sup))
						live(t, s.Join(ctx, conf, sup, telephony.Whisper, ev.Other))
						confOf[ev.Leg] = conf
					}
				case telephony.Unbridged, telephony.Left:
					// An agent left with nobody hangs up.
					if in, ok := s.Info(ev.Leg); ok && in.Station != "" && in.Bridge == "" && in.Conference == "" {
						live(t, s.Hangup(ctx, ev.Leg, ""))
					}
				case telephony.Hangup:
					if conf := confOf[ev.Leg]; conf != "" {
						delete(confOf, ev.Leg)
						live(t, s.EndConference(ctx, conf))
					}
					for st, a := range busy {
						if a == ev.Leg {
							delete(busy, st)
							delete(customerOf, a)
						}
					}
				}
			}
		}
		// Hand waiting customers to free stations, in order.
		for _, st := range stations {
			if _, taken := busy[st]; taken || len(waiting) == 0 {
				continue
			}
			c := waiting[0]
			waiting = waiting[1:]
			if _, ok := s.Info(c); !ok {
				continue // abandoned meanwhile
			}
			a, err := s.Originate(ctx, telephony.OriginateRequest{To: st, Tags: map[string]string{"customer": c}})
			must(t, err)
			busy[st], customerOf[a] = a, c
		}
	}
	tr.Stop()
	must(t, s.Close())
	for ev := range s.Events() {
		log = append(log, ev)
	}
	return log
}

// live fails on errors other than ErrNoLeg: the scenario reacts to events
// after the fact, and a caller may have hung up meanwhile.
func live(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, telephony.ErrNoLeg) {
		t.Fatal(err)
	}
}

// TestDeterminism: the same seed and clock steps give the same event log,
// event for event; another seed gives another. The log also passes the
// contract's log rules.
func TestDeterminism(t *testing.T) {
	a, b := scenario(t, 42), scenario(t, 42)
	if !reflect.DeepEqual(a, b) {
		for i := range min(len(a), len(b)) {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Fatalf("logs differ at event %d: %+v vs %+v", i, a[i], b[i])
			}
		}
		t.Fatalf("logs differ in length: %d vs %d", len(a), len(b))
	}
	if reflect.DeepEqual(a, scenario(t, 43)) {
		t.Fatal("another seed gave the same log")
	}
	for _, p := range switchtest.CheckLog(a) {
		t.Error(p)
	}
	count := map[telephony.EventType]int{}
	causes := map[string]int{}
	for _, ev := range a {
		count[ev.Type]++
		if ev.Type == telephony.Hangup {
			causes[ev.Cause]++
		}
	}
	for _, typ := range []telephony.EventType{telephony.Incoming, telephony.Ringing, telephony.Answered, telephony.Bridged,
		telephony.Held, telephony.Resumed, telephony.Joined, telephony.DTMF, telephony.PlaybackDone} {
		if count[typ] == 0 {
			t.Errorf("the scenario never produced %s", typ)
		}
	}
	if causes[telephony.CauseAbandoned] == 0 || causes[telephony.CauseNormal] == 0 {
		t.Errorf("hangup causes %v", causes)
	}
	t.Logf("%d events; %v; hangups %v", len(a), count, causes)
}
