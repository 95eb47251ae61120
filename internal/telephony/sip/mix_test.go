package sip

import (
	"testing"

	"github.com/centralita/centralita/internal/telephony"
)

// checkHeard fails unless each listener's party received frames of every
// frequency in hears and none of every frequency in deaf, since p.
func checkHeard(t *testing.T, who string, e *ear, p int, hears, deaf []float64) {
	t.Helper()
	pcm := e.since(p)
	for _, f := range hears {
		if n := framesWith(pcm, f); n < 20 {
			t.Errorf("%s: %d frames of %v Hz, want >= 20 (of %d frames)", who, n, f, len(pcm)/160)
		}
	}
	for _, f := range deaf {
		if n := framesWith(pcm, f); n > 0 {
			t.Errorf("%s: %d frames of %v Hz, want none", who, n, f)
		}
	}
}

// Three parties speak at once at 400, 800 and 1200 Hz in a conference:
// each receives the other two and never itself.
func TestConferenceMixesOthersNotSelf(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	x, y, z := r.customer(), r.agent(0), r.agent(1)
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	for _, l := range []string{x, y, z} {
		r.must(r.sw.Join(bg, conf, l, telephony.Full, ""))
		r.ev.wait(t, l, telephony.Joined, evWait)
	}
	ex, mx := r.party(x)
	ey, my := r.party(y)
	ez, mz := r.party(z)
	px, py, pz := ex.pos(), ey.pos(), ez.pos()
	speakAll(50, map[*mouth]float64{mx: 400, my: 800, mz: 1200})
	checkHeard(t, "x", ex, px, []float64{800, 1200}, []float64{400})
	checkHeard(t, "y", ey, py, []float64{400, 1200}, []float64{800})
	checkHeard(t, "z", ez, pz, []float64{400, 800}, []float64{1200})

	// The room's stream is one SSRC with consecutive sequence numbers.
	ex.mu.Lock()
	hs := append([]rtpHeader(nil), ex.headers...)
	ex.mu.Unlock()
	for i := 1; i < len(hs); i++ {
		if hs[i].ssrc != hs[0].ssrc || hs[i].seq != hs[i-1].seq+1 {
			t.Fatalf("packet %d: ssrc %x seq %d after ssrc %x seq %d", i, hs[i].ssrc, hs[i].seq, hs[i-1].ssrc, hs[i-1].seq)
		}
	}
}

// Whisper: the supervisor coaches the agent; while all three speak, the
// customer never receives the supervisor's frequency. Listen: nobody
// receives it.
func TestWhisperNeverReachesCustomer(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a, s := r.customer(), r.agent(0), r.agent(1)
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	r.must(r.sw.Join(bg, conf, c, telephony.Full, ""))
	r.must(r.sw.Join(bg, conf, a, telephony.Full, ""))
	r.must(r.sw.Join(bg, conf, s, telephony.Whisper, a))
	r.ev.wait(t, s, telephony.Joined, evWait)
	ec, mc := r.party(c)
	ea, ma := r.party(a)
	es, ms := r.party(s)
	pc, pa, ps := ec.pos(), ea.pos(), es.pos()
	speakAll(50, map[*mouth]float64{mc: 400, ma: 800, ms: 1200})
	checkHeard(t, "customer", ec, pc, []float64{800}, []float64{400, 1200})
	checkHeard(t, "agent", ea, pa, []float64{400, 1200}, []float64{800})
	checkHeard(t, "supervisor", es, ps, []float64{400, 800}, []float64{1200})

	r.must(r.sw.Join(bg, conf, s, telephony.Listen, ""))
	pc, pa, ps = ec.pos(), ea.pos(), es.pos()
	speakAll(40, map[*mouth]float64{mc: 400, ma: 800, ms: 1200})
	checkHeard(t, "customer", ec, pc, []float64{800}, []float64{400, 1200})
	checkHeard(t, "agent", ea, pa, []float64{400}, []float64{800, 1200})
	checkHeard(t, "supervisor", es, ps, []float64{400, 800}, []float64{1200})
}

// A muted member is heard by nobody but still hears the room; a held one
// hears the music and nothing else, and nobody hears it.
func TestConferenceMutedAndHeldMembers(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a, b := r.customer(), r.agent(0), r.agent(1)
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	for _, l := range []string{c, a, b} {
		r.must(r.sw.Join(bg, conf, l, telephony.Full, ""))
	}
	r.must(r.sw.Mute(bg, a, true))
	r.must(r.sw.Hold(bg, b))
	ec, mc := r.party(c)
	ea, ma := r.party(a)
	eb, mb := r.party(b)
	pc, pa, pb := ec.pos(), ea.pos(), eb.pos()
	speakAll(40, map[*mouth]float64{mc: 400, ma: 800, mb: 1200})
	checkHeard(t, "customer", ec, pc, nil, []float64{800, 1200, worldMusic})
	checkHeard(t, "muted agent", ea, pa, []float64{400}, []float64{800, 1200, worldMusic})
	checkHeard(t, "held agent", eb, pb, []float64{worldMusic}, []float64{400, 800})
}
