package sip

import (
	"errors"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Hold in a bridge: the held customer hears the music and not the agent,
// the agent receives nothing from the customer; Resume restores the
// bridge both ways.
func TestHoldInBridge(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a := r.customer(), r.agent(0)
	r.must(r.sw.Bridge(bg, c, a))
	r.must(r.sw.Hold(bg, c))
	r.ev.wait(t, c, telephony.Held, evWait)
	ec, mc := r.party(c)
	ea, ma := r.party(a)
	pc, pa, got := ec.pos(), ea.pos(), r.w.peer(a).got.Load()
	speakAll(30, map[*mouth]float64{mc: 400, ma: 800})
	checkHeard(t, "held customer", ec, pc, []float64{worldMusic}, []float64{800})
	checkHeard(t, "agent", ea, pa, nil, []float64{400, worldMusic})
	if n := r.w.peer(a).got.Load() - got; n > 0 {
		t.Errorf("agent received %d packets from a held customer", n)
	}

	r.must(r.sw.Resume(bg, c))
	r.ev.wait(t, c, telephony.Resumed, evWait)
	// skip the music still on its way when Resume returned: wait until
	// the customer's phone has received everything sent to it
	quiet(r.w.peer(c).got.Load)
	pc, pa = ec.pos(), ea.pos()
	speakAll(30, map[*mouth]float64{mc: 400, ma: 800})
	checkHeard(t, "resumed customer", ec, pc, []float64{800}, []float64{400, worldMusic})
	checkHeard(t, "agent", ea, pa, []float64{400}, []float64{800})
}

// Mute in a bridge: the agent's voice stops reaching the customer; the
// agent still hears the customer.
func TestMuteInBridge(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a := r.customer(), r.agent(0)
	r.must(r.sw.Bridge(bg, c, a))
	r.must(r.sw.Mute(bg, a, true))
	ec, mc := r.party(c)
	ea, ma := r.party(a)
	pc, pa := ec.pos(), ea.pos()
	speakAll(30, map[*mouth]float64{mc: 400, ma: 800})
	checkHeard(t, "customer", ec, pc, nil, []float64{800})
	checkHeard(t, "muted agent", ea, pa, []float64{400}, nil)
	r.must(r.sw.Mute(bg, a, false))
	pc = ec.pos()
	speakAll(30, map[*mouth]float64{ma: 800})
	checkHeard(t, "customer", ec, pc, []float64{800}, nil)
}

// Without an override the music on hold is the built-in "moh" prompt: the
// held party receives it, sample for sample through G.711.
func TestHoldPlaysBuiltInMusic(t *testing.T) {
	t.Parallel()
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	call, res := cust.invite(f.sw, "+34600111222", "900100200")
	e := listen(call)
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	if err := f.sw.Hold(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := f.sw.Hold(bg, in.Leg); !errors.Is(err, telephony.ErrState) {
		t.Errorf("hold twice: %v", err)
	}
	moh, err := audio.Prompt("moh")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.pos() < 25*audio.FrameSamples && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := e.since(0)
	if len(got) < 25*audio.FrameSamples {
		t.Fatalf("held party received %d samples", len(got))
	}
	// the first 0.5 s is the prompt's start, as G.711 carries it
	for i := 0; i < 25*audio.FrameSamples; i++ {
		want := audio.DecodeULaw(audio.EncodeULaw(moh[i]))
		if got[i] != want {
			t.Fatalf("sample %d: %d, want %d (moh through PCMU)", i, got[i], want)
		}
	}
}
