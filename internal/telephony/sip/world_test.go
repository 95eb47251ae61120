package sip

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/switchtest"
)

// sipWorld is the contract suite's world made of sipgo peers on 127.0.0.1:
// four agent devices (stations 2001-2004) that ring until AnswerPeer or
// RejectPeer and take one call at a time, a customer trunk and a number
// party behind a "pstn" trunk. Ring timeouts run on a fake clock; media
// on the wall clock. Settle waits until the switch has emitted nothing for
// a while.
//
// Hearing is judged on audio content: each leg's party speaks a sine of
// its own frequency (worldFreqs, by leg in order of first use) and Hears
// looks for that frequency in what the listener's party decodes. Music on
// hold is a 3 kHz sine (Options.Prompts["moh"]), far from every speaker's.
type sipWorld struct {
	t        *testing.T
	sw       *Switch
	clk      *clock.Fake
	stations map[string]*device
	cust     *device

	mu     sync.Mutex
	byLeg  map[string]*devCall
	freqs  map[string]float64 // a leg's party's voice
	mouths map[*devCall]*mouth
}

// worldFreqs are the parties' voices.
var worldFreqs = []float64{600, 900, 1200, 1500, 1800, 2100, 2400, 2700}

// worldMusic is the music on hold, worldEcho the echo test's greeting.
const worldMusic, worldEcho = 3000, 3300

// Hearing checks: a speaker sends hearBurst frames; the listener hears it
// when hearMin frames carrying its frequency arrive within hearWait of the
// switch having read the burst (a room's mixer holds up to roomSkim
// frames, 80 ms, plus a tick).
const (
	hearBurst = 8
	hearMin   = 3
	hearWait  = 500 * time.Millisecond
)

var worldStations = []string{"2001", "2002", "2003", "2004"}

func newSIPWorld(t *testing.T) (telephony.Switch, switchtest.World) {
	creds := fakeCreds{"2005": "x"}
	for _, s := range worldStations {
		creds[s] = "pw" + s
	}
	reg, err := New(Config{Credentials: creds, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cust := newDevice(t, "customer", "")
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	number := newDevice(t, "pstn", "manual") // the external number, behind the pstn trunk
	sw, err := NewSwitch(Options{Listen: "127.0.0.1:0", Registrar: reg, Trunks: worldTrunks(cust, number),
		Clock: clk, ToneDuration: 500 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
		RecordingDir: t.TempDir(), Prompts: map[string][]int16{
			"moh":  audio.Tone(worldMusic, 6000, audio.SampleRate, nil),
			"echo": audio.Tone(worldEcho, 6000, audio.SampleRate*3/10, nil),
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close(); reg.Close() })
	w := &sipWorld{t: t, sw: sw, clk: clk, cust: cust, stations: map[string]*device{worldNumberDevice: number},
		byLeg: map[string]*devCall{}, freqs: map[string]float64{}, mouths: map[*devCall]*mouth{}}
	for _, s := range worldStations {
		d := newDevice(t, s, "manual")
		d.register(sw, "pw"+s)
		w.stations[s] = d
	}
	return sw, w
}

func (w *sipWorld) Fixtures() switchtest.Fixtures {
	var st []string
	for _, s := range worldStations {
		st = append(st, telephony.StationPrefix+s)
	}
	return switchtest.Fixtures{Stations: st, Unregistered: "station:2005", Number: "tel:+34911234567",
		Inbound: "900100200", Prompt: "tone:440"}
}

func (w *sipWorld) Call(from, to string) {
	if from == "" {
		from = "anonymous"
	}
	call, res := w.cust.invite(w.sw, from, to)
	listen(call) // hear from the start (DigitsHeard, Hears)
	// Done when the switch has the call (Incoming is out) or refused it.
	id := call.cli.InviteRequest.CallID().Value()
	w.until(func(sw *Switch) bool { return len(res) > 0 || sw.byCallID[id] != nil })
}

// worldStep bounds how long a world action waits for the switch to take
// it in (a SIP round trip; generous for a loaded 2-core machine).
const worldStep = 10 * time.Second

// until polls cond (called with the switch's lock held) until it holds
// or worldStep passes: world actions return once the switch has taken
// them in, so the events they cause are out before Settle's quiet
// period starts. On timeout it returns and the contract's checks report
// what is missing.
func (w *sipWorld) until(cond func(sw *Switch) bool) {
	deadline := time.Now().Add(worldStep)
	for {
		w.sw.mu.Lock()
		ok := cond(w.sw)
		w.sw.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// gone reports whether leg has ended. Needs sw.mu.
func gone(sw *Switch, leg string) bool { return sw.legs[leg] == nil }

// peer finds the party's side of a leg by the SIP Call-ID.
func (w *sipWorld) peer(leg string) *devCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.byLeg[leg]; c != nil {
		return c
	}
	w.sw.mu.Lock()
	l := w.sw.legs[leg]
	w.sw.mu.Unlock()
	if l == nil || l.callID == "" {
		return nil
	}
	for _, d := range w.devices() {
		if c := d.call(l.callID); c != nil {
			listen(c)
			w.byLeg[leg] = c
			return c
		}
	}
	return nil
}

func (w *sipWorld) stationList() []*device {
	var out []*device
	for _, s := range worldStations {
		out = append(out, w.stations[s])
	}
	return out
}

func (w *sipWorld) AnswerPeer(leg string) {
	w.decide(leg, "answer")
	w.until(func(sw *Switch) bool { return gone(sw, leg) || sw.legs[leg].state == stAnswered })
}

func (w *sipWorld) RejectPeer(leg string) {
	w.decide(leg, "reject")
	w.until(func(sw *Switch) bool { return gone(sw, leg) })
}

func (w *sipWorld) decide(leg, what string) {
	c := w.peer(leg)
	if c == nil || c.srv == nil {
		w.t.Fatalf("world: no ringing device for %s", leg)
	}
	c.decide <- what
}

func (w *sipWorld) HangupPeer(leg string) {
	c := w.peer(leg)
	if c == nil {
		w.t.Fatalf("world: no party on %s", leg)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if c.cli != nil && w.answered(leg) {
		// The switch answered the customer: the ACK is on its way (the
		// switch may report Answered before our Ack returns); a BYE
		// needs the dialog confirmed.
		select {
		case <-c.settled:
		case <-ctx.Done():
		}
	}
	switch {
	case c.srv != nil:
		_ = c.srv.Bye(ctx)
		c.end()
	case c.cli != nil && c.up.Load():
		_ = c.cli.Bye(ctx)
		c.end()
	default: // customer still ringing: CANCEL
		_, _ = w.cust.client.Do(ctx, newCancel(c.cli.InviteRequest))
	}
	// The 200 to a BYE goes out before the switch ends the leg.
	w.until(func(sw *Switch) bool { return gone(sw, leg) })
}

// answered reports whether the switch answered leg (200 OK sent).
func (w *sipWorld) answered(leg string) bool {
	w.sw.mu.Lock()
	defer w.sw.mu.Unlock()
	l := w.sw.legs[leg]
	return l != nil && (l.state == stAnswering || l.state == stAnswered)
}

// mouth is the party's voice on c.
func (w *sipWorld) mouth(c *devCall) *mouth {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.mouths[c]
	if m == nil {
		m = newMouth(c, 0x5eed0000+uint32(len(w.mouths)))
		w.mouths[c] = m
	}
	return m
}

// freq is the frequency the party on leg speaks at.
func (w *sipWorld) freq(leg string) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.freqs[leg]
	if !ok {
		f = worldFreqs[len(w.freqs)%len(worldFreqs)]
		w.freqs[leg] = f
	}
	return f
}

// PressDigits: the party sends RFC 4733 events, each press starting with
// a zero-duration packet (the interop case diago misses).
func (w *sipWorld) PressDigits(leg, digits string) {
	c := w.peer(leg)
	if c == nil || c.remote.Load() == nil {
		w.t.Fatalf("world: no party with media on %s", leg)
	}
	w.sw.mu.Lock()
	l := w.sw.legs[leg]
	w.sw.mu.Unlock()
	if l == nil || l.med == nil {
		w.t.Fatalf("world: no media on %s", leg)
	}
	before := l.med.received.Load()
	w.mouth(c).digits(DefaultEventPT, digits, true, time.Millisecond)
	// Done when the switch has read every packet (its DTMF events follow
	// at once); each press is a zero-duration packet and audio.Packets.
	n := uint64(0)
	for _, k := range digits {
		n += uint64(1 + len(audio.Packets(string(k), 800)))
	}
	w.until(func(*Switch) bool { return l.med.received.Load() >= before+n })
}

// DigitsHeard waits until the switch has sent every digit queued for the
// leg (its player is idle) and the party's digits stop changing.
func (w *sipWorld) DigitsHeard(leg string) string {
	c := w.peer(leg)
	if c == nil {
		return ""
	}
	e := listen(c)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.sw.mu.Lock()
		l := w.sw.legs[leg]
		w.sw.mu.Unlock()
		if l == nil || l.med.pl.idle() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	last, stable := e.heardDigits(), time.Now()
	for time.Since(stable) < 60*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if d := e.heardDigits(); d != last {
			last, stable = d, time.Now()
		}
	}
	return last
}

// HearsMusic: the party receives the 3 kHz music on hold.
func (w *sipWorld) HearsMusic(leg string) bool {
	c := w.peer(leg)
	if c == nil {
		return false
	}
	e := listen(c)
	w.catchUp(leg, c)
	return e.waitTone(e.pos(), worldMusic, hearMin, hearWait)
}

// catchUp waits (at most 2 s) until the party on leg has received every
// packet the switch sent it so far: audio still in flight from before
// (the rest of an earlier burst, music from before a Resume) must not
// count as heard now.
func (w *sipWorld) catchUp(leg string, c *devCall) {
	w.sw.mu.Lock()
	l := w.sw.legs[leg]
	w.sw.mu.Unlock()
	if l == nil || l.med == nil {
		return
	}
	sent := l.med.sent.Load()
	deadline := time.Now().Add(2 * time.Second)
	for c.got.Load() < sent && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// Hears: the speaker's party sends a burst of its tone; the listener's
// party must receive frames carrying it.
func (w *sipWorld) Hears(listener, speaker string) bool {
	l, s := w.peer(listener), w.peer(speaker)
	if l == nil || s == nil || s.remote.Load() == nil {
		return false
	}
	w.sw.mu.Lock()
	sl := w.sw.legs[speaker]
	w.sw.mu.Unlock()
	if sl == nil || sl.med == nil {
		return false
	}
	e := listen(l)
	f := w.freq(speaker)
	w.catchUp(listener, l)
	p := e.pos()
	before := sl.med.received.Load()
	w.mouth(s).tone(f, hearBurst, time.Millisecond)
	// On a loaded machine the burst may reach the switch late: hearWait
	// counts from when the switch has read it (then relay or mixer and
	// the listener's ear are all that is left).
	w.until(func(*Switch) bool { return sl.med.received.Load() >= before+hearBurst })
	return e.waitTone(p, f, hearMin, hearWait)
}

// Advance moves the fake clock, then lets prompts that would have ended
// within d end on the wall clock (media is real time), then settles.
func (w *sipWorld) Advance(d time.Duration) {
	w.clk.Advance(d)
	deadline := time.Now().Add(min(d, 10*time.Second))
	for time.Now().Before(deadline) {
		playing := false
		w.sw.mu.Lock()
		for _, l := range w.sw.legs {
			playing = playing || len(l.plays) > 0
		}
		w.sw.mu.Unlock()
		if !playing {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Settle()
}

// settleQuiet is how long the switch must emit nothing for Settle to
// return: SIP and RTP on loopback answer within a few milliseconds, with
// a wide margin for a loaded machine.
const settleQuiet = 60 * time.Millisecond

// Settle waits (at most worldStep) until no leg waits for its party's
// answer to our INVITE (stOriginated: the 180 or a failure will come) or
// for the ACK of our 200 (stAnswering: Answered will come), the switch
// has emitted nothing new for settleQuiet, and the pump has handed every
// event to the channel.
func (w *sipWorld) Settle() {
	last, stable := uint64(1<<63), time.Now()
	deadline := time.Now().Add(worldStep)
	for time.Now().Before(deadline) {
		w.sw.mu.Lock()
		n := w.sw.emitted
		inFlight := false
		for _, l := range w.sw.legs {
			inFlight = inFlight || l.state == stOriginated || l.state == stAnswering
		}
		w.sw.mu.Unlock()
		if n != last || inFlight {
			last, stable = n, time.Now()
		} else if time.Since(stable) >= settleQuiet && w.sw.delivered.Load() == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestContract runs the whole telephony/switchtest contract against the
// SIP switch and its world of sipgo peers. The cases mostly wait on real
// time (media, SIP round trips), so they run in parallel (-parallel,
// GOMAXPROCS by default), each with its own switch and peers.
func TestContract(t *testing.T) {
	switchtest.Run(t, switchtest.HarnessFunc(func(t *testing.T) (telephony.Switch, switchtest.World) {
		t.Parallel()
		return newSIPWorld(t)
	}))
}
