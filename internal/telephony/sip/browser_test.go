package sip

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/webrtc"
)

// ------------------------------------------------ a browser stand-in --

// testBrowsers is a BrowserPhones whose "page" is a second pion
// endpoint in the test (webrtc.Endpoint.Answer), answering when the
// switch's AnswerPhone asks.
type testBrowsers struct {
	t       *testing.T
	api     *webrtc.API
	station string

	mu    sync.Mutex
	calls map[string]*testBrowserCall
}

type testBrowserCall struct {
	call      BrowserCall
	srv, page *webrtc.Endpoint
	offer     chan string
	heard     pcmRecorder // what the page receives
	hungUp    atomic.Bool
}

func newTestBrowsers(t *testing.T, station string) *testBrowsers {
	api, err := webrtc.NewAPI(webrtc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &testBrowsers{t: t, api: api, station: station, calls: map[string]*testBrowserCall{}}
}

func (b *testBrowsers) Has(station string) bool { return station == b.station }

func (b *testBrowsers) Ring(station string, call BrowserCall) (BrowserLeg, error) {
	c := &testBrowserCall{call: call, offer: make(chan string, 1)}
	srv, err := b.api.NewEndpoint(webrtc.Options{OnRTP: call.FromBrowser, OnState: func(s webrtc.State) {
		switch s {
		case webrtc.StateConnected:
			call.Answered()
		case webrtc.StateFailed:
			call.Ended(telephony.CauseFailed)
		}
	}})
	if err != nil {
		return nil, err
	}
	c.srv = srv
	b.mu.Lock()
	b.calls[call.Leg] = c
	b.mu.Unlock()
	b.t.Cleanup(func() { c.Hangup() })
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sdp, err := srv.Offer(ctx)
		if err != nil {
			call.Ended(telephony.CauseFailed)
			return
		}
		c.offer <- sdp
		call.Ringing()
	}()
	return c, nil
}

func (b *testBrowsers) call(leg string) *testBrowserCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[leg]
}

func (b *testBrowsers) Answer(leg string) error {
	c := b.call(leg)
	if c == nil {
		return ErrNotBrowser
	}
	go func() {
		page, err := b.api.NewEndpoint(webrtc.Options{OnRTP: c.heard.add})
		if err != nil {
			b.t.Error(err)
			return
		}
		b.mu.Lock()
		c.page = page
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		offer := <-c.offer
		answer, err := page.Answer(ctx, offer)
		if err == nil {
			err = c.srv.Accept(answer)
		}
		if err != nil {
			b.t.Error(err)
		}
	}()
	return nil
}

func (c *testBrowserCall) WriteRTP(pkt []byte) error { return c.srv.WriteRTP(pkt) }

func (c *testBrowserCall) Hangup() {
	if c.hungUp.CompareAndSwap(false, true) {
		c.srv.Close()
	}
}

// pagePeer is the page's endpoint once answered.
func (b *testBrowsers) pagePeer(t *testing.T, leg string) *webrtc.Endpoint {
	t.Helper()
	var p *webrtc.Endpoint
	waitUntil(t, "the page's endpoint", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		if c := b.calls[leg]; c != nil {
			p = c.page
		}
		return p != nil
	})
	t.Cleanup(func() { p.Close() })
	return p
}

// ------------------------------------------------ a SIP customer --

// pcmRecorder decodes the PCMU packets it is given and counts
// telephone-events.
type pcmRecorder struct {
	mu     sync.Mutex
	pcm    []int16
	events int
	digits []string
	dtmf   audio.Receiver
}

func (r *pcmRecorder) add(pkt []byte) {
	h, payload, ok := parseRTP(pkt)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch h.pt {
	case 0:
		r.pcm = append(r.pcm, audio.DecodePCMU(nil, payload)...)
	case DefaultEventPT:
		r.events++
		if d, ok := r.dtmf.Feed(h.ts, payload); ok {
			r.digits = append(r.digits, d)
		}
	}
}

func (r *pcmRecorder) samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.pcm...)
}

// customer is a sipgo UAC calling the switch from a trunk address, with
// an RTP socket that records what it hears.
type customer struct {
	addr   *net.UDPAddr
	dua    *sipgo.DialogUA
	rtp    *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	heard  pcmRecorder
	dlg    *sipgo.DialogClientSession
}

func newCustomer(t *testing.T) *customer {
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
	c := &customer{addr: addr}
	c.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "customer", Host: "127.0.0.1", Port: addr.Port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if c.dlg != nil {
			_ = c.dlg.ReadBye(req, tx)
		}
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	if err := waitServing(ua, addr.String()); err != nil {
		t.Fatal(err)
	}
	c.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.rtp.Read(buf)
			if err != nil {
				return
			}
			c.heard.add(buf[:n])
		}
	}()
	t.Cleanup(func() {
		c.rtp.Close()
		conn.Close()
		<-done
		ua.Close()
	})
	return c
}

// call INVITEs the switch and waits for the answer (the test answers the
// Incoming leg meanwhile).
func (c *customer) call(t *testing.T, sw *Switch) chan error {
	uri := sip.Uri{Scheme: "sip", User: "900100200", Host: "127.0.0.1", Port: sw.Addr().Port}
	req := sip.NewRequest(sip.INVITE, uri)
	fp := sip.NewParams()
	fp.Add("tag", randomHex(4))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "+34600111222", Host: "127.0.0.1"}, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(buildSDP("127.0.0.1", c.rtp.LocalAddr().(*net.UDPAddr).Port, 1))
	dlg, err := c.dua.WriteInvite(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c.dlg = dlg
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if err == nil {
			if a, perr := parseSDP(dlg.InviteResponse.Body()); perr == nil {
				c.remote.Store(&net.UDPAddr{IP: a.IP, Port: a.Port})
			}
			err = dlg.Ack(context.Background())
		}
		res <- err
	}()
	return res
}

// ------------------------------------------------ helpers --

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// browserEvents collects a switch's events.
type browserEvents struct {
	mu  sync.Mutex
	evs []telephony.Event
}

func (e *browserEvents) wait(t *testing.T, leg string, typ telephony.EventType) telephony.Event {
	t.Helper()
	var got telephony.Event
	waitUntil(t, string(typ)+" on "+leg, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range e.evs {
			if (leg == "" || ev.Leg == leg) && ev.Type == typ {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

func startBrowserSwitch(t *testing.T, b BrowserPhones, trunk string) (*Switch, *browserEvents) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg, err := New(Config{Credentials: fakeCreds{"1001": "device"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Listen: "127.0.0.1:0", Registrar: reg, Browsers: b, Logger: log}
	if trunk != "" {
		opt.Trunks = []Trunk{{Name: "customers", Address: trunk, Inbound: true}}
	}
	sw, err := NewSwitch(opt)
	if err != nil {
		t.Fatal(err)
	}
	evs := &browserEvents{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sw.Events() {
			evs.mu.Lock()
			evs.evs = append(evs.evs, ev)
			evs.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		sw.Close()
		<-done
		reg.Close()
	})
	return sw, evs
}

func rtpFrame(pt byte, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := make([]byte, 12+len(payload))
	p[0], p[1] = 0x80, pt
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	copy(p[12:], payload)
	return p
}

// ------------------------------------------------ tests --

// A customer's SIP call bridged to an agent's browser phone: the page
// answers when the platform asks (AnswerPhone), tones go both ways, the
// page's DTMF becomes a DTMF event, and hanging up the browser leg tells
// the page.
func TestBrowserLegBridgedToSIPCustomer(t *testing.T) {
	b := newTestBrowsers(t, "web1")
	cust := newCustomer(t)
	sw, evs := startBrowserSwitch(t, b, cust.addr.String())

	res := cust.call(t, sw)
	in := evs.wait(t, "", telephony.Incoming)
	if err := sw.Answer(context.Background(), in.Leg); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("customer call not answered")
	}

	out, err := sw.Originate(context.Background(), telephony.OriginateRequest{To: "station:web1", From: "+34600111222", CallerName: "Customer"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, out, telephony.Ringing); ev.To != "station:web1" {
		t.Errorf("Ringing %+v", ev)
	}
	if c := b.call(out); c == nil || c.call.From != "+34600111222" || c.call.CallerName != "Customer" {
		t.Fatalf("browser call %+v", c)
	}
	if err := sw.AnswerPhone(out); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Answered)
	page := b.pagePeer(t, out)
	if err := sw.Bridge(context.Background(), in.Leg, out); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Bridged)

	// 1.2 s of 1000 Hz from the customer, 440 Hz from the page, then a "7"
	// from the page.
	var pc, pp float64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 60; i++ {
		seq, ts := uint16(i), uint32(i*160)
		if r := cust.remote.Load(); r != nil {
			cust.rtp.WriteToUDP(rtpFrame(0, seq, ts, 0xC0FFEE, audio.EncodePCMU(nil, audio.Tone(1000, 8000, 160, &pc))), r)
		}
		page.WriteRTP(rtpFrame(0, seq, ts, 0xB0B, audio.EncodePCMU(nil, audio.Tone(440, 8000, 160, &pp))))
		<-tick.C
	}
	for i, ev := range audio.Packets("7", 800) {
		page.WriteRTP(rtpFrame(DefaultEventPT, uint16(60+i), 60*160, 0xB0B, ev.Marshal()))
		<-tick.C
	}
	waitUntil(t, "0.8 s of audio at both ends", func() bool {
		return len(b.call(out).heard.samples()) >= 6400 && len(cust.heard.samples()) >= 6400
	})
	if f := audio.Dominant(b.call(out).heard.samples(), 440, 1000); f != 1000 {
		t.Errorf("the page heard %v Hz, want the customer's 1000", f)
	}
	if f := audio.Dominant(cust.heard.samples(), 440, 1000); f != 440 {
		t.Errorf("the customer heard %v Hz, want the page's 440", f)
	}
	if ev := evs.wait(t, out, telephony.DTMF); ev.Digit != "7" {
		t.Errorf("DTMF %+v, want 7", ev)
	}

	if err := sw.Hangup(context.Background(), out, ""); err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, out, telephony.Hangup); ev.Cause != telephony.CauseNormal {
		t.Errorf("hangup cause %q", ev.Cause)
	}
	evs.wait(t, in.Leg, telephony.Unbridged)
	waitUntil(t, "the page told of the hangup", b.call(out).hungUp.Load)
}

// The page hanging up ends the leg normally; a page that never answers
// rings out; a station without a browser goes to SIP; AnswerPhone is for
// browser legs only.
func TestBrowserLegEndings(t *testing.T) {
	b := newTestBrowsers(t, "web1")
	sw, evs := startBrowserSwitch(t, b, "")
	ctx := context.Background()

	out, err := sw.Originate(ctx, telephony.OriginateRequest{To: "station:web1"})
	if err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Ringing)
	b.call(out).call.Ended(telephony.CauseRejected)
	if ev := evs.wait(t, out, telephony.Hangup); ev.Cause != telephony.CauseRejected {
		t.Errorf("declined: cause %q", ev.Cause)
	}
	waitUntil(t, "the browser leg closed", b.call(out).hungUp.Load)

	// Ring timeout.
	out, err = sw.Originate(ctx, telephony.OriginateRequest{To: "station:web1", RingTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, out, telephony.Hangup); ev.Cause != telephony.CauseNoAnswer {
		t.Errorf("ring timeout: cause %q", ev.Cause)
	}

	// The switch cancels a ringing browser leg.
	out, err = sw.Originate(ctx, telephony.OriginateRequest{To: "station:web1"})
	if err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Ringing)
	if err := sw.Hangup(ctx, out, ""); err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, out, telephony.Hangup); ev.Cause != telephony.CauseCancelled {
		t.Errorf("cancelled: cause %q", ev.Cause)
	}
	waitUntil(t, "the page told of the cancel", b.call(out).hungUp.Load)

	// Answered, then the page hangs up.
	out, err = sw.Originate(ctx, telephony.OriginateRequest{To: "station:web1"})
	if err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Ringing)
	if err := sw.AnswerPhone(out); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, out, telephony.Answered)
	if err := sw.AnswerPhone(out); err != nil {
		t.Errorf("AnswerPhone on an answered leg: %v", err)
	}
	b.call(out).call.Ended(telephony.CauseNormal)
	if ev := evs.wait(t, out, telephony.Hangup); ev.Cause != telephony.CauseNormal {
		t.Errorf("page hung up: cause %q", ev.Cause)
	}

	// Station 1001 has no browser and no registered phone: SIP says failed.
	sipLeg, err := sw.Originate(ctx, telephony.OriginateRequest{To: "station:1001"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, sipLeg, telephony.Hangup); ev.Cause != telephony.CauseFailed {
		t.Errorf("sip station: cause %q", ev.Cause)
	}
	if b.call(sipLeg) != nil {
		t.Error("a SIP station rang the browser")
	}
	if err := sw.AnswerPhone("sip-999"); !errors.Is(err, telephony.ErrNoLeg) {
		t.Errorf("AnswerPhone(unknown) = %v", err)
	}
}
