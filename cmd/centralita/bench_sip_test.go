package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony/sip/siptest"
)

// `centralita bench sip --quick` against SIPp on loopback: the last line
// of its output is a JSON object with the figures the issue names, and no
// call failed. Skipped without sipp (fails under CENTRALITA_REQUIRE_PEERS=1).
func TestBenchSIPQuickPrintsJSON(t *testing.T) {
	siptest.RequireSIPp(t)
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "sip", "--quick")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench sip: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	for _, k := range []string{"answered_cps", "bridged_cps", "concurrent_bridged", "rss_kb_per_bridged_call", "answered_rate", "bridged_rate", "concurrent_target"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, res[k])
		}
	}
	if v, ok := res["failed_calls"].(float64); !ok || v != 0 {
		t.Errorf("failed_calls = %v, want 0\n%s", res["failed_calls"], stdout.String())
	}
	if res["concurrent_bridged"] != res["concurrent_target"] {
		t.Errorf("concurrent_bridged %v, target %v", res["concurrent_bridged"], res["concurrent_target"])
	}
}
