package switchtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// closeWait bounds how long the suite waits for Events to be closed after
// Close; only a broken switch gets anywhere near it.
const closeWait = 10 * time.Second

// env is one test's view of the switch: it reads every event, keeps the
// ones the test has not looked at yet per leg, and checks the whole log
// when the test ends.
type env struct {
	t   *testing.T
	sw  telephony.Switch
	w   World
	fx  Fixtures
	ctx context.Context
	run *run

	ch      <-chan telephony.Event
	closed  bool
	all     []telephony.Event
	order   []string // legs in the order they first appeared
	pending map[string][]telephony.Event
	known   map[string]bool // legs handed to the test
	callers int
}

func setup(t *testing.T, h Harness, r *run) *env {
	sw, w := h.New(t)
	e := &env{t: t, sw: sw, w: w, fx: w.Fixtures(), ctx: context.Background(), run: r,
		ch: sw.Events(), pending: map[string][]telephony.Event{}, known: map[string]bool{}}
	if len(e.fx.Stations) < 4 {
		t.Fatalf("harness gives %d stations; the suite needs 4", len(e.fx.Stations))
	}
	if e.fx.Prompt == "" {
		t.Fatal("harness gives no Fixtures.Prompt")
	}
	t.Cleanup(e.finish)
	return e
}

// finish closes the switch, reads the rest of the log and checks it.
func (e *env) finish() {
	if err := e.sw.Close(); err != nil {
		e.t.Errorf("Close: %v", err)
	}
	if !e.drainClosed() {
		e.t.Errorf("Events not closed %v after Close", closeWait)
	}
	for _, p := range CheckLog(e.all) {
		e.t.Error(p)
	}
	if e.t.Failed() {
		e.t.Logf("event log:\n%s", formatLog(e.all))
	}
}

// drainClosed reads Events until it is closed.
func (e *env) drainClosed() bool {
	if e.closed {
		return true
	}
	wait := closeWait
	if e.run.closeBroken {
		wait = 0
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-e.ch:
			if !ok {
				e.closed = true
				return true
			}
			e.record(ev)
		case <-deadline.C:
			e.run.closeBroken = true
			return false
		}
	}
}

func (e *env) record(ev telephony.Event) {
	if _, seen := e.pending[ev.Leg]; !seen {
		e.order = append(e.order, ev.Leg)
	}
	e.all = append(e.all, ev)
	e.pending[ev.Leg] = append(e.pending[ev.Leg], ev)
}

// pull settles the world and takes every available event.
func (e *env) pull() {
	e.w.Settle()
	for !e.closed {
		select {
		case ev, ok := <-e.ch:
			if !ok {
				e.closed = true
				return
			}
			e.record(ev)
		default:
			return
		}
	}
}

func (e *env) advance(d time.Duration) { e.w.Advance(d) }

// next pops the leg's oldest unread event.
func (e *env) next(leg string) (telephony.Event, bool) {
	e.pull()
	q := e.pending[leg]
	if len(q) == 0 {
		return telephony.Event{}, false
	}
	e.pending[leg] = q[1:]
	return q[0], true
}

// expect pops the leg's next event and fails unless it has type typ.
func (e *env) expect(leg string, typ telephony.EventType) telephony.Event {
	e.t.Helper()
	ev, ok := e.next(leg)
	if !ok {
		e.t.Fatalf("%s: expected %s, got no event", leg, typ)
	}
	if ev.Type != typ {
		e.t.Fatalf("%s: expected %s, got %s", leg, typ, fmtEvent(ev))
	}
	return ev
}

// expectOther is expect that also checks Event.Other.
func (e *env) expectOther(leg string, typ telephony.EventType, other string) telephony.Event {
	e.t.Helper()
	ev := e.expect(leg, typ)
	if ev.Other != other {
		e.t.Fatalf("%s: %s with Other %q, want %q", leg, typ, ev.Other, other)
	}
	return ev
}

// expectHangup pops the leg's Hangup and checks its cause.
func (e *env) expectHangup(leg, cause string) {
	e.t.Helper()
	ev := e.expect(leg, telephony.Hangup)
	if ev.Cause != cause {
		e.t.Fatalf("%s: hangup cause %q, want %q", leg, ev.Cause, cause)
	}
}

// expectSet pops len(types) events of the leg, in any order.
func (e *env) expectSet(leg string, types ...telephony.EventType) []telephony.Event {
	e.t.Helper()
	want := map[telephony.EventType]int{}
	for _, typ := range types {
		want[typ]++
	}
	var got []telephony.Event
	for range types {
		ev, ok := e.next(leg)
		if !ok {
			e.t.Fatalf("%s: expected %v, got only %s", leg, types, fmtEvents(got))
		}
		got = append(got, ev)
		if want[ev.Type] == 0 {
			e.t.Fatalf("%s: expected %v in any order, got %s", leg, types, fmtEvents(got))
		}
		want[ev.Type]--
	}
	return got
}

// quiet fails if any of the legs has unread events.
func (e *env) quiet(legs ...string) {
	e.t.Helper()
	e.pull()
	for _, leg := range legs {
		if q := e.pending[leg]; len(q) > 0 {
			e.t.Fatalf("%s: unexpected %s", leg, fmtEvents(q))
		}
	}
}

// discover finds a leg the test does not know yet whose first unread
// event has type typ and satisfies match, and hands it to the test.
func (e *env) discover(typ telephony.EventType, match func(telephony.Event) bool) string {
	e.t.Helper()
	e.pull()
	for _, leg := range e.order {
		q := e.pending[leg]
		if e.known[leg] || len(q) == 0 || q[0].Type != typ || !match(q[0]) {
			continue
		}
		e.known[leg] = true
		return leg
	}
	e.t.Fatalf("no new leg with %s as expected; unread: %s", typ, e.unread())
	return ""
}

func (e *env) unread() string {
	var parts []string
	for _, leg := range e.order {
		if q := e.pending[leg]; len(q) > 0 {
			parts = append(parts, fmtEvents(q))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// ---- building blocks ----

func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// is fails unless err matches target.
func (e *env) is(err, target error, what string) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// fails fails unless err is non-nil.
func (e *env) fails(err error, what string) {
	e.t.Helper()
	if err == nil {
		e.t.Fatalf("%s: no error", what)
	}
}

// call makes a customer call in and returns its offered leg, Incoming read.
func (e *env) call() string {
	e.t.Helper()
	e.callers++
	from := fmt.Sprintf("+3461000%04d", e.callers)
	e.w.Call(from, e.fx.Inbound)
	leg := e.discover(telephony.Incoming, func(ev telephony.Event) bool { return ev.From == from })
	ev := e.expect(leg, telephony.Incoming)
	if ev.To != e.fx.Inbound {
		e.t.Fatalf("%s: Incoming To %q, want %q", leg, ev.To, e.fx.Inbound)
	}
	return leg
}

// answeredCall is a customer call the switch answered.
func (e *env) answeredCall() string {
	e.t.Helper()
	leg := e.call()
	e.must(e.sw.Answer(e.ctx, leg), "answer "+leg)
	e.expect(leg, telephony.Answered)
	return leg
}

// originate places a leg to `to` and returns it without reading events.
func (e *env) originate(to string, ringTimeout time.Duration) string {
	e.t.Helper()
	leg, err := e.sw.Originate(e.ctx, telephony.OriginateRequest{To: to, From: "+34910000000", CallerName: "Contract", RingTimeout: ringTimeout})
	e.must(err, "originate to "+to)
	if leg == "" {
		e.t.Fatalf("originate to %s: empty leg id", to)
	}
	e.known[leg] = true
	return leg
}

// connected originates to `to`, has the far end answer and returns the leg.
func (e *env) connected(to string) string {
	e.t.Helper()
	leg := e.originate(to, 0)
	e.expect(leg, telephony.Ringing)
	e.w.AnswerPeer(leg)
	e.expect(leg, telephony.Answered)
	return leg
}

// agent is an answered leg to station i.
func (e *env) agent(i int) string {
	e.t.Helper()
	return e.connected(e.fx.Stations[i])
}

// bridge bridges a and b and reads both Bridged events.
func (e *env) bridge(a, b string) {
	e.t.Helper()
	e.must(e.sw.Bridge(e.ctx, a, b), "bridge "+a+" "+b)
	e.expectOther(a, telephony.Bridged, b)
	e.expectOther(b, telephony.Bridged, a)
}

// join puts leg in conf with mode and reads Joined.
func (e *env) join(conf, leg string, mode telephony.MixMode, coach string) {
	e.t.Helper()
	e.must(e.sw.Join(e.ctx, conf, leg, mode, coach), fmt.Sprintf("join %s %s %s", conf, leg, mode))
	ev := e.expect(leg, telephony.Joined)
	if ev.Conference != conf || ev.Mode != mode {
		e.t.Fatalf("%s: Joined %q mode %q, want %q mode %q", leg, ev.Conference, ev.Mode, conf, mode)
	}
}

// hearing checks who hears whom among legs: want lists the [listener,
// speaker] pairs that must hear; every other ordered pair must not.
func (e *env) hearing(legs []string, want ...[2]string) {
	e.t.Helper()
	w := map[[2]string]bool{}
	for _, p := range want {
		w[p] = true
	}
	for _, l := range legs {
		for _, s := range legs {
			if l == s {
				continue
			}
			if got := e.w.Hears(l, s); got != w[[2]string{l, s}] {
				e.t.Errorf("Hears(%s, %s) = %t, want %t", l, s, got, !got)
			}
		}
	}
	if e.t.Failed() {
		e.t.FailNow()
	}
}

// all pairs of legs hear each other.
func everyone(legs ...string) [][2]string {
	var out [][2]string
	for _, l := range legs {
		for _, s := range legs {
			if l != s {
				out = append(out, [2]string{l, s})
			}
		}
	}
	return out
}

func fmtEvent(ev telephony.Event) string {
	s := string(ev.Type) + "(" + ev.Leg
	add := func(k, v string) {
		if v != "" {
			s += " " + k + "=" + v
		}
	}
	add("from", ev.From)
	add("to", ev.To)
	add("other", ev.Other)
	add("conf", ev.Conference)
	add("mode", string(ev.Mode))
	add("digit", ev.Digit)
	add("cause", ev.Cause)
	return s + ")"
}

func fmtEvents(evs []telephony.Event) string {
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = fmtEvent(ev)
	}
	return strings.Join(parts, " ")
}

func formatLog(evs []telephony.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s %s\n", ev.Time.Format("15:04:05.000"), fmtEvent(ev))
	}
	return b.String()
}
