package sip

import (
	"net"
	"strings"
	"testing"
	"time"
)

// A call to 600 is answered by the switch itself, with no event: the
// caller hears the greeting, then its own audio back on the switch's SSRC.
func TestEchoExtension(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	call, res := r.w.cust.invite(r.sw, "+34600111222", EchoExtension)
	e := listen(call)
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("INVITE to %s: %v", EchoExtension, err)
	}
	if !e.waitTone(0, worldEcho, 10, 3*time.Second) {
		t.Fatal("no greeting")
	}
	// the greeting (0.3 s) ends; then what we say comes back
	m := newMouth(call, 0xabcdef)
	p := e.pos()
	go m.tone(1000, 40, 20*time.Millisecond)
	if !e.waitTone(p, 1000, 20, 3*time.Second) {
		t.Fatalf("echo: %d frames of our 1000 Hz back", framesWith(e.since(p), 1000))
	}
	e.mu.Lock()
	for i, h := range e.headers {
		if h.ssrc == m.ssrc || h.ssrc != e.headers[0].ssrc {
			t.Errorf("packet %d: ssrc %x (ours %x, switch's %x)", i, h.ssrc, m.ssrc, e.headers[0].ssrc)
			break
		}
	}
	e.mu.Unlock()
	if err := call.cli.Bye(bg); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	r.sw.mu.Lock()
	n := len(r.sw.echoes)
	r.sw.mu.Unlock()
	if n != 0 {
		t.Errorf("%d echo calls after BYE", n)
	}
	r.ev.mu.Lock()
	defer r.ev.mu.Unlock()
	if len(r.ev.all) != 0 {
		t.Errorf("events for an echo call: %v", r.ev.all)
	}
}

// A re-INVITE in an echo call (hold, a session refresh) is answered in
// the same call: 200 with the same media port, no second echo call, and
// after the BYE the call's only RTP socket is closed.
func TestEchoReinvite(t *testing.T) {
	t.Parallel()
	cust := newDevice(t, "customer", "")
	f := startSwitch(t, cust.addr.String())
	call, res := cust.invite(f.sw, "+34600111222", EchoExtension)
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("INVITE to %s: %v", EchoExtension, err)
	}
	echoes := func() []*echoCall {
		f.sw.mu.Lock()
		defer f.sw.mu.Unlock()
		var out []*echoCall
		for _, e := range f.sw.echoes {
			out = append(out, e)
		}
		return out
	}
	first := echoes()
	if len(first) != 1 {
		t.Fatalf("%d echo calls, want 1", len(first))
	}
	port := call.rtp.LocalAddr().(*net.UDPAddr).Port
	r := customerReinvite(t, call, withDirection(buildSDP("127.0.0.1", port, 9), "sendonly"))
	if r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=recvonly") {
		t.Fatalf("re-INVITE answered %d:\n%s", r.StatusCode, r.Body())
	}
	if a, err := parseSDP(r.Body()); err != nil || a.Port != first[0].med.Port() {
		t.Errorf("re-INVITE's answer %v (%v), want the call's port %d", a, err, first[0].med.Port())
	}
	if now := echoes(); len(now) != 1 || now[0] != first[0] {
		t.Fatalf("after the re-INVITE: %d echo calls (a new one: %v)", len(now), len(now) == 1 && now[0] != first[0])
	}
	if err := call.cli.Bye(bg); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	select {
	case <-first[0].med.done:
	case <-time.After(evWait):
		t.Fatal("the echo call's RTP socket is still open after BYE")
	}
	if n := len(echoes()); n != 0 {
		t.Errorf("%d echo calls after BYE", n)
	}
}
