// Package switchtest is the contract every telephony.Switch must pass. The
// simulated switch runs it against its own model of the world; the SIP
// switch runs it against real peers (SIPp, baresip) with tone detection.
//
// A switch under test comes with a World: the people and devices around it
// (customers who call in, agent phones, an external number) and what they
// hear. Run drives the switch through the telephony.Switch interface and
// the world through World, and checks events, errors and who hears whom.
//
// Timing. The suite never sleeps. After every action it calls
// World.Settle, which must return once every event the actions so far
// caused has been delivered on Events (the simulated switch emits events
// synchronously, so Settle does nothing; a SIP harness waits for its peers
// and the switch to go quiet). Time that must pass in the world — ring
// timeouts, prompts — passes through World.Advance (a fake clock, or a real
// wait). Events are then read without blocking, so the suite also checks
// that nothing unexpected happened.
//
// Besides what each test asserts, every test ends by closing the switch and
// checking the whole event log: per leg, Incoming or Ringing only first,
// Answered at most once and before anything that needs an answered leg,
// Held/Resumed, Muted/Unmuted, RecordingStarted/Stopped and
// Bridged/Unbridged alternating, Joined/Left balanced, symmetric Bridged
// events, times not going backwards, exactly one Hangup (with a cause) and
// nothing after it.
package switchtest

import (
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony"
)

// Harness builds a switch under test and the world around it.
type Harness interface {
	// New returns a fresh switch and its world for one test. The suite
	// closes the switch when the test ends (before cleanups the harness
	// registered itself run); Close must be safe to call again. New may
	// skip or fail t.
	New(t *testing.T) (telephony.Switch, World)
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(t *testing.T) (telephony.Switch, World)

// New calls f.
func (f HarnessFunc) New(t *testing.T) (telephony.Switch, World) { return f(t) }

// Fixtures names the world's destinations the suite uses.
type Fixtures struct {
	// Stations are at least 4 "station:NAME" destinations whose devices are
	// registered, idle, carry one call at a time (a second call to a busy
	// station is rejected as busy) and ring until AnswerPeer or RejectPeer.
	Stations []string
	// Unregistered is a "station:NAME" the switch knows but that has no
	// registered device.
	Unregistered string
	// Number is an external "tel:NUMBER" whose party rings until AnswerPeer.
	Number string
	// Inbound is the number customers dial (the To of World.Call).
	Inbound string
	// Prompt names a prompt that plays for at least 2 s and at most 20 s.
	Prompt string
}

// World is everything outside the switch under test. Its methods fail the
// test (t.Fatal on the t given to Harness.New) when the world cannot do
// what is asked.
type World interface {
	Fixtures() Fixtures
	// Call makes a customer dial to (the suite uses Fixtures.Inbound) from
	// the number from ("" hides it); the switch then emits Incoming.
	Call(from, to string)
	// AnswerPeer makes the device or party a ringing outbound leg alerts pick
	// up; RejectPeer makes it decline.
	AnswerPeer(leg string)
	RejectPeer(leg string)
	// HangupPeer makes the party on a leg hang up.
	HangupPeer(leg string)
	// PressDigits makes the party on an answered leg press digits.
	PressDigits(leg, digits string)
	// DigitsHeard is every DTMF digit the leg's party has received so far.
	DigitsHeard(leg string) string
	// Hears reports whether the party on listener hears the party on speaker.
	Hears(listener, speaker string) bool
	// HearsMusic reports whether the party on leg hears music on hold.
	HearsMusic(leg string) bool
	// Advance lets d of world time pass.
	Advance(d time.Duration)
	// Settle returns once every event caused so far is on Events.
	Settle()
}

// Run runs the whole contract against h, one subtest per behaviour.
func Run(t *testing.T, h Harness) {
	r := &run{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(setup(t, h, r))
		})
	}
}

// run is what the subtests of one Run share.
type run struct {
	// closeBroken: a switch already failed to close Events; later tests do
	// not wait for it again.
	closeBroken bool
}
