package sip

import (
	"context"
	"strings"

	"github.com/centralita/centralita/internal/telephony"
)

// sigState is a leg's signalling state beyond the basic call: transfers,
// digest credentials towards a trunk, in-dialog requests. Guarded by s.mu.
type sigState struct {
	// origin: on a leg Transfer placed, the transferred leg's id, given as
	// Event.Other on this leg's Ringing, Answered and Hangup.
	origin string
	// transferOf: on a leg Transfer placed, the transferred leg while the
	// transfer is pending; transferTo is the other direction.
	transferOf, transferTo *leg
	// referral: on a leg a REFER from a phone placed, who to tell;
	// pendingReferral passes it from the transferred leg while placing.
	referral, pendingReferral *referral

	// authUser/authPass answer 401/407 to our INVITE.
	authUser, authPass string

	// reinviteAck is closed when the ACK for our 200 to a re-INVITE with
	// CSeq reinviteSeq arrives.
	reinviteAck chan struct{}
	reinviteSeq uint32
	// reinviteNoOffer: the re-INVITE had no SDP, the ACK carries the answer.
	reinviteNoOffer bool
	// remoteSeq is the party's last in-dialog INVITE CSeq.
	remoteSeq uint32
}

// linkTransfer marks t as the leg a Transfer of origin placed. Needs s.mu.
func (s *Switch) linkTransfer(t, origin *leg) {
	if origin == nil {
		return
	}
	t.sig.origin = origin.id
	t.sig.transferOf, origin.sig.transferTo = origin, t
	t.sig.referral, origin.sig.pendingReferral = origin.sig.pendingReferral, nil
}

// cancelTransfer hangs up the leg a pending Transfer of l placed (cause
// cancelled). Needs s.mu.
func (s *Switch) cancelTransfer(l *leg) {
	if t := l.sig.transferTo; t != nil {
		l.sig.transferTo, t.sig.transferOf = nil, nil
		if s.legs[t.id] == t {
			s.hangup(t, telephony.CauseCancelled)
		}
	}
}

// sigEnd is the signalling side of a leg going away: a pending transfer of
// it is cancelled; a pending transfer it was placed for is over (the
// transferred leg stays up, unbridged; a REFER's referrer hears how it
// ended). Needs s.mu; called by end before the leg's Hangup.
func (s *Switch) sigEnd(l *leg, cause string) {
	s.cancelTransfer(l)
	o := l.sig.transferOf
	if o != nil {
		o.sig.transferTo, l.sig.transferOf = nil, nil
	}
	if r := l.sig.referral; r != nil {
		l.sig.referral = nil
		s.referFailed(r, o, cause) // o is nil when the transfer was cancelled: no bridging back
	}
	if ch := l.sig.reinviteAck; ch != nil {
		l.sig.reinviteAck = nil
		close(ch)
	}
}

// transferAnswered bridges a leg Transfer placed, now answered, to the leg
// it was placed for. Needs s.mu.
func (s *Switch) transferAnswered(t *leg) {
	o := t.sig.transferOf
	if o == nil {
		return
	}
	o.sig.transferTo, t.sig.transferOf = nil, nil
	r := t.sig.referral
	t.sig.referral = nil
	if s.legs[o.id] != o || o.state != stAnswered {
		if r != nil { // the referrer still waits for its final NOTIFY
			s.referFailed(r, nil, telephony.CauseFailed)
		}
		return
	}
	s.bridge(o, t)
	if r != nil {
		s.referDone(r)
	}
}

// Transfer hands an answered leg to `to` (blind transfer inside the
// switch): it leaves its bridge (it and its partner get Unbridged; the
// partner stays up), is taken off hold and unmuted, and a new leg is
// placed to `to` with the leg's party's number as caller id. That leg's
// Ringing, Answered and Hangup carry Other = leg; when it answers it is
// bridged to leg. If it fails, leg stays up, unbridged. A Bridge, a new
// Transfer or the hangup of leg while it rings cancels it.
func (s *Switch) Transfer(ctx context.Context, id, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.parseDest(to, nil)
	if err != nil {
		return err
	}
	l, err := s.get(id)
	if err != nil {
		return err
	}
	if l.state != stAnswered {
		return telephony.ErrState
	}
	_, err = s.transfer(l, d, to)
	return err
}

// transfer does Transfer's work for an answered leg (also for REFER).
// Needs s.mu, which dial releases while the INVITE is sent: l may have
// changed when it returns.
func (s *Switch) transfer(l *leg, d dest, to string) (*leg, error) {
	s.cancelTransfer(l)
	s.unbridge(l)
	s.handOver(l)
	return s.place(d, telephony.OriginateRequest{To: to, From: partyNumber(l)}, l)
}

// partyNumber is the number (or name) of the party on l, the caller id a
// transfer of l shows: the caller of an inbound leg, the destination of
// an outbound one ("tel:+34…" → "+34…", "station:1001" → "1001",
// "sip:bob@host" → "bob").
func partyNumber(l *leg) string {
	if l.inbound {
		return l.from
	}
	to := l.to
	for _, p := range []string{telephony.TelPrefix, telephony.StationPrefix, "sip:"} {
		to = strings.TrimPrefix(to, p)
	}
	user, _, _ := strings.Cut(to, "@")
	return user
}
