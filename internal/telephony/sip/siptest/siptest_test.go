package siptest

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony/audio"
)

func TestTonesPureMixedSilentAndSequence(t *testing.T) {
	sec := audio.SampleRate
	a := audio.Tone(440, ToneAmplitude, 2*sec, nil)
	b := audio.Tone(1000, ToneAmplitude, 2*sec, nil)

	r := Tones(a, 440, 1000)
	if !r.Has(440) || !r.Lacks(1000) || r.Active != 20 {
		t.Errorf("pure 440: %s", r)
	}

	mix := make([]int16, len(a))
	for i := range mix {
		mix[i] = a[i] + b[i]
	}
	// through G.711, as a phone hears it
	mix = audio.DecodePCMU(nil, audio.EncodePCMU(nil, mix))
	r = Tones(mix, 440, 1000, 1633)
	if !r.Has(440) || !r.Has(1000) || !r.Lacks(1633) {
		t.Errorf("440+1000 through PCMU: %s", r)
	}
	if s := r.Share[440]; s < 0.4 || s > 0.6 {
		t.Errorf("share of one of two equal tones %.3f, want about 0.5", s)
	}

	silent := make([]int16, 2*sec)
	r = Tones(silent, 440)
	if r.Has(440) || r.Lacks(440) || r.Active != 0 {
		t.Errorf("silence must prove nothing: %s", r)
	}

	seq := append(append(append([]int16{}, a...), silent...), b...)
	r = Tones(seq, 440, 1000)
	if got := r.HeardFor(440); got < 1900*time.Millisecond || got > 2*time.Second {
		t.Errorf("440 heard for %v in the sequence, want 2 s", got)
	}
	if got := r.HeardFor(1000); got < 1900*time.Millisecond || got > 2*time.Second {
		t.Errorf("1000 heard for %v in the sequence, want 2 s", got)
	}
}

func TestWriteToneReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.wav")
	if err := WriteTone(path, 697, 1); err != nil {
		t.Fatal(err)
	}
	pcm, err := ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != audio.SampleRate || audio.Dominant(pcm, 440, 697, 1000) != 697 {
		t.Fatalf("read back %d samples, dominant %v", len(pcm), audio.Dominant(pcm, 440, 697, 1000))
	}
}

func TestReadNetstring(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(`5:hello,0:,3:abc`))
	for _, want := range []string{"hello", ""} {
		got, err := readNetstring(r)
		if err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := readNetstring(r); err == nil {
		t.Fatal("a frame without its comma must fail")
	}
	for _, bad := range []string{"x:abc,", "-1:,", "99999999:", "3:abcd"} {
		if _, err := readNetstring(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLastStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stat.csv")
	csv := "StartTime;SuccessfulCall(C);FailedCall(C);\n1;2;0;\n2;10;1;\n"
	if err := writeFile(path, csv); err != nil {
		t.Fatal(err)
	}
	st := lastStats(path)
	if st["SuccessfulCall(C)"] != "10" || st["FailedCall(C)"] != "1" {
		t.Fatalf("stats %v", st)
	}
	if len(lastStats(filepath.Join(t.TempDir(), "none"))) != 0 {
		t.Fatal("missing file must give no stats")
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// Two baresip phones call each other directly (no switch): the driver's
// dial, auto-answer, DTMF, hangup and recordings work, and each phone
// hears the other's tone.
func TestPhonesCallEachOther(t *testing.T) {
	RequireBaresip(t)
	b := StartPhone(t, PhoneConfig{User: "b", Server: "127.0.0.1:9", ToneHz: 1000, AutoAnswer: true})
	a := StartPhone(t, PhoneConfig{User: "a", Server: "127.0.0.1:9", ToneHz: 440})
	a.Dial("sip:b@" + b.SIPAddr())
	a.WaitEvent("CALL_ESTABLISHED", 10*time.Second)
	b.WaitEvent("CALL_ESTABLISHED", 10*time.Second)
	a.SendDTMF("7", 0)
	if ev := b.WaitEvent("CALL_DTMF_START", 10*time.Second); ev.Param != "7" {
		t.Errorf("b got DTMF %q, want 7", ev.Param)
	}
	time.Sleep(1500 * time.Millisecond) // talk
	a.Hangup()
	a.WaitEvent("CALL_CLOSED", 10*time.Second)
	b.WaitEvent("CALL_CLOSED", 10*time.Second)
	if r := Tones(a.Heard(), 440, 1000); !r.Has(1000) || !r.Lacks(440) {
		t.Errorf("a heard: %s", r)
	}
	if r := Tones(b.Heard(), 440, 1000); !r.Has(440) || !r.Lacks(1000) {
		t.Errorf("b heard: %s", r)
	}
	if r := Tones(a.Said(), 440, 1000); !r.Has(440) {
		t.Errorf("a said: %s", r)
	}
	if _, err := a.Command("nosuchcommand", ""); err == nil {
		t.Error("an unknown command must be an error")
	}
}

func TestUDPBound(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if !udpBound(port) {
		t.Fatalf("port %d bound but not seen", port)
	}
	c.Close() // (not checked unbound after: another test may take the port at once)
}

func FuzzReadNetstring(f *testing.F) {
	for _, s := range []string{"5:hello,", "0:,", "3:abc", "x:", "12:{\"event\":1},", "-1:,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 10 {
			msg, err := readNetstring(r)
			if err != nil {
				return
			}
			if len(msg) > len(b) {
				t.Fatalf("frame of %d bytes from %d bytes of input", len(msg), len(b))
			}
		}
	})
}
