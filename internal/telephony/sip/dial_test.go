package sip

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// Sending an INVITE may take seconds (a host name to resolve, a TLS
// connection to open): dial sends it without the switch's lock. These
// tests use a carrier that accepts the TCP connection and never answers
// the TLS handshake, so the INVITE to it stays "being sent" until
// dialResolveTimeout, and do other things meanwhile.

// stallingPeer accepts TCP connections and never says a word.
type stallingPeer struct {
	addr     string
	accepted chan struct{} // one per connection, once it is accepted
	mu       sync.Mutex
	conns    []net.Conn
}

func newStallingPeer(t *testing.T) *stallingPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingPeer{addr: ln.Addr().String(), accepted: make(chan struct{}, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

// waitAccepted returns once the switch has connected: its INVITE is then
// being sent (the handshake that never ends).
func (p *stallingPeer) waitAccepted(t *testing.T) {
	t.Helper()
	select {
	case <-p.accepted:
	case <-time.After(evWait):
		t.Fatal("the switch never connected to the carrier")
	}
}

// startStalledSwitch is a TLS switch whose trunk "slow" is a stallingPeer.
func startStalledSwitch(t *testing.T) (*swFixture, *stallingPeer) {
	t.Helper()
	ca := newTestCA(t)
	p := newStallingPeer(t)
	f := startTLSSwitch(t, ca, Trunk{Name: "slow", Address: p.addr, Transport: "tls", Country: "ES"})
	return f, p
}

type originated struct {
	leg string
	err error
}

// originateAsync starts an Originate; its result comes on the channel.
func originateAsync(f *swFixture, req telephony.OriginateRequest) chan originated {
	ch := make(chan originated, 1)
	go func() {
		leg, err := f.sw.Originate(bg, req)
		ch <- originated{leg, err}
	}()
	return ch
}

// dialingLeg is the one leg of the switch without a dialog yet: the one
// whose INVITE is being sent.
func dialingLeg(t *testing.T, sw *Switch) string {
	t.Helper()
	sw.mu.Lock()
	defer sw.mu.Unlock()
	var ids []string
	for id, l := range sw.legs {
		if l.cli == nil && l.state == stOriginated {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("legs whose INVITE is being sent: %v, want one", ids)
	}
	return ids[0]
}

// allEvents waits until every event the switch emitted has been collected
// and returns them.
func allEvents(t *testing.T, f *swFixture) []telephony.Event {
	t.Helper()
	deadline := time.Now().Add(evWait)
	for {
		f.sw.mu.Lock()
		n := f.sw.emitted
		f.sw.mu.Unlock()
		f.ev.mu.Lock()
		all := append([]telephony.Event(nil), f.ev.all...)
		f.ev.mu.Unlock()
		if uint64(len(all)) >= n {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events collected of %d emitted", len(all), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventsOf(all []telephony.Event, leg string) string {
	var out []string
	for _, ev := range all {
		if ev.Leg == leg {
			out = append(out, fmt.Sprintf("%s(%s other=%s)", ev.Type, ev.Cause, ev.Other))
		}
	}
	return fmt.Sprint(out)
}

// While an INVITE to a carrier is stuck in its TLS handshake, the rest of
// the switch works: a call to a phone is placed and answered, and a
// Hangup is answered, before that Originate returns. Its failure then
// comes back from Originate as before, with no event and no leg left.
func TestDialDoesNotHoldTheSwitch(t *testing.T) {
	f, peer := startStalledSwitch(t)
	ph := newDevice(t, "1001", "answer")
	ph.register(f.sw, "device")

	slow := originateAsync(f, telephony.OriginateRequest{To: "tel:+34910000001"})
	peer.waitAccepted(t)

	if err := f.sw.Hangup(bg, "sip-404", ""); !errors.Is(err, telephony.ErrNoLeg) {
		t.Fatalf("Hangup of no leg: %v", err)
	}
	leg, err := f.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + "1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, leg, telephony.Answered, evWait)
	select {
	case r := <-slow:
		t.Fatalf("the call to 1001 waited for the INVITE to the stalled carrier (Originate gave %q, %v)", r.leg, r.err)
	default:
	}

	var r originated
	select {
	case r = <-slow:
	case <-time.After(evWait):
		t.Fatal("Originate to the stalled carrier never returned")
	}
	if r.err == nil || r.leg != "" {
		t.Fatalf("Originate to the stalled carrier: %q, %v; want the handshake's failure", r.leg, r.err)
	}
	for _, ev := range allEvents(t, f) {
		if ev.Leg != leg {
			t.Errorf("event of a call never placed: %+v", ev)
		}
	}
	f.sw.mu.Lock()
	nl, no := len(f.sw.legs), len(f.sw.order)
	f.sw.mu.Unlock()
	if nl != 1 || no != 1 {
		t.Errorf("%d legs, %d ordered; want only 1001's", nl, no)
	}
}

// A leg hung up while its INVITE is being sent ends there: one Hangup
// (cancelled), the sending stops at once, Originate returns the leg, and
// nothing of it is left (no leg, no RTP socket, no goroutine).
// Not parallel: it counts every goroutine of the process.
func TestHangupWhileInviteSent(t *testing.T) {
	f, peer := startStalledSwitch(t)
	before := ownGoroutines() // the switch's own: pump, servers
	slow := originateAsync(f, telephony.OriginateRequest{To: "tel:+34910000001"})
	peer.waitAccepted(t)
	id := dialingLeg(t, f.sw)

	if err := f.sw.Hangup(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	hungUp := time.Now()
	var r originated
	select {
	case r = <-slow:
	case <-time.After(evWait):
		t.Fatal("Originate never returned")
	}
	if d := time.Since(hungUp); d > dialResolveTimeout/2 {
		t.Errorf("Originate returned %v after the hangup: the sending went on", d)
	}
	if r.err != nil || r.leg != id {
		t.Fatalf("Originate: %q, %v; want %s (hung up) and no error", r.leg, r.err, id)
	}
	if got, want := eventsOf(allEvents(t, f), id), fmt.Sprintf("[%s(cancelled other=)]", telephony.Hangup); got != want {
		t.Errorf("events of %s: %s, want %s", id, got, want)
	}
	noLegsLeft(t, f, "after the hangup")
	waitNoNewGoroutines(t, before, 10*time.Second)
}

// Close while an INVITE is being sent does not wait for it: the leg gets
// its Hangup like any other, and nothing of it outlives Close.
// Not parallel: it counts every goroutine of the process.
func TestCloseWhileInviteSent(t *testing.T) {
	before := ownGoroutines()
	f, peer := startStalledSwitch(t)
	slow := originateAsync(f, telephony.OriginateRequest{To: "tel:+34910000001"})
	peer.waitAccepted(t)
	id := dialingLeg(t, f.sw)
	if err := f.sw.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-slow:
		if r.err != nil || r.leg != id {
			t.Fatalf("Originate: %q, %v; want %s (hung up by Close) and no error", r.leg, r.err, id)
		}
	case <-time.After(evWait):
		t.Fatal("Originate never returned")
	}
	if got, want := eventsOf(allEvents(t, f), id), fmt.Sprintf("[%s(cancelled other=)]", telephony.Hangup); got != want {
		t.Errorf("events of %s: %s, want %s", id, got, want)
	}
	waitNoNewGoroutines(t, before, 10*time.Second)
}

// The transferred leg hung up while the transfer's INVITE is being sent:
// the transfer is cancelled as if it were ringing (Hangup cancelled, Other
// the transferred leg, before that leg's own Hangup), and Transfer
// returns with no error.
func TestTransferCancelledWhileInviteSent(t *testing.T) {
	f, peer := startStalledSwitch(t)
	ph := newDevice(t, "1001", "answer")
	ph.register(f.sw, "device")
	a, err := f.sw.Originate(bg, telephony.OriginateRequest{To: telephony.StationPrefix + "1001"})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.wait(t, a, telephony.Answered, evWait)

	done := make(chan error, 1)
	go func() { done <- f.sw.Transfer(bg, a, "tel:+34910000001") }()
	peer.waitAccepted(t)
	tleg := dialingLeg(t, f.sw)
	if err := f.sw.Hangup(bg, a, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Transfer: %v, want none (its leg was placed, then cancelled)", err)
		}
	case <-time.After(evWait):
		t.Fatal("Transfer never returned")
	}
	all := allEvents(t, f)
	if got, want := eventsOf(all, tleg), fmt.Sprintf("[%s(cancelled other=%s)]", telephony.Hangup, a); got != want {
		t.Errorf("events of the transfer's leg %s: %s, want %s", tleg, got, want)
	}
	if got, want := eventsOf(all, a), fmt.Sprintf("[%s( other=) %s( other=) %s(normal other=)]", telephony.Ringing, telephony.Answered, telephony.Hangup); got != want {
		t.Errorf("events of %s: %s, want %s", a, got, want)
	}
	f.sw.mu.Lock()
	nl := len(f.sw.legs)
	f.sw.mu.Unlock()
	if nl != 0 {
		t.Errorf("%d legs left", nl)
	}
}

// A leg hung up after its INVITE went out but before dial took the lock
// again: the INVITE is cancelled (or, if the phone answered meanwhile,
// ACKed and ended with a BYE), with one Hangup and nothing left behind.
// Not parallel: it counts every goroutine of the process.
func TestHangupAsInviteSent(t *testing.T) {
	for _, tc := range []struct{ mode, what string }{
		{"ring", "the phone's call (CANCEL)"},
		{"answer", "the phone's call (BYE after the answer)"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f := startSwitch(t)
			ph := newDevice(t, "1001", tc.mode)
			ph.register(f.sw, "device")
			before := ownGoroutines()
			sent, release := make(chan struct{}), make(chan struct{})
			f.sw.testHookInviteSent = func() {
				sent <- struct{}{}
				<-release
			}
			slow := originateAsync(f, telephony.OriginateRequest{To: telephony.StationPrefix + "1001"})
			select {
			case <-sent:
			case <-time.After(evWait):
				t.Fatal("the INVITE was never sent")
			}
			id := dialingLeg(t, f.sw)
			call := <-ph.in
			if err := f.sw.Hangup(bg, id, ""); err != nil {
				t.Fatal(err)
			}
			close(release)
			if r := <-slow; r.err != nil || r.leg != id {
				t.Fatalf("Originate: %q, %v; want %s and no error", r.leg, r.err, id)
			}
			waitClosed(t, call.ended, tc.what)
			if got, want := eventsOf(allEvents(t, f), id), fmt.Sprintf("[%s(cancelled other=)]", telephony.Hangup); got != want {
				t.Errorf("events of %s: %s, want %s", id, got, want)
			}
			noLegsLeft(t, f, "after the hangup")
			waitNoNewGoroutines(t, before, 10*time.Second)
		})
	}
}

// noLegsLeft fails t unless the switch holds no leg at all (when).
func noLegsLeft(t testing.TB, f *swFixture, when string) {
	t.Helper()
	f.sw.mu.Lock()
	nl, nc, no := len(f.sw.legs), len(f.sw.byCallID), len(f.sw.order)
	f.sw.mu.Unlock()
	if nl+nc+no != 0 {
		t.Errorf("%s: %d legs, %d call-ids, %d ordered", when, nl, nc, no)
	}
}
