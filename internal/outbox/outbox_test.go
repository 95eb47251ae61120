package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

// wait bounds every wait for asynchronous delivery.
const wait = 10 * time.Second

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 123_456_789, time.UTC)

func testLog() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("CENTRALITA_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openBus starts an embedded bus in dir; the returned close is idempotent and
// also runs when the test ends.
func openBus(t *testing.T, dir string) (*bus.Bus, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := bus.Open(ctx, "", dir, testLog())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeFn := func() { once.Do(b.Close) }
	t.Cleanup(closeFn)
	return b, closeFn
}

// subscribe attaches a durable consumer to every topic and forwards events.
func subscribe(t *testing.T, b *bus.Bus, durable string) <-chan bus.Event {
	t.Helper()
	ch := make(chan bus.Event, 1000)
	stop, err := b.Subscribe(context.Background(), durable, ">", func(_ context.Context, ev bus.Event) error {
		ch <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ch
}

func next(t *testing.T, ch <-chan bus.Event) bus.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(wait):
		t.Fatalf("no event delivered within %v", wait)
		return bus.Event{}
	}
}

// add commits one event for topic in its own transaction.
func add(t *testing.T, ctx context.Context, db *store.DB, ob *outbox.Outbox, topic string, body any) {
	t.Helper()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return ob.Add(ctx, tx, topic, body) }); err != nil {
		t.Fatal(err)
	}
}

type row struct {
	ID, Topic, Version, Body, CorrelationID string
	Created                                 int64
	Published                               *int64
}

func rows(t *testing.T, db *store.DB) []row {
	t.Helper()
	rs, err := db.QueryContext(context.Background(),
		`SELECT id, topic, version, body, correlation_id, created_at, published_at FROM outbox ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Topic, &r.Version, &r.Body, &r.CorrelationID, &r.Created, &r.Published); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func relay(t *testing.T, ob *outbox.Outbox) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n, err := ob.RelayOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCommittedEventIsPublishedWithItsEnvelope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(t0)
		b, _ := openBus(t, t.TempDir())
		ob := outbox.New(db, b, clk, testLog())
		ctx := bus.WithCorrelationID(context.Background(), "corr-42")
		add(t, ctx, db, ob, "v2.users.u1.presence", map[string]any{"presence": "Break", "number": 1})

		rs := rows(t, db)
		if len(rs) != 1 || rs[0].Published != nil {
			t.Fatalf("outbox after commit: %+v, want one unpublished row", rs)
		}
		if n := ob.Backlog(); n != 0 {
			t.Fatalf("Backlog before any relay pass = %d", n)
		}
		clk.Advance(1500 * time.Millisecond)
		if n := relay(t, ob); n != 1 {
			t.Fatalf("RelayOnce published %d, want 1", n)
		}
		ch := subscribe(t, b, "envelope")
		got := next(t, ch)
		r := rs[0]
		wantTime := t0.Truncate(time.Millisecond)
		if got.ID != r.ID || got.Topic != "v2.users.u1.presence" || got.Version != "2" || got.CorrelationID != "corr-42" ||
			!got.Time.Equal(wantTime) || got.Time.Location() != time.UTC {
			t.Fatalf("published %+v; want id %s, topic, version 2, correlation corr-42, time %v UTC", got, r.ID, wantTime)
		}
		var body map[string]any
		if err := json.Unmarshal(got.Body, &body); err != nil || body["presence"] != "Break" || body["number"] != 1.0 {
			t.Fatalf("body %s (%v)", got.Body, err)
		}
		if string(got.Body) != r.Body {
			t.Fatalf("published body %s, stored %s", got.Body, r.Body)
		}
		rs = rows(t, db)
		if rs[0].Published == nil || *rs[0].Published != store.Millis(t0.Add(1500*time.Millisecond)) {
			t.Fatalf("published_at = %v, want the relay's clock time", rs[0].Published)
		}
		if n := relay(t, ob); n != 0 {
			t.Fatalf("second RelayOnce published %d, want 0", n)
		}
	})
}

func TestRolledBackEventIsNeverPublished(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(t0)
		b, _ := openBus(t, t.TempDir())
		ob := outbox.New(db, b, clk, testLog())
		ctx := context.Background()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := ob.Add(ctx, tx, "v2.test.lost", "never"); err != nil {
				return err
			}
			return errors.New("abort")
		})
		if err == nil {
			t.Fatal("Tx did not fail")
		}
		if rs := rows(t, db); len(rs) != 0 {
			t.Fatalf("outbox after rollback: %+v", rs)
		}
		if n := relay(t, ob); n != 0 {
			t.Fatalf("RelayOnce published %d after a rollback", n)
		}
		// The first event the bus ever carries is the committed marker.
		add(t, ctx, db, ob, "v2.test.kept", "marker")
		relay(t, ob)
		ch := subscribe(t, b, "rollback")
		if got := next(t, ch); got.Topic != "v2.test.kept" {
			t.Fatalf("first event on the bus: %s %s", got.Topic, got.Body)
		}
	})
}

// Run relays committed events without being asked: the commit wakes it.
func TestRunRelaysCommittedEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b, _ := openBus(t, t.TempDir())
		ob := outbox.New(db, b, clock.NewFake(t0), testLog())
		ch := subscribe(t, b, "run")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { ob.Run(ctx); close(done) }()
		defer func() {
			cancel()
			select {
			case <-done:
			case <-time.After(wait):
				t.Error("Run did not return after its context ended")
			}
		}()
		for i := range 3 {
			add(t, context.Background(), db, ob, "v2.test.run", i)
			if got := next(t, ch); string(got.Body) != fmt.Sprint(i) {
				t.Fatalf("event %d: body %s", i, got.Body)
			}
		}
	})
}

// failingPublisher passes the first ok events to the bus, then "crashes":
// with publishThenFail the next event reaches the bus but the call fails (the
// process died before marking it), after that nothing gets through.
type failingPublisher struct {
	bus             outbox.Publisher
	ok              int
	publishThenFail bool
	calls           atomic.Int32
}

var errCrash = errors.New("simulated crash")

func (p *failingPublisher) Publish(ctx context.Context, ev bus.Event) error {
	n := int(p.calls.Add(1))
	switch {
	case n <= p.ok:
		return p.bus.Publish(ctx, ev)
	case n == p.ok+1 && p.publishThenFail:
		if err := p.bus.Publish(ctx, ev); err != nil {
			return err
		}
		return errCrash
	default:
		return errCrash
	}
}

// A crash between commit and publish loses nothing, and a crash between
// publish and marking duplicates nothing: after a restart on the same store
// and bus data, a durable consumer sees every event exactly once.
func TestCrashBetweenCommitAndPublish(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dataDir := t.TempDir()
		clk := clock.NewFake(t0)

		// Before the crash: e0 and e1 are published and marked, e2 is
		// published but not marked, e3 and e4 are committed only. e5 and e6
		// come from a process without a relay (an admin command).
		b1, close1 := openBus(t, dataDir)
		pub := &failingPublisher{bus: b1, ok: 2, publishThenFail: true}
		ob1 := outbox.New(db, pub, clk, testLog())
		for i := range 5 {
			add(t, ctx, db, ob1, "v2.test.crash", i)
			clk.Advance(time.Millisecond) // distinct created_at: relay order is commit order
		}
		if n, err := ob1.RelayOnce(ctx); !errors.Is(err, errCrash) || n != 2 {
			t.Fatalf("RelayOnce before the crash: %d, %v; want 2, the crash", n, err)
		}
		if got := ob1.Backlog(); got != 5 {
			t.Fatalf("Backlog = %d, want the 5 events of the pass", got)
		}
		noRelay := outbox.New(db, nil, clk, testLog())
		for i := 5; i < 7; i++ {
			add(t, ctx, db, noRelay, "v2.test.crash", i)
			clk.Advance(time.Millisecond)
		}
		unpublished := 0
		for _, r := range rows(t, db) {
			if r.Published == nil {
				unpublished++
			}
		}
		if unpublished != 5 {
			t.Fatalf("%d unpublished rows before the restart, want 5", unpublished)
		}
		close1()
		db.Close()

		// Restart: new store handle, new bus on the same directory, new outbox.
		db2 := storetest.Reopen(t, db)
		b2, _ := openBus(t, dataDir)
		ob2 := outbox.New(db2, b2, clk, testLog())
		if n := relay(t, ob2); n != 5 {
			t.Fatalf("relay after restart published %d, want 5", n)
		}
		for _, r := range rows(t, db2) {
			if r.Published == nil {
				t.Fatalf("event %s still unpublished after the relay", r.Body)
			}
		}
		// A sentinel published last: everything before it in the stream has
		// been delivered once it arrives.
		add(t, ctx, db2, ob2, "v2.test.sentinel", "end")
		relay(t, ob2)
		ch := subscribe(t, b2, "exactly-once")
		seen := map[string]int{}
		var order []string
		for {
			ev := next(t, ch)
			if ev.Topic == "v2.test.sentinel" {
				break
			}
			seen[string(ev.Body)]++
			order = append(order, string(ev.Body))
		}
		for i := range 7 {
			if seen[fmt.Sprint(i)] != 1 {
				t.Errorf("event %d delivered %d times (order %v)", i, seen[fmt.Sprint(i)], order)
			}
		}
		if len(order) != 7 {
			t.Errorf("delivered %v, want 7 events", order)
		}
	})
}

// The relay may republish an event it published just before a crash; the
// event id is the JetStream message id, so the bus drops the copy.
func TestRepublishedEventIsDeduplicated(t *testing.T) {
	t.Parallel()
	b, _ := openBus(t, t.TempDir())
	ctx := context.Background()
	ev, err := bus.NewEvent(ctx, t0, "v2.test.dup", "once")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := bus.NewEvent(ctx, t0, "v2.test.dup", "other")
	if err := b.Publish(ctx, other); err != nil {
		t.Fatal(err)
	}
	ch := subscribe(t, b, "dedupe")
	if got := next(t, ch); got.ID != ev.ID {
		t.Fatalf("first delivery %s, want %s", got.Body, ev.Body)
	}
	if got := next(t, ch); got.ID != other.ID {
		t.Fatalf("second delivery %s (%s): the republished event was not deduplicated", got.Body, got.ID)
	}
}

func TestOnceRunsOncePerConsumerAndEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE effects (consumer TEXT NOT NULL, event_id TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		effects := func(consumer, id string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM effects WHERE consumer = $1 AND event_id = $2`, consumer, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		calls := 0
		fn := func(consumer, id string) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				calls++
				_, err := tx.ExecContext(ctx, `INSERT INTO effects (consumer, event_id) VALUES ($1, $2)`, consumer, id)
				return err
			}
		}
		ran, err := outbox.Once(ctx, db, "notify", "e1", t0, fn("notify", "e1"))
		if err != nil || !ran {
			t.Fatalf("first Once: ran %v, %v", ran, err)
		}
		ran, err = outbox.Once(ctx, db, "notify", "e1", t0, fn("notify", "e1"))
		if err != nil || ran {
			t.Fatalf("second Once: ran %v, %v; want false, nil", ran, err)
		}
		if calls != 1 || effects("notify", "e1") != 1 {
			t.Fatalf("fn called %d times, %d effects; want 1, 1", calls, effects("notify", "e1"))
		}
		// Another consumer, or another event, is a separate key.
		if ran, err := outbox.Once(ctx, db, "analytics", "e1", t0, fn("analytics", "e1")); err != nil || !ran {
			t.Fatalf("other consumer: ran %v, %v", ran, err)
		}
		if ran, err := outbox.Once(ctx, db, "notify", "e2", t0, fn("notify", "e2")); err != nil || !ran {
			t.Fatalf("other event: ran %v, %v", ran, err)
		}
		var processed int64
		db.QueryRowContext(ctx, `SELECT processed_at FROM inbox WHERE consumer = 'notify' AND event_id = 'e1'`).Scan(&processed)
		if processed != store.Millis(t0) {
			t.Fatalf("processed_at = %d, want %d", processed, store.Millis(t0))
		}
	})
}

func TestOnceConcurrent(t *testing.T) {
	t.Parallel()
	const goroutines = 8
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var calls atomic.Int32
		var ranCount atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		start := make(chan struct{})
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ran, err := outbox.Once(ctx, db, "c", "same-event", t0, func(tx *store.Tx) error {
					calls.Add(1)
					return nil
				})
				if err != nil {
					errs <- err
				}
				if ran {
					ranCount.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if calls.Load() != 1 || ranCount.Load() != 1 {
			t.Fatalf("fn called %d times, ran reported %d times; want 1, 1", calls.Load(), ranCount.Load())
		}
	})
}

func TestOnceFailureLeavesNoMarker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE effects (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("handler failed")
		ran, err := outbox.Once(ctx, db, "crm", "e1", t0, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO effects (n) VALUES (1)`); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || ran {
			t.Fatalf("failing fn: ran %v, err %v; want false and the fn's error", ran, err)
		}
		var markers, effects int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox`).Scan(&markers)
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM effects`).Scan(&effects)
		if markers != 0 || effects != 0 {
			t.Fatalf("after a failure: %d markers, %d effects; want none", markers, effects)
		}
		ran, err = outbox.Once(ctx, db, "crm", "e1", t0, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO effects (n) VALUES (2)`)
			return err
		})
		if err != nil || !ran {
			t.Fatalf("retry: ran %v, %v; want true, nil", ran, err)
		}
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox`).Scan(&markers)
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM effects`).Scan(&effects)
		if markers != 1 || effects != 1 {
			t.Fatalf("after the retry: %d markers, %d effects; want 1, 1", markers, effects)
		}
	})
}

func TestPrune(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		b, _ := openBus(t, t.TempDir())
		ob := outbox.New(db, b, clk, testLog())
		add(t, ctx, db, ob, "v2.test.old", "old")
		relay(t, ob) // published at t0
		clk.Advance(2 * time.Hour)
		add(t, ctx, db, ob, "v2.test.recent", "recent")
		relay(t, ob) // published at t0+2h
		// Pending for long, e.g. while the bus was down: never pruned.
		noRelay := outbox.New(db, nil, clock.NewFake(t0.Add(-48*time.Hour)), testLog())
		add(t, ctx, db, noRelay, "v2.test.pending", "pending")
		clk.Advance(2 * time.Hour) // now t0+4h

		n, err := ob.Prune(ctx, 3*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("Prune(3h) removed %d (%v), want 1", n, err)
		}
		left := map[string]bool{}
		for _, r := range rows(t, db) {
			left[r.Body] = true
		}
		if len(left) != 2 || !left[`"recent"`] || !left[`"pending"`] {
			t.Fatalf("left after Prune: %v, want recent and pending", left)
		}
		if n, err := ob.Prune(ctx, 3*time.Hour); err != nil || n != 0 {
			t.Fatalf("second Prune removed %d (%v)", n, err)
		}
		if n, err := ob.Prune(ctx, 0); err != nil || n != 1 {
			t.Fatalf("Prune(0) removed %d (%v), want the recent one", n, err)
		}
		if rs := rows(t, db); len(rs) != 1 || rs[0].Published != nil {
			t.Fatalf("left %+v, want only the unpublished event", rs)
		}
	})
}
