package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

func requireSIPp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
			t.Fatal("sipp not installed (Debian package sip-tester) and CENTRALITA_REQUIRE_PEERS=1")
		}
		t.Skip("sipp not installed (Debian package sip-tester)")
	}
}

func sippCmd(ctx context.Context, t *testing.T, scenario string, args ...string) *exec.Cmd {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"-sf", scen, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-timeout", "15s", "-timeout_error", "-nostdin", "-trace_err"}
	cmd := exec.CommandContext(ctx, "sipp", append(base, args...)...)
	cmd.Dir = t.TempDir()
	return cmd
}

// sippRun is a SIPp scenario running in the background as a peer.
type sippRun struct {
	out  *syncBuffer
	done chan error
}

// startSIPp starts scenario listening on 127.0.0.1:port and returns once
// SIPp holds the port.
func startSIPp(ctx context.Context, t *testing.T, scenario string, port int, args ...string) *sippRun {
	t.Helper()
	cmd := sippCmd(ctx, t, scenario, append([]string{"-p", fmt.Sprint(port)}, args...)...)
	r := &sippRun{out: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	waitUDPBound(t, port)
	return r
}

// wait fails t unless the scenario ends successfully within 20 s.
func (r *sippRun) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, lastLines(r.out.String(), 40))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("sipp did not finish\n%s", lastLines(r.out.String(), 40))
	}
}

// waitUDPBound polls (bounded) until another process holds 127.0.0.1:port.
func waitUDPBound(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return // taken: the peer is listening
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on 127.0.0.1:%d", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Five customer calls from SIPp through a trunk: the switch answers each,
// SIPp hangs up with BYE.
func TestSIPpInboundCallsAnswered(t *testing.T) {
	requireSIPp(t)
	f := startSwitch(t, "127.0.0.1")
	const calls = 5
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the platform: answer every Incoming
		answered := map[string]bool{}
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			f.ev.mu.Lock()
			var todo []string
			for _, ev := range f.ev.all {
				if ev.Type == telephony.Incoming && !answered[ev.Leg] {
					answered[ev.Leg] = true
					todo = append(todo, ev.Leg)
				}
			}
			f.ev.mu.Unlock()
			for _, leg := range todo {
				_ = f.sw.Answer(bg, leg)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	cmd := sippCmd(ctx, t, "sipp_uac_inbound.xml", fmt.Sprintf("127.0.0.1:%d", f.sw.Addr().Port),
		"-p", fmt.Sprint(freeUDPPort(t)), "-m", fmt.Sprint(calls), "-r", "10", "-l", "5")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, lastLines(string(out), 40))
	}
	deadline := time.Now().Add(evWait)
	for {
		f.ev.mu.Lock()
		n := map[telephony.EventType]int{}
		for _, ev := range f.ev.all {
			if ev.Type != telephony.Hangup || ev.Cause == telephony.CauseNormal {
				n[ev.Type]++
			}
		}
		f.ev.mu.Unlock()
		if n[telephony.Incoming] == calls && n[telephony.Answered] == calls && n[telephony.Hangup] == calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want %d incoming, answered and normal hangups", n, calls)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// SIPp as a registered agent phone: the switch calls it, it rings and
// answers, the switch hangs up with BYE.
func TestSIPpAgentPhoneAnswersOriginate(t *testing.T) {
	requireSIPp(t)
	f := startSwitch(t)
	port := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	sipp := startSIPp(ctx, t, "sipp_uas_agent.xml", port, "-m", "1")

	reg := newDevice(t, "1001", "")
	reg.registerContact(f.sw, "device", port)
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: "station:1001", From: "+34600111222"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Ringing, evWait)
	f.ev.wait(t, leg, telephony.Answered, evWait)
	if err := f.sw.Hangup(bg, leg, ""); err != nil {
		t.Fatal(err)
	}
	sipp.wait(t)
}
