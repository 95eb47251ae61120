package audio

import "math"

// Power is the power of pcm at freq Hz (Goertzel's algorithm at the exact
// frequency, not the nearest DFT bin), normalised so that a full-scale sine
// (amplitude 32767) at freq gives about 1.0 whatever the length of pcm, and
// a sine of amplitude A gives about (A/32767)². Silence gives 0. Short blocks
// have wide bins: 160 samples (20 ms) separate tones about 100 Hz apart,
// 800 samples (100 ms) about 20 Hz apart.
func Power(pcm []int16, freq float64) float64 {
	n := len(pcm)
	if n == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2 // |X(freq)|², ≈ (A·n/2)² for a sine of amplitude A
	norm := float64(n) / 2 * 32767
	return mag2 / (norm * norm)
}

// Dominant returns the candidate frequency with the most power in pcm
// (the first one on a tie), or 0 when there are no candidates.
func Dominant(pcm []int16, candidates ...float64) float64 {
	best, bestPower := 0.0, -1.0
	for _, f := range candidates {
		if p := Power(pcm, f); p > bestPower {
			best, bestPower = f, p
		}
	}
	return best
}
