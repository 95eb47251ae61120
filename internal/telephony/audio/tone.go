package audio

import "math"

const (
	// SampleRate is the only rate this package works at: narrowband
	// telephony, as G.711 carries it.
	SampleRate = 8000
	// FrameSamples is one 20 ms frame at SampleRate, the RTP packetisation
	// and mixer tick used throughout.
	FrameSamples = 160
)

// Tone returns n samples of a sine at freq Hz with peak amplitude amp.
// If phase is not nil it is the starting phase in radians and is advanced,
// so consecutive calls continue the same wave without clicks (one frame at a
// time); nil starts at phase 0.
func Tone(freq float64, amp int16, n int, phase *float64) []int16 {
	if n <= 0 {
		return nil
	}
	out := make([]int16, n)
	var p float64
	if phase != nil {
		p = *phase
	}
	step := 2 * math.Pi * freq / SampleRate
	for i := range out {
		out[i] = int16(math.Round(float64(amp) * math.Sin(p)))
		p += step
	}
	if phase != nil {
		*phase = math.Mod(p, 2*math.Pi) // keep it small so precision holds
	}
	return out
}
