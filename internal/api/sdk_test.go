package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/demo"
)

// needPeer skips a test whose peer program is missing, unless
// CENTRALITA_REQUIRE_PEERS=1 (CI), where a missing peer is a failure.
func needPeer(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CENTRALITA_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s is missing and CENTRALITA_REQUIRE_PEERS=1", what)
	}
	t.Skipf("%s is missing (set CENTRALITA_REQUIRE_PEERS=1 to make this a failure)", what)
}

// TestOfficialJavaScriptSDK lists users (two pages), queues, wrap-up codes
// and presence definitions through the official Genesys Cloud JavaScript
// client, pointed at Centralita with its gateway setting.
func TestOfficialJavaScriptSDK(t *testing.T) {
	sdkDir, err := filepath.Abs(filepath.Join("..", "..", "tests", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(sdkDir, "list.js")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	node, err := exec.LookPath("node")
	needPeer(t, "node", err == nil)
	_, err = os.Stat(filepath.Join(sdkDir, "node_modules", "purecloud-platform-client-v2", "package.json"))
	needPeer(t, "tests/sdk/node_modules (run: cd tests/sdk && npm ci)", err == nil)

	e := startEnv(t, apptest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(),
		"CENTRALITA_URL="+e.base,
		"CENTRALITA_CLIENT_ID="+demo.ClientID,
		"CENTRALITA_CLIENT_SECRET="+demo.ClientSecret,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node list.js: %v (ctx %v)\nstdout: %s\nstderr: %s", err, ctx.Err(), stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %d:\n%s\nstderr: %s", len(lines), stdout.String(), stderr.String())
	}
	var out struct {
		Users struct {
			Page1      []string `json:"page1"`
			Page2      []string `json:"page2"`
			Total      int      `json:"total"`
			PageCount  int      `json:"pageCount"`
			PageSize   int      `json:"pageSize"`
			PageNumber int      `json:"pageNumber"`
			NextURI    *string  `json:"nextUri"`
		} `json:"users"`
		Queues              []string `json:"queues"`
		WrapupCodes         []string `json:"wrapupcodes"`
		PresenceDefinitions []string `json:"presencedefinitions"`
	}
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("list.js output %q: %v", lines[0], err)
	}

	u := out.Users
	if len(u.Page1) != 3 || len(u.Page2) != 3 || u.Total != 7 || u.PageCount != 3 || u.PageSize != 3 || u.PageNumber != 1 {
		t.Errorf("users through the SDK: %+v, want pages of 3 and 3, total 7, pageCount 3", u)
	}
	if u.NextURI == nil || !strings.HasPrefix(*u.NextURI, "/api/v2/users?") || !strings.Contains(*u.NextURI, "pageNumber=2") {
		t.Errorf("nextUri %v", u.NextURI)
	}
	// The SDK sees the same pages as a plain HTTP client.
	want := names(e.must(t, 200, "GET", "/api/v2/users?pageSize=6&pageNumber=1", e.token(t, pAdminCC), nil).entities(t))
	if got := append(slices.Clone(u.Page1), u.Page2...); !slices.Equal(got, want) {
		t.Errorf("SDK pages %v, want %v", got, want)
	}
	for _, q := range []string{"Ventas", "Soporte"} {
		if !slices.Contains(out.Queues, q) {
			t.Errorf("queues %v lack %s", out.Queues, q)
		}
	}
	for _, w := range demo.WrapupCodes {
		name := w.Category + " - " + w.Subcategory
		if !slices.Contains(out.WrapupCodes, name) {
			t.Errorf("wrap-up codes %v lack %q", out.WrapupCodes, name)
		}
	}
	for _, p := range []string{"Available", "On Queue", "1 - Descanso", "2 - Almuerzo"} {
		if !slices.Contains(out.PresenceDefinitions, p) {
			t.Errorf("presence definitions %v lack %q", out.PresenceDefinitions, p)
		}
	}
}
