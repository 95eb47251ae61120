package conversation

import (
	"context"

	"github.com/centralita/centralita/internal/directory"
)

// NumberPlan maps a dialled number (a trunk's DID, an internal short
// number) to the queue it reaches; ok is false when it maps nothing.
type NumberPlan func(ctx context.Context, dialled string) (queueID string, ok bool, err error)

// SetNumberPlan makes Resolve try plan first, so a customer dialling a DID
// reaches its queue. Set it before Run.
func (s *Service) SetNumberPlan(plan NumberPlan) { s.numbers = plan }

// planned resolves name through the number plan; nil when it maps nothing
// (or to a queue since deleted: the caller then tries names and stations).
func (s *Service) planned(ctx context.Context, name string) (*directory.Queue, error) {
	if s.numbers == nil {
		return nil, nil
	}
	id, ok, err := s.numbers(ctx, name)
	if err != nil || !ok {
		return nil, err
	}
	q, err := s.dir.GetQueue(ctx, id)
	if err != nil {
		s.log.Warn("conversation: a number routes to a queue that is gone", "number", name, "queue", id)
		return nil, nil
	}
	return &q, nil
}
