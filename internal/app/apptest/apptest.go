// Package apptest starts a whole Centralita for tests: demo data, SQLite (or
// the PostgreSQL named by CENTRALITA_TEST_POSTGRES when asked), embedded
// NATS, a free port on 127.0.0.1, and a fake clock when one is given.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// Options tune Start.
type Options struct {
	Clock     clock.Clock // default: real time
	RateLimit int         // default: the config default
	Store     string      // default: SQLite in a temp dir
	Mode      config.Mode // default: demo (seeds demo data)
	Log       io.Writer   // default: discard (set CENTRALITA_TEST_LOG=1 for stderr)
	// DemoTraffic and DemoAgents are the demo's simulated callers per
	// minute and auto-answering agents; default 0: tests place their calls.
	DemoTraffic, DemoAgents int
	// Data is the data directory; default a new temporary one. Give the
	// same one twice to restart a program on its data.
	Data string
	// Numbers says how the simulated switch's external numbers (the
	// customers campaigns call) behave; default the demo's customers.
	Numbers func(number string) sim.Party
}

// Start runs an app until the test ends and returns it.
func Start(t testing.TB, o Options) *app.App {
	t.Helper()
	if o.Mode == "" {
		o.Mode = config.ModeDemo
	}
	cfg := config.Default(o.Mode)
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = o.Data
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	cfg.Store = o.Store
	cfg.LogLevel = "debug"
	cfg.DemoTraffic, cfg.DemoAgents = o.DemoTraffic, o.DemoAgents
	if o.RateLimit > 0 {
		cfg.RateLimit = o.RateLimit
	}
	if o.Mode == config.ModeServe {
		cfg.MasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 test bytes
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := o.Log
	if w == nil {
		w = io.Discard
		if os.Getenv("CENTRALITA_TEST_LOG") != "" {
			w = os.Stderr
		}
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var opts []app.Option
	if o.Clock != nil {
		opts = append(opts, app.WithClock(o.Clock))
	}
	if o.Numbers != nil {
		opts = append(opts, app.WithNumbers(o.Numbers))
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(ctx)
	})
	return a
}
