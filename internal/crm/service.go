package crm

import (
	"context"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
)

// Events is what the CRM service needs of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Service keeps call centers (options, credentials) and the activity log,
// and runs screen pops.
type Service struct {
	db     *store.DB
	events Events
	box    *secret.Box // call-center secrets at rest
	clock  clock.Clock
	log    *logState // the activity log's writer
}

// New returns the CRM service.
func New(db *store.DB, ev Events, box *secret.Box, c clock.Clock) *Service {
	return &Service{db: db, events: ev, box: box, clock: c, log: newLogState()}
}
