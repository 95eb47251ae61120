package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sippRegister is a SIPp scenario: REGISTER, take the 401 challenge, answer
// it with [authentication] (-au/-ap), expect the final status.
const sippRegister = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register with digest">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:1001@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 300
      User-Agent: SIPp
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:1001@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      [authentication]
      Max-Forwards: 70
      Expires: 300
      User-Agent: SIPp
      Content-Length: 0

    ]]>
  </send>
  <recv response="%d"/>
</scenario>
`

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func runSIPp(t *testing.T, f *fixture, password string, final int) {
	t.Helper()
	dir := t.TempDir()
	scen := filepath.Join(dir, "register.xml")
	if err := os.WriteFile(scen, []byte(fmt.Sprintf(sippRegister, final)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scen,
		fmt.Sprintf("127.0.0.1:%d", f.port),
		"-i", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(t)),
		"-au", "1001", "-ap", password,
		"-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp (want %d): %v\n%s\nregistrar log:\n%s", final, err, lastLines(string(out), 40), f.logs.String())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestSIPpRegisterWithChallenge(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
			t.Fatal("sipp not installed (Debian package sip-tester) and CENTRALITA_REQUIRE_PEERS=1")
		}
		t.Skip("sipp not installed (Debian package sip-tester)")
	}
	f := startRegistrar(t)

	runSIPp(t, f, "device", 200)
	cs := f.reg.Lookup("1001")
	if len(cs) != 1 || !strings.HasPrefix(cs[0].URI, "sip:1001@127.0.0.1:") {
		t.Fatalf("after SIPp REGISTER lookup %+v", cs)
	}
	if !cs[0].Expires.Equal(f.clk.Now().Add(300 * time.Second)) {
		t.Fatalf("expires %v", cs[0].Expires)
	}

	runSIPp(t, f, "wrong", 403)
	if !strings.Contains(f.logs.String(), "wrong password") {
		t.Error("wrong password not logged")
	}
}
