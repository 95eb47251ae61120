package audio

import (
	"fmt"
	"testing"

	"github.com/centralita/centralita/internal/telephony"
)

// room gives each member its own tone, mixes one 100 ms block (five frames)
// and returns what each member heard.
func room(t *testing.T, m Matrix, freqs map[string]float64) map[string][]int16 {
	t.Helper()
	phases := map[string]*float64{}
	for id := range freqs {
		phases[id] = new(float64)
	}
	heard := map[string][]int16{}
	out := map[string][]int16{}
	for range 5 {
		in := map[string][]int16{}
		for id, f := range freqs {
			in[id] = Tone(f, 6000, FrameSamples, phases[id])
		}
		Mix(m, in, out)
		for id, fr := range out {
			heard[id] = append(heard[id], fr...)
		}
	}
	return heard
}

// hearsTone reports whether pcm carries freq at the level room sends it.
func hearsTone(pcm []int16, freq float64) bool {
	return Power(pcm, freq) > 0.01 // a 6000-amplitude tone gives ≈ 0.034
}

var toneOf = map[string]float64{"customer": 440, "agent": 1000, "supervisor": 1633, "third": 697}

func checkHearing(t *testing.T, heard map[string][]int16, want map[string][]string) {
	t.Helper()
	for listener, pcm := range heard {
		for speaker, f := range toneOf {
			if _, present := heard[speaker]; !present {
				continue
			}
			expect := false
			for _, w := range want[listener] {
				expect = expect || w == speaker
			}
			if got := hearsTone(pcm, f); got != expect {
				t.Errorf("%s hears %s: %v, want %v (power %.4f)", listener, speaker, got, expect, Power(pcm, f))
			}
		}
	}
}

func TestMixThreeFull(t *testing.T) {
	m := Roles([]Member{{ID: "customer", Mode: telephony.Full}, {ID: "agent", Mode: telephony.Full}, {ID: "third"}})
	heard := room(t, m, map[string]float64{"customer": 440, "agent": 1000, "third": 697})
	checkHearing(t, heard, map[string][]string{
		"customer": {"agent", "third"},
		"agent":    {"customer", "third"},
		"third":    {"customer", "agent"},
	})
}

func TestMixListen(t *testing.T) {
	m := Roles([]Member{{ID: "customer", Mode: telephony.Full}, {ID: "agent", Mode: telephony.Full}, {ID: "supervisor", Mode: telephony.Listen}})
	heard := room(t, m, map[string]float64{"customer": 440, "agent": 1000, "supervisor": 1633})
	checkHearing(t, heard, map[string][]string{
		"customer":   {"agent"},
		"agent":      {"customer"},
		"supervisor": {"customer", "agent"},
	})
}

// Whisper: the customer's frames must contain nothing of the supervisor,
// not merely little: with the supervisor's tone alone in the room, the
// customer gets exact silence.
func TestMixWhisper(t *testing.T) {
	m := Roles([]Member{{ID: "customer", Mode: telephony.Full}, {ID: "agent", Mode: telephony.Full}, {ID: "supervisor", Mode: telephony.Whisper, Coach: "agent"}})
	heard := room(t, m, map[string]float64{"customer": 440, "agent": 1000, "supervisor": 1633})
	checkHearing(t, heard, map[string][]string{
		"customer":   {"agent"},
		"agent":      {"customer", "supervisor"},
		"supervisor": {"customer", "agent"},
	})
	out := map[string][]int16{}
	Mix(m, map[string][]int16{"supervisor": Tone(1633, 32767, FrameSamples, nil)}, out)
	for i, v := range out["customer"] {
		if v != 0 {
			t.Fatalf("customer sample %d = %d: hears the whispering supervisor", i, v)
		}
	}
	if !hearsTone(out["agent"], 1633) {
		t.Fatal("agent does not hear the whisper")
	}
	// A coach who is not in the room: the whisper reaches nobody.
	m2 := Roles([]Member{{ID: "customer"}, {ID: "supervisor", Mode: telephony.Whisper, Coach: "gone"}})
	if m2.Hears("customer", "supervisor") || !m2.Hears("supervisor", "customer") {
		t.Fatal("whisper without its coach")
	}
}

func TestMixBargeIsFull(t *testing.T) {
	m := Roles([]Member{{ID: "customer", Mode: telephony.Full}, {ID: "agent", Mode: telephony.Full}, {ID: "supervisor", Mode: telephony.Full}})
	heard := room(t, m, map[string]float64{"customer": 440, "agent": 1000, "supervisor": 1633})
	checkHearing(t, heard, map[string][]string{
		"customer":   {"agent", "supervisor"},
		"agent":      {"customer", "supervisor"},
		"supervisor": {"customer", "agent"},
	})
}

func TestMatrix(t *testing.T) {
	m := Roles([]Member{{ID: "a"}, {ID: "b", Mode: telephony.Listen}, {ID: "c", Mode: "bogus"}, {ID: "a", Mode: telephony.Listen}})
	if got := m.Members(); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("members %v", got)
	}
	checks := []struct {
		l, s string
		want bool
	}{
		{"a", "a", false}, {"b", "a", true}, {"c", "a", true}, // a is Full (the duplicate is ignored)
		{"a", "b", false}, {"a", "c", false}, // listen, and unknown modes fail closed
		{"b", "c", false}, {"x", "a", false}, {"a", "x", false},
	}
	for _, c := range checks {
		if got := m.Hears(c.l, c.s); got != c.want {
			t.Errorf("Hears(%s, %s) = %v", c.l, c.s, got)
		}
	}
	m.SetHears("a", "b", true)
	m.SetHears("a", "a", true)
	if !m.Hears("a", "b") || m.Hears("a", "a") {
		t.Error("SetHears")
	}
}

func TestMixSaturatesAndReuses(t *testing.T) {
	m := Roles([]Member{{ID: "a"}, {ID: "b"}, {ID: "c"}})
	loud := make([]int16, FrameSamples)
	quiet := make([]int16, FrameSamples)
	for i := range loud {
		loud[i], quiet[i] = 30000, -30000
	}
	out := map[string][]int16{}
	Mix(m, map[string][]int16{"a": loud, "b": loud, "c": quiet}, out)
	if out["c"][0] != 32767 || out["a"][0] != 0 {
		t.Fatalf("c hears %d (want 32767), a hears %d (want 0)", out["c"][0], out["a"][0])
	}
	Mix(m, map[string][]int16{"a": quiet, "b": quiet, "c": loud[:10]}, out)
	if out["c"][0] != -32768 || out["a"][0] != 0 || out["a"][10] != -30000 {
		t.Fatalf("c hears %d, a hears %d/%d", out["c"][0], out["a"][0], out["a"][10])
	}
	in := map[string][]int16{"a": loud, "b": quiet, "c": loud}
	if n := testing.AllocsPerRun(100, func() { Mix(m, in, out) }); n != 0 {
		t.Fatalf("Mix allocates %v times per call with reused buffers", n)
	}
	for id, f := range out {
		if len(f) != FrameSamples {
			t.Fatalf("%s: frame of %d", id, len(f))
		}
	}
}

func benchMix(b *testing.B, n int) {
	var members []Member
	in := map[string][]int16{}
	for i := range n {
		id := fmt.Sprintf("leg%d", i)
		mode := telephony.Full
		if i == n-1 {
			mode = telephony.Whisper
		}
		members = append(members, Member{ID: id, Mode: mode, Coach: "leg0"})
		in[id] = Tone(300+float64(i)*50, 3000, FrameSamples, nil)
	}
	m := Roles(members)
	out := map[string][]int16{}
	Mix(m, in, out)
	b.ReportAllocs()
	for b.Loop() {
		Mix(m, in, out)
	}
}

func BenchmarkMix3(b *testing.B)  { benchMix(b, 3) }
func BenchmarkMix20(b *testing.B) { benchMix(b, 20) }
