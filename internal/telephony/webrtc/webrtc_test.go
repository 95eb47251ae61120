package webrtc

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	pion "github.com/pion/webrtc/v4"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// browser is the answering side of a test: a second pion PeerConnection
// built from the same API (so it too offers only loopback candidates),
// sending with a passthroughTrack and recording what it receives.
type browser struct {
	pc    *pion.PeerConnection
	track *passthroughTrack

	mu   sync.Mutex
	pkts [][]byte
}

func (b *browser) received() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.pkts...)
}

// recorder collects packets from the server endpoint's OnRTP.
type recorder struct {
	mu   sync.Mutex
	pkts [][]byte
}

func (r *recorder) add(p []byte) {
	r.mu.Lock()
	r.pkts = append(r.pkts, append([]byte(nil), p...))
	r.mu.Unlock()
}

func (r *recorder) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.pkts...)
}

// connect makes a server endpoint and a browser peer and connects them.
func connect(t *testing.T) (*Endpoint, *browser, *recorder) {
	t.Helper()
	api, err := NewAPI(Config{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rec := &recorder{}
	states := make(chan State, 8)
	e, err := api.NewEndpoint(Options{OnRTP: rec.add, OnState: func(s State) { states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := e.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, "PCMU/8000") || !strings.Contains(offer, "telephone-event/8000") {
		t.Fatalf("offer lacks PCMU or telephone-event:\n%s", offer)
	}
	for _, line := range strings.Split(offer, "\n") {
		if strings.HasPrefix(line, "a=candidate:") && !strings.Contains(line, " 127.0.0.1 ") {
			t.Fatalf("candidate outside loopback: %s", line)
		}
	}

	b := &browser{track: newPassthroughTrack()}
	b.pc, err = api.api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.pc.Close() })
	if _, err := b.pc.AddTrack(b.track); err != nil {
		t.Fatal(err)
	}
	b.pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			b.mu.Lock()
			b.pkts = append(b.pkts, append([]byte(nil), buf[:n]...))
			b.mu.Unlock()
		}
	})
	if err := b.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := pion.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := e.Accept(b.pc.LocalDescription().SDP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-states:
			if s == StateConnected {
				// The browser side may still be finishing DTLS.
				waitFor(t, "browser connected", func() bool { return b.pc.ConnectionState() == pion.PeerConnectionStateConnected })
				t.Logf("offer, answer, ICE and DTLS in %v", time.Since(start).Round(time.Millisecond))
				return e, b, rec
			}
			if s == StateFailed || s == StateClosed {
				t.Fatalf("endpoint %v before connecting", s)
			}
		case <-deadline:
			t.Fatalf("not connected after 10 s (state %v)", e.State())
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rtpPacket builds one RTP packet.
func rtpPacket(pt byte, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := make([]byte, 12+len(payload))
	p[0], p[1] = 0x80, pt
	if marker {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	copy(p[12:], payload)
	return p
}

// toneFrames is n 20 ms PCMU frames of freq.
func toneFrames(freq float64, n int) [][]byte {
	var phase float64
	out := make([][]byte, n)
	for i := range out {
		out[i] = audio.EncodePCMU(nil, audio.Tone(freq, 8000, audio.FrameSamples, &phase))
	}
	return out
}

// decode concatenates the PCMU payloads among pkts.
func decode(pkts [][]byte) []int16 {
	var pcm []int16
	for _, p := range pkts {
		if len(p) > 12 && p[1]&0x7f == PayloadPCMU {
			pcm = append(pcm, audio.DecodePCMU(nil, p[12:])...)
		}
	}
	return pcm
}

func pcmuCount(pkts [][]byte) int {
	n := 0
	for _, p := range pkts {
		if len(p) > 12 && p[1]&0x7f == PayloadPCMU {
			n++
		}
	}
	return n
}

func TestToneBothWaysAndDTMF(t *testing.T) {
	e, b, rec := connect(t)

	// Server → browser: 440 Hz. Browser → server: 1000 Hz, then a "5".
	var seqS, seqB uint16 = 1000, 7
	var tsS, tsB uint32 = 5000, 90
	server, br := toneFrames(440, 50), toneFrames(1000, 50)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range server {
		if err := e.WriteRTP(rtpPacket(PayloadPCMU, i == 0, seqS, tsS, 0x1234, server[i])); err != nil {
			t.Fatal(err)
		}
		if _, err := b.track.write(rtpPacket(PayloadPCMU, i == 0, seqB, tsB, 0x9999, br[i])); err != nil {
			t.Fatal(err)
		}
		seqS, seqB, tsS, tsB = seqS+1, seqB+1, tsS+160, tsB+160
		<-tick.C
	}
	for _, ev := range audio.Packets("5", 800) {
		if _, err := b.track.write(rtpPacket(PayloadEvent, false, seqB, tsB, 0x9999, ev.Marshal())); err != nil {
			t.Fatal(err)
		}
		seqB++
		<-tick.C
	}

	waitFor(t, "40 PCMU packets at the browser", func() bool { return pcmuCount(b.received()) >= 40 })
	if got := audio.Dominant(decode(b.received()), 440, 1000); got != 440 {
		t.Errorf("browser heard %v Hz, want 440", got)
	}
	var digits []string
	waitFor(t, "the digit at the server", func() bool {
		digits = nil
		var r audio.Receiver
		for _, p := range rec.all() {
			if p[1]&0x7f == PayloadEvent {
				if d, ok := r.Feed(binary.BigEndian.Uint32(p[4:]), p[12:]); ok {
					digits = append(digits, d)
				}
			}
		}
		return len(digits) > 0 && pcmuCount(rec.all()) >= 40
	})
	if strings.Join(digits, "") != "5" {
		t.Errorf("digits at the server: %q, want \"5\"", digits)
	}
	if got := audio.Dominant(decode(rec.all()), 440, 1000); got != 1000 {
		t.Errorf("server heard %v Hz, want 1000", got)
	}
	got, sent := e.Stats()
	if got < 40 || sent < 40 {
		t.Errorf("stats received=%d sent=%d, want ≥ 40 each", got, sent)
	}
}

// A change of source (another SSRC with its own numbering) continues one
// stream towards the browser; payload types other than PCMU and
// telephone-event are dropped; telephone-events keep their payload type.
func TestWriteRTPContinuousStream(t *testing.T) {
	e, b, _ := connect(t)
	tone := toneFrames(440, 1)[0]
	var seq uint16 = 65530 // wraps
	ts := uint32(0xFFFFFF00)
	for i := 0; i < 10; i++ {
		e.WriteRTP(rtpPacket(PayloadPCMU, false, seq, ts, 0xAAAA, tone))
		seq, ts = seq+1, ts+160
	}
	e.WriteRTP(rtpPacket(8, false, 1, 1, 0xAAAA, tone))       // PCMA: dropped
	e.WriteRTP(rtpPacket(13, false, 2, 2, 0xAAAA, []byte{1})) // CN: dropped
	seq, ts = 300, 777777
	for i := 0; i < 10; i++ {
		e.WriteRTP(rtpPacket(PayloadPCMU, false, seq, ts, 0xBBBB, tone))
		seq, ts = seq+1, ts+160
	}
	e.WriteRTP(rtpPacket(PayloadEvent, true, seq, ts, 0xBBBB, audio.Event{Digit: "1", Duration: 160}.Marshal()))

	waitFor(t, "21 packets", func() bool { return len(b.received()) >= 21 })
	time.Sleep(100 * time.Millisecond) // anything stray would arrive now
	pk := b.received()
	if len(pk) != 21 {
		t.Fatalf("browser got %d packets, want 21", len(pk))
	}
	ssrc := binary.BigEndian.Uint32(pk[0][8:])
	for i := 1; i < len(pk); i++ {
		if s := binary.BigEndian.Uint32(pk[i][8:]); s != ssrc {
			t.Fatalf("packet %d has SSRC %x, want one SSRC %x", i, s, ssrc)
		}
		ds := binary.BigEndian.Uint16(pk[i][2:]) - binary.BigEndian.Uint16(pk[i-1][2:])
		dt := binary.BigEndian.Uint32(pk[i][4:]) - binary.BigEndian.Uint32(pk[i-1][4:])
		if ds != 1 || dt != 160 {
			t.Errorf("packet %d: sequence +%d timestamp +%d, want +1 and +160", i, ds, dt)
		}
	}
	if pk[10][1]&0x80 == 0 {
		t.Error("the first packet of the new source lacks the marker bit")
	}
	if pt := pk[20][1] & 0x7f; pt != PayloadEvent {
		t.Errorf("telephone-event arrived with payload type %d", pt)
	}
}

func TestAcceptRejectsBadAnswers(t *testing.T) {
	api, err := NewAPI(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := api.NewEndpoint(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.Offer(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sdp := range []string{"", "hello", strings.Repeat("x", MaxSDP+1),
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=rtpmap:8 PCMA/8000\r\n",
		"v=0\r\nm=audio PCMU/8000 garbage\r\n"} {
		if err := e.Accept(sdp); err == nil {
			t.Errorf("Accept(%.40q) = nil, want an error", sdp)
		}
	}
}

func TestConfigChecks(t *testing.T) {
	for _, c := range []Config{{IPs: []string{"0.0.0.0"}}, {IPs: []string{"::1"}}, {IPs: []string{"nope"}},
		{PortMin: 10}, {PortMin: 20, PortMax: 10}} {
		if _, err := NewAPI(c); err == nil {
			t.Errorf("NewAPI(%+v) = nil error", c)
		}
	}
}

func TestCloseIsFinal(t *testing.T) {
	e, _, _ := connect(t)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.State() != StateClosed {
		t.Errorf("state %v after Close", e.State())
	}
	if err := e.WriteRTP(rtpPacket(PayloadPCMU, false, 1, 1, 1, make([]byte, 160))); err == nil {
		// pion may also just drop it; what matters is no panic and no send
		if _, sent := e.Stats(); sent != 0 {
			t.Errorf("sent %d packets after Close", sent)
		}
	}
}

// FuzzAccept: a page's answer is outside input; a bad one is an error,
// never a panic.
func FuzzAccept(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n")
	f.Add("m=audio PCMU/8000")
	f.Add("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=fingerprint:sha-256 00\r\na=ice-ufrag:x\r\na=ice-pwd:y\r\na=setup:active\r\na=mid:0\r\n")
	api, err := NewAPI(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sdp string) {
		e, err := api.NewEndpoint(Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := e.Offer(ctx); err != nil {
			t.Fatal(err)
		}
		_ = e.Accept(sdp)
	})
}
