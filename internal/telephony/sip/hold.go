package sip

import (
	"context"

	"github.com/centralita/centralita/internal/telephony"
)

// legMedia is a leg's media situation beyond its bridge, guarded by s.mu.
// Hold, mute and the bridge are independent (as in the simulated switch):
// Bridge does not take a leg off hold and a held leg stays held when
// bridged or joined.
type legMedia struct {
	held, muted bool
	room        *member   // the leg's place in a conference (mix.go)
	rec         *recorder // recording (record.go)
	early       []byte    // our SDP, sent with 183 (early media)
}

// play is one Play not yet reported done.
type play struct{ item *playItem }

// mediaDigit: the party whose media is med pressed d (RFC 4733). Key
// presses are rare, so finding the leg by its media is a plain scan.
func (s *Switch) mediaDigit(med *rtpLeg, d string) {
	s.mu.Lock()
	var l *leg
	for _, x := range s.legs {
		if x.med == med {
			l = x
			break
		}
	}
	s.mu.Unlock()
	if l != nil {
		s.partyDigit(l, d)
	}
}

// partyDigit: the party on l pressed d (RFC 4733, or SIP INFO).
func (s *Switch) partyDigit(l *leg, d string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs[l.id] == l && l.state == stAnswered {
		s.emit(telephony.Event{Type: telephony.DTMF, Leg: l.id, Digit: d})
	}
}

// reroute rebuilds where l's incoming audio goes from the switch's state.
// Call it (with s.mu) after changing l's bridge, hold, mute, room or
// recording, and on a partner's relay target when it changes.
func (s *Switch) reroute(l *leg) {
	if l.med == nil {
		return
	}
	r := &route{drop: l.held || l.muted, room: l.room, rec: l.rec}
	if p := s.legs[l.bridged]; p != nil && p.med != nil {
		r.relay, r.relayPT = p.med, byte(p.med.eventPT.Load())
	}
	if l.rec != nil {
		l.med.rec.Store(l.rec)
	} else {
		l.med.rec.Store(nil)
	}
	l.med.route.Store(r)
}

// detach takes l out of its bridge (Unbridged for both) and its
// conference (Left). Needs s.mu.
func (s *Switch) detach(l *leg) {
	s.unbridge(l)
	if l.room != nil {
		s.leaveRoom(l)
	}
}

// endMedia is the media side of l going away, before its Hangup, in the
// simulated switch's order: PlaybackDone for every prompt, RecordingStopped,
// Left. The player and music stop with the socket. Needs s.mu.
func (s *Switch) endMedia(l *leg) {
	s.stopPlays(l)
	if l.rec != nil {
		s.stopRecording(l)
	}
	if l.room != nil {
		s.leaveRoom(l)
	}
	if l.med != nil {
		l.med.route.Store(nil)
		l.med.pl.setMusic(nil)
	}
}

// handOver takes l off hold and unmutes it (Resumed, Unmuted), for a
// Transfer that hands the party over afresh. Needs s.mu.
func (s *Switch) handOver(l *leg) {
	if l.room != nil {
		s.leaveRoom(l)
	}
	if l.held {
		s.setHeld(l, false)
	}
	if l.muted {
		l.muted = false
		s.reroute(l)
		s.emit(telephony.Event{Type: telephony.Unmuted, Leg: l.id})
	}
}

// answered finds an answered leg.
func (s *Switch) answered(id string) (*leg, error) {
	l, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if l.state != stAnswered {
		return nil, telephony.ErrState
	}
	return l, nil
}

// Hold puts an answered leg on hold: its party hears music on hold (the
// "moh" prompt, looped) and nobody hears it; its bridge or conference is
// kept for Resume.
func (s *Switch) Hold(ctx context.Context, id string) error {
	return s.hold(id, true)
}

// Resume takes a held leg off hold: it hears and is heard again as before.
func (s *Switch) Resume(ctx context.Context, id string) error {
	return s.hold(id, false)
}

func (s *Switch) hold(id string, on bool) error {
	var moh []int16
	if on {
		var err error
		if moh, err = s.promptPCM("moh"); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered(id)
	if err != nil {
		return err
	}
	if l.held == on {
		return telephony.ErrState
	}
	l.held = on
	s.reroute(l)
	l.med.pl.setMusic(moh)
	typ := telephony.Resumed
	if on {
		typ = telephony.Held
	}
	s.emit(telephony.Event{Type: typ, Leg: l.id})
	return nil
}

// setHeld changes hold without the prompt lookup (Resume only). Needs s.mu.
func (s *Switch) setHeld(l *leg, on bool) {
	l.held = on
	s.reroute(l)
	l.med.pl.setMusic(nil)
	s.emit(telephony.Event{Type: telephony.Resumed, Leg: l.id})
}

// Mute stops (on) or restarts sending the leg's voice to others; the leg
// still hears them.
func (s *Switch) Mute(ctx context.Context, id string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered(id)
	if err != nil {
		return err
	}
	if l.muted == on {
		return telephony.ErrState
	}
	l.muted = on
	s.reroute(l)
	typ := telephony.Unmuted
	if on {
		typ = telephony.Muted
	}
	s.emit(telephony.Event{Type: typ, Leg: l.id})
	return nil
}
