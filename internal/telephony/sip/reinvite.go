package sip

import (
	"bytes"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A re-INVITE from a party (same Call-ID, in its dialog) changes the media
// of its leg: hold (a=sendonly or a=inactive, or the RFC 2543 style
// c=0.0.0.0), resume (a=sendrecv again), or a new RTP address or port.
// The switch answers 200 OK with its own SDP (the direction mirrored:
// sendonly → recvonly, inactive → inactive, recvonly → sendonly), points
// the leg's media at the new address (nowhere while the party holds, so
// we send nothing it did not ask for) and takes the ACK. An offer without
// PCMU gets 488 and the call goes on as before, and so does one that
// would turn SRTP on or off (srtp.go: an encrypted leg stays encrypted, a
// new key of the party's re-keys it). A re-INVITE without SDP gets our SDP
// as the offer in the 200; the answer in the ACK then sets the address
// (and the party's key).
//
// No telephony event is emitted for a party's own hold: Held and Resumed
// report the platform's Hold and Resume (the switch plays music to the
// leg), and a phone's hold key is the party's business, like its mute
// key — the other side simply hears what the phone sends (often its own
// music) or silence.

// onReinvite answers an in-dialog INVITE for l.
func (s *Switch) onReinvite(l *leg, req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag == "" {
		// Same Call-ID, no To tag: not in the dialog (a looped or merged request).
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusLoopDetected, "Loop Detected", nil))
		return
	}
	seq := req.CSeq().SeqNo
	s.mu.Lock()
	switch {
	case s.legs[l.id] != l || !inDialog(l, req):
		s.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	case l.state != stAnswered:
		s.mu.Unlock()
		// Our own INVITE transaction with the party is not finished yet.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRequestPending, "Request Pending", nil))
		return
	}
	if l.sig.remoteSeq == 0 && l.srv != nil {
		l.sig.remoteSeq = l.srv.InviteRequest.CSeq().SeqNo
	}
	if seq <= l.sig.remoteSeq {
		s.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "CSeq Out Of Order", nil))
		return
	}
	l.sig.remoteSeq = seq
	med := l.med
	s.mu.Unlock()

	body := req.Body()
	dir := "sendrecv"
	if len(body) > 0 {
		offer, err := parseSDP(body)
		if err != nil || !offer.hasPCMU() {
			res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
			res.AppendHeader(sip.NewHeader("Warning", `305 centralita "only PCMU (payload 0) is supported"`))
			_ = tx.Respond(res)
			return
		}
		// The leg stays encrypted or plain; a new key of the party's
		// re-keys what we receive (srtp.go).
		keys, err := med.crypto.Load().reoffer(offer)
		if err == nil {
			err = med.setCrypto(keys)
		}
		if err != nil {
			s.log.Info("sip re-invite refused", "leg", l.id, "err", err)
			_ = tx.Respond(notAcceptable(req, err))
			return
		}
		offered, zero := offerDirection(body)
		dir = mirrorDirection(offered)
		if offered == "sendonly" || offered == "inactive" || zero || offer.Port == 0 || offer.IP.IsUnspecified() {
			med.retarget(nil) // held by the party: send it nothing
		} else {
			med.retarget(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
		}
		med.setEventPT(body)
	}
	sdp := withDirection(med.localSDP(s.ip, uint64(time.Now().UnixNano())), dir)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", sdp)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(s.contactFor(req))

	ack := make(chan struct{})
	s.mu.Lock()
	if old := l.sig.reinviteAck; old != nil {
		close(old) // a newer re-INVITE supersedes the one still without ACK
	}
	l.sig.reinviteAck, l.sig.reinviteSeq, l.sig.reinviteNoOffer = ack, seq, len(body) == 0
	s.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		s.log.Warn("sip re-invite: respond", "leg", l.id, "err", err)
		return
	}
	// RFC 3261 13.3.1.4: the UAS core retransmits its 2xx until the ACK.
	go func() {
		wait := sip.T1
		deadline := time.NewTimer(64 * sip.T1)
		defer deadline.Stop()
		for {
			select {
			case <-ack:
				return
			case <-deadline.C:
				s.mu.Lock()
				if l.sig.reinviteAck == ack {
					l.sig.reinviteAck = nil
				}
				s.mu.Unlock()
				return
			case <-time.After(wait):
				_ = tx.Respond(res)
				wait = min(2*wait, sip.T2)
			}
		}
	}()
}

// reinviteAcked takes the ACK for our 200 to a re-INVITE (reporting
// whether it was one); with a re-INVITE that had no SDP, the ACK's SDP is
// the party's answer.
func (s *Switch) reinviteAcked(l *leg, req *sip.Request) bool {
	s.mu.Lock()
	ch := l.sig.reinviteAck
	if ch == nil || req.CSeq() == nil || req.CSeq().SeqNo != l.sig.reinviteSeq {
		s.mu.Unlock()
		return false
	}
	l.sig.reinviteAck = nil
	noOffer, med := l.sig.reinviteNoOffer, l.med
	s.mu.Unlock()
	close(ch)
	if noOffer {
		if ans, err := parseSDP(req.Body()); err == nil && ans.hasPCMU() {
			if lc := med.crypto.Load(); lc != nil { // the answer to our SRTP offer: the party's key
				keys, err := lc.answered(ans)
				if err == nil {
					err = med.setCrypto(keys)
				}
				if err != nil {
					s.log.Warn("sip re-invite: the ACK's answer has no SRTP we can use; keeping the call's keys", "leg", l.id, "err", err)
				}
			}
			offered, zero := offerDirection(req.Body())
			if offered == "sendonly" || offered == "inactive" || zero || ans.Port == 0 || ans.IP.IsUnspecified() {
				med.retarget(nil)
			} else {
				med.retarget(&net.UDPAddr{IP: ans.IP, Port: ans.Port})
			}
		}
	}
	return true
}

// retarget points the leg's media at addr after a re-INVITE: the party
// moved (addr), or holds the call (nil: send nothing, and do not learn an
// address from what it sends meanwhile). With an address, the source of
// its next packet wins again (symmetric RTP).
func (l *rtpLeg) retarget(addr *net.UDPAddr) {
	if addr == nil {
		l.latch.Store(true)
		l.remote.Store(nil)
		return
	}
	l.remote.Store(addr)
	l.latch.Store(false)
}

// offerDirection reads an SDP body's media direction — the first audio
// stream's a=sendrecv/sendonly/recvonly/inactive, else the session's,
// else sendrecv — and whether its connection address is 0.0.0.0.
func offerDirection(body []byte) (dir string, zeroAddr bool) {
	if len(body) > maxSDP {
		return "sendrecv", false
	}
	session, media := "", ""
	inAudio, seenAudio := false, false
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := string(line[2:])
		switch line[0] {
		case 'm':
			inAudio = !seenAudio && strings.HasPrefix(val, "audio ")
			seenAudio = seenAudio || inAudio
		case 'c':
			if f := strings.Fields(val); len(f) >= 3 && (!seenAudio || inAudio) {
				addr, _, _ := strings.Cut(f[2], "/")
				if ip := net.ParseIP(addr); ip != nil && ip.IsUnspecified() {
					zeroAddr = true
				}
			}
		case 'a':
			switch val {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio {
					media = val
				} else if !seenAudio {
					session = val
				}
			}
		}
	}
	switch {
	case media != "":
		return media, zeroAddr
	case session != "":
		return session, zeroAddr
	}
	return "sendrecv", zeroAddr
}

// mirrorDirection is our answer's direction for an offered one.
func mirrorDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// withDirection replaces buildSDP's a=sendrecv with dir.
func withDirection(sdp []byte, dir string) []byte {
	if dir == "sendrecv" {
		return sdp
	}
	return bytes.Replace(sdp, []byte("a=sendrecv\r\n"), []byte("a="+dir+"\r\n"), 1)
}
