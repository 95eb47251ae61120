package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// DTMF. Received: RFC 4733 telephone-events (the payload type the party's
// SDP gives, default 101) go through an audio.Receiver in the leg's read
// loop, one telephony.DTMF event per key press (partyDigit). Sent:
// SendDTMF queues digits on the leg's player, which sends each as
// audio.Packets — one packet every 20 ms, all with the timestamp of the
// press, the marker on the first, three end packets — lasting
// dtmfDuration, dtmfGap apart, while the leg's normal audio pauses.

// SendDTMF plays digits (0-9 * # A-D; a-d mean A-D) to an answered leg's
// party as RFC 4733 events, after any digits still being sent. An empty
// string does nothing; any other character is an error and nothing is sent.
func (s *Switch) SendDTMF(ctx context.Context, id, digits string) error {
	d, err := normalizeDigits(digits)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.answered(id)
	if err != nil {
		return err
	}
	if len(d) > 0 {
		l.med.pl.sendDigits(d)
	}
	return nil
}

// normalizeDigits checks DTMF digits, upper-casing a-d.
func normalizeDigits(digits string) ([]byte, error) {
	out := make([]byte, len(digits))
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c >= 'a' && c <= 'd' {
			c -= 'a' - 'A'
		}
		if !audio.ValidDigit(string(c)) {
			return nil, fmt.Errorf("sip: %q in %q is not a DTMF digit (0-9 * # A-D)", digits[i], digits)
		}
		out[i] = c
	}
	return out, nil
}

// eventPayloadType finds the telephone-event payload type in an SDP body
// ("a=rtpmap:N telephone-event/8000" in the first audio section), or
// DefaultEventPT when there is none. It never panics on any input.
func eventPayloadType(sdp []byte) int {
	if len(sdp) > maxSDP {
		return DefaultEventPT
	}
	inAudio := false
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m="):
			if inAudio {
				return DefaultEventPT // the first audio section had none
			}
			inAudio = strings.HasPrefix(line, "m=audio ")
		case inAudio && strings.HasPrefix(line, "a=rtpmap:"):
			pt, enc, ok := strings.Cut(line[len("a=rtpmap:"):], " ")
			if !ok {
				continue
			}
			name, rate, _ := strings.Cut(strings.TrimSpace(enc), "/")
			rate, _, _ = strings.Cut(rate, "/")
			n, err := strconv.Atoi(pt)
			if err != nil || n < 96 || n > 127 || !strings.EqualFold(name, "telephone-event") || rate != "8000" {
				continue
			}
			return n
		}
	}
	return DefaultEventPT
}
