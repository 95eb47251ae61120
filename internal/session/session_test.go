package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var ctx = context.Background()

type fixture struct {
	db       *store.DB
	clk      *clock.Fake
	dir      *directory.Service
	sess     *session.Service
	users    []string
	stations []directory.Station
	brk      directory.PresenceDefinition

	mu   sync.Mutex
	last map[string]session.View // what the listener last heard per user
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := &fixture{db: db, clk: clk, dir: directory.New(db, ob, box, clk), last: map[string]session.View{}}
	for i := 1; i <= 3; i++ {
		u, err := f.dir.CreateUser(ctx, directory.UserInput{Username: fmt.Sprintf("agent%d", i), Name: fmt.Sprintf("Agent %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		f.users = append(f.users, u.ID)
	}
	for i := 1; i <= 2; i++ {
		st, err := f.dir.CreateStation(ctx, directory.StationInput{Name: fmt.Sprintf("100%d", i), Password: "device"})
		if err != nil {
			t.Fatal(err)
		}
		f.stations = append(f.stations, st)
	}
	if f.brk, err = f.dir.CreateBreak(ctx, directory.BreakInput{Number: 1, Label: "Descanso"}); err != nil {
		t.Fatal(err)
	}
	f.sess = f.newService(t)
	return f
}

func (f *fixture) newService(t *testing.T) *session.Service {
	t.Helper()
	ob := outbox.New(f.db, nil, f.clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := session.New(f.db, ob, f.dir, f.clk)
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	s.OnStatus(func(v session.View) {
		f.mu.Lock()
		f.last[v.UserID] = v
		f.mu.Unlock()
	})
	return s
}

func code(err error) string {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

// lastEvent returns the body of the newest outbox event on topic.
func (f *fixture) lastEvent(t *testing.T, topic string) map[string]any {
	t.Helper()
	var body string
	err := f.db.QueryRowContext(ctx, `SELECT body FROM outbox WHERE topic = $1 ORDER BY created_at DESC, seq DESC LIMIT 1`, topic).Scan(&body)
	if err != nil {
		t.Fatalf("no event on %s: %v", topic, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) countEvents(t *testing.T, topic string) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = $1`, topic).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginPresenceAndStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		a, b := f.users[0], f.users[1]
		s := f.sess

		if v := s.Get(a); v.Status != session.OffQueue || v.Presence.DefinitionID != session.PresenceOffline {
			t.Fatalf("a user never seen: %+v", v)
		}
		// Bad logins, each with its own code, change nothing.
		for _, c := range []struct {
			ref  session.StationRef
			pw   string
			code string
		}{
			{session.StationRef{Name: "9999"}, "device", "station.unknown"},
			{session.StationRef{ID: "00000000-0000-4000-8000-00000000dead"}, "device", "station.unknown"},
			{session.StationRef{Name: "1001"}, "wrong", "station.bad.password"},
			{session.StationRef{}, "device", "bad.request"},
		} {
			if _, err := s.Login(ctx, a, c.ref, c.pw); code(err) != c.code {
				t.Errorf("login %+v/%s: %v (code %q), want %s", c.ref, c.pw, err, code(err), c.code)
			}
		}
		if f.countEvents(t, "v2.users."+a+".station") != 0 {
			t.Fatal("a failed login wrote an event")
		}
		// On Queue needs a station.
		if _, err := s.SetPresence(ctx, a, session.PresenceOnQueue, nil); code(err) != "station.required" {
			t.Fatalf("on queue without a station: %v", err)
		}
		v, err := s.Login(ctx, a, session.StationRef{Name: "1001"}, "device")
		if err != nil || v.StationName != "1001" {
			t.Fatalf("login: %+v %v", v, err)
		}
		st := f.lastEvent(t, "v2.users."+a+".station")["associatedStation"].(map[string]any)
		if st["id"] != f.stations[0].ID || st["associatedUser"].(map[string]any)["id"] != a {
			t.Errorf("station event %v", st)
		}
		// Someone else on the same station: 409.
		if _, err := s.Login(ctx, b, session.StationRef{ID: f.stations[0].ID}, "device"); code(err) != "station.in.use" {
			t.Fatalf("station in use: %v", err)
		}
		f.clk.Advance(time.Second)
		v, err = s.SetPresence(ctx, a, session.PresenceOnQueue, nil)
		if err != nil || v.Status != session.Idle || !v.Available() {
			t.Fatalf("on queue: %+v %v", v, err)
		}
		p := f.lastEvent(t, "v2.users."+a+".presence")
		if p["source"] != "PURECLOUD" || p["presenceDefinition"].(map[string]any)["systemPresence"] != "ON_QUEUE" ||
			p["presenceDefinition"].(map[string]any)["id"] != session.PresenceOnQueue || p["modifiedDate"] != "2026-05-01T10:00:01.000Z" {
			t.Errorf("presence event %v", p)
		}
		rs := f.lastEvent(t, "v2.users."+a+".routingStatus")
		if rs["id"] != a || rs["routingStatus"].(map[string]any)["status"] != "IDLE" || rs["routingStatus"].(map[string]any)["startTime"] != "2026-05-01T10:00:01.000Z" {
			t.Errorf("routing status event %v", rs)
		}
		if got := f.last[a]; got.Status != session.Idle {
			t.Errorf("listener heard %v", got.Status)
		}

		// An offer rings, is missed: NOT_RESPONDING until a presence is chosen.
		must(t, s.SetActivity(ctx, a, "p1", session.Alerting))
		if v := s.Get(a); v.Status != session.Interacting {
			t.Fatalf("alerting: %v", v.Status)
		}
		must(t, s.EndActivity(ctx, a, "p1"))
		must(t, s.MarkNotResponding(ctx, a))
		if v := s.Get(a); v.Status != session.NotResponding || v.Available() {
			t.Fatalf("missed offer: %v", v.Status)
		}
		if _, err := s.SetPresence(ctx, a, session.PresenceOnQueue, nil); err != nil || s.Get(a).Status != session.Idle {
			t.Fatalf("back on queue: %v %v", s.Get(a).Status, err)
		}
		// A call, wrap-up, a non-ACD call.
		must(t, s.SetActivity(ctx, a, "p2", session.Connected))
		must(t, s.SetActivity(ctx, a, "p2", session.Wrapup))
		if v := s.Get(a); v.Status != session.Interacting || v.Busy() {
			t.Fatalf("wrap-up: %v busy=%v", v.Status, v.Busy())
		}
		must(t, s.EndActivity(ctx, a, "p2"))
		must(t, s.SetActivity(ctx, a, "p3", session.Calling))
		if v := s.Get(a); v.Status != session.Communicating {
			t.Fatalf("calling: %v", v.Status)
		}
		// Late report for an ended participant: ignored.
		must(t, s.SetActivity(ctx, a, "p2", session.Connected))
		must(t, s.EndActivity(ctx, a, "p3"))
		if v := s.Get(a); v.Status != session.Idle {
			t.Fatalf("after late report: %v %v", v.Status, v.Activities)
		}
		// Breaks by number, pause and unpause.
		if _, err := s.SetBreak(ctx, a, 7, nil); code(err) != "break.unknown" {
			t.Fatalf("unknown break: %v", err)
		}
		f.clk.Advance(time.Millisecond) // events are ordered by time
		msg := "vuelvo en 5"
		v, err = s.SetBreak(ctx, a, 1, &msg)
		if err != nil || v.Presence.DefinitionID != f.brk.ID || v.Presence.Label != "1 - Descanso" || v.Status != session.OffQueue {
			t.Fatalf("break 1: %+v %v", v, err)
		}
		if p := f.lastEvent(t, "v2.users."+a+".presence"); p["presenceDefinition"].(map[string]any)["systemPresence"] != "BREAK" || p["message"] != msg {
			t.Errorf("break presence event %v", p)
		}
		if v, _ := s.Unpause(ctx, a); v.Status != session.Idle {
			t.Fatalf("unpause: %v", v.Status)
		}
		if v, _ := s.Pause(ctx, a); v.Presence.DefinitionID != session.PresenceBreak || v.Status != session.OffQueue {
			t.Fatalf("pause: %+v", v)
		}
		if _, err := s.Unpause(ctx, a); err != nil {
			t.Fatal(err)
		}
		// Logout is refused during a call, allowed during wrap-up.
		must(t, s.SetActivity(ctx, a, "p4", session.Connected))
		if _, err := s.Logout(ctx, a); code(err) != "agent.busy" {
			t.Fatalf("logout during a call: %v", err)
		}
		must(t, s.SetActivity(ctx, a, "p4", session.Wrapup))

		// A restart restores the session.
		f.clk.Advance(time.Second)
		again := f.newService(t)
		v = again.Get(a)
		if v.StationID != f.stations[0].ID || v.Presence.DefinitionID != session.PresenceOnQueue || v.Status != session.Interacting {
			t.Fatalf("restored: %+v", v)
		}
		must(t, again.SetActivity(ctx, a, "p4", session.Wrapup)) // the conversation service reports it again
		must(t, again.Settle(ctx))
		if v := again.Get(a); v.Status != session.Interacting {
			t.Fatalf("settled with wrap-up pending: %v", v.Status)
		}
		must(t, again.EndActivity(ctx, a, "p4"))
		if v := again.Get(a); v.Status != session.Idle {
			t.Fatalf("after wrap-up: %v", v.Status)
		}
		f.clk.Advance(time.Millisecond)
		v, err = again.Logout(ctx, a)
		if err != nil || v.StationID != "" || v.Status != session.OffQueue || v.Presence.DefinitionID != session.PresenceAvailable {
			t.Fatalf("logout: %+v %v", v, err)
		}
		if st := f.lastEvent(t, "v2.users."+a+".station"); st["associatedStation"] != nil {
			t.Errorf("logout station event %v", st)
		}
		// Now the station is free for b.
		if _, err := again.Login(ctx, b, session.StationRef{Name: "1001"}, "device"); err != nil {
			t.Fatal(err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Random orders of everything that can happen to agents — logins, presence
// changes, offers, calls, wrap-ups, disconnects in every state, duplicate
// and late reports — never leave an agent stuck: the status always matches
// the session, the listener and the stored events agree with it, and once
// the calls are over every agent can get back to IDLE and to OFF_QUEUE.
func TestNoAgentIsEverStuck(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	presences := []string{session.PresenceOnQueue, session.PresenceOnQueue, session.PresenceAvailable, session.PresenceBreak,
		session.PresenceOffline, session.PresenceMeal, f.brk.ID}
	activities := []session.Activity{session.Alerting, session.Connected, session.Wrapup, session.Calling}
	seeds := 12
	if testing.Short() {
		seeds = 5
	}
	for seed := 1; seed <= seeds; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		s := f.sess
		keys := map[string][]string{} // user → keys used
		type call struct {
			user, key string
			a         session.Activity
		}
		var history []call
		var prev func() error
		for step := 0; step < 200; step++ {
			u := f.users[rng.Intn(len(f.users))]
			key := fmt.Sprintf("s%d-k%d", seed, rng.Intn(6))
			var op func() error
			switch r := rng.Intn(100); {
			case r < 8:
				st := f.stations[rng.Intn(len(f.stations))]
				pw := "device"
				if rng.Intn(5) == 0 {
					pw = "nope"
				}
				op = func() error { _, err := s.Login(ctx, u, session.StationRef{Name: st.Name}, pw); return err }
			case r < 14:
				op = func() error { _, err := s.Logout(ctx, u); return err }
			case r < 34:
				p := presences[rng.Intn(len(presences))]
				op = func() error { _, err := s.SetPresence(ctx, u, p, nil); return err }
			case r < 60:
				a := activities[rng.Intn(len(activities))]
				keys[u] = append(keys[u], key)
				history = append(history, call{u, key, a})
				op = func() error { return s.SetActivity(ctx, u, key, a) }
			case r < 80:
				op = func() error { return s.EndActivity(ctx, u, key) } // a disconnect in whatever state
			case r < 88:
				op = func() error { return s.MarkNotResponding(ctx, u) }
			case r < 94 && prev != nil:
				op = prev // a duplicate report
			case len(history) > 0:
				h := history[rng.Intn(len(history))] // a late report
				op = func() error { return s.SetActivity(ctx, h.user, h.key, h.a) }
			default:
				op = func() error { _, err := s.Pause(ctx, u); return err }
			}
			if err := op(); err != nil && code(err) == "" {
				t.Fatalf("seed %d step %d: unexpected error %v", seed, step, err)
			}
			prev = op
			f.clk.Advance(time.Millisecond)
			f.checkConsistent(t, s, fmt.Sprintf("seed %d step %d", seed, step), step%10 == 0)
		}
		// The way out: every call ends (the conversation service reports
		// each participant's end); then each agent can reach IDLE and OFF_QUEUE.
		for _, u := range f.users {
			for _, k := range keys[u] {
				must(t, s.EndActivity(ctx, u, k))
			}
			for k := range s.Get(u).Activities {
				t.Fatalf("seed %d: %s still has activity %s after every participant ended", seed, u, k)
			}
			if s.Get(u).StationID == "" {
				free := ""
				for _, st := range f.stations {
					if _, taken := s.UserAtStation(st.Name); !taken {
						free = st.Name
					}
				}
				if free == "" {
					continue // both stations taken by the others
				}
				if _, err := s.Login(ctx, u, session.StationRef{Name: free}, "device"); err != nil {
					t.Fatalf("seed %d: login after calls ended: %v", seed, err)
				}
			}
			if v, err := s.SetPresence(ctx, u, session.PresenceOnQueue, nil); err != nil || v.Status != session.Idle {
				t.Fatalf("seed %d: %s cannot get back to IDLE: %v %v", seed, u, v.Status, err)
			}
			f.clk.Advance(time.Millisecond)
			f.checkConsistent(t, s, fmt.Sprintf("seed %d way back", seed), true)
			if v, err := s.Logout(ctx, u); err != nil || v.Status != session.OffQueue {
				t.Fatalf("seed %d: %s cannot log out: %v %v", seed, u, v.Status, err)
			}
			f.clk.Advance(time.Millisecond)
			f.checkConsistent(t, s, fmt.Sprintf("seed %d logged out", seed), true)
		}
		// The stored sessions match: a restarted service sees the same.
		again := f.newService(t)
		for _, u := range f.users {
			a, b := s.Get(u), again.Get(u)
			if a.StationID != b.StationID || a.Presence.DefinitionID != b.Presence.DefinitionID || a.Status != b.Status || a.NotResponding != b.NotResponding {
				t.Fatalf("seed %d: restored %+v, want %+v", seed, b, a)
			}
		}
		f.sess = again
	}
}

// checkConsistent: each agent's status is the one derived from the
// session; the listener heard it; the newest stored routing status event says it.
func (f *fixture) checkConsistent(t *testing.T, s *session.Service, where string, stored bool) {
	t.Helper()
	for _, u := range f.users {
		v := s.Get(u)
		want := session.OffQueue
		if v.StationID != "" && v.Presence.DefinitionID == session.PresenceOnQueue {
			want = session.Idle
			acd, other := false, false
			for _, a := range v.Activities {
				if a == session.Calling {
					other = true
				} else {
					acd = true
				}
			}
			switch {
			case v.NotResponding:
				want = session.NotResponding
			case acd:
				want = session.Interacting
			case other:
				want = session.Communicating
			}
		}
		if v.Status != want {
			t.Fatalf("%s: %s has status %s, want %s (%+v)", where, u, v.Status, want, v)
		}
		f.mu.Lock()
		heard, ok := f.last[u]
		f.mu.Unlock()
		if ok && heard.Status != v.Status {
			t.Fatalf("%s: listener last heard %s, status is %s", where, heard.Status, v.Status)
		}
		if ok && heard.Available() != v.Available() {
			t.Fatalf("%s: listener availability %v, want %v", where, heard.Available(), v.Available())
		}
		var n int
		if stored {
			f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE topic = $1`, "v2.users."+u+".routingStatus").Scan(&n)
		}
		if n > 0 {
			ev := f.lastEvent(t, "v2.users."+u+".routingStatus")
			if got := ev["routingStatus"].(map[string]any)["status"]; got != string(v.Status) {
				t.Fatalf("%s: newest routing status event says %v, status is %s", where, got, v.Status)
			}
		}
		for _, other := range f.users {
			if o := s.Get(other); other != u && v.StationID != "" && o.StationID == v.StationID {
				t.Fatalf("%s: %s and %s share station %s", where, u, other, v.StationName)
			}
		}
	}
}
