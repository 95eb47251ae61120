package main

import (
	"bufio"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `centralita demo --telephony sip` runs the SIP switch: the banner says
// how to register a phone and what to dial, and the registrar answers
// OPTIONS on the printed address. A bad --sip stops it naming the setting.
func TestDemoWithSIP(t *testing.T) {
	bin := build(t)
	out, err := runCmd(t, bin, nil, "demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--telephony", "sip", "--sip", "0.0.0.0:5060")
	if err == nil || !strings.Contains(out, `setting sip_listen = "0.0.0.0:5060" is invalid`) {
		t.Fatalf("unspecified SIP address: %v %s", err, out)
	}

	cmd := exec.Command(bin, "demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--telephony", "sip", "--sip", "127.0.0.1:0", "--rtp-ports", "")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var banner string
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(banner, "Recordings go to") && time.Now().Before(deadline) && sc.Scan() {
		banner += sc.Text() + "\n"
	}
	for _, want := range []string{"user 1001 (to 1005), password device", "2001 -> Ventas", "2002 -> Soporte", "600 -> echo test", "+34910000001"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	m := regexp.MustCompile(`SIP switch on udp:(127\.0\.0\.1:\d+)`).FindStringSubmatch(banner)
	if m == nil || strings.HasSuffix(m[1], ":0") {
		t.Fatalf("no bound SIP address in the banner:\n%s", banner)
	}
	c, err := net.Dial("udp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	opt := "OPTIONS sip:" + m[1] + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-h5test\r\nMax-Forwards: 70\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:" + m[1] + ">\r\nCall-ID: h5-options-probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(opt)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("OPTIONS: %v %q", err, buf[:n])
	}
}
