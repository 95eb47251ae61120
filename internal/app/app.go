// Package app is the composition root: it reads nothing but the config it is
// given, builds every service, starts and stops them. It is the only package
// that knows every piece.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/centralita/centralita/internal/api"
	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/dialer"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/messaging"
	"github.com/centralita/centralita/internal/notify"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/recording"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/telephony/sim"
	"github.com/centralita/centralita/internal/trunk"
	"github.com/centralita/centralita/internal/web"
)

// App is a running Centralita.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock
	DB        *store.DB
	Bus       *bus.Bus
	Outbox    *outbox.Outbox
	Auth      *auth.Service
	Directory *directory.Service
	Sessions  *session.Service // agents' station logins, presences, routing statuses
	// Conversations is the conversation record and call control.
	Conversations *conversation.Service
	Notify        *notify.Hub        // live notifications; register topics with Notify.Register
	Contacts      *contact.Service   // schemas, contact lists, contacts, do-not-call lists
	Campaigns     *campaign.Service  // campaigns, agent campaign logins, callbacks
	Dialer        *dialer.Engine     // the live dialer of outbound campaigns
	CRM           *crm.Service       // call centers, screen pops, the activity log
	Box           *secret.Box        // secrets at rest under the master key
	Trunks        *trunk.Service     // SIP trunks and their inbound numbers (DIDs)
	Recordings    *recording.Service // the index of call recordings
	Messaging     *messaging.Service // outbound SMS / WhatsApp through messaging integrations
	demoInbox     *demo.MessageReceiver

	cc       *contactCenter
	crm      *crmRuntime
	numbers  func(number string) sim.Party // how simulated external numbers behave
	registry *prometheus.Registry
	// recordingsIndexed counts recordings added to the index (telephony.go).
	recordingsIndexed prometheus.Counter
	server            *http.Server
	listener          net.Listener
	cancel            context.CancelFunc
	wg                sync.WaitGroup
}

// NewLogger builds the program's logger from the config.
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// StoreURL is the store the config names.
func StoreURL(cfg config.Config) string {
	if p := cfg.SQLitePath(); p != "" {
		return "sqlite:" + p
	}
	return cfg.Store
}

// MasterKey returns the key that encrypts secrets: given, read from a file,
// or (demo only) generated into the data directory.
func MasterKey(cfg config.Config) ([]byte, error) {
	switch {
	case cfg.MasterKey != "":
		return secret.DecodeKey(cfg.MasterKey)
	case cfg.MasterKeyFile != "":
		b, err := os.ReadFile(cfg.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("setting master_key_file = %q: %w", cfg.MasterKeyFile, err)
		}
		k, err := secret.DecodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("setting master_key_file = %q: %w", cfg.MasterKeyFile, err)
		}
		return k, nil
	case cfg.Mode == config.ModeDemo:
		return secret.LoadOrCreateKeyFile(filepath.Join(cfg.Data, "master.key"))
	case cfg.Mode == config.ModeAdmin:
		if b, err := os.ReadFile(filepath.Join(cfg.Data, "master.key")); err == nil {
			return secret.DecodeKey(string(b))
		}
	}
	return nil, errors.New("setting master_key is required: set master_key_file or CENTRALITA_MASTER_KEY (generate with: openssl rand -base64 32)")
}

// Core is the store and the domain services without the bus or HTTP: what
// the admin commands need.
type Core struct {
	DB        *store.DB
	Outbox    *outbox.Outbox
	Auth      *auth.Service
	Directory *directory.Service
	Box       *secret.Box
}

// OpenCore opens the store, applies migrations and builds the services. pub
// may be nil when nothing will relay (admin commands): events then wait in
// the outbox for the next running server.
func OpenCore(ctx context.Context, cfg config.Config, c clock.Clock, log *slog.Logger, pub outbox.Publisher) (*Core, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	key, err := MasterKey(cfg)
	if err != nil {
		return nil, err
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, StoreURL(cfg))
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("store migrated", "applied", n, "dialect", db.Dialect)
	}
	ob := outbox.New(db, pub, c, log)
	dir := directory.New(db, ob, box, c)
	au := auth.New(db, dir, c)
	if err := au.EnsureWebClient(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &Core{DB: db, Outbox: ob, Auth: au, Directory: dir, Box: box}, nil
}

// Option changes how New builds the program; tests use them.
type Option func(*App)

// WithClock makes every component take its time from c.
func WithClock(c clock.Clock) Option { return func(a *App) { a.Clock = c } }

// WithNumbers says how the simulated switch's external numbers (the
// customers a campaign calls) behave; the demo's default is demo.Customers.
func WithNumbers(f func(number string) sim.Party) Option { return func(a *App) { a.numbers = f } }

// New builds the whole program: store, bus, services and HTTP handler. Call
// Start to serve.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, Log: log, Clock: clock.Real{},
		recordingsIndexed: prometheus.NewCounter(prometheus.CounterOpts{Name: "centralita_recordings_indexed_total", Help: "Call recordings added to the index."})}
	for _, o := range opts {
		o(a)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	b, err := bus.Open(ctx, cfg.Bus, cfg.Data, log)
	if err != nil {
		return nil, err
	}
	a.Bus = b
	core, err := OpenCore(ctx, cfg, a.Clock, log, b)
	if err != nil {
		b.Close()
		return nil, err
	}
	a.DB, a.Outbox, a.Auth, a.Directory, a.Box = core.DB, core.Outbox, core.Auth, core.Directory, core.Box
	if cfg.Mode == config.ModeDemo {
		if err := demo.Seed(ctx, a.DB, a.Directory, a.Auth); err != nil {
			a.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	a.Contacts = contact.New(a.DB, a.Outbox, a.Clock)
	a.Campaigns = campaign.New(a.DB, a.Outbox, a.Clock)
	a.CRM = crm.New(a.DB, a.Outbox, a.Box, a.Clock)
	a.Trunks = trunk.New(a.DB, a.Outbox, a.Box, a.Directory, a.Clock)
	a.Recordings = recording.New(a.DB, cfg.RecordingsPath(), a.Clock)
	if cfg.Mode == config.ModeDemo {
		if err := demo.SeedTelephony(ctx, a.DB, a.Directory, a.Trunks); err != nil {
			a.Close()
			return nil, fmt.Errorf("demo telephony: %w", err)
		}
	}
	if err := a.buildContactCenter(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.buildCRM()
	if cfg.Mode == config.ModeDemo {
		if err := demo.SeedOutbound(ctx, a.DB, a.Directory, a.Contacts, a.Campaigns); err != nil {
			a.Close()
			return nil, fmt.Errorf("demo outbound data: %w", err)
		}
		if err := demo.SeedCRM(ctx, a.DB, a.CRM); err != nil {
			a.Close()
			return nil, fmt.Errorf("demo call center: %w", err)
		}
	}

	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_outbox_backlog", Help: "Unpublished events seen by the last relay pass."},
			func() float64 { return float64(a.Outbox.Backlog()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_bus_connected", Help: "1 when the bus connection is up."},
			func() float64 {
				if a.Bus.Ready() {
					return 1
				}
				return 0
			}))
	a.Dialer.Register(a.registry)
	a.registerTelephonyMetrics() // telephony.go
	a.registry.MustRegister(a.crm.sf, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "centralita_crm_activity_logs_pending",
		Help: "Call logs waiting to be written to the CRM (the CRM down, or the grace period for the agent's notes)."},
		func() float64 {
			n, err := a.CRM.PendingLogs(context.Background())
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	a.Notify = notify.New(notify.Options{Conn: a.Bus.Conn(), Clock: a.Clock, Log: log, Registerer: a.registry})
	srv := &api.Server{
		Auth: a.Auth, Directory: a.Directory, Clock: a.Clock, Log: log, Registry: a.registry,
		RateLimit: cfg.RateLimit, Web: web.Handler(), Login: loginPage{},
		Ready: func(ctx context.Context) error {
			if err := a.DB.PingContext(ctx); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if !a.Bus.Ready() {
				return errors.New("bus: not connected")
			}
			return nil
		},
	}
	srv.Notify = a.Notify
	srv.Sessions = a.Sessions
	srv.Conversations = a.Conversations
	srv.Contacts = a.Contacts
	srv.Campaigns = a.Campaigns
	srv.Dialer = a.Dialer
	srv.CRM = a.CRM
	srv.CRMRuntime = a.crm
	a.buildMessaging(srv)
	srv.Trunks = a.Trunks
	if a.cc.sip != nil {
		srv.Registrations = trunkRegistrations{a.cc.sip} // telephony.go
	}
	srv.Recordings = a.Recordings
	a.wirePrompts(srv) // prompts.go
	if cfg.Mode == config.ModeDemo {
		srv.Simulator = a // the simulation API serves the demo only
	}
	a.Notify.SetParticipantChecker(a.Conversations)
	a.attachBrowserPhones() // browserphone.go
	a.server = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Start binds the listener and starts serving and the background work.
func (a *App) Start(ctx context.Context) error {
	l, err := net.Listen("tcp", a.Config.Listen)
	if err != nil {
		return fmt.Errorf("setting listen = %q: %w", a.Config.Listen, err)
	}
	a.listener = l
	ctx, a.cancel = context.WithCancel(ctx)
	if err := a.Notify.Start(ctx); err != nil {
		a.cancel()
		l.Close()
		return err
	}
	a.startContactCenter(ctx)
	if err := a.crm.start(ctx); err != nil {
		a.cancel()
		l.Close()
		return err
	}
	a.startMessaging(ctx)
	a.wg.Add(3)
	go func() {
		defer a.wg.Done()
		a.Outbox.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.housekeeping(ctx)
	}()
	go func() {
		defer a.wg.Done()
		if err := a.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// housekeeping prunes expired tokens and old published events.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.Auth.PruneExpired(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("pruning tokens failed", "err", err)
		}
		if _, err := a.Outbox.Prune(ctx, 7*24*time.Hour); err != nil && ctx.Err() == nil {
			a.Log.Warn("pruning outbox failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() string {
	if a.listener == nil {
		return a.Config.Listen
	}
	return a.listener.Addr().String()
}

// URL is the base URL of the running server.
func (a *App) URL() string {
	if a.Config.BaseURL != "" {
		return a.Config.PublicURL()
	}
	return "http://" + a.Addr()
}

// Shutdown stops accepting requests, lets running ones finish (bounded by
// ctx), then stops the background work and closes the bus and store.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	if a.server != nil {
		err = a.server.Shutdown(ctx)
	}
	if a.Dialer != nil && a.cancel != nil {
		// What the campaigns learnt outlives the process.
		if serr := a.Dialer.SaveModels(ctx); serr != nil {
			a.Log.Warn("dialer: saving estimates at shutdown failed", "err", serr)
		}
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	a.Close()
	return err
}

// Close releases the bus and store without a graceful HTTP drain.
func (a *App) Close() {
	a.closeContactCenter()
	if a.Notify != nil {
		a.Notify.Close() // before the bus: tells open sockets, then closes them
	}
	if a.Bus != nil {
		a.Bus.Close()
		a.Bus = nil
	}
	if a.DB != nil {
		a.DB.Close()
		a.DB = nil
	}
}

// loginPage adapts the web package's login page to the API's renderer.
type loginPage struct{}

func (loginPage) RenderLogin(w http.ResponseWriter, r *http.Request, p api.LoginPage) {
	lang := web.LangFromRequest(r)
	msg := ""
	if p.Error != "" {
		msg = "Wrong user or password."
		if lang == "es" {
			msg = "Usuario o contraseña incorrectos."
		}
	}
	web.RenderLogin(w, web.LoginData{ClientID: p.ClientID, RedirectURI: p.RedirectURI, State: p.State,
		CodeChallenge: p.CodeChallenge, CodeChallengeMethod: p.CodeChallengeMethod, Scope: p.Scope,
		Username: p.Username, Error: msg, Lang: lang})
}
