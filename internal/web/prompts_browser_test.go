package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
)

// TestBrowserPrompts drives the console's Prompts page through
// tests/browser/prompts.js: built-in prompts listed and played, an upload
// refused with its reason, a WAV uploaded, played and deleted.
func TestBrowserPrompts(t *testing.T) {
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
	shots := os.Getenv("CENTRALITA_BROWSER_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "prompts.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CENTRALITA_URL="+a.URL(), "SCREENSHOT_DIR="+shots)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("prompts.js failed: %v\n%s", err, out)
	}
	if result := lastJSONLine(string(out)); !strings.Contains(result, `"ok":true`) {
		t.Fatalf("prompts.js exited 0 without an ok result:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(shots, "prompts.png")); err != nil || fi.Size() == 0 {
		t.Errorf("screenshot prompts.png missing or empty: %v", err)
	}
}
