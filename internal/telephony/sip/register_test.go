package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
)

// fakeRegistrar is a carrier's registrar built on sipgo: it challenges
// every REGISTER without valid credentials (401, then 403 for wrong ones),
// answers the good ones 200 with our Contact and expires=grant, and hands
// each of them to the test. From the same socket it sends the carrier's
// INVITEs (call).
type fakeRegistrar struct {
	t          *testing.T
	addr       *net.UDPAddr
	user, pass string
	grant      int // seconds granted
	dua        *sipgo.DialogUA
	regs       chan seenRegister // every authorized REGISTER, in order

	mu         sync.Mutex
	challenges int
	refused    int
	mute       bool // answer nothing
	minExpires int  // > 0: shorter registrations get 423
	tooBrief   int  // 423s sent
}

// seenRegister is an authorized REGISTER as the registrar read it.
type seenRegister struct {
	expires int // the Expires header; -1 when absent
	contact sip.Uri
	aor     sip.Uri // To
	ruri    sip.Uri
	callID  string
	cseq    uint32
}

func newFakeRegistrar(t *testing.T, user, pass string, grant int) *fakeRegistrar {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fr := &fakeRegistrar{t: t, addr: conn.LocalAddr().(*net.UDPAddr), user: user, pass: pass, grant: grant, regs: make(chan seenRegister, 16)}
	ua, _ := sipgo.NewUA(sipgo.WithUserAgent("fake-registrar"))
	srv, _ := sipgo.NewServer(ua)
	client, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(fr.addr.String()))
	fr.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carrier", Host: "127.0.0.1", Port: fr.addr.Port}}}
	srv.OnRegister(fr.onRegister)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	if err := waitServing(ua, fr.addr.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); <-done; ua.Close() })
	return fr
}

func (fr *fakeRegistrar) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	fr.mu.Lock()
	mute := fr.mute
	fr.mu.Unlock()
	if mute {
		return
	}
	if req.GetHeader("Authorization") == nil {
		fr.mu.Lock()
		fr.challenges++
		fr.mu.Unlock()
		chal := digest.Challenge{Realm: "carrier.example", Nonce: randomHex(8), Algorithm: "MD5", QOP: []string{"auth"}}
		res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		_ = tx.Respond(res)
		return
	}
	if !digestValid(req, "Authorization", fr.user, fr.pass) {
		fr.mu.Lock()
		fr.refused++
		fr.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	seen := seenRegister{expires: -1, aor: req.To().Address, ruri: req.Recipient, callID: req.CallID().Value(), cseq: req.CSeq().SeqNo}
	if h := req.GetHeader("Expires"); h != nil {
		seen.expires, _ = strconv.Atoi(h.Value())
	}
	fr.mu.Lock()
	least := fr.minExpires
	brief := seen.expires > 0 && seen.expires < least
	if brief {
		fr.tooBrief++
	}
	fr.mu.Unlock()
	if brief {
		res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(least)))
		_ = tx.Respond(res)
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if c := req.Contact(); c != nil {
		seen.contact = c.Address
		if seen.expires != 0 {
			p := sip.NewParams()
			p.Add("expires", strconv.Itoa(fr.grant))
			res.AppendHeader(&sip.ContactHeader{Address: c.Address, Params: p})
		}
	}
	fr.regs <- seen // before the answer: whoever waited for it finds it here
	_ = tx.Respond(res)
}

// next returns the next authorized REGISTER.
func (fr *fakeRegistrar) next(t *testing.T) seenRegister {
	t.Helper()
	select {
	case r := <-fr.regs:
		return r
	case <-time.After(evWait):
		t.Fatal("the registrar got no REGISTER")
		return seenRegister{}
	}
}

// call sends the carrier's INVITE to uri with To user to and From user from.
func (fr *fakeRegistrar) call(uri sip.Uri, from, to string) chan error {
	fr.t.Helper()
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fr.t.Fatal(err)
	}
	fr.t.Cleanup(func() { rtp.Close() })
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", randomHex(4))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: "127.0.0.1"}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(buildSDP("127.0.0.1", rtp.LocalAddr().(*net.UDPAddr).Port, 1))
	dlg, err := fr.dua.WriteInvite(bg, req)
	if err != nil {
		fr.t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if err == nil {
			err = dlg.Ack(bg)
			fr.t.Cleanup(func() { _ = dlg.Bye(bg) })
		}
		res <- err
	}()
	return res
}

// newClockSwitch is a switch on clk whose logs go to the returned buffer.
func newClockSwitch(t *testing.T, clk clock.Clock, trunks ...Trunk) (*Switch, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	reg, err := New(Config{Credentials: noCredentials{}, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := NewSwitch(Options{Listen: "127.0.0.1:0", Registrar: reg, Trunks: trunks, Clock: clk,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close(); reg.Close() })
	return sw, logs
}

// waitRegistration polls (bounded) until the trunk's registration
// satisfies ok, and returns it.
func waitRegistration(t *testing.T, sw *Switch, trunk string, what string, ok func(Registration) bool) Registration {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for {
		r, found := sw.Registrations()[trunk]
		if found && ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration of %s: want %s, have %+v (found %t)", trunk, what, r, found)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func inState(state string) func(Registration) bool {
	return func(r Registration) bool { return r.State == state }
}

var regEpoch = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// A trunk with Register: challenged, it registers with digest as
// Username@host with our Contact and the expiry asked for; the 60 s
// granted are refreshed at 30 s on the same Call-ID; a change of its
// registration settings un-REGISTERs and registers anew; a change of
// anything else leaves the binding alone; removed, it un-REGISTERs.
func TestTrunkRegistration(t *testing.T) {
	clk := clock.NewFake(regEpoch)
	car := newFakeRegistrar(t, "acct", "s3cret", 60)
	sw, logs := newClockSwitch(t, clk)
	tr := Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "s3cret", Register: true}
	if err := sw.SetTrunks([]Trunk{tr}); err != nil {
		t.Fatal(err)
	}
	first := car.next(t)
	wantContact := fmt.Sprintf("sip:acct@127.0.0.1:%d", sw.Addr().Port)
	if first.expires != 3600 || first.contact.String() != wantContact || first.aor.String() != "sip:acct@127.0.0.1" ||
		first.ruri.User != "" || first.ruri.Port != car.addr.Port {
		t.Fatalf("REGISTER %s: To %s, Contact %s, Expires %d; want To sip:acct@127.0.0.1, Contact %s, Expires 3600",
			first.ruri.String(), first.aor.String(), first.contact.String(), first.expires, wantContact)
	}
	car.mu.Lock()
	challenged := car.challenges
	car.mu.Unlock()
	if challenged != 1 {
		t.Errorf("challenged %d times, want 1", challenged)
	}
	st := waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
	if !st.Expires.Equal(regEpoch.Add(60*time.Second)) || !st.Next.Equal(regEpoch.Add(30*time.Second)) || st.LastError != "" {
		t.Fatalf("registered %+v: want Expires in 60 s (granted), Next in 30 s", st)
	}

	// Refreshed halfway, same Call-ID, next CSeq.
	clk.Advance(29 * time.Second)
	select {
	case r := <-car.regs:
		t.Fatalf("a REGISTER before the refresh time: %+v", r)
	default:
	}
	clk.Advance(time.Second)
	refresh := car.next(t)
	if refresh.callID != first.callID || refresh.cseq <= first.cseq || refresh.expires != 3600 {
		t.Errorf("refresh Call-ID %s CSeq %d Expires %d, first Call-ID %s CSeq %d", refresh.callID, refresh.cseq, refresh.expires, first.callID, first.cseq)
	}
	waitRegistration(t, sw, "carrier", "refreshed until 90 s", func(r Registration) bool {
		return r.State == RegRegistered && r.Expires.Equal(regEpoch.Add(90*time.Second))
	})

	// Another country: nothing to do with the registration.
	sw.regs.mu.Lock()
	loop := sw.regs.loops["carrier"]
	sw.regs.mu.Unlock()
	other := tr
	other.Country = "ES"
	if err := sw.SetTrunks([]Trunk{other}); err != nil {
		t.Fatal(err)
	}
	sw.regs.mu.Lock()
	same := sw.regs.loops["carrier"] == loop
	sw.regs.mu.Unlock()
	if !same {
		t.Error("a change of the country restarted the registration")
	}

	// Another expiry: the old binding goes (Expires: 0), a new one follows.
	other.RegisterExpires = 120 * time.Second
	if err := sw.SetTrunks([]Trunk{other}); err != nil {
		t.Fatal(err)
	}
	gone := car.next(t)
	if gone.expires != 0 || gone.callID != first.callID || gone.contact.String() != wantContact {
		t.Errorf("un-REGISTER Expires %d Call-ID %s Contact %s", gone.expires, gone.callID, gone.contact.String())
	}
	again := car.next(t)
	if again.expires != 120 || again.callID == first.callID {
		t.Errorf("new REGISTER Expires %d Call-ID %s (old %s)", again.expires, again.callID, first.callID)
	}
	waitRegistration(t, sw, "carrier", "registered again", inState(RegRegistered))

	// Removed: un-REGISTERed, no longer listed.
	if err := sw.SetTrunks(nil); err != nil {
		t.Fatal(err)
	}
	if gone := car.next(t); gone.expires != 0 || gone.callID != again.callID {
		t.Errorf("un-REGISTER of the removed trunk: Expires %d Call-ID %s", gone.expires, gone.callID)
	}
	if rs := sw.Registrations(); len(rs) != 0 {
		t.Errorf("registrations after the trunk went: %+v", rs)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Error("the password is in the log")
	}
}

// A wrong password: the carrier's 403 makes the state failed with an
// error naming the registrar and the user (never the password); retries
// come 5, 10, 20 s apart. The right password registers.
func TestTrunkRegistrationFailsAndBacksOff(t *testing.T) {
	clk := clock.NewFake(regEpoch)
	car := newFakeRegistrar(t, "acct", "s3cret", 60)
	tr := Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "not-the-one", Register: true}
	sw, logs := newClockSwitch(t, clk, tr) // registering from the start (Options.Trunks)
	st := waitRegistration(t, sw, "carrier", "failed", inState(RegFailed))
	if !strings.Contains(st.LastError, car.addr.String()) || !strings.Contains(st.LastError, `"acct"`) ||
		!strings.Contains(st.LastError, "403") || !strings.Contains(st.LastError, "check the username and password") {
		t.Errorf("LastError %q does not say where, who and why", st.LastError)
	}
	if strings.Contains(st.LastError, "not-the-one") || strings.Contains(logs.String(), "not-the-one") {
		t.Error("the password shows in the error or the log")
	}
	if !st.Next.Equal(regEpoch.Add(5*time.Second)) || !st.Expires.IsZero() {
		t.Errorf("failed %+v: want the retry in 5 s", st)
	}
	now := regEpoch
	for _, d := range []time.Duration{5 * time.Second, 10 * time.Second} {
		clk.Advance(d)
		now = now.Add(d)
		waitRegistration(t, sw, "carrier", fmt.Sprintf("failed, retry in %v", 2*d), func(r Registration) bool {
			return r.State == RegFailed && r.Next.Equal(now.Add(2*d))
		})
	}
	car.mu.Lock()
	refused := car.refused
	car.mu.Unlock()
	if refused != 3 {
		t.Errorf("the carrier refused %d REGISTERs, want 3", refused)
	}

	tr.Password = "s3cret"
	if err := sw.SetTrunks([]Trunk{tr}); err != nil {
		t.Fatal(err)
	}
	if r := car.next(t); r.expires != 3600 {
		t.Errorf("REGISTER with the right password: Expires %d", r.expires)
	}
	waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
}

// A carrier that wants longer registrations (423 with Min-Expires) gets
// them at once, and on every refresh after.
func TestTrunkRegistrationIntervalTooBrief(t *testing.T) {
	clk := clock.NewFake(regEpoch)
	car := newFakeRegistrar(t, "acct", "s3cret", 120)
	car.mu.Lock() // its handler is already serving
	car.minExpires = 120
	car.mu.Unlock()
	sw, _ := newClockSwitch(t, clk, Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "s3cret",
		Register: true, RegisterExpires: 60 * time.Second})
	if r := car.next(t); r.expires != 120 {
		t.Fatalf("REGISTER after the 423 asks for %d s, want 120", r.expires)
	}
	waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
	clk.Advance(60 * time.Second)
	if r := car.next(t); r.expires != 120 {
		t.Errorf("the refresh asks for %d s, want 120", r.expires)
	}
	car.mu.Lock()
	n := car.tooBrief
	car.mu.Unlock()
	if n != 1 {
		t.Errorf("%d 423s, want 1", n)
	}
}

// Close un-REGISTERs every registered trunk before it returns, and its
// registration goroutines are gone.
func TestTrunkRegistrationClose(t *testing.T) {
	before := ownGoroutines()
	clk := clock.NewFake(regEpoch)
	car := newFakeRegistrar(t, "acct", "s3cret", 60)
	sw, _ := newClockSwitch(t, clk, Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "s3cret", Register: true})
	first := car.next(t)
	waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-car.regs: // Close waited for its answer
		if r.expires != 0 || r.callID != first.callID {
			t.Errorf("on Close: REGISTER Expires %d Call-ID %s", r.expires, r.callID)
		}
	default:
		t.Fatal("Close sent no un-REGISTER")
	}
	if rs := sw.Registrations(); len(rs) != 0 {
		t.Errorf("registrations after Close: %+v", rs)
	}
	waitNoNewGoroutines(t, before, 10*time.Second)
}

// A carrier that falls silent: Close gives up its un-REGISTER after
// unregisterTimeout (the binding lapses on its own) and says so. A
// REGISTER in flight does not hold Close up either.
func TestTrunkRegistrationSilentCarrier(t *testing.T) {
	car := newFakeRegistrar(t, "acct", "s3cret", 60)
	sw, logs := newClockSwitch(t, clock.NewFake(regEpoch), Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "s3cret", Register: true})
	car.next(t)
	waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
	car.mu.Lock()
	car.mute = true
	car.mu.Unlock()
	start := time.Now()
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > unregisterTimeout+time.Second {
		t.Errorf("Close took %v with a silent carrier", d)
	}
	if !strings.Contains(logs.String(), "un-REGISTER got no answer") {
		t.Errorf("the lost un-REGISTER is not logged:\n%s", logs)
	}

	conn, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sw, _ = newClockSwitch(t, clock.Real{}, Trunk{Name: "mute", Address: conn.LocalAddr().String(), Username: "acct", Password: "x", Register: true})
	if st := sw.Registrations()["mute"]; st.State != RegRegistering {
		t.Fatalf("state before any answer: %+v", st)
	}
	start = time.Now()
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with a REGISTER in flight", d)
	}
}

// The carrier of a registered trunk calls our Contact (Request-URI user =
// the trunk's Username) with the DID in To: the call comes in, To is the
// DID in E.164 (so it routes by DID), and the DID check reads To too.
func TestRegisteredTrunkInbound(t *testing.T) {
	clk := clock.NewFake(regEpoch)
	car := newFakeRegistrar(t, "acct", "s3cret", 60)
	sw, _ := newClockSwitch(t, clk, Trunk{Name: "carrier", Address: car.addr.String(), Username: "acct", Password: "s3cret",
		Register: true, Country: "ES", DIDs: []string{"911234567"}}) // Register alone accepts its calls: no Inbound
	ev := collect(sw.Events())
	contact := car.next(t).contact
	if contact.User != "acct" || contact.Port != sw.Addr().Port {
		t.Fatalf("registered Contact %s", contact.String())
	}
	res := car.call(contact, "600111222", "911234567")
	in := ev.wait(t, "", telephony.Incoming, evWait)
	if in.To != "+34911234567" || in.From != "+34600111222" {
		t.Errorf("Incoming from %q to %q, want +34600111222 to the DID +34911234567", in.From, in.To)
	}
	if err := sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("the carrier's call: %v", err)
	}
	ev.wait(t, in.Leg, telephony.Answered, evWait)

	// To another number than the trunk's DIDs: 404, as for any trunk.
	err := waitErr(t, car.call(contact, "600111222", "911999999"), evWait)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusNotFound {
		t.Fatalf("INVITE to a number not the trunk's: %v, want 404", err)
	}
	_ = sw.Hangup(bg, in.Leg, "")
}

func TestGrantedExpires(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "acct", Host: "127.0.0.1", Port: 5060}
	res := func(hdrs ...string) *sip.Response {
		raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n" +
			"Call-ID: x\r\nCSeq: 1 REGISTER\r\n" + strings.Join(hdrs, "") + "Content-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return msg.(*sip.Response)
	}
	for _, c := range []struct {
		res  *sip.Response
		want int
	}{
		{res(), 3600},
		{res("Expires: 120\r\n"), 120},
		{res("Contact: <sip:acct@127.0.0.1>;expires=90\r\n", "Expires: 120\r\n"), 90},
		{res("Contact: <sip:other@192.0.2.1>;expires=30\r\n", "Contact: <sip:acct@127.0.0.1:5060>;expires=45\r\n"), 45},
		{res("Contact: <sip:acct@192.0.2.7:40000>;expires=50\r\n"), 50}, // rewritten by the carrier, the only one
		{res("Contact: <sip:other@192.0.2.1>;expires=30\r\n", "Contact: <sip:x@192.0.2.2>;expires=40\r\n", "Expires: 70\r\n"), 70},
	} {
		if got := grantedExpires(c.res, ours, 3600); got != c.want {
			t.Errorf("%s: granted %d, want %d", c.res.String(), got, c.want)
		}
	}
}

func TestPrepareRegisteringTrunks(t *testing.T) {
	got, err := prepareTrunks([]Trunk{{Name: "a", Address: "192.0.2.1", Username: "u", Register: true}})
	if err != nil || got[0].RegisterExpires != DefaultRegisterExpires {
		t.Fatalf("default expiry: %+v %v", got, err)
	}
	for _, bad := range []Trunk{
		{Name: "a", Address: "192.0.2.1", Register: true},
		{Name: "a", Address: "192.0.2.1", Username: "u", Register: true, RegisterExpires: 25 * time.Hour},
		{Name: "a", Address: "192.0.2.1", Username: "u", Register: true, RegisterExpires: -time.Second},
	} {
		if _, err := prepareTrunks([]Trunk{bad}); err == nil || !strings.Contains(err.Error(), `sip: trunk 0 ("a")`) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	twins := []Trunk{{Name: "a", Address: "192.0.2.1", Username: "u", Register: true}, {Name: "b", Address: "192.0.2.1", Username: "u", Register: true}}
	if _, err := prepareTrunks(twins); err == nil || !strings.Contains(err.Error(), `trunk 1 ("b"): registers as u@192.0.2.1 like trunk "a"`) {
		t.Errorf("two trunks registering one binding: %v", err)
	}
	twins[1].Register = false // the same account without registering is fine
	if _, err := prepareTrunks(twins); err != nil {
		t.Error(err)
	}
}

// SIPp as the carrier's registrar (testdata/sipp_uas_registrar.xml): it
// checks our digest with its own implementation on the REGISTER, on the
// refresh the switch's clock brings, and on the un-REGISTER of the removed
// trunk, and the headers of each.
func TestSIPpTrunkRegisters(t *testing.T) {
	requireSIPp(t)
	port := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	sipp := startSIPp(ctx, t, "sipp_uas_registrar.xml", port, "-m", "1")

	clk := clock.NewFake(regEpoch)
	sw, _ := newClockSwitch(t, clk)
	tr := Trunk{Name: "carrier", Address: fmt.Sprintf("127.0.0.1:%d", port), Username: "acct", Password: "s3cret", Register: true}
	if err := sw.SetTrunks([]Trunk{tr}); err != nil {
		t.Fatal(err)
	}
	st := waitRegistration(t, sw, "carrier", "registered", inState(RegRegistered))
	if !st.Expires.Equal(regEpoch.Add(60 * time.Second)) {
		t.Errorf("registered until %v, want the 60 s SIPp granted", st.Expires)
	}
	clk.Advance(30 * time.Second)
	waitRegistration(t, sw, "carrier", "refreshed until 90 s", func(r Registration) bool {
		return r.State == RegRegistered && r.Expires.Equal(regEpoch.Add(90*time.Second))
	})
	if err := sw.SetTrunks(nil); err != nil {
		t.Fatal(err)
	}
	sipp.wait(t)
}
