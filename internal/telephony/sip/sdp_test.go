package sip

import (
	"testing"
)

func TestParseSDP(t *testing.T) {
	m, err := parseSDP(buildSDP("127.0.0.1", 4000, 7))
	if err != nil || m.IP.String() != "127.0.0.1" || m.Port != 4000 || !m.hasPCMU() {
		t.Fatalf("%+v %v", m, err)
	}
	media := "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nm=audio 6000 RTP/AVP 8 0\r\nc=IN IP4 10.0.0.2\r\n"
	m, err = parseSDP([]byte(media))
	if err != nil || m.IP.String() != "10.0.0.2" || m.Port != 6000 || len(m.Payloads) != 2 {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"", "v=0\r\n", "m=audio 1 RTP/AVP 0\r\n", "c=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n"} {
		if _, err := parseSDP([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add(buildSDP("127.0.0.1", 4000, 1))
	f.Add([]byte("v=0\nc=IN IP6 ::1\nm=audio 0 RTP/AVP\n"))
	f.Add([]byte("m=audio 1/2 RTP/AVP 0 101 x\r\nc=IN IP4 1.2.3.4/127\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSDP(b)
		if err == nil && (m.IP == nil || m.Port < 0 || m.Port > 65535) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
