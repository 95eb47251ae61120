package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte{11, 0x80 | 0x40 | 10, 0x03, 0x20})
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Digit: "#", End: true, Volume: 10, Duration: 800}
	if ev != want {
		t.Fatalf("got %+v, want %+v", ev, want)
	}
	for code, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"} {
		ev, err := ParseEvent([]byte{byte(code), 0, 0, 0})
		if err != nil || ev.Digit != d {
			t.Errorf("event %d: %+v %v, want %s", code, ev, err, d)
		}
		if b := ev.Marshal(); !bytes.Equal(b, []byte{byte(code), 0, 0, 0}) {
			t.Errorf("Marshal %s = %v", d, b)
		}
	}
	if _, err := ParseEvent([]byte{16, 0, 0, 0}); !errors.Is(err, ErrNotDTMF) {
		t.Errorf("event 16 (flash): %v", err)
	}
	if _, err := ParseEvent([]byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "3 bytes, need 4") {
		t.Errorf("short payload: %v", err)
	}
	b := Event{Digit: "5", End: true, Volume: 0xFF, Duration: 0xABCD}.Marshal()
	if !bytes.Equal(b, []byte{5, 0x80 | 0x3F, 0xAB, 0xCD}) {
		t.Errorf("Marshal = %x", b)
	}
	if (Event{Digit: "x"}).Marshal() != nil || (Event{Digit: "12"}).Marshal() != nil {
		t.Error("Marshal of a non-digit should be nil")
	}
	if !ValidDigit("D") || ValidDigit("E") || ValidDigit("") {
		t.Error("ValidDigit")
	}
}

func TestPackets(t *testing.T) {
	evs := Packets("7", 800)
	durs := []uint16{160, 320, 480, 640, 800, 800, 800}
	ends := []bool{false, false, false, false, true, true, true}
	if len(evs) != len(durs) {
		t.Fatalf("%d packets: %+v", len(evs), evs)
	}
	for i, ev := range evs {
		if ev.Digit != "7" || ev.Duration != durs[i] || ev.End != ends[i] || ev.Volume != DefaultVolume {
			t.Errorf("packet %d: %+v", i, ev)
		}
	}
	short := Packets("#", 0)
	if len(short) != 4 || short[0].Duration != 160 || short[0].End || !short[3].End {
		t.Errorf("short press: %+v", short)
	}
	odd := Packets("1", 500) // 160, 320, 480, then ends at 500
	if len(odd) != 6 || odd[2].Duration != 480 || odd[3].Duration != 500 || !odd[3].End {
		t.Errorf("500 samples: %+v", odd)
	}
	long := Packets("1", 1<<20)
	if last := long[len(long)-1]; last.Duration != 0xFFFF || !last.End {
		t.Errorf("long press ends with %+v", last)
	}
	if Packets("x", 800) != nil {
		t.Error("invalid digit")
	}
	for _, ev := range evs {
		if ev.Duration == 0 {
			t.Fatal("a packet with duration 0")
		}
	}
}

// feed runs packets (timestamp, payload) through a Receiver and returns the
// digits reported.
func feed(r *Receiver, pkts []pkt) string {
	var got string
	for _, p := range pkts {
		if d, ok := r.Feed(p.ts, p.payload); ok {
			got += d
		}
	}
	return got
}

type pkt struct {
	ts      uint32
	payload []byte
}

func pressPkts(ts uint32, evs []Event) []pkt {
	var out []pkt
	for _, e := range evs {
		out = append(out, pkt{ts, e.Marshal()})
	}
	return out
}

func raw(code byte, end bool, dur uint16) []byte {
	b := []byte{code, 10, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], dur)
	return b
}

func TestReceiver(t *testing.T) {
	cases := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"our own sender", append(pressPkts(1000, Packets("1", 800)), pressPkts(3000, Packets("#", 800))...), "1#"},
		{"zero-duration first packet (SIPp, some PBXs)", []pkt{
			{500, raw(5, false, 0)}, {500, raw(5, false, 160)}, {500, raw(5, true, 400)}, {500, raw(5, true, 400)}, {500, raw(5, true, 400)},
		}, "5"},
		{"only end packets (start lost)", []pkt{{700, raw(9, true, 800)}, {700, raw(9, true, 800)}, {700, raw(9, true, 800)}}, "9"},
		{"same digit twice", append(pressPkts(100, Packets("3", 320)), pressPkts(900, Packets("3", 320))...), "33"},
		{"new press without an end", []pkt{{100, raw(1, false, 160)}, {100, raw(1, false, 320)}, {500, raw(2, false, 160)}, {500, raw(2, true, 320)}}, "12"},
		{"late end of an earlier press", []pkt{{100, raw(1, false, 160)}, {500, raw(2, false, 160)}, {100, raw(1, true, 320)}, {500, raw(2, true, 320)}}, "12"},
		{"non-DTMF events and junk ignored", []pkt{{100, raw(16, false, 160)}, {100, []byte{1, 2}}, {200, raw(15, true, 160)}}, "D"},
		{"timestamp wraps", []pkt{{0xFFFFFF00, raw(4, false, 160)}, {0xFFFFFF00, raw(4, true, 320)}, {64, raw(6, false, 0)}, {64, raw(6, true, 320)}}, "46"},
	}
	for _, c := range cases {
		var r Receiver
		if got := feed(&r, c.pkts); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	var r Receiver
	feed(&r, pressPkts(100, Packets("1", 320)))
	if got := feed(&r, pressPkts(100, Packets("1", 320))); got != "" {
		t.Errorf("replay reported %q", got)
	}
	r.Reset()
	if got := feed(&r, pressPkts(100, Packets("1", 320))); got != "1" {
		t.Errorf("after Reset: %q", got)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte{1, 0x8a, 0x03, 0x20})
	f.Add([]byte{16, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if err != nil {
			return
		}
		if !ValidDigit(ev.Digit) || ev.Volume > 63 {
			t.Fatalf("bad event %+v", ev)
		}
		again, err := ParseEvent(ev.Marshal())
		if err != nil || again != ev {
			t.Fatalf("round trip %+v -> %+v %v", ev, again, err)
		}
	})
}

// FuzzReceiver feeds packets cut from the input (6 bytes each: a 2-byte
// timestamp, then the payload) and checks that each press is reported at
// most once.
func FuzzReceiver(f *testing.F) {
	var seed []byte
	for _, p := range append(pressPkts(1, Packets("1", 480)), pkt{2, raw(2, false, 0)}, pkt{1, raw(1, true, 480)}) {
		seed = append(seed, byte(p.ts>>8), byte(p.ts))
		seed = append(seed, p.payload...)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Receiver
		presses := map[[2]uint32]bool{}
		reports := 0
		for len(b) >= 6 {
			ts := uint32(b[0])<<8 | uint32(b[1])
			payload := b[2:6]
			b = b[6:]
			d, ok := r.Feed(ts, payload)
			if !ok {
				continue
			}
			if !ValidDigit(d) || dtmfDigits[payload[0]] != d[0] {
				t.Fatalf("reported %q for event %d", d, payload[0])
			}
			presses[[2]uint32{ts, uint32(payload[0])}] = true
			reports++
		}
		// More reports than distinct presses is only possible once a
		// press has left the recent window: with few presses, never.
		if len(presses) <= len(r.seen) && reports != len(presses) {
			t.Fatalf("%d reports for %d presses", reports, len(presses))
		}
	})
}
