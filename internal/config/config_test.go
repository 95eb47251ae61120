package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func flags(t *testing.T, m Mode, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs, Default(m))
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func environ(kv ...string) func() []string { return func() []string { return kv } }

func TestDefaults(t *testing.T) {
	c, err := Load(ModeDemo, flags(t, ModeDemo), environ())
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Data != "./centralita-data" || c.Store != "" || c.Bus != "" || c.RateLimit != 300 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if got := c.SQLitePath(); got != filepath.Join("centralita-data", "centralita.db") {
		t.Fatalf("SQLitePath = %q", got)
	}
	if c.PublicURL() != "http://127.0.0.1:8080" {
		t.Fatalf("PublicURL = %q", c.PublicURL())
	}
}

// File < environment < flags.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:7000\nrate_limit: 10\ndata: /from/file\nlog_level: warn\n"), 0o600)
	c, err := Load(ModeDemo, flags(t, ModeDemo, "--config", file, "--listen", "127.0.0.1:9000"),
		environ("CENTRALITA_RATE_LIMIT=20", "CENTRALITA_LISTEN=127.0.0.1:8000", "CENTRALITA_REQUIRE_PEERS=1", "PATH=/bin"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" {
		t.Errorf("flag should win: listen = %q", c.Listen)
	}
	if c.RateLimit != 20 {
		t.Errorf("env should beat file: rate_limit = %d", c.RateLimit)
	}
	if c.Data != "/from/file" || c.LogLevel != "warn" {
		t.Errorf("file values lost: %+v", c)
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte("store: postgres://u@127.0.0.1:5432/cc\n"), 0o600)
	c, err := Load(ModeDemo, flags(t, ModeDemo), environ("CENTRALITA_CONFIG="+file))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "postgres://u@127.0.0.1:5432/cc" || c.SQLitePath() != "" {
		t.Fatalf("store from file: %+v", c)
	}
}

// A bad value names the setting, the value and what is allowed.
func TestBadValues(t *testing.T) {
	cases := []struct {
		args []string
		env  []string
		want []string
	}{
		{[]string{"--listen", "nonsense"}, nil, []string{"listen", `"nonsense"`, "host:port"}},
		{[]string{"--store", "mysql://x"}, nil, []string{"store", "mysql://x", "postgres://"}},
		{[]string{"--bus", "amqp://x"}, nil, []string{"bus", "amqp://x", "nats://"}},
		{[]string{"--log-level", "loud"}, nil, []string{"log_level", "loud", "debug, info, warn, error"}},
		{[]string{"--log-format", "xml"}, nil, []string{"log_format", "xml", "text or json"}},
		{[]string{"--rate-limit", "0"}, nil, []string{"rate_limit", `"0"`, "between 1 and 100000"}},
		{[]string{"--base-url", "ftp://x"}, nil, []string{"base_url", "ftp://x", "http(s)"}},
		{nil, []string{"CENTRALITA_RATE_LIMIT=lots"}, []string{"rate_limit", "lots"}},
		{[]string{"--master-key", "short"}, nil, []string{"master_key", "32 bytes"}},
		{nil, []string{"CENTRALITA_ALLOW_INTERNAL_WEBHOOKS=perhaps"}, []string{"allow_internal_webhooks", "perhaps", "true or false"}},
	}
	for _, tc := range cases {
		_, err := Load(ModeDemo, flags(t, ModeDemo, tc.args...), environ(tc.env...))
		if err == nil {
			t.Errorf("%v %v: no error", tc.args, tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: error %q does not mention %q", tc.args, tc.env, err, w)
			}
		}
	}
}

// Internal webhook addresses: allowed in the demo, refused in serve, and
// either can be changed from the file, the environment or a flag.
func TestAllowInternalWebhooks(t *testing.T) {
	cases := []struct {
		mode Mode
		args []string
		env  []string
		file string
		want bool
	}{
		{ModeDemo, nil, nil, "", true},
		{ModeServe, nil, nil, "", false},
		{ModeDemo, nil, []string{"CENTRALITA_ALLOW_INTERNAL_WEBHOOKS=false"}, "", false},
		{ModeDemo, nil, []string{"CENTRALITA_ALLOW_INTERNAL_WEBHOOKS=0"}, "", false},
		{ModeServe, []string{"--allow-internal-webhooks"}, nil, "", true},
		{ModeServe, nil, nil, "allow_internal_webhooks: true\n", true},
		{ModeDemo, []string{"--allow-internal-webhooks=false"}, []string{"CENTRALITA_ALLOW_INTERNAL_WEBHOOKS=true"}, "", false},
	}
	for i, tc := range cases {
		args := append([]string(nil), tc.args...)
		if tc.file != "" {
			file := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(file, []byte(tc.file), 0o600)
			args = append(args, "--config", file)
		}
		env := tc.env
		if tc.mode == ModeServe {
			env = append(env, "CENTRALITA_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
		}
		c, err := Load(tc.mode, flags(t, tc.mode, args...), environ(env...))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if c.AllowInternalWebhooks != tc.want {
			t.Errorf("case %d (%s %v %v %q): allow_internal_webhooks = %v, want %v", i, tc.mode, tc.args, tc.env, tc.file, c.AllowInternalWebhooks, tc.want)
		}
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	_, err := Load(ModeDemo, flags(t, ModeDemo, "--listen", "x", "--log-level", "y"), environ())
	if err == nil || !strings.Contains(err.Error(), "listen") || !strings.Contains(err.Error(), "log_level") {
		t.Fatalf("want both problems, got %v", err)
	}
}

func TestUnknownFileKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte("lisen: 127.0.0.1:1\n"), 0o600)
	_, err := Load(ModeDemo, flags(t, ModeDemo, "--config", file), environ())
	if err == nil || !strings.Contains(err.Error(), "lisen") || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("want unknown-setting error naming the key and the known ones, got %v", err)
	}
}

func TestMissingConfigFile(t *testing.T) {
	_, err := Load(ModeDemo, flags(t, ModeDemo, "--config", "/nonexistent/c.yaml"), environ())
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/c.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestServeNeedsMasterKey(t *testing.T) {
	_, err := Load(ModeServe, flags(t, ModeServe), environ())
	if err == nil || !strings.Contains(err.Error(), "master_key") {
		t.Fatalf("serve without a key: %v", err)
	}
	c, err := Load(ModeServe, flags(t, ModeServe), environ("CENTRALITA_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFormat != "json" {
		t.Errorf("serve logs json by default, got %q", c.LogFormat)
	}
	if _, err := Load(ModeDemo, flags(t, ModeDemo), environ()); err != nil {
		t.Fatalf("demo needs no key: %v", err)
	}
}

// The demo's simulated traffic and auto-answering agents: flags, defaults,
// limits, and only in the demo.
func TestDemoTrafficAndAgents(t *testing.T) {
	c, err := Load(ModeDemo, flags(t, ModeDemo), environ())
	if err != nil || c.DemoTraffic != DefaultDemoTraffic || c.DemoAgents != 0 {
		t.Fatalf("demo defaults: traffic %d agents %d, %v", c.DemoTraffic, c.DemoAgents, err)
	}
	c, err = Load(ModeDemo, flags(t, ModeDemo, "--demo-traffic", "0", "--demo-agents", "2"), environ())
	if err != nil || c.DemoTraffic != 0 || c.DemoAgents != 2 {
		t.Fatalf("flags: %+v %v", c, err)
	}
	c, err = Load(ModeDemo, flags(t, ModeDemo), environ("CENTRALITA_DEMO_TRAFFIC=12", "CENTRALITA_DEMO_AGENTS=5"))
	if err != nil || c.DemoTraffic != 12 || c.DemoAgents != 5 {
		t.Fatalf("environment: %+v %v", c, err)
	}
	if c, err := Load(ModeServe, flags(t, ModeServe), environ("CENTRALITA_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")); err != nil || c.DemoTraffic != 0 {
		t.Fatalf("serve has no simulated traffic: %+v %v", c, err)
	}
	for _, tc := range []struct {
		mode Mode
		args []string
		want string
	}{
		{ModeDemo, []string{"--demo-traffic", "-1"}, `setting demo_traffic = "-1" is invalid: must be between 0 and 600`},
		{ModeDemo, []string{"--demo-traffic", "601"}, `setting demo_traffic = "601" is invalid`},
		{ModeDemo, []string{"--demo-agents", "6"}, `setting demo_agents = "6" is invalid: must be between 0 and 5`},
		{ModeServe, []string{"--demo-traffic", "3", "--master-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, `setting demo_traffic = "3" is invalid: only the demo runs simulated traffic`},
		{ModeServe, []string{"--demo-agents", "1", "--master-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, `setting demo_agents = "1" is invalid: only the demo has demo agents`},
	} {
		_, err := Load(tc.mode, flags(t, tc.mode, tc.args...), environ())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got %v, want %q", tc.mode, tc.args, err, tc.want)
		}
	}
	_, err = Load(ModeDemo, flags(t, ModeDemo), environ("CENTRALITA_DEMO_AGENTS=two"))
	if err == nil || !strings.Contains(err.Error(), `setting demo_agents = "two" is invalid: must be a whole number`) {
		t.Errorf("a word for a number: %v", err)
	}
}
