package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestTelephonySettings(t *testing.T) {
	c, err := Load(ModeDemo, flags(t, ModeDemo), environ())
	if err != nil || c.Telephony != TelephonySim || c.SIPListen != DefaultSIPListen || c.RTPPorts != DefaultRTPPorts {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if got := c.RecordingsPath(); got != filepath.Join("centralita-data", "recordings") {
		t.Fatalf("RecordingsPath = %q", got)
	}
	c, err = Load(ModeDemo, flags(t, ModeDemo, "--telephony", "sip", "--sip", "127.0.0.2:5070", "--rtp-ports", "30000-30100", "--recordings-dir", "/tmp/rec"), environ())
	if err != nil || c.Telephony != "sip" || c.SIPListen != "127.0.0.2:5070" || c.RecordingsPath() != "/tmp/rec" {
		t.Fatalf("flags: %+v %v", c, err)
	}
	if lo, hi, err := c.RTPPortRange(); lo != 30000 || hi != 30100 || err != nil {
		t.Fatalf("RTPPortRange = %d %d %v", lo, hi, err)
	}
	c, err = Load(ModeDemo, flags(t, ModeDemo, "--sip-listen", "127.0.0.1:5080"), environ("CENTRALITA_TELEPHONY=sip", "CENTRALITA_RTP_PORTS="))
	if err != nil || c.Telephony != "sip" || c.SIPListen != "127.0.0.1:5080" {
		t.Fatalf("env + long flag: %+v %v", c, err)
	}
	if lo, hi, err := c.RTPPortRange(); lo != 0 || hi != 0 || err != nil {
		t.Fatalf("empty range = %d %d %v", lo, hi, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--telephony", "pbx"}, `setting telephony = "pbx" is invalid: must be "sim"`},
		{[]string{"--telephony", "sip", "--sip", "0.0.0.0:5060"}, `setting sip_listen = "0.0.0.0:5060" is invalid: must be IP:port with a concrete IP`},
		{[]string{"--telephony", "sip", "--sip", "localhost:5060"}, `setting sip_listen = "localhost:5060" is invalid`},
		{[]string{"--telephony", "sip", "--sip", "127.0.0.1"}, `setting sip_listen = "127.0.0.1" is invalid`},
		{[]string{"--rtp-ports", "20000"}, `setting rtp_ports = "20000" is invalid: must be a port range "MIN-MAX"`},
		{[]string{"--rtp-ports", "20000-10000"}, `setting rtp_ports = "20000-10000" is invalid: MAX must be above MIN`},
		{[]string{"--rtp-ports", "80-90"}, `setting rtp_ports = "80-90" is invalid: ports must be between 1024 and 65535`},
		{[]string{"--rtp-ports", "a-b"}, `setting rtp_ports = "a-b" is invalid`},
	} {
		_, err := Load(ModeDemo, flags(t, ModeDemo, tc.args...), environ())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
