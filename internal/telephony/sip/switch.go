package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
)

// Defaults of Options.
const (
	DefaultRingTimeout  = 30 * time.Second
	DefaultToneDuration = time.Second
	DefaultEventBuffer  = 4096
)

// ErrClosed is returned by Originate after Close.
var ErrClosed = errors.New("sip: switch closed")

// Options configures a Switch.
type Options struct {
	// Listen is the UDP address for SIP, e.g. "127.0.0.1:5060"
	// ("127.0.0.1:0" in tests). Its host is also the address put in our
	// SDP and Contact, so it must be a concrete IP.
	Listen string
	// TLSListen is the TCP address for SIP over TLS (RFC 3261 section 26),
	// e.g. "192.0.2.10:5061" ("127.0.0.1:0" in tests); empty: no TLS. Its
	// host must be a concrete IP, like Listen's (tls.go).
	TLSListen string
	// TLS is needed with TLSListen: its Certificates are what phones and
	// carriers connecting to us see; its RootCAs are whom we trust when
	// we connect to a TLS trunk (nil: the system's roots). Tests install
	// their own CA there.
	TLS *tls.Config
	// Registrar finds stations' devices (it is attached to the switch's
	// SIP socket: REGISTER and OPTIONS are served there). Required.
	Registrar *Registrar
	// Trunks carry calls to numbers ("tel:NUMBER" or a bare number: the
	// first trunk, or the one named by OriginateRequest.Tags["trunk"]) and,
	// if Inbound, customer calls in (see Trunk). INVITEs are also accepted
	// from a registered station's device (same source host as its
	// REGISTER). Anything else gets 403.
	Trunks []Trunk
	// RTPPortMin..RTPPortMax is the RTP port range (even ports); zero
	// means any free port.
	RTPPortMin, RTPPortMax int
	// Browsers reaches stations whose device is the softphone page
	// (WebRTC); nil means SIP devices only (browser.go).
	Browsers BrowserPhones
	// Clock runs ring timeouts; default clock.Real{}. Media always runs
	// on the wall clock.
	Clock        clock.Clock
	Logger       *slog.Logger
	ToneDuration time.Duration // how long Play("tone:FREQ") lasts; default 1 s
	EventBuffer  int           // Events capacity; default 4096 (a backlog absorbs overflow)

	// RecordingDir is where Record writes: per recording a stereo WAV
	// (left what the leg's party said, right what it heard) and a JSON
	// sidecar (record.go). Empty: Record gives telephony.ErrNotSupported.
	RecordingDir string
	// Prompts are operators' own prompts by name (audio.LoadPrompts),
	// looked up before the built-in ones (audio.Prompt); "moh" is the
	// music on hold, "echo" the echo test's greeting.
	Prompts map[string][]int16
}

type legState int

const (
	stOffered legState = iota
	stOriginated
	stRinging
	stAnswering // 200 OK sent, waiting for ACK
	stAnswered
)

type leg struct {
	id      string
	state   legState
	inbound bool
	callID  string
	from    string
	to      string

	srv *sipgo.DialogServerSession
	cli *sipgo.DialogClientSession

	med     *rtpLeg
	bridged string
	// srtpRequired: our offer was SRTP and a plain answer ends the call
	// (a trunk with SRTP, srtp.go)
	srtpRequired bool
	// plainRetry: our offer was SRTP but need not be (a station over
	// TLS); a 488 to it calls again with this request in plain RTP, once
	// (retryPlain)
	plainRetry *dialReq

	legMedia // hold, mute, conference, recording, early media (hold.go)

	// originate: cancel the wait for an answer with cause
	cancelWait  context.CancelFunc
	timer       clock.Timer
	waitCause   string
	plays       []*play
	ringEmitted bool
	sig         sigState // transfers, trunk auth, in-dialog requests (transfer.go)
	// inviteDone is closed when an inbound INVITE got its final response
	// (sipgo ends the transaction when the INVITE handler returns).
	inviteDone chan struct{}
	doneOnce   sync.Once
}

func (l *leg) finishInvite() {
	if l.inviteDone != nil {
		l.doneOnce.Do(func() { close(l.inviteDone) })
	}
}

// Switch is a telephony.Switch speaking SIP over UDP (and TLS, tls.go)
// with its own RTP relay.
type Switch struct {
	opt    Options
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA
	conn   net.PacketConn
	tls    *tlsSide // SIP over TLS, nil when off (tls.go)
	ip     string
	port   int
	pool   portPool
	served chan struct{}

	mu       sync.Mutex
	legs     map[string]*leg
	byCallID map[string]*leg
	order    []string
	nextID   int
	emitted  uint64 // events emitted so far (under mu)
	closed   bool

	mediaState // conference rooms, echo calls (mix.go, echo.go)

	regs registrations // trunks registering with their carriers (register.go)

	delivered atomic.Uint64 // events handed to out so far (tests settle on it)

	// testHookInviteSent, set by tests before any call, runs when dial's
	// WriteInvite has returned, before s.mu is taken again.
	testHookInviteSent func()

	evMu     sync.Mutex
	queue    []telephony.Event
	wake     chan struct{}
	out      chan telephony.Event
	evClosed bool
	pumpDone chan struct{}
}

var _ telephony.Switch = (*Switch)(nil)

// NewSwitch starts a switch listening on opt.Listen.
func NewSwitch(opt Options) (*Switch, error) {
	if opt.Registrar == nil {
		return nil, errors.New("sip: switch needs a Registrar")
	}
	if opt.Listen == "" {
		opt.Listen = "127.0.0.1:5060"
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.ToneDuration <= 0 {
		opt.ToneDuration = DefaultToneDuration
	}
	if opt.EventBuffer <= 0 {
		opt.EventBuffer = DefaultEventBuffer
	}
	if opt.RTPPortMin < 0 || opt.RTPPortMax < opt.RTPPortMin || opt.RTPPortMax > 65535 {
		return nil, errors.New("sip: bad RTP port range")
	}
	trunks, err := prepareTrunks(opt.Trunks)
	if err != nil {
		return nil, err
	}
	opt.Trunks = trunks
	conn, err := net.ListenPacket("udp", opt.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen %s: %w", opt.Listen, err)
	}
	la := conn.LocalAddr().(*net.UDPAddr)
	if la.IP.IsUnspecified() {
		conn.Close()
		return nil, errors.New("sip: Listen needs a concrete IP (it is advertised in SDP and Contact)")
	}
	s := &Switch{
		opt: opt, log: opt.Logger.With("component", "sip.switch"),
		conn: conn, ip: la.IP.String(), port: la.Port,
		pool:     portPool{min: opt.RTPPortMin, max: opt.RTPPortMax},
		legs:     map[string]*leg{},
		byCallID: map[string]*leg{},
		wake:     make(chan struct{}, 1),
		out:      make(chan telephony.Event, opt.EventBuffer),
		pumpDone: make(chan struct{}),
		served:   make(chan struct{}),
	}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent("centralita")}
	if opt.TLS != nil {
		// What sipgo dials TLS connections with (to trunks): our
		// certificate if the carrier asks for one, opt.TLS.RootCAs to
		// verify theirs.
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(opt.TLS))
	}
	s.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		conn.Close()
		return nil, err
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.log))
	if err == nil {
		s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.ip), sipgo.WithClientConnectionAddr(la.String()))
	}
	if err != nil {
		s.ua.Close()
		conn.Close()
		return nil, err
	}
	s.dua = &sipgo.DialogUA{Client: s.client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "centralita", Host: s.ip, Port: s.port},
	}}
	if opt.TLSListen != "" {
		if s.tls, err = s.listenTLS(opt.TLSListen, opt.TLS); err != nil {
			s.ua.Close()
			conn.Close()
			return nil, err
		}
	}
	opt.Registrar.Attach(s.srv)
	s.srv.OnInvite(wellFormed(s.onInvite))
	s.srv.OnAck(wellFormed(s.onAck))
	s.srv.OnBye(wellFormed(s.onBye))
	s.srv.OnInfo(wellFormed(s.onInfo))
	s.srv.OnRefer(wellFormed(s.onRefer))
	s.pool.digit = s.mediaDigit // DTMF the parties press (hold.go)
	s.pool.log = s.log
	go s.pump()
	go func() {
		defer close(s.served)
		_ = s.srv.ServeUDP(conn)
	}()
	if s.tls != nil {
		go func() {
			defer close(s.tls.served)
			_ = s.srv.ServeTLS(s.tls.ln)
		}()
	}
	if err := waitServing(s.ua, la.String()); err != nil {
		s.Close()
		return nil, err
	}
	s.regs.mu.Lock()
	s.syncRegistrations(s.opt.Trunks)
	s.regs.mu.Unlock()
	return s, nil
}

// wellFormed guards a handler: sipgo makes a transaction of any request
// with a Via and a CSeq and hands it over even without Call-ID, From or To
// (a nil header the handlers would dereference: a panic there kills the
// process). Such a request gets 400, an ACK is dropped.
func wellFormed(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
			if tx != nil && !req.IsAck() {
				_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Missing Call-ID, From, To or CSeq", nil))
			}
			return
		}
		h(req, tx)
	}
}

// waitServing returns once sipgo has registered the listening socket addr,
// so that requests we send go out from it (sipgo would otherwise try to
// bind the same address again).
func waitServing(ua *sipgo.UserAgent, addr string) error {
	for i := 0; i < 1000; i++ {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("sip: %s not serving", addr)
}

// Addr is the SIP UDP address the switch listens on.
func (s *Switch) Addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// ------------------------------------------------------------- events --

func (s *Switch) Events() <-chan telephony.Event { return s.out }

// emit queues ev; call with s.mu held so events keep their order.
func (s *Switch) emit(ev telephony.Event) {
	ev.Time = s.opt.Clock.Now()
	s.emitted++
	s.evMu.Lock()
	s.queue = append(s.queue, ev)
	s.evMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Switch) pump() {
	defer close(s.pumpDone)
	for {
		s.evMu.Lock()
		q := s.queue
		s.queue = nil
		closed := s.evClosed
		s.evMu.Unlock()
		for _, ev := range q {
			s.out <- ev
			s.delivered.Add(1)
		}
		if len(q) == 0 {
			if closed {
				close(s.out)
				return
			}
			<-s.wake
		}
	}
}

// --------------------------------------------------------------- legs --

func (s *Switch) newLeg(inbound bool, callID string) *leg {
	s.nextID++
	l := &leg{id: "sip-" + strconv.Itoa(s.nextID), inbound: inbound, callID: callID}
	s.legs[l.id] = l
	s.order = append(s.order, l.id)
	if callID != "" {
		s.byCallID[callID] = l
	}
	return l
}

// end removes l with cause: PlaybackDone for its prompts, Hangup, then
// the partner's Unbridged. Needs s.mu.
func (s *Switch) end(l *leg, cause string) {
	if _, ok := s.legs[l.id]; !ok {
		return
	}
	s.sigEnd(l, cause)
	s.endMedia(l) // PlaybackDone, RecordingStopped, Left (hold.go)
	if l.timer != nil {
		l.timer.Stop()
	}
	partner := l.bridged
	l.bridged = ""
	s.emit(telephony.Event{Type: telephony.Hangup, Leg: l.id, Cause: cause, Other: l.sig.origin})
	if p := s.legs[partner]; p != nil {
		p.bridged = ""
		s.reroute(p)
		s.emit(telephony.Event{Type: telephony.Unbridged, Leg: p.id, Other: l.id})
	}
	delete(s.legs, l.id)
	if s.byCallID[l.callID] == l {
		delete(s.byCallID, l.callID)
	}
	for i, id := range s.order {
		if id == l.id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	if l.med != nil {
		m := l.med
		go m.Close()
	}
}

func (s *Switch) get(id string) (*leg, error) {
	l := s.legs[id]
	if l == nil {
		return nil, telephony.ErrNoLeg
	}
	return l, nil
}

// ------------------------------------------------------------ inbound --

func (s *Switch) allowedSource(req *sip.Request) bool {
	src := req.Source()
	host, _, err := net.SplitHostPort(src)
	if err != nil {
		host = src
	}
	if s.inboundTrunk(req) != nil {
		return true
	}
	if from := req.From(); from != nil && from.Address.User != "" {
		for _, c := range s.opt.Registrar.Lookup(from.Address.User) {
			if h, _, err := net.SplitHostPort(c.Source); err == nil && h == host {
				return true
			}
		}
	}
	return false
}

// stationProven challenges an INVITE from a station's device: its source
// address and From user alone would let anyone who can send UDP from that
// host (or spoof it) place calls as the station, so it must answer a digest
// challenge with the station's password, as for REGISTER. It reports
// whether the request may go on; otherwise it has been answered (401 with a
// challenge, 403 for a wrong password).
func (s *Switch) stationProven(req *sip.Request, tx sip.ServerTransaction) bool {
	r := s.opt.Registrar
	ok, code, reason, stale := r.authenticate(req, req.From().Address.User, req.Source())
	switch {
	case ok:
		return true
	case code == sip.StatusUnauthorized:
		r.challenge(req, tx, stale)
	default:
		r.respond(tx, newResponse(req, code, reason))
	}
	return false
}

func (s *Switch) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	callID := req.CallID()
	if callID == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	s.mu.Lock()
	existing, echo, closed := s.byCallID[callID.Value()], s.echoes[callID.Value()], s.closed
	s.mu.Unlock()
	if existing != nil { // re-INVITE: hold, resume, new media address (reinvite.go)
		s.onReinvite(existing, req, tx)
		return
	}
	if echo != nil { // re-INVITE in an echo test call (echo.go)
		s.reinviteEcho(echo, req, tx)
		return
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		// A re-INVITE for a call we no longer have (it crossed our BYE):
		// RFC 3261 12.2.2, not a new call.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if closed {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Shutting Down", nil))
		return
	}
	if !s.allowedSource(req) {
		s.log.Warn("sip invite refused: unknown source", "source", req.Source())
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	if s.inboundTrunk(req) == nil && !s.stationProven(req, tx) {
		return
	}
	if s.didRefused(req) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil || !offer.hasPCMU() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	keys, err := answerCrypto(offer) // SRTP when offered (srtp.go)
	if err != nil {
		s.log.Info("sip invite refused: encrypted media we cannot use", "source", req.Source(), "err", err)
		_ = tx.Respond(notAcceptable(req, err))
		return
	}
	if s.isEcho(req) { // the echo test extension: answered by the switch itself (echo.go)
		s.answerEcho(req, tx, offer, keys)
		return
	}
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
		s.log.Error("sip invite: no RTP port", "err", err)
		_ = dlg.Respond(sip.StatusServiceUnavailable, "No Media Port", nil)
		return
	}
	med.SetRemote(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
	med.setEventPT(req.Body())
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		med.Close()
		go dlg.Respond(sip.StatusServiceUnavailable, "Shutting Down", nil)
		return
	}
	l := s.newLeg(true, callID.Value())
	l.srv, l.med = dlg, med
	l.inviteDone = make(chan struct{})
	l.from, l.to = req.From().Address.User, dialled(s.inboundTrunkLocked(req), req)
	if strings.EqualFold(l.from, "anonymous") { // RFC 3323 hidden caller
		l.from = ""
	}
	l.from, l.to = s.inboundNumbers(req, l.from, l.to)
	s.emit(telephony.Event{Type: telephony.Incoming, Leg: l.id, From: l.from, To: l.to})
	s.mu.Unlock()

	dlg.OnState(func(st sip.DialogState) {
		if st != sip.DialogStateEnded {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.legs[l.id] == l && l.state == stOffered {
			s.end(l, telephony.CauseAbandoned) // CANCEL from the caller
		}
	})
	select {
	case <-l.inviteDone:
	case <-dlg.Context().Done():
		// The dialog ended before our final response: the caller's CANCEL.
		// The state callback above misses a CANCEL that came before it
		// was registered (right after Incoming, on a loaded machine).
		s.mu.Lock()
		if s.legs[l.id] == l && l.state == stOffered {
			s.end(l, telephony.CauseAbandoned)
		}
		s.mu.Unlock()
	}
}

func (s *Switch) onAck(req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	l := s.byCallID[req.CallID().Value()]
	s.mu.Unlock()
	if l != nil && s.reinviteAcked(l, req) {
		return
	}
	if l != nil && l.srv != nil {
		if l.srv.ReadAck(req, tx) == nil {
			s.mu.Lock()
			s.markAnswered(l)
			s.mu.Unlock()
		}
	} else if l == nil {
		s.ackEcho(req, tx)
	}
}

func (s *Switch) onBye(req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	l := s.byCallID[req.CallID().Value()]
	s.mu.Unlock()
	if l == nil && s.byeEcho(req, tx) {
		return
	}
	if l == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	s.mu.Lock()
	s.markAnswered(l)
	s.mu.Unlock()
	// Not under s.mu: ReadBye fires the dialog's state callbacks.
	var err error
	if l.srv != nil {
		err = l.srv.ReadBye(req, tx)
	} else if l.cli != nil {
		err = l.cli.ReadBye(req, tx)
	}
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	s.mu.Lock()
	if s.legs[l.id] == l {
		s.end(l, telephony.CauseNormal)
	}
	s.mu.Unlock()
}

// Answer sends 200 OK with our SDP; Answered follows the caller's ACK.
func (s *Switch) Answer(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.get(id)
	if err != nil {
		return err
	}
	if !l.inbound || l.state != stOffered {
		return telephony.ErrState
	}
	l.state = stAnswering
	sdp := s.answerSDP(l) // the 183's, after early media (play.go)
	dlg := l.srv
	go func() {
		err := dlg.RespondSDP(sdp)
		l.finishInvite()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.legs[l.id] != l {
			return
		}
		if err != nil && l.state == stAnswering {
			s.log.Warn("sip answer failed", "leg", l.id, "err", err)
			s.end(l, telephony.CauseFailed)
			return
		}
		s.markAnswered(l)
	}()
	return nil
}

// markAnswered turns an answering leg into an answered one, once. The ACK, a
// BYE (which proves our 200 arrived, its ACK may be behind it) and the
// answering goroutine all call it: whichever comes first wins, so a caller
// hanging up right after the ACK still gives Answered before Hangup.
// Needs s.mu.
func (s *Switch) markAnswered(l *leg) {
	if s.legs[l.id] != l || l.state != stAnswering {
		return
	}
	l.state = stAnswered
	s.emit(telephony.Event{Type: telephony.Answered, Leg: l.id})
}

// ----------------------------------------------------------- outbound --

// Originate places a call to "station:NAME" (its first registered
// contact), to a number ("tel:NUMBER" or bare, through a trunk: see Trunk)
// or to "sip:USER@HOST[:PORT]" (sent there directly). It returns once
// the INVITE is sent, or with the reason it could not be; the rest of the
// switch goes on meanwhile (dial).
func (s *Switch) Originate(ctx context.Context, req telephony.OriginateRequest) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.parseDest(req.To, req.Tags)
	if err != nil {
		return "", err
	}
	if s.closed {
		return "", ErrClosed
	}
	if l, ok, err := s.ringBrowser(d, req, nil); ok { // a browser station (browser.go)
		if err != nil {
			return "", err
		}
		return l.id, nil
	}
	l, err := s.place(d, req, nil)
	if err != nil {
		return "", err
	}
	return l.id, nil
}

// isNumber: an optional + and 1 to 20 digits, visual separators
// (space . - ( )) ignored — the same rule as the simulated switch.
func isNumber(s string) bool {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" .-()", r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Switch) waitAnswer(l *leg, ctx context.Context) {
	dlg := l.cli
	err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: l.sig.authUser, Password: l.sig.authPass, OnResponse: func(r *sip.Response) error {
		if r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress {
			s.mu.Lock()
			if s.legs[l.id] == l && !l.ringEmitted {
				l.ringEmitted = true
				l.state = stRinging
				s.emit(telephony.Event{Type: telephony.Ringing, Leg: l.id, From: l.from, To: l.to, Other: l.sig.origin})
			}
			s.mu.Unlock()
		}
		return nil
	}})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.retryPlain(l, err) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	if err == nil {
		_ = dlg.Ack(context.Background())
		if s.legs[l.id] != l || l.waitCause != "" { // hung up or timed out as it answered
			go dlg.Bye(context.Background())
			if s.legs[l.id] == l {
				s.end(l, l.waitCause)
			}
			return
		}
		ans, perr := parseSDP(dlg.InviteResponse.Body())
		if perr == nil {
			l.med.SetRemote(&net.UDPAddr{IP: ans.IP, Port: ans.Port})
			l.med.setEventPT(dlg.InviteResponse.Body())
		}
		if !s.answeredCrypto(l, ans, perr) { // SRTP (srtp.go): a call that must be encrypted and is not ends here
			go dlg.Bye(context.Background())
			s.end(l, telephony.CauseFailed)
			return
		}
		if !l.ringEmitted { // a 180 sipgo delivered before we listened, or none at all
			l.ringEmitted = true
			s.emit(telephony.Event{Type: telephony.Ringing, Leg: l.id, From: l.from, To: l.to, Other: l.sig.origin})
		}
		l.state = stAnswered
		s.emit(telephony.Event{Type: telephony.Answered, Leg: l.id, Other: l.sig.origin})
		s.transferAnswered(l)
		return
	}
	if r := dlg.InviteResponse; r != nil && r.IsSuccess() {
		// Cancelled, but the party's 200 crossed our CANCEL (RFC 3261
		// 9.1): it has answered, so the call is ACKed and ended with a BYE.
		_ = dlg.Ack(context.Background())
		go dlg.Bye(context.Background())
	}
	if s.legs[l.id] != l {
		return
	}
	cause := telephony.CauseFailed
	var de *sipgo.ErrDialogResponse
	switch {
	case l.waitCause != "":
		cause = l.waitCause
	case errors.As(err, &de):
		cause = causeOf(de.Res.StatusCode)
	case strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), "timeout"):
		cause = telephony.CauseNoAnswer
	}
	s.end(l, cause)
}

// causeOf maps a final failure status to a hangup cause.
func causeOf(code int) string {
	switch code {
	case sip.StatusBusyHere, 600:
		return telephony.CauseBusy
	case sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout:
		return telephony.CauseNoAnswer
	case 603:
		return telephony.CauseRejected
	}
	return telephony.CauseFailed
}

// --------------------------------------------------------------- hangup --

// Hangup: CANCEL an originated leg not answered yet, BYE an answered one,
// 486 (cause busy) or 603 an unanswered incoming one.
func (s *Switch) Hangup(ctx context.Context, id, cause string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.get(id)
	if err != nil {
		return err
	}
	s.hangup(l, cause)
	return nil
}

func (s *Switch) hangup(l *leg, cause string) {
	switch l.state {
	case stOffered:
		if cause == "" {
			cause = telephony.CauseRejected
		}
		code, reason := 603, "Decline"
		if cause == telephony.CauseBusy {
			code, reason = sip.StatusBusyHere, "Busy Here"
		}
		dlg := l.srv
		go func() {
			_ = dlg.Respond(code, reason, nil)
			l.finishInvite()
		}()
	case stOriginated, stRinging:
		if cause == "" {
			cause = telephony.CauseCancelled
		}
		l.waitCause = cause
		l.cancelWait() // WaitAnswer sends CANCEL
	case stAnswering, stAnswered:
		if cause == "" {
			cause = telephony.CauseNormal
		}
		if l.srv != nil {
			dlg := l.srv
			go dlg.Bye(context.Background())
		} else if l.cli != nil {
			dlg := l.cli
			go dlg.Bye(context.Background())
		}
	}
	s.end(l, cause)
}

// ---------------------------------------------------------------- media --

// Bridge relays RTP between two answered legs.
func (s *Switch) Bridge(ctx context.Context, a, b string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	la, err := s.get(a)
	if err != nil {
		return err
	}
	lb, err := s.get(b)
	if err != nil {
		return err
	}
	if a == b || la.state != stAnswered || lb.state != stAnswered || la.bridged == b {
		return telephony.ErrState
	}
	s.bridge(la, lb)
	return nil
}

// bridge joins two answered legs, cancelling a pending Transfer of either
// (transfer.go). Needs s.mu.
func (s *Switch) bridge(la, lb *leg) {
	a, b := la.id, lb.id
	s.cancelTransfer(la)
	s.cancelTransfer(lb)
	s.detach(la)
	s.detach(lb)
	s.stopPlays(la)
	s.stopPlays(lb)
	la.bridged, lb.bridged = b, a
	s.reroute(la)
	s.reroute(lb)
	s.emit(telephony.Event{Type: telephony.Bridged, Leg: a, Other: b})
	s.emit(telephony.Event{Type: telephony.Bridged, Leg: b, Other: a})
}

// Unbridge stops the relay; both legs stay up.
func (s *Switch) Unbridge(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.get(id)
	if err != nil {
		return err
	}
	if l.bridged == "" {
		return telephony.ErrState
	}
	s.unbridge(l)
	return nil
}

func (s *Switch) unbridge(l *leg) {
	p := s.legs[l.bridged]
	if p == nil {
		return
	}
	l.bridged, p.bridged = "", ""
	s.reroute(l)
	s.reroute(p)
	s.emit(telephony.Event{Type: telephony.Unbridged, Leg: l.id, Other: p.id})
	s.emit(telephony.Event{Type: telephony.Unbridged, Leg: p.id, Other: l.id})
}

// mediaStats reports a leg's RTP counters (tests and diagnostics).
func (s *Switch) mediaStats(id string) (mediaStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.legs[id]
	if l == nil || l.med == nil {
		return mediaStats{}, false
	}
	return l.med.Stats(), true
}

// ---------------------------------------------------------------- close --

// Close hangs up every leg (in creation order), stops listening and
// closes Events once every event is delivered. Safe to call again.
func (s *Switch) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	// Every RTP socket is closed before Close returns (end and the echo
	// calls close them on goroutines of their own: a read loop may be
	// waiting for s.mu to report a key press).
	var meds []*rtpLeg
	for _, l := range s.legs {
		if l.med != nil {
			meds = append(meds, l.med)
		}
	}
	for _, e := range s.echoes {
		meds = append(meds, e.med)
	}
	for _, id := range append([]string(nil), s.order...) {
		if l := s.legs[id]; l != nil {
			s.hangup(l, "")
		}
	}
	s.closeMedia() // rooms and echo calls (mix.go, echo.go)
	s.mu.Unlock()
	for _, m := range meds {
		m.Close()
	}
	// Un-REGISTER the trunks (bounded) while the socket is still open.
	s.stopRegistrations()
	// let BYE/CANCEL/final responses go out before the socket closes
	time.Sleep(50 * time.Millisecond)
	err := s.conn.Close()
	<-s.served
	s.closeTLS() // the listener; ua.Close below closes its connections
	s.ua.Close()
	s.evMu.Lock()
	s.evClosed = true
	s.evMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return err
}
