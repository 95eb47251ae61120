package sip

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// sdpMedia is what the switch needs from an SDP body: where the party
// wants its audio and which payload types it offered.
type sdpMedia struct {
	IP       net.IP
	Port     int
	Payloads []int
}

var errSDP = errors.New("sip: SDP not understood")

// maxSDP bounds what parseSDP reads.
const maxSDP = 16 << 10

// parseSDP reads the session (or first audio media) connection address and
// the first m=audio line. It never panics on any input.
func parseSDP(body []byte) (sdpMedia, error) {
	var out sdpMedia
	if len(body) == 0 || len(body) > maxSDP {
		return out, errSDP
	}
	var sessionIP, mediaIP net.IP
	inAudio, seenAudio := false, false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			inAudio = false
			if seenAudio {
				continue
			}
			f := strings.Fields(val)
			if len(f) < 3 || f[0] != "audio" {
				continue
			}
			portStr, _, _ := strings.Cut(f[1], "/")
			p, err := strconv.Atoi(portStr)
			if err != nil || p < 0 || p > 65535 {
				return out, fmt.Errorf("%w: bad media port", errSDP)
			}
			out.Port = p
			for _, pt := range f[3:] {
				n, err := strconv.Atoi(pt)
				if err != nil || n < 0 || n > 127 {
					continue
				}
				out.Payloads = append(out.Payloads, n)
			}
			inAudio, seenAudio = true, true
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
				continue
			}
			addr, _, _ := strings.Cut(f[2], "/")
			ip := net.ParseIP(addr)
			if ip == nil {
				continue
			}
			if inAudio {
				mediaIP = ip
			} else if !seenAudio {
				sessionIP = ip
			}
		}
	}
	if !seenAudio {
		return out, fmt.Errorf("%w: no audio media", errSDP)
	}
	out.IP = mediaIP
	if out.IP == nil {
		out.IP = sessionIP
	}
	if out.IP == nil {
		return out, fmt.Errorf("%w: no connection address", errSDP)
	}
	return out, nil
}

// hasPCMU reports whether payload type 0 was offered.
func (m sdpMedia) hasPCMU() bool {
	for _, p := range m.Payloads {
		if p == 0 {
			return true
		}
	}
	return false
}

// buildSDP is our offer or answer: PCMU and telephone-event at ip:port.
func buildSDP(ip string, port int, sessID uint64) []byte {
	return []byte(fmt.Sprintf("v=0\r\n"+
		"o=centralita %d %d IN IP4 %s\r\n"+
		"s=centralita\r\n"+
		"c=IN IP4 %s\r\n"+
		"t=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\n"+
		"a=fmtp:101 0-16\r\n"+
		"a=ptime:20\r\n"+
		"a=sendrecv\r\n", sessID, sessID, ip, ip, port))
}
