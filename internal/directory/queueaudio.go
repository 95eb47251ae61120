package directory

import (
	"context"
	"regexp"

	"github.com/centralita/centralita/internal/problem"
)

// A queue's waiting audio: a caller waiting in the queue hears WaitPrompt
// once, then HoldMusic looped until an agent takes the call (played by the
// conversations, internal/conversation/queueaudio.go). Both are prompt
// names (internal/prompt); "" means the defaults below.
const (
	DefaultWaitPrompt = "queue-wait"
	DefaultHoldMusic  = "moh"
)

// Prompts returns the prompts a caller waiting in q hears, with the
// defaults filled in.
func (q Queue) Prompts() (wait, music string) {
	wait, music = q.WaitPrompt, q.HoldMusic
	if wait == "" {
		wait = DefaultWaitPrompt
	}
	if music == "" {
		music = DefaultHoldMusic
	}
	return wait, music
}

// PromptChecker reports, as a problem on field, a name that is no playable
// prompt (prompt.Service.Check).
type PromptChecker func(ctx context.Context, field, name string) error

// SetPromptChecker makes queue writes check their waiting audio against the
// known prompts; without one only the names' form is checked.
func (s *Service) SetPromptChecker(f PromptChecker) {
	s.prompts.Store(&f)
}

var promptNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// validateAudio checks the form of the prompt names.
func (q *Queue) validateAudio(c *problem.Collector) {
	for _, f := range []struct{ field, name string }{{"waitPrompt", q.WaitPrompt}, {"holdMusic", q.HoldMusic}} {
		if f.name != "" && !promptNameRE.MatchString(f.name) {
			c.Add(f.field, "%q is not a prompt name: 1 to 64 of a-z, 0-9 and '-'", f.name)
		}
	}
}

// checkAudio checks that the prompts named exist (when a checker is set).
// Problems go to c; other errors are returned.
func (s *Service) checkAudio(ctx context.Context, q *Queue, c *problem.Collector) error {
	f := s.prompts.Load()
	if f == nil {
		return nil
	}
	for _, x := range []struct{ field, name string }{{"waitPrompt", q.WaitPrompt}, {"holdMusic", q.HoldMusic}} {
		if x.name == "" || !promptNameRE.MatchString(x.name) {
			continue
		}
		if err := (*f)(ctx, x.field, x.name); err != nil {
			if ps := problem.All(err); len(ps) > 0 {
				c.Add(x.field, "%s", ps[0].Message)
				continue
			}
			return err
		}
	}
	return nil
}
