package sip

import (
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Test peers' ears and mouths: what a devCall receives is decoded (PCMU
// samples, RFC 4733 digits, RTP headers) so that tests check audio content
// with audio.Power, not packet counts.

// G.711 helpers kept for TestPCMUCodec (the codec itself is audio's).
func linearToPCMU(s int16) byte { return audio.EncodeULaw(s) }
func pcmuToLinear(u byte) int16 { return audio.DecodeULaw(u) }

// ear records what a devCall receives.
type ear struct {
	mu      sync.Mutex
	pcm     []int16 // every PCMU payload, decoded, in arrival order
	digits  []byte
	recv    audio.Receiver
	headers []rtpHeader // of PCMU packets
	events  []rtpHeader // of telephone-event packets (PT 101)
	all     []rtpHeader // every packet, in arrival order
}

// listen attaches an ear to c (once; later calls return the same ear).
func listen(c *devCall) *ear {
	earsMu.Lock()
	defer earsMu.Unlock()
	if e := ears[c]; e != nil {
		return e
	}
	e := &ear{}
	f := func(pkt []byte) { e.hear(pkt) }
	c.tap.Store(&f)
	ears[c] = e
	return e
}

var (
	earsMu sync.Mutex
	ears   = map[*devCall]*ear{}
)

func (e *ear) hear(pkt []byte) {
	h, payload, ok := parseRTP(pkt)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, h)
	switch h.pt {
	case 0:
		e.headers = append(e.headers, h)
		for _, u := range payload {
			e.pcm = append(e.pcm, audio.DecodeULaw(u))
		}
	case DefaultEventPT:
		e.events = append(e.events, h)
		if d, ok := e.recv.Feed(h.ts, payload); ok {
			e.digits = append(e.digits, d...)
		}
	}
}

// pos is how many samples were heard so far.
func (e *ear) pos() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pcm)
}

// since returns a copy of the samples heard after pos p.
func (e *ear) since(p int) []int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p > len(e.pcm) {
		return nil
	}
	return append([]int16(nil), e.pcm[p:]...)
}

func (e *ear) heardDigits() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return string(e.digits)
}

// toneThreshold is the Goertzel power of a 1000-amplitude sine: a tone we
// send (amplitude 6000) is far above it after G.711 and mixing, silence
// and other frequencies far below.
var toneThreshold = func() float64 {
	return audio.Power(audio.Tone(1000, 1000, audio.FrameSamples, nil), 1000)
}()

// framesWith counts the 20 ms frames of pcm carrying freq.
func framesWith(pcm []int16, freq float64) int {
	n := 0
	for len(pcm) >= audio.FrameSamples {
		if audio.Power(pcm[:audio.FrameSamples], freq) >= toneThreshold {
			n++
		}
		pcm = pcm[audio.FrameSamples:]
	}
	return n
}

// waitTone polls until at least min frames of freq arrived after p, or d
// passes; it reports whether they did.
func (e *ear) waitTone(p int, freq float64, min int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if framesWith(e.since(p), freq) >= min {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mouth sends a test peer's audio with a continuous RTP stream.
type mouth struct {
	mu    sync.Mutex
	c     *devCall
	ssrc  uint32
	seq   uint16
	ts    uint32
	phase float64
}

func newMouth(c *devCall, ssrc uint32) *mouth { return &mouth{c: c, ssrc: ssrc} }

func (m *mouth) packet(pt byte, marker bool, ts uint32, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0], b[1] = 0x80, pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], m.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], m.ssrc)
	copy(b[12:], payload)
	m.seq++
	return b
}

// tone sends n 20 ms PCMU frames of a sine at freq, gap apart.
func (m *mouth) tone(freq float64, n int, gap time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var enc []byte
	for i := 0; i < n; i++ {
		pcm := audio.Tone(freq, 6000, audio.FrameSamples, &m.phase)
		enc = audio.EncodePCMU(enc, pcm)
		m.c.send(m.packet(0, false, m.ts, enc))
		m.ts += audio.FrameSamples
		if gap > 0 {
			time.Sleep(gap)
		}
	}
}

// digits presses keys as RFC 4733 events (payload type pt). With
// zeroFirst each press starts with a packet of duration 0, as SIPp's
// captures and some PBXs send.
func (m *mouth) digits(pt byte, keys string, zeroFirst bool, gap time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		evs := audio.Packets(string(k), 800)
		if zeroFirst {
			evs = append([]audio.Event{{Digit: string(k), Volume: 10}}, evs...)
		}
		for i, ev := range evs {
			m.c.send(m.packet(pt, i == 0, m.ts, ev.Marshal()))
			if gap > 0 {
				time.Sleep(gap)
			}
		}
		m.ts += 800 + 320
	}
}

// rig is a switch in the contract's world, driven directly: its customers,
// stations and their ears and mouths, with the switch's events collected.
type rig struct {
	t  *testing.T
	sw *Switch
	w  *sipWorld
	ev *events
}

func newRig(t *testing.T) *rig {
	sw, w := newSIPWorld(t)
	return &rig{t: t, sw: sw.(*Switch), w: w.(*sipWorld), ev: collect(sw.Events())}
}

// customer is an answered customer call.
func (r *rig) customer() string {
	r.t.Helper()
	from := "+3461" + randomHex(3)
	r.w.Call(from, "900100200")
	in := r.ev.waitMatch(r.t, func(ev telephony.Event) bool { return ev.Type == telephony.Incoming && ev.From == from })
	if err := r.sw.Answer(bg, in.Leg); err != nil {
		r.t.Fatal(err)
	}
	r.ev.wait(r.t, in.Leg, telephony.Answered, evWait)
	return in.Leg
}

// agent is an answered call to station worldStations[i].
func (r *rig) agent(i int) string {
	r.t.Helper()
	leg, err := r.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + worldStations[i]})
	if err != nil {
		r.t.Fatal(err)
	}
	r.ev.wait(r.t, leg, telephony.Ringing, evWait)
	r.w.AnswerPeer(leg)
	r.ev.wait(r.t, leg, telephony.Answered, evWait)
	return leg
}

// party is the far end of leg: what it hears and its voice.
func (r *rig) party(leg string) (*ear, *mouth) {
	r.t.Helper()
	c := r.w.peer(leg)
	if c == nil {
		r.t.Fatalf("no party on %s", leg)
	}
	return listen(c), r.w.mouth(c)
}

func (r *rig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// speakAll has each mouth say its frequency for n frames at the real
// pace, all at once, and returns when they are done.
func speakAll(n int, voices map[*mouth]float64) {
	var wg sync.WaitGroup
	for m, f := range voices {
		wg.Add(1)
		go func() { defer wg.Done(); m.tone(f, n, 20*time.Millisecond) }()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the mixer's queues drain
}

// waitMatch returns the first event for which match is true, within evWait.
func (e *events) waitMatch(t *testing.T, match func(telephony.Event) bool) telephony.Event {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for {
		e.mu.Lock()
		for _, ev := range e.all {
			if match(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no matching event within %v", evWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRelayMemory measures the relay path's memory per bridged call (two
// rtpLegs relaying to each other, packets flowing): Go heap and stacks
// only, the SIP dialogs not included. Run with CENTRALITA_SIP_RELAYMEM=N
// (pairs).
func TestRelayMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CENTRALITA_SIP_RELAYMEM"))
	if n <= 0 {
		t.Skip("set CENTRALITA_SIP_RELAYMEM=N to measure N bridged pairs")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pool := &portPool{}
	type pair struct {
		a, b   *rtpLeg
		pa, pb *net.UDPConn
	}
	pairs := make([]pair, n)
	for i := range pairs {
		p := &pairs[i]
		var err error
		if p.a, err = newRTPLeg(pool, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if p.b, err = newRTPLeg(pool, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		p.pa, _ = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		p.pb, _ = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		p.a.SetRemote(p.pa.LocalAddr().(*net.UDPAddr))
		p.b.SetRemote(p.pb.LocalAddr().(*net.UDPAddr))
		p.a.route.Store(&route{relay: p.b})
		p.b.route.Store(&route{relay: p.a})
	}
	pkt := make([]byte, 172)
	pkt[0] = 0x80
	for round := 0; round < 10; round++ {
		for _, p := range pairs {
			_, _ = p.pa.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.a.Port()})
			_, _ = p.pb.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.b.Port()})
		}
		time.Sleep(20 * time.Millisecond)
	}
	var relayed uint64
	for _, p := range pairs {
		relayed += p.a.relayed.Load() + p.b.relayed.Load()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapInuse) - int64(before.HeapInuse)
	stack := int64(after.StackInuse) - int64(before.StackInuse)
	t.Logf("%d bridged pairs, %d packets relayed: %d B heap + %d B stack per bridged call (media only)",
		n, relayed, heap/int64(n), stack/int64(n))
	for _, p := range pairs {
		p.a.Close()
		p.b.Close()
		p.pa.Close()
		p.pb.Close()
	}
}

// Packets of 30 ms and 10 ms reach the jitter queue as whole 20 ms frames,
// with no silence added.
func TestFramerKeepsOddPacketSizes(t *testing.T) {
	f := newFramer(16)
	var in []int16
	for i := 0; i < 960; i++ {
		in = append(in, int16(i+1))
	}
	for _, n := range []int{240, 80, 240, 160, 80, 160} {
		f.push(in[:n])
		in = in[n:]
	}
	if f.q.Len() != 6 || len(f.rest) != 0 {
		t.Fatalf("%d frames queued, %d samples left, want 6 and 0", f.q.Len(), len(f.rest))
	}
	frame := make([]int16, audio.FrameSamples)
	for i := 0; i < 6; i++ {
		f.q.Pop(frame)
		for j, v := range frame {
			if want := int16(i*160 + j + 1); v != want {
				t.Fatalf("frame %d sample %d: %d, want %d", i, j, v, want)
			}
		}
	}
}
