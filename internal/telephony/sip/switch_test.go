package sip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

var bg = context.Background()

// ------------------------------------------------------------ harness --

// events collects a switch's events for tests to wait on.
type events struct {
	mu   sync.Mutex
	cond *sync.Cond
	all  []telephony.Event
	done bool
}

func collect(ch <-chan telephony.Event) *events {
	e := &events{}
	e.cond = sync.NewCond(&e.mu)
	go func() {
		for ev := range ch {
			e.mu.Lock()
			e.all = append(e.all, ev)
			e.cond.Broadcast()
			e.mu.Unlock()
		}
		e.mu.Lock()
		e.done = true
		e.cond.Broadcast()
		e.mu.Unlock()
	}()
	return e
}

// wait returns the first event matching leg ("" any) and type, within d.
func (e *events) wait(t testing.TB, leg string, typ telephony.EventType, d time.Duration) telephony.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { e.mu.Lock(); e.cond.Broadcast(); e.mu.Unlock() })
	defer timer.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		for _, ev := range e.all {
			if ev.Type == typ && (leg == "" || ev.Leg == leg) {
				return ev
			}
		}
		if e.done || time.Now().After(deadline) {
			t.Fatalf("no %s event for leg %q within %v; events:\n%s", typ, leg, d, e.dumpLocked())
		}
		e.cond.Wait()
	}
}

func (e *events) of(leg string) []telephony.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []telephony.EventType
	for _, ev := range e.all {
		if ev.Leg == leg {
			out = append(out, ev.Type)
		}
	}
	return out
}

func (e *events) dumpLocked() string {
	var b strings.Builder
	for _, ev := range e.all {
		fmt.Fprintf(&b, "  %s %s from=%s to=%s other=%s cause=%s\n", ev.Leg, ev.Type, ev.From, ev.To, ev.Other, ev.Cause)
	}
	return b.String()
}

type swFixture struct {
	sw  *Switch
	reg *Registrar
	ev  *events
}

func startSwitch(t testing.TB, trunks ...string) *swFixture {
	t.Helper()
	reg, err := New(Config{
		Credentials: fakeCreds{"1001": "device", "1002": "other", "1003": "third"},
		Logger:      slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return runSwitch(t, reg, Options{
		Listen:       "127.0.0.1:0",
		Trunks:       inboundTrunks(trunks...),
		ToneDuration: 300 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	})
}

// runSwitch starts a switch with opt on reg, collects its events, and
// closes both (waiting for the last event) when the test ends.
func runSwitch(t testing.TB, reg *Registrar, opt Options) *swFixture {
	t.Helper()
	opt.Registrar = reg
	sw, err := NewSwitch(opt)
	if err != nil {
		t.Fatal(err)
	}
	f := &swFixture{sw: sw, reg: reg, ev: collect(sw.Events())}
	t.Cleanup(func() {
		if err := sw.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		f.ev.mu.Lock()
		for !f.ev.done {
			f.ev.cond.Wait()
		}
		f.ev.mu.Unlock()
		reg.Close()
	})
	return f
}

// device is a SIP phone (or a trunk's customer) built on sipgo: one UDP
// socket for SIP, one per call for RTP.
type device struct {
	t      testing.TB
	user   string
	pass   string // the password it registered with, for INVITE challenges
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dua    *sipgo.DialogUA
	conn   net.PacketConn
	addr   *net.UDPAddr
	// tls: the device speaks to the switch over TLS (tls_test.go);
	// transports has the transport of the last request of each method
	// it received.
	tls        bool
	transports sync.Map
	// srtp is an SDES suite: the device offers RTP/SAVP with it and a key
	// of its own when it calls, and answers an SRTP offer with SRTP
	// (srtp_test.go). "": plain RTP.
	srtp string

	mode atomic.Value // what to do with an INVITE: answer, busy, reject, ring, unavailable; nosavp-X: 488 to SRTP, else X
	// refused counts the SRTP offers a nosavp- device refused
	refused atomic.Int32
	mu      sync.Mutex
	calls   map[string]*devCall
	in      chan *devCall
}

type devCall struct {
	srv    *sipgo.DialogServerSession
	cli    *sipgo.DialogClientSession
	rtp    *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	up     atomic.Bool // our INVITE was answered and ACKed (customer side)
	// settled is closed when our INVITE has its outcome (after the ACK:
	// the switch may report Answered before Ack returns here).
	settled chan struct{}
	got     atomic.Uint64
	pcmu    atomic.Uint64 // packets with payload type 0
	// tap sees every packet received (ear, media_test.go)
	tap atomic.Pointer[func(pkt []byte)]
	// sec is the call's SRTP (srtp_test.go), nil for plain RTP: received
	// packets are decrypted before anything counts them, sent ones
	// encrypted.
	sec    atomic.Pointer[peerSRTP]
	ended  chan struct{}
	once   sync.Once
	decide chan string
}

func (c *devCall) end() { c.once.Do(func() { close(c.ended) }) }

func newDevice(t testing.TB, user, mode string) *device {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-device"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	d := &device{t: t, user: user, ua: ua, client: client, conn: conn, addr: addr,
		calls: map[string]*devCall{}, in: make(chan *devCall, 16)}
	d.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: addr.Port}}}
	d.mode.Store(mode)
	d.handle(srv)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	if err := waitServing(ua, addr.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.mu.Lock()
		for _, c := range d.calls {
			c.rtp.Close()
		}
		d.mu.Unlock()
		conn.Close()
		<-done
		ua.Close()
	})
	return d
}

// handle serves the device's requests on srv.
func (d *device) handle(srv *sipgo.Server) {
	srv.OnInvite(d.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		d.transports.Store(req.Method, req.Transport())
		if c := d.call(req.CallID().Value()); c != nil && c.srv != nil {
			_ = c.srv.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		d.transports.Store(req.Method, req.Transport())
		c := d.call(req.CallID().Value())
		if c == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Call", nil))
			return
		}
		if c.srv != nil {
			_ = c.srv.ReadBye(req, tx)
		} else {
			_ = c.cli.ReadBye(req, tx)
		}
		c.end()
	})
}

func (d *device) call(id string) *devCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[id]
}

// busy: another call than c is still up on the device.
func (d *device) busy(c *devCall) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.calls {
		if o == c {
			continue
		}
		select {
		case <-o.ended:
		default:
			return true
		}
	}
	return false
}

func (d *device) newRTP() *devCall { return newCall(d.t) }

// newCall is a call's RTP side: a socket on 127.0.0.1 and a goroutine
// counting (and decrypting, with sec) what arrives.
func newCall(t testing.TB) *devCall {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Error(err)
		return nil
	}
	call := &devCall{rtp: c, ended: make(chan struct{}), decide: make(chan string, 1), settled: make(chan struct{})}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if sec := call.sec.Load(); sec != nil {
				var ok bool
				if n, ok = sec.open(buf, n); !ok {
					continue
				}
			}
			if n >= 12 {
				call.got.Add(1)
				if buf[1]&0x7f == 0 {
					call.pcmu.Add(1)
				}
				if f := call.tap.Load(); f != nil {
					(*f)(buf[:n])
				}
			}
		}
	}()
	return call
}

func (c *devCall) sdp() []byte {
	if sec := c.sec.Load(); sec != nil {
		return buildSecureSDP("127.0.0.1", c.rtp.LocalAddr().(*net.UDPAddr).Port, 1, "", &sec.local)
	}
	return buildSDP("127.0.0.1", c.rtp.LocalAddr().(*net.UDPAddr).Port, 1)
}

// sendRTP sends n PCMU packets (20 ms apart would be realistic; 2 ms keeps tests short).
func (c *devCall) sendRTP(n int) {
	pkt := make([]byte, 12+160)
	for i := 0; i < n; i++ {
		pkt[0], pkt[1] = 0x80, 0
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(160*i))
		binary.BigEndian.PutUint32(pkt[8:], 0xdecaf)
		c.send(pkt)
		time.Sleep(2 * time.Millisecond)
	}
}

func (d *device) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	d.transports.Store(req.Method, req.Transport())
	offer, err := parseSDP(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable", nil))
		return
	}
	mode := d.mode.Load().(string)
	if after, ok := strings.CutPrefix(mode, "nosavp-"); ok { // a phone without SRTP that says so
		if offer.secure() {
			d.refused.Add(1)
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
			return
		}
		mode = after
	}
	dlg, err := d.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	call := d.newRTP()
	if call == nil {
		return
	}
	if d.srtp != "" && offer.secure() {
		call.answerSRTP(d.t, offer)
	}
	call.srv = dlg
	call.remote.Store(&net.UDPAddr{IP: offer.IP, Port: offer.Port})
	d.mu.Lock()
	d.calls[req.CallID().Value()] = call
	d.mu.Unlock()
	dlg.OnState(func(s sip.DialogState) {
		if s == sip.DialogStateEnded {
			call.end()
		}
	})
	d.in <- call
	switch mode {
	case "busy":
		_ = dlg.Respond(sip.StatusBusyHere, "Busy Here", nil)
	case "reject":
		_ = dlg.Respond(603, "Decline", nil)
	case "unavailable":
		_ = dlg.Respond(480, "Temporarily Unavailable", nil)
	case "ring":
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		<-dlg.Context().Done() // the INVITE transaction lives until CANCEL
	case "answer":
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		_ = dlg.RespondSDP(call.sdp())
	case "manual": // one call at a time; rings until decide gets answer or reject
		if d.busy(call) {
			_ = dlg.Respond(sip.StatusBusyHere, "Busy Here", nil)
			call.end()
			return
		}
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		select {
		case what := <-call.decide:
			if what == "answer" {
				_ = dlg.RespondSDP(call.sdp())
			} else {
				_ = dlg.Respond(603, "Decline", nil)
				call.end()
			}
		case <-dlg.Context().Done():
		}
	}
}

// register registers the device's SIP address for its user.
func (d *device) register(sw *Switch, password string) {
	d.t.Helper()
	d.registerContact(sw, password, d.addr.Port)
}

// registerContact registers sip:USER@127.0.0.1:port (another peer, e.g. SIPp).
func (d *device) registerContact(sw *Switch, password string, port int) {
	d.pass = password
	d.t.Helper()
	req := sip.NewRequest(sip.REGISTER, d.switchURI(sw, ""))
	aor := sip.Uri{Scheme: "sip", User: d.user, Host: "127.0.0.1"}
	fp := sip.NewParams()
	fp.Add("tag", randomHex(4))
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	contact := sip.Uri{Scheme: "sip", User: d.user, Host: "127.0.0.1", Port: port}
	if d.tls {
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", "tls")
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Expires", "300"))
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	res, err := d.client.Do(ctx, req)
	if err == nil && res.StatusCode == sip.StatusUnauthorized {
		res, err = d.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: d.user, Password: password})
	}
	if err != nil || res.StatusCode != sip.StatusOK {
		d.t.Fatalf("register %s: %v %v", d.user, err, res)
	}
}

// switchURI is sip:USER@ the switch's address (its TLS one for a TLS
// device).
func (d *device) switchURI(sw *Switch, user string) sip.Uri {
	if d.tls {
		return sw.contactURI(user, TransportTLS, sw.TLSAddr().Port)
	}
	return sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: sw.Addr().Port}
}

// invite calls the switch as a customer dialling to; the returned call's
// cli is set and answered is closed when the switch answers (or the
// INVITE fails, with the error on result).
func (d *device) invite(sw *Switch, from, to string) (*devCall, chan error) {
	d.t.Helper()
	call := d.newRTP()
	if d.srtp != "" {
		call.offerSRTP(d.t, d.srtp)
	}
	uri := d.switchURI(sw, to)
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", randomHex(4))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(call.sdp())
	dlg, err := d.dua.WriteInvite(bg, req)
	if err != nil {
		d.t.Fatal(err)
	}
	call.cli = dlg
	d.mu.Lock()
	d.calls[req.CallID().Value()] = call
	d.mu.Unlock()
	result := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: d.user, Password: d.pass})
		if err == nil {
			if a, perr := parseSDP(dlg.InviteResponse.Body()); perr == nil {
				call.remote.Store(&net.UDPAddr{IP: a.IP, Port: a.Port})
				if d.srtp != "" {
					call.answeredSRTP(d.t, a)
				}
			}
			err = dlg.Ack(bg)
			call.up.Store(err == nil)
		}
		close(call.settled)
		result <- err
	}()
	return call, result
}

func waitErr(t testing.TB, ch chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("no result within %v", d)
		return nil
	}
}

func waitClosed(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not within 5s", what)
	}
}

// quiet waits until f stops changing for 100 ms (at most evWait) and
// returns its value: packets still in flight have arrived, so it is a
// clean baseline for checking that nothing more comes.
func quiet(f func() uint64) uint64 {
	last, since := f(), time.Now()
	deadline := time.Now().Add(evWait)
	for time.Since(since) < 100*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		if n := f(); n != last {
			last, since = n, time.Now()
		}
	}
	return last
}

func waitCount(t *testing.T, what string, f func() uint64, min uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f() < min {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want >= %d", what, f(), min)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// evWait bounds waiting for an event: a few SIP round trips, with a wide
// margin for a loaded CI machine (passing tests never wait it out).
const evWait = 15 * time.Second

// -------------------------------------------------------------- tests --

func TestOriginateToRegisteredPhoneAnswers(t *testing.T) {
	f := startSwitch(t)
	ph := newDevice(t, "1001", "answer")
	ph.register(f.sw, "device")

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", From: "+34600000001", CallerName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.ev.wait(t, leg, telephony.Ringing, evWait)
	if r.To != "station:1001" || r.From != "+34600000001" {
		t.Errorf("ringing %+v", r)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	call := <-ph.in

	// Tone: PCMU frames reach the phone, then PlaybackDone.
	if err := f.sw.Play(bg, leg, "tone:440"); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.PlaybackDone, evWait)
	if n := call.pcmu.Load(); n < 10 {
		t.Errorf("phone got %d PCMU tone packets, want >= 10 (300 ms)", n)
	}

	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	if c := f.ev.wait(t, leg, telephony.Hangup, evWait); c.Cause != telephony.CauseNormal {
		t.Errorf("cause %q", c.Cause)
	}
	waitClosed(t, call.ended, "phone sees BYE")
	if err := f.sw.Hangup(bg, leg, ""); !errors.Is(err, telephony.ErrNoLeg) {
		t.Errorf("second hangup: %v", err)
	}
}

func TestOriginateFailures(t *testing.T) {
	for _, tc := range []struct {
		mode, cause string
	}{
		{"busy", telephony.CauseBusy},
		{"reject", telephony.CauseRejected},
		{"unavailable", telephony.CauseNoAnswer},
	} {
		f := startSwitch(t)
		ph := newDevice(t, "1002", tc.mode)
		ph.register(f.sw, "other")
		leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1002"})
		if err != nil {
			t.Fatal(err)
		}
		if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != tc.cause {
			t.Errorf("%s: cause %q, want %q", tc.mode, ev.Cause, tc.cause)
		}
	}
	// No registered device.
	f := startSwitch(t)
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1003"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseFailed {
		t.Errorf("unregistered: cause %q", ev.Cause)
	}
	if _, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:+34911234567"}); !errors.Is(err, telephony.ErrNotSupported) {
		t.Errorf("tel: %v", err)
	}
	if _, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "nonsense"}); !errors.Is(err, telephony.ErrBadDestination) {
		t.Errorf("nonsense: %v", err)
	}
}

func TestOriginateNoAnswerTimeoutAndCancel(t *testing.T) {
	f := startSwitch(t)
	ph := newDevice(t, "1001", "ring")
	ph.register(f.sw, "device")

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", RingTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Ringing, evWait)
	call := <-ph.in
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNoAnswer {
		t.Errorf("timeout cause %q", ev.Cause)
	}
	waitClosed(t, call.ended, "phone sees CANCEL after ring timeout")

	// Hangup while ringing: CANCEL, cause cancelled.
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Ringing, evWait)
	call = <-ph.in
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseCancelled {
		t.Errorf("cancel cause %q", ev.Cause)
	}
	waitClosed(t, call.ended, "phone sees CANCEL")
}

func TestInboundAnswerAndHangups(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())

	// Answered by the switch, hung up by the customer (BYE).
	call, res := cust.invite(f.sw, "+34600111222", "900100200")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if in.From != "+34600111222" || in.To != "900100200" {
		t.Errorf("incoming %+v", in)
	}
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("customer INVITE: %v", err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	call.sendRTP(20)
	waitCount(t, "switch received RTP", func() uint64 { s, _ := f.sw.mediaStats(in.Leg); return s.Received }, 20)
	if err := call.cli.Bye(bg); err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, in.Leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNormal {
		t.Errorf("bye cause %q", ev.Cause)
	}

}

func TestInboundRejectedBusy(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	_, res := cust.invite(f.sw, "+34600111222", "900100200")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if err := f.sw.Hangup(bg, in.Leg, telephony.CauseBusy); err != nil {
		t.Fatal(err)
	}
	err := waitErr(t, res, evWait)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusBusyHere {
		t.Fatalf("customer got %v, want 486", err)
	}
	if ev := f.ev.wait(t, in.Leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseBusy {
		t.Errorf("cause %q", ev.Cause)
	}
}

func TestInboundCancelledByCaller(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	call, _ := cust.invite(f.sw, "+34600111222", "900100200")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	// CANCEL needs a provisional first; the switch sent 100 Trying.
	cancel := newCancel(call.cli.InviteRequest)
	ctx, stop := context.WithTimeout(bg, 5*time.Second)
	defer stop()
	if res, err := cust.client.Do(ctx, cancel); err != nil || res.StatusCode != 200 {
		t.Fatalf("CANCEL: %v %v", err, res)
	}
	if ev := f.ev.wait(t, in.Leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseAbandoned {
		t.Errorf("cause %q", ev.Cause)
	}
	if err := f.sw.Answer(bg, in.Leg); !errors.Is(err, telephony.ErrNoLeg) {
		t.Errorf("answer after cancel: %v", err)
	}
}

// newCancel builds a CANCEL for an INVITE (RFC 3261 9.1).
func newCancel(inv *sip.Request) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	sip.CopyHeaders("From", inv, c)
	sip.CopyHeaders("To", inv, c)
	sip.CopyHeaders("Call-ID", inv, c)
	sip.CopyHeaders("Route", inv, c)
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	maxFwd := sip.MaxForwardsHeader(70)
	c.AppendHeader(&maxFwd)
	c.SetDestination(inv.Destination())
	return c
}

func TestInboundFromUnknownSourceForbidden(t *testing.T) {
	f := startSwitch(t, "127.0.0.1:1") // a trunk that is not this customer
	cust := newDevice(t, "customer", "")
	_, res := cust.invite(f.sw, "+34600111222", "900100200")
	err := waitErr(t, res, evWait)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusForbidden {
		t.Fatalf("got %v, want 403", err)
	}
}

func TestInboundFromRegisteredDeviceAndSwitchHangsUp(t *testing.T) {
	f := startSwitch(t)
	ph := newDevice(t, "1001", "")
	ph.register(f.sw, "device")
	call, res := ph.invite(f.sw, "1001", "700") // 600 is the echo test
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if in.From != "1001" || in.To != "700" {
		t.Errorf("incoming %+v", in)
	}
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	if err := f.sw.Hangup(bg, in.Leg, ""); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, call.ended, "device sees BYE from the switch")
	if ev := f.ev.wait(t, in.Leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNormal {
		t.Errorf("cause %q", ev.Cause)
	}
}

// A station's device proves who it is on every INVITE, as on REGISTER:
// its address and From user alone must not place calls (toll fraud), so
// no credentials get a challenge the device cannot meet and a wrong
// password 403; neither reaches the platform.
func TestStationInviteNeedsDigest(t *testing.T) {
	f := startSwitch(t)
	ph := newDevice(t, "1001", "")
	ph.register(f.sw, "device")
	for _, c := range []struct{ pass, want string }{{"", "401"}, {"wrong", "403"}} {
		ph.pass = c.pass
		_, res := ph.invite(f.sw, "1001", "700")
		err := waitErr(t, res, evWait)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("INVITE with password %q: %v, want %s", c.pass, err, c.want)
		}
	}
	ph.pass = "device"
	_, res := ph.invite(f.sw, "1001", "700")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.mu.Lock()
	defer f.ev.mu.Unlock()
	n := 0
	for _, ev := range f.ev.all {
		if ev.Type == telephony.Incoming {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d Incoming events, want 1 (only the authenticated INVITE)", n)
	}
}

// A customer's call answered and bridged to an agent phone the switch
// called: RTP flows both ways through the relay; the agent hangs up.
func TestBridgeRelaysRTPBothWays(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	agent := newDevice(t, "1001", "answer")
	agent.register(f.sw, "device")

	ccall, res := cust.invite(f.sw, "+34600111222", "900100200")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	out, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", From: "+34600111222"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, out, telephony.Answered, evWait)
	acall := <-agent.in

	if err := f.sw.Bridge(bg, in.Leg, out); err != nil {
		t.Fatal(err)
	}
	if err := f.sw.Bridge(bg, in.Leg, out); !errors.Is(err, telephony.ErrState) {
		t.Errorf("second bridge: %v", err)
	}
	f.ev.wait(t, in.Leg, telephony.Bridged, evWait)
	f.ev.wait(t, out, telephony.Bridged, evWait)

	const n = 50
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ccall.sendRTP(n) }()
	go func() { defer wg.Done(); acall.sendRTP(n) }()
	wg.Wait()
	waitCount(t, "agent hears customer", acall.got.Load, n*9/10)
	waitCount(t, "customer hears agent", ccall.got.Load, n*9/10)
	sc, _ := f.sw.mediaStats(in.Leg)
	sa, _ := f.sw.mediaStats(out)
	t.Logf("relayed customer→agent %d, agent→customer %d (of %d each)", sc.Relayed, sa.Relayed, n)

	// Unbridge stops the relay.
	if err := f.sw.Unbridge(bg, out); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, out, telephony.Unbridged, evWait)
	before := quiet(acall.got.Load)
	ccall.sendRTP(10)
	time.Sleep(50 * time.Millisecond)
	if got := acall.got.Load(); got != before {
		t.Errorf("agent got %d packets after Unbridge", got-before)
	}
	if err := f.sw.Bridge(bg, in.Leg, out); err != nil {
		t.Fatal(err)
	}

	// The agent hangs up: its leg ends normally, the customer is unbridged.
	if err := acall.srv.Bye(bg); err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, out, telephony.Hangup, evWait); ev.Cause != telephony.CauseNormal {
		t.Errorf("cause %q", ev.Cause)
	}
	want := []telephony.EventType{telephony.Incoming, telephony.Answered, telephony.Bridged, telephony.Unbridged, telephony.Bridged, telephony.Unbridged}
	deadline := time.Now().Add(evWait)
	for fmt.Sprint(f.ev.of(in.Leg)) != fmt.Sprint(want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.ev.of(in.Leg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("customer leg events %v, want %v", got, want)
	}
}

// Methods on a leg or conference that does not exist.
func TestNoSuchLegOrConference(t *testing.T) {
	f := startSwitch(t)
	for name, err := range map[string]error{
		"Answer":   f.sw.Answer(bg, "nope"),
		"Bridge":   f.sw.Bridge(bg, "a", "b"),
		"Hold":     f.sw.Hold(bg, "x"),
		"Resume":   f.sw.Resume(bg, "x"),
		"Mute":     f.sw.Mute(bg, "x", true),
		"SendDTMF": f.sw.SendDTMF(bg, "x", "1"),
		"Join":     f.sw.Join(bg, "c", "x", telephony.Full, ""),
		"Leave":    f.sw.Leave(bg, "c", "x"),
		"Record":   f.sw.Record(bg, "x", true),
		"Prompt":   f.sw.Play(bg, "x", "moh"),
	} {
		if !errors.Is(err, telephony.ErrNoLeg) {
			t.Errorf("%s: %v, want ErrNoLeg", name, err)
		}
	}
	if err := f.sw.EndConference(bg, "c"); !errors.Is(err, telephony.ErrNoConference) {
		t.Errorf("EndConference: %v", err)
	}
}

// Garbage datagrams on the SIP port never crash the switch; it still
// answers OPTIONS and places calls afterwards.
func TestGarbageOnSIPPort(t *testing.T) {
	f := startSwitch(t)
	c, err := net.DialUDP("udp", nil, f.sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junk := [][]byte{
		{}, {0}, []byte("\r\n\r\n"), []byte("INVITE"), []byte("INVITE sip:x SIP/2.0\r\n\r\n"),
		[]byte("SIP/2.0 200 OK\r\nVia: x\r\n\r\n"),
		[]byte("INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 9999\r\n\r\nv=0"),
		[]byte("INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: 12\r\n\r\nm=audio x RT"),
		[]byte("BYE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKz\r\nCall-ID: nope\r\nCSeq: 1 BYE\r\n\r\n"),
		[]byte("ACK sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKw\r\n\r\n"),
	}
	seed := uint32(1)
	for i := 0; i < 40; i++ {
		b := make([]byte, 1+i*7%60)
		for j := range b {
			seed = seed*1664525 + 1013904223
			b[j] = byte(seed >> 24)
		}
		junk = append(junk, b)
	}
	for _, j := range junk {
		_, _ = c.Write(j)
	}
	// Still alive: a phone registers and is called.
	ph := newDevice(t, "1001", "answer")
	ph.register(f.sw, "device")
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
}

func TestPCMUCodec(t *testing.T) {
	for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768} {
		got := pcmuToLinear(linearToPCMU(s))
		diff := int(got) - int(s)
		if diff < 0 {
			diff = -diff
		}
		tol := int(s) / 16
		if tol < 0 {
			tol = -tol
		}
		if diff > tol+8 {
			t.Errorf("%d -> %d", s, got)
		}
	}
	if linearToPCMU(0) != 0xff {
		t.Errorf("silence encodes to %#x, want 0xff", linearToPCMU(0))
	}
}
