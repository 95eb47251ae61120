package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestToneContinuousPhase(t *testing.T) {
	var phase float64
	a := Tone(440, 10000, 100, &phase)
	b := Tone(440, 10000, 100, &phase)
	whole := Tone(440, 10000, 200, nil)
	joined := append(a, b...)
	for i := range whole {
		if d := int(whole[i]) - int(joined[i]); d > 1 || d < -1 {
			t.Fatalf("sample %d: %d in one go, %d in two calls", i, whole[i], joined[i])
		}
	}
	if Tone(440, 100, 0, nil) != nil {
		t.Fatal("n=0 should give nil")
	}
	peak := 0
	for _, s := range whole {
		peak = max(peak, int(s))
	}
	if peak < 9900 || peak > 10000 {
		t.Fatalf("peak %d, want about 10000", peak)
	}
}

func TestPowerNormalised(t *testing.T) {
	for _, n := range []int{160, 800, 8000} {
		for _, f := range []float64{350, 440, 1000, 1633, 3000} {
			p := Power(Tone(f, 32767, n, nil), f)
			if math.Abs(p-1) > 0.05 {
				t.Errorf("full-scale %v Hz over %d samples: power %.3f, want ≈ 1", f, n, p)
			}
		}
	}
	if p := Power(Tone(1000, 16384, 800, nil), 1000); math.Abs(p-0.25) > 0.02 {
		t.Errorf("half-scale: power %.3f, want ≈ 0.25", p)
	}
	if p := Power(make([]int16, 160), 1000); p != 0 {
		t.Errorf("silence: power %v", p)
	}
	if p := Power(nil, 1000); p != 0 {
		t.Errorf("empty: power %v", p)
	}
}

func TestDominant(t *testing.T) {
	cands := []float64{440, 1000}
	if f := Dominant(Tone(440, 8000, 160, nil), cands...); f != 440 {
		t.Errorf("440 Hz tone: dominant %v", f)
	}
	if f := Dominant(Tone(1000, 8000, 160, nil), cands...); f != 1000 {
		t.Errorf("1000 Hz tone: dominant %v", f)
	}
	if Dominant(Tone(1000, 8000, 160, nil)) != 0 {
		t.Error("no candidates should give 0")
	}
	// The tone's power stands far above the other frequency's even in noise
	// louder (in peak) than the tone itself, once it has gone through G.711.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range cands {
		pcm := Tone(f, 6000, 1600, nil)
		for i := range pcm {
			pcm[i] += int16(rng.IntN(16001) - 8000)
		}
		pcm = DecodePCMU(nil, EncodePCMU(nil, pcm))
		if got := Dominant(pcm, cands...); got != f {
			t.Errorf("%v Hz in noise: dominant %v", f, got)
		}
		other := 1440 - f
		if pt, po := Power(pcm, f), Power(pcm, other); pt < 10*po {
			t.Errorf("%v Hz in noise: power %.4f vs %.4f at %v Hz", f, pt, po, other)
		}
	}
}
