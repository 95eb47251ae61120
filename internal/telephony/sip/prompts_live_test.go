package sip

import (
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Operators' prompts given while the switch runs are played, replace the
// built-in music on hold, and are gone once withdrawn.
func TestSetPromptsLive(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	t.Cleanup(func() { r.sw.SetPrompts(nil) })
	c := r.customer()
	e, _ := r.party(c)

	if err := r.sw.Play(bg, c, "jingle"); err == nil {
		t.Fatal("played an unknown prompt")
	}
	r.sw.SetPrompts(map[string][]int16{
		"jingle": audio.Tone(900, 6000, 2400, nil), // 0.3 s
		"moh":    audio.Tone(1500, 6000, 1600, nil),
	})
	p := e.pos()
	r.must(r.sw.Play(bg, c, "jingle"))
	if !e.waitTone(p, 900, 10, 3*time.Second) {
		t.Fatal("the operator's prompt was not heard")
	}
	r.ev.wait(t, c, telephony.PlaybackDone, evWait)

	// Hold plays the operator's music on hold, looped.
	p = e.pos()
	r.must(r.sw.Hold(bg, c))
	if !e.waitTone(p, 1500, 20, 3*time.Second) { // 0.4 s: more than one loop of 0.2 s
		t.Fatal("the operator's music on hold was not heard")
	}
	r.must(r.sw.Resume(bg, c))

	r.sw.SetPrompts(nil)
	if err := r.sw.Play(bg, c, "jingle"); err == nil {
		t.Fatal("played a withdrawn prompt")
	}
}
