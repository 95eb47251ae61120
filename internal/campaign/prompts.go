package campaign

import (
	"context"

	"github.com/centralita/centralita/internal/problem"
)

// DefaultAbandonPrompt is the message a customer no agent could take hears
// (a built-in prompt; an operator's prompt of the same name replaces it).
const DefaultAbandonPrompt = "abandon"

// Prompts is what campaigns need of the prompts (prompt.Service): whether
// a name is a playable prompt, as a problem on field when not.
type Prompts interface {
	Check(ctx context.Context, field, name string) error
}

// SetPrompts makes campaign writes check abandonPrompt against the known
// prompts; without it any name of the right length is taken.
func (s *Service) SetPrompts(p Prompts) {
	s.mu.Lock()
	s.prompts = p
	s.mu.Unlock()
}

// checkPrompt defaults an empty abandon prompt and checks the name. Problems
// go to col; other errors are returned.
func (s *Service) checkPrompt(ctx context.Context, c *Campaign, col *problem.Collector) error {
	if c.AbandonPrompt == "" {
		c.AbandonPrompt = DefaultAbandonPrompt
	}
	s.mu.RLock()
	p := s.prompts
	s.mu.RUnlock()
	if p == nil || len(c.AbandonPrompt) > 200 {
		return nil
	}
	err := p.Check(ctx, "abandonPrompt", c.AbandonPrompt)
	if ps := problem.All(err); len(ps) > 0 {
		col.Add("abandonPrompt", "%s", ps[0].Message)
		return nil
	}
	return err
}
