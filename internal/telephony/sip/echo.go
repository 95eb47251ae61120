package sip

import (
	"context"
	"net"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The echo test extension: an INVITE to user EchoExtension from a
// registered device or a trunk is answered by the switch itself, with no
// telephony event: the party hears the "echo" prompt, then every audio
// packet it sends comes back (on our own SSRC), until it hangs up. It lets
// a newcomer check a phone's audio both ways.

// EchoExtension is the user part that reaches the echo test.
const EchoExtension = "600"

// echoCall is one echo test call, kept apart from legs (it makes no events).
type echoCall struct {
	dlg *sipgo.DialogServerSession
	med *rtpLeg
}

func (s *Switch) isEcho(req *sip.Request) bool {
	return dialled(s.inboundTrunk(req), req) == EchoExtension
}

// answerEcho answers an echo test INVITE (the source was already allowed,
// the offer has PCMU, keys are its SRTP or nil).
func (s *Switch) answerEcho(req *sip.Request, tx sip.ServerTransaction, offer sdpMedia, keys *legCrypto) {
	dlg, err := s.duaFor(req.Transport()).ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	med, err := newRTPLeg(&s.pool, s.ip)
	if err == nil {
		if err = med.setCrypto(keys); err != nil {
			med.Close()
		}
	}
	if err != nil {
		s.log.Error("sip echo: no RTP port", "err", err)
		_ = dlg.Respond(sip.StatusServiceUnavailable, "No Media Port", nil)
		return
	}
	med.SetRemote(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
	med.setEventPT(req.Body())
	greeting, err := s.promptPCM("echo")
	if err != nil {
		s.log.Warn("sip echo: no greeting", "err", err)
	}
	callID := req.CallID().Value()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		med.Close()
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Shutting Down", nil)
		return
	}
	if s.echoes == nil {
		s.echoes = map[string]*echoCall{}
	}
	e := &echoCall{dlg: dlg, med: med}
	s.echoes[callID] = e
	s.mu.Unlock()
	dlg.OnState(func(st sip.DialogState) {
		if st == sip.DialogStateEnded {
			s.dropEcho(callID, e)
		}
	})
	med.route.Store(&route{echo: true})
	if len(greeting) > 0 {
		med.pl.enqueue(&playItem{pcm: greeting})
	}
	if err := dlg.RespondSDP(med.localSDP(s.ip, uint64(time.Now().UnixNano()))); err != nil {
		s.log.Warn("sip echo: answer failed", "err", err)
		s.dropEcho(callID, e)
	}
}

// dropEcho forgets an echo call and closes its media (again is harmless:
// the party's BYE and the dialog's end both come here).
func (s *Switch) dropEcho(callID string, e *echoCall) {
	s.mu.Lock()
	if s.echoes[callID] == e {
		delete(s.echoes, callID)
	}
	s.mu.Unlock()
	go e.med.Close()
}

// reinviteEcho answers a re-INVITE in an echo call (a phone's hold key, a
// session refresh): 200 with our SDP again, the direction mirrored, the
// media pointed at the party's new address. Without this the re-INVITE
// would look like a new echo call and the first one's media would leak.
func (s *Switch) reinviteEcho(e *echoCall, req *sip.Request, tx sip.ServerTransaction) {
	local, _ := e.dlg.InviteRequest.To().Params.Get("tag")
	remote, _ := e.dlg.InviteRequest.From().Params.Get("tag")
	to, _ := req.To().Params.Get("tag")
	from, _ := req.From().Params.Get("tag")
	if local == "" || to != local || from != remote {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	body := req.Body()
	dir := "sendrecv"
	if len(body) > 0 {
		offer, err := parseSDP(body)
		if err != nil || !offer.hasPCMU() {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
			return
		}
		keys, err := e.med.crypto.Load().reoffer(offer)
		if err == nil {
			err = e.med.setCrypto(keys)
		}
		if err != nil {
			_ = tx.Respond(notAcceptable(req, err))
			return
		}
		offered, zero := offerDirection(body)
		dir = mirrorDirection(offered)
		if offered == "sendonly" || offered == "inactive" || zero || offer.Port == 0 || offer.IP.IsUnspecified() {
			e.med.retarget(nil)
		} else {
			e.med.retarget(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
		}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", withDirection(e.med.localSDP(s.ip, uint64(time.Now().UnixNano())), dir))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(s.contactFor(req))
	_ = tx.Respond(res)
}

func (s *Switch) echoByCallID(req *sip.Request) *echoCall {
	id := req.CallID()
	if id == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.echoes[id.Value()]
}

// ackEcho takes the ACK of an echo call.
func (s *Switch) ackEcho(req *sip.Request, tx sip.ServerTransaction) {
	if e := s.echoByCallID(req); e != nil {
		_ = e.dlg.ReadAck(req, tx)
	}
}

// byeEcho ends an echo call on the party's BYE; false if req is not for one.
func (s *Switch) byeEcho(req *sip.Request, tx sip.ServerTransaction) bool {
	e := s.echoByCallID(req)
	if e == nil {
		return false
	}
	// Forgotten before the 200 goes out: the party that got it sees no
	// echo call left (dropping it after ReadBye raced with the caller).
	s.dropEcho(req.CallID().Value(), e)
	if err := e.dlg.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
	}
	return true
}

// closeEchoes hangs up every echo call (Close). Needs s.mu.
func (s *Switch) closeEchoes() {
	for id, e := range s.echoes {
		delete(s.echoes, id)
		go func() {
			_ = e.dlg.Bye(context.Background())
			e.med.Close()
		}()
	}
}
