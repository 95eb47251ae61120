package sip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// Recording. A recorded leg decodes what its party says (left channel) and
// what we send it (right channel: relayed packets, the room's mix, prompts,
// music) into two jitter queues; a goroutine per recording ticks every
// 20 ms and writes one frame of each as stereo 8 kHz PCM16 WAV into
// Options.RecordingDir. A muted or held party's voice reaches nobody, so it
// is not recorded either (silence on the left). When it stops, the WAV's
// sizes are patched and a JSON sidecar (recordingMeta) is written next to
// it; RecordingStopped carries the WAV's file name in Event.Recording.

// recDepth bounds each channel's queue: 10 frames, 200 ms.
const recDepth = 10

// recordingMeta is the JSON sidecar of a recording ("NAME.json" next to
// "NAME.wav").
type recordingMeta struct {
	File       string    `json:"file"`      // the WAV's name in the directory
	Leg        string    `json:"leg"`       // the switch's leg id
	CallID     string    `json:"callId"`    // the SIP Call-ID of the leg
	Direction  string    `json:"direction"` // "inbound" or "outbound"
	From       string    `json:"from"`      // the leg's caller / caller id
	To         string    `json:"to"`        // the dialled number / destination
	Start      time.Time `json:"start"`     // Options.Clock time of RecordingStarted
	End        time.Time `json:"end"`       // … and of RecordingStopped
	DurationMs int64     `json:"durationMs"`
	SampleRate int       `json:"sampleRate"` // 8000
	Channels   []string  `json:"channels"`   // ["said", "heard"]: left, right
	Error      string    `json:"error,omitempty"`
}

// recorder is one recording in progress.
type recorder struct {
	name       string // file name inside the directory
	path       string
	saidQ      *framer // left: what the party said
	heardQ     *framer // right: what it heard
	stop, done chan struct{}
	meta       recordingMeta
}

// said queues what the party said (the leg's read loop).
func (r *recorder) said(pcm []int16) { r.saidQ.push(pcm) }

// heard queues what was sent to the party (relay, mix, player).
func (r *recorder) heard(pcm []int16) { r.heardQ.push(pcm) }

// startRecording opens the WAV and starts the writer. Needs s.mu.
func (s *Switch) startRecording(l *leg) (*recorder, error) {
	dir := s.opt.RecordingDir
	now := s.opt.Clock.Now()
	name := fmt.Sprintf("%s-%s-%s.wav", now.UTC().Format("20060102T150405Z"), l.id, randomHex(3))
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sip: recording %s: %w", l.id, err)
	}
	w, err := audio.NewStereoWriter(f)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("sip: recording %s: %w", l.id, err)
	}
	dirn := "outbound"
	if l.inbound {
		dirn = "inbound"
	}
	r := &recorder{name: name, path: path,
		saidQ: newFramer(recDepth), heardQ: newFramer(recDepth),
		stop: make(chan struct{}), done: make(chan struct{}),
		meta: recordingMeta{File: name, Leg: l.id, CallID: l.callID, Direction: dirn, From: l.from, To: l.to,
			Start: now, SampleRate: audio.SampleRate, Channels: []string{"said", "heard"}}}
	go r.run(f, w)
	return r, nil
}

func (r *recorder) run(f *os.File, w *audio.StereoWriter) {
	defer close(r.done)
	tick := time.NewTicker(frameTime)
	defer tick.Stop()
	left, right := make([]int16, audio.FrameSamples), make([]int16, audio.FrameSamples)
	var werr error
	for {
		select {
		case <-r.stop:
		case <-tick.C:
			r.saidQ.q.Pop(left)
			r.heardQ.q.Pop(right)
			if werr == nil {
				werr = w.Write(left, right)
			}
			continue
		}
		break
	}
	// what is still queued was said and heard before the stop
	for r.saidQ.q.Len() > 0 || r.heardQ.q.Len() > 0 {
		r.saidQ.q.Pop(left)
		r.heardQ.q.Pop(right)
		if werr == nil {
			werr = w.Write(left, right)
		}
	}
	err := errors.Join(werr, w.Close(), f.Close())
	r.meta.DurationMs = w.Samples() * 1000 / audio.SampleRate
	if err != nil {
		r.meta.Error = err.Error()
	}
	b, _ := json.MarshalIndent(r.meta, "", "  ")
	_ = os.WriteFile(strings.TrimSuffix(r.path, ".wav")+".json", append(b, '\n'), 0o640)
}

// finish stops the writer and waits until the WAV and its sidecar are
// complete, so the file is whole when RecordingStopped is read.
func (r *recorder) finish(end time.Time) {
	r.meta.End = end
	close(r.stop)
	<-r.done
}

// stopRecording ends l's recording (RecordingStopped). Needs s.mu.
func (s *Switch) stopRecording(l *leg) {
	rec := l.rec
	l.rec = nil
	s.reroute(l)
	rec.finish(s.opt.Clock.Now())
	s.emit(telephony.Event{Type: telephony.RecordingStopped, Leg: l.id, Recording: rec.name})
}

// Record starts (on) or stops recording an answered leg: a stereo WAV in
// Options.RecordingDir (left what the party says, right what it hears)
// with a JSON sidecar; RecordingStopped names the file. Without a
// RecordingDir it gives telephony.ErrNotSupported.
func (s *Switch) Record(ctx context.Context, id string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered(id)
	if err != nil {
		return err
	}
	if (l.rec != nil) == on {
		return telephony.ErrState
	}
	if !on {
		s.stopRecording(l)
		return nil
	}
	if s.opt.RecordingDir == "" {
		return fmt.Errorf("%w: no Options.RecordingDir", telephony.ErrNotSupported)
	}
	rec, err := s.startRecording(l)
	if err != nil {
		return err
	}
	l.rec = rec
	s.reroute(l)
	s.emit(telephony.Event{Type: telephony.RecordingStarted, Leg: l.id})
	return nil
}
