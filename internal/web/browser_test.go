package web_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/telephony/sim"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserConsole drives the real console in headless Chromium through
// tests/browser/console.js (playwright-core): OAuth login, lists, create
// forms, the server's error display, log-out, a failed login and a Spanish
// agent session. scripts/test installs chromium and the npm dependencies.
func TestBrowserConsole(t *testing.T) {
	runBrowserScript(t, "console.js", "console-presence.png", "console-agent-es.png")
}

// TestBrowserAgent drives the console's Agent view through
// tests/browser/agent.js: agent1 logs into station 1001 and goes On queue,
// the admin makes a simulated call to Ventas from the same view, and agent1
// sees it ring through the notification WebSocket, answers, holds, mutes,
// sends DTMF, hangs up and wraps up, back to IDLE. apptest starts the demo
// without simulated traffic or auto-answering demo agents, so agent1 is the
// only agent who can get the call.
func TestBrowserAgent(t *testing.T) {
	runBrowserScript(t, "agent.js", "agent-ringing.png", "agent-connected.png", "agent-wrapup.png", "agent-done.png")
}

// TestBrowserOutbound drives the console's outbound pages through
// tests/browser/outbound.js: the admin creates a schema with a disposition
// tree, a contact list, imports a CSV with a bad row (the report, nothing
// imported) and again skipping it, a do-not-call list and a preview
// campaign, and sees the server's error for a campaign without a list; then
// agent1 logs into the campaign from the Agent view's outbound desk.
//
// Then agent1 works the demo's preview campaign: On queue, the record is
// offered, Dial, the customer (answering at once here) talks and hangs up,
// Categorize, Ready, and the next record is offered.
func TestBrowserOutbound(t *testing.T) {
	quick := func(string) sim.Party {
		return sim.Party{Outcome: sim.Answer, After: time.Second, TalkTime: 3 * time.Second}
	}
	runBrowserScriptWith(t, apptest.Options{Numbers: quick}, "outbound.js", "outbound-schema-form.png", "outbound-import-report.png", "outbound-contacts.png",
		"outbound-campaign-form.png", "outbound-campaign-error.png", "outbound-desk.png", "outbound-preview.png", "outbound-release.png")
}

// TestBrowserSoftphone drives the agent softphone (/softphone/) through
// tests/browser/softphone.js: sign-in, station login, On queue, an injected
// call from a demo contact answered with its screen pop, DTMF, a reload
// mid-call, hang up, the information panel and a break; then the page
// framed by a stand-in Salesforce host with a stand-in opencti_min.js
// (sign-in in a popup, screenPop with the contact's record id).
func TestBrowserSoftphone(t *testing.T) {
	runBrowserScript(t, "softphone.js", "softphone-idle.png", "softphone-call.png", "softphone-opencti.png")
}

// runBrowserScript runs one tests/browser script against a fresh demo app
// and checks its closing JSON line and screenshots. Without node, the system
// Chromium or the npm dependencies it skips, or fails when
// CENTRALITA_REQUIRE_PEERS=1.
func runBrowserScript(t *testing.T, script string, screenshots ...string) {
	t.Helper()
	runBrowserScriptWith(t, apptest.Options{}, script, screenshots...)
}

// runBrowserScriptWith is runBrowserScript on an app started with o.
func runBrowserScriptWith(t *testing.T, o apptest.Options, script string, screenshots ...string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node not in PATH"
	case !executable(chromiumPath):
		missing = chromiumPath + " missing (apt-get install chromium)"
	case !isDir(filepath.Join(dir, "node_modules", "playwright-core")):
		missing = "tests/browser/node_modules missing (run scripts/test, or npm ci in tests/browser)"
	}
	if missing != "" {
		if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
			t.Fatalf("CENTRALITA_REQUIRE_PEERS=1 and %s", missing)
		}
		t.Skip(missing)
	}

	a := apptest.Start(t, o)
	// Screenshots (and the failure shot) go to a temp dir, or to
	// CENTRALITA_BROWSER_SHOTS when set, so they can be looked at afterwards.
	shots := os.Getenv("CENTRALITA_BROWSER_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CENTRALITA_URL="+a.URL(), "SCREENSHOT_DIR="+shots)
	// The script has its own 90 s guard; this is the backstop if node or
	// the browser wedges: kill, then stop waiting for inherited pipes.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s killed after %s\n%s", script, elapsed, out)
		}
		t.Fatalf("%s failed after %s: %v\n%s", script, elapsed, err, out)
	}
	result := lastJSONLine(string(out))
	if !strings.Contains(result, `"ok":true`) {
		t.Fatalf("%s exited 0 without an ok result after %s:\n%s", script, elapsed, out)
	}
	t.Logf("%s passed in %s: %s", script, elapsed, result)
	for _, name := range screenshots {
		if fi, err := os.Stat(filepath.Join(shots, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s missing or empty: %v", name, err)
		}
	}
}

func lastJSONLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "{") {
			return l
		}
	}
	return ""
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// TestBrowserCRM drives the console's Call centers tab through
// tests/browser/crm.js: the demo's call center listed, a call center created
// from seed 002's XML, a bad XML's error naming the item, the XML export
// (reqAdapterUrl at /softphone/), an edit with a server error marked on its
// field, and a screen-pop preview deciding to open the Contact.
func TestBrowserCRM(t *testing.T) {
	runBrowserScript(t, "crm.js", "crm-form.png", "crm-preview.png")
}
