package sip

import (
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
