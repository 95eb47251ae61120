package recording

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// stereoWAV is a stereo 8 kHz WAV of n sample pairs.
func stereoWAV(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewStereoWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, n), make([]int16, n)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		s := New(db, dir, clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)))
		const conv, part = "c0000000-0000-4000-8000-000000000001", "p0000000-0000-4000-8000-000000000001"
		stereoWAV(t, filepath.Join(dir, "a.wav"), 3*audio.SampleRate/2) // 1.5 s
		end := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
		r, err := s.Add(ctx, conv, part, "u1", "a.wav", end)
		if err != nil {
			t.Fatal(err)
		}
		if r.Duration != 1500*time.Millisecond || !r.End.Equal(end) || !r.Start.Equal(end.Add(-1500*time.Millisecond)) || r.Size != 44+6*audio.SampleRate {
			t.Fatalf("added %+v", r)
		}
		if _, err := s.Add(ctx, conv, part, "", "a.wav", end); problemKind(err) != problem.Duplicate {
			t.Fatalf("indexed twice: %v", err)
		}
		for _, bad := range []string{"../a.wav", "sub/a.wav", ".hidden", "", `..\a.wav`} {
			if _, err := s.Add(ctx, conv, part, "", bad, end); problemKind(err) != problem.Invalid {
				t.Errorf("file %q: %v", bad, err)
			}
		}
		if _, err := s.Add(ctx, conv, part, "", "missing.wav", end); err == nil {
			t.Fatal("a missing file was indexed")
		}
		os.WriteFile(filepath.Join(dir, "junk.wav"), []byte("not a wav"), 0o600)
		if _, err := s.Add(ctx, conv, part, "", "junk.wav", end); err == nil {
			t.Fatal("junk was indexed")
		}

		stereoWAV(t, filepath.Join(dir, "b.wav"), audio.SampleRate)
		r2, err := s.Add(ctx, conv, part, "", "b.wav", end.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, conv)
		if err != nil || len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r.ID {
			t.Fatalf("list (oldest first) %+v %v", list, err)
		}
		if list, _ := s.List(ctx, "other"); list == nil || len(list) != 0 {
			t.Fatalf("another conversation's: %+v", list)
		}
		got, err := s.Get(ctx, conv, r.ID)
		if err != nil || got.File != "a.wav" || got.UserID != "u1" {
			t.Fatalf("get %+v %v", got, err)
		}
		if _, err := s.Get(ctx, "other", r.ID); problemKind(err) != problem.NotFound {
			t.Fatalf("get through another conversation: %v", err)
		}
		f, err := s.Open(got)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if int64(len(b)) != got.Size || string(b[:4]) != "RIFF" {
			t.Fatalf("opened %d bytes", len(b))
		}
		os.Remove(filepath.Join(dir, "a.wav"))
		if _, err := s.Open(got); problemKind(err) != problem.NotFound {
			t.Fatalf("open of a removed file: %v", err)
		}
	})
}

// Recent pages across conversations, newest first, with the total.
func TestRecent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		s := New(db, dir, clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)))
		if rs, total, err := s.Recent(ctx, 10, 0); err != nil || total != 0 || rs == nil || len(rs) != 0 {
			t.Fatalf("empty index: %v %d %v", rs, total, err)
		}
		end := time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)
		var ids []string
		for i, conv := range []string{"c1", "c2", "c1", "c3"} {
			name := fmt.Sprintf("r%d.wav", i)
			stereoWAV(t, filepath.Join(dir, name), audio.SampleRate)
			r, err := s.Add(ctx, conv, "p", "", name, end.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		page1, total, err := s.Recent(ctx, 3, 0)
		if err != nil || total != 4 || len(page1) != 3 || page1[0].ID != ids[3] || page1[1].ID != ids[2] || page1[2].ID != ids[1] {
			t.Fatalf("page 1: %+v %d %v", page1, total, err)
		}
		if page1[0].ConversationID != "c3" || page1[0].Duration != time.Second || page1[0].File != "r3.wav" {
			t.Fatalf("newest: %+v", page1[0])
		}
		page2, total, err := s.Recent(ctx, 3, 3)
		if err != nil || total != 4 || len(page2) != 1 || page2[0].ID != ids[0] {
			t.Fatalf("page 2: %+v %d %v", page2, total, err)
		}
		if past, total, err := s.Recent(ctx, 3, 9); err != nil || total != 4 || len(past) != 0 {
			t.Fatalf("past the end: %+v %d %v", past, total, err)
		}
		for _, bad := range [][2]int{{0, 0}, {-1, 0}, {1, -1}} {
			if _, _, err := s.Recent(ctx, bad[0], bad[1]); problemKind(err) != problem.Invalid {
				t.Errorf("Recent(%d, %d): %v", bad[0], bad[1], err)
			}
		}
	})
}

func problemKind(err error) problem.Kind {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Kind
	}
	return 0
}

func TestDuration(t *testing.T) {
	var buf bytes.Buffer
	hdr := func(chunks ...[]byte) []byte {
		var b bytes.Buffer
		b.WriteString("RIFF\x00\x00\x00\x00WAVE")
		for _, c := range chunks {
			b.Write(c)
		}
		return b.Bytes()
	}
	fmtChunk := func(bytesPerSec uint32) []byte {
		c := make([]byte, 8+16)
		copy(c, "fmt ")
		binary.LittleEndian.PutUint32(c[4:], 16)
		binary.LittleEndian.PutUint16(c[8:], 1)
		binary.LittleEndian.PutUint16(c[10:], 2)
		binary.LittleEndian.PutUint32(c[12:], 8000)
		binary.LittleEndian.PutUint32(c[16:], bytesPerSec)
		return c
	}
	data := []byte("data\x00\x00\x00\x00") // sizes never patched: the file's size counts
	list := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
	for _, tc := range []struct {
		name string
		b    []byte
		size int64
		want time.Duration
		ok   bool
	}{
		{"plain", hdr(fmtChunk(32000), data), 44 + 64000, 2 * time.Second, true},
		{"odd chunk before", hdr(list, fmtChunk(32000), data), 56 + 32000, time.Second, true},
		{"no fmt", hdr(data), 100, 0, false},
		{"not wav", []byte("RIFX....WAVE"), 12, 0, false},
		{"cut", hdr(fmtChunk(32000))[:20], 20, 0, false},
		{"zero rate", hdr(fmtChunk(0), data), 100, 0, false},
	} {
		buf.Reset()
		buf.Write(tc.b)
		d, err := Duration(&buf, tc.size)
		if (err == nil) != tc.ok || d != tc.want {
			t.Errorf("%s: %v %v, want %v ok=%v", tc.name, d, err, tc.want, tc.ok)
		}
	}
}

func FuzzDuration(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.wav")
	stereoWAV(f, path, 80)
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Duration(bytes.NewReader(raw), int64(len(raw)))
		if err == nil && d < 0 {
			t.Fatalf("negative duration %v", d)
		}
	})
}
