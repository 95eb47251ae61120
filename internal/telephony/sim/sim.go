// Package sim is a simulated telephony switch: a telephony.Switch with no
// network and no audio, driven entirely by an injected clock.Clock. It serves
// the demo, tests and dialer simulations, and passes the same contract suite
// (telephony/switchtest) as the SIP switch.
//
// # Legs
//
// Every leg has one of these states:
//
//	offered     an inbound leg (InjectCall) not yet answered by the platform
//	originated  an outbound leg placed but not yet alerting (a number that
//	            will turn out busy or failed stays here until it does)
//	ringing     an outbound leg alerting at its destination
//	answered    connected; on top of that a leg may be held, muted,
//	            recording, playing prompts, and in one bridge or one conference
//	gone        hung up; the leg is forgotten and every method gives ErrNoLeg
//
// Answer moves offered to answered; the far end (a phone, a number's Party,
// or AnswerPhone) moves ringing to answered. Hangup works in every state.
// Bridge, Unbridge, Hold, Resume, Mute, SendDTMF, Transfer, Join and Record
// need an answered leg; Play also accepts an offered one (early media).
// Requests that would change nothing (Hold on a held leg, Resume on one not
// held, Mute(true) on a muted leg, Record(false) when not recording,
// Bridge of two legs already bridged to each other, Unbridge of a leg not
// bridged, Join with the mode the leg already has) give ErrState.
//
// Hold, mute and the bridge are independent: Bridge does not take a leg off
// hold, and a held leg stays held when bridged. Transfer is the exception:
// it hands the party over afresh, so it takes the leg off hold and unmutes it.
//
// # Events
//
// Events are emitted synchronously, under the switch's lock, in the order
// things happen; when a method returns, the events it caused are already on
// the channel (or queued, see below). An originate that fails at once (busy,
// unregistered station) has its Hangup emitted before Originate returns the
// leg id, which is by then already gone.
//
// The channel has Options.EventBuffer slots (4096 by default). When it is
// full the switch never blocks and never drops: further events go to an
// unbounded in-memory backlog that a goroutine feeds into the channel, in
// order, as the reader catches up. If nobody reads, memory grows by one
// Event (about 200 bytes) per event. Emitted counts the events emitted so
// far, so a single reader can take exactly everything up to now.
//
// When a leg goes, it first gets PlaybackDone for every prompt still queued,
// RecordingStopped if recording, Left if in a conference, then Hangup; its
// bridge partner then gets Unbridged (it stays up). A pending transfer the
// leg was the subject of is cancelled (the transfer leg hangs up with
// CauseCancelled).
//
// Hangup with an empty cause uses CauseNormal for an answered leg,
// CauseCancelled for an originated or ringing one and CauseRejected for an
// offered one. Close hangs up every leg that way, in creation order.
//
// # Destinations
//
// "station:NAME" rings the simulated phone NAME (see Phone): every station
// name has a registered phone without auto-answer unless AddPhone or
// Options.DefaultPhone says otherwise. A phone carries one call at a time:
// while it rings or talks, a second call to it gets Hangup CauseBusy; an
// unregistered phone gives CauseFailed. "tel:NUMBER" or a bare number calls
// an external party whose behaviour Options.Numbers chooses (see Party);
// visual separators (space . - ( )) are ignored and what remains must be an
// optional + and 1 to 20 digits. "sip:" URIs give telephony.ErrNotSupported;
// anything else gives telephony.ErrBadDestination.
//
// # Media
//
// There is no audio, only a model of who hears whom (Hears, HearsMusic):
// bridged legs hear each other; in a conference everyone hears every Full
// participant, nobody hears a Listen participant, and only the coach hears
// a Whisper participant; a held leg hears only music and nobody hears it; a
// muted leg hears others and nobody hears it. Prompts take time
// (Options.ToneDuration for "tone:…"; a built-in prompt its real length;
// Options.Prompts and SetPrompts name the others, and Play of a name the
// switch does not know fails, as on the SIP switch); a Play while another prompt
// plays is queued behind it, and every Play gets exactly one PlaybackDone —
// when it ends, or earlier when a Bridge, a Join or the hangup interrupts it.
// SendDTMF records digits as heard by the leg's party (DigitsReceived);
// PressDigits, Caller.Digits and Party.Digits make a party press digits,
// which gives one DTMF event per digit.
//
// # Transfer
//
// Transfer(leg, to) moves leg's party to `to`: the leg leaves its bridge
// (both it and its partner get Unbridged; the partner stays up — the caller
// decides what to do with it) or conference, is taken off hold and unmuted,
// and a new leg is placed to `to` with the party's number as caller id. The
// new leg's Ringing, Answered and Hangup events carry Other = leg. When it
// answers, it is bridged to leg. If it fails (busy, no answer, rejected,
// failed) leg simply stays up, unbridged. A Bridge, Join, new Transfer or
// Hangup of leg while the new leg is still ringing cancels it (Hangup with
// CauseCancelled).
//
// # Time
//
// Every delay (ring timeouts, answer delays, patience, talk time, prompts)
// runs on the injected clock. With clock.Fake nothing happens between calls
// to Advance, timers fire inside Advance in deadline order, and a run is
// fully deterministic: leg ids are "leg-1", "leg-2"… and conference ids
// "conf-1"… in creation order.
package sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
)

// ErrClosed is returned by Originate and NewConference after Close. Methods
// on legs and conferences return ErrNoLeg / ErrNoConference then, since
// Close removed them all.
var ErrClosed = errors.New("sim: switch closed")

// Default durations.
const (
	DefaultRingTimeout    = 30 * time.Second
	DefaultToneDuration   = time.Second
	DefaultPromptDuration = 2 * time.Second
	DefaultEventBuffer    = 4096
)

// DefaultParty is how external numbers behave when Options.Numbers is nil:
// they ring and answer after 3 seconds, and stay until someone hangs up.
var DefaultParty = Party{Outcome: Answer, After: 3 * time.Second}

// Options configures a simulated switch. The zero value is usable.
type Options struct {
	// EventBuffer is the capacity of the Events channel; 0 means
	// DefaultEventBuffer. Events that do not fit wait in a backlog.
	EventBuffer int
	// Numbers says how the external party at a number behaves; nil means
	// every number behaves as DefaultParty. It receives the normalized
	// number (no "tel:" prefix, no separators, e.g. "+34911234567"). See
	// Table for a map with a fallback.
	Numbers func(number string) Party
	// DefaultPhone configures phones that were not set up with AddPhone.
	DefaultPhone PhoneOptions
	// ToneDuration is how long a "tone:FREQ" prompt plays (DefaultToneDuration).
	ToneDuration time.Duration
	// Prompts gives durations of named prompts (≤ 0: PromptDuration,
	// DefaultPromptDuration); besides these the switch knows the built-in
	// prompts (their real length) and those given to SetPrompts, and Play
	// of any other name fails (prompts.go).
	Prompts        map[string]time.Duration
	PromptDuration time.Duration
	// RecordingDir, when set, receives a synthetic stereo WAV (and a JSON
	// sidecar) for each stopped recording, named in RecordingStopped's
	// Event.Recording; see record.go. MaxRecording caps its length
	// (DefaultMaxRecording).
	RecordingDir string
	MaxRecording time.Duration
}

// Switch is the simulated switch. All its methods are safe for concurrent use.
type Switch struct {
	clk  clock.Clock
	opts Options

	mu     sync.Mutex
	closed bool
	seq    uint64
	cseq   uint64
	legs   map[string]*leg
	confs  map[string]*conference
	phones map[string]*phone

	events  chan telephony.Event
	backlog []telephony.Event
	pumping bool   // a pump goroutine owns delivery of the backlog
	emitted uint64 // events emitted so far

	userPrompts map[string]time.Duration // operators' prompts (prompts.go)
}

var _ telephony.Switch = (*Switch)(nil)

// New returns a simulated switch whose every delay runs on c.
func New(c clock.Clock, opts Options) *Switch {
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = DefaultEventBuffer
	}
	if opts.ToneDuration <= 0 {
		opts.ToneDuration = DefaultToneDuration
	}
	if opts.PromptDuration <= 0 {
		opts.PromptDuration = DefaultPromptDuration
	}
	if opts.Numbers == nil {
		opts.Numbers = func(string) Party { return DefaultParty }
	}
	if opts.MaxRecording <= 0 {
		opts.MaxRecording = DefaultMaxRecording
	}
	return &Switch{
		clk:    c,
		opts:   opts,
		legs:   map[string]*leg{},
		confs:  map[string]*conference{},
		phones: map[string]*phone{},
		events: make(chan telephony.Event, opts.EventBuffer),
	}
}

// LegState is where a leg is in its life; see the package documentation.
type LegState string

const (
	StateOriginated LegState = "originated"
	StateRinging    LegState = "ringing"
	StateOffered    LegState = "offered"
	StateAnswered   LegState = "answered"
	stateGone       LegState = "gone"
)

// behavior is what a simulated party does by itself.
type behavior struct {
	patience    time.Duration
	talkTime    time.Duration
	digits      string
	digitsAfter time.Duration
}

type leg struct {
	id       string
	seq      uint64
	inbound  bool
	state    LegState
	from, to string
	tags     map[string]string
	phone    *phone
	act      behavior

	bridge *leg
	conf   *conference
	mode   telephony.MixMode
	coach  *leg

	held, muted, recording bool
	recStart               time.Time       // when the current recording started
	prompts                []time.Duration // queued prompts, the first one playing
	promptTimer            *timer
	heard                  []byte

	connected bool   // has been bridged or joined at least once
	patience  *timer // abandons unless connected first
	ring      *timer // ring timeout
	timers    []*timer

	transferTo *leg   // the leg placed by a pending Transfer of this leg
	transferOf *leg   // for a leg placed by Transfer: the leg being transferred, while pending
	origin     string // for a leg placed by Transfer: the transferred leg's id (Event.Other)
}

type conference struct {
	id      string
	members []*leg // in join order
}

// timer is a clock timer that can be cancelled reliably: a callback that
// was already running when it was stopped does nothing.
type timer struct {
	t    clock.Timer
	dead bool
}

func (tm *timer) stop() {
	if tm != nil && !tm.dead {
		tm.dead = true
		tm.t.Stop()
	}
}

// after runs f under the switch lock once d has elapsed, unless stopped,
// the owning leg went, or the switch closed. Called with s.mu held.
func (s *Switch) after(l *leg, d time.Duration, f func()) *timer {
	tm := &timer{}
	tm.t = s.clk.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if tm.dead || s.closed {
			return
		}
		tm.dead = true
		f()
	})
	if l != nil {
		live := l.timers[:0]
		for _, x := range l.timers {
			if !x.dead {
				live = append(live, x)
			}
		}
		l.timers = append(live, tm)
	}
	return tm
}

// ---- events ----

// Events is the stream of everything that happens, closed by Close (once
// every event before it was delivered).
func (s *Switch) Events() <-chan telephony.Event { return s.events }

// Emitted is the number of events emitted since New. Every one of them is
// delivered on Events, in order, so a reader that has received n events
// and sees Emitted() > n can receive again without blocking for long: that
// is how a single reader takes "everything so far" without guessing.
func (s *Switch) Emitted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emitted
}

// emit stamps and delivers e. Called with s.mu held; never blocks.
func (s *Switch) emit(e telephony.Event) {
	e.Time = s.clk.Now()
	s.emitted++
	if !s.pumping {
		select {
		case s.events <- e:
			return
		default:
		}
		s.pumping = true
		go s.pump()
	}
	s.backlog = append(s.backlog, e)
}

func (s *Switch) pump() {
	s.mu.Lock()
	for len(s.backlog) > 0 {
		e := s.backlog[0]
		s.backlog[0] = telephony.Event{}
		s.backlog = s.backlog[1:]
		s.mu.Unlock()
		s.events <- e
		s.mu.Lock()
	}
	s.backlog = nil
	s.pumping = false
	if s.closed {
		close(s.events)
	}
	s.mu.Unlock()
}

func (s *Switch) emitLeg(l *leg, typ telephony.EventType) {
	s.emit(telephony.Event{Type: typ, Leg: l.id})
}

// ---- legs ----

func (s *Switch) newLeg(inbound bool, from, to string) *leg {
	s.seq++
	l := &leg{id: "leg-" + strconv.FormatUint(s.seq, 10), seq: s.seq, inbound: inbound, from: from, to: to}
	s.legs[l.id] = l
	return l
}

func (s *Switch) lookup(id string) (*leg, error) {
	if l := s.legs[id]; l != nil {
		return l, nil
	}
	return nil, fmt.Errorf("%w: %q", telephony.ErrNoLeg, id)
}

func stateErr(op string, l *leg) error {
	return fmt.Errorf("%w: %s %s: leg is %s", telephony.ErrState, op, l.id, l.describe())
}

func (l *leg) describe() string {
	d := string(l.state)
	if l.held {
		d += ", held"
	}
	if l.muted {
		d += ", muted"
	}
	if l.recording {
		d += ", recording"
	}
	if l.bridge != nil {
		d += ", bridged to " + l.bridge.id
	}
	if l.conf != nil {
		d += ", in " + l.conf.id
	}
	return d
}

// answered looks up an answered leg for op.
func (s *Switch) answered(op, id string) (*leg, error) {
	l, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if l.state != StateAnswered {
		return nil, stateErr(op, l)
	}
	return l, nil
}

func defaultCause(l *leg) string {
	switch l.state {
	case StateAnswered:
		return telephony.CauseNormal
	case StateOffered:
		return telephony.CauseRejected
	default:
		return telephony.CauseCancelled
	}
}

// hangup ends l with cause and every event that goes with it.
func (s *Switch) hangup(l *leg, cause string) {
	if l.state == stateGone {
		return
	}
	s.cancelTransfer(l)
	if o := l.transferOf; o != nil {
		o.transferTo = nil
		l.transferOf = nil
	}
	s.stopPlayback(l)
	if l.recording {
		l.recording = false
		s.stopRecording(l)
	}
	if l.conf != nil {
		s.leave(l)
	}
	partner := l.bridge
	if partner != nil {
		l.bridge, partner.bridge = nil, nil
	}
	for _, tm := range l.timers {
		tm.stop()
	}
	l.timers = nil
	l.state = stateGone
	delete(s.legs, l.id)
	if l.phone != nil && l.phone.leg == l {
		l.phone.leg = nil
	}
	s.emit(telephony.Event{Type: telephony.Hangup, Leg: l.id, Cause: cause, Other: l.origin})
	if partner != nil {
		s.emit(telephony.Event{Type: telephony.Unbridged, Leg: partner.id, Other: l.id})
	}
}

// cancelTransfer hangs up the leg a pending Transfer of l placed.
func (s *Switch) cancelTransfer(l *leg) {
	if t := l.transferTo; t != nil {
		l.transferTo, t.transferOf = nil, nil
		s.hangup(t, telephony.CauseCancelled)
	}
}

// ring moves an originated leg to ringing and arms the ring timeout.
func (s *Switch) ring(l *leg, timeout time.Duration) {
	l.state = StateRinging
	s.emit(telephony.Event{Type: telephony.Ringing, Leg: l.id, From: l.from, To: l.to, Other: l.origin})
	l.ring = s.after(l, timeout, func() {
		if l.state == StateRinging {
			s.hangup(l, telephony.CauseNoAnswer)
		}
	})
}

// farAnswer: the far end of a ringing originated leg picks up.
func (s *Switch) farAnswer(l *leg) {
	l.ring.stop()
	l.state = StateAnswered
	s.emit(telephony.Event{Type: telephony.Answered, Leg: l.id, Other: l.origin})
	s.startParty(l)
	if o := l.transferOf; o != nil && l.state == StateAnswered {
		o.transferTo, l.transferOf = nil, nil
		s.bridge(o, l)
	}
}

// startParty arms what a simulated party does once its leg is answered.
func (s *Switch) startParty(l *leg) {
	if l.act.digits != "" {
		digits := l.act.digits
		s.later(l, l.act.digitsAfter, func() {
			if l.state == StateAnswered {
				s.press(l, digits)
			}
		})
	}
	if !l.inbound && l.act.patience > 0 && !l.connected {
		l.patience = s.after(l, l.act.patience, func() {
			if !l.connected {
				s.hangup(l, telephony.CauseAbandoned)
			}
		})
	}
}

// later runs f now when d <= 0, else after d.
func (s *Switch) later(l *leg, d time.Duration, f func()) {
	if d <= 0 {
		f()
		return
	}
	s.after(l, d, f)
}

// connect notes that l is now with someone: patience ends, talk time starts.
func (s *Switch) connect(l *leg) {
	if l.connected {
		return
	}
	l.connected = true
	l.patience.stop()
	if l.act.talkTime > 0 {
		s.after(l, l.act.talkTime, func() { s.hangup(l, telephony.CauseNormal) })
	}
}

func (s *Switch) press(l *leg, digits string) {
	for i := 0; i < len(digits); i++ {
		s.emit(telephony.Event{Type: telephony.DTMF, Leg: l.id, Digit: digits[i : i+1]})
	}
}

// detach takes l out of its bridge or conference.
func (s *Switch) detach(l *leg) {
	if p := l.bridge; p != nil {
		l.bridge, p.bridge = nil, nil
		s.emit(telephony.Event{Type: telephony.Unbridged, Leg: l.id, Other: p.id})
		s.emit(telephony.Event{Type: telephony.Unbridged, Leg: p.id, Other: l.id})
	}
	if l.conf != nil {
		s.leave(l)
	}
}

func (s *Switch) bridge(a, b *leg) {
	s.cancelTransfer(a)
	s.cancelTransfer(b)
	s.detach(a)
	s.detach(b)
	s.stopPlayback(a)
	s.stopPlayback(b)
	a.bridge, b.bridge = b, a
	s.emit(telephony.Event{Type: telephony.Bridged, Leg: a.id, Other: b.id})
	s.emit(telephony.Event{Type: telephony.Bridged, Leg: b.id, Other: a.id})
	s.connect(a)
	s.connect(b)
}

// ---- telephony.Switch ----

// Originate places an outbound leg; see the package documentation for
// destinations. Ringing (or an immediate Hangup) is emitted before it returns.
func (s *Switch) Originate(ctx context.Context, req telephony.OriginateRequest) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d, err := parseDestination(req.To)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	l := s.place(d, req.From, req.To, req.RingTimeout, req.Tags, nil)
	return l.id, nil
}

// place creates an outbound leg to d and starts its life.
func (s *Switch) place(d destination, from, to string, ringTimeout time.Duration, tags map[string]string, transferOf *leg) *leg {
	if ringTimeout <= 0 {
		ringTimeout = DefaultRingTimeout
	}
	l := s.newLeg(false, from, to)
	l.state = StateOriginated
	if len(tags) > 0 {
		l.tags = make(map[string]string, len(tags))
		for k, v := range tags {
			l.tags[k] = v
		}
	}
	if transferOf != nil {
		l.transferOf, transferOf.transferTo = transferOf, l
		l.origin = transferOf.id
	}
	if d.station != "" {
		p := s.phone(d.station)
		switch {
		case !p.registered:
			s.hangup(l, telephony.CauseFailed)
		case p.leg != nil:
			s.hangup(l, telephony.CauseBusy)
		default:
			p.leg, l.phone = l, p
			s.ring(l, ringTimeout)
			if p.autoAnswer > 0 {
				s.after(l, p.autoAnswer, func() {
					if l.state == StateRinging {
						s.farAnswer(l)
					}
				})
			}
		}
		return l
	}
	party := s.opts.Numbers(d.number)
	l.act = behavior{patience: party.Patience, talkTime: party.TalkTime, digits: party.Digits, digitsAfter: party.DigitsAfter}
	switch party.Outcome {
	case Busy, Fail:
		cause := telephony.CauseBusy
		if party.Outcome == Fail {
			cause = telephony.CauseFailed
		}
		s.later(l, party.After, func() {
			if l.state == StateOriginated {
				s.hangup(l, cause)
			}
		})
	case Reject:
		s.ring(l, ringTimeout)
		if l.state == StateRinging && party.After < ringTimeout {
			s.later(l, party.After, func() {
				if l.state == StateRinging {
					s.hangup(l, telephony.CauseRejected)
				}
			})
		}
	case NoAnswer:
		s.ring(l, ringTimeout)
	default:
		s.ring(l, ringTimeout)
		if party.After < ringTimeout {
			s.later(l, party.After, func() {
				if l.state == StateRinging {
					s.farAnswer(l)
				}
			})
		}
	}
	return l
}

// Answer connects an offered inbound leg.
func (s *Switch) Answer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	if l.state != StateOffered {
		return stateErr("answer", l)
	}
	l.state = StateAnswered
	s.emitLeg(l, telephony.Answered)
	s.startParty(l)
	return nil
}

// Hangup ends a leg in any state; an empty cause picks one from the state
// (see the package documentation).
func (s *Switch) Hangup(ctx context.Context, id, cause string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	if cause == "" {
		cause = defaultCause(l)
	}
	s.hangup(l, cause)
	return nil
}

// Bridge joins two answered legs; each leaves its previous bridge or
// conference first (Unbridged / Left), playback on both is interrupted, a
// pending transfer of either is cancelled.
func (s *Switch) Bridge(ctx context.Context, a, b string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	la, err := s.answered("bridge", a)
	if err != nil {
		return err
	}
	lb, err := s.answered("bridge", b)
	if err != nil {
		return err
	}
	if la == lb {
		return fmt.Errorf("%w: bridge %s to itself", telephony.ErrState, a)
	}
	if la.bridge == lb {
		return fmt.Errorf("%w: %s and %s are already bridged", telephony.ErrState, a, b)
	}
	s.bridge(la, lb)
	return nil
}

// Unbridge separates a bridged leg from its partner; both stay up and both
// get Unbridged.
func (s *Switch) Unbridge(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered("unbridge", id)
	if err != nil {
		return err
	}
	if l.bridge == nil {
		return stateErr("unbridge", l)
	}
	s.detach(l)
	return nil
}

// Hold puts an answered leg on hold.
func (s *Switch) Hold(ctx context.Context, id string) error {
	return s.flag(ctx, "hold", id, func(l *leg) *bool { return &l.held }, true, telephony.Held)
}

// Resume takes a held leg off hold.
func (s *Switch) Resume(ctx context.Context, id string) error {
	return s.flag(ctx, "resume", id, func(l *leg) *bool { return &l.held }, false, telephony.Resumed)
}

// Mute stops (on) or restarts sending the leg's voice to others.
func (s *Switch) Mute(ctx context.Context, id string, on bool) error {
	typ := telephony.Unmuted
	if on {
		typ = telephony.Muted
	}
	return s.flag(ctx, "mute", id, func(l *leg) *bool { return &l.muted }, on, typ)
}

// Record starts (on) or stops recording the leg.
func (s *Switch) Record(ctx context.Context, id string, on bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered("record", id)
	if err != nil {
		return err
	}
	if l.recording == on {
		return stateErr(fmt.Sprintf("record(%t)", on), l)
	}
	l.recording = on
	if on {
		l.recStart = s.clk.Now()
		s.emitLeg(l, telephony.RecordingStarted)
		return nil
	}
	s.stopRecording(l)
	return nil
}

// flag sets a boolean property of an answered leg that must change.
func (s *Switch) flag(ctx context.Context, op, id string, field func(*leg) *bool, on bool, typ telephony.EventType) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered(op, id)
	if err != nil {
		return err
	}
	f := field(l)
	if *f == on {
		return stateErr(fmt.Sprintf("%s(%t)", op, on), l)
	}
	*f = on
	s.emitLeg(l, typ)
	return nil
}

// SendDTMF plays digits to the leg's party; DigitsReceived shows them. An
// empty string does nothing; a character outside 0-9 * # A-D is an error
// (lower-case a-d are accepted as A-D) and nothing is sent.
func (s *Switch) SendDTMF(ctx context.Context, id, digits string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := normalizeDigits(digits)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered("send DTMF to", id)
	if err != nil {
		return err
	}
	l.heard = append(l.heard, d...)
	return nil
}

// Transfer moves the leg's party to another destination (blind transfer);
// see the package documentation for exactly what happens.
func (s *Switch) Transfer(ctx context.Context, id, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := parseDestination(to)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered("transfer", id)
	if err != nil {
		return err
	}
	s.cancelTransfer(l)
	s.detach(l)
	if l.held {
		l.held = false
		s.emitLeg(l, telephony.Resumed)
	}
	if l.muted {
		l.muted = false
		s.emitLeg(l, telephony.Unmuted)
	}
	number := l.from
	if !l.inbound {
		number = strings.TrimPrefix(l.to, telephony.TelPrefix)
	}
	s.place(d, number, to, 0, nil, l)
	return nil
}

// NewConference creates an empty room; it lasts until EndConference or Close.
func (s *Switch) NewConference(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	s.cseq++
	c := &conference{id: "conf-" + strconv.FormatUint(s.cseq, 10)}
	s.confs[c.id] = c
	return c.id, nil
}

// Join puts an answered leg into a conference. An empty mode means Full. A
// Whisper participant needs a coach that is in the conference. Joining the
// conference the leg is already in with another mode or coach changes them
// (one Joined event with the new mode, no Left); with the same ones it is
// ErrState. A leg in a bridge or another conference leaves it first.
func (s *Switch) Join(ctx context.Context, confID, id string, mode telephony.MixMode, coach string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch mode {
	case "":
		mode = telephony.Full
	case telephony.Full, telephony.Listen, telephony.Whisper:
	default:
		return fmt.Errorf("sim: unknown mix mode %q", mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	c := s.confs[confID]
	if c == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, confID)
	}
	if l.state != StateAnswered {
		return stateErr("join", l)
	}
	var cl *leg
	if mode == telephony.Whisper {
		if coach == "" {
			return fmt.Errorf("%w: whisper needs a coach", telephony.ErrState)
		}
		if cl, err = s.lookup(coach); err != nil {
			return err
		}
		if cl == l || cl.conf != c {
			return fmt.Errorf("%w: coach %s is not another member of %s", telephony.ErrState, coach, c.id)
		}
	}
	if l.conf == c {
		if l.mode == mode && l.coach == cl {
			return stateErr("join "+string(mode), l)
		}
		l.mode, l.coach = mode, cl
		s.emit(telephony.Event{Type: telephony.Joined, Leg: l.id, Conference: c.id, Mode: mode})
		return nil
	}
	s.cancelTransfer(l)
	s.detach(l)
	s.stopPlayback(l)
	l.conf, l.mode, l.coach = c, mode, cl
	c.members = append(c.members, l)
	s.emit(telephony.Event{Type: telephony.Joined, Leg: l.id, Conference: c.id, Mode: mode})
	s.connect(l)
	return nil
}

// Leave takes a leg out of a conference; it stays up.
func (s *Switch) Leave(ctx context.Context, confID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	c := s.confs[confID]
	if c == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, confID)
	}
	if l.conf != c {
		return stateErr("leave "+confID, l)
	}
	s.leave(l)
	return nil
}

func (s *Switch) leave(l *leg) {
	c := l.conf
	for i, m := range c.members {
		if m == l {
			c.members = append(c.members[:i], c.members[i+1:]...)
			break
		}
	}
	mode := l.mode
	l.conf, l.mode, l.coach = nil, "", nil
	s.emit(telephony.Event{Type: telephony.Left, Leg: l.id, Conference: c.id, Mode: mode})
}

// EndConference takes every member out (Left, in join order; they stay up)
// and deletes the room.
func (s *Switch) EndConference(ctx context.Context, confID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.confs[confID]
	if c == nil {
		return fmt.Errorf("%w: %q", telephony.ErrNoConference, confID)
	}
	for len(c.members) > 0 {
		s.leave(c.members[0])
	}
	delete(s.confs, confID)
	return nil
}

// Play plays a prompt to an offered or answered leg, after any prompt
// already playing; PlaybackDone follows when it ends or is interrupted.
func (s *Switch) Play(ctx context.Context, id, prompt string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if prompt == "" {
		return errors.New("sim: empty prompt")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	if l.state != StateAnswered && l.state != StateOffered {
		return stateErr("play to", l)
	}
	d, err := s.promptDuration(prompt) // prompts.go: unknown names are refused
	if err != nil {
		return err
	}
	l.prompts = append(l.prompts, d)
	if len(l.prompts) == 1 {
		s.playNext(l)
	}
	return nil
}

func (s *Switch) playNext(l *leg) {
	l.promptTimer = s.after(l, l.prompts[0], func() {
		l.prompts = l.prompts[1:]
		s.emitLeg(l, telephony.PlaybackDone)
		if len(l.prompts) > 0 {
			s.playNext(l)
		} else {
			l.prompts, l.promptTimer = nil, nil
		}
	})
}

func (s *Switch) stopPlayback(l *leg) {
	if len(l.prompts) == 0 {
		return
	}
	l.promptTimer.stop()
	for range l.prompts {
		s.emitLeg(l, telephony.PlaybackDone)
	}
	l.prompts, l.promptTimer = nil, nil
}

// Close hangs up every leg (in creation order, causes as for Hangup with
// an empty cause), deletes every conference and closes Events once every
// event has been delivered. It is idempotent.
func (s *Switch) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	legs := make([]*leg, 0, len(s.legs))
	for _, l := range s.legs {
		legs = append(legs, l)
	}
	sort.Slice(legs, func(i, j int) bool { return legs[i].seq < legs[j].seq })
	for _, l := range legs {
		if l.state != stateGone {
			s.hangup(l, defaultCause(l))
		}
	}
	s.confs = map[string]*conference{}
	s.closed = true
	if !s.pumping {
		close(s.events)
	}
	return nil
}

// ---- destinations and digits ----

type destination struct {
	station string // phone name, or
	number  string // normalized external number
}

func parseDestination(to string) (destination, error) {
	switch {
	case strings.HasPrefix(to, telephony.StationPrefix):
		name := strings.TrimPrefix(to, telephony.StationPrefix)
		if !validName(name) {
			return destination{}, fmt.Errorf("%w: %q", telephony.ErrBadDestination, to)
		}
		return destination{station: name}, nil
	case strings.HasPrefix(to, "sip:"), strings.HasPrefix(to, "sips:"):
		return destination{}, fmt.Errorf("%w: SIP URIs need the SIP switch: %q", telephony.ErrNotSupported, to)
	}
	n, ok := NormalizeNumber(strings.TrimPrefix(to, telephony.TelPrefix))
	if !ok {
		return destination{}, fmt.Errorf("%w: %q", telephony.ErrBadDestination, to)
	}
	return destination{number: n}, nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// NormalizeNumber drops visual separators (space . - ( )) from a phone
// number and reports whether what remains is an optional + and 1 to 20
// digits. This is how the switch reads "tel:" and bare destinations.
func NormalizeNumber(s string) (string, bool) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	n := b.String()
	digits := len(strings.TrimPrefix(n, "+"))
	return n, digits >= 1 && digits <= 20
}

func normalizeDigits(digits string) ([]byte, error) {
	out := make([]byte, len(digits))
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#', c >= 'A' && c <= 'D':
		case c >= 'a' && c <= 'd':
			c -= 'a' - 'A'
		default:
			return nil, fmt.Errorf("sim: %q is not a DTMF digit (0-9 * # A-D)", digits[i])
		}
		out[i] = c
	}
	return out, nil
}
