package conversation

import "time"

// Time is a date-time rendered as the platform does: UTC, milliseconds and
// a literal Z. Zero times are left out (omitzero).
type Time time.Time

// MarshalJSON renders the platform's date-time form.
func (t Time) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// IsZero lets omitzero leave unset times out.
func (t Time) IsZero() bool { return time.Time(t).IsZero() }

// DomainEntityRef is a reference to a user or a queue.
type DomainEntityRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri"`
}

// ParticipantWrapup is a recorded wrap-up.
type ParticipantWrapup struct {
	Code            string   `json:"code"`
	Name            string   `json:"name"`
	Notes           string   `json:"notes,omitempty"`
	Tags            []string `json:"tags"`
	DurationSeconds int      `json:"durationSeconds"`
	EndTime         Time     `json:"endTime,omitzero"`
}

// ConversationSegment is one stretch of a participant's timeline (a Centralita
// extension of the platform's call participant; the same segment types as
// the platform's analytics).
type ConversationSegment struct {
	SegmentType    string `json:"segmentType" enum:"dialing,contacting,ivr,alert,interact,hold,wrapup"`
	SegmentStart   Time   `json:"segmentStart"`
	SegmentEnd     Time   `json:"segmentEnd,omitzero"`
	QueueID        string `json:"queueId,omitempty"`
	DisconnectType string `json:"disconnectType,omitempty"`
	WrapUpCode     string `json:"wrapUpCode,omitempty"`
}

// CallMediaParticipant is a participant in the platform's call participant shape.
type CallMediaParticipant struct {
	ID                     string                `json:"id"`
	Name                   string                `json:"name"`
	Address                string                `json:"address"`
	StartTime              Time                  `json:"startTime,omitzero"`
	StartAlertingTime      Time                  `json:"startAlertingTime,omitzero"`
	ConnectedTime          Time                  `json:"connectedTime,omitzero"`
	EndTime                Time                  `json:"endTime,omitzero"`
	StartHoldTime          Time                  `json:"startHoldTime,omitzero"`
	Purpose                string                `json:"purpose" enum:"customer,acd,agent,user,external,monitor"`
	State                  string                `json:"state" enum:"alerting,dialing,contacting,connected,disconnected"`
	Direction              string                `json:"direction" enum:"inbound,outbound"`
	DisconnectType         string                `json:"disconnectType,omitempty"`
	Held                   bool                  `json:"held"`
	Muted                  bool                  `json:"muted"`
	Confined               bool                  `json:"confined"`
	Recording              bool                  `json:"recording"`
	RecordingState         string                `json:"recordingState"`
	Ani                    string                `json:"ani,omitempty"`
	Dnis                   string                `json:"dnis,omitempty"`
	User                   *DomainEntityRef      `json:"user,omitempty"`
	Queue                  *DomainEntityRef      `json:"queue,omitempty"`
	Attributes             map[string]string     `json:"attributes"`
	AlertingTimeoutMs      int                   `json:"alertingTimeoutMs,omitempty"`
	WrapupRequired         bool                  `json:"wrapupRequired"`
	WrapupPrompt           string                `json:"wrapupPrompt,omitempty"`
	WrapupTimeoutMs        int                   `json:"wrapupTimeoutMs,omitempty"`
	WrapupSkipped          bool                  `json:"wrapupSkipped"`
	Wrapup                 *ParticipantWrapup    `json:"wrapup,omitempty"`
	AfterCallWork          bool                  `json:"afterCallWork" doc:"Centralita extension: the participant's wrap-up is pending."`
	MonitoredParticipantID string                `json:"monitoredParticipantId,omitempty"`
	MonitorMode            string                `json:"monitorMode,omitempty" doc:"Centralita extension: listen, whisper or barge."`
	ConsultParticipantID   string                `json:"consultParticipantId,omitempty"`
	Provider               string                `json:"provider"`
	Segments               []ConversationSegment `json:"segments" doc:"Centralita extension: the participant's timeline."`
}

// CallConversation is a conversation in the platform's call conversation shape; it is
// also the body of every conversation event.
type CallConversation struct {
	ID              string                 `json:"id"`
	StartTime       Time                   `json:"startTime"`
	EndTime         Time                   `json:"endTime,omitzero"`
	Address         string                 `json:"address,omitempty"`
	Direction       string                 `json:"direction" doc:"Centralita extension: inbound or outbound."`
	State           string                 `json:"state" doc:"connected while anyone is on it, disconnected once everyone left."`
	Participants    []CallMediaParticipant `json:"participants"`
	RecordingState  string                 `json:"recordingState"`
	MaxParticipants int                    `json:"maxParticipants"`
	OtherMediaURIs  []string               `json:"otherMediaUris"`
	RecentTransfers []any                  `json:"recentTransfers"`
	SelfURI         string                 `json:"selfUri"`
}

// MaxParticipants bounds a conversation's live parties (conference size).
const MaxParticipants = 10

// View renders the conversation; queue names come from names (id → name).
func (c *Conversation) View(names map[string]string) CallConversation {
	v := CallConversation{ID: c.ID, StartTime: Time(c.StartTime), EndTime: Time(c.EndTime), Address: c.Address, Direction: c.Direction,
		State: "connected", RecordingState: "none", MaxParticipants: MaxParticipants, OtherMediaURIs: []string{}, RecentTransfers: []any{},
		SelfURI: "/api/v2/conversations/calls/" + c.ID}
	if !c.mediaLive() {
		v.State = "disconnected"
	}
	for _, p := range c.Participants {
		v.Participants = append(v.Participants, p.view(names))
		if p.Recording {
			v.RecordingState = "active"
		}
	}
	if v.Participants == nil {
		v.Participants = []CallMediaParticipant{}
	}
	return v
}

func (p *Participant) view(names map[string]string) CallMediaParticipant {
	pv := CallMediaParticipant{ID: p.ID, Name: p.Name, Address: p.Address, StartTime: Time(p.StartTime), StartAlertingTime: Time(p.StartAlertingTime),
		ConnectedTime: Time(p.ConnectedTime), EndTime: Time(p.EndTime), StartHoldTime: Time(p.StartHoldTime), Purpose: p.Purpose,
		State: p.State, Direction: p.Direction, DisconnectType: p.DisconnectType, Held: p.Held, Muted: p.Muted, Recording: p.Recording,
		RecordingState: "none", Ani: p.Ani, Dnis: p.Dnis, Attributes: map[string]string{}, AlertingTimeoutMs: p.AlertingTimeoutMs,
		WrapupRequired: p.WrapupRequired, WrapupPrompt: p.WrapupPrompt, WrapupTimeoutMs: p.WrapupTimeoutMs, WrapupSkipped: p.WrapupSkipped,
		AfterCallWork: p.ACW, MonitoredParticipantID: p.MonitoredID, MonitorMode: p.MonitorMode, ConsultParticipantID: p.ConsultID,
		Provider: "Centralita", Segments: []ConversationSegment{}}
	if p.Recording {
		pv.RecordingState = "active"
	}
	if !p.StartHoldTime.IsZero() && !p.Held {
		pv.StartHoldTime = Time{}
	}
	for k, v := range p.Attributes {
		pv.Attributes[k] = v
	}
	if p.UserID != "" {
		pv.User = &DomainEntityRef{ID: p.UserID, SelfURI: "/api/v2/users/" + p.UserID}
	}
	if p.QueueID != "" {
		pv.Queue = &DomainEntityRef{ID: p.QueueID, Name: names[p.QueueID], SelfURI: "/api/v2/routing/queues/" + p.QueueID}
	}
	if w := p.Wrapup; w != nil {
		pv.Wrapup = &ParticipantWrapup{Code: w.Code, Name: w.Name, Notes: w.Notes, Tags: []string{}, DurationSeconds: w.DurationSeconds, EndTime: Time(w.EndTime)}
	}
	for _, s := range p.Segments {
		pv.Segments = append(pv.Segments, ConversationSegment{SegmentType: s.Type, SegmentStart: Time(s.Start), SegmentEnd: Time(s.End),
			QueueID: s.QueueID, DisconnectType: s.DisconnectType, WrapUpCode: s.WrapupCode})
	}
	return pv
}
