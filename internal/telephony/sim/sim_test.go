package sim_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/sim"
	"github.com/centralita/centralita/internal/telephony/switchtest"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

var ctx = context.Background()

// world is the simulated switch's World for the contract suite: its own
// model of the outside, a fake clock, and events that are on the channel
// as soon as a method returns (so Settle has nothing to wait for).
type world struct {
	t   *testing.T
	s   *sim.Switch
	clk *clock.Fake
}

const contractNumber = "tel:+34911000001"

func newWorld(t *testing.T) (telephony.Switch, switchtest.World) {
	clk := clock.NewFake(t0)
	s := sim.New(clk, sim.Options{
		Numbers: sim.Table(sim.DefaultParty, map[string]sim.Party{contractNumber: {Outcome: sim.NoAnswer}}),
	})
	s.AddPhone("station:9999", sim.PhoneOptions{Unregistered: true})
	return s, &world{t: t, s: s, clk: clk}
}

func (w *world) Fixtures() switchtest.Fixtures {
	return switchtest.Fixtures{
		Stations:     []string{"station:1001", "station:1002", "station:1003", "station:1004"},
		Unregistered: "station:9999",
		Number:       contractNumber,
		Inbound:      "900100200",
		Prompt:       "queue-wait", // a built-in prompt: about 6 s
	}
}

func (w *world) check(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) Call(from, to string)                { w.s.InjectCall(from, to, sim.Caller{}) }
func (w *world) AnswerPeer(leg string)               { w.t.Helper(); w.check(w.s.AnswerPhone(leg)) }
func (w *world) RejectPeer(leg string)               { w.t.Helper(); w.check(w.s.RejectPhone(leg)) }
func (w *world) HangupPeer(leg string)               { w.t.Helper(); w.check(w.s.HangupFromPeer(leg)) }
func (w *world) PressDigits(leg, digits string)      { w.t.Helper(); w.check(w.s.PressDigits(leg, digits)) }
func (w *world) DigitsHeard(leg string) string       { return w.s.DigitsReceived(leg) }
func (w *world) Hears(listener, speaker string) bool { return w.s.Hears(listener, speaker) }
func (w *world) HearsMusic(leg string) bool          { return w.s.HearsMusic(leg) }
func (w *world) Advance(d time.Duration)             { w.clk.Advance(d) }
func (w *world) Settle()                             {}

func TestContract(t *testing.T) {
	switchtest.Run(t, switchtest.HarnessFunc(newWorld))
}

// newSwitch is a switch on a fake clock for the sim-specific tests.
func newSwitch(t *testing.T, opts sim.Options) (*sim.Switch, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	s := sim.New(clk, opts)
	t.Cleanup(func() { s.Close() })
	return s, clk
}

// received counts, per switch, the events drain took.
var (
	receivedMu sync.Mutex
	received   = map[*sim.Switch]uint64{}
)

// drain takes every event emitted so far; it must be the switch's only reader.
func drain(s *sim.Switch) []telephony.Event {
	receivedMu.Lock()
	defer receivedMu.Unlock()
	var out []telephony.Event
	for received[s] < s.Emitted() {
		out = append(out, <-s.Events())
		received[s]++
	}
	return out
}

// only keeps the events of one leg.
func only(evs []telephony.Event, leg string) []telephony.Event {
	var out []telephony.Event
	for _, e := range evs {
		if e.Leg == leg {
			out = append(out, e)
		}
	}
	return out
}

func types(evs []telephony.Event) []telephony.EventType {
	out := make([]telephony.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func sameTypes(t *testing.T, what string, got []telephony.Event, want ...telephony.EventType) {
	t.Helper()
	g := types(got)
	if len(g) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, g, want)
		}
	}
}

func TestAutoAnswerPhone(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{})
	p := s.AddPhone("1001", sim.PhoneOptions{AutoAnswerAfter: 3 * time.Second})
	leg, err := s.Originate(ctx, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Ringing() || p.Leg() != leg {
		t.Fatalf("phone ringing=%t leg=%q, want ringing on %s", p.Ringing(), p.Leg(), leg)
	}
	clk.Advance(2999 * time.Millisecond)
	sameTypes(t, "before auto-answer", drain(s), telephony.Ringing)
	clk.Advance(time.Millisecond)
	evs := drain(s)
	sameTypes(t, "auto-answer", evs, telephony.Answered)
	if got := evs[0].Time.Sub(t0); got != 3*time.Second {
		t.Fatalf("answered at +%v, want +3s", got)
	}
	if err := p.Hangup(); err != nil {
		t.Fatal(err)
	}
	if p.Leg() != "" {
		t.Fatal("phone still has a call")
	}
	if err := p.Answer(); !errors.Is(err, telephony.ErrNoLeg) {
		t.Fatalf("answer with no call: %v", err)
	}
}

func TestDefaultPhoneAndRegistration(t *testing.T) {
	s, _ := newSwitch(t, sim.Options{DefaultPhone: sim.PhoneOptions{Unregistered: true}})
	leg, _ := s.Originate(ctx, telephony.OriginateRequest{To: "station:2001"})
	evs := drain(s)
	sameTypes(t, "default unregistered", evs, telephony.Hangup)
	if evs[0].Cause != telephony.CauseFailed || evs[0].Leg != leg {
		t.Fatalf("got %+v", evs[0])
	}
	p := s.Phone("station:2001")
	p.SetRegistered(true)
	leg, _ = s.Originate(ctx, telephony.OriginateRequest{To: "station:2001"})
	p.SetRegistered(false) // a ringing call fails
	evs = drain(s)
	sameTypes(t, "unregistered while ringing", evs, telephony.Ringing, telephony.Hangup)
	if evs[1].Cause != telephony.CauseFailed {
		t.Fatalf("cause %q", evs[1].Cause)
	}
}

func TestNumbers(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{Numbers: sim.Table(sim.Party{Outcome: sim.Answer, After: 4 * time.Second}, map[string]sim.Party{
		"+34 600 000 001": {Outcome: sim.Busy, After: time.Second},
		"600000002":       {Outcome: sim.Fail},
		"600000003":       {Outcome: sim.Reject, After: 2 * time.Second},
		"600000004":       {Outcome: sim.Answer, After: time.Second, TalkTime: 10 * time.Second, Digits: "42#", DigitsAfter: 2 * time.Second},
		"600000005":       {Outcome: sim.Answer, Patience: 2 * time.Second},
		"600000006":       {Outcome: sim.Answer, After: 40 * time.Second}, // later than the ring timeout
	})})
	orig := func(to string) string {
		leg, err := s.Originate(ctx, telephony.OriginateRequest{To: to})
		if err != nil {
			t.Fatal(err)
		}
		return leg
	}
	busy, fail, reject, talk, impatient, late, deflt := orig("tel:+34600000001"), orig("600000002"), orig("tel:600000003"),
		orig("600000004"), orig("600000005"), orig("600000006"), orig("+1 (555) 010-0199")
	if _, err := s.Originate(ctx, telephony.OriginateRequest{To: "sip:bob@example.com"}); !errors.Is(err, telephony.ErrNotSupported) {
		t.Fatalf("sip: gives %v", err)
	}
	clk.Advance(time.Minute)
	evs := drain(s)
	cause := func(leg string) string {
		l := only(evs, leg)
		return l[len(l)-1].Cause
	}
	sameTypes(t, "busy", only(evs, busy), telephony.Hangup)
	sameTypes(t, "fail", only(evs, fail), telephony.Hangup)
	sameTypes(t, "reject", only(evs, reject), telephony.Ringing, telephony.Hangup)
	sameTypes(t, "late", only(evs, late), telephony.Ringing, telephony.Hangup)
	for leg, want := range map[string]string{busy: telephony.CauseBusy, fail: telephony.CauseFailed, reject: telephony.CauseRejected,
		late: telephony.CauseNoAnswer, impatient: telephony.CauseAbandoned} {
		if got := cause(leg); got != want {
			t.Errorf("%s: cause %q, want %q", leg, got, want)
		}
	}
	if at := only(evs, busy)[0].Time.Sub(t0); at != time.Second {
		t.Errorf("busy after %v, want 1s", at)
	}
	// The talker answers at 1 s and presses digits at 3 s; it hangs up 10 s
	// after being bridged, not after answering.
	sameTypes(t, "talker", only(evs, talk), telephony.Ringing, telephony.Answered, telephony.DTMF, telephony.DTMF, telephony.DTMF)
	if d := only(evs, talk)[2]; d.Digit != "4" || d.Time.Sub(t0) != 3*time.Second {
		t.Errorf("first digit %+v", d)
	}
	sameTypes(t, "default party", only(evs, deflt), telephony.Ringing, telephony.Answered)
	if err := s.Bridge(ctx, talk, deflt); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	evs = drain(s)
	sameTypes(t, "talker after bridge", only(evs, talk), telephony.Bridged, telephony.Hangup)
	if h := only(evs, talk)[1]; h.Cause != telephony.CauseNormal || h.Time.Sub(t0) != 70*time.Second {
		t.Errorf("talker hangup %+v", h)
	}
}

func TestCallerBehaviour(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{})
	impatient := s.InjectCall("+34600000001", "900", sim.Caller{Patience: 30 * time.Second})
	answeredOnly := s.InjectCall("+34600000002", "900", sim.Caller{Patience: 30 * time.Second, Digits: "1", DigitsAfter: 5 * time.Second})
	talker := s.InjectCall("+34600000003", "900", sim.Caller{Patience: 30 * time.Second, TalkTime: time.Minute})
	agent, _ := s.Originate(ctx, telephony.OriginateRequest{To: "station:1001"})
	for _, l := range []string{answeredOnly, talker} {
		if err := s.Answer(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AnswerPhone(agent); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	if err := s.Bridge(ctx, talker, agent); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Second) // t = 30 s: patience runs out for those not bridged
	evs := drain(s)
	sameTypes(t, "impatient", only(evs, impatient), telephony.Incoming, telephony.Hangup)
	sameTypes(t, "answered by the IVR only", only(evs, answeredOnly), telephony.Incoming, telephony.Answered, telephony.DTMF, telephony.Hangup)
	for _, l := range []string{impatient, answeredOnly} {
		h := only(evs, l)[len(only(evs, l))-1]
		if h.Cause != telephony.CauseAbandoned || h.Time.Sub(t0) != 30*time.Second {
			t.Errorf("%s: %+v, want abandoned at +30s", l, h)
		}
	}
	sameTypes(t, "talker", only(evs, talker), telephony.Incoming, telephony.Answered, telephony.Bridged)
	clk.Advance(60 * time.Second) // bridged at 10 s, talks 1 min
	evs = drain(s)
	sameTypes(t, "talker done", only(evs, talker), telephony.Hangup)
	if h := only(evs, talker)[0]; h.Cause != telephony.CauseNormal || h.Time.Sub(t0) != 70*time.Second {
		t.Errorf("talker: %+v", h)
	}
	sameTypes(t, "agent left alone", only(evs, agent), telephony.Unbridged)
}

func TestPromptDurations(t *testing.T) {
	s, clk := newSwitch(t, sim.Options{Prompts: map[string]time.Duration{"long": 10 * time.Second, "welcome": 0}})
	s.SetPrompts(map[string]time.Duration{"own": 3 * time.Second})
	leg := s.InjectCall("", "900", sim.Caller{})
	drain(s)
	pcm, err := audio.Prompt("queue-wait")
	if err != nil {
		t.Fatal(err)
	}
	queueWait := time.Duration(len(pcm)) * time.Second / audio.SampleRate
	if queueWait < 2*time.Second || queueWait > 20*time.Second {
		t.Fatalf("queue-wait lasts %v", queueWait)
	}
	// Unknown names are refused, with the names there are.
	if err := s.Play(ctx, leg, "wellcome"); err == nil || !strings.Contains(err.Error(), "queue-wait") || !strings.Contains(err.Error(), "own") {
		t.Errorf("unknown prompt: %v", err)
	}
	for _, p := range []struct {
		prompt string
		d      time.Duration
	}{{"tone:440", sim.DefaultToneDuration}, {"queue-wait", queueWait}, {"welcome", sim.DefaultPromptDuration}, {"long", 10 * time.Second}, {"own", 3 * time.Second}} {
		if err := s.Play(ctx, leg, p.prompt); err != nil {
			t.Fatal(err)
		}
		clk.Advance(p.d - time.Millisecond)
		if n := len(drain(s)); n != 0 {
			t.Fatalf("%s: %d events before it ends", p.prompt, n)
		}
		clk.Advance(time.Millisecond)
		sameTypes(t, p.prompt, drain(s), telephony.PlaybackDone)
	}
}

func TestInfoAndLegs(t *testing.T) {
	s, _ := newSwitch(t, sim.Options{})
	c := s.InjectCall("+34600000001", "900", sim.Caller{})
	a, _ := s.Originate(ctx, telephony.OriginateRequest{To: "station:1001", Tags: map[string]string{"conversation": "x"}})
	s.Answer(ctx, c)
	s.AnswerPhone(a)
	conf, _ := s.NewConference(ctx)
	s.Join(ctx, conf, c, telephony.Full, "")
	s.Join(ctx, conf, a, telephony.Full, "")
	s.Hold(ctx, c)
	in, ok := s.Info(c)
	if !ok || in.State != sim.StateAnswered || !in.Inbound || in.Conference != conf || !in.Held || in.From != "+34600000001" {
		t.Fatalf("customer: %+v", in)
	}
	in, _ = s.Info(a)
	if in.Station != "1001" || in.Tags["conversation"] != "x" || in.Mode != telephony.Full {
		t.Fatalf("agent: %+v", in)
	}
	if members, _ := s.Conference(conf); len(members) != 2 || members[0] != c {
		t.Fatalf("members %v", members)
	}
	if legs := s.Legs(); len(legs) != 2 || legs[0].ID != c || legs[1].ID != a {
		t.Fatalf("legs %+v", legs)
	}
}

// TestBacklog: a switch whose reader is away neither blocks nor drops;
// events come out in order once someone reads.
func TestBacklog(t *testing.T) {
	s, _ := newSwitch(t, sim.Options{EventBuffer: 4})
	var legs []string
	for i := 0; i < 100; i++ {
		legs = append(legs, s.InjectCall("", "900", sim.Caller{}))
	}
	for _, l := range legs {
		s.Answer(ctx, l)
	}
	if n := s.Emitted(); n != 200 {
		t.Fatalf("emitted %d, want 200", n)
	}
	evs := drain(s)
	if len(evs) != 200 {
		t.Fatalf("got %d events", len(evs))
	}
	for i, l := range legs {
		if evs[i].Leg != l || evs[i].Type != telephony.Incoming || evs[100+i].Leg != l || evs[100+i].Type != telephony.Answered {
			t.Fatalf("out of order at %d: %+v / %+v", i, evs[i], evs[100+i])
		}
	}
	// Close with a backlog: the channel closes after the last event.
	for i := 0; i < 10; i++ {
		s.InjectCall("", "900", sim.Caller{})
	}
	s.Close()
	n := 0
	for range s.Events() {
		n++
	}
	if n != 120 { // 10 Incoming, then 110 Hangup
		t.Fatalf("after Close got %d events, want 120", n)
	}
}

// TestRealClock runs a call on the wall clock: the switch does not depend
// on the fake one. Waiting is on events, with a generous bound.
func TestRealClock(t *testing.T) {
	s := sim.New(clock.Real{}, sim.Options{DefaultPhone: sim.PhoneOptions{AutoAnswerAfter: time.Millisecond}})
	defer s.Close()
	leg, _ := s.Originate(ctx, telephony.OriginateRequest{To: "station:1001"})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.Events():
			if ev.Leg == leg && ev.Type == telephony.Answered {
				return
			}
		case <-timeout:
			t.Fatal("no Answered on the real clock")
		}
	}
}

// TestCheckLogCatchesBadStreams makes sure the contract's log checker is
// not vacuous.
func TestCheckLogCatchesBadStreams(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	bad := map[string][]telephony.Event{
		"event after hangup": {{Type: telephony.Incoming, Leg: "a", Time: at(0)}, {Type: telephony.Hangup, Leg: "a", Cause: "normal", Time: at(1)}, {Type: telephony.Answered, Leg: "a", Time: at(2)}},
		"answered first":     {{Type: telephony.Answered, Leg: "a"}, {Type: telephony.Hangup, Leg: "a", Cause: "normal"}},
		"no hangup":          {{Type: telephony.Incoming, Leg: "a"}},
		"held twice": {{Type: telephony.Incoming, Leg: "a"}, {Type: telephony.Answered, Leg: "a"}, {Type: telephony.Held, Leg: "a"},
			{Type: telephony.Held, Leg: "a"}, {Type: telephony.Hangup, Leg: "a", Cause: "normal"}},
		"one-sided bridge": {{Type: telephony.Incoming, Leg: "a"}, {Type: telephony.Answered, Leg: "a"}, {Type: telephony.Bridged, Leg: "a", Other: "b"},
			{Type: telephony.Hangup, Leg: "a", Cause: "normal"}},
		"time goes back":  {{Type: telephony.Incoming, Leg: "a", Time: at(5)}, {Type: telephony.Hangup, Leg: "a", Cause: "normal", Time: at(1)}},
		"no cause":        {{Type: telephony.Incoming, Leg: "a"}, {Type: telephony.Hangup, Leg: "a"}},
		"ringing late":    {{Type: telephony.Incoming, Leg: "a"}, {Type: telephony.Ringing, Leg: "a"}, {Type: telephony.Hangup, Leg: "a", Cause: "normal"}},
		"hold unanswered": {{Type: telephony.Incoming, Leg: "a"}, {Type: telephony.Held, Leg: "a"}, {Type: telephony.Hangup, Leg: "a", Cause: "normal"}},
	}
	for name, log := range bad {
		if len(switchtest.CheckLog(log)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	good := []telephony.Event{{Type: telephony.Ringing, Leg: "a"}, {Type: telephony.Answered, Leg: "a"}, {Type: telephony.Incoming, Leg: "b"},
		{Type: telephony.Answered, Leg: "b"}, {Type: telephony.Bridged, Leg: "a", Other: "b"}, {Type: telephony.Bridged, Leg: "b", Other: "a"},
		{Type: telephony.Hangup, Leg: "a", Cause: "normal"}, {Type: telephony.Unbridged, Leg: "b", Other: "a"}, {Type: telephony.Hangup, Leg: "b", Cause: "normal"}}
	if p := switchtest.CheckLog(good); len(p) != 0 {
		t.Errorf("good log flagged: %v", p)
	}
}
