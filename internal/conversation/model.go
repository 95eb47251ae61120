package conversation

import (
	"sort"
	"time"
)

// Participant purposes.
const (
	PurposeCustomer = "customer" // the caller of an inbound call
	PurposeACD      = "acd"      // the queue, while the call waits in it
	PurposeAgent    = "agent"    // an agent taking an ACD call
	PurposeUser     = "user"     // a user on a non-ACD call (placed, internal, transferred directly)
	PurposeExternal = "external" // an external number called from the platform
	PurposeMonitor  = "monitor"  // a supervisor listening, coaching or barging
)

// Participant states.
const (
	StateAlerting     = "alerting"     // a phone rings at the participant
	StateDialing      = "dialing"      // an outbound leg is being placed
	StateContacting   = "contacting"   // an outbound leg rings at the far end
	StateConnected    = "connected"    // on the call
	StateDisconnected = "disconnected" // gone
)

// Segment types of the timeline.
const (
	SegmentDialing    = "dialing"
	SegmentContacting = "contacting"
	SegmentIVR        = "ivr"
	SegmentAlert      = "alert"
	SegmentInteract   = "interact"
	SegmentHold       = "hold"
	SegmentWrapup     = "wrapup"
)

// Disconnect types.
const (
	DisconnectEndpoint        = "endpoint"          // the participant's own phone hung up
	DisconnectClient          = "client"            // hung up through the API
	DisconnectPeer            = "peer"              // the other side hung up
	DisconnectSystem          = "system"            // the platform ended it
	DisconnectTransfer        = "transfer"          // left by a transfer
	DisconnectTransferConsult = "transfer.consult"  // left after an attended transfer
	DisconnectNoAnswer        = "transfer.noanswer" // an offer that was not answered
	DisconnectError           = "error"             // could not be placed
)

// Monitoring modes.
const (
	MonitorListen  = "listen"
	MonitorWhisper = "whisper"
	MonitorBarge   = "barge"
)

// Wrap-up prompts (queue acwSettings.wrapupPrompt).
const (
	PromptMandatory        = "MANDATORY"
	PromptOptional         = "OPTIONAL"
	PromptMandatoryTimeout = "MANDATORY_TIMEOUT"
	PromptForcedTimeout    = "MANDATORY_FORCED_TIMEOUT"
	PromptAgentRequested   = "AGENT_REQUESTED"
)

// TimeoutWrapupCode is the code recorded when a time-limited wrap-up
// expires without one (the platform's well-known name).
const TimeoutWrapupCode = "ININ-WRAP-UP-TIMEOUT"

// Segment is one stretch of a participant's timeline.
type Segment struct {
	Type           string    `json:"type"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end,omitzero"`
	QueueID        string    `json:"queueId,omitempty"`
	DisconnectType string    `json:"disconnectType,omitempty"`
	WrapupCode     string    `json:"wrapupCode,omitempty"`
}

// Wrapup is the outcome an agent recorded.
type Wrapup struct {
	Code            string    `json:"code"`
	Name            string    `json:"name"`
	Notes           string    `json:"notes,omitempty"`
	DurationSeconds int       `json:"durationSeconds"`
	EndTime         time.Time `json:"endTime"`
}

// Participant is one party of a conversation. Fields after Segments are
// the platform's bookkeeping of the call's media; they are stored but not
// shown.
type Participant struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Address           string            `json:"address"`
	Purpose           string            `json:"purpose"`
	State             string            `json:"state"`
	Direction         string            `json:"direction"`
	StartTime         time.Time         `json:"startTime"`
	StartAlertingTime time.Time         `json:"startAlertingTime,omitzero"`
	ConnectedTime     time.Time         `json:"connectedTime,omitzero"`
	EndTime           time.Time         `json:"endTime,omitzero"`
	StartHoldTime     time.Time         `json:"startHoldTime,omitzero"`
	DisconnectType    string            `json:"disconnectType,omitempty"`
	Held              bool              `json:"held"`
	Muted             bool              `json:"muted"`
	Recording         bool              `json:"recording"`
	UserID            string            `json:"userId,omitempty"`
	QueueID           string            `json:"queueId,omitempty"`
	Ani               string            `json:"ani,omitempty"`
	Dnis              string            `json:"dnis,omitempty"`
	Attributes        map[string]string `json:"attributes"`
	AlertingTimeoutMs int               `json:"alertingTimeoutMs,omitempty"`
	WrapupRequired    bool              `json:"wrapupRequired"`
	WrapupPrompt      string            `json:"wrapupPrompt,omitempty"`
	WrapupTimeoutMs   int               `json:"wrapupTimeoutMs,omitempty"`
	WrapupSkipped     bool              `json:"wrapupSkipped"`
	Wrapup            *Wrapup           `json:"wrapup,omitempty"`
	MonitorMode       string            `json:"monitorMode,omitempty"`
	MonitoredID       string            `json:"monitoredParticipantId,omitempty"`
	ConsultID         string            `json:"consultParticipantId,omitempty"`
	Segments          []Segment         `json:"segments"`

	Leg        string    `json:"leg,omitempty"`        // switch leg while it exists
	InConf     bool      `json:"inConf,omitempty"`     // joined to the conversation's conference
	Parked     bool      `json:"parked,omitempty"`     // held aside by a consult
	ACW        bool      `json:"acw,omitempty"`        // wrap-up pending
	ACWStart   time.Time `json:"acwStart,omitzero"`    // when the wrap-up began
	ACD        bool      `json:"acd,omitempty"`        // took an ACD offer (agent purpose from the engine)
	Routed     bool      `json:"routed,omitempty"`     // for acd: the interaction is in the engine
	Priority   int       `json:"priority,omitempty"`   // for acd: routing priority
	Enqueued   time.Time `json:"enqueued,omitzero"`    // for acd: when it entered the queue
	Skills     []string  `json:"skills,omitempty"`     // for acd: required skills (the queue's and the call's)
	Preferred  []string  `json:"preferred,omitempty"`  // for acd: preferred agents
	AutoReply  bool      `json:"autoReply,omitempty"`  // the leg is the user's own phone for a call they placed
	HeldLeg    string    `json:"heldLeg,omitempty"`    // the leg a hold asked by this participant put on hold
	TransferOf string    `json:"transferOf,omitempty"` // a blind transfer's target: the participant waiting for it
	Dialer     bool      `json:"dialer,omitempty"`     // an agent on a dialer call: auto-answered, held after the call until released
	Cause      string    `json:"cause,omitempty"`      // the switch's hangup cause (busy, no-answer, …)
}

// Live reports whether the participant still has (or is getting) a leg.
func (p *Participant) Live() bool { return p.State != StateDisconnected }

// Active reports whether the participant's user still has something to do
// in the conversation: a live call or a pending wrap-up.
func (p *Participant) Active() bool { return p.Live() || p.ACW }

// segment closes the open segment (if any) and opens one of typ.
func (p *Participant) segment(now time.Time, typ, queueID string) {
	p.closeSegment(now, "")
	p.Segments = append(p.Segments, Segment{Type: typ, Start: now, QueueID: queueID})
}

// closeSegment ends the open segment.
func (p *Participant) closeSegment(now time.Time, disconnectType string) {
	if n := len(p.Segments); n > 0 && p.Segments[n-1].End.IsZero() {
		p.Segments[n-1].End = now
		p.Segments[n-1].DisconnectType = disconnectType
	}
}

// Conversation is an interaction and everyone in it.
type Conversation struct {
	ID           string         `json:"id"`
	MediaType    string         `json:"mediaType"`
	Direction    string         `json:"direction"`
	Address      string         `json:"address"`
	StartTime    time.Time      `json:"startTime"`
	EndTime      time.Time      `json:"endTime,omitzero"`
	Ended        bool           `json:"ended"` // media over and no wrap-up pending
	Participants []*Participant `json:"participants"`
	Conference   string         `json:"conference,omitempty"` // switch conference id
	Consult      *Consult       `json:"consult,omitempty"`
	Dial         *Dial          `json:"dial,omitempty"` // a placed call's destination, dialled once the caller's phone answers
	Version      int            `json:"version"`
	// Campaign is the campaign whose dialer placed the call (or whose
	// inbound contact matching it went through); such conversations are
	// reported to the outbound observer after every change.
	Campaign string `json:"campaign,omitempty"`
}

// Dial is the destination of a call being placed.
type Dial struct {
	Address string   `json:"address,omitempty"`
	UserID  string   `json:"userId,omitempty"`
	Station string   `json:"station,omitempty"`
	QueueID string   `json:"queueId,omitempty"`
	Routing *Routing `json:"routing,omitempty"` // for a queue: what the call asks of the ACD
}

// Consult is an attended transfer in progress: Consulter (the agent) talks
// to Target while Object (the party to transfer) waits, or as SpeakTo says.
type Consult struct {
	Object    string `json:"object"`
	Consulter string `json:"consulter"`
	Target    string `json:"target"`
	SpeakTo   string `json:"speakTo"`
}

// Speak-to values of a consult.
const (
	SpeakToDestination = "DESTINATION"
	SpeakToObject      = "OBJECT"
	SpeakToBoth        = "BOTH"
	SpeakToConference  = "CONFERENCE"
)

func (c *Conversation) participant(id string) *Participant {
	for _, p := range c.Participants {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// mediaLive reports whether any participant still has a leg or is getting one.
func (c *Conversation) mediaLive() bool {
	for _, p := range c.Participants {
		if p.Live() && p.Purpose != PurposeACD {
			return true
		}
	}
	return false
}

// waitingACD is the acd participant while the call waits in a queue.
func (c *Conversation) waitingACD() *Participant {
	for _, p := range c.Participants {
		if p.Purpose == PurposeACD && p.Live() {
			return p
		}
	}
	return nil
}

// users lists every user who is or was in the conversation, sorted.
func (c *Conversation) users() []string {
	set := map[string]bool{}
	for _, p := range c.Participants {
		if p.UserID != "" {
			set[p.UserID] = true
		}
	}
	return sortedKeys(set)
}

// queues lists every queue the conversation went through, sorted.
func (c *Conversation) queues() []string {
	set := map[string]bool{}
	for _, p := range c.Participants {
		if p.QueueID != "" {
			set[p.QueueID] = true
		}
	}
	return sortedKeys(set)
}

// activeFor reports whether the user has a participant still active.
func (c *Conversation) activeFor(userID string) bool {
	for _, p := range c.Participants {
		if p.UserID == userID && p.Active() {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
