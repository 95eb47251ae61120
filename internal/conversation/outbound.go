package conversation

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/telephony"
)

// This file is what the dialer needs of conversations: calls placed to a
// customer first (predictive, power), the agent connected once a live
// person answered, the abandon message when no agent is free, and the
// agent's after-call hold until the contact is released. Progressive and
// preview calls go through PlaceCall with a CampaignID (the agent first).

// OutboundCall is a call the dialer places to a customer.
type OutboundCall struct {
	CampaignID  string
	Number      string // E.164
	CallerID    string
	QueueID     string // the campaign's queue, if any (named on the agent's participant)
	RingTimeout time.Duration
	Attributes  map[string]string // the call data handed to the CRM connector
}

// CallState is the dialer's view of one of its conversations, reported
// after every change (see OnOutbound).
type CallState struct {
	ConversationID string
	CampaignID     string
	// The customer (or the external party of an agent-first call).
	CustomerState    string    // dialing, contacting, connected, disconnected
	CustomerAnswered time.Time // zero until answered
	CustomerCause    string    // the switch's hangup cause once disconnected
	// The dialer agent, when one was connected or rung.
	AgentID        string
	AgentState     string // alerting, connected, disconnected
	AgentConnected time.Time
	AgentInWrapup  bool // the call is over for the agent and the contact not released yet
	Ended          bool // nothing live and no wrap-up pending
	Time           time.Time
}

// OnOutbound registers the dialer's observer. f is called with the
// service's lock held, after every committed change of a campaign
// conversation: it must only queue the state for its own goroutine.
func (s *Service) OnOutbound(f func(CallState)) {
	s.mu.Lock()
	s.outbound = f
	s.mu.Unlock()
}

func outboundState(c *Conversation) CallState {
	st := CallState{ConversationID: c.ID, CampaignID: c.Campaign, Ended: c.Ended, Time: c.EndTime}
	for _, p := range c.Participants {
		switch {
		case p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal:
			if st.CustomerState == "" || p.Live() {
				st.CustomerState, st.CustomerAnswered, st.CustomerCause = p.State, p.ConnectedTime, p.Cause
			}
		case p.Dialer:
			st.AgentID, st.AgentState, st.AgentConnected, st.AgentInWrapup = p.UserID, p.State, p.ConnectedTime, p.ACW
		}
	}
	return st
}

func customerAnswered(c *Conversation) bool {
	for _, p := range c.Participants {
		if (p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal) && !p.ConnectedTime.IsZero() {
			return true
		}
	}
	return false
}

// DialCustomer calls a customer for a campaign and returns the new
// conversation's id. The customer rings for RingTimeout (at least 15 s);
// the outcome arrives through the outbound observer.
func (s *Service) DialCustomer(ctx context.Context, r OutboundCall) (string, error) {
	if r.RingTimeout < 15*time.Second {
		r.RingTimeout = 15 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	c := &Conversation{ID: uuid.NewString(), MediaType: "call", Direction: "outbound", Address: tel(r.Number), StartTime: now, Campaign: r.CampaignID}
	p := s.newParticipant(c, PurposeCustomer, StateDialing, "outbound")
	p.Name, p.Address, p.Dnis, p.Ani = r.Number, tel(r.Number), tel(r.Number), tel(r.CallerID)
	p.QueueID = r.QueueID
	for k, v := range r.Attributes {
		p.Attributes[k] = v
	}
	if _, ok := p.Attributes["callId"]; ok {
		p.Attributes["callId"] = c.ID // the call data names the conversation
	}
	p.segment(now, SegmentDialing, r.QueueID)
	leg, err := s.sw.Originate(ctx, telephony.OriginateRequest{To: telephony.TelPrefix + r.Number, From: r.CallerID, RingTimeout: r.RingTimeout,
		Tags: map[string]string{"conversationId": c.ID, "participantId": p.ID, "campaignId": r.CampaignID}})
	if err != nil {
		if errors.Is(err, telephony.ErrBadDestination) {
			return "", problem.Coded(problem.Invalid, "address.invalid", "number", "%q cannot be called: %v", r.Number, err)
		}
		return "", conflict("call.failed", "could not call %s: %v", r.Number, err)
	}
	s.convs[c.ID] = c
	s.bind(c, p, leg)
	s.commit(c)
	return c.ID, nil
}

// ConnectAgent rings a campaign agent for a customer who answered; the
// agent's phone answers by itself (the switch permitting) and the two are
// bridged. The agent must be logged into a station and free.
func (s *Service) ConnectAgent(ctx context.Context, convID, userID string, attrs map[string]string) error {
	if s.agents.Get(userID).Busy() {
		return conflict("agent.busy", "the agent already has a call")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convID]
	if c == nil {
		return problem.NotFoundf("conversation %s is not live", convID)
	}
	cust := firstLive(c, PurposeCustomer)
	if cust == nil || cust.State != StateConnected {
		return conflict(CodeState, "the customer is not on the line")
	}
	for k, v := range attrs {
		cust.Attributes[k] = v
	}
	p, err := s.ringUser(c, userID, PurposeAgent, cust)
	if err != nil {
		s.commit(c)
		return err
	}
	p.Dialer, p.QueueID = true, cust.QueueID
	for k, v := range cust.Attributes {
		p.Attributes[k] = v
	}
	if err := s.agents.SetActivity(ctx, userID, p.ID, session.Connected); err != nil {
		s.log.Error("conversation: session update failed", "user", userID, "err", err)
	}
	s.commit(c)
	return nil
}

// AbandonCall plays the campaign's message to a customer no agent could
// take, then hangs up (when the message ends, or at once when it cannot
// be played).
func (s *Service) AbandonCall(ctx context.Context, convID, prompt string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convID]
	if c == nil {
		return problem.NotFoundf("conversation %s is not live", convID)
	}
	cust := firstLive(c, PurposeCustomer)
	if cust == nil || cust.Leg == "" {
		return nil
	}
	for _, p := range c.Participants {
		if p.Dialer && p.Live() {
			s.hangup(c, p, "", DisconnectSystem)
		}
	}
	cust.Attributes["abandoned"] = "true"
	if prompt == "" || s.sw.Play(ctx, cust.Leg, prompt) != nil {
		s.hangup(c, cust, "", DisconnectSystem)
		s.commit(c)
		return nil
	}
	s.hangupAfterPlayback[cust.Leg] = true
	s.commit(c)
	return nil
}

// holdForRelease keeps a dialer agent in after-call work once the call is
// over, until the dialer releases the contact (Release). Called with s.mu held.
func (s *Service) holdForRelease(c *Conversation, p *Participant) {
	now := s.clock.Now()
	p.WrapupPrompt, p.WrapupRequired = PromptMandatory, true
	p.ACW, p.ACWStart = true, now
	p.Segments = append(p.Segments, Segment{Type: SegmentWrapup, Start: now, QueueID: p.QueueID})
	if err := s.agents.SetActivity(s.ctx, p.UserID, p.ID, session.Wrapup); err != nil {
		s.log.Error("conversation: session update failed", "user", p.UserID, "err", err)
	}
}

// Disposition is how a dialer contact was categorized when released.
type Disposition struct {
	Code  string // the subcategory id (empty: released without categorizing)
	Name  string // "Category / Subcategory"
	Notes string
}

// Release ends a dialer agent's after-call work on a conversation,
// recording the disposition as the participant's wrap-up.
func (s *Service) Release(ctx context.Context, convID, userID string, d Disposition) error {
	if len(d.Notes) > MaxNotes {
		return problem.Invalidf("notes", "must be at most %d characters", MaxNotes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, stored, err := s.anyConv(ctx, convID)
	if err != nil {
		return err
	}
	var p *Participant
	for _, x := range c.Participants {
		if x.Dialer && x.UserID == userID && (x.ACW || x.Live()) {
			p = x
		}
	}
	if p == nil {
		return conflict("release.none", "there is nothing to release for you on conversation %s", convID)
	}
	now := s.clock.Now()
	if d.Code != "" {
		dur := 0
		if p.ACW {
			dur = int(now.Sub(p.ACWStart) / time.Second)
		}
		p.Wrapup = &Wrapup{Code: d.Code, Name: d.Name, Notes: d.Notes, DurationSeconds: dur, EndTime: now}
	} else {
		p.WrapupSkipped = true
	}
	if p.ACW {
		s.finishWrapup(c, p)
	}
	s.persist(c, stored)
	return nil
}

// CallData is the call data of a conversation: the attributes of its
// participants (the customer's win), for the dialer and the API.
func (s *Service) CallData(ctx context.Context, convID string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, err := s.anyConv(ctx, convID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, customer := range []bool{false, true} {
		for _, p := range c.Participants {
			if (p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal) != customer {
				continue
			}
			for k, v := range p.Attributes {
				out[k] = v
			}
		}
	}
	return out, nil
}

// onPlaybackDone hangs up a customer whose abandon message ended.
func (s *Service) onPlaybackDone(ev telephony.Event) {
	if !s.hangupAfterPlayback[ev.Leg] {
		return
	}
	delete(s.hangupAfterPlayback, ev.Leg)
	c, p := s.byLeg(ev.Leg)
	if p == nil {
		return
	}
	s.hangup(c, p, "", DisconnectSystem)
	s.commit(c)
}

// InboundMatch is the contact matching of an inbound campaign (SPEC 2.6):
// for a call to a queue it returns the campaign and the call data to
// attach, ok=false when no inbound campaign serves the queue.
type InboundMatch func(ctx context.Context, queueID, ani string) (campaignID string, attrs map[string]string, ok bool)

// SetInboundMatcher installs the inbound contact matching, run when a call
// arrives for a queue, before it is queued.
func (s *Service) SetInboundMatcher(f InboundMatch) {
	s.mu.Lock()
	s.inbound = f
	s.mu.Unlock()
}

// matchInbound attaches an inbound campaign's call data to a new call.
// Called with s.mu held.
func (s *Service) matchInbound(c *Conversation, cust *Participant, queueID string) {
	if s.inbound == nil {
		return
	}
	id, attrs, ok := s.inbound(s.ctx, queueID, strings.TrimPrefix(cust.Ani, telephony.TelPrefix))
	if !ok {
		return
	}
	c.Campaign = id
	for k, v := range attrs {
		cust.Attributes[k] = v
	}
	if _, ok := cust.Attributes["callId"]; ok {
		cust.Attributes["callId"] = c.ID
	}
}

// DialerWrapups are the campaign conversations whose agent is still held
// for release (after a restart the dialer takes them up again).
func (s *Service) DialerWrapups() []CallState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CallState
	for _, c := range s.convs {
		if c.Campaign == "" {
			continue
		}
		if st := outboundState(c); st.AgentInWrapup {
			out = append(out, st)
		}
	}
	return out
}
