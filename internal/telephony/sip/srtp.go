package sip

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP (RFC 3711) on a leg's media, keyed with SDES (RFC 4568): each side
// puts its own master key in its SDP (a=crypto) and encrypts what it sends
// with it; the other decrypts with the key it was given. The keys travel in
// the SIP signalling, so SRTP is only as private as SIP over TLS makes it.
//
// Encryption is done at the edge of the leg and nowhere else: the read
// loop decrypts and authenticates each packet as it arrives (one that
// fails is counted and dropped, never relayed, and does not teach us the
// party's address), and write encrypts each packet as it leaves. Everything
// between (relay, rooms, recorder, player, DTMF, echo) sees plain RTP, as
// on any other leg.
//
// A leg's keys are chosen when its media is negotiated:
//
//   - an offer of RTP/SAVP (or RTP/SAVPF) with an a=crypto line we can use
//     is answered with the same tag and suite and a fresh key of ours
//     (answerCrypto); an offer of RTP/AVP stays plain; an SAVP offer
//     without a usable line, or DTLS-SRTP's UDP/TLS/RTP/SAVP, gets 488;
//   - our own offer (offerCrypto: trunks with SRTP, stations registered
//     over TLS) has one line, tag 1, AES_CM_128_HMAC_SHA1_80, and the
//     answer must name it (answered); a station's phone that answers it
//     in the clear goes on in plain RTP, and one that refuses it with 488
//     is called again, once, offering plain RTP (retryPlain);
//   - a re-INVITE keeps the leg as it is, encrypted or plain (reoffer):
//     the party's key may change, and the leg then decrypts with the new
//     one (and the old one for packets still on their way); ours stays,
//     unless the suite changes.

// legCrypto is a leg's negotiated SRTP, immutable once stored: a change
// stores a new one (rtpLeg.setCrypto).
type legCrypto struct {
	proto  string     // our m= line's protocol: RTP/SAVP, or RTP/SAVPF as offered
	local  sdesCrypto // what we encrypt with, sent in our SDP
	remote sdesCrypto // what the party encrypts with; no Key until it answers our offer
}

var errNoSRTP = errors.New("sip: SRTP not negotiated")

// newSDESKey is a fresh random master key and salt. The keys of a leg are
// never reused by another and never logged.
func newSDESKey() []byte {
	k := make([]byte, sdesKeyLen)
	_, _ = rand.Read(k) // never fails: since Go 1.24 a failing source crashes the program instead
	return k
}

// offerCrypto is the SRTP of our own offer: one line, tag 1, the suite
// every SDES phone and carrier speaks.
func offerCrypto() *legCrypto {
	return &legCrypto{proto: protoSAVP, local: sdesCrypto{Tag: 1, Suite: suiteSHA1_80, Key: newSDESKey()}}
}

// answerCrypto answers an offer's SRTP: nil for plain RTP/AVP, else the
// party's first usable line (its preference) with a key of ours under the
// same tag and suite. An encrypted offer we cannot use is an error saying
// why (the caller answers 488): we never answer encryption with plain RTP.
func answerCrypto(offer sdpMedia) (*legCrypto, error) {
	if !offer.secure() {
		return nil, nil
	}
	if !offer.sdes() {
		return nil, fmt.Errorf("%w: %s media (DTLS-SRTP) is not supported, only RTP/SAVP with a=crypto", errNoSRTP, offer.Proto)
	}
	if len(offer.Crypto) == 0 {
		if len(offer.CryptoErrs) == 0 {
			return nil, fmt.Errorf("%w: %s offered without an a=crypto line", errNoSRTP, offer.Proto)
		}
		return nil, fmt.Errorf("%w: no usable a=crypto line: %w", errNoSRTP, errors.Join(offer.CryptoErrs...))
	}
	c := offer.Crypto[0]
	return &legCrypto{proto: offer.Proto, local: sdesCrypto{Tag: c.Tag, Suite: c.Suite, Key: newSDESKey()}, remote: c}, nil
}

// answered checks the answer to our offer lc: it must be SRTP and take
// our line (same tag and suite). The result has the party's key.
func (lc *legCrypto) answered(ans sdpMedia) (*legCrypto, error) {
	if !ans.secure() {
		return nil, fmt.Errorf("%w: the answer is %s (plain RTP) to our %s offer", errNoSRTP, ans.Proto, lc.proto)
	}
	for _, c := range ans.Crypto {
		if c.Tag == lc.local.Tag && c.Suite == lc.local.Suite {
			out := *lc
			out.remote = c
			return &out, nil
		}
	}
	return nil, fmt.Errorf("%w: the answer has no usable a=crypto line for our tag %d (%s)", errNoSRTP, lc.local.Tag, lc.local.Suite)
}

// reoffer answers a new offer in the call (a re-INVITE, or the ACK's
// answer to our offer in a 200) on a leg with SRTP lc (nil: plain). The
// leg stays what it is: plain gets plain, SRTP gets SRTP, else an error.
// The party's line we use now is preferably the one it keys with already
// (nothing changes); otherwise its first usable one, whose key we take,
// keeping ours unless the suite changed (a new context for the same key
// would reuse its key stream).
func (lc *legCrypto) reoffer(offer sdpMedia) (*legCrypto, error) {
	switch {
	case lc == nil && !offer.secure():
		return nil, nil
	case lc == nil:
		return nil, fmt.Errorf("%w: the call's media is plain RTP, the new offer is %s (encryption cannot start in a call)", errNoSRTP, offer.Proto)
	case !offer.secure():
		return nil, fmt.Errorf("%w: the call's media is SRTP, the new offer is %s (encryption cannot stop in a call)", errNoSRTP, offer.Proto)
	}
	for _, c := range offer.Crypto {
		if c.Tag == lc.remote.Tag && c.Suite == lc.remote.Suite && bytes.Equal(c.Key, lc.remote.Key) {
			if strings.EqualFold(offer.Proto, lc.proto) || !offer.sdes() {
				return lc, nil
			}
			out := *lc // the same keys; RTP/SAVP ↔ RTP/SAVPF, answered as offered
			out.proto = offer.Proto
			return &out, nil
		}
	}
	out, err := answerCrypto(offer)
	if err != nil {
		return nil, err
	}
	if out.local.Suite == lc.local.Suite {
		out.local.Key = lc.local.Key
	}
	return out, nil
}

// srtpIn decrypts what the party sends: cur, else prev (the key before a
// re-key, for packets sent before the party had our answer). Only the
// leg's read loop uses the contexts; cur is nil while our offer waits for
// the party's key (its packets are dropped).
type srtpIn struct {
	cur, prev *srtp.Context
}

// decrypt authenticates and decrypts pkt into dst (the whole RTP packet).
func (in *srtpIn) decrypt(dst, pkt []byte, h *rtp.Header) ([]byte, bool) {
	if out, err := in.cur.DecryptRTP(dst, pkt, h); err == nil {
		return out, true
	}
	if in.prev != nil {
		if out, err := in.prev.DecryptRTP(dst, pkt, h); err == nil {
			return out, true
		}
	}
	return nil, false
}

// srtpProfile is pion's profile of one of our suites.
func srtpProfile(suite string) srtp.ProtectionProfile {
	if suite == suiteSHA1_32 {
		return srtp.ProtectionProfileAes128CmHmacSha1_32
	}
	return srtp.ProtectionProfileAes128CmHmacSha1_80
}

// srtpMaxTag is the longest authentication tag of our suites (_80: 10 bytes).
const srtpMaxTag = 10

// srtpReplayWindow is how far back (in packets) a received index is still
// taken once; an older one, or one seen already, is a replay and dropped.
const srtpReplayWindow = 128

func newSRTPContext(c sdesCrypto, decrypt bool) (*srtp.Context, error) {
	var opts []srtp.ContextOption
	if decrypt {
		opts = append(opts, srtp.SRTPReplayProtection(srtpReplayWindow))
	}
	return srtp.CreateContext(c.Key[:16], c.Key[16:], srtpProfile(c.Suite), opts...)
}

// setCrypto makes lc (nil: plain RTP) the leg's SRTP. A context whose key
// did not change is kept (its rollover counter goes on); a new party key
// keeps the old one as a fallback for packets on their way. own.mu
// guards the sending context and orders concurrent calls; the read loop
// loads rx once per packet.
func (l *rtpLeg) setCrypto(lc *legCrypto) error {
	l.own.mu.Lock()
	defer l.own.mu.Unlock()
	old := l.crypto.Load()
	if lc == old {
		return nil
	}
	if lc == nil {
		l.own.tx = nil
		l.rx.Store(nil)
		l.crypto.Store(nil)
		return nil
	}
	tx := l.own.tx
	if old == nil || tx == nil || !sameKey(old.local, lc.local) {
		var err error
		if tx, err = newSRTPContext(lc.local, false); err != nil {
			return err
		}
	}
	cur := l.rx.Load()
	in := &srtpIn{}
	switch {
	case lc.remote.Key == nil: // our offer: no key of the party's yet
	case old != nil && cur != nil && cur.cur != nil && sameKey(old.remote, lc.remote):
		in = cur
	default:
		var err error
		if in.cur, err = newSRTPContext(lc.remote, true); err != nil {
			return err
		}
		if cur != nil {
			in.prev = cur.cur
		}
	}
	l.own.tx = tx
	if l.own.enc == nil {
		l.own.enc = make([]byte, 0, len(l.own.buf)+srtpMaxTag)
	}
	l.rx.Store(in)
	l.crypto.Store(lc)
	return nil
}

func sameKey(a, b sdesCrypto) bool { return a.Suite == b.Suite && bytes.Equal(a.Key, b.Key) }

// localSDP is our SDP for the leg at ip: plain, or SRTP with our key.
func (l *rtpLeg) localSDP(ip string, sessID uint64) []byte {
	if lc := l.crypto.Load(); lc != nil {
		return buildSecureSDP(ip, l.Port(), sessID, lc.proto, &lc.local)
	}
	return buildSDP(ip, l.Port(), sessID)
}

// isRTCP reports whether a packet on the RTP port is RTCP (payload types
// 192-223 by RFC 5761's rule: SR, RR, SDES, BYE, APP, feedback). We send
// none and ignore what a party multiplexes on the RTP port (rtcp-mux).
func isRTCP(b []byte) bool { return len(b) >= 2 && b[1] >= 192 && b[1] <= 223 }

// answeredCrypto takes the SRTP of the answer to our INVITE (ans, or
// perr when it could not be read) and reports whether the call may go on.
// A leg that must be encrypted (a trunk with SRTP) ends when the answer is
// plain or unusable; a station's phone that answers our offer in the
// clear (one registered over TLS without SRTP) goes on in plain RTP. An
// encrypted answer we cannot use ends the call either way: neither side
// would hear the other. Needs s.mu.
func (s *Switch) answeredCrypto(l *leg, ans sdpMedia, perr error) bool {
	lc := l.med.crypto.Load()
	if lc == nil {
		return true // we offered plain RTP
	}
	err := perr
	if err == nil {
		var got *legCrypto
		if got, err = lc.answered(ans); err == nil {
			if err = l.med.setCrypto(got); err == nil {
				return true
			}
		}
	}
	plain := perr != nil || !ans.secure()
	switch {
	case l.srtpRequired:
		s.log.Warn("sip call ended: the trunk requires SRTP (srtp) and the answer is not SRTP we can use", "leg", l.id, "to", l.to, "err", err)
		return false
	case plain:
		s.log.Info("sip call in plain RTP: the phone answered our SRTP offer without it", "leg", l.id, "to", l.to)
		_ = l.med.setCrypto(nil)
		return true
	}
	s.log.Warn("sip call ended: the answer's SRTP is not usable", "leg", l.id, "to", l.to, "err", err)
	return false
}

// retryPlain calls a phone again in plain RTP after it refused our SRTP
// offer with 488 (err, from waitAnswer): a station registered over TLS
// is offered SRTP, and one that does not do SRTP and says so would
// otherwise never get a call. Once per leg, and never where SRTP is
// required (a trunk with SRTP). The ring timer keeps running across the
// retry. Like dial, it releases s.mu while the INVITE is sent. It reports
// whether it took the leg over (retried, or ended it); false leaves the
// failure to waitAnswer. Needs s.mu.
func (s *Switch) retryPlain(l *leg, err error) bool {
	var de *sipgo.ErrDialogResponse
	d := l.plainRetry
	if d == nil || s.legs[l.id] != l || l.waitCause != "" || !errors.As(err, &de) || de.Res.StatusCode != sip.StatusNotAcceptableHere {
		return false
	}
	l.plainRetry = nil
	if err := l.med.setCrypto(nil); err != nil {
		return false
	}
	inv := s.newInvite(*d, l.med)
	s.log.Info("sip call retried in plain RTP: the phone refused our SRTP offer", "leg", l.id, "to", l.to, "status", de.Res.StatusCode)
	if s.byCallID[l.callID] == l {
		delete(s.byCallID, l.callID)
	}
	dlg, live, serr := s.sendInvite(l, s.duaFor(d.transport()), inv)
	if !live {
		return true
	}
	if serr != nil {
		cause := l.waitCause
		if cause == "" {
			cause = telephony.CauseFailed
			s.log.Warn("sip plain retry not sent", "leg", l.id, "to", l.to, "err", tlsHint(serr))
		}
		s.end(l, cause)
		return true
	}
	s.awaitAnswer(l, dlg, inv)
	return true
}

// notAcceptable is a 488 for an offer whose media we cannot take, with a
// Warning (RFC 3261 20.43, code 305: incompatible media format) saying
// why in one line.
func notAcceptable(req *sip.Request, why error) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
	text := strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r < ' ' || r == 0x7f:
			return ' '
		}
		return r
	}, why.Error())
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "")
	}
	res.AppendHeader(sip.NewHeader("Warning", `305 centralita "`+text+`"`))
	return res
}
