// Package telephony is the only way the rest of Centralita touches calls.
// A Switch manages call legs — a customer's inbound call, an agent's phone,
// an external party — and the media between them. The simulated switch
// (telephony/sim) and the SIP switch (telephony/sip) both implement it and
// both pass the contract suite in telephony/switchtest. Nothing above this
// seam knows about SIP.
//
// Legs and conferences have switch-chosen string ids. Every state change is
// reported on the Events channel, in order per leg; methods return once the
// switch accepted the request, not when its effect is visible (wait for the
// event). A method on a leg that is gone returns ErrNoLeg; a request that
// makes no sense in the leg's state returns ErrState.
package telephony

import (
	"context"
	"errors"
	"time"
)

// Errors every Switch returns for the same situations.
var (
	ErrNoLeg          = errors.New("telephony: no such leg")
	ErrNoConference   = errors.New("telephony: no such conference")
	ErrState          = errors.New("telephony: not possible in the leg's current state")
	ErrNotSupported   = errors.New("telephony: not supported by this switch")
	ErrBadDestination = errors.New("telephony: destination not understood")
)

// Destinations understood by Originate and Transfer:
//
//	station:NAME   an agent device by station name ("station:1001")
//	tel:NUMBER     an external number through a trunk ("tel:+34911234567"); a bare number means the same
//	sip:URI        a SIP URI (SIP switch only)
const (
	StationPrefix = "station:"
	TelPrefix     = "tel:"
)

// EventType names what happened to a leg.
type EventType string

const (
	// Incoming: a new inbound leg is offered to the platform (a customer
	// calling a number). From is the caller (empty when hidden), To the
	// dialled number or address. Answer, Play or Hangup it.
	Incoming EventType = "incoming"
	// Ringing: an originated leg is alerting at its destination.
	Ringing EventType = "ringing"
	// Answered: a leg is connected — an Incoming leg we answered, or an
	// originated leg the far end picked up.
	Answered EventType = "answered"
	// Bridged / Unbridged: the leg's media was joined to Other / released.
	Bridged   EventType = "bridged"
	Unbridged EventType = "unbridged"
	// Held / Resumed: the leg was put on hold (hears music) / taken off.
	Held    EventType = "held"
	Resumed EventType = "resumed"
	// Muted / Unmuted: the leg's voice is no longer / again sent to others.
	Muted   EventType = "muted"
	Unmuted EventType = "unmuted"
	// DTMF: the leg's party pressed Digit (one event per digit).
	DTMF EventType = "dtmf"
	// Joined / Left: the leg entered / left Conference with Mode.
	Joined EventType = "joined"
	Left   EventType = "left"
	// PlaybackDone: a Play on the leg finished (or was interrupted).
	PlaybackDone EventType = "playback-done"
	// RecordingStarted / RecordingStopped on the leg.
	RecordingStarted EventType = "recording-started"
	RecordingStopped EventType = "recording-stopped"
	// Hangup: the leg is gone, with Cause. No event for the leg follows.
	Hangup EventType = "hangup"
)

// Hangup causes.
const (
	CauseNormal    = "normal"    // someone hung up after connecting
	CauseBusy      = "busy"      // destination busy
	CauseNoAnswer  = "no-answer" // rang out
	CauseRejected  = "rejected"  // destination declined
	CauseFailed    = "failed"    // could not be placed (bad number, trunk down)
	CauseCancelled = "cancelled" // we hung up before it was answered
	CauseAbandoned = "abandoned" // the caller hung up before being answered
)

// Event is one thing that happened in the switch.
//
// Other names a related leg: on Bridged the leg now joined to this one, on
// Unbridged the leg it was joined to, and on the Ringing, Answered and
// Hangup of a leg that Transfer placed, the leg being transferred (so a
// failed blind transfer can be told apart from any other call).
type Event struct {
	Type       EventType
	Leg        string
	Time       time.Time
	From, To   string // Incoming and Ringing: the parties
	Other      string // Bridged / Unbridged, and a Transfer's leg: see above
	Conference string // Joined / Left
	Mode       MixMode
	Digit      string // DTMF: one of 0-9 * # A-D
	Cause      string // Hangup
	// Recording, on RecordingStopped, names the finished recording: a file
	// name (no directory) inside the switch's recordings directory — a
	// stereo WAV, left channel what the leg's party said, right what it
	// heard. Empty when the switch keeps no audio (the simulated switch).
	Recording string
}

// MixMode is how a leg takes part in a conference.
type MixMode string

const (
	// Full: hears everyone, heard by everyone (a conference party, or barge).
	Full MixMode = "full"
	// Listen: hears everyone, heard by nobody (silent monitoring).
	Listen MixMode = "listen"
	// Whisper: hears everyone, heard only by the conference's Coach target
	// (the agent), never by the customer.
	Whisper MixMode = "whisper"
)

// OriginateRequest places a new outbound leg.
type OriginateRequest struct {
	To          string        // destination, see the prefixes above
	From        string        // caller id shown to the destination
	CallerName  string        // caller name shown to the destination
	RingTimeout time.Duration // give up (Hangup with CauseNoAnswer) after this; 0 means 30 s
	// Tags are opaque values the switch keeps with the leg and passes to
	// whoever answers (e.g. the conversation id), for logs and SIP headers.
	Tags map[string]string
}

// Switch is a telephony switch.
type Switch interface {
	// Originate places an outbound leg and returns its id; Ringing,
	// Answered or Hangup follow.
	Originate(ctx context.Context, req OriginateRequest) (leg string, err error)
	// Answer connects an Incoming leg (the platform takes the call).
	Answer(ctx context.Context, leg string) error
	// Hangup ends a leg in any state; a leg already gone gives ErrNoLeg.
	Hangup(ctx context.Context, leg, cause string) error
	// Bridge joins the media of two answered legs (each leaves any previous
	// bridge or conference first).
	Bridge(ctx context.Context, a, b string) error
	// Unbridge separates a leg from whatever it is bridged to; both stay up.
	Unbridge(ctx context.Context, leg string) error
	// Hold puts an answered leg on hold (it hears music, others hear
	// nothing from it); Resume takes it off.
	Hold(ctx context.Context, leg string) error
	Resume(ctx context.Context, leg string) error
	// Mute stops (on=true) or restarts sending the leg's voice to others.
	Mute(ctx context.Context, leg string, on bool) error
	// SendDTMF plays digits (0-9 * # A-D) to the leg's party, one by one.
	SendDTMF(ctx context.Context, leg, digits string) error
	// Transfer hands a leg to another destination inside the switch: it
	// leaves its bridge, the switch originates to `to` and, on answer,
	// bridges the two (blind transfer). Attended transfers are made by the
	// caller from Originate, Hold and Bridge.
	Transfer(ctx context.Context, leg, to string) error
	// NewConference creates an empty conference room.
	NewConference(ctx context.Context) (conf string, err error)
	// Join puts an answered leg into a conference with mode; coach is the
	// leg a Whisper participant is heard by (ignored for other modes).
	Join(ctx context.Context, conf, leg string, mode MixMode, coach string) error
	// Leave takes a leg out of a conference; it stays up.
	Leave(ctx context.Context, conf, leg string) error
	// EndConference removes every leg (they stay up) and deletes the room.
	EndConference(ctx context.Context, conf string) error
	// Record starts (on=true) or stops recording what the leg hears and says.
	Record(ctx context.Context, leg string, on bool) error
	// Play plays a prompt (a prompt name, or a "tone:FREQ" for tests) to the
	// leg; PlaybackDone follows.
	Play(ctx context.Context, leg, prompt string) error
	// Events is the stream of everything that happens; it is closed by Close.
	Events() <-chan Event
	// Close hangs up every leg and stops the switch.
	Close() error
}
