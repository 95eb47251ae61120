package conversation_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// router records what the conversations ask of the ACD (the end-to-end
// tests run the real engine; here only the restart matters).
type router struct {
	mu       sync.Mutex
	enqueued []conversation.Interaction
}

func (r *router) Enqueue(ix conversation.Interaction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.enqueued = append(r.enqueued, ix)
}
func (r *router) Dequeue(string)          {}
func (r *router) Accept(string, string)   {}
func (r *router) Decline(string, string)  {}
func (r *router) Complete(string, string) {}
func (r *router) Position(context.Context, string) (int, time.Duration, error) {
	return 0, 0, nil
}
func (r *router) EstimatedWait(context.Context, string) (time.Duration, error) { return 0, nil }

func (r *router) all() []conversation.Interaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conversation.Interaction(nil), r.enqueued...)
}

// keeper is the simulated switch, telling which legs survived (a switch
// running outside the process would).
type keeper struct{ *sim.Switch }

func (k keeper) HasLeg(leg string) bool { _, ok := k.Info(leg); return ok }

type world struct {
	db   *store.DB
	clk  *clock.Fake
	dir  *directory.Service
	sess *session.Service
	ob   *outbox.Outbox
}

func newWorld(t *testing.T) *world {
	db := storetest.SQLite(t)
	box, _ := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir := directory.New(db, ob, box, clk)
	sess := session.New(db, ob, dir, clk)
	if err := sess.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &world{db: db, clk: clk, dir: dir, sess: sess, ob: ob}
}

func (w *world) service(sw conversation.Options) *conversation.Service {
	sw.DB, sw.Events, sw.Agents, sw.Directory, sw.Clock = w.db, w.ob, w.sess, w.dir, w.clk
	sw.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return conversation.New(sw)
}

// A conversation waiting in a queue whose call survived the restart (the
// switch says its leg is still there) is queued again with its original
// arrival time, priority, skills and preferred agents; one whose leg is
// gone ends.
func TestRestoreRequeuesSurvivingWaitingCalls(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	qskill, err := w.dir.CreateSkill(ctx, "Ventas")
	if err != nil {
		t.Fatal(err)
	}
	cskill, err := w.dir.CreateSkill(ctx, "Inglés")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := w.dir.CreateUser(ctx, directory.UserInput{Username: "agent1", Name: "Lucía"})
	if err != nil {
		t.Fatal(err)
	}
	q := directory.QueueDefaults()
	q.Name, q.SkillIDs = "Ventas", []string{qskill.ID}
	queue, err := w.dir.CreateQueue(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	sw := sim.New(w.clk, sim.Options{})
	defer sw.Close()
	r1 := &router{}
	s1 := w.service(conversation.Options{Switch: sw, Router: r1})
	run1, stop1 := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s1.Run(run1); close(done) }()

	// The kept call asks for a priority, a skill and an agent.
	asked, err := s1.CheckRouting(ctx, conversation.Routing{Priority: 7, Skills: []string{cskill.ID, qskill.ID}, PreferredAgents: []string{agent.ID, agent.ID}},
		"priority", "skillIds", "preferredAgentIds")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s1.ExpectRouted(asked, func() string { return sw.InjectCall("+34600000001", "Ventas", sim.Caller{}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(10 * time.Second)
	lost, _ := s1.Expect(func() string { return sw.InjectCall("+34600000002", "Ventas", sim.Caller{}) })
	if err := s1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(r1.all()); n != 2 {
		t.Fatalf("%d interactions queued, want 2", n)
	}
	enqueuedAt := r1.all()[0].EnqueuedAt
	// The queue's skill, then the call's; repeats once.
	wantSkills, wantPreferred := []string{qskill.ID, cskill.ID}, []string{agent.ID}
	if ix := r1.all()[0]; ix.Priority != 7 || !slices.Equal(ix.Skills, wantSkills) || !slices.Equal(ix.PreferredAgents, wantPreferred) {
		t.Fatalf("enqueued %+v, want priority 7, skills %v, preferred %v", ix, wantSkills, wantPreferred)
	}
	if ix := r1.all()[1]; ix.Priority != 0 || !slices.Equal(ix.Skills, []string{qskill.ID}) || len(ix.PreferredAgents) != 0 {
		t.Fatalf("enqueued %+v, want the queue's skill only", ix)
	}
	stop1()
	<-done
	// The second caller's leg does not survive.
	for _, l := range sw.Legs() {
		if l.From == "+34600000002" {
			if err := sw.HangupFromPeer(l.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	w.clk.Advance(time.Minute)
	r2 := &router{}
	s2 := w.service(conversation.Options{Switch: keeper{sw}, Router: r2})
	if err := s2.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	got := r2.all()
	if len(got) != 1 || got[0].ID != kept || got[0].QueueID != queue.ID || !got[0].EnqueuedAt.Equal(enqueuedAt) ||
		got[0].Priority != 7 || !slices.Equal(got[0].Skills, wantSkills) || !slices.Equal(got[0].PreferredAgents, wantPreferred) {
		t.Fatalf("requeued %+v, want %s in %s since %s, priority 7, skills %v, preferred %v", got, kept, queue.ID, enqueuedAt, wantSkills, wantPreferred)
	}
	admin := conversation.Actor{Supervisor: true}
	v, err := s2.Get(ctx, admin, kept)
	if err != nil || v.State != "connected" {
		t.Fatalf("kept conversation %+v %v", v, err)
	}
	v, err = s2.Get(ctx, admin, lost)
	if err != nil || v.State != "disconnected" || v.Participants[0].DisconnectType != conversation.DisconnectSystem {
		t.Fatalf("lost conversation %+v %v", v, err)
	}
}
