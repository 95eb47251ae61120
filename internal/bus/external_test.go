package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// A separate NATS server on a TCP port stands in for a cluster: two
// Centralita nodes connect by URL, one publishes, the other consumes.
func TestExternalServerByURL(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(wait) {
		t.Fatal("nats server not ready")
	}
	url := ns.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	nodeA, err := Open(ctx, url, t.TempDir(), testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer nodeA.Close()
	nodeB, err := Open(ctx, url, t.TempDir(), testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer nodeB.Close()
	if !nodeA.Ready() || !nodeB.Ready() {
		t.Fatal("nodes not connected")
	}

	got := make(chan Event, 10)
	stop, err := nodeB.Subscribe(ctx, "external-test", "v2.test.>", func(_ context.Context, ev Event) error {
		got <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for i := 0; i < 3; i++ {
		ev, _ := NewEvent(ctx, time.Now(), fmt.Sprintf("v2.test.%d", i), map[string]int{"n": i})
		if err := nodeA.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		select {
		case ev := <-got:
			if ev.Topic != fmt.Sprintf("v2.test.%d", i) {
				t.Fatalf("event %d: topic %s", i, ev.Topic)
			}
		case <-time.After(wait):
			t.Fatalf("event %d not delivered across nodes", i)
		}
	}
}

func TestExternalServerUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := Open(ctx, "nats://127.0.0.1:1", t.TempDir(), testLog())
	if err == nil {
		t.Fatal("want an error for an unreachable bus")
	}
}
