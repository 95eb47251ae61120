// Package contact holds the outbound contact data: schemas (the seed's
// "CRM": fields, the Clave_1 key field, the disposition tree), contact lists
// (the seed's "bases"), contacts with their attempt history, do-not-call
// lists, CSV import/export and the inbound find-or-create of SPEC 2.6.
package contact

import (
	"context"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/store"
)

// Events is what the contact store needs of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Service keeps schemas, lists, contacts and do-not-call lists.
type Service struct {
	db     *store.DB
	events Events
	clock  clock.Clock
}

// New returns the contact service.
func New(db *store.DB, ev Events, c clock.Clock) *Service {
	return &Service{db: db, events: ev, clock: c}
}
