package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/directory"
)

func demoConfig(t *testing.T, data string) config.Config {
	cfg := config.Default(config.ModeDemo)
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = data
	return cfg
}

func run(t *testing.T, cfg config.Config) *App {
	t.Helper()
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func stop(t *testing.T, a *App) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Restarting the demo on the same data directory keeps what is there (and
// changes made meanwhile) and adds nothing twice.
func TestDemoRestartIsIdempotent(t *testing.T) {
	data := t.TempDir()
	a := run(t, demoConfig(t, data))
	ctx := context.Background()
	users, total, err := a.Directory.ListUsers(ctx, directory.UserFilter{}, directory.Page{Limit: 100})
	if err != nil || total != 7 {
		t.Fatalf("first start: %d users, %v", total, err)
	}
	// An admin renames a queue; the restart must not bring "Ventas" back.
	qs, _, _ := a.Directory.ListQueues(ctx, directory.QueueFilter{Name: "Ventas"}, directory.Page{Limit: 1})
	q := qs[0]
	q.Name = "Ventas Norte"
	if _, err := a.Directory.UpdateQueue(ctx, q.ID, q); err != nil {
		t.Fatal(err)
	}
	stop(t, a)

	key1, _ := os.ReadFile(filepath.Join(data, "master.key"))
	a = run(t, demoConfig(t, data))
	defer stop(t, a)
	users2, total2, _ := a.Directory.ListUsers(ctx, directory.UserFilter{}, directory.Page{Limit: 100})
	if total2 != 7 || users2[0].ID != users[0].ID {
		t.Fatalf("after restart: %d users (first %v, was %v)", total2, users2[0].ID, users[0].ID)
	}
	all, qtotal, _ := a.Directory.ListQueues(ctx, directory.QueueFilter{}, directory.Page{Limit: 100})
	var names []string
	for _, q := range all {
		names = append(names, q.Name)
	}
	if qtotal != 2 || !slices.Contains(names, "Ventas Norte") {
		t.Fatalf("the admin's rename must survive the restart; queues: %s", strings.Join(names, ", "))
	}
	pw, err := a.Directory.StationPassword(ctx, "1001")
	if err != nil || pw != "device" {
		t.Fatalf("station secret after restart: %q %v", pw, err)
	}
	key2, _ := os.ReadFile(filepath.Join(data, "master.key"))
	if len(key1) == 0 || string(key1) != string(key2) {
		t.Fatal("the demo master key must persist across restarts")
	}
}

func TestServeRefusesWithoutMasterKey(t *testing.T) {
	cfg := config.Default(config.ModeServe)
	cfg.Data = t.TempDir()
	if _, err := MasterKey(cfg); err == nil || !strings.Contains(err.Error(), "master_key") {
		t.Fatalf("want an error naming master_key, got %v", err)
	}
}

// A signal cancels the start context before Shutdown runs (serve and demo
// use signal.NotifyContext): the dialer's loop has already returned, and
// saving the campaigns' estimates must still work instead of waiting for
// the shutdown deadline.
func TestShutdownAfterContextCancelled(t *testing.T) {
	var logs strings.Builder
	cfg := demoConfig(t, t.TempDir())
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if sctx.Err() != nil {
		t.Fatal("shutdown ran into its deadline")
	}
	if s := logs.String(); strings.Contains(s, "saving estimates at shutdown failed") {
		t.Fatalf("estimates not saved at shutdown:\n%s", s)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
