package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

// scratch creates the tables the contract tests play with. The SQL is the
// same on both engines, as every query of the product is.
func scratch(t *testing.T, db *store.DB) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, flag BOOLEAN NOT NULL DEFAULT FALSE, n BIGINT NOT NULL DEFAULT 0,
			parent TEXT REFERENCES kv (k), label TEXT UNIQUE)`,
		`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
		`INSERT INTO counter (id, n) VALUES (1, 0)`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrationsApplyOnceAndAreIdempotent(t *testing.T) {
	t.Parallel()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".sql") {
			want++
		}
	}
	if want == 0 {
		t.Fatal("no migrations found")
	}
	storetest.EachUnmigrated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("first Migrate applied %d migrations, want %d", n, want)
		}
		n, err = db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate: applied %d, err %v; want 0, nil", n, err)
		}
		// The schema is there, seed rows included, and only once.
		if got := count(t, db, `SELECT COUNT(*) FROM presence_definitions`); got != 10 {
			t.Fatalf("%d presence definitions after migrating, want 10", got)
		}
		for _, table := range []string{"outbox", "inbox", "users", "oauth_clients", "tokens", "auth_codes", "stations",
			"skills", "user_skills", "queues", "queue_members", "wrapup_codes", "queue_wrapup_codes"} {
			count(t, db, `SELECT COUNT(*) FROM `+table)
		}
	})
}

func TestTxCommitsAndRollsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2)`, "kept", "1")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2)`, "lost", "1"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE kv SET v = $1 WHERE k = $2`, "changed", "kept"); err != nil {
				return err
			}
			// Inside the transaction its own writes are visible.
			var v string
			if err := tx.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = $1`, "kept").Scan(&v); err != nil || v != "changed" {
				t.Errorf("inside tx: v = %q, %v", v, err)
			}
			return fmt.Errorf("wrapped: %w", boom)
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want the function's error", err)
		}
		var v string
		if err := db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = $1`, "kept").Scan(&v); err != nil || v != "1" {
			t.Fatalf("committed row after a rolled back update: v = %q, %v; want 1", v, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv WHERE k = 'lost'`); n != 0 {
			t.Fatalf("rolled back insert is visible (%d rows)", n)
		}
		if s := db.Stats(); s.InUse != 0 {
			t.Fatalf("%d connections still in use after the transactions", s.InUse)
		}
	})
}

// A panic inside a transaction must not leave it open: on SQLite an open
// BEGIN IMMEDIATE holds the write lock, and every later writer would wait
// for the busy timeout and fail.
func TestTxRollsBackOnPanic(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		func() {
			defer func() {
				if r := recover(); r != "kaboom" {
					t.Fatalf("recovered %v, want the original panic", r)
				}
			}()
			db.Tx(ctx, func(tx *store.Tx) error {
				tx.AfterCommit(func() { t.Error("after-commit hook ran for a panicking transaction") })
				if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('p', '1')`); err != nil {
					t.Error(err)
				}
				panic("kaboom")
			})
		}()
		if s := db.Stats(); s.InUse != 0 {
			t.Fatalf("%d connections still held by the panicked transaction", s.InUse)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv`); n != 0 {
			t.Fatalf("panicked transaction's insert is visible")
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := db.Tx(wctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(wctx, `INSERT INTO kv (k, v) VALUES ('p', '2')`)
			return err
		}); err != nil {
			t.Fatalf("writing after a panicked transaction: %v", err)
		}
	})
}

func TestAfterCommitRunsOnlyAfterCommit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		var order []string
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('a', '1')`); err != nil {
				return err
			}
			tx.AfterCommit(func() {
				// The row is visible to other connections: the commit happened.
				var n int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kv WHERE k = 'a'`).Scan(&n); err != nil || n != 1 {
					t.Errorf("in after-commit hook: row visible %d times, %v; want 1", n, err)
				}
				order = append(order, "first")
			})
			tx.AfterCommit(func() { order = append(order, "second") })
			if len(order) != 0 {
				t.Errorf("hooks ran before commit: %v", order)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(order, ",") != "first,second" {
			t.Fatalf("hooks ran as %v, want first,second", order)
		}

		ran := false
		err = db.Tx(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran = true })
			return errors.New("no")
		})
		if err == nil || ran {
			t.Fatalf("rolled back tx: err %v, hook ran %v; want an error and no hook", err, ran)
		}

		// A failing statement whose error fn returns rolls back too.
		ran = false
		err = db.Tx(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran = true })
			_, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('a', '2')`)
			return err
		})
		if !store.IsUniqueViolation(err) || ran {
			t.Fatalf("failed tx: err %v, hook ran %v; want a unique violation and no hook", err, ran)
		}
	})
}

func TestConstraintViolationsAreClassified(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		exec := func(q string, args ...any) error {
			_, err := db.ExecContext(ctx, q, args...)
			return err
		}
		if err := exec(`INSERT INTO kv (k, v, label) VALUES ('a', '1', 'A')`); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name         string
			err          error
			unique, fkey bool
		}{
			{"duplicate primary key", exec(`INSERT INTO kv (k, v) VALUES ('a', '2')`), true, false},
			{"duplicate unique column", exec(`INSERT INTO kv (k, v, label) VALUES ('b', '2', 'A')`), true, false},
			{"unknown parent", exec(`INSERT INTO kv (k, v, parent) VALUES ('c', '3', 'nope')`), false, true},
			{"delete a referenced parent", func() error {
				if err := exec(`INSERT INTO kv (k, v, parent) VALUES ('child', '1', 'a')`); err != nil {
					return fmt.Errorf("setup: %v", err)
				}
				return exec(`DELETE FROM kv WHERE k = 'a'`)
			}(), false, true},
			{"not null", exec(`INSERT INTO kv (k) VALUES ('d')`), false, false},
			{"syntax error", exec(`INSERT INTO nowhere VALUES (1)`), false, false},
			{"plain error", errors.New("something else"), false, false},
		}
		for _, c := range cases {
			if c.err == nil && c.name != "plain error" {
				t.Errorf("%s: no error", c.name)
				continue
			}
			if got := store.IsUniqueViolation(c.err); got != c.unique {
				t.Errorf("%s: IsUniqueViolation(%v) = %v, want %v", c.name, c.err, got, c.unique)
			}
			if got := store.IsForeignKeyViolation(c.err); got != c.fkey {
				t.Errorf("%s: IsForeignKeyViolation(%v) = %v, want %v", c.name, c.err, got, c.fkey)
			}
			wrapped := fmt.Errorf("context: %w", c.err)
			if store.IsUniqueViolation(wrapped) != c.unique || store.IsForeignKeyViolation(wrapped) != c.fkey {
				t.Errorf("%s: classification lost through wrapping", c.name)
			}
		}
		if store.IsUniqueViolation(nil) || store.IsForeignKeyViolation(nil) {
			t.Error("nil classified as a violation")
		}
	})
}

// Foreign keys are enforced on every pooled connection, not only the first.
func TestForeignKeysEnforcedOnEveryConnection(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		conns := make([]interface{ Close() error }, 0, 4)
		for i := range 4 {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			_, err = c.ExecContext(ctx, `INSERT INTO kv (k, v, parent) VALUES ($1, 'x', 'missing')`, fmt.Sprint("k", i))
			if !store.IsForeignKeyViolation(err) {
				t.Errorf("connection %d: insert with an unknown parent gave %v, want a foreign key violation", i, err)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	})
}

func TestMillisTimeRoundTrip(t *testing.T) {
	t.Parallel()
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		madrid = time.FixedZone("CET", 3600)
	}
	times := []time.Time{
		time.Date(2026, 3, 29, 1, 59, 59, 999_999_999, madrid), // just before a DST change
		time.Date(2026, 11, 21, 8, 10, 59, 123_456_789, time.UTC),
		time.Unix(0, 0),
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2200, 1, 1, 0, 0, 0, 1_000_000, time.FixedZone("x", -5*3600)),
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		for i, tm := range times {
			k := fmt.Sprint("t", i)
			if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v, n) VALUES ($1, '', $2)`, k, store.Millis(tm)); err != nil {
				t.Fatal(err)
			}
			var ms int64
			if err := db.QueryRowContext(ctx, `SELECT n FROM kv WHERE k = $1`, k).Scan(&ms); err != nil {
				t.Fatal(err)
			}
			got := store.Time(ms)
			want := time.UnixMilli(tm.UnixMilli()).UTC()
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%v: round trip gave %v (%v), want %v in UTC", tm, got, got.Location(), want)
			}
			if got.Sub(tm) > 0 || tm.Sub(got) >= time.Millisecond {
				t.Errorf("%v: round trip gave %v, more than a millisecond away", tm, got)
			}
		}
	})
	if store.Millis(time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("+1", 3600))) != store.Millis(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Millis depends on the time zone")
	}
}

func TestBooleansAndOnConflictBehaveAlike(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		for _, r := range []struct {
			k    string
			flag bool
		}{{"yes", true}, {"no", false}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v, flag) VALUES ($1, '', $2)`, r.k, r.flag); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v, flag) VALUES ('lit', '', TRUE)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('def', '')`); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"yes": true, "no": false, "lit": true, "def": false}
		rows, err := db.QueryContext(ctx, `SELECT k, flag FROM kv ORDER BY k`)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for rows.Next() {
			var k string
			var f bool
			if err := rows.Scan(&k, &f); err != nil {
				t.Fatal(err)
			}
			if f != want[k] {
				t.Errorf("%s: flag scanned as %v, want %v", k, f, want[k])
			}
			seen++
		}
		rows.Close()
		if seen != 4 {
			t.Fatalf("read %d rows, want 4", seen)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv WHERE flag = $1`, true); n != 2 {
			t.Errorf("flag = true (parameter): %d rows, want 2", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv WHERE flag`); n != 2 {
			t.Errorf("bare boolean column: %d rows, want 2", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv WHERE flag = FALSE`); n != 2 {
			t.Errorf("flag = FALSE (literal): %d rows, want 2", n)
		}
		var b bool
		if err := db.QueryRowContext(ctx, `SELECT v <> '' FROM kv WHERE k = 'yes'`).Scan(&b); err != nil || b {
			t.Errorf("comparison scanned into bool: %v, %v; want false", b, err)
		}

		insert := func(v string) int64 {
			res, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('c', $1) ON CONFLICT DO NOTHING`, v)
			if err != nil {
				t.Fatal(err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := insert("first"); n != 1 {
			t.Errorf("first ON CONFLICT DO NOTHING insert affected %d rows, want 1", n)
		}
		if n := insert("second"); n != 0 {
			t.Errorf("conflicting ON CONFLICT DO NOTHING insert affected %d rows, want 0", n)
		}
		var v string
		db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = 'c'`).Scan(&v)
		if v != "first" {
			t.Errorf("after DO NOTHING, v = %q, want first", v)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('c', 'third') ON CONFLICT (k) DO UPDATE SET v = excluded.v`); err != nil {
			t.Fatal(err)
		}
		db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = 'c'`).Scan(&v)
		if v != "third" {
			t.Errorf("after DO UPDATE, v = %q, want third", v)
		}
		// RETURNING works on both.
		var k string
		if err := db.QueryRowContext(ctx, `INSERT INTO kv (k, v) VALUES ('r', 'x') RETURNING k`).Scan(&k); err != nil || k != "r" {
			t.Errorf("RETURNING: %q, %v", k, err)
		}
	})
}

// LIKE is case-sensitive on PostgreSQL; SQLite must match it, or a name
// filter would find different rows depending on the engine.
func TestLikeIsCaseSensitiveOnBoth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('1', 'Ventas'), ('2', 'ventas'), ('3', 'VENTAS norte'), ('4', '50%_off'), ('5', '50xyoff')`); err != nil {
			t.Fatal(err)
		}
		for pattern, want := range map[string]int{"Ventas": 1, "ventas%": 1, "%ENTAS%": 1, "%ntas%": 2, `50\%\_%`: 1, "50%": 2} {
			if n := count(t, db, `SELECT COUNT(*) FROM kv WHERE v LIKE $1 ESCAPE '\'`, pattern); n != want {
				t.Errorf("LIKE %q matched %d rows, want %d", pattern, n, want)
			}
		}
	})
}

// Writers queue instead of failing: BEGIN IMMEDIATE plus the busy timeout on
// SQLite, row locks on PostgreSQL.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	const writers, txs = 4, 50
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scratch(t, db)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, writers*txs)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range txs {
					err := db.Tx(ctx, func(tx *store.Tx) error {
						if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, 'x')`, fmt.Sprintf("w%d-%d", w, i)); err != nil {
							return err
						}
						if db.Dialect == store.SQLite {
							// Read, then write what was read plus one: only
							// correct when write transactions are serialized
							// from their start, which BEGIN IMMEDIATE does.
							var n int
							if err := tx.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil {
								return err
							}
							_, err := tx.ExecContext(ctx, `UPDATE counter SET n = $1 WHERE id = 1`, n+1)
							return err
						}
						_, err := tx.ExecContext(ctx, `UPDATE counter SET n = n + 1 WHERE id = 1`)
						return err
					})
					if err != nil {
						errs <- fmt.Errorf("writer %d tx %d: %w", w, i, err)
						return
					}
				}
			}()
		}
		// Readers run beside the writers.
		stop := make(chan struct{})
		var rg sync.WaitGroup
		for range 2 {
			rg.Add(1)
			go func() {
				defer rg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					var n int
					if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM kv`).Scan(&n); err != nil {
						errs <- fmt.Errorf("reader: %w", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		rg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM kv`); n != writers*txs {
			t.Errorf("%d rows, want %d", n, writers*txs)
		}
		if n := count(t, db, `SELECT n FROM counter WHERE id = 1`); n != writers*txs {
			t.Errorf("counter = %d, want %d (lost updates)", n, writers*txs)
		}
	})
}

func TestOpenRejectsUnreachablePostgres(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Port 1 on 127.0.0.1: nothing listens there; the password must not leak
	// into the error.
	_, err := store.Open(ctx, "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
}
