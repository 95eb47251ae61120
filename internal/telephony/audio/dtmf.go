package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RFC 4733 telephone-events carry DTMF out of band, one 4-byte payload per
// RTP packet:
//
//	event (8) | E (1) R (1) volume (6) | duration (16)
//
// All packets of one key press share the RTP timestamp of its start; the
// duration grows as the key is held and the last packet, with E set, is
// sent three times. We write this ourselves because diago misses digits whose
// first packet has duration 0 (reference/go-stack.md §1.2), which SIPp's DTMF
// captures and several PBXs send.

const dtmfDigits = "0123456789*#ABCD" // event codes 0-15

// Event is one RFC 4733 DTMF payload.
type Event struct {
	Digit    string // one of 0-9 * # A-D
	End      bool   // the E bit: the key was released
	Volume   uint8  // power level in -dBm0, 0-63 (RFC 4733 §2.3.5)
	Duration uint16 // in RTP timestamp units (samples at 8 kHz) since the press began
}

// ErrNotDTMF is returned (wrapped) by ParseEvent for a telephone-event that
// is not a DTMF digit (flash, modem tones, …); receivers ignore those.
var ErrNotDTMF = errors.New("not a DTMF digit")

// ValidDigit reports whether digit is one DTMF key: 0-9 * # A-D.
func ValidDigit(digit string) bool {
	_, ok := eventCode(digit)
	return ok
}

func eventCode(digit string) (byte, bool) {
	if len(digit) != 1 {
		return 0, false
	}
	for i := range len(dtmfDigits) {
		if dtmfDigits[i] == digit[0] {
			return byte(i), true
		}
	}
	return 0, false
}

// ParseEvent decodes a telephone-event payload. Bytes after the first four
// are ignored.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < 4 {
		return Event{}, fmt.Errorf("dtmf: payload of %d bytes, need 4", len(payload))
	}
	if int(payload[0]) >= len(dtmfDigits) {
		return Event{}, fmt.Errorf("dtmf: event %d: %w", payload[0], ErrNotDTMF)
	}
	return Event{
		Digit:    dtmfDigits[payload[0] : payload[0]+1],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// Marshal encodes the event as a 4-byte payload (the R bit clear, Volume
// masked to 6 bits). It returns nil if Digit is not a DTMF key.
func (e Event) Marshal() []byte {
	code, ok := eventCode(e.Digit)
	if !ok {
		return nil
	}
	b := []byte{code, e.Volume & 0x3F, 0, 0}
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

// DefaultVolume is the level we send: -10 dBm0, a usual DTMF level.
const DefaultVolume = 10

// Packets returns the telephone-event payloads of one key press lasting
// durationSamples (8 kHz units; 800 = 100 ms, clamped to 160..65535), in
// order: a first event with duration 160 (never 0, so we never trigger the
// zero-duration interop bug ourselves), updates growing by 160, then the
// final duration with End set, three times. The caller sends them in RTP
// packets of the telephone-event payload type, one every 20 ms, all with the
// timestamp of the press's start, the marker bit on the first only, and the
// sequence number advancing as usual. It returns nil for an invalid digit.
func Packets(digit string, durationSamples int) []Event {
	if !ValidDigit(digit) {
		return nil
	}
	total := min(max(durationSamples, FrameSamples), 0xFFFF)
	var evs []Event
	for d := FrameSamples; d < total; d += FrameSamples {
		evs = append(evs, Event{Digit: digit, Volume: DefaultVolume, Duration: uint16(d)})
	}
	if len(evs) == 0 {
		// A press of one packet: still a start before the ends, so a
		// receiver that ignores lone end packets hears it.
		evs = append(evs, Event{Digit: digit, Volume: DefaultVolume, Duration: uint16(total)})
	}
	end := Event{Digit: digit, End: true, Volume: DefaultVolume, Duration: uint16(total)}
	return append(evs, end, end, end)
}

// Receiver turns a stream of telephone-event packets into key presses, each
// reported exactly once. A press is identified by its RTP timestamp (and
// digit): the first packet of a new press reports the digit at once, whatever
// its duration (0 included) and even if it already has the End bit (the
// start packets were lost); further packets of that press, retransmitted
// ends included, report nothing; a new timestamp is a new press even if the
// previous one never ended. Packets that are not DTMF are ignored. The zero
// value is ready to use; a Receiver is not safe for concurrent use.
type Receiver struct {
	// recent presses, so that late or reordered packets of an earlier
	// press are not taken for a new one.
	seen [8]press
	n    int // presses recorded (index of the next slot is n % len(seen))
}

type press struct {
	ts   uint32
	code byte
}

// Feed handles one telephone-event payload whose RTP packet had timestamp
// ts. It returns the digit when the packet starts a new key press.
func (r *Receiver) Feed(ts uint32, payload []byte) (digit string, ok bool) {
	ev, err := ParseEvent(payload)
	if err != nil {
		return "", false
	}
	p := press{ts: ts, code: payload[0]}
	for i := range min(r.n, len(r.seen)) {
		if r.seen[i] == p {
			return "", false
		}
	}
	r.seen[r.n%len(r.seen)] = p
	r.n++
	return ev.Digit, true
}

// Reset forgets past presses (for a new RTP stream, e.g. a new SSRC).
func (r *Receiver) Reset() { *r = Receiver{} }
