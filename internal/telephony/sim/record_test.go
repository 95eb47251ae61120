package sim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// nextOf returns the next event of type typ, failing if the channel runs dry.
func nextOf(t *testing.T, s *sim.Switch, typ telephony.EventType) telephony.Event {
	t.Helper()
	for {
		select {
		case ev := <-s.Events():
			if ev.Type == typ {
				return ev
			}
		default:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestRecordingWritesSyntheticWAV(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	s := sim.New(clk, sim.Options{RecordingDir: dir, MaxRecording: 3 * time.Second})
	defer s.Close()
	leg := s.InjectCall("+34600111222", "Ventas", sim.Caller{})
	if err := s.Answer(ctx, leg); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, leg, true); err != nil {
		t.Fatal(err)
	}
	if ev := nextOf(t, s, telephony.RecordingStarted); ev.Recording != "" {
		t.Fatalf("RecordingStarted names a file: %+v", ev)
	}
	clk.Advance(2 * time.Second)
	if err := s.Record(ctx, leg, false); err != nil {
		t.Fatal(err)
	}
	ev := nextOf(t, s, telephony.RecordingStopped)
	if ev.Recording == "" || filepath.Base(ev.Recording) != ev.Recording {
		t.Fatalf("RecordingStopped file = %q", ev.Recording)
	}
	f, err := os.Open(filepath.Join(dir, ev.Recording))
	if err != nil {
		t.Fatal(err)
	}
	left, right, err := audio.ReadStereoWAV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2*audio.SampleRate || len(right) != len(left) {
		t.Fatalf("samples %d/%d, want 2 s", len(left), len(right))
	}
	if got := audio.Dominant(left[:1600], 440, 660); got != 440 {
		t.Fatalf("left dominant %v", got)
	}
	if got := audio.Dominant(right[:1600], 440, 660); got != 660 {
		t.Fatalf("right dominant %v", got)
	}
	var meta struct {
		Leg        string `json:"leg"`
		DurationMs int64  `json:"durationMs"`
	}
	b, err := os.ReadFile(filepath.Join(dir, ev.Recording[:len(ev.Recording)-4]+".json"))
	if err != nil || json.Unmarshal(b, &meta) != nil || meta.Leg != leg || meta.DurationMs != 2000 {
		t.Fatalf("sidecar %s %v", b, err)
	}

	// A hang-up while recording stops it too; the audio is capped.
	if err := s.Record(ctx, leg, true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := s.Hangup(ctx, leg, ""); err != nil {
		t.Fatal(err)
	}
	ev = nextOf(t, s, telephony.RecordingStopped)
	st, err := os.Stat(filepath.Join(dir, ev.Recording))
	if err != nil || st.Size() != 44+3*audio.SampleRate*4 {
		t.Fatalf("capped recording: %v %v", st, err)
	}
}

func TestRecordingWithoutDirNamesNoFile(t *testing.T) {
	s := sim.New(clock.NewFake(t0), sim.Options{})
	defer s.Close()
	leg := s.InjectCall("", "Ventas", sim.Caller{})
	if err := s.Answer(ctx, leg); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, leg, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, leg, true); err == nil {
		t.Fatal("Record(true) twice accepted")
	}
	if err := s.Record(ctx, leg, false); err != nil {
		t.Fatal(err)
	}
	if ev := nextOf(t, s, telephony.RecordingStopped); ev.Recording != "" {
		t.Fatalf("file without a directory: %q", ev.Recording)
	}
}
