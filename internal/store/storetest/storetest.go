// Package storetest gives tests migrated databases on every engine Centralita
// supports: SQLite in a temporary directory always, and PostgreSQL when
// CENTRALITA_TEST_POSTGRES names a server (a postgres:// URL to an existing
// database). Each call gets a fresh PostgreSQL database (CREATE DATABASE
// ct_<random>) that is dropped when the test ends, so tests never see each
// other's rows.
//
// When CENTRALITA_TEST_POSTGRES is empty the PostgreSQL half is skipped,
// unless CENTRALITA_REQUIRE_PEERS=1 (as CI sets), which makes it a failure.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/store"
)

// Environment variables read by this package.
const (
	EnvPostgres     = "CENTRALITA_TEST_POSTGRES"
	EnvRequirePeers = "CENTRALITA_REQUIRE_PEERS"
)

// urls remembers how each DB handed out was opened, for Reopen.
var urls sync.Map // *store.DB -> string

// Open returns a migrated SQLite DB and, when CENTRALITA_TEST_POSTGRES is
// set, a migrated DB in a fresh PostgreSQL database. Everything is closed
// (and the PostgreSQL database dropped) when t ends.
func Open(t testing.TB) []*store.DB {
	t.Helper()
	dbs := []*store.DB{SQLite(t)}
	if pg := Postgres(t); pg != nil {
		dbs = append(dbs, pg)
	}
	return dbs
}

// Each runs fn as a subtest per engine, named "sqlite" and "postgres", each
// with its own freshly migrated database. Without CENTRALITA_TEST_POSTGRES
// the "postgres" subtest is skipped (or fails under CENTRALITA_REQUIRE_PEERS=1).
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	each(t, true, fn)
}

// EachUnmigrated is Each with empty databases on which no migration ran.
func EachUnmigrated(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	each(t, false, fn)
}

func each(t *testing.T, migrate bool, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openSQLite(t, migrate))
	})
	t.Run("postgres", func(t *testing.T) {
		if !postgresWanted(t) {
			t.Skip(skipMessage)
		}
		fn(t, openPostgres(t, migrate))
	})
}

// SQLite returns a migrated SQLite DB in t.TempDir().
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return openSQLite(t, true)
}

// Postgres returns a migrated DB in a fresh PostgreSQL database, or nil (after
// logging why) when CENTRALITA_TEST_POSTGRES is not set. It fails the test
// when the variable is not set but CENTRALITA_REQUIRE_PEERS=1.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	return openPostgres(t, true)
}

// Reopen opens a second, independent handle on the database behind db — what
// a restarted process would see. It is closed when t ends.
func Reopen(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	u, ok := urls.Load(db)
	if !ok {
		t.Fatal("storetest.Reopen: db was not opened by storetest")
	}
	again := mustOpen(t, u.(string))
	urls.Store(again, u)
	return again
}

// RequirePeers reports whether missing peers must fail tests instead of
// skipping them.
func RequirePeers() bool { return os.Getenv(EnvRequirePeers) == "1" }

func openSQLite(t testing.TB, migrate bool) *store.DB {
	t.Helper()
	u := "sqlite:" + filepath.Join(t.TempDir(), "centralita.db")
	db := mustOpen(t, u)
	urls.Store(db, u)
	if migrate {
		mustMigrate(t, db)
	}
	return db
}

const skipMessage = "PostgreSQL skipped: set " + EnvPostgres + " to a postgres:// URL to run this test on PostgreSQL too"

// postgresWanted reports whether CENTRALITA_TEST_POSTGRES is set, failing t
// when it is not but peers are required.
func postgresWanted(t testing.TB) bool {
	t.Helper()
	if strings.TrimSpace(os.Getenv(EnvPostgres)) != "" {
		return true
	}
	if RequirePeers() {
		t.Fatalf("PostgreSQL is required (%s=1) but %s is not set; set it to a postgres:// URL of an existing database on a PostgreSQL 15 server (scripts/test starts one)",
			EnvRequirePeers, EnvPostgres)
	}
	return false
}

func openPostgres(t testing.TB, migrate bool) *store.DB {
	t.Helper()
	if !postgresWanted(t) {
		t.Log(skipMessage)
		return nil
	}
	server := strings.TrimSpace(os.Getenv(EnvPostgres))
	base, err := url.Parse(server)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvPostgres)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := store.Open(ctx, server)
	if err != nil {
		t.Fatalf("PostgreSQL from %s: %v", EnvPostgres, err)
	}
	name := "ct_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	// Registered first, so it runs last: after every handle on the database
	// has been closed by its own cleanup.
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	db := mustOpen(t, u.String())
	urls.Store(db, u.String())
	if migrate {
		mustMigrate(t, db)
	}
	return db
}

func mustOpen(t testing.TB, u string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		urls.Delete(db)
		db.Close()
	})
	return db
}

func mustMigrate(t testing.TB, db *store.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", db.Dialect, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
