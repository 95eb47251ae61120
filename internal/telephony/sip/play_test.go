package sip

import (
	"errors"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Early media: a prompt played to a call not answered yet reaches the
// caller (183 with our SDP), then PlaybackDone; Answer still works.
func TestPlayEarlyMedia(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	call, res := r.w.cust.invite(r.sw, "+34600111222", "900100200")
	e := listen(call)
	in := r.ev.wait(t, "", telephony.Incoming, evWait)
	r.must(r.sw.Play(bg, in.Leg, "tone:1700"))
	if !e.waitTone(0, 1700, 10, 3*time.Second) {
		t.Fatal("caller heard no early media")
	}
	r.ev.wait(t, in.Leg, telephony.PlaybackDone, evWait)
	if call.up.Load() {
		t.Fatal("answered before Answer")
	}
	r.must(r.sw.Answer(bg, in.Leg))
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	r.ev.wait(t, in.Leg, telephony.Answered, evWait)
}

// Prompts play one after the other, each to its end, from SetPrompts
// before the built-in ones; unknown names and bad tones are errors.
func TestPlayQueuedPrompts(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.sw.SetPrompts(map[string][]int16{"two-tones": append(audio.Tone(500, 6000, 1600, nil), audio.Tone(2200, 6000, 1600, nil)...)})
	c := r.customer()
	e, _ := r.party(c)
	p := e.pos()
	r.must(r.sw.Play(bg, c, "two-tones"))
	r.must(r.sw.Play(bg, c, "tone:1300"))
	deadline := time.Now().Add(5 * time.Second)
	for n := 0; n < 2 && time.Now().Before(deadline); {
		n = 0
		r.ev.mu.Lock()
		for _, ev := range r.ev.all {
			if ev.Leg == c && ev.Type == telephony.PlaybackDone {
				n++
			}
		}
		r.ev.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	got := e.since(p)
	// in order: 0.2 s of 500 Hz, 0.2 s of 2200 Hz, 0.5 s of 1300 Hz
	first := func(f float64) int {
		for i := 0; i+160 <= len(got); i += 160 {
			if audio.Power(got[i:i+160], f) >= toneThreshold {
				return i / 160
			}
		}
		return -1
	}
	a, b, c3 := first(500), first(2200), first(1300)
	if a < 0 || b <= a || c3 <= b || framesWith(got, 500) < 9 || framesWith(got, 2200) < 9 || framesWith(got, 1300) < 24 {
		t.Errorf("frames: 500 Hz from %d (%d), 2200 Hz from %d (%d), 1300 Hz from %d (%d)",
			a, framesWith(got, 500), b, framesWith(got, 2200), c3, framesWith(got, 1300))
	}
	for _, bad := range []string{"no-such-prompt", "tone:", "tone:0", "tone:4000", "tone:x", "../moh", "moh/x"} {
		if err := r.sw.Play(bg, c, bad); err == nil || errors.Is(err, telephony.ErrState) {
			t.Errorf("Play %q: %v", bad, err)
		}
	}
}
