// Package campaign holds campaign definitions (inbound and outbound, with
// dialing mode, lists, calling hours, retry rules, do-not-call lists, caller
// id and abandon cap), which agents are logged into which outbound campaign
// (the seed's Login_Campaign / Logout_Campaign) and scheduled callbacks
// (the "agenda").
package campaign

import (
	"context"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/store"
)

// Events is what campaigns need of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Service keeps campaigns, agent logins and callbacks.
type Service struct {
	db     *store.DB
	events Events
	clock  clock.Clock
}

// New returns the campaign service.
func New(db *store.DB, ev Events, c clock.Clock) *Service {
	return &Service{db: db, events: ev, clock: c}
}
