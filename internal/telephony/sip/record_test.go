package sip

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// readRecording reads a finished recording and its sidecar.
func readRecording(t *testing.T, dir, name string) (left, right []int16, meta recordingMeta) {
	t.Helper()
	if name == "" || strings.ContainsAny(name, `/\`) || !strings.HasSuffix(name, ".wav") {
		t.Fatalf("RecordingStopped names %q, want a .wav file name", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, err = audio.ReadStereoWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, ".wav")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatalf("sidecar: %v\n%s", err, b)
	}
	return left, right, meta
}

// A recorded customer bridged to an agent: the left channel carries what
// the customer said (400 Hz), the right what it heard (the agent, 800 Hz).
func TestRecordBridgedCallStereo(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a := r.customer(), r.agent(0)
	r.must(r.sw.Bridge(bg, c, a))
	r.must(r.sw.Record(bg, c, true))
	r.ev.wait(t, c, telephony.RecordingStarted, evWait)
	_, mc := r.party(c)
	_, ma := r.party(a)
	speakAll(50, map[*mouth]float64{mc: 400, ma: 800})
	r.must(r.sw.Record(bg, c, false))
	stopped := r.ev.wait(t, c, telephony.RecordingStopped, evWait)

	left, right, meta := readRecording(t, r.sw.opt.RecordingDir, stopped.Recording)
	if len(left) != len(right) || len(left) < 50*audio.FrameSamples {
		t.Fatalf("recording of %d/%d samples, want >= 1 s", len(left), len(right))
	}
	if n, m := framesWith(left, 400), framesWith(left, 800); n < 40 || m > 0 {
		t.Errorf("left: %d frames of 400 Hz (want >= 40), %d of 800 Hz (want 0)", n, m)
	}
	if n, m := framesWith(right, 800), framesWith(right, 400); n < 40 || m > 0 {
		t.Errorf("right: %d frames of 800 Hz (want >= 40), %d of 400 Hz (want 0)", n, m)
	}
	if meta.File != stopped.Recording || meta.Leg != c || meta.Direction != "inbound" || meta.SampleRate != 8000 ||
		meta.DurationMs < 900 || meta.DurationMs != int64(len(left))*1000/8000 || meta.Error != "" || meta.CallID == "" {
		t.Errorf("sidecar %+v", meta)
	}
}

// A recorded conference member: right is the room's mix of the others.
func TestRecordConferenceMember(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	x, y, z := r.customer(), r.agent(0), r.agent(1)
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	for _, l := range []string{x, y, z} {
		r.must(r.sw.Join(bg, conf, l, telephony.Full, ""))
	}
	r.must(r.sw.Record(bg, y, true))
	_, mx := r.party(x)
	_, my := r.party(y)
	_, mz := r.party(z)
	speakAll(40, map[*mouth]float64{mx: 400, my: 800, mz: 1200})
	r.w.HangupPeer(y) // the recording ends with the call, before its Hangup
	stopped := r.ev.wait(t, y, telephony.RecordingStopped, evWait)
	left, right, _ := readRecording(t, r.sw.opt.RecordingDir, stopped.Recording)
	if n := framesWith(left, 800); n < 30 {
		t.Errorf("left: %d frames of 800 Hz", n)
	}
	for _, f := range []float64{400, 1200} {
		if n := framesWith(right, f); n < 30 {
			t.Errorf("right: %d frames of %v Hz", n, f)
		}
	}
	if n := framesWith(right, 800); n > 0 {
		t.Errorf("right: %d frames of the member's own voice", n)
	}
}

// Without a RecordingDir the switch does not record.
func TestRecordNeedsDirectory(t *testing.T) {
	t.Parallel()
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	_, res := cust.invite(f.sw, "+34600111222", "900100200")
	in := f.ev.wait(t, "", telephony.Incoming, evWait)
	if err := f.sw.Answer(bg, in.Leg); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, in.Leg, telephony.Answered, evWait)
	if err := f.sw.Record(bg, in.Leg, true); !errors.Is(err, telephony.ErrNotSupported) {
		t.Errorf("record without a directory: %v", err)
	}
}
