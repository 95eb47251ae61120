package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// This file is the simulated outside world: customers who call in, agent
// phones, external numbers, and what the tests can observe of the media.

// Caller is how a simulated customer behaves on an inbound call.
type Caller struct {
	// Patience: the caller hangs up (CauseAbandoned) if the leg has not been
	// bridged to anyone or joined to a conference this long after the call
	// arrived. Answering (e.g. by an IVR) does not stop it. 0 waits forever.
	Patience time.Duration
	// TalkTime: the caller hangs up (CauseNormal) this long after first being
	// bridged or joined. 0 never hangs up by itself.
	TalkTime time.Duration
	// Digits are pressed (one DTMF event each, all at the same instant)
	// DigitsAfter after the leg is answered.
	Digits      string
	DigitsAfter time.Duration
}

// Outcome is what happens when an external number is called.
type Outcome int

const (
	// Answer: rings, answers After the call was placed (no answer if After
	// reaches the ring timeout).
	Answer Outcome = iota
	// Busy: Hangup CauseBusy After the call was placed, without ringing.
	Busy
	// NoAnswer: rings until the ring timeout (AnswerPhone still answers it).
	NoAnswer
	// Reject: rings, then Hangup CauseRejected After the call was placed.
	Reject
	// Fail: Hangup CauseFailed After the call was placed, without ringing.
	Fail
)

// Party is how the party at an external number behaves.
type Party struct {
	Outcome Outcome
	// After is when the outcome happens, counted from Originate.
	After time.Duration
	// Patience: once answered, the party hangs up (CauseAbandoned) unless
	// bridged or joined within this; 0 waits forever. (A dialer's answered
	// call that finds no agent.)
	Patience time.Duration
	// TalkTime: the party hangs up (CauseNormal) this long after first being
	// bridged or joined; 0 never.
	TalkTime time.Duration
	// Digits are pressed DigitsAfter the party answered.
	Digits      string
	DigitsAfter time.Duration
}

// Table returns an Options.Numbers that looks a number up in m (keys
// normalized as NormalizeNumber does; "tel:" prefixes allowed) and falls
// back to def.
func Table(def Party, m map[string]Party) func(number string) Party {
	norm := make(map[string]Party, len(m))
	for k, v := range m {
		if n, ok := NormalizeNumber(strings.TrimPrefix(k, telephony.TelPrefix)); ok {
			norm[n] = v
		} else {
			panic(fmt.Sprintf("sim.Table: %q is not a phone number", k))
		}
	}
	return func(number string) Party {
		if p, ok := norm[number]; ok {
			return p
		}
		return def
	}
}

// InjectCall makes a customer call: a new offered leg and its Incoming event
// (From is from, empty for a hidden number; To is the dialled number). It
// returns the leg id, or "" once the switch is closed.
func (s *Switch) InjectCall(from, to string, c Caller) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	l := s.newLeg(true, from, to)
	l.state = StateOffered
	l.act = behavior{patience: c.Patience, talkTime: c.TalkTime, digits: c.Digits, digitsAfter: c.DigitsAfter}
	s.emit(telephony.Event{Type: telephony.Incoming, Leg: l.id, From: from, To: to})
	if c.Patience > 0 {
		l.patience = s.after(l, c.Patience, func() {
			if !l.connected {
				s.hangup(l, telephony.CauseAbandoned)
			}
		})
	}
	return l.id
}

// AnswerPhone makes the far end of a ringing outbound leg pick up — the
// agent answering a station, or an external party answering. Answered
// follows (and, for a transfer leg, the bridge).
func (s *Switch) AnswerPhone(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	if l.state != StateRinging {
		return stateErr("answer phone of", l)
	}
	s.farAnswer(l)
	return nil
}

// RejectPhone makes the far end of a ringing outbound leg decline it:
// Hangup with CauseRejected.
func (s *Switch) RejectPhone(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	if l.state != StateRinging {
		return stateErr("reject phone of", l)
	}
	s.hangup(l, telephony.CauseRejected)
	return nil
}

// HangupFromPeer makes the party on a leg hang up, in any state: an
// answered leg ends with CauseNormal, an offered inbound one with
// CauseAbandoned (the customer gave up), a ringing one with CauseRejected
// and an originated one with CauseFailed.
func (s *Switch) HangupFromPeer(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.lookup(id)
	if err != nil {
		return err
	}
	cause := telephony.CauseNormal
	switch l.state {
	case StateOffered:
		cause = telephony.CauseAbandoned
	case StateRinging:
		cause = telephony.CauseRejected
	case StateOriginated:
		cause = telephony.CauseFailed
	}
	s.hangup(l, cause)
	return nil
}

// PressDigits makes the party on an answered leg press digits: one DTMF
// event per digit. Digits are checked as for SendDTMF.
func (s *Switch) PressDigits(id, digits string) error {
	d, err := normalizeDigits(digits)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered("press digits on", id)
	if err != nil {
		return err
	}
	s.press(l, string(d))
	return nil
}

// DigitsReceived is every digit SendDTMF sent to the leg's party so far,
// in order ("" for a leg that is gone).
func (s *Switch) DigitsReceived(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.legs[id]; l != nil {
		return string(l.heard)
	}
	return ""
}

// Hears reports whether the party on listener hears the party on speaker:
// both answered and distinct; neither held; speaker not muted; and either
// bridged to each other or in the same conference where speaker is Full,
// or Whisper with listener as its coach.
func (s *Switch) Hears(listener, speaker string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, sp := s.legs[listener], s.legs[speaker]
	if l == nil || sp == nil || l == sp || l.state != StateAnswered || sp.state != StateAnswered {
		return false
	}
	if l.held || sp.held || sp.muted {
		return false
	}
	if l.bridge == sp {
		return true
	}
	if l.conf == nil || l.conf != sp.conf {
		return false
	}
	switch sp.mode {
	case telephony.Full:
		return true
	case telephony.Whisper:
		return sp.coach == l
	}
	return false
}

// HearsMusic reports whether the leg's party hears music on hold.
func (s *Switch) HearsMusic(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.legs[id]
	return l != nil && l.held
}

// LegInfo is a snapshot of a leg, for tests, the demo and diagnostics.
type LegInfo struct {
	ID       string
	State    LegState
	Inbound  bool
	From, To string
	Tags     map[string]string
	Station  string // phone name, for a leg to a station
	Bridge   string // the leg it is bridged to
	// Conference, Mode and Coach describe conference membership.
	Conference string
	Mode       telephony.MixMode
	Coach      string
	Held       bool
	Muted      bool
	Recording  bool
	Prompts    int    // prompts playing or queued
	Transfer   string // the leg placed by a pending Transfer of this one
}

// Info describes a live leg; false when it is gone.
func (s *Switch) Info(id string) (LegInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.legs[id]
	if l == nil {
		return LegInfo{}, false
	}
	return l.info(), true
}

func (l *leg) info() LegInfo {
	in := LegInfo{ID: l.id, State: l.state, Inbound: l.inbound, From: l.from, To: l.to,
		Held: l.held, Muted: l.muted, Recording: l.recording, Prompts: len(l.prompts)}
	if len(l.tags) > 0 {
		in.Tags = make(map[string]string, len(l.tags))
		for k, v := range l.tags {
			in.Tags[k] = v
		}
	}
	if l.phone != nil {
		in.Station = l.phone.name
	}
	if l.bridge != nil {
		in.Bridge = l.bridge.id
	}
	if l.conf != nil {
		in.Conference, in.Mode = l.conf.id, l.mode
		if l.coach != nil {
			in.Coach = l.coach.id
		}
	}
	if l.transferTo != nil {
		in.Transfer = l.transferTo.id
	}
	return in
}

// Legs lists the live legs in creation order.
func (s *Switch) Legs() []LegInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LegInfo, 0, len(s.legs))
	for _, l := range s.legs {
		out = append(out, l.info())
	}
	sort.Slice(out, func(i, j int) bool { return legSeq(out[i].ID) < legSeq(out[j].ID) })
	return out
}

func legSeq(id string) int {
	n := 0
	for _, c := range strings.TrimPrefix(id, "leg-") {
		n = n*10 + int(c-'0')
	}
	return n
}

// Conference lists the legs in a conference in join order; false when
// there is no such conference.
func (s *Switch) Conference(id string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.confs[id]
	if c == nil {
		return nil, false
	}
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.id
	}
	return out, true
}

// ---- phones ----

// PhoneOptions configures a simulated agent phone.
type PhoneOptions struct {
	// AutoAnswerAfter > 0 makes the phone answer by itself this long after
	// it starts ringing; 0 waits for AnswerPhone (or the ring timeout).
	AutoAnswerAfter time.Duration
	// Unregistered phones are known but offline: calls to them fail
	// (CauseFailed) without ringing.
	Unregistered bool
}

type phone struct {
	name       string
	registered bool
	autoAnswer time.Duration
	leg        *leg // ringing or talking; nil when idle
}

// phone returns the phone called name, creating it from
// Options.DefaultPhone. Called with s.mu held.
func (s *Switch) phone(name string) *phone {
	p := s.phones[name]
	if p == nil {
		p = &phone{name: name}
		p.configure(s.opts.DefaultPhone)
		s.phones[name] = p
	}
	return p
}

func (p *phone) configure(o PhoneOptions) {
	p.registered = !o.Unregistered
	p.autoAnswer = o.AutoAnswerAfter
}

func phoneName(name string) string { return strings.TrimPrefix(name, telephony.StationPrefix) }

// AddPhone sets up (or reconfigures) the phone of a station; name may carry
// the "station:" prefix. A call the phone is on is not affected, except
// that a ringing call to a phone made unregistered fails (CauseFailed).
func (s *Switch) AddPhone(name string, o PhoneOptions) *Phone {
	name = phoneName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.phone(name)
	p.configure(o)
	s.dropIfUnregistered(p)
	return &Phone{s: s, name: name}
}

func (s *Switch) dropIfUnregistered(p *phone) {
	if !p.registered && p.leg != nil && p.leg.state == StateRinging {
		s.hangup(p.leg, telephony.CauseFailed)
	}
}

// Phone returns a handle on the phone of a station (name with or without
// the "station:" prefix). Every station has one: unless AddPhone set it up,
// it is registered and configured by Options.DefaultPhone.
func (s *Switch) Phone(name string) *Phone {
	return &Phone{s: s, name: phoneName(name)}
}

// Phone is a simulated agent phone. It carries one call at a time.
type Phone struct {
	s    *Switch
	name string
}

// Name is the station name (without "station:").
func (p *Phone) Name() string { return p.name }

func (p *Phone) with(f func(ph *phone)) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	f(p.s.phone(p.name))
}

// Registered reports whether calls to the phone can ring.
func (p *Phone) Registered() (on bool) {
	p.with(func(ph *phone) { on = ph.registered })
	return on
}

// SetRegistered registers or unregisters the phone (unregistering fails a
// call ringing on it; an answered call stays up).
func (p *Phone) SetRegistered(on bool) {
	p.with(func(ph *phone) {
		ph.registered = on
		p.s.dropIfUnregistered(ph)
	})
}

// SetAutoAnswer changes AutoAnswerAfter for calls that start ringing later.
func (p *Phone) SetAutoAnswer(d time.Duration) {
	p.with(func(ph *phone) { ph.autoAnswer = d })
}

// Leg is the leg the phone rings or talks on, "" when idle.
func (p *Phone) Leg() (id string) {
	p.with(func(ph *phone) {
		if ph.leg != nil {
			id = ph.leg.id
		}
	})
	return id
}

// Ringing reports whether the phone is ringing.
func (p *Phone) Ringing() (r bool) {
	p.with(func(ph *phone) { r = ph.leg != nil && ph.leg.state == StateRinging })
	return r
}

// Answer picks up the ringing call (AnswerPhone on its leg).
func (p *Phone) Answer() error { return p.act(p.s.AnswerPhone) }

// Reject declines the ringing call (RejectPhone on its leg).
func (p *Phone) Reject() error { return p.act(p.s.RejectPhone) }

// Hangup hangs up the phone's call (HangupFromPeer on its leg).
func (p *Phone) Hangup() error { return p.act(p.s.HangupFromPeer) }

func (p *Phone) act(f func(string) error) error {
	id := p.Leg()
	if id == "" {
		return fmt.Errorf("%w: phone %s has no call", telephony.ErrNoLeg, p.name)
	}
	return f(id)
}
