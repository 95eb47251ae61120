// Package bus carries Centralita's events over NATS JetStream: an embedded
// server in the data directory by default, or an external cluster by URL.
// Every event, whatever its topic, travels in one envelope.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Event is the envelope of every event. Topic uses the notification topic
// names of the platform API (v2.users.<id>.presence, ...).
type Event struct {
	ID            string          `json:"id"`
	Topic         string          `json:"topic"`
	Time          time.Time       `json:"time"`
	Version       string          `json:"version"`
	CorrelationID string          `json:"correlationId,omitempty"`
	Body          json.RawMessage `json:"body"`
}

// NewEvent builds an envelope with a fresh id, taking the correlation id
// carried by ctx (set by the API for the request that caused it).
func NewEvent(ctx context.Context, now time.Time, topic string, body any) (Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Event{}, fmt.Errorf("event %s: %w", topic, err)
	}
	return Event{
		ID:            uuid.NewString(),
		Topic:         topic,
		Time:          now.UTC().Truncate(time.Millisecond),
		Version:       "2",
		CorrelationID: CorrelationID(ctx),
		Body:          b,
	}, nil
}

type correlationKey struct{}

// WithCorrelationID returns ctx carrying id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the id carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	s, _ := ctx.Value(correlationKey{}).(string)
	return s
}

// Stream is the JetStream stream holding all events.
const Stream = "EVENTS"

func subject(topic string) string { return "events." + topic }

// Bus is a connection to NATS with JetStream.
type Bus struct {
	ns  *server.Server // nil when external
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger
}

// Open starts the embedded server (url "" or "embedded", file store under
// dataDir/bus) or connects to an external one.
func Open(ctx context.Context, url, dataDir string, log *slog.Logger) (*Bus, error) {
	b := &Bus{log: log}
	var err error
	if url == "" || url == "embedded" {
		b.ns, err = server.NewServer(&server.Options{
			ServerName: "centralita",
			JetStream:  true,
			StoreDir:   filepath.Join(dataDir, "bus"),
			DontListen: true,
			NoSigs:     true,
			// Keep the embedded server's memory modest; events are small.
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  4 << 30,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded bus: %w", err)
		}
		b.ns.Start()
		if !b.ns.ReadyForConnections(10 * time.Second) {
			b.ns.Shutdown()
			return nil, errors.New("embedded bus: not ready after 10s")
		}
		b.nc, err = nats.Connect("", nats.InProcessServer(b.ns), nats.Name("centralita"))
	} else {
		b.nc, err = nats.Connect(url, nats.Name("centralita"), nats.MaxReconnects(-1),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					log.Warn("bus disconnected", "err", err)
				}
			}),
			nats.ReconnectHandler(func(*nats.Conn) { log.Info("bus reconnected") }))
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus %s: %w", url, err)
	}
	b.js, err = jetstream.New(b.nc)
	if err != nil {
		b.Close()
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err = b.js.CreateOrUpdateStream(cctx, jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{"events.>"},
		Storage:    jetstream.FileStorage,
		MaxAge:     7 * 24 * time.Hour,
		Duplicates: 10 * time.Minute, // the relay may republish after a crash; ids dedupe it
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus stream: %w", err)
	}
	return b, nil
}

// Publish stores ev in the stream. The event id is the JetStream message id,
// so a republished event within the duplicate window is dropped by the server.
func (b *Bus) Publish(ctx context.Context, ev Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = b.js.PublishMsg(ctx, &nats.Msg{Subject: subject(ev.Topic), Data: data},
		jetstream.WithMsgID(ev.ID))
	return err
}

// Handler processes one event. Returning an error redelivers it later.
type Handler func(ctx context.Context, ev Event) error

// Subscribe attaches a durable consumer named durable to the topics matching
// filter (NATS wildcards on topic names, e.g. "v2.users.*.presence" or ">").
// Delivery is at least once: handlers must be idempotent by event id (see
// outbox.Once). The returned stop function ends the subscription and waits
// (up to 5 s, so it may also be called from inside h) until h is running no
// more; after it returns, h is not called again.
func (b *Bus) Subscribe(ctx context.Context, durable, filter string, h Handler) (stop func(), err error) {
	cons, err := b.js.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: subject(filter),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		BackOff:       nil,
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", durable, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var ev Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			b.log.Error("bus: undecodable event dropped", "consumer", durable, "subject", m.Subject(), "err", err)
			m.Term()
			return
		}
		if err := h(context.Background(), ev); err != nil {
			b.log.Warn("bus: handler failed, will redeliver", "consumer", durable, "event", ev.ID, "err", err)
			m.NakWithDelay(time.Second)
			return
		}
		m.Ack()
	})
	if err != nil {
		return nil, err
	}
	// Stop alone only signals the consumer; wait until the subscription is
	// gone so no handler runs, and no message is pulled, after stop returns
	// (bounded, in case stop is called from inside the handler).
	return func() {
		cc.Stop()
		select {
		case <-cc.Closed():
		case <-time.After(5 * time.Second):
		}
	}, nil
}

// Conn is the underlying connection, for core (non-persistent) pub/sub such
// as live notifications.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Ready reports whether the connection is up.
func (b *Bus) Ready() bool { return b.nc != nil && b.nc.IsConnected() }

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.nc != nil {
		b.nc.Drain()
		b.nc.Close()
	}
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
}
