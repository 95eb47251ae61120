package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/centralita/centralita/internal/telephony"
)

func TestPrepareTrunks(t *testing.T) {
	good := []Trunk{
		{Name: "a", Address: "192.0.2.1"},
		{Name: "b", Address: "sip.example.com:5080", Country: "es", DIDs: []string{"911 23 45 67", "+34 910 000 000"}, CallerID: "910000000"},
		{Name: "c", Address: "[2001:db8::1]:5060"},
	}
	got, err := prepareTrunks(good)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].host != "192.0.2.1" || got[0].port != 0 || got[1].port != 5080 || got[1].Country != "ES" || got[2].host != "2001:db8::1" {
		t.Errorf("parsed %+v", got)
	}
	if !got[1].dids["+34911234567"] || !got[1].dids["+34910000000"] || len(got[1].dids) != 2 {
		t.Errorf("DIDs %v", got[1].dids)
	}
	if h, p := got[0].outboundAddr(); h != "192.0.2.1" || p != 5060 {
		t.Errorf("outbound %s:%d", h, p)
	}
	for _, bad := range [][]Trunk{
		{{Address: "192.0.2.1"}},
		{{Name: "a", Address: "192.0.2.1"}, {Name: "a", Address: "192.0.2.2"}},
		{{Name: "a"}},
		{{Name: "a", Address: "host:port"}},
		{{Name: "a", Address: "sip:x@y"}},
		{{Name: "a", Address: "192.0.2.1:70000"}},
		{{Name: "a", Address: "192.0.2.1", Country: "XX"}},
		{{Name: "a", Address: "192.0.2.1", DIDs: []string{"911234567"}}}, // national without a Country
		{{Name: "a", Address: "192.0.2.1", Country: "ES", DIDs: []string{"call me"}}},
		{{Name: "a", Address: "192.0.2.1", CallerID: "sales"}},
	} {
		if _, err := prepareTrunks(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		} else if !strings.Contains(err.Error(), "sip: trunk") {
			t.Errorf("error %q does not say which trunk", err)
		}
	}
}

func TestTrunkE164(t *testing.T) {
	es := Trunk{Country: "ES"}
	none := Trunk{}
	for _, c := range []struct {
		t    Trunk
		in   string
		want string
		ok   bool
	}{
		{es, "911234567", "+34911234567", true},
		{es, "911 23 45 67", "+34911234567", true},
		{es, "+34 911-23-45-67", "+34911234567", true},
		{es, "+33 1 23 45 67 89", "+33123456789", true},
		{es, "0034911234567", "+34911234567", true},
		{none, "+34911234567", "+34911234567", true},
		{none, "911234567", "", false},
		{es, "abc", "", false},
		{es, "", "", false},
	} {
		got, ok := c.t.e164(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q with %q: %q %t, want %q %t", c.in, c.t.Country, got, ok, c.want, c.ok)
		}
	}
}

func TestParseDestinations(t *testing.T) {
	f := startSwitch(t)
	sw := f.sw
	parse := func(to string, tags map[string]string) (dest, error) {
		sw.mu.Lock()
		defer sw.mu.Unlock()
		return sw.parseDest(to, tags)
	}
	if _, err := parse("tel:+34911234567", nil); !errors.Is(err, telephony.ErrNotSupported) {
		t.Errorf("number without trunks: %v", err)
	}
	for _, to := range []string{"", "fax:1", "station:", "station:a b", "tel:", "tel:abc", "hello", "sip:", "sip:*", "mailto:a@b"} {
		if _, err := parse(to, nil); !errors.Is(err, telephony.ErrBadDestination) {
			t.Errorf("%q: %v", to, err)
		}
	}
	if _, err := parse("sips:a@b", nil); !errors.Is(err, telephony.ErrNotSupported) {
		t.Errorf("sips: %v", err)
	}
	if err := sw.SetTrunks([]Trunk{{Name: "es", Address: "192.0.2.1", Country: "ES"}, {Name: "intl", Address: "192.0.2.2:5070"}}); err != nil {
		t.Fatal(err)
	}
	d, err := parse("911 234 567", nil)
	if err != nil || d.kind != toTrunk || d.trunk.Name != "es" || d.number != "+34911234567" {
		t.Errorf("bare national number: %+v %v", d, err)
	}
	if _, err := parse("911234567", map[string]string{"trunk": "intl"}); !errors.Is(err, telephony.ErrBadDestination) {
		t.Errorf("national number on a trunk without Country: %v", err)
	}
	d, err = parse("tel:+441234567890", map[string]string{"trunk": "intl"})
	if err != nil || d.trunk.Name != "intl" || d.number != "+441234567890" {
		t.Errorf("E.164 on intl: %+v %v", d, err)
	}
	if _, err := parse("tel:+34911234567", map[string]string{"trunk": "nope"}); !errors.Is(err, telephony.ErrBadDestination) {
		t.Errorf("unknown trunk: %v", err)
	}
	d, err = parse("sip:bob@192.0.2.9:5070", nil)
	if err != nil || d.kind != toURI || d.uri.User != "bob" || d.uri.Port != 5070 {
		t.Errorf("sip URI: %+v %v", d, err)
	}
	d, err = parse("station:1001", nil)
	if err != nil || d.kind != toStation || d.station != "1001" {
		t.Errorf("station: %+v %v", d, err)
	}
}

// fakeTrunk is a carrier's SIP side: it challenges every INVITE without
// valid Proxy-Authorization with 407, then rings and answers (or answers
// with code). It keeps every INVITE it accepted.
type fakeTrunk struct {
	t          *testing.T
	addr       *net.UDPAddr
	user, pass string
	code       int // final answer to authorized INVITEs; 200 by default

	mu        sync.Mutex
	challenge int
	accepted  []*sip.Request
	dlgs      []*sipgo.DialogServerSession
	byes      chan string
}

func newFakeTrunk(t *testing.T, user, pass string) *fakeTrunk {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ft := &fakeTrunk{t: t, addr: conn.LocalAddr().(*net.UDPAddr), user: user, pass: pass, byes: make(chan string, 8)}
	ua, _ := sipgo.NewUA(sipgo.WithUserAgent("fake-trunk"))
	srv, _ := sipgo.NewServer(ua)
	client, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(ft.addr.String()))
	dua := &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: ft.addr.Port}}}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if !ft.authorized(req) {
			ft.mu.Lock()
			ft.challenge++
			ft.mu.Unlock()
			chal := digest.Challenge{Realm: "trunk.example", Nonce: randomHex(8), Algorithm: "MD5", QOP: []string{"auth"}}
			res := sip.NewResponseFromRequest(req, sip.StatusProxyAuthRequired, "Proxy Authentication Required", nil)
			res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
			_ = tx.Respond(res)
			return
		}
		dlg, err := dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		ft.mu.Lock()
		ft.accepted = append(ft.accepted, req)
		ft.dlgs = append(ft.dlgs, dlg)
		code := ft.code
		ft.mu.Unlock()
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		if code != 0 && code != 200 {
			_ = dlg.Respond(code, "No", nil)
			return
		}
		_ = dlg.RespondSDP(buildSDP("127.0.0.1", 40000, 7))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		for _, d := range ft.dlgs {
			if d.InviteRequest.CallID().Value() == req.CallID().Value() {
				_ = d.ReadAck(req, tx)
			}
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		ft.byes <- req.CallID().Value()
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	if err := waitServing(ua, ft.addr.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); <-done; ua.Close() })
	return ft
}

func (ft *fakeTrunk) authorized(req *sip.Request) bool {
	if req.GetHeader("Proxy-Authorization") == nil {
		return ft.pass == ""
	}
	return digestValid(req, "Proxy-Authorization", ft.user, ft.pass)
}

// digestValid checks the digest credentials in req's header hdr
// (Authorization or Proxy-Authorization) against user and pass.
func digestValid(req *sip.Request, hdr, user, pass string) bool {
	h := req.GetHeader(hdr)
	if h == nil {
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != user {
		return false
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: cred.URI, Username: user, Password: pass, Cnonce: cred.Cnonce, Count: cred.Nc})
	return err == nil && want.Response == cred.Response
}

func (ft *fakeTrunk) lastAccepted(t *testing.T) *sip.Request {
	t.Helper()
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if len(ft.accepted) == 0 {
		t.Fatal("the trunk accepted no INVITE")
	}
	return ft.accepted[len(ft.accepted)-1]
}

// startTrunkSwitch is a switch whose first trunk is ft (Country ES).
func startTrunkSwitch(t *testing.T, trunks ...Trunk) *swFixture {
	t.Helper()
	f := startSwitch(t)
	if err := f.sw.SetTrunks(trunks); err != nil {
		t.Fatal(err)
	}
	return f
}

// A national number goes out to the trunk in E.164, the trunk's 407 is
// answered with digest credentials, the caller id is in From and
// P-Asserted-Identity; the call rings, answers and hangs up with BYE.
func TestTrunkOutboundDigestAndE164(t *testing.T) {
	ft := newFakeTrunk(t, "acct1", "s3cret")
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: ft.addr.String(), Username: "acct1", Password: "s3cret", Country: "ES", CallerID: "910000000"})
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "911 23 45 67", From: "910 11 22 33", CallerName: "Ventas"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.ev.wait(t, leg, telephony.Ringing, evWait)
	if r.To != "911 23 45 67" || r.From != "910 11 22 33" {
		t.Errorf("Ringing from %q to %q, want the request's", r.From, r.To)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	inv := ft.lastAccepted(t)
	if inv.Recipient.User != "+34911234567" || inv.To().Address.User != "+34911234567" {
		t.Errorf("Request-URI %s, To %s: want +34911234567", inv.Recipient.String(), inv.To().Address.String())
	}
	if inv.From().Address.User != "+34910112233" || inv.From().DisplayName != "Ventas" {
		t.Errorf("From %s", inv.From().Value())
	}
	if pai := inv.GetHeader("P-Asserted-Identity"); pai == nil || !strings.Contains(pai.Value(), "sip:+34910112233@127.0.0.1") {
		t.Errorf("P-Asserted-Identity %v", pai)
	}
	ft.mu.Lock()
	challenged := ft.challenge
	ft.mu.Unlock()
	if challenged != 1 {
		t.Errorf("trunk challenged %d times, want 1", challenged)
	}
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-ft.byes:
		if id != inv.CallID().Value() {
			t.Errorf("BYE for %s", id)
		}
	case <-time.After(evWait):
		t.Fatal("the trunk got no BYE")
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseNormal {
		t.Errorf("cause %q", ev.Cause)
	}

	// No caller id in the request: the trunk's CallerID.
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:+34 911 000 111"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	if inv := ft.lastAccepted(t); inv.From().Address.User != "+34910000000" || inv.Recipient.User != "+34911000111" {
		t.Errorf("From %s to %s", inv.From().Value(), inv.Recipient.String())
	}
	_ = f.sw.Hangup(bg, leg, "")
}

// Wrong credentials: the trunk keeps challenging, the call fails.
func TestTrunkWrongPasswordFails(t *testing.T) {
	ft := newFakeTrunk(t, "acct1", "s3cret")
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: ft.addr.String(), Username: "acct1", Password: "wrong", Country: "ES"})
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "911234567"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseFailed {
		t.Errorf("cause %q, want failed", ev.Cause)
	}
	// No password at all: the first 407 fails the call.
	f2 := startTrunkSwitch(t, Trunk{Name: "carrier", Address: ft.addr.String(), Country: "ES"})
	leg, err = f2.sw.Originate(bg, telephony.OriginateRequest{To: "911234567"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := f2.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseFailed {
		t.Errorf("cause %q, want failed", ev.Cause)
	}
}

// A caller without a number: anonymous From, no P-Asserted-Identity.
func TestTrunkAnonymousAndBusy(t *testing.T) {
	ft := newFakeTrunk(t, "", "")
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: ft.addr.String()})
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "+34911234567"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	inv := ft.lastAccepted(t)
	if inv.From().Address.User != "anonymous" || inv.GetHeader("P-Asserted-Identity") != nil {
		t.Errorf("From %s, PAI %v", inv.From().Value(), inv.GetHeader("P-Asserted-Identity"))
	}
	_ = f.sw.Hangup(bg, leg, "")
	ft.mu.Lock()
	ft.code = sip.StatusBusyHere
	ft.mu.Unlock()
	leg, err = f.sw.Originate(bg, telephony.OriginateRequest{To: "+34911234567"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := f.ev.wait(t, leg, telephony.Hangup, evWait); ev.Cause != telephony.CauseBusy {
		t.Errorf("cause %q, want busy", ev.Cause)
	}
	if _, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "911234567"}); !errors.Is(err, telephony.ErrBadDestination) {
		t.Errorf("national number, trunk without Country: %v", err)
	}
}

// Calls from a trunk with a Country and DIDs: numbers reach Incoming in
// E.164; a number that is not one of its DIDs gets 404.
func TestTrunkInboundDIDs(t *testing.T) {
	cust := newDevice(t, "customer", "")
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: cust.addr.String(), Inbound: true, Country: "ES", DIDs: []string{"911234567"}})
	_, res := cust.invite(f.sw, "600111222", "911234567")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if in.From != "+34600111222" || in.To != "+34911234567" {
		t.Errorf("Incoming from %q to %q", in.From, in.To)
	}
	_ = f.sw.Answer(bg, in.Leg)
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	_, res = cust.invite(f.sw, "600111222", "911999999")
	err := waitErr(t, res, evWait)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusNotFound {
		t.Fatalf("INVITE to another number: %v, want 404", err)
	}
	// An outbound-only trunk's calls are refused.
	if err := f.sw.SetTrunks([]Trunk{{Name: "out", Address: cust.addr.String()}}); err != nil {
		t.Fatal(err)
	}
	_, res = cust.invite(f.sw, "600111222", "911234567")
	if err := waitErr(t, res, evWait); !errors.As(err, &de) || de.Res.StatusCode != sip.StatusForbidden {
		t.Fatalf("INVITE from an outbound-only trunk: %v, want 403", err)
	}
}

// SIPp as a carrier's trunk: 401 challenge, digest checked by SIPp, the
// number in E.164 and the asserted caller id checked on the wire.
func TestSIPpTrunkDigestAuth(t *testing.T) {
	requireSIPp(t)
	port := freeUDPPort(t)
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: fmt.Sprintf("127.0.0.1:%d", port), Username: "acct1", Password: "s3cret", Country: "ES"})
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	sipp := startSIPp(ctx, t, "sipp_uas_trunk_auth.xml", port, "-m", "1")
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "tel:911 23 45 67", From: "910112233"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	sipp.wait(t)
}

// A sip: URI goes straight to its host; a trunk at that host lends its
// credentials for the challenge.
func TestOriginateSIPURI(t *testing.T) {
	ft := newFakeTrunk(t, "acct1", "s3cret")
	f := startTrunkSwitch(t, Trunk{Name: "carrier", Address: "127.0.0.1:1", Username: "acct1", Password: "s3cret"})
	to := fmt.Sprintf("sip:bob@127.0.0.1:%d", ft.addr.Port)
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: to, From: "+34910000000"})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.ev.wait(t, leg, telephony.Ringing, evWait); r.To != to {
		t.Errorf("Ringing To %q", r.To)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	if inv := ft.lastAccepted(t); inv.Recipient.User != "bob" || inv.From().Address.User != "+34910000000" {
		t.Errorf("INVITE %s from %s", inv.Recipient.String(), inv.From().Value())
	}
	_ = f.sw.Hangup(bg, leg, "")
}
