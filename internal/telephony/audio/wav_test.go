package audio

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavBytes builds a WAV file by hand so the reader is tested against the
// format, not against our own writer.
func wavBytes(format, channels uint16, rate uint32, bitsPer uint16, extra []byte, data []byte) []byte {
	le := binary.LittleEndian
	var fmtc []byte
	fmtc = le.AppendUint16(fmtc, format)
	fmtc = le.AppendUint16(fmtc, channels)
	fmtc = le.AppendUint32(fmtc, rate)
	fmtc = le.AppendUint32(fmtc, rate*uint32(channels)*uint32(bitsPer)/8)
	fmtc = le.AppendUint16(fmtc, channels*bitsPer/8)
	fmtc = le.AppendUint16(fmtc, bitsPer)
	var body []byte
	body = append(body, "WAVE"...)
	body = append(body, extra...)
	body = append(body, "fmt "...)
	body = le.AppendUint32(body, uint32(len(fmtc)))
	body = append(body, fmtc...)
	body = append(body, "data"...)
	body = le.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func pcmBytes(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestReadWAV(t *testing.T) {
	// A LIST chunk of odd length (padded) before fmt must be skipped.
	list := append([]byte("LIST"), 5, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 0)
	f := wavBytes(1, 1, 8000, 16, list, pcmBytes(0, 1, -1, 32767, -32768))
	got, err := ReadWAV(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{0, 1, -1, 32767, -32768}
	if !equal16(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReadWAVErrors(t *testing.T) {
	good := pcmBytes(1, 2, 3)
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"rate", "wav: 44100 Hz, need 8000 Hz", wavBytes(1, 1, 44100, 16, nil, good)},
		{"stereo", "wav: 2 channels, need 1", wavBytes(1, 2, 8000, 16, nil, good)},
		{"8 bit", "wav: 8 bits per sample, need 16", wavBytes(1, 1, 8000, 8, nil, good)},
		{"µ-law", "wav: format 7, need 1 (PCM)", wavBytes(7, 1, 8000, 8, nil, good)},
		{"not riff", "not a RIFF/WAVE file", []byte("ID3\x04 and some mp3 bytes")},
		{"empty", "reading RIFF header", nil},
		{"no data", "no data chunk", wavBytes(1, 1, 8000, 16, nil, good)[:36]},
		{"truncated data", "data chunk truncated: 4 of 6 bytes", wavBytes(1, 1, 8000, 16, nil, good)[:48]},
		{"truncated chunk", `"LIST" chunk truncated`, []byte("RIFF\x00\x00\x00\x00WAVELIST\xff\x00\x00\x00abc")},
		{"data first", "data chunk before fmt chunk", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00")},
		{"short fmt", "fmt chunk of 4 bytes", []byte("RIFF\x00\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00")},
	}
	for _, c := range cases {
		_, err := ReadWAV(bytes.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestReadWAVStreamingSize(t *testing.T) {
	f := wavBytes(1, 1, 8000, 16, nil, pcmBytes(5, 6, 7))
	binary.LittleEndian.PutUint32(f[40:], 0xFFFFFFFF) // size unknown: read to EOF
	f = append(f, 9)                                  // a torn last sample is dropped
	got, err := ReadWAV(bytes.NewReader(f))
	if err != nil || !equal16(got, []int16{5, 6, 7}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestReadWAVExtensible(t *testing.T) {
	le := binary.LittleEndian
	fmtc := le.AppendUint16(nil, 0xFFFE)
	fmtc = le.AppendUint16(fmtc, 1)
	fmtc = le.AppendUint32(fmtc, 8000)
	fmtc = le.AppendUint32(fmtc, 16000)
	fmtc = le.AppendUint16(fmtc, 2)
	fmtc = le.AppendUint16(fmtc, 16)
	fmtc = le.AppendUint16(fmtc, 22)                     // cbSize
	fmtc = le.AppendUint16(fmtc, 16)                     // valid bits
	fmtc = le.AppendUint32(fmtc, 4)                      // channel mask
	fmtc = append(fmtc, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, // KSDATAFORMAT_SUBTYPE_PCM
		0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	f := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	f = le.AppendUint32(f, uint32(len(fmtc)))
	f = append(f, fmtc...)
	f = append(f, "data\x04\x00\x00\x00"...)
	f = append(f, pcmBytes(-2, 2)...)
	got, err := ReadWAV(bytes.NewReader(f))
	if err != nil || !equal16(got, []int16{-2, 2}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestWriteWAVRoundTrip(t *testing.T) {
	pcm := Tone(440, 9000, 1234, nil)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, pcm); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(pcm) {
		t.Fatalf("file is %d bytes", buf.Len())
	}
	got, err := ReadWAV(&buf)
	if err != nil || !equal16(got, pcm) {
		t.Fatalf("round trip: %v (%d samples)", err, len(got))
	}
}

func TestStereoWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewStereoWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	var pl, pr float64
	var wantL, wantR []int16
	for range 50 { // one second in 20 ms frames
		l := Tone(440, 8000, FrameSamples, &pl)
		r := Tone(1000, 8000, FrameSamples, &pr)
		wantL, wantR = append(wantL, l...), append(wantR, r...)
		if err := w.Write(l, r); err != nil {
			t.Fatal(err)
		}
	}
	// Unequal lengths: the short side is padded with silence.
	if err := w.Write([]int16{7, 7}, []int16{9}); err != nil {
		t.Fatal(err)
	}
	wantL, wantR = append(wantL, 7, 7), append(wantR, 9, 0)
	if w.Samples() != int64(len(wantL)) {
		t.Fatalf("Samples() = %d, want %d", w.Samples(), len(wantL))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1}, nil); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	f.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 44+4*len(wantL) {
		t.Fatalf("file is %d bytes, want %d", len(raw), 44+4*len(wantL))
	}
	if sz := binary.LittleEndian.Uint32(raw[4:]); sz != uint32(len(raw)-8) {
		t.Fatalf("RIFF size %d, want %d", sz, len(raw)-8)
	}
	if sz := binary.LittleEndian.Uint32(raw[40:]); sz != uint32(4*len(wantL)) {
		t.Fatalf("data size %d, want %d", sz, 4*len(wantL))
	}
	left, right, err := ReadStereoWAV(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !equal16(left, wantL) || !equal16(right, wantR) {
		t.Fatal("channels differ from what was written")
	}
	if Dominant(left[:800], 440, 1000) != 440 || Dominant(right[:800], 440, 1000) != 1000 {
		t.Fatal("channels swapped")
	}
	// A stereo file is not a prompt, and the error says why.
	if _, err := ReadWAV(bytes.NewReader(raw)); err == nil || !strings.Contains(err.Error(), "2 channels, need 1") {
		t.Fatalf("ReadWAV of stereo: %v", err)
	}
}

// A recording cut short (no Close) still reads: the data size is 0 and the
// reader takes everything up to the end.
func TestStereoWriterUnclosed(t *testing.T) {
	ws := &memFile{}
	w, err := NewStereoWriter(ws)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]int16{1, 2, 3}, []int16{4, 5, 6})
	w.bw.Flush() // what the OS would have of it
	l, r, err := ReadStereoWAV(bytes.NewReader(ws.b))
	if err != nil || !equal16(l, []int16{1, 2, 3}) || !equal16(r, []int16{4, 5, 6}) {
		t.Fatalf("got %v %v %v", l, r, err)
	}
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := m.off + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.off:], p)
	m.off += len(p)
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = int(off)
	case io.SeekCurrent:
		m.off += int(off)
	case io.SeekEnd:
		m.off = len(m.b) + int(off)
	}
	return int64(m.off), nil
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(1, 1, 8000, 16, nil, pcmBytes(1, 2, 3)))
	f.Add(wavBytes(1, 2, 8000, 16, []byte("LIST\x01\x00\x00\x00x\x00"), pcmBytes(1, 2, 3, 4)))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadWAV(bytes.NewReader(b))
		if err != nil {
			if s != nil {
				t.Fatal("samples returned with an error")
			}
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Fatalf("error without the wav: prefix: %v", err)
			}
		} else if 2*len(s) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(s), len(b))
		}
		l, r, err := ReadStereoWAV(bytes.NewReader(b))
		if err != nil && !strings.HasPrefix(err.Error(), "wav: ") {
			t.Fatalf("error without the wav: prefix: %v", err)
		}
		if err == nil && (len(l) != len(r) || 4*len(l) > len(b)) {
			t.Fatalf("%d+%d samples from %d bytes", len(l), len(r), len(b))
		}
	})
}
