package app_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/trunk"
)

// TestBrowserPhoneInChromium runs the program with the SIP switch and a
// "webrtc" station; tests/browser/browserphone.js has agent1 log into it
// from the softphone in headless Chromium (fake microphone). A SIP
// customer (here, from a trunk) calls the station: the page rings, agent1
// answers with the softphone's Answer, and audio flows both ways — the
// page measures the customer's tone with a WebAudio AnalyserNode; here the
// customer must receive non-silent PCMU from the browser and the "5" the
// agent presses on the keypad (RFC 4733). Then the customer hangs up.
// Skipped without node, Chromium or tests/browser/node_modules (failed
// with CENTRALITA_REQUIRE_PEERS=1).
func TestBrowserPhoneInChromium(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node not in PATH"
	case !fileExists("/usr/bin/chromium"):
		missing = "/usr/bin/chromium missing (apt-get install chromium)"
	case !fileExists(filepath.Join(dir, "node_modules", "playwright-core")):
		missing = "tests/browser/node_modules missing (run scripts/test, or npm ci in tests/browser)"
	}
	if missing != "" {
		if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
			t.Fatalf("CENTRALITA_REQUIRE_PEERS=1 and %s", missing)
		}
		t.Skip(missing)
	}

	cust := newSIPCustomer(t)
	a := startSIPApp(t)
	ctx := context.Background()
	const station, password = "2901", "web"
	if _, err := a.Directory.CreateStation(ctx, directory.StationInput{Name: station, Type: directory.StationWebRTC, Password: password}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Trunks.Create(ctx, trunk.Input{Name: "customers", Address: cust.addr.String()}); err != nil {
		t.Fatal(err)
	}

	shots := os.Getenv("CENTRALITA_BROWSER_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	nctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(nctx, node, "browserphone.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CENTRALITA_URL="+a.URL(), "SCREENSHOT_DIR="+shots, "BP_STATION="+station, "BP_PASSWORD="+password)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	var out strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		cancel()
		for range lines {
		}
		cmd.Wait()
		t.Fatalf(format+"\nbrowserphone.js output:\n%s\n%s", append(args, out.String(), stderr.String())...)
	}
	waitLine := func(want string) {
		t.Helper()
		for l := range lines {
			if l == want {
				return
			}
			if strings.HasPrefix(l, "{") { // the result: the script ended
				fail("browserphone.js ended before %s", want)
			}
		}
		fail("browserphone.js ended before %s", want)
	}

	waitLine("PHONE-READY")
	start := time.Now()
	answered := cust.call(t, a.SIPSwitch().Addr(), station)
	stopTone := cust.playTone(1000)
	defer stopTone()
	waitLine("PHONE-TALKED")
	t.Logf("answered and talked %s after the call", time.Since(start).Round(time.Millisecond))
	select {
	case err := <-answered:
		if err != nil {
			fail("the customer's call was not answered: %v", err)
		}
	default:
		fail("PHONE-TALKED before the customer's call was answered")
	}

	// What the customer got from the browser: the fake microphone's beep
	// (non-silent PCMU) and the keypad's 5.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pkts, loudest, digits := cust.heard()
		if pkts >= 50 && loudest > 500 && strings.Contains(digits, "5") {
			t.Logf("from the browser: %d PCMU packets, loudest 20 ms RMS %.0f, digits %q", pkts, loudest, digits)
			break
		}
		if time.Now().After(deadline) {
			fail("from the browser: %d PCMU packets, loudest 20 ms RMS %.0f, digits %q; want ≥ 50, > 500 and a 5", pkts, loudest, digits)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopTone()
	if err := cust.dlg.Bye(ctx); err != nil {
		fail("customer BYE: %v", err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browserphone.js failed: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	res := lastLine(out.String())
	if !strings.Contains(res, `"ok":true`) {
		t.Fatalf("browserphone.js exited 0 without an ok result:\n%s", out.String())
	}
	t.Logf("browserphone.js: %s", res)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

// startSIPApp runs the demo with the SIP switch on loopback.
func startSIPApp(t *testing.T) *app.App {
	t.Helper()
	cfg := config.Default(config.ModeDemo)
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = t.TempDir()
	cfg.Telephony = config.TelephonySIP
	cfg.SIPListen = "127.0.0.1:0"
	cfg.DemoTraffic, cfg.DemoAgents = 0, 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := io.Discard
	if os.Getenv("CENTRALITA_TEST_LOG") != "" {
		w = os.Stderr
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
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
	return a
}

// sipCustomer calls from a trunk's address and keeps what it hears.
type sipCustomer struct {
	addr   *net.UDPAddr
	dua    *sipgo.DialogUA
	dlg    *sipgo.DialogClientSession
	rtp    *net.UDPConn
	remote chan *net.UDPAddr

	mu      sync.Mutex
	pcmu    int
	loudest float64
	digits  string
	dtmf    audio.Receiver
}

func newSIPCustomer(t *testing.T) *sipCustomer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-customer"))
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
	c := &sipCustomer{addr: addr, remote: make(chan *net.UDPAddr, 1)}
	c.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "customer", Host: "127.0.0.1", Port: addr.Port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if c.dlg != nil {
			_ = c.dlg.ReadBye(req, tx)
		}
	})
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.ServeUDP(conn) }()
	for i := 0; ; i++ { // until sipgo knows the socket, so requests leave from it
		if cn, err := ua.TransportLayer().GetConnection("udp", addr.String()); err == nil && cn != nil {
			break
		}
		if i > 1000 {
			t.Fatal("customer SIP socket not serving")
		}
		time.Sleep(time.Millisecond)
	}
	c.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go c.readRTP()
	t.Cleanup(func() {
		c.rtp.Close()
		conn.Close()
		<-served
		ua.Close()
	})
	return c
}

func (c *sipCustomer) readRTP() {
	buf := make([]byte, 1500)
	var pcm []int16
	for {
		n, err := c.rtp.Read(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		off := 12 + 4*int(buf[0]&0x0f)
		if off > n {
			continue
		}
		payload := buf[off:n]
		c.mu.Lock()
		switch buf[1] & 0x7f {
		case 0:
			c.pcmu++
			pcm = audio.DecodePCMU(pcm, payload)
			var s float64
			for _, v := range pcm {
				s += float64(v) * float64(v)
			}
			if len(pcm) > 0 {
				c.loudest = math.Max(c.loudest, math.Sqrt(s/float64(len(pcm))))
			}
		case 101:
			if d, ok := c.dtmf.Feed(binary.BigEndian.Uint32(buf[4:]), payload); ok {
				c.digits += d
			}
		}
		c.mu.Unlock()
	}
}

func (c *sipCustomer) heard() (pcmu int, loudest float64, digits string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pcmu, c.loudest, c.digits
}

// call INVITEs user at the switch; the result arrives once answered.
func (c *sipCustomer) call(t *testing.T, sw *net.UDPAddr, user string) chan error {
	t.Helper()
	uri := sip.Uri{Scheme: "sip", User: user, Host: sw.IP.String(), Port: sw.Port}
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", "cust1")
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "+34600111222", Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	port := c.rtp.LocalAddr().(*net.UDPAddr).Port
	req.SetBody([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"))
	dlg, err := c.dua.WriteInvite(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c.dlg = dlg
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if err == nil {
			if a := mediaAddr(string(dlg.InviteResponse.Body())); a != nil {
				c.remote <- a
			}
			err = dlg.Ack(context.Background())
		}
		res <- err
	}()
	return res
}

// playTone sends a PCMU tone every 20 ms once the call is answered, until
// stopped.
func (c *sipCustomer) playTone(freq float64) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		var to *net.UDPAddr
		select {
		case to = <-c.remote:
		case <-done:
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var phase float64
		pkt := make([]byte, 12+160)
		for i := 0; ; i++ {
			pkt[0], pkt[1] = 0x80, 0
			binary.BigEndian.PutUint16(pkt[2:], uint16(i))
			binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
			binary.BigEndian.PutUint32(pkt[8:], 0xC0FFEE)
			audio.EncodePCMU(pkt[12:12], audio.Tone(freq, 12000, 160, &phase))
			c.rtp.WriteToUDP(pkt, to)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// mediaAddr reads c= and m=audio of an SDP.
func mediaAddr(sdp string) *net.UDPAddr {
	var ip net.IP
	port := 0
	for _, l := range strings.Split(sdp, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = net.ParseIP(v)
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				for _, ch := range f[0] {
					port = port*10 + int(ch-'0')
				}
			}
		}
	}
	if ip == nil || port == 0 {
		return nil
	}
	return &net.UDPAddr{IP: ip, Port: port}
}
