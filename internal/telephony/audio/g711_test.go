package audio

import (
	"math"
	"testing"
)

func TestULawKnownValues(t *testing.T) {
	cases := []struct {
		pcm  int16
		ulaw byte
	}{
		{0, 0xFF}, {-1, 0x7F}, {1, 0xFF}, {3, 0xFF}, {4, 0xFE}, {8, 0xFE},
		{32767, 0x80}, {-32768, 0x00}, {32635, 0x80}, {-32635, 0x00},
		{1000, 0xCE}, {-1000, 0x4E}, {100, 0xF2},
	}
	for _, c := range cases {
		if got := EncodeULaw(c.pcm); got != c.ulaw {
			t.Errorf("EncodeULaw(%d) = %#02x, want %#02x", c.pcm, got, c.ulaw)
		}
	}
	dec := []struct {
		ulaw byte
		pcm  int16
	}{{0xFF, 0}, {0x7F, 0}, {0x80, 32124}, {0x00, -32124}, {0xCE, 988}, {0x4E, -988}}
	for _, c := range dec {
		if got := DecodeULaw(c.ulaw); got != c.pcm {
			t.Errorf("DecodeULaw(%#02x) = %d, want %d", c.ulaw, got, c.pcm)
		}
	}
}

// Every byte decodes to a value that encodes back to the same byte (0x7F,
// negative zero, is the one exception: it decodes to 0, which codes as 0xFF).
func TestULawByteRoundTrip(t *testing.T) {
	for i := 0; i < 256; i++ {
		u := byte(i)
		got := EncodeULaw(DecodeULaw(u))
		if got != u && u != 0x7F {
			t.Errorf("byte %#02x -> %d -> %#02x", u, DecodeULaw(u), got)
		}
	}
}

// The quantisation error of µ-law grows with the segment: half a step, a step
// being 8<<segment in 16-bit units (plus the clip at the top).
func TestULawRoundTripErrorBound(t *testing.T) {
	for s := -32768; s <= 32767; s++ {
		got := int(DecodeULaw(EncodeULaw(int16(s))))
		mag := s
		if mag < 0 {
			mag = -mag
		}
		if mag > ulawClip {
			mag = ulawClip
		}
		seg := 0
		for v := (mag + ulawBias) >> 8; v > 0; v >>= 1 {
			seg++
		}
		bound := 4 << seg // half of the step 8<<seg
		if s > ulawClip || s < -ulawClip {
			bound += int(math.Abs(float64(s))) - ulawClip
		}
		if d := got - s; d > bound || d < -bound {
			t.Fatalf("sample %d -> %d: error %d > %d", s, got, d, bound)
		}
	}
}

func TestPCMUSliceReuse(t *testing.T) {
	pcm := Tone(1000, 8000, FrameSamples, nil)
	buf := make([]byte, 0, FrameSamples)
	out := EncodePCMU(buf, pcm)
	if len(out) != FrameSamples || &out[0] != &buf[:1][0] {
		t.Fatalf("EncodePCMU did not reuse dst (len %d)", len(out))
	}
	out2 := EncodePCMU(out, pcm) // a full-length dst works too
	if len(out2) != FrameSamples {
		t.Fatalf("len %d", len(out2))
	}
	dec := DecodePCMU(make([]int16, FrameSamples), out)
	if len(dec) != FrameSamples {
		t.Fatalf("decoded %d samples", len(dec))
	}
	for i := range pcm {
		if d := int(dec[i]) - int(pcm[i]); d > 256 || d < -256 {
			t.Fatalf("sample %d: %d -> %d", i, pcm[i], dec[i])
		}
	}
	if got := EncodePCMU(nil, pcm[:3]); len(got) != 3 {
		t.Fatalf("nil dst: len %d", len(got))
	}
	if n := testing.AllocsPerRun(100, func() { out = EncodePCMU(out, pcm); dec = DecodePCMU(dec, out) }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

func BenchmarkEncodePCMU(b *testing.B) {
	pcm := Tone(1000, 12000, FrameSamples, nil)
	dst := make([]byte, FrameSamples)
	b.SetBytes(FrameSamples * 2)
	for b.Loop() {
		dst = EncodePCMU(dst, pcm)
	}
}

func BenchmarkDecodePCMU(b *testing.B) {
	src := EncodePCMU(nil, Tone(1000, 12000, FrameSamples, nil))
	dst := make([]int16, FrameSamples)
	b.SetBytes(FrameSamples)
	for b.Loop() {
		dst = DecodePCMU(dst, src)
	}
}

// The table and the arithmetic agree on every sample.
func TestULawEncodeTable(t *testing.T) {
	for i := range 65536 {
		s := int16(uint16(i))
		if EncodeULaw(s) != encodeULaw(s) {
			t.Fatalf("sample %d: table %#02x, computed %#02x", s, EncodeULaw(s), encodeULaw(s))
		}
	}
}
