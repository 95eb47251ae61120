package conversation

import (
	"time"

	"github.com/centralita/centralita/internal/directory"
)

// AutoAnswer makes a user behave like a tireless demo agent: ACD offers
// are answered after AnswerAfter, calls are hung up after TalkAfter (0:
// the caller decides) and wrap-ups recorded after WrapupAfter with the
// first code of the queue.
type AutoAnswer struct {
	AnswerAfter time.Duration
	TalkAfter   time.Duration
	WrapupAfter time.Duration
}

// SetAutoAnswer turns auto-answering on for a user (nil turns it off).
func (s *Service) SetAutoAnswer(userID string, aa *AutoAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aa == nil {
		delete(s.auto, userID)
		return
	}
	s.auto[userID] = *aa
}

// later runs f on the work loop after d, for a participant still there.
func (s *Service) later(d time.Duration, convID, partID string, f func(c *Conversation, p *Participant)) {
	s.clock.AfterFunc(d, func() {
		s.post(func() {
			c := s.convs[convID]
			if c == nil {
				return
			}
			if p := c.participant(partID); p != nil {
				f(c, p)
			}
		})
	})
}

func (s *Service) scheduleAutoAnswer(convID, partID string, aa AutoAnswer) {
	s.later(aa.AnswerAfter, convID, partID, func(c *Conversation, p *Participant) {
		if p.State != StateAlerting || p.Leg == "" {
			return
		}
		if pa, ok := s.sw.(PhoneAnswerer); ok {
			s.tolerate("auto answer", pa.AnswerPhone(p.Leg))
		}
	})
}

// autoConnected arms the demo agent's hang-up.
func (s *Service) autoConnected(c *Conversation, p *Participant) {
	aa, ok := s.auto[p.UserID]
	if !ok || aa.TalkAfter <= 0 {
		return
	}
	s.later(aa.TalkAfter, c.ID, p.ID, func(c *Conversation, p *Participant) {
		if p.State == StateConnected {
			s.drop(c, p, DisconnectClient)
			s.commit(c)
		}
	})
}

// autoWrapup arms the demo agent's wrap-up.
func (s *Service) autoWrapup(c *Conversation, p *Participant) {
	aa, ok := s.auto[p.UserID]
	if !ok {
		return
	}
	s.later(aa.WrapupAfter, c.ID, p.ID, func(c *Conversation, p *Participant) {
		if !p.ACW {
			return
		}
		codes, _, err := s.dir.ListWrapupCodes(s.ctx, directory.WrapupFilter{QueueID: p.QueueID}, directory.Page{Limit: 1})
		if err == nil && len(codes) > 0 && p.Wrapup == nil {
			now := s.clock.Now()
			p.Wrapup = &Wrapup{Code: codes[0].ID, Name: codes[0].Name, Notes: "demo agent", DurationSeconds: int(now.Sub(p.ACWStart) / time.Second), EndTime: now}
		}
		if p.Wrapup == nil {
			p.WrapupSkipped = true
		}
		if p.WrapupPrompt != PromptForcedTimeout {
			s.finishWrapup(c, p)
		}
		s.commit(c)
	})
}
