package sip

import (
	"errors"
	"testing"
)

func TestParseDTMFInfo(t *testing.T) {
	for _, c := range []struct {
		mt, body, want string
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", "5"},
		{"application/dtmf-relay", "Signal= *\nDuration= 250", "*"},
		{"application/dtmf-relay", "signal=#", "#"},
		{"application/dtmf-relay", "Duration=100\r\nSignal=11\r\n", "#"},
		{"application/dtmf-relay", "Signal=10", "*"},
		{"application/dtmf-relay", "Signal=d", "D"},
		{"application/dtmf", "7", "7"},
		{"application/dtmf", " 9\r\n", "9"},
		{"application/dtmf", "A", "A"},
	} {
		got, err := parseDTMFInfo(c.mt, []byte(c.body))
		if err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.mt, c.body, got, err, c.want)
		}
	}
	for _, c := range []struct{ mt, body string }{
		{"application/dtmf-relay", "Duration=160"},
		{"application/dtmf-relay", "Signal=5\nSignal=6"},
		{"application/dtmf-relay", "Signal=55"},
		{"application/dtmf-relay", "Signal=E"},
		{"application/dtmf-relay", "Signal"},
		{"application/dtmf-relay", "Signal=16"},
		{"application/dtmf", ""},
		{"application/dtmf", "123"},
		{"application/dtmf", "x"},
		{"text/plain", "5"},
		{"application/dtmf", string(make([]byte, 2000))},
	} {
		if got, err := parseDTMFInfo(c.mt, []byte(c.body)); !errors.Is(err, errDTMFBody) {
			t.Errorf("%s %q: %q %v, want an error", c.mt, c.body, got, err)
		}
	}
	if mediaType(" Application/DTMF-Relay ; charset=x") != "application/dtmf-relay" {
		t.Error("mediaType does not drop parameters and case")
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160", "5", "Signal=11", "signal = #\n", "=\n=", "Signal=\xff"} {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, relay bool, body []byte) {
		mt := "application/dtmf"
		if relay {
			mt = "application/dtmf-relay"
		}
		d, err := parseDTMFInfo(mt, body)
		if err != nil {
			return
		}
		if len(d) != 1 || !(d[0] >= '0' && d[0] <= '9' || d[0] == '*' || d[0] == '#' || d[0] >= 'A' && d[0] <= 'D') {
			t.Fatalf("%q gave digit %q", body, d)
		}
	})
}
