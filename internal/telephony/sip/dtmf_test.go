package sip

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
)

// SendDTMF interrupts a tone: the party decodes the digits, each press's
// packets share one timestamp with the marker on the first only, and the
// tone and the events are one stream (one SSRC, consecutive sequence
// numbers, timestamps never going back).
func TestSendDTMFPackets(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c := r.customer()
	e, _ := r.party(c)
	r.must(r.sw.Play(bg, c, "tone:1000"))
	time.Sleep(100 * time.Millisecond)
	r.must(r.sw.SendDTMF(bg, c, "15#"))
	if err := r.sw.SendDTMF(bg, c, "1x"); err == nil {
		t.Error("SendDTMF of a non-digit: no error")
	}
	r.ev.wait(t, c, telephony.PlaybackDone, evWait)
	if got := r.w.DigitsHeard(c); got != "15#" {
		t.Fatalf("party heard %q, want 15#", got)
	}
	e.mu.Lock()
	all := append([]rtpHeader(nil), e.all...)
	e.mu.Unlock()
	presses := map[uint32]int{}
	var order []uint32
	for i, h := range all {
		if h.ssrc != all[0].ssrc {
			t.Fatalf("packet %d: ssrc %x, want %x", i, h.ssrc, all[0].ssrc)
		}
		if i > 0 {
			if h.seq != all[i-1].seq+1 {
				t.Fatalf("packet %d: seq %d after %d", i, h.seq, all[i-1].seq)
			}
			if int32(h.ts-all[i-1].ts) < 0 {
				t.Fatalf("packet %d: timestamp %d after %d", i, h.ts, all[i-1].ts)
			}
		}
		if h.pt != DefaultEventPT {
			continue
		}
		if presses[h.ts] == 0 {
			order = append(order, h.ts)
			if !h.marker {
				t.Errorf("packet %d starts a press without the marker", i)
			}
		} else if h.marker {
			t.Errorf("packet %d: marker inside a press", i)
		}
		presses[h.ts]++
	}
	if len(order) != 3 {
		t.Fatalf("%d presses (timestamps %v), want 3", len(order), order)
	}
	for _, ts := range order {
		if n := presses[ts]; n != len(audio.Packets("1", samples(dtmfDuration))) {
			t.Errorf("press at %d: %d packets", ts, n)
		}
	}
	// the tone resumed after the digits, later in the same stream
	if last := all[len(all)-1]; last.pt != 0 {
		t.Errorf("last packet has payload type %d, want the tone (0)", last.pt)
	}
}

// digitLeg is an rtpLeg whose key presses are collected.
func digitLeg(t *testing.T, sdp string) (*rtpLeg, func() string) {
	var mu sync.Mutex
	var got []byte
	pool := &portPool{digit: func(_ *rtpLeg, d string) {
		mu.Lock()
		got = append(got, d...)
		mu.Unlock()
	}}
	l, err := newRTPLeg(pool, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	l.setEventPT([]byte(sdp))
	return l, func() string { mu.Lock(); defer mu.Unlock(); return string(got) }
}

// The telephone-event payload type comes from the party's SDP; presses
// with a zero-duration first packet, lost start packets or repeated ends
// each give one digit.
func TestReceiveDTMFFromSDPPayloadType(t *testing.T) {
	l, got := digitLeg(t, "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n")
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.Port()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seq := uint16(0)
	send := func(pt byte, ts uint32, ev audio.Event) {
		b := make([]byte, 16)
		b[0], b[1] = 0x80, pt
		binary.BigEndian.PutUint16(b[2:], seq)
		binary.BigEndian.PutUint32(b[4:], ts)
		binary.BigEndian.PutUint32(b[8:], 77)
		copy(b[12:], ev.Marshal())
		seq++
		_, _ = c.Write(b)
	}
	// "1": zero duration first, then updates and three ends
	send(96, 1000, audio.Event{Digit: "1"})
	for _, ev := range audio.Packets("1", 800) {
		send(96, 1000, ev)
	}
	// "2": start packets lost, only the ends
	for i := 0; i < 3; i++ {
		send(96, 3000, audio.Event{Digit: "2", End: true, Duration: 800})
	}
	// "3" at payload type 101: not this party's telephone-event, ignored
	send(101, 5000, audio.Event{Digit: "3", Duration: 160})
	// "#" and a second "#" (a new press: new timestamp)
	for _, ts := range []uint32{7000, 9000} {
		for _, ev := range audio.Packets("#", 480) {
			send(96, ts, ev)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for got() != "12##" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got() != "12##" {
		t.Fatalf("digits %q, want 12##", got())
	}
}

func TestEventPayloadType(t *testing.T) {
	for sdp, want := range map[string]int{
		"":                        DefaultEventPT,
		"m=audio 1 RTP/AVP 0\r\n": DefaultEventPT,
		"m=audio 1 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n":                      96,
		"m=audio 1 RTP/AVP 0 98\na=rtpmap:98 TELEPHONE-EVENT/8000/1\n":                        98,
		"m=audio 1 RTP/AVP 0 97\r\na=rtpmap:97 telephone-event/48000\r\n":                     DefaultEventPT,
		"m=video 1 RTP/AVP 96\r\na=rtpmap:96 telephone-event/8000\r\n":                        DefaultEventPT,
		"m=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 96\r\na=rtpmap:96 telephone-event/8000\r\n": DefaultEventPT,
		"m=audio 1 RTP/AVP 0 3\r\na=rtpmap:3 telephone-event/8000\r\n":                        DefaultEventPT,
	} {
		if got := eventPayloadType([]byte(sdp)); got != want {
			t.Errorf("%q: %d, want %d", sdp, got, want)
		}
	}
}

func FuzzEventPayloadType(f *testing.F) {
	f.Add([]byte("m=audio 1 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"))
	f.Add([]byte("a=rtpmap:\r\nm=audio\na=rtpmap:96\na=rtpmap:x y/z/w"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pt := eventPayloadType(b); pt != DefaultEventPT && (pt < 96 || pt > 127) {
			t.Fatalf("payload type %d", pt)
		}
	})
}

func FuzzParseRTP(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xff, 0xff})
	f.Add([]byte{0x91, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 9})
	f.Add([]byte{0xa0, 101, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4, 0, 0, 0, 4})
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, ok := parseRTP(b)
		if !ok {
			return
		}
		if len(b) < 12 || b[0]>>6 != 2 || h.pt > 127 || len(payload) > len(b)-12 {
			t.Fatalf("accepted %x: %+v, payload %d bytes", b, h, len(payload))
		}
	})
}

// Keys a bridged customer presses give DTMF events on its leg and reach
// the agent's phone as RFC 4733 events too.
func TestDTMFRelayedAcrossBridge(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c, a := r.customer(), r.agent(0)
	r.must(r.sw.Bridge(bg, c, a))
	ea, _ := r.party(a)
	r.w.PressDigits(c, "42*")
	for _, d := range "42*" {
		r.ev.waitMatch(t, func(ev telephony.Event) bool {
			return ev.Leg == c && ev.Type == telephony.DTMF && ev.Digit == string(d)
		})
	}
	deadline := time.Now().Add(3 * time.Second)
	for ea.heardDigits() != "42*" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := ea.heardDigits(); got != "42*" {
		t.Fatalf("agent's phone got %q, want 42*", got)
	}
}
