package routing_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/routing"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// recorder is the Decisions (and Notices) of the tests: it writes what the
// engine asked for as short lines.
type recorder struct {
	mu     sync.Mutex
	log    []string
	offers []routing.Offer
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) Offer(o routing.Offer) {
	r.mu.Lock()
	r.offers = append(r.offers, o)
	r.mu.Unlock()
	r.add("offer " + o.InteractionID + " " + o.AgentID)
}
func (r *recorder) OfferTimedOut(ix, a string)     { r.add("timeout " + ix + " " + a) }
func (r *recorder) Overflowed(ix, from, to string) { r.add("overflow " + ix + " " + from + " " + to) }
func (r *recorder) OfferWithdrawn(ix, a string)    { r.add("withdrawn " + ix + " " + a) }
func (r *recorder) Dropped(ix, q string)           { r.add("dropped " + ix + " " + q) }

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

type harness struct {
	t   *testing.T
	clk *clock.Fake
	rec *recorder
	e   *routing.Engine
	ctx context.Context
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := clock.NewFake(t0)
	rec := &recorder{}
	e := routing.New(clk, rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &harness{t: t, clk: clk, rec: rec, e: e, ctx: ctx}
}

func (h *harness) sync() {
	h.t.Helper()
	if err := h.e.Sync(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.clk.Advance(d)
	h.sync()
}

// expect checks what the engine called since the last expect.
func (h *harness) expect(want ...string) {
	h.t.Helper()
	h.sync()
	got := h.rec.take()
	if !slices.Equal(got, want) {
		h.t.Fatalf("decisions:\n got  %q\n want %q", got, want)
	}
}

func (h *harness) agent(id string, queues string, skills map[string]float64) {
	h.e.SetAgent(routing.Agent{ID: id, Queues: strings.Fields(queues), Skills: skills})
}

// available makes agents available one second apart, in the order given
// (so the first is the longest idle).
func (h *harness) available(ids ...string) {
	for _, id := range ids {
		h.e.SetAvailable(id, true)
		h.advance(time.Second)
	}
}

func (h *harness) enqueue(id, queue string, prio int, skills ...string) {
	h.e.Enqueue(routing.Interaction{ID: id, QueueID: queue, Priority: prio, Skills: skills})
}

func (h *harness) position(id string) (int, time.Duration) {
	h.t.Helper()
	p, w, err := h.e.Position(h.ctx, id)
	if err != nil {
		h.t.Fatalf("position %s: %v", id, err)
	}
	return p, w
}

func (h *harness) stats(q string) routing.Stats {
	h.t.Helper()
	st, err := h.e.QueueStats(h.ctx, q)
	if err != nil {
		h.t.Fatalf("stats %s: %v", q, err)
	}
	return st
}

func (h *harness) status(id string) routing.AgentStatus {
	h.t.Helper()
	as, err := h.e.AgentState(h.ctx, id)
	if err != nil {
		h.t.Fatalf("agent %s: %v", id, err)
	}
	return as.Status
}

// cycle accepts the offer and makes the agent available again at once.
func (h *harness) cycle(ix, agent string) {
	h.e.Accept(ix, agent)
	h.e.SetAvailable(agent, true)
}

func (h *harness) lastOffer() routing.Offer {
	h.t.Helper()
	h.sync()
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if len(h.rec.offers) == 0 {
		h.t.Fatal("no offer")
	}
	return h.rec.offers[len(h.rec.offers)-1]
}

func offers(pairs ...string) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = fmt.Sprintf("offer %s", p)
	}
	return out
}
