package campaign_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

var ctx = context.Background()

// t0 is a Friday morning in Madrid.
var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// Ids of the fake world.
const (
	schemaA   = "5c4e0000-0000-4000-8000-00000000000a"
	schemaB   = "5c4e0000-0000-4000-8000-00000000000b"
	listA1    = "11570000-0000-4000-8000-0000000000a1"
	listA2    = "11570000-0000-4000-8000-0000000000a2"
	listB1    = "11570000-0000-4000-8000-0000000000b1"
	queue1    = "0e0e0000-0000-4000-8000-000000000001"
	dnc1      = "d0c00000-0000-4000-8000-000000000001"
	userAna   = "a0000000-0000-4000-8000-000000000001"
	userBea   = "a0000000-0000-4000-8000-000000000002"
	userSuper = "a0000000-0000-4000-8000-000000000009"
	contact1  = "c0000000-0000-4000-8000-000000000001" // in listA1, has a phone
	contact2  = "c0000000-0000-4000-8000-000000000002" // in listA2, no phone
	contactB  = "c0000000-0000-4000-8000-00000000000b" // in listB1
	unknownID = "00000000-0000-4000-8000-00000000dead"
)

// world is a fake of the contact store, queues and users.
type world struct {
	mu       sync.Mutex
	lists    map[string]string // list → schema
	contacts map[string][2]string
	status   map[string]string // contact → status, as committed
	dnc      map[string]bool
	queues   map[string]bool
	users    map[string]bool
}

func newWorld() *world {
	return &world{
		lists: map[string]string{listA1: schemaA, listA2: schemaA, listB1: schemaB},
		contacts: map[string][2]string{contact1: {listA1, "+34911234567"}, contact2: {listA2, ""},
			contactB: {listB1, "+34600111222"}},
		status: map[string]string{},
		dnc:    map[string]bool{dnc1: true},
		queues: map[string]bool{queue1: true},
		users:  map[string]bool{userAna: true, userBea: true, userSuper: true},
	}
}

func (w *world) ListSchema(_ context.Context, id string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.lists[id]
	if !ok {
		return "", problem.NotFoundf("list %s not found", id)
	}
	return s, nil
}

func (w *world) ContactList(_ context.Context, id string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.contacts[id]
	if !ok {
		return "", problem.NotFoundf("contact %s not found", id)
	}
	return c[0], nil
}

func (w *world) ContactPhone(_ context.Context, id string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.contacts[id]
	if !ok {
		return "", problem.NotFoundf("contact %s not found", id)
	}
	return c[1], nil
}

// SetStatus records the status when the transaction commits: proof that it
// is written with the callback.
func (w *world) SetStatus(_ context.Context, tx *store.Tx, id, status string) error {
	tx.AfterCommit(func() {
		w.mu.Lock()
		w.status[id] = status
		w.mu.Unlock()
	})
	return nil
}

func (w *world) statusOf(id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status[id]
}

func (w *world) DNCListExists(_ context.Context, id string) error {
	if !w.dnc[id] {
		return problem.NotFoundf("do-not-call list %s not found", id)
	}
	return nil
}

func (w *world) QueueExists(_ context.Context, id string) error {
	if !w.queues[id] {
		return problem.NotFoundf("queue %s not found", id)
	}
	return nil
}

func (w *world) UserExists(_ context.Context, id string) error {
	if !w.users[id] {
		return problem.NotFoundf("user %s not found", id)
	}
	return nil
}

type fixture struct {
	db    *store.DB
	clk   *clock.Fake
	svc   *campaign.Service
	world *world
	seen  map[string]bool
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	f := &fixture{db: db, clk: clk, world: newWorld(), seen: map[string]bool{}}
	f.svc = f.service(db)
	return f
}

// service builds a campaign service on db (another handle after a restart).
func (f *fixture) service(db *store.DB) *campaign.Service {
	ob := outbox.New(db, nil, f.clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := campaign.New(db, ob, f.clk)
	s.SetDeps(f.world, f.world, f.world)
	return s
}

type event struct {
	Topic string
	Body  map[string]any
}

// events returns the outbox rows written since the last call, in commit order.
func (f *fixture) events(t *testing.T) []event {
	t.Helper()
	rows, err := f.db.QueryContext(ctx, `SELECT id, topic, body FROM outbox ORDER BY created_at, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var id, topic, body string
		if err := rows.Scan(&id, &topic, &body); err != nil {
			t.Fatal(err)
		}
		if f.seen[id] {
			continue
		}
		f.seen[id] = true
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("event %s body %s: %v", topic, body, err)
		}
		out = append(out, event{topic, m})
	}
	return out
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// outbound is a valid outbound campaign.
func outbound(name string, number int) campaign.Campaign {
	c := campaign.Defaults()
	c.Name, c.Number, c.DialingMode = name, number, "predictive"
	c.ContactListIDs = []string{listA1, listA2}
	c.QueueID = queue1
	c.DNCListIDs = []string{dnc1}
	c.CallerID = "+34910000000"
	c.TransferNumbers = []campaign.TransferNumber{{Name: "Supervisión", Number: "+34911000000"}}
	c.CallingHours = campaign.CallingHours{TimeZone: "Europe/Madrid",
		Windows: []campaign.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "21:00"}}}
	c.RetryRules = []campaign.RetryRule{{Outcome: "busy", Retry: true, DelaySeconds: 900}, {Outcome: "no-answer", Retry: true, DelaySeconds: 3600}}
	return c
}

// fields returns the fields err's problems name.
func fields(err error) []string {
	var out []string
	for _, p := range problem.All(err) {
		out = append(out, p.Field)
	}
	return out
}

func kindOf(err error) problem.Kind {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Kind
	}
	return 0
}

func codeOf(err error) string {
	if ps := problem.All(err); len(ps) > 0 {
		return ps[0].Code
	}
	return ""
}
