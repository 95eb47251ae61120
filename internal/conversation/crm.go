package conversation

import (
	"context"
	"strings"

	"github.com/centralita/centralita/internal/telephony"
)

// This file is what the CRM connector needs of conversations: to hear
// when an agent connects to a call (the screen pop runs then, after the
// answer, never on ring), and to attach what the pop found (the CRM record
// the activity log links to) to the call data.

// AgentConnected is a call that just connected to an agent (an ACD offer
// answered, a dialer call, a placed call's destination).
type AgentConnected struct {
	ConversationID string
	UserID         string
	Direction      string            // inbound, outbound
	Phone          string            // the customer's number, E.164 when known
	CallData       map[string]string // every participant's attributes (the customer's win)
}

// OnAgentConnected registers f, called (with the service's lock held: it
// must only queue the work) each time an agent's or user's leg connects to
// a call with a customer or external party.
func (s *Service) OnAgentConnected(f func(AgentConnected)) {
	s.mu.Lock()
	s.agentConnected = f
	s.mu.Unlock()
}

// reportAgentConnected tells the CRM hook about p. Called with s.mu held.
func (s *Service) reportAgentConnected(c *Conversation, p *Participant) {
	if s.agentConnected == nil || p.UserID == "" || p.Purpose == PurposeMonitor {
		return
	}
	ev := AgentConnected{ConversationID: c.ID, UserID: p.UserID, Direction: c.Direction, CallData: map[string]string{}}
	for _, customer := range []bool{false, true} {
		for _, x := range c.Participants {
			isCustomer := x.Purpose == PurposeCustomer || x.Purpose == PurposeExternal
			if isCustomer != customer {
				continue
			}
			for k, v := range x.Attributes {
				ev.CallData[k] = v
			}
			if isCustomer && ev.Phone == "" {
				ev.Phone = strings.TrimPrefix(x.Ani, telephony.TelPrefix)
				if x.Purpose == PurposeExternal || c.Direction == "outbound" {
					ev.Phone = strings.TrimPrefix(nonEmpty(x.Dnis, x.Address), telephony.TelPrefix)
				}
			}
		}
	}
	if ev.Phone == "" && p.Purpose == PurposeUser {
		return // an internal call: no customer to look up
	}
	s.agentConnected(ev)
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SetCallData adds attributes to the customer's participant (or the
// external party's) of a conversation, live or ended: the platform's own
// additions to the call data, such as the CRM record a screen pop found.
func (s *Service) SetCallData(ctx context.Context, convID string, attrs map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, stored, err := s.anyConv(ctx, convID)
	if err != nil {
		return err
	}
	var target *Participant
	for _, p := range c.Participants {
		if p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal {
			target = p
			break
		}
	}
	if target == nil {
		for _, p := range c.Participants {
			if p.UserID != "" {
				target = p
				break
			}
		}
	}
	if target == nil {
		return nil
	}
	for k, v := range attrs {
		target.Attributes[k] = v
	}
	s.persist(c, stored)
	return nil
}
