package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
)

// The directory is what production hands the registrar.
var _ Credentials = (*directory.Service)(nil)

// sipgo's transport logs a harmless "UDP ref went negative" warning when a
// test phone's client socket closes; keep its package logger to errors.
func TestMain(m *testing.M) {
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}

type fakeCreds map[string]string

func (f fakeCreds) StationPassword(_ context.Context, name string) (string, error) {
	if p, ok := f[name]; ok {
		return p, nil
	}
	return "", problem.NotFoundf("station %q not found", name) // what the directory returns
}

// syncBuffer is a log sink the server goroutines can write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	reg  *Registrar
	clk  *clock.Fake
	logs *syncBuffer
	port int
}

func startRegistrar(t *testing.T) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	reg, err := New(Config{
		Credentials: fakeCreds{"1001": "device", "1002": "other"},
		Clock:       clk,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.ListenUDP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return &fixture{reg: reg, clk: clk, logs: logs, port: reg.Addr().(*net.UDPAddr).Port}
}

// phone is a SIP user agent on 127.0.0.1 built on sipgo's client.
type phone struct {
	t      *testing.T
	f      *fixture
	client *sipgo.Client
	user   string
	callID string
	cseq   uint32
}

func newPhone(t *testing.T, f *fixture, user string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	return &phone{t: t, f: f, client: client, user: user, callID: randomHex(8) + "@test", cseq: 0}
}

// request builds a REGISTER (or method) with the given Contact values
// ("*" for the wildcard; "uri|k=v;k=v" for header params) and Expires
// header (negative: none).
func (p *phone) request(method sip.RequestMethod, contacts []string, expires int) *sip.Request {
	p.t.Helper()
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: p.f.port})
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: "127.0.0.1"}
	fromParams := sip.NewParams()
	fromParams.Add("tag", "t"+p.callID[:6])
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: fromParams})
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(p.callID)
	req.AppendHeader(&callID)
	p.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.cseq, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	for _, c := range contacts {
		if c == "*" {
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Wildcard: true}})
			continue
		}
		h := &sip.ContactHeader{}
		uri, params, _ := strings.Cut(c, "|") // header params after "|"
		if err := sip.ParseUri(uri, &h.Address); err != nil {
			p.t.Fatal(err)
		}
		if params != "" {
			h.Params = sip.NewParams()
			for _, kv := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(kv, "=")
				h.Params.Add(k, v)
			}
		}
		req.AppendHeader(h)
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	return req
}

func (p *phone) do(req *sip.Request) *sip.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// register sends REGISTER and, when challenged, answers with password.
func (p *phone) register(password string, contacts []string, expires int) *sip.Response {
	p.t.Helper()
	req := p.request(sip.REGISTER, contacts, expires)
	res := p.do(req)
	if res.StatusCode != sip.StatusUnauthorized {
		return res
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: password})
	if err != nil {
		p.t.Fatalf("REGISTER with auth: %v", err)
	}
	p.cseq = req.CSeq().SeqNo
	return res
}

func wantStatus(t *testing.T, res *sip.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("status %d %s, want %d\n%s", res.StatusCode, res.Reason, code, res)
	}
}

// contactExpires maps the Contact URIs of a 200 OK to their expires param.
func contactExpires(t *testing.T, res *sip.Response) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, h := range res.GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		v, ok := c.Params.Get("expires")
		if !ok {
			t.Fatalf("contact without expires: %s", c.Value())
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Address.String()] = n
	}
	return out
}

func lookupURIs(r *Registrar, station string) []string {
	var out []string
	for _, c := range r.Lookup(station) {
		out = append(out, c.URI)
	}
	return out
}

const contactA = "sip:1001@127.0.0.1:5062"
const contactB = "sip:1001@127.0.0.1:5064;transport=udp"

func TestChallengeThenCorrectPassword(t *testing.T) {
	f := startRegistrar(t)
	p := newPhone(t, f, "1001")

	res := p.do(p.request(sip.REGISTER, []string{contactA}, 300))
	wantStatus(t, res, sip.StatusUnauthorized)
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatal("401 without WWW-Authenticate")
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	if chal.Realm != "centralita" || chal.Nonce == "" || !chal.SupportsQOP("auth") || chal.Stale {
		t.Fatalf("challenge %+v", chal)
	}
	if len(f.reg.Lookup("1001")) != 0 {
		t.Fatal("bound before authentication")
	}

	res = p.register("device", []string{contactA}, 300)
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); len(got) != 1 || got[contactA] != 300 {
		t.Fatalf("200 contacts %v", got)
	}
	cs := f.reg.Lookup("1001")
	if len(cs) != 1 || cs[0].URI != contactA || !cs[0].Expires.Equal(f.clk.Now().Add(300*time.Second)) {
		t.Fatalf("lookup %+v", cs)
	}
	if !strings.HasPrefix(cs[0].Source, "127.0.0.1:") {
		t.Fatalf("source %q", cs[0].Source)
	}
	if got := f.reg.Stations(); len(got) != 1 || got[0] != "1001" {
		t.Fatalf("stations %v", got)
	}
}

func TestWrongPasswordAndUnknownStation(t *testing.T) {
	f := startRegistrar(t)

	res := newPhone(t, f, "1001").register("hunter2-wrong", []string{contactA}, 300)
	wantStatus(t, res, sip.StatusForbidden)
	res = newPhone(t, f, "9999").register("device", []string{"sip:9999@127.0.0.1:5070"}, 300)
	wantStatus(t, res, sip.StatusForbidden)

	if len(f.reg.Lookup("1001")) != 0 || len(f.reg.Lookup("9999")) != 0 {
		t.Fatal("a refused REGISTER created a binding")
	}
	logs := f.logs.String()
	for _, want := range []string{"wrong password", "station=1001", "unknown station", "station=9999"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"hunter2-wrong", "device", "response="} {
		if strings.Contains(logs, secret) {
			t.Errorf("log leaks %q:\n%s", secret, logs)
		}
	}

	// Credentials of another station for this address of record: 403.
	p := newPhone(t, f, "1001")
	req := p.request(sip.REGISTER, []string{contactA}, 300)
	res = p.do(req)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "1002", Password: "other"})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, res, sip.StatusForbidden)
}

func TestStaleAndUnknownNonceAreChallengedAgain(t *testing.T) {
	f := startRegistrar(t)
	p := newPhone(t, f, "1001")

	// A nonce this registrar never issued.
	req := p.request(sip.REGISTER, []string{contactA}, 300)
	cred, err := digest.Digest(&digest.Challenge{Realm: "centralita", Nonce: "0123456789abcdef", Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "REGISTER", URI: req.Recipient.Addr(), Username: "1001", Password: "device"})
	if err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	res := p.do(req)
	wantStatus(t, res, sip.StatusUnauthorized)

	// A nonce that aged past its lifetime: challenged again, marked stale.
	req = p.request(sip.REGISTER, []string{contactA}, 300)
	res = p.do(req)
	wantStatus(t, res, sip.StatusUnauthorized)
	f.clk.Advance(DefaultNonceTTL + time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "1001", Password: "device"})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, res, sip.StatusUnauthorized)
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	if !chal.Stale {
		t.Fatalf("aged nonce: challenge not stale: %+v", chal)
	}
	if len(f.reg.Lookup("1001")) != 0 {
		t.Fatal("stale nonce bound a contact")
	}
}

func TestExpiryAndRefreshOnFakeClock(t *testing.T) {
	f := startRegistrar(t)
	p := newPhone(t, f, "1001")

	wantStatus(t, p.register("device", []string{contactA}, 120), sip.StatusOK)
	f.clk.Advance(100 * time.Second)
	if len(f.reg.Lookup("1001")) != 1 {
		t.Fatal("expired early")
	}
	// Refresh (same Call-ID, higher CSeq) restarts the 120 s.
	res := p.register("device", []string{contactA}, 120)
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); got[contactA] != 120 {
		t.Fatalf("refresh answered %v", got)
	}
	f.clk.Advance(100 * time.Second)
	if len(f.reg.Lookup("1001")) != 1 {
		t.Fatal("refresh did not extend the binding")
	}
	// A query (REGISTER without Contact) lists the remaining time.
	res = p.register("device", nil, -1)
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); got[contactA] != 20 {
		t.Fatalf("query answered %v, want 20 s left", got)
	}
	f.clk.Advance(21 * time.Second)
	if got := f.reg.Lookup("1001"); len(got) != 0 {
		t.Fatalf("not expired: %+v", got)
	}
	if got := f.reg.Stations(); len(got) != 0 {
		t.Fatalf("stations after expiry %v", got)
	}
	if !strings.Contains(f.logs.String(), "sip registration expired") {
		t.Error("expiry not logged")
	}
}

func TestSeveralContactsAndUnregister(t *testing.T) {
	f := startRegistrar(t)
	desk := newPhone(t, f, "1001")
	soft := newPhone(t, f, "1001")
	const contactC = "sip:1001@127.0.0.1:5066"

	// Two contacts in one request, the second with its own expires param.
	res := desk.register("device", []string{contactA, contactB + "|expires=600"}, 300)
	wantStatus(t, res, sip.StatusOK)
	// A second device (another Call-ID) adds a third.
	res = soft.register("device", []string{contactC}, 900)
	wantStatus(t, res, sip.StatusOK)
	got := contactExpires(t, res)
	want := map[string]int{contactA: 300, contactB: 600, contactC: 900}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("200 lists %v, want %v", got, want)
	}
	if uris := lookupURIs(f.reg, "1001"); fmt.Sprint(uris) != fmt.Sprint([]string{contactA, contactB, contactC}) {
		t.Fatalf("lookup %v", uris)
	}
	f.clk.Advance(301 * time.Second)
	if uris := lookupURIs(f.reg, "1001"); fmt.Sprint(uris) != fmt.Sprint([]string{contactB, contactC}) {
		t.Fatalf("after 301 s lookup %v", uris)
	}

	// Unregister one contact with Expires: 0.
	res = desk.register("device", []string{contactB}, 0)
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); len(got) != 1 || got[contactC] != 599 {
		t.Fatalf("after unregister 200 lists %v", got)
	}
	// The wildcard needs Expires: 0.
	wantStatus(t, desk.register("device", []string{"*"}, 60), sip.StatusBadRequest)
	// Unregister everything with "*".
	res = desk.register("device", []string{"*"}, 0)
	wantStatus(t, res, sip.StatusOK)
	if n := len(res.GetHeaders("Contact")); n != 0 {
		t.Fatalf("200 after * lists %d contacts", n)
	}
	if len(f.reg.Lookup("1001")) != 0 {
		t.Fatal("* left bindings")
	}
}

func TestIntervalTooBriefAndClamp(t *testing.T) {
	f := startRegistrar(t)
	p := newPhone(t, f, "1001")

	res := p.register("device", []string{contactA}, 30)
	wantStatus(t, res, sip.StatusIntervalToBrief)
	if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
		t.Fatalf("423 Min-Expires %v", h)
	}
	res = p.register("device", []string{contactA + "|expires=59"}, 300)
	wantStatus(t, res, sip.StatusIntervalToBrief)
	if len(f.reg.Lookup("1001")) != 0 {
		t.Fatal("423 created a binding")
	}

	res = p.register("device", []string{contactA}, 7200)
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); got[contactA] != 3600 {
		t.Fatalf("not clamped to 3600: %v", got)
	}
	res = p.register("device", []string{contactB}, -1) // no Expires at all: the maximum
	wantStatus(t, res, sip.StatusOK)
	if got := contactExpires(t, res); got[contactB] != 3600 {
		t.Fatalf("default expiry %v", got)
	}
}

func TestOptions(t *testing.T) {
	f := startRegistrar(t)
	p := newPhone(t, f, "1001")
	res := p.do(p.request(sip.OPTIONS, nil, -1))
	wantStatus(t, res, sip.StatusOK)
	if h := res.GetHeader("Allow"); h == nil || !strings.Contains(h.Value(), "REGISTER") {
		t.Fatalf("Allow %v", h)
	}
}
