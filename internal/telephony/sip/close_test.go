package sip

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// goroutineStacks is every goroutine's stack, one string each.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// ownGoroutines returns, by goroutine id, the goroutines running code of
// this package's non-test files (RTP read loops, players, room tickers,
// recorders, the event pump, re-INVITE retransmissions, browser shims…).
// sipgo's own goroutines and the test harness's are not counted (their
// frames are elsewhere or in _test.go files).
func ownGoroutines() map[string]string {
	out := map[string]string{}
	for _, g := range goroutineStacks() {
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		for _, m := range ownFrame.FindAllStringSubmatch(g, -1) {
			if !strings.HasSuffix(m[1], "_test") {
				out[id] = g
				break
			}
		}
	}
	return out
}

// ownFrame matches a stack frame in a file of this package.
var ownFrame = regexp.MustCompile(`/internal/telephony/sip/([a-z0-9_]+)\.go:\d+`)

// waitNoNewGoroutines polls (bounded) until no goroutine runs this
// package's code but those in before (a goleak-style check without the
// module); stragglers that exit on their own after Close (a room's ticker
// sees its stop on its next tick) get a generous deadline.
func waitNoNewGoroutines(t *testing.T, before map[string]string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var left []string
		for id, g := range ownGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the switch outlive Close:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Close with every kind of live state — a bridged call, a conference with
// a ticking mixer, a recording, music on hold, DTMF being sent, an
// originated call still ringing, an echo test call — leaves no goroutine
// of the switch behind, closes every RTP socket and empties its maps.
// Not parallel: it counts every goroutine of the process.
func TestCloseLeavesNothingBehind(t *testing.T) {
	before := ownGoroutines()
	r := newRig(t)
	c, a, b := r.customer(), r.agent(0), r.agent(1)
	r.must(r.sw.Bridge(bg, c, a))
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	r.must(r.sw.Join(bg, conf, b, telephony.Full, ""))
	r.must(r.sw.Record(bg, c, true))
	r.must(r.sw.Hold(bg, b))
	r.must(r.sw.SendDTMF(bg, a, "123456789"))
	ringing, err := r.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + worldStations[2]})
	r.must(err)
	r.ev.wait(t, ringing, telephony.Ringing, evWait)
	echo, res := r.w.cust.invite(r.sw, "+34600111222", EchoExtension)
	if err := waitErr(t, res, evWait); err != nil {
		t.Fatalf("echo call: %v", err)
	}
	_ = echo

	var meds []*rtpLeg
	r.sw.mu.Lock()
	for _, l := range r.sw.legs {
		meds = append(meds, l.med)
	}
	for _, e := range r.sw.echoes {
		meds = append(meds, e.med)
	}
	r.sw.mu.Unlock()
	if len(meds) != 5 {
		t.Fatalf("%d media legs, want 5", len(meds))
	}

	if err := r.sw.Close(); err != nil {
		t.Fatal(err)
	}
	for i, m := range meds {
		select {
		case <-m.done:
		default:
			t.Errorf("media %d: RTP socket still read after Close returned", i)
		}
	}
	r.sw.mu.Lock()
	nl, nc, no, nr, ne := len(r.sw.legs), len(r.sw.byCallID), len(r.sw.order), len(r.sw.rooms), len(r.sw.echoes)
	r.sw.mu.Unlock()
	if nl+nc+no+nr+ne != 0 {
		t.Errorf("after Close: %d legs, %d call-ids, %d ordered, %d rooms, %d echoes", nl, nc, no, nr, ne)
	}
	waitNoNewGoroutines(t, before, 10*time.Second)
}

// A hung-up call leaves nothing in the switch's maps: legs, Call-IDs, the
// creation order, and its media goroutines are gone.
func TestHangupCleansUp(t *testing.T) {
	r := newRig(t)
	c, a := r.customer(), r.agent(0)
	r.must(r.sw.Bridge(bg, c, a))
	conf, err := r.sw.NewConference(bg)
	r.must(err)
	b := r.agent(1)
	r.must(r.sw.Join(bg, conf, b, telephony.Full, ""))
	r.must(r.sw.Record(bg, b, true))
	var meds []*rtpLeg
	r.sw.mu.Lock()
	for _, l := range r.sw.legs {
		meds = append(meds, l.med)
	}
	r.sw.mu.Unlock()
	r.w.HangupPeer(c) // BYE from the customer
	r.must(r.sw.Hangup(bg, a, ""))
	r.must(r.sw.Hangup(bg, b, ""))
	for _, l := range []string{c, a, b} {
		r.ev.wait(t, l, telephony.Hangup, evWait)
	}
	r.must(r.sw.EndConference(bg, conf))
	deadline := time.Now().Add(10 * time.Second)
	for _, m := range meds {
		select {
		case <-m.done:
		case <-time.After(time.Until(deadline)):
			t.Fatal("an RTP socket of a hung-up leg is still open")
		}
	}
	r.sw.mu.Lock()
	nl, nc, no, nr := len(r.sw.legs), len(r.sw.byCallID), len(r.sw.order), len(r.sw.rooms)
	r.sw.mu.Unlock()
	if nl+nc+no+nr != 0 {
		t.Errorf("after hangups: %d legs, %d call-ids, %d ordered, %d rooms", nl, nc, no, nr)
	}
}
