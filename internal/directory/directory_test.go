package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 123_456_789, time.UTC)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	db  *store.DB
	clk *clock.Fake
	dir *directory.Service
	ev  *eventLog
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	box, err := secret.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	ob := outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &fixture{db: db, clk: clk, dir: directory.New(db, ob, box, clk), ev: &eventLog{db: db, seen: map[string]bool{}}}
}

var ctx = context.Background()

// eventLog checks that each change wrote exactly one outbox row, with the
// expected topic and body.
type eventLog struct {
	db   *store.DB
	seen map[string]bool
}

func (l *eventLog) fresh(t *testing.T) []struct{ topic, body string } {
	t.Helper()
	rows, err := l.db.QueryContext(ctx, `SELECT id, topic, body FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []struct{ topic, body string }
	for rows.Next() {
		var id, topic, body string
		if err := rows.Scan(&id, &topic, &body); err != nil {
			t.Fatal(err)
		}
		if !l.seen[id] {
			l.seen[id] = true
			out = append(out, struct{ topic, body string }{topic, body})
		}
	}
	return out
}

// expect asserts that exactly one event was written since the last check.
func (l *eventLog) expect(t *testing.T, topic, action, entity, id string) {
	t.Helper()
	evs := l.fresh(t)
	if len(evs) != 1 {
		t.Fatalf("want exactly one new outbox event %s (%s %s), got %d: %v", topic, action, entity, len(evs), evs)
	}
	var c directory.Change
	if err := json.Unmarshal([]byte(evs[0].body), &c); err != nil {
		t.Fatal(err)
	}
	if evs[0].topic != topic || c.Action != action || c.Entity != entity || c.ID != id {
		t.Fatalf("outbox event %s %s, want %s with action %s, entity %s, id %s", evs[0].topic, evs[0].body, topic, action, entity, id)
	}
}

// none asserts that nothing was written since the last check.
func (l *eventLog) none(t *testing.T) {
	t.Helper()
	if evs := l.fresh(t); len(evs) != 0 {
		t.Fatalf("a rejected change wrote outbox events: %v", evs)
	}
}

// wantProblem asserts err holds problems of kind, on exactly the fields given.
func wantProblem(t *testing.T, err error, kind problem.Kind, fields ...string) {
	t.Helper()
	ps := problem.All(err)
	if len(ps) == 0 {
		t.Fatalf("got %v, want problems of kind %d on %v", err, kind, fields)
	}
	var got []string
	for _, p := range ps {
		if p.Kind != kind {
			t.Errorf("problem %q has kind %d, want %d", p.Error(), p.Kind, kind)
		}
		got = append(got, p.Field)
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problems on fields %q (%v), want %q", got, err, want)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (f *fixture) user(t *testing.T, username, name string) directory.User {
	t.Helper()
	u, err := f.dir.CreateUser(ctx, directory.UserInput{Username: username, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	f.ev.fresh(t)
	return u
}

func (f *fixture) queue(t *testing.T, name string) directory.Queue {
	t.Helper()
	q := directory.QueueDefaults()
	q.Name = name
	q, err := f.dir.CreateQueue(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	f.ev.fresh(t)
	return q
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// session stores an access token for userID the way auth does, without the
// cost of a real login.
func (f *fixture) session(t *testing.T, userID string) {
	t.Helper()
	if _, err := f.db.ExecContext(ctx, `INSERT INTO oauth_clients (id, name, grant_type, token_lifetime_s, created_at, modified_at)
		VALUES ('test-client', 'test client', 'CODE', 3600, 0, 0) ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO tokens (hash, kind, client_id, user_id, roles, family, expires_at, created_at)
		VALUES ($1, 'access', 'test-client', $2, 'agent', $3, $4, 0)`, uuid.NewString(), userID, uuid.NewString(), store.Millis(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func userName(u directory.User) string { return u.Name }

func TestUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		var ana directory.User
		t.Run("create", func(t *testing.T) {
			ana = must[directory.User](t)(f.dir.CreateUser(ctx, directory.UserInput{
				Username: " ana.garcia ", Name: " Ana García ", Email: "ana@example.com", Department: "Ventas",
			}))
			if !directory.IsUUID(ana.ID) || ana.Username != "ana.garcia" || ana.Name != "Ana García" || ana.Email != "ana@example.com" ||
				ana.Department != "Ventas" || ana.State != "active" || ana.Version != 1 || !slices.Equal(ana.Roles, []auth.Role{auth.Agent}) {
				t.Fatalf("created %+v", ana)
			}
			want := t0.Truncate(time.Millisecond)
			if !ana.Created.Equal(want) || !ana.Modified.Equal(want) || ana.Created.Location() != time.UTC {
				t.Fatalf("created %v modified %v, want %v UTC", ana.Created, ana.Modified, want)
			}
			f.ev.expect(t, "v2.directory.users."+ana.ID, "created", "user", ana.ID)
			if got := must[directory.User](t)(f.dir.GetUserByUsername(ctx, "ana.garcia")); got.ID != ana.ID {
				t.Fatalf("by username: %+v", got)
			}
			var hash string
			f.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, ana.ID).Scan(&hash)
			if hash != "" {
				t.Fatal("a user created without a password has a hash")
			}
		})
		t.Run("validation", func(t *testing.T) {
			long := strings.Repeat("x", 201)
			for _, c := range []struct {
				in     directory.UserInput
				fields []string
			}{
				{directory.UserInput{}, []string{"username", "name"}},
				{directory.UserInput{Username: "  ", Name: " "}, []string{"username", "name"}},
				{directory.UserInput{Username: "a b", Name: "x"}, []string{"username"}},
				{directory.UserInput{Username: "a/b", Name: "x"}, []string{"username"}},
				{directory.UserInput{Username: "x", Name: long}, []string{"name"}},
				{directory.UserInput{Username: "x", Name: "x", Email: "not-an-email"}, []string{"email"}},
				{directory.UserInput{Username: "x", Name: "x", Email: "Ana <ana@example.com>"}, []string{"email"}},
				{directory.UserInput{Username: "x", Name: "x", Department: long, Title: long, Phone: long}, []string{"department", "title", "phone"}},
				{directory.UserInput{Username: "x", Name: "x", Roles: []string{"root"}}, []string{"roles"}},
				{directory.UserInput{Username: "x", Name: "x", State: "deleted"}, []string{"state"}},
				{directory.UserInput{Username: "x", Name: "x", Password: "abc"}, []string{"password"}},
				{directory.UserInput{Username: "x", Name: "x", Password: strings.Repeat("p", 257)}, []string{"password"}},
			} {
				_, err := f.dir.CreateUser(ctx, c.in)
				wantProblem(t, err, problem.Invalid, c.fields...)
			}
			f.ev.none(t)
			if n := f.count(t, `SELECT COUNT(*) FROM users`); n != 1 {
				t.Fatalf("%d users after rejected creations, want 1", n)
			}
		})
		t.Run("duplicate username", func(t *testing.T) {
			_, err := f.dir.CreateUser(ctx, directory.UserInput{Username: "ana.garcia", Name: "Otra Ana"})
			wantProblem(t, err, problem.Duplicate, "username")
			f.ev.none(t)
		})
		t.Run("roles", func(t *testing.T) {
			u := must[directory.User](t)(f.dir.CreateUser(ctx, directory.UserInput{Username: "sup", Name: "Sup", Roles: []string{"Supervisor", "admin", "supervisor"}}))
			if !slices.Equal(u.Roles, []auth.Role{auth.Supervisor, auth.Admin}) {
				t.Fatalf("roles %v", u.Roles)
			}
			f.ev.fresh(t)
		})
		t.Run("not found", func(t *testing.T) {
			_, err := f.dir.GetUser(ctx, uuid.NewString())
			wantProblem(t, err, problem.NotFound, "")
			_, err = f.dir.GetUserByUsername(ctx, "nobody")
			wantProblem(t, err, problem.NotFound, "")
			_, err = f.dir.PatchUser(ctx, uuid.NewString(), directory.UserPatch{Version: 1})
			wantProblem(t, err, problem.NotFound, "")
		})
		t.Run("patch", func(t *testing.T) {
			f.clk.Advance(time.Minute)
			name, title := "Ana G.", "Agente"
			roles := []string{"supervisor"}
			u := must[directory.User](t)(f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Name: &name, Title: &title, Roles: &roles, Version: 1}))
			if u.Name != "Ana G." || u.Title != "Agente" || u.Email != "ana@example.com" || u.Version != 2 ||
				!slices.Equal(u.Roles, []auth.Role{auth.Supervisor}) || !u.Modified.Equal(t0.Add(time.Minute).Truncate(time.Millisecond)) {
				t.Fatalf("patched %+v", u)
			}
			f.ev.expect(t, "v2.directory.users."+ana.ID, "updated", "user", ana.ID)

			stale := "Stale"
			_, err := f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Name: &stale, Version: 1})
			wantProblem(t, err, problem.Conflict, "version")
			f.ev.none(t)
			if got := must[directory.User](t)(f.dir.GetUser(ctx, ana.ID)); got.Name != "Ana G." || got.Version != 2 {
				t.Fatalf("a stale patch changed the user: %+v", got)
			}

			empty, bad, badEmail, deleted := []string{}, []string{"root"}, "nope", "deleted"
			_, err = f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Roles: &empty, Version: 2})
			wantProblem(t, err, problem.Invalid, "roles")
			_, err = f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Roles: &bad, Email: &badEmail, State: &deleted, Version: 2})
			wantProblem(t, err, problem.Invalid, "roles", "email", "state")
			blank := " "
			_, err = f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Name: &blank, Version: 2})
			wantProblem(t, err, problem.Invalid, "name")
			f.ev.none(t)
		})
		t.Run("deactivate ends sessions", func(t *testing.T) {
			u := f.user(t, "dora", "Dora")
			f.session(t, u.ID)
			inactive := "inactive"
			if _, err := f.dir.PatchUser(ctx, u.ID, directory.UserPatch{State: &inactive, Version: u.Version}); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, "v2.directory.users."+u.ID, "updated", "user", u.ID)
			if n := f.count(t, `SELECT COUNT(*) FROM tokens WHERE user_id = $1`, u.ID); n != 0 {
				t.Fatalf("%d tokens left for a deactivated user", n)
			}
		})
		t.Run("delete", func(t *testing.T) {
			bob := f.user(t, "bob", "Bob")
			q := f.queue(t, "Soporte")
			if err := f.dir.AddMembers(ctx, q.ID, []string{bob.ID}); err != nil {
				t.Fatal(err)
			}
			f.ev.fresh(t)
			f.session(t, bob.ID)
			f.session(t, bob.ID)
			f.session(t, ana.ID)
			if err := f.dir.DeleteUser(ctx, bob.ID); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, "v2.directory.users."+bob.ID, "deleted", "user", bob.ID)
			got := must[directory.User](t)(f.dir.GetUser(ctx, bob.ID))
			if got.State != "deleted" || got.Version != bob.Version+1 {
				t.Fatalf("deleted user reads %+v", got)
			}
			if n := f.count(t, `SELECT COUNT(*) FROM queue_members WHERE user_id = $1`, bob.ID); n != 0 {
				t.Fatalf("deleted user still in %d queues", n)
			}
			if n := f.count(t, `SELECT COUNT(*) FROM tokens WHERE user_id = $1`, bob.ID); n != 0 {
				t.Fatalf("deleted user still has %d tokens", n)
			}
			if n := f.count(t, `SELECT COUNT(*) FROM tokens WHERE user_id = $1`, ana.ID); n != 1 {
				t.Fatalf("another user's tokens went too: %d left, want 1", n)
			}
			wantProblem(t, f.dir.DeleteUser(ctx, bob.ID), problem.NotFound, "")
			active := "active"
			_, err := f.dir.PatchUser(ctx, bob.ID, directory.UserPatch{State: &active, Version: got.Version})
			wantProblem(t, err, problem.NotFound, "")
			if got := must[directory.User](t)(f.dir.GetUser(ctx, bob.ID)); got.State != "deleted" {
				t.Fatalf("a patch brought a deleted user back: %+v", got)
			}
			f.ev.none(t)
			users, _, _ := f.dir.ListUsers(ctx, directory.UserFilter{}, directory.Page{Limit: 100})
			if slices.ContainsFunc(users, func(u directory.User) bool { return u.ID == bob.ID }) {
				t.Fatal("deleted user listed among active users")
			}
			users, total, _ := f.dir.ListUsers(ctx, directory.UserFilter{State: "deleted"}, directory.Page{Limit: 100})
			if total != 1 || users[0].ID != bob.ID {
				t.Fatalf("deleted users: %v", names(users, userName))
			}
			err = f.dir.AddMembers(ctx, q.ID, []string{bob.ID})
			wantProblem(t, err, problem.Invalid, "[0].id")
		})
	})
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		carla := must[directory.User](t)(f.dir.CreateUser(ctx, directory.UserInput{
			Username: "carla", Name: "Carla", Password: "s3creto!", Roles: []string{"supervisor"},
		}))
		var hash string
		f.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, carla.ID).Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "s3creto!") {
			t.Fatalf("stored password %q, want an argon2id hash", hash)
		}
		id, roles, err := f.dir.VerifyPassword(ctx, "carla", "s3creto!")
		if err != nil || id != carla.ID || !slices.Equal(roles, []auth.Role{auth.Supervisor}) {
			t.Fatalf("right password: %q %v %v", id, roles, err)
		}
		if _, _, err := f.dir.VerifyPassword(ctx, "carla", "s3creto?"); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := f.dir.VerifyPassword(ctx, "nobody", "s3creto!"); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("unknown user: %v", err)
		}
		nopw := f.user(t, "nopw", "No Password")
		if _, _, err := f.dir.VerifyPassword(ctx, nopw.Username, ""); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("user without password: %v", err)
		}
		wantProblem(t, f.dir.SetPassword(ctx, carla.ID, "abc"), problem.Invalid, "password")
		wantProblem(t, f.dir.SetPassword(ctx, uuid.NewString(), "long enough"), problem.NotFound, "")
		f.session(t, carla.ID)
		if err := f.dir.SetPassword(ctx, carla.ID, "n3w-password"); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM tokens WHERE user_id = $1`, carla.ID); n != 0 {
			t.Fatalf("SetPassword left %d sessions", n)
		}
		if _, _, err := f.dir.VerifyPassword(ctx, "carla", "s3creto!"); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("old password after SetPassword: %v", err)
		}
		inactive := "inactive"
		if _, err := f.dir.PatchUser(ctx, carla.ID, directory.UserPatch{State: &inactive, Version: carla.Version}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.dir.VerifyPassword(ctx, "carla", "n3w-password"); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("inactive user with the right password: %v", err)
		}
	})
}

func TestListUsersPaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ids := map[string]string{}
		for _, n := range []string{"Eva", "Bea", "Dani", "Ana", "Carla", "Fede"} {
			ids[n] = f.user(t, strings.ToLower(n), n).ID
		}
		inactive := "inactive"
		if _, err := f.dir.PatchUser(ctx, ids["Fede"], directory.UserPatch{State: &inactive, Version: 1}); err != nil {
			t.Fatal(err)
		}
		list := func(filter directory.UserFilter, p directory.Page) ([]string, int) {
			t.Helper()
			us, total, err := f.dir.ListUsers(ctx, filter, p)
			if err != nil {
				t.Fatal(err)
			}
			return names(us, userName), total
		}
		for _, c := range []struct {
			filter directory.UserFilter
			page   directory.Page
			want   []string
			total  int
		}{
			{directory.UserFilter{}, directory.Page{Limit: 2}, []string{"Ana", "Bea"}, 5},
			{directory.UserFilter{}, directory.Page{Limit: 2, Offset: 2}, []string{"Carla", "Dani"}, 5},
			{directory.UserFilter{}, directory.Page{Limit: 2, Offset: 4}, []string{"Eva"}, 5},
			{directory.UserFilter{}, directory.Page{Limit: 2, Offset: 10}, []string{}, 5},
			{directory.UserFilter{Descending: true}, directory.Page{Limit: 2}, []string{"Eva", "Dani"}, 5},
			{directory.UserFilter{IDs: []string{ids["Dani"], ids["Bea"], ids["Fede"]}}, directory.Page{Limit: 10}, []string{"Bea", "Dani"}, 2},
			{directory.UserFilter{IDs: []string{ids["Dani"], ids["Bea"], ids["Fede"]}, State: "any"}, directory.Page{Limit: 10}, []string{"Bea", "Dani", "Fede"}, 3},
			{directory.UserFilter{IDs: []string{uuid.NewString()}}, directory.Page{Limit: 10}, []string{}, 0},
			{directory.UserFilter{State: "inactive"}, directory.Page{Limit: 10}, []string{"Fede"}, 1},
			{directory.UserFilter{State: "any"}, directory.Page{Limit: 10}, []string{"Ana", "Bea", "Carla", "Dani", "Eva", "Fede"}, 6},
		} {
			got, total := list(c.filter, c.page)
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) || total != c.total {
				t.Errorf("ListUsers(%+v, %+v) = %v total %d, want %v total %d", c.filter, c.page, got, total, c.want, c.total)
			}
		}
		_, _, err := f.dir.ListUsers(ctx, directory.UserFilter{State: "bogus"}, directory.Page{Limit: 1})
		wantProblem(t, err, problem.Invalid, "state")
	})
}

func TestStations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		const pw = "s1p-Pa55word"
		st := must[directory.Station](t)(f.dir.CreateStation(ctx, directory.StationInput{Name: " 1001 ", Password: pw}))
		if st.Name != "1001" || st.Type != directory.StationSIP || !st.HasPassword || !directory.IsUUID(st.ID) {
			t.Fatalf("created %+v", st)
		}
		f.ev.expect(t, "v2.directory.stations."+st.ID, "created", "station", st.ID)
		var raw string
		f.db.QueryRowContext(ctx, `SELECT secret FROM stations WHERE id = $1`, st.ID).Scan(&raw)
		if raw == "" || strings.Contains(raw, pw) || !strings.HasPrefix(raw, "v1:") {
			t.Fatalf("stored secret %q: want it encrypted", raw)
		}
		if got := must[string](t)(f.dir.StationPassword(ctx, "1001")); got != pw {
			t.Fatalf("StationPassword = %q", got)
		}
		// The same password twice gives different ciphertexts (random nonce).
		st2 := must[directory.Station](t)(f.dir.CreateStation(ctx, directory.StationInput{Name: "1002", Type: "sip", Password: pw}))
		f.ev.expect(t, "v2.directory.stations."+st2.ID, "created", "station", st2.ID)
		var raw2 string
		f.db.QueryRowContext(ctx, `SELECT secret FROM stations WHERE id = $1`, st2.ID).Scan(&raw2)
		if raw2 == raw {
			t.Fatal("two stations with the same password store the same ciphertext")
		}
		// Another master key cannot read it.
		otherBox, _ := secret.New([]byte("fedcba9876543210fedcba9876543210"))
		other := directory.New(db, outbox.New(db, nil, f.clk, slog.New(slog.NewTextHandler(io.Discard, nil))), otherBox, f.clk)
		if got, err := other.StationPassword(ctx, "1001"); err == nil {
			t.Fatalf("a different master key opened the password: %q", got)
		}

		web := must[directory.Station](t)(f.dir.CreateStation(ctx, directory.StationInput{Name: "web-1", Type: directory.StationWebRTC}))
		f.ev.expect(t, "v2.directory.stations."+web.ID, "created", "station", web.ID)
		if web.HasPassword || must[string](t)(f.dir.StationPassword(ctx, "web-1")) != "" {
			t.Fatalf("webrtc station without password: %+v", web)
		}
		remote := must[directory.Station](t)(f.dir.CreateStation(ctx, directory.StationInput{Name: "remote.ana", Type: directory.StationRemote, RemoteNumber: "+34600000000"}))
		f.ev.expect(t, "v2.directory.stations."+remote.ID, "created", "station", remote.ID)
		if remote.RemoteNumber != "+34600000000" || remote.Type != "remote" {
			t.Fatalf("remote %+v", remote)
		}

		for _, c := range []struct {
			in     directory.StationInput
			fields []string
		}{
			{directory.StationInput{Name: "2001"}, []string{"password"}},
			{directory.StationInput{Name: "2001", Type: "remote"}, []string{"remoteNumber"}},
			{directory.StationInput{Name: "2001", Type: "pstn"}, []string{"type"}},
			{directory.StationInput{Name: "20 01", Type: "webrtc"}, []string{"name"}},
			{directory.StationInput{Name: "20:01", Type: "webrtc"}, []string{"name"}},
			{directory.StationInput{Type: "webrtc"}, []string{"name"}},
			{directory.StationInput{Name: "2001", Password: strings.Repeat("p", 129)}, []string{"password"}},
			{directory.StationInput{Name: "2001", Type: "remote", RemoteNumber: strings.Repeat("9", 201)}, []string{"remoteNumber"}},
		} {
			_, err := f.dir.CreateStation(ctx, c.in)
			wantProblem(t, err, problem.Invalid, c.fields...)
		}
		_, err := f.dir.CreateStation(ctx, directory.StationInput{Name: "1001", Password: "x"})
		wantProblem(t, err, problem.Duplicate, "name")
		f.ev.none(t)

		// Update: an empty password keeps the current one.
		up := must[directory.Station](t)(f.dir.UpdateStation(ctx, st.ID, directory.StationInput{Name: "1001", Type: "sip"}))
		f.ev.expect(t, "v2.directory.stations."+st.ID, "updated", "station", st.ID)
		if !up.HasPassword || must[string](t)(f.dir.StationPassword(ctx, "1001")) != pw {
			t.Fatal("update without a password lost the password")
		}
		up = must[directory.Station](t)(f.dir.UpdateStation(ctx, st.ID, directory.StationInput{Name: "1003", Password: "n3w"}))
		f.ev.expect(t, "v2.directory.stations."+st.ID, "updated", "station", st.ID)
		if up.Name != "1003" || must[string](t)(f.dir.StationPassword(ctx, "1003")) != "n3w" {
			t.Fatalf("renamed station %+v", up)
		}
		_, err = f.dir.UpdateStation(ctx, st.ID, directory.StationInput{Name: "1002"})
		wantProblem(t, err, problem.Duplicate, "name")
		_, err = f.dir.UpdateStation(ctx, uuid.NewString(), directory.StationInput{Name: "x", Type: "webrtc"})
		wantProblem(t, err, problem.NotFound, "")
		f.ev.none(t)

		if got := must[directory.Station](t)(f.dir.GetStationByName(ctx, "1003")); got.ID != st.ID {
			t.Fatalf("by name: %+v", got)
		}
		sts, total, err := f.dir.ListStations(ctx, "100*", directory.Page{Limit: 10})
		if err != nil || total != 2 || len(sts) != 2 || sts[0].Name != "1002" || sts[1].Name != "1003" {
			t.Fatalf("ListStations(100*) = %v total %d, %v", sts, total, err)
		}
		_, total, _ = f.dir.ListStations(ctx, "", directory.Page{Limit: 1})
		if total != 4 {
			t.Fatalf("total stations %d, want 4", total)
		}

		if err := f.dir.DeleteStation(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.stations."+st.ID, "deleted", "station", st.ID)
		_, err = f.dir.GetStation(ctx, st.ID)
		wantProblem(t, err, problem.NotFound, "")
		_, err = f.dir.StationPassword(ctx, "1003")
		wantProblem(t, err, problem.NotFound, "")
	})
}

func TestSkills(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		en := must[directory.Skill](t)(f.dir.CreateSkill(ctx, " Inglés "))
		if en.Name != "Inglés" || en.Version != 1 || en.State != "active" {
			t.Fatalf("created %+v", en)
		}
		f.ev.expect(t, "v2.directory.skills."+en.ID, "created", "skill", en.ID)
		_, err := f.dir.CreateSkill(ctx, "  ")
		wantProblem(t, err, problem.Invalid, "name")
		_, err = f.dir.CreateSkill(ctx, "Inglés")
		wantProblem(t, err, problem.Duplicate, "name")
		f.ev.none(t)
		fr := must[directory.Skill](t)(f.dir.CreateSkill(ctx, "Francés"))
		f.ev.expect(t, "v2.directory.skills."+fr.ID, "created", "skill", fr.ID)
		pct := must[directory.Skill](t)(f.dir.CreateSkill(ctx, "50%_off"))
		f.ev.fresh(t)
		must[directory.Skill](t)(f.dir.CreateSkill(ctx, "50xyoff"))
		f.ev.fresh(t)

		en = must[directory.Skill](t)(f.dir.RenameSkill(ctx, en.ID, "English"))
		if en.Name != "English" || en.Version != 2 {
			t.Fatalf("renamed %+v", en)
		}
		f.ev.expect(t, "v2.directory.skills."+en.ID, "updated", "skill", en.ID)
		_, err = f.dir.RenameSkill(ctx, en.ID, "Francés")
		wantProblem(t, err, problem.Duplicate, "name")
		f.ev.none(t)

		for pattern, want := range map[string][]string{
			"English": {"English"}, "english": nil, "*an*": {"Francés"}, "50%*": {"50%_off"}, "50*": {"50%_off", "50xyoff"}, "*": {"50%_off", "50xyoff", "English", "Francés"},
		} {
			sks, total, err := f.dir.ListSkills(ctx, pattern, nil, directory.Page{Limit: 10})
			got := names(sks, func(s directory.Skill) string { return s.Name })
			if err != nil || total != len(want) || !slices.Equal(got, want) && len(want) > 0 {
				t.Errorf("ListSkills(%q) = %v total %d (%v), want %v", pattern, got, total, err, want)
			}
		}
		sks, total, _ := f.dir.ListSkills(ctx, "", []string{pct.ID, fr.ID}, directory.Page{Limit: 10})
		if total != 2 || sks[0].ID != pct.ID || sks[1].ID != fr.ID {
			t.Fatalf("ListSkills(ids) = %v", sks)
		}

		u := f.user(t, "eli", "Eli")
		for _, p := range []float64{-0.1, 5.01, math.NaN(), math.Inf(1)} {
			_, err := f.dir.SetUserSkill(ctx, u.ID, en.ID, p)
			wantProblem(t, err, problem.Invalid, "proficiency")
		}
		_, err = f.dir.SetUserSkill(ctx, u.ID, uuid.NewString(), 3)
		wantProblem(t, err, problem.Invalid, "id")
		_, err = f.dir.SetUserSkill(ctx, uuid.NewString(), en.ID, 3)
		wantProblem(t, err, problem.NotFound, "")
		f.ev.none(t)
		for _, p := range []float64{0, 5, 3.5} {
			us := must[directory.UserSkill](t)(f.dir.SetUserSkill(ctx, u.ID, en.ID, p))
			if us.ID != en.ID || us.Proficiency != p {
				t.Fatalf("SetUserSkill(%v) = %+v", p, us)
			}
			f.ev.expect(t, "v2.directory.users."+u.ID, "updated", "user", u.ID)
		}
		must[directory.UserSkill](t)(f.dir.SetUserSkill(ctx, u.ID, fr.ID, 1))
		f.ev.fresh(t)
		uss := must[[]directory.UserSkill](t)(f.dir.UserSkills(ctx, u.ID))
		if len(uss) != 2 || uss[0].Name != "English" || uss[0].Proficiency != 3.5 || uss[1].Name != "Francés" {
			t.Fatalf("UserSkills = %+v", uss)
		}
		if err := f.dir.RemoveUserSkill(ctx, u.ID, fr.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.users."+u.ID, "updated", "user", u.ID)
		wantProblem(t, f.dir.RemoveUserSkill(ctx, u.ID, fr.ID), problem.NotFound, "")
		f.ev.none(t)
		if err := f.dir.DeleteSkill(ctx, en.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.skills."+en.ID, "deleted", "skill", en.ID)
		if uss := must[[]directory.UserSkill](t)(f.dir.UserSkills(ctx, u.ID)); len(uss) != 0 {
			t.Fatalf("deleted skill still held: %+v", uss)
		}
		_, err = f.dir.GetSkill(ctx, en.ID)
		wantProblem(t, err, problem.NotFound, "")
	})
}

func TestQueues(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		var q directory.Queue
		t.Run("defaults", func(t *testing.T) {
			in := directory.QueueDefaults()
			in.Name = " Ventas "
			q = must[directory.Queue](t)(f.dir.CreateQueue(ctx, in))
			f.ev.expect(t, "v2.directory.queues."+q.ID, "created", "queue", q.ID)
			d := directory.QueueDefaults()
			if q.Name != "Ventas" || q.AlertingTimeoutSeconds != 8 || q.ServiceLevelPercentage != 0.8 || q.ServiceLevelDurationMs != 20000 ||
				q.ACWPrompt != "OPTIONAL" || q.ACWTimeoutMs != 0 || q.SkillEvaluation != "ALL" || q.RoutingStrategy != "longest_idle" ||
				q.AlertingTimeoutSeconds != d.AlertingTimeoutSeconds || q.MemberCount != 0 || q.JoinedMemberCount != 0 ||
				!q.Created.Equal(t0.Truncate(time.Millisecond)) {
				t.Fatalf("created %+v", q)
			}
			// The column defaults of the schema agree with QueueDefaults.
			if _, err := f.db.ExecContext(ctx, `INSERT INTO queues (id, name, created_at, modified_at) VALUES ('raw', 'raw', 0, 0)`); err != nil {
				t.Fatal(err)
			}
			raw := must[directory.Queue](t)(f.dir.GetQueue(ctx, "raw"))
			raw.ID, raw.Name, raw.Created, raw.Modified = "", "", time.Time{}, time.Time{}
			if !reflect.DeepEqual(raw, d) {
				t.Fatalf("schema defaults %+v, QueueDefaults %+v", raw, d)
			}
			if err := f.dir.DeleteQueue(ctx, "raw"); err != nil {
				t.Fatal(err)
			}
			f.ev.fresh(t)
		})
		t.Run("validation", func(t *testing.T) {
			for _, c := range []struct {
				change func(*directory.Queue)
				field  string
			}{
				{func(q *directory.Queue) { q.Name = " " }, "name"},
				{func(q *directory.Queue) { q.Description = strings.Repeat("d", 1001) }, "description"},
				{func(q *directory.Queue) { q.AlertingTimeoutSeconds = 6 }, "mediaSettings.call.alertingTimeoutSeconds"},
				{func(q *directory.Queue) { q.AlertingTimeoutSeconds = 901 }, "mediaSettings.call.alertingTimeoutSeconds"},
				{func(q *directory.Queue) { q.ServiceLevelPercentage = -0.01 }, "mediaSettings.call.serviceLevel.percentage"},
				{func(q *directory.Queue) { q.ServiceLevelPercentage = 1.01 }, "mediaSettings.call.serviceLevel.percentage"},
				{func(q *directory.Queue) { q.ServiceLevelDurationMs = 999 }, "mediaSettings.call.serviceLevel.durationMs"},
				{func(q *directory.Queue) { q.ServiceLevelDurationMs = 86400001 }, "mediaSettings.call.serviceLevel.durationMs"},
				{func(q *directory.Queue) { q.ACWPrompt = "SOMETIMES" }, "acwSettings.wrapupPrompt"},
				{func(q *directory.Queue) { q.ACWTimeoutMs = -1 }, "acwSettings.timeoutMs"},
				{func(q *directory.Queue) { q.ACWTimeoutMs = 86400001 }, "acwSettings.timeoutMs"},
				{func(q *directory.Queue) { q.ACWPrompt = "MANDATORY_TIMEOUT" }, "acwSettings.timeoutMs"},
				{func(q *directory.Queue) { q.ACWPrompt = "MANDATORY_FORCED_TIMEOUT" }, "acwSettings.timeoutMs"},
				{func(q *directory.Queue) { q.SkillEvaluation = "SOME" }, "skillEvaluationMethod"},
				{func(q *directory.Queue) { q.RoutingStrategy = "random" }, "routingStrategy"},
				{func(q *directory.Queue) { q.CallingPartyName = strings.Repeat("n", 201) }, "callingPartyName"},
				{func(q *directory.Queue) { q.CallingPartyNumber = strings.Repeat("1", 201) }, "callingPartyNumber"},
			} {
				in := directory.QueueDefaults()
				in.Name = "Nueva"
				c.change(&in)
				_, err := f.dir.CreateQueue(ctx, in)
				wantProblem(t, err, problem.Invalid, c.field)
				upd := q
				c.change(&upd)
				_, err = f.dir.UpdateQueue(ctx, q.ID, upd)
				wantProblem(t, err, problem.Invalid, c.field)
			}
			// A zero queue reports every setting at once.
			_, err := f.dir.CreateQueue(ctx, directory.Queue{})
			wantProblem(t, err, problem.Invalid, "name", "mediaSettings.call.alertingTimeoutSeconds", "mediaSettings.call.serviceLevel.durationMs",
				"acwSettings.wrapupPrompt", "skillEvaluationMethod", "routingStrategy")
			in := directory.QueueDefaults()
			in.Name = "Ventas"
			_, err = f.dir.CreateQueue(ctx, in)
			wantProblem(t, err, problem.Duplicate, "name")
			f.ev.none(t)
			if n := f.count(t, `SELECT COUNT(*) FROM queues`); n != 1 {
				t.Fatalf("%d queues after rejected creations", n)
			}
			// Every strategy and prompt the ACD knows is accepted, and the
			// bounds themselves are valid.
			for i, s := range directory.RoutingStrategies {
				in := directory.QueueDefaults()
				in.Name = "s" + s
				in.AlertingTimeoutSeconds, in.ServiceLevelPercentage, in.ServiceLevelDurationMs = []int{7, 900}[i%2], float64(i%2), []int{1000, 86400000}[i%2]
				in.ACWPrompt, in.ACWTimeoutMs, in.SkillEvaluation = "MANDATORY_TIMEOUT", 86400000, []string{"NONE", "BEST", "ALL"}[i%3]
				in.RoutingStrategy = s
				got := must[directory.Queue](t)(f.dir.CreateQueue(ctx, in))
				f.ev.expect(t, "v2.directory.queues."+got.ID, "created", "queue", got.ID)
				got.ID, got.Created, got.Modified, in.ID = "", time.Time{}, time.Time{}, ""
				if !reflect.DeepEqual(got, in) {
					t.Fatalf("stored %+v, want %+v", got, in)
				}
			}
		})
		t.Run("update", func(t *testing.T) {
			f.clk.Advance(time.Second)
			upd := q
			upd.Name, upd.Description, upd.AlertingTimeoutSeconds, upd.ACWPrompt, upd.ACWTimeoutMs = "Ventas Norte", "desc", 20, "MANDATORY_FORCED_TIMEOUT", 30000
			got := must[directory.Queue](t)(f.dir.UpdateQueue(ctx, q.ID, upd))
			f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
			if got.Name != "Ventas Norte" || got.AlertingTimeoutSeconds != 20 || got.ACWTimeoutMs != 30000 || !got.Created.Equal(q.Created) ||
				!got.Modified.Equal(t0.Add(time.Second).Truncate(time.Millisecond)) {
				t.Fatalf("updated %+v", got)
			}
			qs, total, _ := f.dir.ListQueues(ctx, directory.QueueFilter{Name: "Ventas*"}, directory.Page{Limit: 10})
			if total != 1 || qs[0].ID != q.ID {
				t.Fatalf("ListQueues(Ventas*) = %v", qs)
			}
			_, total, _ = f.dir.ListQueues(ctx, directory.QueueFilter{Name: "Ventas"}, directory.Page{Limit: 10})
			if total != 0 {
				t.Fatal("the old name still matches exactly")
			}
			q = got
		})
		t.Run("members", func(t *testing.T) {
			u1, u2, u3, u4 := f.user(t, "m1", "Ana"), f.user(t, "m2", "Bea"), f.user(t, "m3", "Carla"), f.user(t, "m4", "Dani")
			gone := f.user(t, "gone", "Gone")
			if err := f.dir.DeleteUser(ctx, gone.ID); err != nil {
				t.Fatal(err)
			}
			f.ev.fresh(t)
			membersTopic := "v2.routing.queues." + q.ID + ".users"
			members := func(joined *bool) ([]string, int) {
				t.Helper()
				ms, total, err := f.dir.ListMembers(ctx, q.ID, joined, directory.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				return names(ms, func(m directory.Member) string { return m.Name }), total
			}
			if err := f.dir.AddMembers(ctx, q.ID, []string{u2.ID, u1.ID}); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, membersTopic, "updated", "queuemembers", q.ID)
			ms, total, _ := f.dir.ListMembers(ctx, q.ID, nil, directory.Page{Limit: 100})
			if total != 2 || ms[0].Name != "Ana" || ms[1].Name != "Bea" || !ms[0].Joined || !ms[1].Joined || ms[0].UserID != u1.ID || ms[0].RingNumber != 1 {
				t.Fatalf("members %+v", ms)
			}
			if err := f.dir.SetJoined(ctx, q.ID, map[string]bool{u1.ID: false}); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, membersTopic, "updated", "queuemembers", q.ID)
			yes, no := true, false
			if got, n := members(&yes); n != 1 || got[0] != "Bea" {
				t.Fatalf("joined members %v", got)
			}
			if got, n := members(&no); n != 1 || got[0] != "Ana" {
				t.Fatalf("unjoined members %v", got)
			}
			// Adding an existing member keeps its state.
			if err := f.dir.AddMembers(ctx, q.ID, []string{u1.ID, u3.ID}); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, membersTopic, "updated", "queuemembers", q.ID)
			if got, n := members(&no); n != 1 || got[0] != "Ana" {
				t.Fatalf("re-adding a member changed its joined state: unjoined %v", got)
			}
			got := must[directory.Queue](t)(f.dir.GetQueue(ctx, q.ID))
			if got.MemberCount != 3 || got.JoinedMemberCount != 2 {
				t.Fatalf("counts %d/%d, want 3/2", got.MemberCount, got.JoinedMemberCount)
			}

			// An unknown or deleted user rejects the whole request.
			err := f.dir.AddMembers(ctx, q.ID, []string{u4.ID, uuid.NewString(), gone.ID})
			wantProblem(t, err, problem.Invalid, "[1].id", "[2].id")
			tooMany := make([]string, directory.MaxMembersPerRequest+1)
			for i := range tooMany {
				tooMany[i] = u4.ID
			}
			wantProblem(t, f.dir.AddMembers(ctx, q.ID, tooMany), problem.Invalid, "body")
			wantProblem(t, f.dir.AddMembers(ctx, q.ID, nil), problem.Invalid, "body")
			wantProblem(t, f.dir.RemoveMembers(ctx, q.ID, tooMany), problem.Invalid, "body")
			wantProblem(t, f.dir.AddMembers(ctx, uuid.NewString(), []string{u4.ID}), problem.NotFound, "")
			// A non-member in SetJoined rolls back the whole change.
			wantProblem(t, f.dir.SetJoined(ctx, q.ID, map[string]bool{u2.ID: false, u4.ID: false}), problem.Invalid, "id")
			f.ev.none(t)
			if got, n := members(nil); n != 3 || slices.Contains(got, "Dani") {
				t.Fatalf("a rejected request changed the members: %v", got)
			}
			if got, _ := members(&yes); !slices.Contains(got, "Bea") {
				t.Fatalf("a rejected SetJoined left Bea unjoined: joined %v", got)
			}

			// The maximum itself is accepted.
			if err := f.dir.AddMembers(ctx, q.ID, tooMany[:directory.MaxMembersPerRequest]); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, membersTopic, "updated", "queuemembers", q.ID)
			qs, total, _ := f.dir.UserQueues(ctx, u4.ID, directory.Page{Limit: 10})
			if total != 1 || qs[0].ID != q.ID {
				t.Fatalf("UserQueues = %v", qs)
			}
			if err := f.dir.RemoveMembers(ctx, q.ID, []string{u3.ID, u4.ID}); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, membersTopic, "updated", "queuemembers", q.ID)
			if got, n := members(nil); n != 2 || !slices.Equal(got, []string{"Ana", "Bea"}) {
				t.Fatalf("after removal %v", got)
			}
		})
		t.Run("delete", func(t *testing.T) {
			if err := f.dir.DeleteQueue(ctx, q.ID); err != nil {
				t.Fatal(err)
			}
			f.ev.expect(t, "v2.directory.queues."+q.ID, "deleted", "queue", q.ID)
			if n := f.count(t, `SELECT COUNT(*) FROM queue_members WHERE queue_id = $1`, q.ID); n != 0 {
				t.Fatalf("%d memberships left", n)
			}
			_, err := f.dir.GetQueue(ctx, q.ID)
			wantProblem(t, err, problem.NotFound, "")
			wantProblem(t, f.dir.DeleteQueue(ctx, q.ID), problem.NotFound, "")
		})
	})
}

// The ACD settings of a queue: overflow, bullseye rings, preferred-agent
// wait and required skills; what they may refer to, their bounds, and what
// deleting a referenced queue or skill does to them.
func TestQueueRoutingSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		spill := f.queue(t, "Desborde")
		mkSkill := func(name string) directory.Skill {
			t.Helper()
			sk := must[directory.Skill](t)(f.dir.CreateSkill(ctx, name))
			f.ev.fresh(t)
			return sk
		}
		s1, s2 := mkSkill("Ventas"), mkSkill("Inglés")
		in := directory.QueueDefaults()
		in.Name, in.RoutingStrategy = "Ventas", "bullseye"
		in.OverflowAfterMs, in.OverflowQueueID = 30000, spill.ID
		in.Bullseye = []directory.BullseyeRing{{AfterMs: 0, MinProficiency: 4}, {AfterMs: 15000, MinProficiency: 2.5}, {AfterMs: 60000, MinProficiency: 0}}
		in.PreferredAgentWaitMs = 20000
		in.SkillIDs = []string{s1.ID, s2.ID, s1.ID} // a repeat counts once
		q := must[directory.Queue](t)(f.dir.CreateQueue(ctx, in))
		f.ev.expect(t, "v2.directory.queues."+q.ID, "created", "queue", q.ID)
		want := in
		want.SkillIDs = []string{s1.ID, s2.ID}
		check := func(got directory.Queue) {
			t.Helper()
			got.ID, got.Created, got.Modified = "", time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("stored %+v, want %+v", got, want)
			}
		}
		check(q)
		check(must[directory.Queue](t)(f.dir.GetQueue(ctx, q.ID)))
		qs, _, err := f.dir.ListQueues(ctx, directory.QueueFilter{Name: "Ventas"}, directory.Page{Limit: 1})
		if err != nil || len(qs) != 1 {
			t.Fatalf("ListQueues: %v %v", qs, err)
		}
		check(qs[0])

		t.Run("validation", func(t *testing.T) {
			unknown := uuid.NewString()
			for _, c := range []struct {
				name   string
				change func(*directory.Queue)
				fields []string
			}{
				{"overflow to an unknown queue", func(q *directory.Queue) { q.OverflowQueueID = unknown }, []string{"overflow.queueId"}},
				{"overflow without a time", func(q *directory.Queue) { q.OverflowAfterMs = 0 }, []string{"overflow.afterSeconds"}},
				{"overflow under a second", func(q *directory.Queue) { q.OverflowAfterMs = 999 }, []string{"overflow.afterSeconds"}},
				{"overflow after a day", func(q *directory.Queue) { q.OverflowAfterMs = directory.MaxQueueWaitMs + 1 }, []string{"overflow.afterSeconds"}},
				{"overflow time without a queue", func(q *directory.Queue) { q.OverflowQueueID = "" }, []string{"overflow.queueId"}},
				{"first ring later", func(q *directory.Queue) { q.Bullseye = []directory.BullseyeRing{{AfterMs: 5000, MinProficiency: 3}} }, []string{"bullseye.rings[0].afterSeconds"}},
				{"rings out of order", func(q *directory.Queue) {
					q.Bullseye = []directory.BullseyeRing{{0, 4}, {30000, 3}, {30000, 2}}
				}, []string{"bullseye.rings[2].afterSeconds"}},
				{"ring after a day", func(q *directory.Queue) {
					q.Bullseye = []directory.BullseyeRing{{0, 4}, {directory.MaxQueueWaitMs + 1, 3}}
				}, []string{"bullseye.rings[1].afterSeconds"}},
				{"ring narrows", func(q *directory.Queue) { q.Bullseye = []directory.BullseyeRing{{0, 2}, {10000, 3}} }, []string{"bullseye.rings[1].minProficiency"}},
				{"ring threshold above 5", func(q *directory.Queue) { q.Bullseye = []directory.BullseyeRing{{0, 5.5}} }, []string{"bullseye.rings[0].minProficiency"}},
				{"ring threshold negative", func(q *directory.Queue) { q.Bullseye = []directory.BullseyeRing{{0, 3}, {1000, -1}} }, []string{"bullseye.rings[1].minProficiency"}},
				{"ring threshold NaN", func(q *directory.Queue) { q.Bullseye = []directory.BullseyeRing{{0, math.NaN()}} }, []string{"bullseye.rings[0].minProficiency"}},
				{"too many rings", func(q *directory.Queue) {
					q.Bullseye = nil
					for i := range directory.MaxBullseyeRings + 1 {
						q.Bullseye = append(q.Bullseye, directory.BullseyeRing{AfterMs: i * 1000})
					}
				}, []string{"bullseye.rings"}},
				{"preferred wait negative", func(q *directory.Queue) { q.PreferredAgentWaitMs = -1000 }, []string{"preferredAgentWaitSeconds"}},
				{"preferred wait over a day", func(q *directory.Queue) { q.PreferredAgentWaitMs = directory.MaxQueueWaitMs + 1 }, []string{"preferredAgentWaitSeconds"}},
				{"unknown skill", func(q *directory.Queue) { q.SkillIDs = []string{s1.ID, unknown, "not-a-uuid"} }, []string{"skillIds[1]", "skillIds[2]"}},
				{"too many skills", func(q *directory.Queue) {
					q.SkillIDs = nil
					for range directory.MaxQueueSkills + 1 {
						q.SkillIDs = append(q.SkillIDs, uuid.NewString())
					}
				}, []string{"skillIds"}},
				{"everything at once", func(q *directory.Queue) {
					q.Name, q.OverflowQueueID, q.PreferredAgentWaitMs, q.SkillIDs = "", unknown, -1, []string{unknown}
				}, []string{"name", "overflow.queueId", "preferredAgentWaitSeconds", "skillIds[0]"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					in := want
					in.Name = "Nueva"
					c.change(&in)
					_, err := f.dir.CreateQueue(ctx, in)
					wantProblem(t, err, problem.Invalid, c.fields...)
					upd := q
					c.change(&upd)
					_, err = f.dir.UpdateQueue(ctx, q.ID, upd)
					wantProblem(t, err, problem.Invalid, c.fields...)
					f.ev.none(t)
				})
			}
			// A queue cannot overflow into itself.
			upd := q
			upd.OverflowQueueID = q.ID
			_, err := f.dir.UpdateQueue(ctx, q.ID, upd)
			wantProblem(t, err, problem.Invalid, "overflow.queueId")
			f.ev.none(t)
			check(must[directory.Queue](t)(f.dir.GetQueue(ctx, q.ID)))
			if n := f.count(t, `SELECT COUNT(*) FROM queues`); n != 2 {
				t.Fatalf("%d queues after rejected creations", n)
			}
		})

		t.Run("bounds", func(t *testing.T) {
			upd := q
			upd.OverflowAfterMs = directory.MaxQueueWaitMs
			upd.PreferredAgentWaitMs = directory.MaxQueueWaitMs
			upd.Bullseye = nil
			for i := range directory.MaxBullseyeRings {
				upd.Bullseye = append(upd.Bullseye, directory.BullseyeRing{AfterMs: i * directory.MaxQueueWaitMs / (directory.MaxBullseyeRings - 1), MinProficiency: 5 - float64(i)})
			}
			upd.SkillIDs = nil
			for i := range directory.MaxQueueSkills {
				upd.SkillIDs = append(upd.SkillIDs, mkSkill("s"+strconv.Itoa(i)).ID)
			}
			got := must[directory.Queue](t)(f.dir.UpdateQueue(ctx, q.ID, upd))
			f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
			if len(got.Bullseye) != directory.MaxBullseyeRings || len(got.SkillIDs) != directory.MaxQueueSkills || got.Bullseye[5].AfterMs != directory.MaxQueueWaitMs ||
				got.OverflowAfterMs != directory.MaxQueueWaitMs || got.PreferredAgentWaitMs != directory.MaxQueueWaitMs {
				t.Fatalf("at the bounds: %+v", got)
			}
			// Clearing everything stores no settings.
			upd.OverflowAfterMs, upd.OverflowQueueID, upd.Bullseye, upd.PreferredAgentWaitMs, upd.SkillIDs = 0, "", nil, 0, nil
			got = must[directory.Queue](t)(f.dir.UpdateQueue(ctx, q.ID, upd))
			f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
			if got.OverflowQueueID != "" || got.Bullseye != nil || got.SkillIDs != nil || got.PreferredAgentWaitMs != 0 {
				t.Fatalf("cleared: %+v", got)
			}
			q = must[directory.Queue](t)(f.dir.UpdateQueue(ctx, q.ID, want))
			f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
			check(q)
		})

		t.Run("deleting a required skill", func(t *testing.T) {
			if err := f.dir.DeleteSkill(ctx, s1.ID); err != nil {
				t.Fatal(err)
			}
			var topics []string
			for _, ev := range f.ev.fresh(t) {
				topics = append(topics, ev.topic)
			}
			if !slices.Equal(topics, []string{"v2.directory.skills." + s1.ID, "v2.directory.queues." + q.ID}) {
				t.Fatalf("events %v", topics)
			}
			got := must[directory.Queue](t)(f.dir.GetQueue(ctx, q.ID))
			if !slices.Equal(got.SkillIDs, []string{s2.ID}) {
				t.Fatalf("skills after deleting %s: %v", s1.ID, got.SkillIDs)
			}
			want.SkillIDs = []string{s2.ID}
			check(got)
		})

		t.Run("deleting the overflow queue", func(t *testing.T) {
			if err := f.dir.DeleteQueue(ctx, spill.ID); err != nil {
				t.Fatal(err)
			}
			var topics []string
			for _, ev := range f.ev.fresh(t) {
				topics = append(topics, ev.topic)
			}
			if !slices.Equal(topics, []string{"v2.directory.queues." + spill.ID, "v2.directory.queues." + q.ID}) {
				t.Fatalf("events %v", topics)
			}
			got := must[directory.Queue](t)(f.dir.GetQueue(ctx, q.ID))
			want.OverflowAfterMs, want.OverflowQueueID = 0, ""
			check(got)
		})
	})
}

func TestListQueuesPaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ids := map[string]string{}
		for _, n := range []string{"Soporte", "Cobros", "Ventas", "Altas"} {
			ids[n] = f.queue(t, n).ID
		}
		qname := func(q directory.Queue) string { return q.Name }
		for _, c := range []struct {
			filter directory.QueueFilter
			page   directory.Page
			want   []string
			total  int
		}{
			{directory.QueueFilter{}, directory.Page{Limit: 3}, []string{"Altas", "Cobros", "Soporte"}, 4},
			{directory.QueueFilter{}, directory.Page{Limit: 3, Offset: 3}, []string{"Ventas"}, 4},
			{directory.QueueFilter{Descending: true}, directory.Page{Limit: 2}, []string{"Ventas", "Soporte"}, 4},
			{directory.QueueFilter{IDs: []string{ids["Ventas"], ids["Altas"]}}, directory.Page{Limit: 10}, []string{"Altas", "Ventas"}, 2},
			{directory.QueueFilter{Name: "*o*", IDs: []string{ids["Ventas"], ids["Cobros"]}}, directory.Page{Limit: 10}, []string{"Cobros"}, 1},
			{directory.QueueFilter{Name: "*as"}, directory.Page{Limit: 10}, []string{"Altas", "Ventas"}, 2},
		} {
			qs, total, err := f.dir.ListQueues(ctx, c.filter, c.page)
			if got := names(qs, qname); err != nil || !slices.Equal(got, c.want) || total != c.total {
				t.Errorf("ListQueues(%+v, %+v) = %v total %d (%v), want %v total %d", c.filter, c.page, got, total, err, c.want, c.total)
			}
		}
	})
}

func TestWrapupCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		mk := func(w directory.WrapupCode) directory.WrapupCode {
			t.Helper()
			got := must[directory.WrapupCode](t)(f.dir.CreateWrapupCode(ctx, w))
			f.ev.expect(t, "v2.directory.wrapupcodes."+got.ID, "created", "wrapupcode", got.ID)
			return got
		}
		closed := mk(directory.WrapupCode{Category: " Venta ", Subcategory: " Cerrada "})
		if closed.Name != "Venta - Cerrada" || closed.Category != "Venta" || closed.Subcategory != "Cerrada" {
			t.Fatalf("created %+v", closed)
		}
		noAnswer := mk(directory.WrapupCode{Category: "No contesta"})
		if noAnswer.Name != "No contesta" {
			t.Fatalf("category only: %+v", noAnswer)
		}
		named := mk(directory.WrapupCode{Name: "Otro", Category: "Venta", Subcategory: "Abierta", Description: "d"})
		if named.Name != "Otro" || named.Description != "d" {
			t.Fatalf("named %+v", named)
		}
		plain := mk(directory.WrapupCode{Name: "Sin categoría"})

		for _, c := range []struct {
			in     directory.WrapupCode
			fields []string
		}{
			{directory.WrapupCode{Subcategory: "Sola"}, []string{"name", "subcategory"}},
			{directory.WrapupCode{Name: "n", Subcategory: "Sola"}, []string{"subcategory"}},
			{directory.WrapupCode{}, []string{"name"}},
			{directory.WrapupCode{Name: "n", Description: strings.Repeat("d", 1001)}, []string{"description"}},
			{directory.WrapupCode{Name: "n", Category: strings.Repeat("c", 201)}, []string{"category"}},
		} {
			_, err := f.dir.CreateWrapupCode(ctx, c.in)
			wantProblem(t, err, problem.Invalid, c.fields...)
		}
		_, err := f.dir.CreateWrapupCode(ctx, directory.WrapupCode{Category: "Venta", Subcategory: "Cerrada"})
		wantProblem(t, err, problem.Duplicate, "name")
		_, err = f.dir.UpdateWrapupCode(ctx, plain.ID, directory.WrapupCode{Name: "Otro"})
		wantProblem(t, err, problem.Duplicate, "name")
		f.ev.none(t)

		upd := must[directory.WrapupCode](t)(f.dir.UpdateWrapupCode(ctx, plain.ID, directory.WrapupCode{Category: "Baja", Subcategory: "Precio"}))
		f.ev.expect(t, "v2.directory.wrapupcodes."+plain.ID, "updated", "wrapupcode", plain.ID)
		if upd.Name != "Baja - Precio" {
			t.Fatalf("updated %+v", upd)
		}

		wname := func(w directory.WrapupCode) string { return w.Name }
		codes, total, _ := f.dir.ListWrapupCodes(ctx, directory.WrapupFilter{}, directory.Page{Limit: 10})
		if want := []string{"Baja - Precio", "No contesta", "Otro", "Venta - Cerrada"}; total != 4 || !slices.Equal(names(codes, wname), want) {
			t.Fatalf("listed %v, want %v (by category, subcategory, name)", names(codes, wname), want)
		}
		codes, total, _ = f.dir.ListWrapupCodes(ctx, directory.WrapupFilter{Category: "Venta"}, directory.Page{Limit: 10})
		if total != 2 {
			t.Fatalf("category Venta: %v", names(codes, wname))
		}

		q := f.queue(t, "Ventas")
		if err := f.dir.AssignWrapupCodes(ctx, q.ID, []string{closed.ID, named.ID}); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
		onQueue := func() []string {
			t.Helper()
			codes, _, err := f.dir.ListWrapupCodes(ctx, directory.WrapupFilter{QueueID: q.ID}, directory.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return names(codes, wname)
		}
		if got := onQueue(); !slices.Equal(got, []string{"Otro", "Venta - Cerrada"}) {
			t.Fatalf("on queue %v", got)
		}
		err = f.dir.AssignWrapupCodes(ctx, q.ID, []string{noAnswer.ID, uuid.NewString()})
		wantProblem(t, err, problem.Invalid, "[1].id")
		wantProblem(t, f.dir.AssignWrapupCodes(ctx, q.ID, nil), problem.Invalid, "body")
		wantProblem(t, f.dir.AssignWrapupCodes(ctx, uuid.NewString(), []string{noAnswer.ID}), problem.NotFound, "")
		f.ev.none(t)
		if got := onQueue(); len(got) != 2 {
			t.Fatalf("a rejected assignment changed the queue: %v", got)
		}
		if err := f.dir.UnassignWrapupCode(ctx, q.ID, named.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.queues."+q.ID, "updated", "queue", q.ID)
		wantProblem(t, f.dir.UnassignWrapupCode(ctx, q.ID, named.ID), problem.NotFound, "")
		f.ev.none(t)
		if err := f.dir.DeleteWrapupCode(ctx, closed.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.wrapupcodes."+closed.ID, "deleted", "wrapupcode", closed.ID)
		if got := onQueue(); len(got) != 0 {
			t.Fatalf("deleted code still on the queue: %v", got)
		}
	})
}

// The ten system presences every org shares (platform-api.md §11.2).
var systemPresences = map[string]string{
	"6a3af858-942f-489d-9700-5f9bcdcdae9b": "Available",
	"e08eaf1b-ee47-4fa9-a231-1200e284798f": "On Queue",
	"ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5": "Offline",
	"31fe3bac-dea6-44b7-bed7-47f91660a1a0": "Busy",
	"5e5c5c66-ea97-4e7f-ac41-6424784829f2": "Away",
	"227b37e2-f1d0-4dd0-8f50-badd7cf6d158": "Break",
	"3fd96123-badb-4f69-bc03-1b1ccc6d8014": "Meal",
	"bbdff279-7ae1-48ea-bade-7831d7234c64": "Meeting",
	"d2390a99-8546-bad9-8f0a-219548e8aeb0": "Training",
	"7ffa01cd-7866-4ad7-8faa-31e11b42f51f": "Idle",
}

func TestPresences(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		list := func(all bool) []directory.PresenceDefinition {
			t.Helper()
			ps, total, err := f.dir.ListPresences(ctx, all, directory.Page{Limit: 100})
			if err != nil || total != len(ps) {
				t.Fatalf("ListPresences: %d of %d, %v", len(ps), total, err)
			}
			return ps
		}
		ps := list(false)
		if len(ps) != 10 {
			t.Fatalf("%d presences after migration, want the 10 system ones", len(ps))
		}
		for _, p := range ps {
			if systemPresences[p.ID] != p.SystemPresence || p.LabelEN != p.SystemPresence || p.Name() != p.SystemPresence ||
				!p.Primary || p.BreakNumber != 0 || p.Deactivated || p.LabelES == "" {
				t.Errorf("system presence %+v", p)
			}
		}

		b1 := must[directory.PresenceDefinition](t)(f.dir.CreateBreak(ctx, directory.BreakInput{Number: 1, Label: " Descanso "}))
		f.ev.expect(t, "v2.directory.presencedefinitions."+b1.ID, "created", "presencedefinition", b1.ID)
		if b1.SystemPresence != "Break" || b1.LabelES != "1 - Descanso" || b1.LabelEN != "1 - Descanso" || b1.Name() != "1 - Descanso" ||
			b1.BreakNumber != 1 || b1.Primary || !directory.IsUUID(b1.ID) {
			t.Fatalf("created %+v", b1)
		}
		b2 := must[directory.PresenceDefinition](t)(f.dir.CreateBreak(ctx, directory.BreakInput{Number: 2, Label: "2 - Baño", LabelEN: "Restroom"}))
		f.ev.expect(t, "v2.directory.presencedefinitions."+b2.ID, "created", "presencedefinition", b2.ID)
		if b2.LabelES != "2 - Baño" || b2.LabelEN != "2 - Restroom" {
			t.Fatalf("created %+v", b2)
		}

		_, err := f.dir.CreateBreak(ctx, directory.BreakInput{Number: 1, Label: "Otro"})
		wantProblem(t, err, problem.Duplicate, "breakNumber")
		for _, c := range []struct {
			in     directory.BreakInput
			fields []string
		}{
			{directory.BreakInput{Number: 0, Label: "x"}, []string{"breakNumber"}},
			{directory.BreakInput{Number: directory.MaxBreakNumber + 1, Label: "x"}, []string{"breakNumber"}},
			{directory.BreakInput{Number: 5, Label: " "}, []string{"label"}},
			{directory.BreakInput{Number: -1}, []string{"breakNumber", "label"}},
			{directory.BreakInput{Number: 5, Label: "x", LabelEN: strings.Repeat("e", 201)}, []string{"labelEn"}},
		} {
			_, err := f.dir.CreateBreak(ctx, c.in)
			wantProblem(t, err, problem.Invalid, c.fields...)
		}
		f.ev.none(t)

		b1 = must[directory.PresenceDefinition](t)(f.dir.UpdateBreak(ctx, b1.ID, directory.BreakInput{Number: 3, Label: "Pausa", Deactivated: true}))
		f.ev.expect(t, "v2.directory.presencedefinitions."+b1.ID, "updated", "presencedefinition", b1.ID)
		if b1.LabelES != "3 - Pausa" || b1.BreakNumber != 3 || !b1.Deactivated {
			t.Fatalf("updated %+v", b1)
		}
		_, err = f.dir.UpdateBreak(ctx, b2.ID, directory.BreakInput{Number: 3, Label: "Choque"})
		wantProblem(t, err, problem.Duplicate, "breakNumber")
		_, err = f.dir.UpdateBreak(ctx, "6a3af858-942f-489d-9700-5f9bcdcdae9b", directory.BreakInput{Number: 9, Label: "x"})
		wantProblem(t, err, problem.Forbidden, "")
		_, err = f.dir.UpdateBreak(ctx, uuid.NewString(), directory.BreakInput{Number: 9, Label: "x"})
		wantProblem(t, err, problem.NotFound, "")
		f.ev.none(t)

		if got := list(false); len(got) != 11 || got[10].ID != b2.ID {
			t.Fatalf("active presences: %d, last %+v; want the system ones then break 2", len(got), got[len(got)-1])
		}
		all := list(true)
		if len(all) != 12 || all[10].ID != b2.ID || all[11].ID != b1.ID {
			t.Fatalf("all presences: %d (want system ones, then breaks by number)", len(all))
		}
		for _, p := range all[:10] {
			if p.BreakNumber != 0 {
				t.Fatalf("a break is listed among the system presences: %+v", p)
			}
		}

		for id, name := range systemPresences {
			wantProblem(t, f.dir.DeleteBreak(ctx, id), problem.Forbidden, "")
			if got := must[directory.PresenceDefinition](t)(f.dir.GetPresence(ctx, id)); got.SystemPresence != name {
				t.Fatalf("system presence %s: %+v", id, got)
			}
		}
		f.ev.none(t)
		if err := f.dir.DeleteBreak(ctx, b1.ID); err != nil {
			t.Fatal(err)
		}
		f.ev.expect(t, "v2.directory.presencedefinitions."+b1.ID, "deleted", "presencedefinition", b1.ID)
		_, err = f.dir.GetPresence(ctx, b1.ID)
		wantProblem(t, err, problem.NotFound, "")
		// Its number is free again.
		b3 := must[directory.PresenceDefinition](t)(f.dir.CreateBreak(ctx, directory.BreakInput{Number: 3, Label: "Pausa"}))
		f.ev.expect(t, "v2.directory.presencedefinitions."+b3.ID, "created", "presencedefinition", b3.ID)
	})
}
