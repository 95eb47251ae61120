package bus

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every wait for asynchronous delivery.
const wait = 10 * time.Second

func testLog() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("CENTRALITA_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// open starts an embedded bus in dir and closes it when the test ends (or
// earlier through the returned function, which is idempotent).
func open(t *testing.T, dir string) (*Bus, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := Open(ctx, "", dir, testLog())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeFn := func() { once.Do(b.Close) }
	t.Cleanup(closeFn)
	return b, closeFn
}

func mustEvent(t *testing.T, ctx context.Context, topic string, body any) Event {
	t.Helper()
	ev, err := NewEvent(ctx, time.Now(), topic, body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func publish(t *testing.T, b *Bus, evs ...Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, ev := range evs {
		if err := b.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// collect subscribes durable to filter and sends every delivered event to the
// returned channel (buffered, so the handler never blocks the test).
func collect(t *testing.T, b *Bus, durable, filter string, h func(Event) error) (<-chan Event, func()) {
	t.Helper()
	ch := make(chan Event, 1000)
	stop, err := b.Subscribe(context.Background(), durable, filter, func(_ context.Context, ev Event) error {
		ch <- ev
		if h != nil {
			return h(ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ch, stop
}

func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(wait):
		t.Fatalf("no event delivered within %v", wait)
		return Event{}
	}
}

// ackFloor waits until durable has acknowledged every stream sequence up to
// seq (acks travel asynchronously).
func ackFloor(t *testing.T, b *Bus, durable string, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cons, err := b.js.Consumer(ctx, Stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatalf("consumer %s: %v", durable, err)
		}
		if info.AckFloor.Stream >= seq {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer %s: ack floor %d, want %d within %v", durable, info.AckFloor.Stream, seq, wait)
		case <-tick.C:
		}
	}
}

func TestPublishReachesDurableSubscriber(t *testing.T) {
	t.Parallel()
	b, _ := open(t, t.TempDir())
	if !b.Ready() {
		t.Fatal("bus not ready after Open")
	}
	ctx := WithCorrelationID(context.Background(), "req-1")
	sent := mustEvent(t, ctx, "v2.users.u1.presence", map[string]any{"presence": "Break", "n": 1})
	publish(t, b, sent)
	ch, _ := collect(t, b, "presence", "v2.users.*.presence", nil)
	got := next(t, ch)
	if got.ID != sent.ID || got.Topic != sent.Topic || !got.Time.Equal(sent.Time) || got.Version != "2" ||
		got.CorrelationID != "req-1" || string(got.Body) != string(sent.Body) {
		t.Fatalf("delivered %+v, want %+v", got, sent)
	}
}

func TestSubscribeFiltersByTopic(t *testing.T) {
	t.Parallel()
	b, _ := open(t, t.TempDir())
	ch, _ := collect(t, b, "presence", "v2.users.*.presence", nil)
	other := mustEvent(t, context.Background(), "v2.routing.queues.q1.users", nil)
	want := mustEvent(t, context.Background(), "v2.users.u2.presence", nil)
	publish(t, b, other, want)
	if got := next(t, ch); got.ID != want.ID {
		t.Fatalf("first delivery %s (%s), want %s: the filter let another topic through", got.ID, got.Topic, want.ID)
	}
	// Everything before "want" in the stream was seen (delivery is in order),
	// and nothing else is pending.
	ackFloor(t, b, "presence", 2)
	select {
	case ev := <-ch:
		t.Fatalf("unexpected delivery %s", ev.Topic)
	default:
	}
}

func TestHandlerErrorRedelivers(t *testing.T) {
	t.Parallel()
	b, _ := open(t, t.TempDir())
	var mu sync.Mutex
	failures := 0
	ch, _ := collect(t, b, "flaky", ">", func(ev Event) error {
		mu.Lock()
		defer mu.Unlock()
		if failures < 1 {
			failures++
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	ev := mustEvent(t, context.Background(), "v2.test.flaky", "x")
	publish(t, b, ev)
	for i := range 2 {
		if got := next(t, ch); got.ID != ev.ID {
			t.Fatalf("delivery %d: %s, want %s", i+1, got.ID, ev.ID)
		}
	}
	ackFloor(t, b, "flaky", 1)
}

// Acknowledged events stay acknowledged across a restart on the same data
// directory; unacknowledged ones (published while nobody consumed) arrive.
func TestDurableAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b1, close1 := open(t, dir)
	ch, stop := collect(t, b1, "worker", ">", nil)
	acked := []Event{
		mustEvent(t, context.Background(), "v2.test.a", 1),
		mustEvent(t, context.Background(), "v2.test.a", 2),
		mustEvent(t, context.Background(), "v2.test.a", 3),
	}
	publish(t, b1, acked...)
	for _, want := range acked {
		if got := next(t, ch); got.ID != want.ID {
			t.Fatalf("got %s, want %s", got.ID, want.ID)
		}
	}
	ackFloor(t, b1, "worker", 3)
	stop()
	pending := []Event{
		mustEvent(t, context.Background(), "v2.test.a", 4),
		mustEvent(t, context.Background(), "v2.test.a", 5),
	}
	publish(t, b1, pending...)
	close1()

	b2, _ := open(t, dir)
	ch2, _ := collect(t, b2, "worker", ">", nil)
	// Delivery is in stream order: had the consumer or its acks been lost,
	// event 1 would come first.
	for _, want := range pending {
		if got := next(t, ch2); got.ID != want.ID {
			t.Fatalf("after restart got %s (body %s), want %s (body %s)", got.ID, got.Body, want.ID, want.Body)
		}
	}
	ackFloor(t, b2, "worker", 5)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cons, err := b2.js.Consumer(ctx, Stream, "worker")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumRedelivered != 0 || info.NumPending != 0 {
		t.Fatalf("after restart: %d ack pending, %d redelivered, %d pending; want 0, 0, 0",
			info.NumAckPending, info.NumRedelivered, info.NumPending)
	}
	select {
	case ev := <-ch2:
		t.Fatalf("unexpected delivery after restart: %s", ev.Body)
	default:
	}
}

func TestStopEndsDelivery(t *testing.T) {
	t.Parallel()
	b, _ := open(t, t.TempDir())
	ch, stop := collect(t, b, "stopper", ">", nil)
	publish(t, b, mustEvent(t, context.Background(), "v2.test.s", 1))
	next(t, ch)
	ackFloor(t, b, "stopper", 1)
	stop()
	publish(t, b, mustEvent(t, context.Background(), "v2.test.s", 2))
	// A second, independent consumer sees event 2, so it was delivered to
	// whoever listens; the stopped one must not have run its handler.
	other, _ := collect(t, b, "witness", ">", nil)
	next(t, other)
	next(t, other)
	select {
	case ev := <-ch:
		t.Fatalf("stopped subscription delivered %s", ev.Body)
	default:
	}
	stop() // idempotent
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	if got := CorrelationID(context.Background()); got != "" {
		t.Fatalf("background context carries %q", got)
	}
	ctx := WithCorrelationID(context.Background(), "abc")
	if got := CorrelationID(ctx); got != "abc" {
		t.Fatalf("CorrelationID = %q, want abc", got)
	}
	inner := WithCorrelationID(ctx, "def")
	if CorrelationID(inner) != "def" || CorrelationID(ctx) != "abc" {
		t.Fatal("an inner id must shadow the outer one without changing it")
	}
	// Other context values with a string "correlation" key do not leak in.
	type otherKey string
	if got := CorrelationID(context.WithValue(context.Background(), otherKey("correlationId"), "x")); got != "" {
		t.Fatalf("foreign key read as correlation id %q", got)
	}
	ev, err := NewEvent(inner, time.Now(), "v2.t", nil)
	if err != nil || ev.CorrelationID != "def" {
		t.Fatalf("NewEvent took correlation id %q (%v), want def", ev.CorrelationID, err)
	}
	ev, _ = NewEvent(context.Background(), time.Now(), "v2.t", nil)
	b, _ := json.Marshal(ev)
	if strings.Contains(string(b), "correlationId") {
		t.Fatalf("empty correlation id serialized: %s", b)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestNewEvent(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("UTC-5", -5*3600)
	now := time.Date(2026, 11, 21, 3, 10, 59, 123_456_789, zone)
	ev, err := NewEvent(context.Background(), now, "v2.users.u1.presence", map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 21, 8, 10, 59, 123_000_000, time.UTC)
	if !ev.Time.Equal(want) || ev.Time.Location() != time.UTC || ev.Time.Nanosecond() != 123_000_000 {
		t.Fatalf("Time = %v (%v), want %v in UTC truncated to the millisecond", ev.Time, ev.Time.Location(), want)
	}
	if !uuidRE.MatchString(ev.ID) || ev.Topic != "v2.users.u1.presence" || ev.Version != "2" || string(ev.Body) != `{"a":"b"}` {
		t.Fatalf("event %+v", ev)
	}
	ev2, _ := NewEvent(context.Background(), now, "v2.users.u1.presence", nil)
	if ev2.ID == ev.ID {
		t.Fatal("two events share an id")
	}
	if string(ev2.Body) != "null" {
		t.Fatalf("nil body = %s, want null", ev2.Body)
	}
	// The wire form: ISO-8601 UTC with a literal Z, and a round trip.
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"time":"2026-11-21T08:10:59.123Z"`) {
		t.Fatalf("wire form %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.ID != ev.ID || !back.Time.Equal(ev.Time) || string(back.Body) != string(ev.Body) {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	if _, err := NewEvent(context.Background(), now, "v2.bad", make(chan int)); err == nil || !strings.Contains(err.Error(), "v2.bad") {
		t.Fatalf("unmarshalable body: %v, want an error naming the topic", err)
	}
}

func TestCloseStopsReady(t *testing.T) {
	t.Parallel()
	b, closeFn := open(t, t.TempDir())
	_, stop := collect(t, b, "c", ">", nil)
	closeFn()
	if b.Ready() {
		t.Fatal("Ready after Close")
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("stop after Close did not return")
	}
}
