package switchtest

import (
	"strings"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

type testCase struct {
	name string
	run  func(e *env)
}

var cases = []testCase{
	{"inbound/answer-hangup", inboundAnswerHangup},
	{"inbound/hidden-number", inboundHiddenNumber},
	{"inbound/caller-hangs-up", inboundCallerHangsUp},
	{"inbound/abandoned-before-answer", inboundAbandoned},
	{"inbound/rejected", inboundRejected},
	{"station/ring-answer-hangup", stationRingAnswer},
	{"station/agent-hangs-up", stationAgentHangsUp},
	{"station/reject", stationReject},
	{"station/busy", stationBusy},
	{"station/no-answer", stationNoAnswer},
	{"station/default-ring-timeout", stationDefaultRingTimeout},
	{"station/unregistered", stationUnregistered},
	{"station/cancel", stationCancel},
	{"number/answer", numberAnswer},
	{"bridge/both-hear", bridgeBothHear},
	{"bridge/moves", bridgeMoves},
	{"bridge/partner-hangs-up", bridgePartnerHangsUp},
	{"bridge/errors", bridgeErrors},
	{"hold/resume", holdResume},
	{"mute", mute},
	{"dtmf/from-party", dtmfFromParty},
	{"dtmf/to-party", dtmfToParty},
	{"transfer/blind", transferBlind},
	{"transfer/number", transferNumber},
	{"transfer/held-leg", transferHeldLeg},
	{"transfer/fails", transferFails},
	{"transfer/cancelled", transferCancelled},
	{"transfer/errors", transferErrors},
	{"conference/three", conferenceThree},
	{"conference/from-bridge", conferenceFromBridge},
	{"conference/member-hangs-up", conferenceMemberHangsUp},
	{"conference/moves", conferenceMoves},
	{"monitor/listen-whisper-barge", monitorModes},
	{"monitor/errors", monitorErrors},
	{"record", record},
	{"play", play},
	{"play/interrupted", playInterrupted},
	{"gone-leg", goneLeg},
	{"states", nonsenseStates},
	{"bad-destination", badDestination},
	{"no-conference", noConference},
	{"nothing-after-hangup", nothingAfterHangup},
	{"close", closeAll},
}

// ---- inbound ----

func inboundAnswerHangup(e *env) {
	leg := e.call()
	e.quiet(leg)
	e.must(e.sw.Answer(e.ctx, leg), "answer")
	e.expect(leg, telephony.Answered)
	e.is(e.sw.Answer(e.ctx, leg), telephony.ErrState, "answer twice")
	e.must(e.sw.Hangup(e.ctx, leg, telephony.CauseNormal), "hangup")
	e.expectHangup(leg, telephony.CauseNormal)
	e.advance(time.Minute)
	e.quiet(leg)
	e.is(e.sw.Answer(e.ctx, leg), telephony.ErrNoLeg, "answer after hangup")
	e.is(e.sw.Hangup(e.ctx, leg, ""), telephony.ErrNoLeg, "hangup after hangup")
}

func inboundHiddenNumber(e *env) {
	e.w.Call("", e.fx.Inbound)
	leg := e.discover(telephony.Incoming, func(ev telephony.Event) bool { return ev.From == "" })
	e.expect(leg, telephony.Incoming)
	e.must(e.sw.Answer(e.ctx, leg), "answer")
	e.expect(leg, telephony.Answered)
}

func inboundCallerHangsUp(e *env) {
	leg := e.answeredCall()
	e.w.HangupPeer(leg)
	e.expectHangup(leg, telephony.CauseNormal)
}

func inboundAbandoned(e *env) {
	leg := e.call()
	e.w.HangupPeer(leg)
	e.expectHangup(leg, telephony.CauseAbandoned)
}

func inboundRejected(e *env) {
	leg := e.call()
	e.must(e.sw.Hangup(e.ctx, leg, telephony.CauseRejected), "hangup offered")
	e.expectHangup(leg, telephony.CauseRejected)

	// Without a cause the switch picks one.
	leg = e.answeredCall()
	e.must(e.sw.Hangup(e.ctx, leg, ""), "hangup without cause")
	if ev := e.expect(leg, telephony.Hangup); ev.Cause == "" {
		e.t.Fatal("Hangup without a cause")
	}
}

// ---- stations and numbers ----

func stationRingAnswer(e *env) {
	st := e.fx.Stations[0]
	leg, err := e.sw.Originate(e.ctx, telephony.OriginateRequest{To: st, From: "+34910000001", CallerName: "Sales",
		Tags: map[string]string{"conversation": "c-1"}})
	e.must(err, "originate")
	e.known[leg] = true
	ev := e.expect(leg, telephony.Ringing)
	if ev.To != st || ev.From != "+34910000001" {
		e.t.Fatalf("Ringing from %q to %q, want from %q to %q", ev.From, ev.To, "+34910000001", st)
	}
	e.quiet(leg)
	e.is(e.sw.Answer(e.ctx, leg), telephony.ErrState, "Answer on an outbound leg")
	e.w.AnswerPeer(leg)
	e.expect(leg, telephony.Answered)
	e.is(e.sw.Answer(e.ctx, leg), telephony.ErrState, "Answer on an answered outbound leg")
	e.must(e.sw.Hangup(e.ctx, leg, telephony.CauseNormal), "hangup")
	e.expectHangup(leg, telephony.CauseNormal)
}

func stationAgentHangsUp(e *env) {
	leg := e.agent(0)
	e.w.HangupPeer(leg)
	e.expectHangup(leg, telephony.CauseNormal)
}

func stationReject(e *env) {
	leg := e.originate(e.fx.Stations[0], 0)
	e.expect(leg, telephony.Ringing)
	e.w.RejectPeer(leg)
	e.expectHangup(leg, telephony.CauseRejected)
}

func stationBusy(e *env) {
	a := e.agent(0)
	b := e.originate(e.fx.Stations[0], 0)
	e.expectHangup(b, telephony.CauseBusy)
	e.quiet(a)
	e.w.HangupPeer(a)
	e.expectHangup(a, telephony.CauseNormal)
	c := e.originate(e.fx.Stations[0], 0)
	e.expect(c, telephony.Ringing) // free again
}

func stationNoAnswer(e *env) {
	leg := e.originate(e.fx.Stations[0], 10*time.Second)
	e.expect(leg, telephony.Ringing)
	e.advance(8 * time.Second)
	e.quiet(leg)
	e.advance(4 * time.Second)
	e.expectHangup(leg, telephony.CauseNoAnswer)
}

func stationDefaultRingTimeout(e *env) {
	leg := e.originate(e.fx.Stations[0], 0)
	e.expect(leg, telephony.Ringing)
	e.advance(28 * time.Second)
	e.quiet(leg)
	e.advance(4 * time.Second)
	e.expectHangup(leg, telephony.CauseNoAnswer)
}

func stationUnregistered(e *env) {
	leg := e.originate(e.fx.Unregistered, 0)
	e.expectHangup(leg, telephony.CauseFailed)
}

func stationCancel(e *env) {
	leg := e.originate(e.fx.Stations[0], 0)
	e.expect(leg, telephony.Ringing)
	e.must(e.sw.Hangup(e.ctx, leg, telephony.CauseCancelled), "cancel")
	e.expectHangup(leg, telephony.CauseCancelled)
	e.advance(time.Minute) // no ring timeout after the hangup
	e.quiet(leg)
	again := e.originate(e.fx.Stations[0], 0)
	e.expect(again, telephony.Ringing)
}

func numberAnswer(e *env) {
	leg := e.connected(e.fx.Number)
	e.w.HangupPeer(leg)
	e.expectHangup(leg, telephony.CauseNormal)

	// A bare number means the same as tel:.
	bare := e.originate(strings.TrimPrefix(e.fx.Number, telephony.TelPrefix), 0)
	e.expect(bare, telephony.Ringing)
	e.must(e.sw.Hangup(e.ctx, bare, telephony.CauseCancelled), "cancel")
	e.expectHangup(bare, telephony.CauseCancelled)
}

// ---- bridges ----

func bridgeBothHear(e *env) {
	c := e.answeredCall()
	a := e.agent(0)
	legs := []string{c, a}
	e.hearing(legs)
	e.bridge(c, a)
	e.hearing(legs, everyone(c, a)...)
	e.must(e.sw.Unbridge(e.ctx, a), "unbridge")
	e.expectOther(a, telephony.Unbridged, c)
	e.expectOther(c, telephony.Unbridged, a)
	e.hearing(legs)
	e.is(e.sw.Unbridge(e.ctx, c), telephony.ErrState, "unbridge an unbridged leg")
	// Both are still up.
	e.must(e.sw.Hold(e.ctx, c), "hold")
	e.expect(c, telephony.Held)
	e.quiet(c, a)
}

func bridgeMoves(e *env) {
	c, a, b := e.answeredCall(), e.agent(0), e.agent(1)
	e.bridge(c, a)
	e.must(e.sw.Bridge(e.ctx, c, b), "bridge to another")
	e.expectOther(c, telephony.Unbridged, a)
	e.expectOther(c, telephony.Bridged, b)
	e.expectOther(a, telephony.Unbridged, c)
	e.expectOther(b, telephony.Bridged, c)
	e.hearing([]string{c, a, b}, everyone(c, b)...)
	e.quiet(c, a, b)
}

func bridgePartnerHangsUp(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	e.bridge(c, a)
	e.w.HangupPeer(c)
	e.expectHangup(c, telephony.CauseNormal)
	e.expectOther(a, telephony.Unbridged, c)
	e.must(e.sw.Mute(e.ctx, a, true), "mute the agent left alone")
	e.expect(a, telephony.Muted)
}

func bridgeErrors(e *env) {
	c := e.call()
	a := e.agent(0)
	r := e.originate(e.fx.Stations[1], 0)
	e.expect(r, telephony.Ringing)
	e.is(e.sw.Bridge(e.ctx, c, a), telephony.ErrState, "bridge an offered leg")
	e.is(e.sw.Bridge(e.ctx, a, c), telephony.ErrState, "bridge to an offered leg")
	e.is(e.sw.Bridge(e.ctx, r, a), telephony.ErrState, "bridge a ringing leg")
	e.is(e.sw.Bridge(e.ctx, a, a), telephony.ErrState, "bridge a leg to itself")
	e.is(e.sw.Unbridge(e.ctx, r), telephony.ErrState, "unbridge a ringing leg")
	e.must(e.sw.Answer(e.ctx, c), "answer")
	e.expect(c, telephony.Answered)
	e.bridge(c, a)
	e.is(e.sw.Bridge(e.ctx, c, a), telephony.ErrState, "bridge twice")
	e.is(e.sw.Bridge(e.ctx, a, c), telephony.ErrState, "bridge twice, reversed")
	e.quiet(c, a, r)
}

// ---- hold, mute, DTMF ----

func holdResume(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	legs := []string{c, a}
	e.bridge(c, a)
	e.must(e.sw.Hold(e.ctx, c), "hold")
	e.expect(c, telephony.Held)
	if !e.w.HearsMusic(c) {
		e.t.Fatal("held leg does not hear music")
	}
	if e.w.HearsMusic(a) {
		e.t.Fatal("the other side hears music")
	}
	e.hearing(legs) // the other side hears nothing, the held one only music
	e.is(e.sw.Hold(e.ctx, c), telephony.ErrState, "hold twice")
	e.must(e.sw.Resume(e.ctx, c), "resume")
	e.expect(c, telephony.Resumed)
	if e.w.HearsMusic(c) {
		e.t.Fatal("resumed leg still hears music")
	}
	e.hearing(legs, everyone(c, a)...)
	e.is(e.sw.Resume(e.ctx, c), telephony.ErrState, "resume twice")

	o := e.call()
	e.is(e.sw.Hold(e.ctx, o), telephony.ErrState, "hold an offered leg")
	e.is(e.sw.Resume(e.ctx, o), telephony.ErrState, "resume an offered leg")
	e.quiet(c, a, o)
}

func mute(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	legs := []string{c, a}
	e.bridge(c, a)
	e.must(e.sw.Mute(e.ctx, a, true), "mute")
	e.expect(a, telephony.Muted)
	e.hearing(legs, [2]string{a, c}) // the muted agent still hears the customer
	e.is(e.sw.Mute(e.ctx, a, true), telephony.ErrState, "mute twice")
	e.must(e.sw.Mute(e.ctx, a, false), "unmute")
	e.expect(a, telephony.Unmuted)
	e.hearing(legs, everyone(c, a)...)
	e.is(e.sw.Mute(e.ctx, a, false), telephony.ErrState, "unmute twice")
	o := e.call()
	e.is(e.sw.Mute(e.ctx, o, true), telephony.ErrState, "mute an offered leg")
	e.quiet(c, a, o)
}

func dtmfFromParty(e *env) {
	for _, leg := range []string{e.answeredCall(), e.agent(0)} {
		const digits = "1234567890*#"
		e.w.PressDigits(leg, digits)
		for _, d := range digits {
			if ev := e.expect(leg, telephony.DTMF); ev.Digit != string(d) {
				e.t.Fatalf("%s: DTMF %q, want %q", leg, ev.Digit, string(d))
			}
		}
		e.quiet(leg)
	}
}

func dtmfToParty(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	e.bridge(c, a)
	e.must(e.sw.SendDTMF(e.ctx, c, "12#"), "send")
	e.must(e.sw.SendDTMF(e.ctx, c, "0*9D"), "send again")
	e.must(e.sw.SendDTMF(e.ctx, c, ""), "send nothing")
	e.fails(e.sw.SendDTMF(e.ctx, c, "12x"), "send a non-digit")
	e.must(e.sw.SendDTMF(e.ctx, a, "5"), "send to the agent")
	e.pull()
	if got := e.w.DigitsHeard(c); got != "12#0*9D" {
		e.t.Fatalf("customer heard %q, want %q", got, "12#0*9D")
	}
	if got := e.w.DigitsHeard(a); got != "5" {
		e.t.Fatalf("agent heard %q, want %q", got, "5")
	}
	e.quiet(c, a) // sending makes no DTMF events: those are for digits a party presses
	o := e.call()
	e.is(e.sw.SendDTMF(e.ctx, o, "1"), telephony.ErrState, "send to an offered leg")
}

// ---- transfer ----

// transferred finds the leg a Transfer of leg placed to `to`, by its Ringing.
func (e *env) transferred(leg, to string) string {
	e.t.Helper()
	t := e.discover(telephony.Ringing, func(ev telephony.Event) bool { return ev.To == to })
	ev := e.expect(t, telephony.Ringing)
	if ev.Other != leg {
		e.t.Fatalf("transfer leg %s: Ringing Other %q, want %q", t, ev.Other, leg)
	}
	return t
}

func transferBlind(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	e.bridge(c, a)
	to := e.fx.Stations[1]
	e.must(e.sw.Transfer(e.ctx, c, to), "transfer")
	e.expectOther(c, telephony.Unbridged, a)
	e.expectOther(a, telephony.Unbridged, c)
	t := e.transferred(c, to)
	legs := []string{c, a, t}
	e.hearing(legs)
	e.w.AnswerPeer(t)
	e.expectOther(t, telephony.Answered, c)
	e.expectOther(t, telephony.Bridged, c)
	e.expectOther(c, telephony.Bridged, t)
	e.hearing(legs, everyone(c, t)...)
	// The agent's leg was released, not hung up: the caller decides.
	e.quiet(a)
	e.must(e.sw.Mute(e.ctx, a, true), "agent still up")
	e.expect(a, telephony.Muted)
}

func transferNumber(e *env) {
	c := e.answeredCall()
	e.must(e.sw.Transfer(e.ctx, c, e.fx.Number), "transfer to a number")
	t := e.transferred(c, e.fx.Number)
	e.w.AnswerPeer(t)
	e.expectOther(t, telephony.Answered, c)
	e.expectOther(t, telephony.Bridged, c)
	e.expectOther(c, telephony.Bridged, t)
	e.hearing([]string{c, t}, everyone(c, t)...)
}

func transferHeldLeg(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	e.bridge(c, a)
	e.must(e.sw.Hold(e.ctx, c), "hold")
	e.expect(c, telephony.Held)
	e.must(e.sw.Mute(e.ctx, c, true), "mute")
	e.expect(c, telephony.Muted)
	to := e.fx.Stations[1]
	e.must(e.sw.Transfer(e.ctx, c, to), "transfer")
	// The party is handed over afresh: off hold, unmuted.
	e.expectSet(c, telephony.Unbridged, telephony.Resumed, telephony.Unmuted)
	e.expectOther(a, telephony.Unbridged, c)
	t := e.transferred(c, to)
	e.w.AnswerPeer(t)
	e.expect(t, telephony.Answered)
	e.expectOther(t, telephony.Bridged, c)
	e.expectOther(c, telephony.Bridged, t)
	e.hearing([]string{c, a, t}, everyone(c, t)...)
}

func transferFails(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	busy := e.agent(1)
	e.bridge(c, a)
	e.must(e.sw.Transfer(e.ctx, c, e.fx.Stations[1]), "transfer to a busy station")
	e.expectOther(c, telephony.Unbridged, a)
	e.expectOther(a, telephony.Unbridged, c)
	t := e.discover(telephony.Hangup, func(ev telephony.Event) bool { return ev.Other == c })
	e.expectHangup(t, telephony.CauseBusy)
	// The customer stays up, alone; the caller decides what next.
	e.quiet(c, a, busy)
	e.hearing([]string{c, a})
	e.bridge(c, a)
}

func transferCancelled(e *env) {
	// The customer hangs up while the transfer rings.
	c := e.answeredCall()
	e.must(e.sw.Transfer(e.ctx, c, e.fx.Stations[1]), "transfer")
	t := e.transferred(c, e.fx.Stations[1])
	e.w.HangupPeer(c)
	e.expectHangup(c, telephony.CauseNormal)
	e.expectHangup(t, telephony.CauseCancelled)

	// The caller bridges the leg elsewhere while the transfer rings.
	c = e.answeredCall()
	a := e.agent(0)
	e.must(e.sw.Transfer(e.ctx, c, e.fx.Stations[2]), "transfer")
	t = e.transferred(c, e.fx.Stations[2])
	e.must(e.sw.Bridge(e.ctx, c, a), "bridge during the transfer")
	e.expectHangup(t, telephony.CauseCancelled)
	e.expectOther(c, telephony.Bridged, a)
	e.expectOther(a, telephony.Bridged, c)
}

func transferErrors(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	e.bridge(c, a)
	e.is(e.sw.Transfer(e.ctx, c, "nonsense:1"), telephony.ErrBadDestination, "transfer to nonsense")
	e.quiet(c, a)
	e.hearing([]string{c, a}, everyone(c, a)...) // nothing changed
	o := e.call()
	e.is(e.sw.Transfer(e.ctx, o, e.fx.Stations[1]), telephony.ErrState, "transfer an offered leg")
	r := e.originate(e.fx.Stations[1], 0)
	e.expect(r, telephony.Ringing)
	e.is(e.sw.Transfer(e.ctx, r, e.fx.Stations[2]), telephony.ErrState, "transfer a ringing leg")
	e.quiet(o, r)
}

// ---- conferences and monitoring ----

func (e *env) conference() string {
	e.t.Helper()
	conf, err := e.sw.NewConference(e.ctx)
	e.must(err, "new conference")
	if conf == "" {
		e.t.Fatal("empty conference id")
	}
	return conf
}

func conferenceThree(e *env) {
	x, y, z := e.answeredCall(), e.agent(0), e.connected(e.fx.Number)
	legs := []string{x, y, z}
	conf := e.conference()
	for _, l := range legs {
		e.join(conf, l, telephony.Full, "")
	}
	e.hearing(legs, everyone(x, y, z)...)
	e.must(e.sw.Leave(e.ctx, conf, y), "leave")
	if ev := e.expect(y, telephony.Left); ev.Conference != conf {
		e.t.Fatalf("Left %q, want %q", ev.Conference, conf)
	}
	e.hearing(legs, everyone(x, z)...)
	e.is(e.sw.Leave(e.ctx, conf, y), telephony.ErrState, "leave twice")
	e.must(e.sw.EndConference(e.ctx, conf), "end")
	e.expect(x, telephony.Left)
	e.expect(z, telephony.Left)
	e.hearing(legs)
	e.quiet(x, y, z) // everybody stays up
	e.is(e.sw.Join(e.ctx, conf, x, telephony.Full, ""), telephony.ErrNoConference, "join an ended conference")
	e.is(e.sw.Leave(e.ctx, conf, x), telephony.ErrNoConference, "leave an ended conference")
	e.is(e.sw.EndConference(e.ctx, conf), telephony.ErrNoConference, "end twice")
	e.bridge(x, y)
}

func conferenceFromBridge(e *env) {
	x, y := e.answeredCall(), e.agent(0)
	e.bridge(x, y)
	conf := e.conference()
	e.must(e.sw.Join(e.ctx, conf, x, telephony.Full, ""), "join a bridged leg")
	e.expectOther(x, telephony.Unbridged, y)
	e.expectOther(y, telephony.Unbridged, x)
	e.expect(x, telephony.Joined)
	e.hearing([]string{x, y})
	e.join(conf, y, telephony.Full, "")
	e.hearing([]string{x, y}, everyone(x, y)...)
}

func conferenceMemberHangsUp(e *env) {
	x, y, z := e.answeredCall(), e.agent(0), e.agent(1)
	conf := e.conference()
	for _, l := range []string{x, y, z} {
		e.join(conf, l, telephony.Full, "")
	}
	e.w.HangupPeer(z)
	e.expect(z, telephony.Left)
	e.expectHangup(z, telephony.CauseNormal)
	e.quiet(x, y)
	e.hearing([]string{x, y}, everyone(x, y)...)
	o := e.call()
	e.is(e.sw.Join(e.ctx, conf, o, telephony.Full, ""), telephony.ErrState, "join an offered leg")
	e.is(e.sw.Leave(e.ctx, conf, o), telephony.ErrState, "leave a conference one is not in")
}

func conferenceMoves(e *env) {
	x, y := e.answeredCall(), e.agent(0)
	c1, c2 := e.conference(), e.conference()
	e.join(c1, x, telephony.Full, "")
	e.join(c1, y, telephony.Full, "")
	e.must(e.sw.Join(e.ctx, c2, x, telephony.Full, ""), "join another conference")
	if ev := e.expect(x, telephony.Left); ev.Conference != c1 {
		e.t.Fatalf("Left %q, want %q", ev.Conference, c1)
	}
	if ev := e.expect(x, telephony.Joined); ev.Conference != c2 {
		e.t.Fatalf("Joined %q, want %q", ev.Conference, c2)
	}
	e.hearing([]string{x, y})
}

func monitorModes(e *env) {
	c, a, s := e.answeredCall(), e.agent(0), e.agent(1)
	legs := []string{c, a, s}
	conf := e.conference()
	e.join(conf, c, telephony.Full, "")
	e.join(conf, a, telephony.Full, "")

	// Listen: the supervisor hears both, nobody hears the supervisor.
	e.join(conf, s, telephony.Listen, "")
	e.hearing(legs, [2]string{c, a}, [2]string{a, c}, [2]string{s, c}, [2]string{s, a})

	// Whisper: the agent hears the supervisor, the customer does not.
	e.join(conf, s, telephony.Whisper, a)
	e.hearing(legs, [2]string{c, a}, [2]string{a, c}, [2]string{s, c}, [2]string{s, a}, [2]string{a, s})

	// Another coach is a change too: now only the customer hears the
	// supervisor (a switch does not judge who is coached).
	e.join(conf, s, telephony.Whisper, c)
	e.hearing(legs, [2]string{c, a}, [2]string{a, c}, [2]string{s, c}, [2]string{s, a}, [2]string{c, s})
	e.is(e.sw.Join(e.ctx, conf, s, telephony.Whisper, c), telephony.ErrState, "whisper again to the same coach")

	// Barge: everyone hears everyone.
	e.join(conf, s, telephony.Full, "")
	e.hearing(legs, everyone(c, a, s)...)
	e.is(e.sw.Join(e.ctx, conf, s, telephony.Full, ""), telephony.ErrState, "join again with the same mode")

	// End monitoring.
	e.must(e.sw.Leave(e.ctx, conf, s), "leave")
	e.expect(s, telephony.Left)
	e.hearing(legs, everyone(c, a)...)
	e.quiet(c, a, s)
}

func monitorErrors(e *env) {
	c, a, s := e.answeredCall(), e.agent(0), e.agent(1)
	conf := e.conference()
	e.join(conf, a, telephony.Full, "")
	e.is(e.sw.Join(e.ctx, conf, s, telephony.Whisper, ""), telephony.ErrState, "whisper without a coach")
	e.is(e.sw.Join(e.ctx, conf, s, telephony.Whisper, c), telephony.ErrState, "whisper to a coach outside the conference")
	e.fails(e.sw.Join(e.ctx, conf, s, telephony.Whisper, "no-such-leg"), "whisper to a coach that does not exist")
	e.fails(e.sw.Join(e.ctx, conf, s, telephony.MixMode("shout"), ""), "unknown mode")
	e.quiet(c, a, s)
}

// ---- record and play ----

func record(e *env) {
	c := e.answeredCall()
	e.must(e.sw.Record(e.ctx, c, true), "record")
	e.expect(c, telephony.RecordingStarted)
	e.is(e.sw.Record(e.ctx, c, true), telephony.ErrState, "record twice")
	e.must(e.sw.Record(e.ctx, c, false), "stop")
	e.expect(c, telephony.RecordingStopped)
	e.is(e.sw.Record(e.ctx, c, false), telephony.ErrState, "stop twice")
	o := e.call()
	e.is(e.sw.Record(e.ctx, o, true), telephony.ErrState, "record an offered leg")

	// A recording ends with the call, before its Hangup.
	e.must(e.sw.Record(e.ctx, c, true), "record again")
	e.expect(c, telephony.RecordingStarted)
	e.w.HangupPeer(c)
	e.expect(c, telephony.RecordingStopped)
	e.expectHangup(c, telephony.CauseNormal)
}

func play(e *env) {
	c := e.answeredCall()
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play")
	e.quiet(c)
	e.advance(25 * time.Second)
	e.expect(c, telephony.PlaybackDone)
	e.quiet(c)

	e.must(e.sw.Play(e.ctx, c, "tone:440"), "play a tone")
	e.advance(25 * time.Second)
	e.expect(c, telephony.PlaybackDone)

	// A second prompt waits for the first; each gets its PlaybackDone.
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play")
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play another")
	e.advance(50 * time.Second)
	e.expect(c, telephony.PlaybackDone)
	e.expect(c, telephony.PlaybackDone)
	e.quiet(c)

	// Early media: a prompt to a call not answered yet.
	o := e.call()
	e.must(e.sw.Play(e.ctx, o, e.fx.Prompt), "play to an offered leg")
	e.advance(25 * time.Second)
	e.expect(o, telephony.PlaybackDone)

	r := e.originate(e.fx.Stations[0], 0)
	e.expect(r, telephony.Ringing)
	e.is(e.sw.Play(e.ctx, r, e.fx.Prompt), telephony.ErrState, "play to a ringing leg")
	e.fails(e.sw.Play(e.ctx, c, ""), "play nothing")
}

func playInterrupted(e *env) {
	c := e.answeredCall()
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play")
	e.w.HangupPeer(c)
	e.expect(c, telephony.PlaybackDone)
	e.expectHangup(c, telephony.CauseNormal)

	c = e.answeredCall()
	a := e.agent(0)
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play")
	e.must(e.sw.Bridge(e.ctx, c, a), "bridge")
	evs := e.expectSet(c, telephony.PlaybackDone, telephony.Bridged)
	for _, ev := range evs {
		if ev.Type == telephony.Bridged && ev.Other != a {
			e.t.Fatalf("Bridged Other %q, want %q", ev.Other, a)
		}
	}
	e.expectOther(a, telephony.Bridged, c)
	e.advance(time.Minute)
	e.quiet(c, a) // one PlaybackDone per Play, no more
}

// ---- errors ----

func goneLeg(e *env) {
	g, live := e.answeredCall(), e.agent(0)
	conf := e.conference()
	e.w.HangupPeer(g)
	e.expectHangup(g, telephony.CauseNormal)
	for _, id := range []string{g, "no-such-leg"} {
		ops := map[string]error{
			"Answer":   e.sw.Answer(e.ctx, id),
			"Hangup":   e.sw.Hangup(e.ctx, id, ""),
			"Bridge a": e.sw.Bridge(e.ctx, id, live),
			"Bridge b": e.sw.Bridge(e.ctx, live, id),
			"Unbridge": e.sw.Unbridge(e.ctx, id),
			"Hold":     e.sw.Hold(e.ctx, id),
			"Resume":   e.sw.Resume(e.ctx, id),
			"Mute":     e.sw.Mute(e.ctx, id, true),
			"SendDTMF": e.sw.SendDTMF(e.ctx, id, "1"),
			"Transfer": e.sw.Transfer(e.ctx, id, e.fx.Stations[1]),
			"Join":     e.sw.Join(e.ctx, conf, id, telephony.Full, ""),
			"Leave":    e.sw.Leave(e.ctx, conf, id),
			"Record":   e.sw.Record(e.ctx, id, true),
			"Play":     e.sw.Play(e.ctx, id, e.fx.Prompt),
		}
		for op, err := range ops {
			e.is(err, telephony.ErrNoLeg, op+" on "+id)
		}
	}
	e.quiet(live)
}

func nonsenseStates(e *env) {
	o := e.call()
	r := e.originate(e.fx.Stations[0], 0)
	e.expect(r, telephony.Ringing)
	a := e.agent(1)
	conf := e.conference()
	checks := []struct {
		what string
		err  error
	}{
		{"Answer a ringing outbound leg", e.sw.Answer(e.ctx, r)},
		{"Answer an answered outbound leg", e.sw.Answer(e.ctx, a)},
		{"Unbridge an offered leg", e.sw.Unbridge(e.ctx, o)},
		{"Hold a ringing leg", e.sw.Hold(e.ctx, r)},
		{"Mute a ringing leg", e.sw.Mute(e.ctx, r, true)},
		{"SendDTMF to a ringing leg", e.sw.SendDTMF(e.ctx, r, "1")},
		{"Transfer a ringing leg", e.sw.Transfer(e.ctx, r, e.fx.Stations[2])},
		{"Join a ringing leg", e.sw.Join(e.ctx, conf, r, telephony.Full, "")},
		{"Record a ringing leg", e.sw.Record(e.ctx, r, true)},
		{"Leave a conference one is not in", e.sw.Leave(e.ctx, conf, a)},
		{"Resume a leg not held", e.sw.Resume(e.ctx, a)},
		{"Unmute a leg not muted", e.sw.Mute(e.ctx, a, false)},
		{"Stop a recording not started", e.sw.Record(e.ctx, a, false)},
	}
	for _, c := range checks {
		e.is(c.err, telephony.ErrState, c.what)
	}
	e.quiet(o, r, a)
}

func badDestination(e *env) {
	for _, to := range []string{"", "fax:123", "station:", "tel:", "tel:abc", "tel:12ab34", "hello", "mailto:a@example.com"} {
		_, err := e.sw.Originate(e.ctx, telephony.OriginateRequest{To: to})
		e.is(err, telephony.ErrBadDestination, "originate to "+to)
	}
	e.pull()
	if len(e.all) > 0 {
		e.t.Fatalf("events after refused originates: %s", fmtEvents(e.all))
	}
}

func noConference(e *env) {
	c := e.answeredCall()
	e.is(e.sw.Join(e.ctx, "no-such-conf", c, telephony.Full, ""), telephony.ErrNoConference, "join")
	e.is(e.sw.Leave(e.ctx, "no-such-conf", c), telephony.ErrNoConference, "leave")
	e.is(e.sw.EndConference(e.ctx, "no-such-conf"), telephony.ErrNoConference, "end")
	e.quiet(c)
}

func nothingAfterHangup(e *env) {
	c, a := e.answeredCall(), e.agent(0)
	conf := e.conference()
	e.join(conf, c, telephony.Full, "")
	e.join(conf, a, telephony.Full, "")
	e.must(e.sw.Record(e.ctx, c, true), "record")
	e.expect(c, telephony.RecordingStarted)
	e.must(e.sw.Hold(e.ctx, c), "hold")
	e.expect(c, telephony.Held)
	e.must(e.sw.Mute(e.ctx, c, true), "mute")
	e.expect(c, telephony.Muted)
	e.must(e.sw.Play(e.ctx, c, e.fx.Prompt), "play")
	e.w.HangupPeer(c)
	e.expectSet(c, telephony.PlaybackDone, telephony.RecordingStopped, telephony.Left)
	e.expectHangup(c, telephony.CauseNormal)
	e.advance(2 * time.Minute)
	e.quiet(c, a)

	// A ringing leg hung up gets no ring timeout afterwards.
	r := e.originate(e.fx.Stations[1], 5*time.Second)
	e.expect(r, telephony.Ringing)
	e.must(e.sw.Hangup(e.ctx, r, telephony.CauseCancelled), "cancel")
	e.expectHangup(r, telephony.CauseCancelled)
	e.advance(time.Minute)
	e.quiet(r)
}

func closeAll(e *env) {
	offered := e.call()
	ringing := e.originate(e.fx.Stations[0], 0)
	e.expect(ringing, telephony.Ringing)
	c, a := e.answeredCall(), e.agent(1)
	e.bridge(c, a)
	x := e.answeredCall()
	conf := e.conference()
	e.join(conf, x, telephony.Full, "")
	h := e.answeredCall()
	e.must(e.sw.Hold(e.ctx, h), "hold")
	e.expect(h, telephony.Held)
	tc := e.answeredCall()
	e.must(e.sw.Transfer(e.ctx, tc, e.fx.Stations[2]), "transfer")
	t := e.transferred(tc, e.fx.Stations[2])

	e.must(e.sw.Close(), "close")
	if !e.drainClosed() {
		e.t.Fatalf("Events not closed %v after Close", closeWait)
	}
	for _, leg := range []string{offered, ringing, c, a, x, h, tc, t} {
		q := e.pending[leg]
		if len(q) == 0 || q[len(q)-1].Type != telephony.Hangup {
			e.t.Fatalf("%s: after Close got %s, want it to end with Hangup", leg, fmtEvents(q))
		}
	}
	if _, ok := <-e.sw.Events(); ok {
		e.t.Fatal("Events still open")
	}
	e.must(e.sw.Close(), "close twice")
	_, err := e.sw.Originate(e.ctx, telephony.OriginateRequest{To: e.fx.Stations[3]})
	e.fails(err, "originate after Close")
	_, err = e.sw.NewConference(e.ctx)
	e.fails(err, "new conference after Close")
	e.fails(e.sw.Answer(e.ctx, offered), "answer after Close")
	e.fails(e.sw.Hold(e.ctx, c), "hold after Close")
	e.fails(e.sw.Join(e.ctx, conf, x, telephony.Full, ""), "join after Close")
	e.is(e.sw.EndConference(e.ctx, conf), telephony.ErrNoConference, "end a conference after Close")
}
