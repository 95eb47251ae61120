package siptest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// Tone analysis of recordings: which of a few known frequencies a party
// heard. Recordings start before the call is up and carry gaps, phase
// jumps and G.711 noise, so they are cut in 100 ms blocks (tones 20 Hz
// apart are told apart), silent blocks are ignored, and in each loud block
// a tone's share of the block's energy is measured.

const (
	toneBlock = 800 // samples: 100 ms
	// silentMS is the mean square (relative to full scale²) under which a
	// block is silence: a sine of amplitude ~330.
	silentMS = 5e-5
	// PresentShare and AbsentShare are what Has and Lacks ask of a tone's
	// median share: a pure tone has about 1, each of two equal tones about
	// 0.5, each of three 0.33; G.711 noise and leakage stay near 0.001.
	PresentShare = 0.12
	AbsentShare  = 0.02
	// MinActiveBlocks: fewer loud blocks than this (0.5 s) is "heard
	// nothing", whatever the shares.
	MinActiveBlocks = 5
)

// ToneReport says how much of each asked frequency a recording carries.
type ToneReport struct {
	Blocks int                 // 100 ms blocks in the recording
	Active int                 // blocks louder than silence
	Share  map[float64]float64 // median over active blocks of the tone's share of the block's energy
	Peak   map[float64]float64 // 90th percentile of the same shares
	// Loud counts the active blocks in which the tone has at least
	// PresentShare: for recordings whose content changes during the call
	// (a transfer), HeardFor says how long each tone was heard.
	Loud map[float64]int
}

// Tones analyses pcm (8 kHz) for freqs.
func Tones(pcm []int16, freqs ...float64) ToneReport {
	r := ToneReport{Share: map[float64]float64{}, Peak: map[float64]float64{}, Loud: map[float64]int{}}
	shares := map[float64][]float64{}
	for off := 0; off+toneBlock <= len(pcm); off += toneBlock {
		r.Blocks++
		b := pcm[off : off+toneBlock]
		var e float64
		for _, x := range b {
			v := float64(x) / 32767
			e += v * v
		}
		ms := e / float64(len(b))
		if ms < silentMS {
			continue
		}
		r.Active++
		for _, f := range freqs {
			// Power is (A/32767)² for a sine of amplitude A, whose mean
			// square is half that: a pure tone's share is 1.
			share := audio.Power(b, f) / (2 * ms)
			shares[f] = append(shares[f], share)
			if share >= PresentShare {
				r.Loud[f]++
			}
		}
	}
	for _, f := range freqs {
		s := shares[f]
		if len(s) == 0 {
			r.Share[f], r.Peak[f] = 0, 0
			continue
		}
		sort.Float64s(s)
		r.Share[f] = s[len(s)/2]
		r.Peak[f] = s[len(s)*9/10]
	}
	return r
}

// Has reports whether the recording carries freq audibly.
func (r ToneReport) Has(freq float64) bool {
	return r.Active >= MinActiveBlocks && r.Share[freq] >= PresentShare
}

// Lacks reports whether the recording carries sound but not freq, in
// nine loud blocks out of ten. (A silent recording lacks nothing: it
// proves nothing.)
func (r ToneReport) Lacks(freq float64) bool {
	return r.Active >= MinActiveBlocks && r.Peak[freq] <= AbsentShare
}

// HeardFor is how long freq was heard (loud blocks carrying it).
func (r ToneReport) HeardFor(freq float64) time.Duration {
	return time.Duration(r.Loud[freq]) * toneBlock * time.Second / audio.SampleRate
}

func (r ToneReport) String() string {
	fs := make([]float64, 0, len(r.Share))
	for f := range r.Share {
		fs = append(fs, f)
	}
	sort.Float64s(fs)
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d loud 100 ms blocks;", r.Active, r.Blocks)
	for _, f := range fs {
		fmt.Fprintf(&b, " %g Hz %.3f (p90 %.3f, %v)", f, r.Share[f], r.Peak[f], r.HeardFor(f))
	}
	return b.String()
}
