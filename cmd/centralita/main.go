// Command centralita is the whole contact center in one program.
//
//	centralita demo      embedded defaults and demo data; open the printed URL
//	centralita serve     production: needs a master key, usually PostgreSQL and NATS
//	centralita migrate   apply database migrations and exit
//	centralita admin     create users and OAuth clients, reset passwords
//	centralita version   print the version
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "centralita",
		Short:         "Centralita: a self-hosted contact center in one program",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(config.ModeServe), serveCmd(config.ModeDemo), migrateCmd(), adminCmd(), versionCmd(), benchCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "centralita:", describe(err))
		os.Exit(1)
	}
}

// describe spells out validation problems one per line.
func describe(err error) string {
	if ps := problem.All(err); len(ps) > 0 {
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = p.Error()
		}
		return strings.Join(lines, "\n  ")
	}
	return strings.ReplaceAll(err.Error(), "\n", "\n  ")
}

func load(cmd *cobra.Command, m config.Mode) (config.Config, error) {
	return config.Load(m, cmd.Flags(), os.Environ)
}

func serveCmd(m config.Mode) *cobra.Command {
	c := &cobra.Command{Use: string(m), Args: cobra.NoArgs}
	if m == config.ModeDemo {
		c.Short = "Run the demo: SQLite, embedded NATS and demo data in the data directory"
	} else {
		c.Short = "Run the server"
	}
	config.AddFlags(c.Flags(), config.Default(m))
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load(cmd, m)
		if err != nil {
			return err
		}
		log := app.NewLogger(cfg)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		started := time.Now()
		a, err := app.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		if err := a.Start(ctx); err != nil {
			a.Close()
			return err
		}
		log.Info("centralita ready", "url", a.URL(), "mode", m, "store", string(a.DB.Dialect), "startup", time.Since(started).Round(time.Millisecond))
		if m == config.ModeDemo {
			printDemoBanner(a.URL())
			if sw := a.SIPSwitch(); sw != nil {
				cfg.SIPListen = sw.Addr().String() // the port bound, when given as 0
			}
			printDemoCalls(a.URL(), cfg)
		}
		<-ctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return a.Shutdown(sctx)
	}
	return c
}

func printDemoBanner(url string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n  Centralita demo is ready at %s\n\n", url)
	fmt.Fprintf(&b, "  Console:  %s/ui/\n  API docs: %s/docs\n\n", url, url)
	fmt.Fprintf(&b, "  Logins (user / password):\n")
	for _, l := range demo.Logins {
		fmt.Fprintf(&b, "    %-11s %-10s / %s\n", l.Role, l.Username, l.Password)
	}
	fmt.Fprintf(&b, "\n  Devices 1001..1005 (SIP phones) and 1101..1105 (browser phones: the softphone page), password: device\n")
	fmt.Fprintf(&b, "  OAuth client (client credentials, admin): %s / %s\n", demo.ClientID, demo.ClientSecret)
	fmt.Fprintf(&b, "    curl -s -u %s:%s -d grant_type=client_credentials %s/oauth/token\n\n", demo.ClientID, demo.ClientSecret, url)
	fmt.Fprint(os.Stdout, b.String())
}

// printDemoCalls tells how calls flow in the demo.
func printDemoCalls(url string, cfg config.Config) {
	var b strings.Builder
	if cfg.Telephony == config.TelephonySIP {
		printDemoSIP(&b, cfg)
		fmt.Fprint(os.Stdout, b.String())
		return
	}
	if cfg.DemoTraffic > 0 {
		fmt.Fprintf(&b, "  Simulated callers: %d a minute into Ventas and Soporte (--demo-traffic N; 0 turns them off)\n", cfg.DemoTraffic)
	} else {
		b.WriteString("  Simulated callers: off (--demo-traffic N for N calls a minute)\n")
	}
	if n := cfg.DemoAgents; n > 0 {
		fmt.Fprintf(&b, "  Demo agents answering by themselves: %s (--demo-agents N)\n", strings.Join(app.DemoAgentOrder[:min(n, len(app.DemoAgentOrder))], ", "))
	}
	b.WriteString("  Log in as agent1, pick station 1001 (password device), go On Queue, and place a test call:\n")
	fmt.Fprintf(&b, "    curl -s -u %s:%s -d grant_type=client_credentials %s/oauth/token   # then, with the token:\n", demo.ClientID, demo.ClientSecret, url)
	fmt.Fprintf(&b, "    curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"to\":\"Ventas\",\"from\":\"+34600111222\"}' %s/api/v2/simulation/calls\n\n", url)
	fmt.Fprint(os.Stdout, b.String())
}

// printDemoSIP tells how to call the demo from a SIP phone (README "Use a
// real SIP phone", docs/telephony.md).
func printDemoSIP(b *strings.Builder, cfg config.Config) {
	fmt.Fprintf(b, "  SIP switch on udp:%s (RTP ports %s). Register a softphone:\n", cfg.SIPListen, cmp.Or(cfg.RTPPorts, "any"))
	fmt.Fprintf(b, "    user 1001 (to 1005), password %s, domain/registrar %s\n", demo.StationPassword, cfg.SIPListen)
	b.WriteString("  Log in as agent1 on station 1001 and go On Queue in the console, then call from another phone (e.g. 1002):\n")
	for _, n := range demo.DemoNumbers {
		fmt.Fprintf(b, "    %s -> %s (from the carrier trunk at %s: %s)\n", n.Short, n.Queue, demo.TrunkAddress, n.E164)
	}
	fmt.Fprintf(b, "    %s -> echo test (hear yourself)\n", demo.EchoNumber)
	fmt.Fprintf(b, "  Recordings go to %s. Simulated callers and demo agents are off with SIP.\n\n", cfg.RecordingsPath())
}

func migrateCmd() *cobra.Command {
	c := &cobra.Command{Use: "migrate", Short: "Apply database migrations and exit", Args: cobra.NoArgs}
	config.AddFlags(c.Flags(), config.Default(config.ModeAdmin))
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load(cmd, config.ModeAdmin)
		if err != nil {
			return err
		}
		if err := cfg.EnsureDataDir(); err != nil {
			return err
		}
		db, err := store.Open(cmd.Context(), app.StoreURL(cfg))
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := db.Migrate(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Printf("migrations applied: %d (%s)\n", n, db.Dialect)
		return nil
	}
	return c
}

func adminCmd() *cobra.Command {
	c := &cobra.Command{Use: "admin", Short: "Administration commands that work without a running server"}
	withCore := func(cmd *cobra.Command, fn func(ctx context.Context, core *app.Core) error) error {
		cfg, err := load(cmd, config.ModeAdmin)
		if err != nil {
			return err
		}
		log := app.NewLogger(cfg)
		// No publisher: events wait in the outbox until a server relays them.
		core, err := app.OpenCore(cmd.Context(), cfg, clock.Real{}, log, nil)
		if err != nil {
			return err
		}
		defer core.DB.Close()
		return fn(cmd.Context(), core)
	}

	createUser := &cobra.Command{Use: "create-user", Short: "Create a user", Args: cobra.NoArgs}
	config.AddFlags(createUser.Flags(), config.Default(config.ModeAdmin))
	username := createUser.Flags().String("username", "", "login name (required)")
	name := createUser.Flags().String("name", "", "full name (defaults to the username)")
	email := createUser.Flags().String("email", "", "email address")
	pw := createUser.Flags().String("password", "", "password (required)")
	role := createUser.Flags().StringSlice("role", []string{"agent"}, "roles: admin, supervisor, agent")
	createUser.RunE = func(cmd *cobra.Command, _ []string) error {
		if *pw == "" {
			return errors.New("--password is required")
		}
		if *name == "" {
			*name = *username
		}
		return withCore(cmd, func(ctx context.Context, core *app.Core) error {
			u, err := core.Directory.CreateUser(ctx, directory.UserInput{Username: *username, Name: *name, Email: *email, Password: *pw, Roles: *role})
			if err != nil {
				return err
			}
			fmt.Printf("user created: %s (%s) id=%s roles=%s\n", u.Username, u.Name, u.ID, auth.JoinRoles(u.Roles))
			return nil
		})
	}

	createClient := &cobra.Command{Use: "create-client", Short: "Create an OAuth client-credentials client and print its secret", Args: cobra.NoArgs}
	config.AddFlags(createClient.Flags(), config.Default(config.ModeAdmin))
	cname := createClient.Flags().String("name", "", "client name (required)")
	cid := createClient.Flags().String("id", "", "client id (default: a new UUID)")
	csecret := createClient.Flags().String("secret", "", "client secret (default: generated)")
	crole := createClient.Flags().StringSlice("role", []string{"admin"}, "roles carried by its tokens")
	clife := createClient.Flags().Int("token-lifetime", auth.DefaultTokenLifetime, "access token lifetime in seconds (300..172800)")
	createClient.RunE = func(cmd *cobra.Command, _ []string) error {
		return withCore(cmd, func(ctx context.Context, core *app.Core) error {
			cl, sec, err := core.Auth.CreateClient(ctx, auth.ClientInput{ID: *cid, Name: *cname, GrantType: auth.GrantClientCredentials,
				Roles: *crole, Secret: *csecret, TokenLifetimeSeconds: *clife})
			if err != nil {
				return err
			}
			fmt.Printf("client created: %s\nclient id:     %s\nclient secret: %s\n(the secret is shown only now)\n", cl.Name, cl.ID, sec)
			return nil
		})
	}

	reset := &cobra.Command{Use: "reset-password", Short: "Set a user's password (ends the user's sessions)", Args: cobra.NoArgs}
	config.AddFlags(reset.Flags(), config.Default(config.ModeAdmin))
	rUser := reset.Flags().String("username", "", "login name (required)")
	rPw := reset.Flags().String("password", "", "new password (required)")
	reset.RunE = func(cmd *cobra.Command, _ []string) error {
		return withCore(cmd, func(ctx context.Context, core *app.Core) error {
			u, err := core.Directory.GetUserByUsername(ctx, *rUser)
			if err != nil {
				return err
			}
			if err := core.Directory.SetPassword(ctx, u.ID, *rPw); err != nil {
				return err
			}
			fmt.Printf("password reset for %s\n", u.Username)
			return nil
		})
	}
	c.AddCommand(createUser, createClient, reset)
	c.AddCommand(callcenterXMLCmd())
	return c
}

func versionCmd() *cobra.Command {
	return &cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs, Run: func(*cobra.Command, []string) {
		fmt.Printf("centralita %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}}
}
