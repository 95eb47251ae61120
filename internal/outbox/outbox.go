// Package outbox implements "write the record, then tell the world": a state
// change and its event are committed in one transaction, and a relay
// publishes committed events to the bus. A crash between commit and publish
// loses nothing — the relay finds the row on restart — and consumers use Once
// to process each event id exactly once.
package outbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/store"
)

// Publisher is what the relay needs of the bus.
type Publisher interface {
	Publish(ctx context.Context, ev bus.Event) error
}

// Outbox writes events inside transactions and relays them.
type Outbox struct {
	db    *store.DB
	pub   Publisher
	clock clock.Clock
	log   *slog.Logger
	wake  chan struct{}

	mu        sync.Mutex
	backlog   int
	observers []func(bus.Event)
}

// New returns an outbox; call Run to start relaying.
func New(db *store.DB, pub Publisher, c clock.Clock, log *slog.Logger) *Outbox {
	return &Outbox{db: db, pub: pub, clock: c, log: log, wake: make(chan struct{}, 1)}
}

// Add records an event for topic in tx. It is published after tx commits.
func (o *Outbox) Add(ctx context.Context, tx *store.Tx, topic string, body any) error {
	ev, err := bus.NewEvent(ctx, o.clock.Now(), topic, body)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO outbox (id, topic, version, body, correlation_id, created_at, seq)
		 VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox))`,
		ev.ID, ev.Topic, ev.Version, string(ev.Body), ev.CorrelationID, store.Millis(ev.Time))
	if err != nil {
		return err
	}
	tx.AfterCommit(func() {
		o.Notify()
		o.mu.Lock()
		obs := o.observers
		o.mu.Unlock()
		for _, f := range obs {
			f(ev)
		}
	})
	return nil
}

// OnCommit registers f, called with every event once the transaction that
// added it committed, in the committing goroutine, before the call that
// committed returns. It is how in-process components react at once to a
// change (the ACD to a queue's new members) without waiting for the bus.
// f must be quick; it may write (its own transactions, its own events).
func (o *Outbox) OnCommit(f func(ev bus.Event)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.observers = append(o.observers, f)
}

// Notify wakes the relay; it never blocks.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Backlog is the number of unpublished events seen by the last relay pass.
func (o *Outbox) Backlog() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.backlog
}

// Run relays until ctx ends. It is woken by commits; a slow sweep catches rows
// written by other nodes and retries after bus failures.
func (o *Outbox) Run(ctx context.Context) {
	sweep := time.NewTicker(2 * time.Second)
	defer sweep.Stop()
	for {
		for {
			n, err := o.RelayOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					o.log.Warn("outbox relay failed; will retry", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-sweep.C:
		}
	}
}

// RelayOnce publishes up to one batch of pending events in commit order and
// returns how many it published.
func (o *Outbox) RelayOnce(ctx context.Context) (int, error) {
	rows, err := o.db.QueryContext(ctx,
		`SELECT id, topic, version, body, correlation_id, created_at FROM outbox
		 WHERE published_at IS NULL ORDER BY created_at, seq, id LIMIT 200`)
	if err != nil {
		return 0, err
	}
	var batch []bus.Event
	for rows.Next() {
		var ev bus.Event
		var body string
		var at int64
		if err := rows.Scan(&ev.ID, &ev.Topic, &ev.Version, &body, &ev.CorrelationID, &at); err != nil {
			rows.Close()
			return 0, err
		}
		ev.Body = []byte(body)
		ev.Time = store.Time(at)
		batch = append(batch, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	o.mu.Lock()
	o.backlog = len(batch)
	o.mu.Unlock()
	for i, ev := range batch {
		if err := o.pub.Publish(ctx, ev); err != nil {
			return i, err
		}
		if _, err := o.db.ExecContext(ctx, `UPDATE outbox SET published_at = $1 WHERE id = $2`,
			store.Millis(o.clock.Now()), ev.ID); err != nil {
			return i, err
		}
	}
	return len(batch), nil
}

// Prune deletes published events older than keep.
func (o *Outbox) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	res, err := o.db.ExecContext(ctx, `DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1`,
		store.Millis(o.clock.Now().Add(-keep)))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Once runs fn in a transaction unless consumer already processed eventID;
// the marker and fn's writes commit together, so a redelivered event is
// skipped and a failed one is retried. It reports whether fn ran.
func Once(ctx context.Context, db *store.DB, consumer, eventID string, now time.Time, fn func(tx *store.Tx) error) (bool, error) {
	ran := false
	err := db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			consumer, eventID, store.Millis(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		ran = true
		return fn(tx)
	})
	if err != nil {
		return false, err
	}
	return ran, nil
}
