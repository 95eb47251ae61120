package sim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// DefaultMaxRecording caps the synthetic audio of one recording.
const DefaultMaxRecording = 20 * time.Second

// Synthetic recordings: the simulated switch has no audio, but with
// Options.RecordingDir set each stopped recording leaves a real file, so
// the demo can list and play recordings like the SIP switch's. Left
// channel: what the party says (a 440 Hz tone); right: what it hears
// (660 Hz, quieter). Length: the time recorded on the switch's clock, at
// most Options.MaxRecording. Like the SIP switch, a JSON sidecar
// (NAME.json) describes it.
const (
	saysHz  = 440
	hearsHz = 660
)

// recordingMeta is the sidecar written next to a recording.
type recordingMeta struct {
	Leg        string    `json:"leg"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	DurationMs int64     `json:"durationMs"`
	Left       string    `json:"left"`
	Right      string    `json:"right"`
	Synthetic  bool      `json:"synthetic"`
}

// stopRecording emits RecordingStopped for l, with the file written for
// it when the switch keeps recordings. Needs s.mu.
func (s *Switch) stopRecording(l *leg) {
	ev := telephony.Event{Type: telephony.RecordingStopped, Leg: l.id}
	if s.opts.RecordingDir != "" {
		name, err := s.writeRecording(l, s.clk.Now())
		if err != nil {
			// The event still says the recording stopped; without a file
			// there is nothing to list.
			fmt.Fprintf(os.Stderr, "sim: writing the recording of %s failed: %v\n", l.id, err)
		}
		ev.Recording = name
	}
	s.emit(ev)
}

// writeRecording writes l's synthetic recording and returns its file name.
func (s *Switch) writeRecording(l *leg, end time.Time) (string, error) {
	d := end.Sub(l.recStart)
	if d < 0 {
		d = 0
	}
	n := int(min(d, s.opts.MaxRecording) / (time.Second / audio.SampleRate))
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("sim-%s-%s-%s.wav", end.UTC().Format("20060102T150405.000Z"), l.id, hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(s.opts.RecordingDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(s.opts.RecordingDir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	w, err := audio.NewStereoWriter(f)
	if err == nil {
		var pl, pr float64
		for done := 0; done < n && err == nil; {
			k := min(n-done, audio.SampleRate) // a second at a time
			err = w.Write(audio.Tone(saysHz, 8000, k, &pl), audio.Tone(hearsHz, 4000, k, &pr))
			done += k
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	meta, _ := json.MarshalIndent(recordingMeta{Leg: l.id, From: l.from, To: l.to, Start: l.recStart.UTC(), End: end.UTC(),
		DurationMs: d.Milliseconds(), Left: "party says (synthetic 440 Hz)", Right: "party hears (synthetic 660 Hz)", Synthetic: true}, "", "  ")
	if err := os.WriteFile(filepath.Join(s.opts.RecordingDir, name[:len(name)-len(".wav")]+".json"), meta, 0o600); err != nil {
		return name, err
	}
	return name, nil
}
