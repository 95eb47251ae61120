package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The last line of `centralita bench routing` is a JSON object with the
// figures the issue names; a small run keeps the test quick.
func TestBenchRoutingPrintsJSON(t *testing.T) {
	bin := build(t)
	out, err := runCmd(t, bin, nil, "bench", "routing", "--agents", "100", "--queues", "10", "--waiting", "500", "--decisions", "2000", "--rate", "2000")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	for _, k := range []string{"decisions_per_second", "p50_us", "p99_us", "heap_mb"} {
		v, ok := res[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, res[k])
		}
	}
	if res["agents"].(float64) != 100 {
		t.Errorf("agents = %v", res["agents"])
	}
}
