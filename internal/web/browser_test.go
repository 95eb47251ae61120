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
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserConsole drives the real console in headless Chromium through
// tests/browser/console.js (playwright-core): OAuth login, lists, create
// forms, the server's error display, log-out, a failed login and a Spanish
// agent session. scripts/test installs chromium and the npm dependencies.
func TestBrowserConsole(t *testing.T) {
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

	a := apptest.Start(t, apptest.Options{})
	// Screenshots (and failure.png) go to a temp dir, or to
	// CENTRALITA_BROWSER_SHOTS when set, so they can be looked at afterwards.
	shots := os.Getenv("CENTRALITA_BROWSER_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.js")
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
			t.Fatalf("console.js killed after %s\n%s", elapsed, out)
		}
		t.Fatalf("console.js failed after %s: %v\n%s", elapsed, err, out)
	}
	result := lastJSONLine(string(out))
	if !strings.Contains(result, `"ok":true`) {
		t.Fatalf("console.js exited 0 without an ok result after %s:\n%s", elapsed, out)
	}
	t.Logf("console.js passed in %s: %s", elapsed, result)
	for _, name := range []string{"console-presence.png", "console-agent-es.png"} {
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
