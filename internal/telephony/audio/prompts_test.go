package audio

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestBuiltinPrompts(t *testing.T) {
	names := PromptNames()
	if fmt.Sprint(names) != "[abandon echo moh queue-wait]" {
		t.Fatalf("PromptNames() = %v", names)
	}
	for _, name := range names {
		raw, err := promptFS.ReadFile("prompts/" + name + ".wav")
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > 250_000 {
			t.Errorf("%s: %d bytes, keep prompts under 250 KB", name, len(raw))
		}
		// ReadWAV only accepts 8 kHz mono PCM16, so loading proves the format.
		s, err := Prompt(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		secs := float64(len(s)) / SampleRate
		if secs < 2 || secs > 12 {
			t.Errorf("%s: %.1f s long", name, secs)
		}
		if r := rms(s); r < 1000 {
			t.Errorf("%s: RMS %.0f, nearly silent", name, r)
		}
		again, _ := Prompt(name)
		if &again[0] != &s[0] {
			t.Errorf("%s: not cached", name)
		}
	}
	moh, _ := Prompt("moh")
	if secs := float64(len(moh)) / SampleRate; secs < 8 || secs > 10 {
		t.Errorf("moh is %.1f s, want 8-10", secs)
	}
	// Loopable: it starts and ends quietly, so the seam does not click.
	if a, b := rms(moh[:80]), rms(moh[len(moh)-80:]); a > 300 || b > 300 {
		t.Errorf("moh edges: RMS %.0f at the start, %.0f at the end", a, b)
	}
	// The echo prompt ends with its 1 kHz beep.
	echo, _ := Prompt("echo")
	tail := echo[len(echo)-2000 : len(echo)-400]
	if f := Dominant(tail, 440, 700, 1000, 1500, 2000); f != 1000 || Power(tail, 1000) < 0.05 {
		t.Errorf("echo prompt does not end with a 1 kHz beep (dominant %v, power %.3f)", f, Power(tail, 1000))
	}
}

func TestPromptUnknown(t *testing.T) {
	for _, name := range []string{"nope", "../prompts/moh", ""} {
		_, err := Prompt(name)
		if err == nil || !strings.Contains(err.Error(), "abandon, echo, moh, queue-wait") {
			t.Errorf("Prompt(%q): %v", name, err)
		}
	}
}

func TestLoadPrompts(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	WriteWAV(&buf, Tone(440, 5000, 800, nil))
	os.WriteFile(filepath.Join(dir, "welcome.wav"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	got, err := LoadPrompts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got["welcome"]) != 800 {
		t.Fatalf("got %d prompts", len(got))
	}

	bad := wavBytes(1, 1, 44100, 16, nil, pcmBytes(1, 2))
	os.WriteFile(filepath.Join(dir, "cd.wav"), bad, 0o644)
	_, err = LoadPrompts(dir)
	if err == nil || !strings.Contains(err.Error(), "cd.wav") || !strings.Contains(err.Error(), "44100 Hz, need 8000 Hz") {
		t.Fatalf("bad file: %v", err)
	}
	if _, err := LoadPrompts(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing directory: no error")
	}
}
