package prompt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/prompt"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
	"github.com/centralita/centralita/internal/telephony/audio"
)

var ctx = context.Background()

// wav is n samples of a 440 Hz tone as a mono 8 kHz PCM16 WAV file.
func wav(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := audio.WriteWAV(&b, audio.Tone(440, 8000, n, nil)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func field(err error) string {
	ps := problem.All(err)
	if len(ps) == 0 {
		return "<not a problem: " + err.Error() + ">"
	}
	return ps[0].Field
}

func TestPrompts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := prompt.New(db, clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		var changes atomic.Int32
		s.OnChange(func() { changes.Add(1) })

		// Built-ins are listed, read-only.
		ps, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			if !p.BuiltIn || !p.HasAudio || p.Duration < time.Second || p.ID != prompt.BuiltInPrefix+p.Name {
				t.Errorf("built-in %+v", p)
			}
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{"abandon", "echo", "moh", "queue-wait"}) {
			t.Fatalf("built-ins %v", names)
		}
		if err := s.Delete(ctx, "builtin-moh"); err == nil {
			t.Error("deleted a built-in prompt")
		}
		if _, err := s.SetAudio(ctx, "builtin-moh", wav(t, 8000)); err == nil {
			t.Error("replaced a built-in prompt's audio")
		}

		// Names are checked.
		for _, bad := range []string{"", "Moh", "-x", "a b", "a/b", strings.Repeat("a", 65)} {
			if _, err := s.Create(ctx, bad, ""); field(err) != "name" {
				t.Errorf("name %q: %v", bad, err)
			}
		}
		if _, err := s.Create(ctx, "x", strings.Repeat("d", prompt.MaxDescription+1)); field(err) != "description" {
			t.Errorf("long description: %v", err)
		}

		// The operator's own music on hold overrides the built-in one once it has audio.
		p, err := s.Create(ctx, "moh", "our jingle")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, "moh", ""); err == nil {
			t.Error("duplicate name accepted")
		}
		if p.HasAudio || p.BuiltIn {
			t.Errorf("new prompt %+v", p)
		}
		if _, _, err := s.Audio(ctx, p.ID); err == nil {
			t.Error("audio of a prompt without audio")
		}
		if live, _ := s.Live(ctx); len(live) != 0 {
			t.Errorf("live before upload: %v", live)
		}
		p, err = s.SetAudio(ctx, p.ID, wav(t, 12000))
		if err != nil {
			t.Fatal(err)
		}
		if !p.HasAudio || p.Duration != 1500*time.Millisecond || p.Size != 44+24000 {
			t.Errorf("after upload %+v", p)
		}
		_, got, err := s.Audio(ctx, p.ID)
		if err != nil || !bytes.Equal(got, wav(t, 12000)) {
			t.Errorf("audio back: %d bytes, %v", len(got), err)
		}
		live, err := s.Live(ctx)
		if err != nil || len(live["moh"]) != 12000 {
			t.Errorf("live: %v", err)
		}
		b, err := s.Get(ctx, "builtin-moh")
		if err != nil || !b.Overridden {
			t.Errorf("built-in moh %+v %v", b, err)
		}
		names2, err := s.Names(ctx)
		if err != nil || names2["moh"] != 1500*time.Millisecond || names2["abandon"] < time.Second {
			t.Errorf("names %v %v", names2, err)
		}
		if err := s.Check(ctx, "abandonPrompt", "moh"); err != nil {
			t.Error(err)
		}
		if err := s.Check(ctx, "abandonPrompt", "nope"); field(err) != "abandonPrompt" || !strings.Contains(err.Error(), "queue-wait") {
			t.Errorf("unknown prompt: %v", err)
		}
		if _, _, err := s.Audio(ctx, "builtin-abandon"); err != nil {
			t.Error(err)
		}

		if err := s.Delete(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, p.ID); err == nil {
			t.Error("deleted twice")
		}
		if b, _ := s.Get(ctx, "builtin-moh"); b.Overridden {
			t.Error("still overridden after delete")
		}
		deadline := time.Now().Add(5 * time.Second)
		for changes.Load() != 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := changes.Load(); n != 2 {
			t.Errorf("%d change notifications, want 2 (upload, delete)", n)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	good := wav(t, 800)
	stereo := slices.Clone(good)
	binary.LittleEndian.PutUint16(stereo[22:], 2) // channels
	rate := slices.Clone(good)
	binary.LittleEndian.PutUint32(rate[24:], 16000)
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no audio"},
		{"text", []byte("hello, this is not a wav file at all......................"), "8 kHz mono"},
		{"stereo", stereo, "8 kHz mono"},
		{"16 kHz", rate, "8 kHz mono"},
		{"big", make([]byte, prompt.MaxAudioBytes+1), "more than"},
		{"no samples", wav(t, 0), "no samples"},
	} {
		_, err := prompt.Decode(c.in)
		if err == nil || field(err) != "body" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if pcm, err := prompt.Decode(good); err != nil || len(pcm) != 800 {
		t.Errorf("good: %d %v", len(pcm), err)
	}
}
