package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// startSIPEnv runs the demo with telephony sip: SIP on a free port of
// 127.0.0.1, any RTP port, a fake clock (ring and ACD timeouts never fire
// unless the test advances it; media runs on the wall clock).
func startSIPEnv(t *testing.T) *callEnv {
	t.Helper()
	cfg := config.Default(config.ModeDemo)
	cfg.Listen, cfg.Data, cfg.DemoTraffic = "127.0.0.1:0", t.TempDir(), 0
	cfg.Telephony, cfg.SIPListen, cfg.RTPPorts = config.TelephonySIP, "127.0.0.1:0", ""
	cfg.RateLimit = 100000
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := io.Discard
	if os.Getenv("CENTRALITA_TEST_LOG") != "" {
		w = os.Stderr
	}
	clk := newFakeClock()
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), app.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(ctx)
	})
	if a.SIPSwitch() == nil || a.Switch() != nil {
		t.Fatal("telephony sip did not build the SIP switch")
	}
	e := &testEnv{app: a, base: a.URL(), clock: clk, tokens: map[string]string{}, secrets: map[string]string{}, ids: map[string]string{}}
	e.http = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ce := &callEnv{testEnv: e}
	ce.ventas = e.findID(t, "/api/v2/routing/queues", "Ventas")
	ce.soporte = e.findID(t, "/api/v2/routing/queues", "Soporte")
	return ce
}

// eventually polls f (every 20 ms) until it returns "" or d passes; the
// last message says what was missing.
func eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- a minimal SIP peer: a phone that registers, or a carrier (trunk) ----

type peer struct {
	t      *testing.T
	user   string
	pass   string // what it registered with: the switch challenges its INVITEs
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dua    *sipgo.DialogUA
	addr   *net.UDPAddr
	invite chan *peerCall // INVITEs received
	// registrar answers the REGISTERs it receives (a carrier's registrar:
	// trunks_sip_test.go); nil: 405.
	registrar atomic.Pointer[sipgo.RequestHandler]
}

type peerCall struct {
	srv    *sipgo.DialogServerSession
	cli    *sipgo.DialogClientSession
	rtp    *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	got    atomic.Uint64 // RTP packets received
	answer chan bool
	ended  chan struct{}
	once   sync.Once
	stop   chan struct{}
}

func (c *peerCall) end() { c.once.Do(func() { close(c.ended) }) }

func newPeer(t *testing.T, user string) *peer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, user: user, addr: conn.LocalAddr().(*net.UDPAddr), invite: make(chan *peerCall, 4)}
	if p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("test-peer")); err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(p.ua)
	if err != nil {
		t.Fatal(err)
	}
	if p.client, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr.String())); err != nil {
		t.Fatal(err)
	}
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: p.addr.Port}}}
	var mu sync.Mutex
	calls := map[string]*peerCall{}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := p.dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		c := p.newCall()
		c.srv = dlg
		c.remote.Store(sdpAddr(req.Body()))
		mu.Lock()
		calls[req.CallID().Value()] = c
		mu.Unlock()
		dlg.OnState(func(s sip.DialogState) {
			if s == sip.DialogStateEnded {
				c.end()
			}
		})
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		p.invite <- c
		select {
		case ok := <-c.answer:
			if ok {
				_ = dlg.RespondSDP(c.sdp())
			} else {
				_ = dlg.Respond(603, "Decline", nil)
			}
		case <-dlg.Context().Done():
		}
	})
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		if h := p.registrar.Load(); h != nil {
			(*h)(req, tx)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		c := calls[req.CallID().Value()]
		mu.Unlock()
		if c != nil && c.srv != nil {
			_ = c.srv.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		c := calls[req.CallID().Value()]
		mu.Unlock()
		switch {
		case c == nil:
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Call", nil))
			return
		case c.srv != nil:
			_ = c.srv.ReadBye(req, tx)
		default:
			_ = c.cli.ReadBye(req, tx)
		}
		c.end()
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	for i := 0; ; i++ {
		if c, err := p.ua.TransportLayer().GetConnection("udp", p.addr.String()); err == nil && c != nil {
			break
		}
		if i > 2000 {
			t.Fatal("peer socket not serving")
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range calls {
			c.rtp.Close()
		}
		mu.Unlock()
		conn.Close()
		<-done
		p.ua.Close()
	})
	return p
}

func (p *peer) newCall() *peerCall {
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		p.t.Fatal(err)
	}
	c := &peerCall{rtp: rtp, answer: make(chan bool, 1), ended: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := rtp.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n >= 12 {
				c.got.Add(1)
			}
		}
	}()
	return c
}

func (c *peerCall) sdp() []byte {
	port := c.rtp.LocalAddr().(*net.UDPAddr).Port
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", port))
}

var (
	sdpConn  = regexp.MustCompile(`(?m)^c=IN IP4 ([0-9.]+)`)
	sdpAudio = regexp.MustCompile(`(?m)^m=audio (\d+) `)
)

func sdpAddr(body []byte) *net.UDPAddr {
	c, m := sdpConn.FindSubmatch(body), sdpAudio.FindSubmatch(body)
	if c == nil || m == nil {
		return nil
	}
	port, _ := strconv.Atoi(string(m[1]))
	return &net.UDPAddr{IP: net.ParseIP(string(c[1])), Port: port}
}

// sendTone sends a PCMU sine at freq, 20 ms a packet, until stopped.
func (c *peerCall) sendTone(freq float64) {
	go func() {
		ssrc := rand.Uint32()
		var phase float64
		pkt := make([]byte, 12+audio.FrameSamples)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.stop:
				return
			case <-c.ended:
				return
			case <-tick.C:
			}
			to := c.remote.Load()
			if to == nil {
				continue
			}
			pkt[0], pkt[1] = 0x80, 0
			binary.BigEndian.PutUint16(pkt[2:], uint16(i))
			binary.BigEndian.PutUint32(pkt[4:], uint32(i*audio.FrameSamples))
			binary.BigEndian.PutUint32(pkt[8:], ssrc)
			audio.EncodePCMU(pkt[12:], audio.Tone(freq, 8000, audio.FrameSamples, &phase))
			_, _ = c.rtp.WriteToUDP(pkt, to)
		}
	}()
}

// register registers the peer as station user with digest auth.
func (p *peer) register(t *testing.T, sw *net.UDPAddr, password string) {
	t.Helper()
	p.pass = password
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: sw.Port})
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: "127.0.0.1"}
	fp := sip.NewParams()
	fp.Add("tag", strconv.Itoa(rand.Int()))
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: "127.0.0.1", Port: p.addr.Port}})
	req.AppendHeader(sip.NewHeader("Expires", "300"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err == nil && res.StatusCode == sip.StatusUnauthorized {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: password})
	}
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("register %s: %v %v", p.user, err, res)
	}
}

// call sends an INVITE from `from` to `to` at the switch; answered gets
// the outcome of the INVITE.
func (p *peer) call(t *testing.T, sw *net.UDPAddr, from, to string) (*peerCall, chan error) {
	t.Helper()
	uri := sip.Uri{Scheme: "sip", User: to, Host: "127.0.0.1", Port: sw.Port}
	return p.callURI(t, uri, uri, from)
}

// callURI sends an INVITE to the Request-URI uri with To to.
func (p *peer) callURI(t *testing.T, uri, to sip.Uri, from string) (*peerCall, chan error) {
	t.Helper()
	c := p.newCall()
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", strconv.Itoa(rand.Int()))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(c.sdp())
	dlg, err := p.dua.WriteInvite(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c.cli = dlg
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.pass})
		if err == nil {
			c.remote.Store(sdpAddr(dlg.InviteResponse.Body()))
			err = dlg.Ack(context.Background())
		}
		res <- err
	}()
	return c, res
}

// TestSIPCallRecordedAndDownloaded is the whole path with telephony sip:
// a trunk created through the API, an agent's phone registered with
// digest auth, a customer calling the trunk's DID, the agent's phone
// ringing and answering, a recording started and stopped through the API,
// then listed and downloaded — by the agent and a supervisor, not by
// another agent.
func TestSIPCallRecordedAndDownloaded(t *testing.T) {
	ce := startSIPEnv(t)
	swAddr := ce.app.SIPSwitch().Addr()
	admin := ce.token(t, pAdmin)

	// The carrier: a trunk at the peer's exact address, one DID → Ventas.
	carrier := newPeer(t, "carrier")
	tr := ce.must(t, 200, "POST", "/api/v2/telephony/sip/trunks", admin, map[string]any{
		"name": "Test carrier", "address": carrier.addr.String(), "defaultCountry": "ES",
		"username": "acct", "password": "trunk-secret",
		"dids": []map[string]any{{"number": "910 000 099", "queueId": ce.ventas}},
	}).obj(t)
	if tr["hasPassword"] != true || bytes.Contains(ce.must(t, 200, "GET", "/api/v2/telephony/sip/trunks/"+tr["id"].(string), admin, nil).body, []byte("trunk-secret")) {
		t.Fatalf("trunk as returned: %v", tr)
	}
	eventually(t, 5*time.Second, func() string {
		for _, n := range ce.app.SIPSwitch().Trunks() {
			if n == "Test carrier" {
				return ""
			}
		}
		return fmt.Sprintf("the switch did not load the new trunk: %v", ce.app.SIPSwitch().Trunks())
	})

	// agent1's phone registers as 1001; agent1 logs into 1001 and goes On Queue.
	phone := newPeer(t, "1001")
	phone.register(t, swAddr, "device")
	agent := ce.onQueue(t, "agent1", "1001")
	agentTok := ce.token(t, "agent1")

	// A customer dials the DID as a national number.
	cust, answered := carrier.call(t, swAddr, "+34600111222", "910000099")
	if err := waitErrCh(answered, 10*time.Second); err != nil {
		t.Fatalf("the switch did not answer the customer: %v", err)
	}
	cust.sendTone(440)

	// The agent's phone rings.
	var ring *peerCall
	select {
	case ring = <-phone.invite:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent's phone never rang")
	}
	var cid string
	eventually(t, 5*time.Second, func() string {
		r := ce.must(t, 200, "GET", "/api/v2/conversations/calls", agentTok, nil)
		es := r.entities(t)
		if len(es) != 1 {
			return "agent1 has no call: " + r.String()
		}
		cid, _ = es[0]["id"].(string)
		return ""
	})
	c := ce.conv(t, cid)
	if c.state("agent", agent) != "alerting" || c.state("customer", "") != "connected" {
		t.Fatalf("while ringing: %v", c)
	}
	if cp := c.part("customer", ""); cp["ani"] != "tel:+34600111222" || cp["dnis"] != "tel:+34910000099" {
		t.Fatalf("customer numbers: ani %v dnis %v", cp["ani"], cp["dnis"])
	}
	ring.answer <- true
	ring.sendTone(1000)
	eventually(t, 5*time.Second, func() string {
		c = ce.conv(t, cid)
		if c.state("agent", agent) != "connected" || c.state("customer", "") != "connected" {
			return "not connected: " + c.String()
		}
		return ""
	})
	// Media flows both ways through the bridge.
	eventually(t, 5*time.Second, func() string {
		if cust.got.Load() < 10 || ring.got.Load() < 10 {
			return fmt.Sprintf("RTP received: customer %d, agent %d (remotes %v %v); %v", cust.got.Load(), ring.got.Load(), cust.remote.Load(), ring.remote.Load(), ce.conv(t, cid))
		}
		return ""
	})

	// Record the agent's side for a while, through the API.
	pid, _ := c.part("agent", agent)["id"].(string)
	partPath := "/api/v2/conversations/calls/" + cid + "/participants/" + pid
	ce.must(t, 202, "PATCH", partPath, agentTok, map[string]any{"recording": true})
	if c = ce.conv(t, cid); c.part("agent", agent)["recording"] != true {
		t.Fatalf("recording not shown: %v", c.part("agent", agent))
	}
	time.Sleep(1500 * time.Millisecond) // media runs on the wall clock
	ce.must(t, 202, "PATCH", partPath, agentTok, map[string]any{"recording": false})

	// The customer hangs up.
	if err := cust.cli.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if s := ce.conv(t, cid).state("customer", ""); s != "disconnected" {
			return "customer still " + s
		}
		return ""
	})

	// The recording is listed, for the agent and a supervisor.
	recPath := "/api/v2/conversations/" + cid + "/recordings"
	var rec map[string]any
	eventually(t, 5*time.Second, func() string {
		r := ce.must(t, 200, "GET", recPath, agentTok, nil)
		var list []map[string]any
		if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 {
			return "recordings: " + r.String()
		}
		rec = list[0]
		return ""
	})
	if rec["conversationId"] != cid || rec["participantId"] != pid || !uuidRE.MatchString(fmt.Sprint(rec["id"])) ||
		!dateRE.MatchString(fmt.Sprint(rec["startTime"])) || !dateRE.MatchString(fmt.Sprint(rec["endTime"])) {
		t.Fatalf("recording: %v", rec)
	}
	if ms, _ := rec["durationMs"].(float64); ms < 800 || ms > 10000 {
		t.Fatalf("durationMs %v for about 1.5 s recorded", rec["durationMs"])
	}
	uri := rec["mediaUris"].(map[string]any)["S"].(map[string]any)["mediaUri"].(string)
	ce.must(t, 200, "GET", recPath, ce.token(t, pSupervisor), nil)
	ce.must(t, 200, "GET", recPath+"/"+rec["id"].(string), ce.token(t, pSupervisor), nil)

	// Another agent may not list nor download it.
	other := ce.token(t, "agent2")
	ce.must(t, 403, "GET", recPath, other, nil)
	ce.must(t, 403, "GET", uri, other, nil)

	// The audio: a stereo WAV; left (the agent said) 1000 Hz, right (the agent heard) 440 Hz.
	wav := ce.must(t, 200, "GET", uri, ce.token(t, pSupervisor), nil)
	if ct := wav.header.Get("Content-Type"); ct != "audio/wav" {
		t.Fatalf("Content-Type %q", ct)
	}
	left, right, err := audio.ReadStereoWAV(bytes.NewReader(wav.body))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) < audio.SampleRate/2 {
		t.Fatalf("%d samples for about 1.5 s recorded", len(left))
	}
	if l, r := audio.Dominant(left, 440, 1000), audio.Dominant(right, 440, 1000); l != 1000 || r != 440 {
		t.Fatalf("dominant frequencies: left %v (want 1000, the agent), right %v (want 440, the customer)", l, r)
	}
	// Range requests work (the console's player seeks).
	rr := ce.send(t, "GET", uri, agentTok, nil, "Range", "bytes=0-3")
	if rr.status != 206 || string(rr.body) != "RIFF" {
		t.Fatalf("range: %s", rr)
	}
	// Once the trunk is deleted, the switch refuses the carrier's calls.
	ce.must(t, 204, "DELETE", "/api/v2/telephony/sip/trunks/"+tr["id"].(string), admin, nil)
	eventually(t, 5*time.Second, func() string {
		for _, n := range ce.app.SIPSwitch().Trunks() {
			if n == "Test carrier" {
				return "the switch still has the deleted trunk"
			}
		}
		return ""
	})
	_, refused := carrier.call(t, swAddr, "+34600111222", "910000099")
	if err := waitErrCh(refused, 10*time.Second); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a call from a deleted trunk: %v", err)
	}

	metrics := string(ce.send(t, "GET", "/metrics", "", nil).body)
	for _, want := range []string{"centralita_sip_registered_stations 1\n", "centralita_recordings_indexed_total 1\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func waitErrCh(ch chan error, d time.Duration) error {
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		return fmt.Errorf("no answer within %s", d)
	}
}

// TestSIPDemoNumbers: a softphone registered to the demo dials 2001 and
// reaches Ventas (agent1's phone rings), and 600 answers and echoes.
func TestSIPDemoNumbers(t *testing.T) {
	ce := startSIPEnv(t)
	swAddr := ce.app.SIPSwitch().Addr()
	agentPhone := newPeer(t, "1001")
	agentPhone.register(t, swAddr, "device")
	agent := ce.onQueue(t, "agent1", "1001")
	caller := newPeer(t, "1002")
	caller.register(t, swAddr, "device")

	call, answered := caller.call(t, swAddr, "1002", "2001")
	if err := waitErrCh(answered, 10*time.Second); err != nil {
		t.Fatalf("2001 not answered: %v", err)
	}
	var ring *peerCall
	select {
	case ring = <-agentPhone.invite:
	case <-time.After(10 * time.Second):
		t.Fatal("agent1's phone never rang for 2001")
	}
	var cid string
	eventually(t, 5*time.Second, func() string {
		es := ce.must(t, 200, "GET", "/api/v2/conversations/calls", ce.token(t, "agent1"), nil).entities(t)
		if len(es) == 0 {
			return "no conversation for agent1"
		}
		cid, _ = es[0]["id"].(string)
		return ""
	})
	c := ce.conv(t, cid)
	acd := c.part("acd", "")
	if acd == nil || acd["queue"].(map[string]any)["id"] != ce.ventas || c.part("customer", "")["ani"] != "tel:1002" || c.state("agent", agent) != "alerting" {
		t.Fatalf("2001 from 1002: %v (acd %v)", c, acd)
	}
	ring.answer <- false // declined: the call goes back to the queue
	if err := call.cli.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}

	echo, answered := caller.call(t, swAddr, "1002", "600")
	if err := waitErrCh(answered, 10*time.Second); err != nil {
		t.Fatalf("600 not answered: %v", err)
	}
	echo.sendTone(700)
	eventually(t, 10*time.Second, func() string {
		if n := echo.got.Load(); n < 50 {
			return fmt.Sprintf("600 sent back %d packets", n)
		}
		return ""
	})
	close(echo.stop)
	_ = echo.cli.Bye(context.Background())
}
