package sip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// sdpMedia is what the switch needs from an SDP body: where the party
// wants its audio, which payload types it offered, and how (the transport
// protocol, and the SDES keys of an RTP/SAVP stream).
type sdpMedia struct {
	IP       net.IP
	Port     int
	Payloads []int
	// Proto is the m=audio line's transport protocol: "RTP/AVP" (plain),
	// "RTP/SAVP" (SRTP, keys in a=crypto), or whatever else was written.
	Proto string
	// Crypto are the audio stream's a=crypto lines we can use, in the
	// party's order of preference; CryptoErrs say why the others are not.
	Crypto     []sdesCrypto
	CryptoErrs []error
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
			out.Proto = f[2]
			for _, pt := range f[3:] {
				n, err := strconv.Atoi(pt)
				if err != nil || n < 0 || n > 127 {
					continue
				}
				out.Payloads = append(out.Payloads, n)
			}
			inAudio, seenAudio = true, true
		case 'a':
			// RFC 4568: a=crypto is a media-level attribute.
			if rest, ok := strings.CutPrefix(val, "crypto:"); ok && inAudio && len(out.Crypto)+len(out.CryptoErrs) < maxCryptoLines {
				if c, err := parseCrypto(rest); err != nil {
					out.CryptoErrs = append(out.CryptoErrs, err)
				} else {
					out.Crypto = append(out.Crypto, c)
				}
			}
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

// buildSDP is our plain offer or answer: PCMU and telephone-event at
// ip:port over RTP/AVP.
func buildSDP(ip string, port int, sessID uint64) []byte {
	return buildSecureSDP(ip, port, sessID, "", nil)
}

// buildSecureSDP is buildSDP with SRTP: proto (RTP/SAVP, "" for it) and
// our a=crypto line; a nil c is plain RTP/AVP.
func buildSecureSDP(ip string, port int, sessID uint64, proto string, c *sdesCrypto) []byte {
	crypto := ""
	switch {
	case c == nil:
		proto = "RTP/AVP"
	case proto == "":
		proto = protoSAVP
	}
	if c != nil {
		crypto = "a=crypto:" + c.attr() + "\r\n"
	}
	return []byte(fmt.Sprintf("v=0\r\n"+
		"o=centralita %d %d IN IP4 %s\r\n"+
		"s=centralita\r\n"+
		"c=IN IP4 %s\r\n"+
		"t=0 0\r\n"+
		"m=audio %d %s 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\n"+
		"a=fmtp:101 0-16\r\n"+
		"a=ptime:20\r\n"+
		"%s"+
		"a=sendrecv\r\n", sessID, sessID, ip, ip, port, proto, crypto))
}

// ------------------------------------------------------ SDES (RFC 4568) --

// The transport protocols of SRTP media with SDES keys: RTP/SAVP (RFC
// 3711), and RTP/SAVPF (the same with RTCP feedback, which we never send:
// answered as offered so that the answer matches).
const (
	protoSAVP  = "RTP/SAVP"
	protoSAVPF = "RTP/SAVPF"
)

// secure reports whether the stream asks for encrypted media (any SAVP
// profile, DTLS-SRTP's UDP/TLS/RTP/SAVP(F) included): such an offer is
// never answered in the clear.
func (m sdpMedia) secure() bool {
	p := strings.ToUpper(m.Proto)
	return strings.HasSuffix(p, "/SAVP") || strings.HasSuffix(p, "/SAVPF")
}

// sdes reports whether the stream is SRTP keyed in the SDP itself (SDES),
// the kind we speak.
func (m sdpMedia) sdes() bool {
	p := strings.ToUpper(m.Proto)
	return p == protoSAVP || p == protoSAVPF
}

// Crypto suites we speak (RFC 4568 section 6.2). Both use AES-128 in
// counter mode and a 30-byte master key||salt; _32 has a shorter
// authentication tag on SRTP packets.
const (
	suiteSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	suiteSHA1_32 = "AES_CM_128_HMAC_SHA1_32"
)

// sdesKeyLen is the inline key||salt length of our suites: a 16-byte
// master key and a 14-byte master salt.
const sdesKeyLen = 30

// maxCryptoLines bounds how many a=crypto lines of one offer are read.
const maxCryptoLines = 16

// minLifetime is the shortest master key lifetime (in packets) we accept:
// we never re-key on our own, and 2^31 packets are about 500 days of audio
// at 50 packets a second. A shorter lifetime would have us break RFC 3711
// in a long call.
const minLifetime = 1 << 31

// sdesCrypto is one a=crypto line: its tag, its suite and the 30 bytes of
// master key and salt. Its String never shows the key.
type sdesCrypto struct {
	Tag   int
	Suite string
	Key   []byte
}

var errCrypto = errors.New("sip: a=crypto not usable")

// String names the line without its key (logs).
func (c sdesCrypto) String() string { return fmt.Sprintf("%d %s inline:…", c.Tag, c.Suite) }

// attr is the attribute's value, what follows "a=crypto:".
func (c sdesCrypto) attr() string {
	return strconv.Itoa(c.Tag) + " " + c.Suite + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
}

// parseCrypto reads an a=crypto value ("1 AES_CM_128_HMAC_SHA1_80
// inline:KEY[|LIFETIME]"). Refused, each with an error that says why
// (and never shows the key): an unknown suite, a key that is not base64 of
// 30 bytes, several keys, a master key index (MKI), a lifetime under 2^31
// packets, any session parameter but the window size hint WSH. It never
// panics on any input.
func parseCrypto(v string) (sdesCrypto, error) {
	var c sdesCrypto
	bad := func(format string, args ...any) (sdesCrypto, error) {
		return sdesCrypto{}, fmt.Errorf("%w: "+format, append([]any{errCrypto}, args...)...)
	}
	f := strings.Fields(v)
	if len(f) < 3 {
		return bad("want TAG SUITE inline:KEY")
	}
	if !digits(f[0], 9) {
		return bad("tag %.12q is not 1 to 9 digits", f[0])
	}
	c.Tag, _ = strconv.Atoi(f[0])
	switch f[1] {
	case suiteSHA1_80, suiteSHA1_32:
		c.Suite = f[1]
	default:
		return bad("suite %.40q is not %s or %s", f[1], suiteSHA1_80, suiteSHA1_32)
	}
	if strings.Contains(f[2], ";") {
		return bad("several keys in one line are not supported")
	}
	inline, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return bad("key method is not inline")
	}
	key, params, _ := strings.Cut(inline, "|")
	var err error
	if c.Key, err = base64.StdEncoding.DecodeString(key); err != nil {
		return bad("key is not base64")
	}
	if len(c.Key) != sdesKeyLen {
		return bad("key||salt is %d bytes, %s needs %d", len(c.Key), c.Suite, sdesKeyLen)
	}
	if params != "" {
		lifetime, mki, _ := strings.Cut(params, "|")
		if strings.Contains(lifetime, ":") { // no lifetime, an MKI
			lifetime, mki = "", lifetime
		}
		if mki != "" {
			return bad("a master key index (MKI) is not supported")
		}
		if lifetime != "" && !longLifetime(lifetime) {
			return bad("key lifetime %.24q is under 2^31 packets (we do not re-key)", lifetime)
		}
	}
	for _, p := range f[3:] {
		if n, ok := strings.CutPrefix(p, "WSH="); ok {
			if w, err := strconv.Atoi(n); digits(n, 9) && err == nil && w >= 64 {
				continue // a hint of the replay window the party keeps
			}
		}
		return bad("session parameter %.24q is not supported", p)
	}
	return c, nil
}

// longLifetime reports whether an SDES lifetime ("2^31", or a number of
// packets) is at least minLifetime.
func longLifetime(s string) bool {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.Atoi(exp)
		return digits(exp, 2) && err == nil && n >= 31 && n <= 48
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return digits(s, 15) && err == nil && n >= minLifetime
}

// digits reports whether s is 1 to max decimal digits.
func digits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
