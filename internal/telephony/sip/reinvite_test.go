package sip

import (
	"strings"
	"testing"
)

func TestOfferDirection(t *testing.T) {
	base := "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 %C\r\nt=0 0\r\n%S" +
		"m=audio 4000 RTP/AVP 0\r\n%M"
	mk := func(c, session, media string) []byte {
		r := strings.NewReplacer("%C", c, "%S", session, "%M", media)
		return []byte(r.Replace(base))
	}
	for _, tc := range []struct {
		body     []byte
		dir      string
		zero     bool
		answered string
	}{
		{mk("10.0.0.1", "", ""), "sendrecv", false, "sendrecv"},
		{mk("10.0.0.1", "", "a=sendonly\r\n"), "sendonly", false, "recvonly"},
		{mk("10.0.0.1", "a=inactive\r\n", ""), "inactive", false, "inactive"},
		{mk("10.0.0.1", "a=sendonly\r\n", "a=sendrecv\r\n"), "sendrecv", false, "sendrecv"}, // media level wins
		{mk("10.0.0.1", "", "a=recvonly\r\n"), "recvonly", false, "sendonly"},
		{mk("0.0.0.0", "", ""), "sendrecv", true, "sendrecv"},
		{[]byte("v=0\nc=IN IP4 1.2.3.4\nm=audio 1 RTP/AVP 0\nc=IN IP4 0.0.0.0\na=inactive\nm=video 2 RTP/AVP 96\na=sendrecv\n"), "inactive", true, "inactive"},
	} {
		dir, zero := offerDirection(tc.body)
		if dir != tc.dir || zero != tc.zero {
			t.Errorf("%q: %s %t, want %s %t", tc.body, dir, zero, tc.dir, tc.zero)
		}
		if got := mirrorDirection(dir); got != tc.answered {
			t.Errorf("mirror %s = %s, want %s", dir, got, tc.answered)
		}
	}
	sdp := withDirection(buildSDP("127.0.0.1", 4000, 1), "recvonly")
	if !strings.Contains(string(sdp), "a=recvonly\r\n") || strings.Contains(string(sdp), "sendrecv") {
		t.Errorf("withDirection: %s", sdp)
	}
}

func FuzzOfferDirection(f *testing.F) {
	f.Add([]byte("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"))
	f.Add([]byte("a=inactive\nm=audio\nm=audio 1 x\na=recvonly"))
	f.Add([]byte("c=IN IP4 /\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		dir, _ := offerDirection(body)
		switch dir {
		case "sendrecv", "sendonly", "recvonly", "inactive":
		default:
			t.Fatalf("direction %q", dir)
		}
	})
}
