package sip

import (
	"errors"
	"fmt"
	"net"

	"github.com/centralita/centralita/internal/telephony"
)

// Browser phones: a station whose device is the softphone page itself
// (WebRTC, signalled over the agent's notifications WebSocket) is reached
// through Options.Browsers instead of a registered SIP contact.
//
// The switch keeps such a leg like any other: an rtpLeg (so hold, mute,
// conferences, recording, prompts and RFC 4733 DTMF work unchanged) whose
// "party" is a local UDP socket, the shim, standing in for the browser:
// what the rtpLeg sends to its party is handed to the browser leg
// (BrowserLeg.WriteRTP), and what the browser sends is written from the
// shim to the rtpLeg. One extra loopback hop per packet buys a browser leg
// every media feature of a SIP leg.

// ErrNotBrowser is returned by BrowserPhones when a station or leg has no
// browser phone.
var ErrNotBrowser = errors.New("sip: no browser phone there")

// BrowserPhones reaches the stations whose device is a browser.
type BrowserPhones interface {
	// Has reports whether station's device is a browser phone right now
	// (a page is registered for it). Fast: the switch asks with its lock
	// held.
	Has(station string) bool
	// Ring offers call to station's browser and returns at once (the
	// switch holds its lock: Ring must neither block nor call call's
	// callbacks before it returns). The offer, the answer and the media
	// happen in the background and are reported through call's callbacks.
	Ring(station string, call BrowserCall) (BrowserLeg, error)
	// Answer asks the browser ringing for leg to answer (the agent
	// answered through the API); ErrNotBrowser when no browser rings there.
	Answer(leg string) error
}

// BrowserCall is a call offered to a browser, with the callbacks through
// which the browser side reports back. Callbacks may run on any goroutine,
// once each at most; after Ended nothing more is reported.
type BrowserCall struct {
	Leg        string // the switch's leg id
	From       string // caller id shown
	CallerName string
	Tags       map[string]string
	// Ringing: the page shows the call.
	Ringing func()
	// Answered: the page answered and its media is connected.
	Answered func()
	// Ended: the page declined or hung up, or its media failed; cause is
	// a telephony hangup cause.
	Ended func(cause string)
	// FromBrowser takes each RTP packet the browser sends (not kept).
	FromBrowser func(pkt []byte)
}

// BrowserLeg is the browser side of one call.
type BrowserLeg interface {
	// WriteRTP sends one RTP packet to the browser (not kept).
	WriteRTP(pkt []byte) error
	// Hangup ends the call on the page: the switch hung up. Ended does
	// not follow. Safe to call more than once.
	Hangup()
}

// Browsers is Options.Browsers (nil when the switch has none).
func (s *Switch) Browsers() BrowserPhones { return s.opt.Browsers }

// ringBrowser places an originated leg to a browser station, when d is a
// station whose device is a browser; ok is false otherwise (the switch
// goes on with SIP). origin is the leg a Transfer hands over, or nil.
// Needs s.mu.
func (s *Switch) ringBrowser(d dest, req telephony.OriginateRequest, origin *leg) (l *leg, ok bool, err error) {
	if s.opt.Browsers == nil || d.kind != toStation || !s.opt.Browsers.Has(d.station) {
		return nil, false, nil
	}
	ring := req.RingTimeout
	if ring <= 0 {
		ring = DefaultRingTimeout
	}
	med, err := newRTPLeg(&s.pool, s.ip)
	if err != nil {
		return nil, true, err
	}
	shim, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(s.ip)})
	if err != nil {
		med.Close()
		return nil, true, fmt.Errorf("sip: browser media shim: %w", err)
	}
	med.SetRemote(shim.LocalAddr().(*net.UDPAddr))
	medAddr := &net.UDPAddr{IP: net.ParseIP(s.ip), Port: med.Port()}

	from := req.From
	if from == "" {
		from = "centralita"
	}
	l = s.newLeg(false, "")
	l.state, l.med, l.from, l.to = stOriginated, med, from, req.To
	s.linkTransfer(l, origin)
	l.cancelWait = func() {} // hangup while ringing: end closes the media, the watcher tells the page
	bl, err := s.opt.Browsers.Ring(d.station, BrowserCall{
		Leg: l.id, From: req.From, CallerName: req.CallerName, Tags: req.Tags,
		Ringing:     func() { s.browserRinging(l) },
		Answered:    func() { s.browserAnswered(l) },
		Ended:       func(cause string) { s.browserEnded(l, cause) },
		FromBrowser: func(pkt []byte) { _, _ = shim.WriteToUDP(pkt, medAddr) },
	})
	if err != nil {
		shim.Close()
		s.log.Warn("browser phone: ring failed", "station", d.station, "leg", l.id, "err", err)
		s.end(l, telephony.CauseFailed) // closes med
		return l, true, nil
	}
	l.timer = s.opt.Clock.AfterFunc(ring, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.legs[l.id] == l && (l.state == stOriginated || l.state == stRinging) {
			s.end(l, telephony.CauseNoAnswer)
		}
	})
	go func() { // what the switch sends to the party goes to the browser
		buf := make([]byte, 1500)
		for {
			n, err := shim.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			_ = bl.WriteRTP(buf[:n])
		}
	}()
	go func() { // the leg's media closes when the leg ends, whoever ended it
		<-med.done
		bl.Hangup()
		shim.Close()
	}()
	return l, true, nil
}

func (s *Switch) browserRinging(l *leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs[l.id] == l && l.state == stOriginated && !l.ringEmitted {
		l.ringEmitted = true
		l.state = stRinging
		s.emit(telephony.Event{Type: telephony.Ringing, Leg: l.id, From: l.from, To: l.to, Other: l.sig.origin})
	}
}

func (s *Switch) browserAnswered(l *leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs[l.id] != l || (l.state != stOriginated && l.state != stRinging) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	if !l.ringEmitted {
		l.ringEmitted = true
		s.emit(telephony.Event{Type: telephony.Ringing, Leg: l.id, From: l.from, To: l.to, Other: l.sig.origin})
	}
	l.state = stAnswered
	s.emit(telephony.Event{Type: telephony.Answered, Leg: l.id, Other: l.sig.origin})
	s.transferAnswered(l)
}

func (s *Switch) browserEnded(l *leg, cause string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs[l.id] == l {
		s.end(l, cause)
	}
}

// AnswerPhone answers a browser phone ringing on leg id, as the agent's
// click on Answer in the softphone does through the API (the page accepts
// the WebRTC offer). A SIP phone is answered on the phone itself: for
// other legs it returns an error wrapping telephony.ErrState.
func (s *Switch) AnswerPhone(id string) error {
	s.mu.Lock()
	l := s.legs[id]
	var state legState
	if l != nil {
		state = l.state
	}
	s.mu.Unlock()
	switch {
	case l == nil:
		return telephony.ErrNoLeg
	case state == stAnswered:
		return nil
	case state != stOriginated && state != stRinging:
		return telephony.ErrState
	case s.opt.Browsers == nil:
		return fmt.Errorf("%w: answer on the phone itself", telephony.ErrState)
	}
	err := s.opt.Browsers.Answer(id)
	if errors.Is(err, ErrNotBrowser) {
		return fmt.Errorf("%w: answer on the phone itself", telephony.ErrState)
	}
	return err
}
