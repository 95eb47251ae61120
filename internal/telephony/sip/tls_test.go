package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
)

// testCA is a throwaway certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "centralita test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue makes a server certificate for ip signed by the CA.
func (ca *testCA) issue(t testing.TB, ip string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startTLSSwitch is startSwitch with SIP over TLS on 127.0.0.1: its
// certificate from ca, trusting ca for the carriers it connects to.
func startTLSSwitch(t *testing.T, ca *testCA, trunks ...Trunk) *swFixture {
	t.Helper()
	reg, err := New(Config{
		Credentials: fakeCreds{"1001": "device", "1002": "other"},
		Logger:      slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return runSwitch(t, reg, Options{
		Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0",
		TLS:    &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")}, RootCAs: ca.pool},
		Trunks: trunks,
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
	})
}

// newTLSDevice is a phone that speaks to the switch over TLS only,
// trusting ca: it listens nowhere, the switch reaches it through the
// connection it opened to register. Its Contact names port 9 (discard),
// where nobody would answer.
func newTLSDevice(t *testing.T, user, mode string, ca *testCA) *device {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-tls-device"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: ca.pool}))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	d := &device{t: t, user: user, ua: ua, client: client, tls: true,
		addr:  &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9},
		calls: map[string]*devCall{}, in: make(chan *devCall, 16)}
	contact := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: 9, UriParams: sip.NewParams()}
	contact.UriParams.Add("transport", "tls")
	d.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: contact}, RewriteContact: true}
	d.mode.Store(mode)
	d.handle(srv)
	t.Cleanup(func() {
		d.mu.Lock()
		for _, c := range d.calls {
			c.rtp.Close()
		}
		d.mu.Unlock()
		ua.Close()
	})
	return d
}

func transportOf(d *device, method sip.RequestMethod) string {
	v, _ := d.transports.Load(method)
	s, _ := v.(string)
	return s
}

// A phone registers over TLS; the switch calls it over TLS through that
// connection (its Contact is unreachable), with our TLS Contact, and hangs
// up with a BYE over TLS. The phone then calls the switch over TLS (digest
// as over UDP), is answered and hangs up itself.
func TestTLSStationRegisterCallBye(t *testing.T) {
	ca := newTestCA(t)
	f := startTLSSwitch(t, ca)
	d := newTLSDevice(t, "1001", "answer", ca)
	d.register(f.sw, "device")
	cs := f.reg.Lookup("1001")
	if len(cs) != 1 || cs[0].Transport != "TLS" {
		t.Fatalf("contacts %+v, want one over TLS", cs)
	}

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + "1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	call := <-d.in
	inv := call.srv.InviteRequest
	if inv.Transport() != "TLS" || inv.Via().Transport != "TLS" {
		t.Errorf("INVITE came over %s, Via %s; want TLS", inv.Transport(), inv.Via().Transport)
	}
	c := inv.Contact()
	if tp, _ := c.Address.UriParams.Get("transport"); tp != "tls" || c.Address.Port != f.sw.TLSAddr().Port {
		t.Errorf("switch's Contact %s, want its TLS address with transport=tls", c.Address.String())
	}
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, call.ended, "the phone's call after the switch's BYE")
	if got := transportOf(d, sip.BYE); got != "TLS" {
		t.Errorf("BYE came over %q, want TLS", got)
	}
	f.ev.wait(t, leg, telephony.Hangup, evWait)

	// The phone calls: a challenge, then Incoming; the switch answers.
	out, res := d.invite(f.sw, "1001", "2001")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if in.From != "1001" || in.To != "2001" {
		t.Errorf("Incoming %+v", in)
	}
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("the phone's call: %v", err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	if c := out.cli.InviteResponse.Contact(); c == nil || c.Address.Port != f.sw.TLSAddr().Port {
		t.Errorf("200 OK Contact %v, want the switch's TLS address", c)
	}
	if err := out.cli.Bye(bg); err != nil {
		t.Fatalf("BYE from the phone: %v", err)
	}
	if ev := f.ev.wait(t, in.Leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNormal {
		t.Errorf("Hangup %+v", ev)
	}
}

// carrier is a SIP server over TLS standing for a carrier: it answers
// INVITEs (PCMU, after a 180) and REGISTERs, and records what came over
// which transport.
type carrier struct {
	t    *testing.T
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	addr *net.TCPAddr

	mu       sync.Mutex
	invites  []*sip.Request
	byes     []string // transports of BYEs received
	register *sip.Request
	calls    map[string]*sipgo.DialogServerSession
	bye      chan struct{}
	// answer makes the SDP of the 200 for an INVITE (srtp_test.go); nil:
	// plain PCMU at a port nobody reads.
	answer func(req *sip.Request) []byte
}

func startCarrier(t *testing.T, ca *testCA, cert tls.Certificate) *carrier {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-carrier"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: ca.pool}))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	c := &carrier{t: t, ua: ua, srv: srv, cli: cli, addr: ln.Addr().(*net.TCPAddr),
		calls: map[string]*sipgo.DialogServerSession{}, bye: make(chan struct{}, 4)}
	contact := sip.Uri{Scheme: "sip", User: "carrier", Host: "127.0.0.1", Port: c.addr.Port, UriParams: sip.NewParams()}
	contact.UriParams.Add("transport", "tls")
	c.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: contact}, RewriteContact: true}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		c.invites = append(c.invites, req)
		c.mu.Unlock()
		dlg, err := c.dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.calls[req.CallID().Value()] = dlg
		c.mu.Unlock()
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		c.mu.Lock()
		answer := c.answer
		c.mu.Unlock()
		if answer != nil {
			_ = dlg.RespondSDP(answer(req))
			return
		}
		_ = dlg.RespondSDP(buildSDP("127.0.0.1", 40000, 1))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		dlg := c.calls[req.CallID().Value()]
		c.mu.Unlock()
		if dlg != nil {
			_ = dlg.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		c.byes = append(c.byes, req.Transport())
		dlg := c.calls[req.CallID().Value()]
		c.mu.Unlock()
		if dlg != nil {
			_ = dlg.ReadBye(req, tx)
		} else {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		}
		c.bye <- struct{}{}
	})
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		c.register = req
		c.mu.Unlock()
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		if h := req.Contact(); h != nil {
			ch := h.Clone()
			ch.Params = sip.NewParams()
			ch.Params.Add("expires", "600")
			res.AppendHeader(ch)
		}
		_ = tx.Respond(res)
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeTLS(ln) }()
	t.Cleanup(func() {
		ln.Close()
		<-done
		ua.Close()
	})
	return c
}

// An outbound call through a TLS trunk goes over TLS to the carrier
// (transport=tls, our TLS Contact), verified against the test CA; the
// switch's BYE follows on TLS. The trunk registers over TLS, and the
// carrier's call to the Contact it registered comes in over TLS.
func TestTLSTrunkOutboundRegisterInbound(t *testing.T) {
	ca := newTestCA(t)
	car := startCarrier(t, ca, ca.issue(t, "127.0.0.1"))
	f := startTLSSwitch(t, ca, Trunk{Name: "carrier", Address: car.addr.String(), Transport: "TLS",
		Username: "acct", Password: "secret", Country: "ES", Register: true})

	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:+34910000001", From: "+34910000000"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	car.mu.Lock()
	inv := car.invites[0]
	car.mu.Unlock()
	if inv.Transport() != "TLS" || inv.Via().Transport != "TLS" {
		t.Errorf("INVITE over %s (Via %s), want TLS", inv.Transport(), inv.Via().Transport)
	}
	if tp, _ := inv.Recipient.UriParams.Get("transport"); tp != "tls" || inv.Recipient.User != "+34910000001" {
		t.Errorf("Request-URI %s", inv.Recipient.String())
	}
	if c := inv.Contact(); c.Address.Port != f.sw.TLSAddr().Port {
		t.Errorf("Contact %s, want the switch's TLS address", c.Address.String())
	}
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-car.bye:
	case <-time.After(evWait):
		t.Fatal("no BYE at the carrier")
	}
	car.mu.Lock()
	if car.byes[0] != "TLS" {
		t.Errorf("BYE over %s, want TLS", car.byes[0])
	}
	car.mu.Unlock()

	// Registration: REGISTER over TLS with our TLS Contact.
	deadline := time.Now().Add(evWait)
	for f.sw.Registrations()["carrier"].State != RegRegistered {
		if time.Now().After(deadline) {
			t.Fatalf("registration %+v", f.sw.Registrations()["carrier"])
		}
		time.Sleep(10 * time.Millisecond)
	}
	car.mu.Lock()
	reg := car.register
	car.mu.Unlock()
	if reg.Transport() != "TLS" {
		t.Errorf("REGISTER over %s", reg.Transport())
	}
	contact := reg.Contact().Address
	if tp, _ := contact.UriParams.Get("transport"); tp != "tls" || contact.Port != f.sw.TLSAddr().Port || contact.User != "acct" {
		t.Errorf("REGISTER Contact %s", contact.String())
	}

	// The carrier calls that Contact (a connection of its own to our TLS port).
	call := sip.NewRequest(sip.INVITE, contact)
	call.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "600111222", Host: "127.0.0.1"}, Params: sip.NewParams()})
	call.From().Params.Add("tag", randomHex(4))
	call.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "910000001", Host: "127.0.0.1"}, Params: sip.NewParams()})
	call.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	call.SetBody(buildSDP("127.0.0.1", 40002, 1))
	dlg, err := car.dua.WriteInvite(bg, call)
	if err != nil {
		t.Fatal(err)
	}
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if in.From != "+34600111222" || in.To != "+34910000001" {
		t.Errorf("Incoming %+v", in)
	}
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, evWait)
	defer cancel()
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = dlg.Ack(bg)
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	if err := dlg.Bye(bg); err != nil {
		t.Fatalf("carrier's BYE: %v", err)
	}
	f.ev.wait(t, in.Leg, telephony.Hangup, evWait)
}

// A carrier whose certificate does not verify (another CA's, or one for
// another address) gets no call: Originate says why. A TLS trunk's host
// cannot call in over UDP, and a switch without TLS cannot use a TLS
// trunk.
func TestTLSTrunkRefusals(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	for name, cert := range map[string]tls.Certificate{
		"unknown CA":    other.issue(t, "127.0.0.1"),
		"wrong address": ca.issue(t, "192.0.2.1"),
	} {
		t.Run(name, func(t *testing.T) {
			car := startCarrier(t, ca, cert)
			f := startTLSSwitch(t, ca, Trunk{Name: "carrier", Address: car.addr.String(), Transport: "tls", Country: "ES"})
			_, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "910000001"})
			if err == nil || !strings.Contains(err.Error(), "TLS certificate does not verify") {
				t.Fatalf("Originate: %v, want the certificate's failure", err)
			}
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &verr) {
				t.Errorf("%v does not wrap the verification error", err)
			}
			car.mu.Lock()
			n := len(car.invites)
			car.mu.Unlock()
			if n != 0 {
				t.Errorf("the carrier got %d INVITEs", n)
			}
		})
	}

	t.Run("UDP from a TLS trunk's host", func(t *testing.T) {
		f := startTLSSwitch(t, ca, Trunk{Name: "carrier", Address: "127.0.0.1", Transport: "tls", Inbound: true})
		cust := newDevice(t, "cust", "answer")
		_, res := cust.invite(f.sw, "+34600111222", "2001")
		var de *sipgo.ErrDialogResponse
		if err := waitErr(t, res, evWait); !errors.As(err, &de) || de.Res.StatusCode != sip.StatusForbidden {
			t.Fatalf("UDP INVITE from the TLS trunk's host: %v, want 403", err)
		}
	})

	t.Run("no TLS on the switch", func(t *testing.T) {
		f := startSwitch(t)
		if err := f.sw.SetTrunks([]Trunk{{Name: "carrier", Address: "127.0.0.1", Transport: "tls", Country: "ES"}}); err != nil {
			t.Fatal(err)
		}
		_, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "910000001"})
		if !errors.Is(err, telephony.ErrNotSupported) || !strings.Contains(err.Error(), "sip_tls_listen") {
			t.Fatalf("Originate: %v, want ErrNotSupported naming sip_tls_listen", err)
		}
		if f.sw.TLSAddr() != nil {
			t.Error("TLSAddr without TLS")
		}
	})

	t.Run("bad settings", func(t *testing.T) {
		if _, err := prepareTrunks([]Trunk{{Name: "x", Address: "127.0.0.1", Transport: "tcp"}}); err == nil || !strings.Contains(err.Error(), `Transport "tcp" is not udp or tls`) {
			t.Errorf("tcp trunk: %v", err)
		}
		reg, _ := New(Config{Credentials: fakeCreds{}})
		defer reg.Close()
		if _, err := NewSwitch(Options{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", Registrar: reg}); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("TLSListen without a certificate: %v", err)
		}
	})
}

// A TLS trunk without a port is reached at 5061; a UDP one at 5060.
func TestTLSTrunkDefaultPort(t *testing.T) {
	ts, err := prepareTrunks([]Trunk{{Name: "a", Address: "192.0.2.1", Transport: "tls", Inbound: true}, {Name: "b", Address: "192.0.2.1", Inbound: true}})
	if err != nil {
		t.Fatal(err)
	}
	if u := ts[0].uri("1"); u.Port != 5061 || u.String() != "sip:1@192.0.2.1:5061;transport=tls" {
		t.Errorf("TLS trunk URI %s", u.String())
	}
	if u := ts[1].uri("1"); u.Port != 5060 || ts[1].Transport != TransportUDP {
		t.Errorf("UDP trunk URI %s (%s)", u.String(), ts[1].Transport)
	}
	if !ts[0].sends("192.0.2.1:40001", "TLS") || ts[0].sends("192.0.2.1:5061", "UDP") || ts[1].sends("192.0.2.1:5060", "TLS") {
		t.Error("sends ignores the transport")
	}
}

// sipgoConnGoroutines are the goroutines of sipgo's TCP/TLS transport
// (accept loops, connection readers), by id.
func sipgoConnGoroutines() map[string]bool {
	out := map[string]bool{}
	for _, g := range goroutineStacks() {
		if strings.Contains(g, "sipgo/sip.(*TransportTCP)") {
			id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
			out[id] = true
		}
	}
	return out
}

// Close with a TLS call up and a TLS phone connected closes the listener
// and every TLS connection: the phone's connection is gone, sipgo's
// readers have returned, and the port is free again.
// Not parallel: it counts every goroutine of the process.
func TestTLSCloseLeavesNothingBehind(t *testing.T) {
	before, beforeConns := ownGoroutines(), sipgoConnGoroutines()
	ca := newTestCA(t)
	f := startTLSSwitch(t, ca)
	d := newTLSDevice(t, "1001", "answer", ca)
	d.register(f.sw, "device")
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + "1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	call := <-d.in
	addr := f.sw.TLSAddr().String()
	if err := f.sw.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, call.ended, "the phone's call (BYE on Close)")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TLS port still taken after Close: %v", err)
	}
	ln.Close()
	waitNoNewGoroutines(t, before, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left int
		for id := range sipgoConnGoroutines() {
			if !beforeConns[id] {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d TLS connection goroutines outlive Close", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
