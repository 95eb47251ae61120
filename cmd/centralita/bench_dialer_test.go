package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/dialer/dialersim"
)

func TestParseDialerCell(t *testing.T) {
	c, err := parseDialerCell("100/0.1/60")
	if err != nil || c != (dialersim.Cell{Agents: 100, P: 0.1, AHT: time.Minute}) {
		t.Fatalf("100/0.1/60: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "100/0.1", "0/0.1/60", "x/0.1/60", "10/0/60", "10/1.5/60", "10/0.3/0", "10/0.3/60/1"} {
		if _, err := parseDialerCell(bad); err == nil || !strings.Contains(err.Error(), "--cell") {
			t.Errorf("%q: err %v, want a --cell error", bad, err)
		}
	}
}

// `bench dialer --naive` prints the naive policy reproduced per cell and
// counts the cells where the pacer is under it in its JSON line.
func TestBenchDialerNaive(t *testing.T) {
	bin := build(t)
	out, err := runCmd(t, bin, nil, "bench", "dialer", "--cell", "25/0.3/60", "--reps", "1", "--hours", "0.5", "--naive")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	if !strings.Contains(out, "naive predictive reproduced") || !strings.Contains(out, "25/0.3/60") {
		t.Fatalf("no naive table:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	if v, ok := res["cells_below_naive"].(float64); !ok || v < 0 || v > 1 {
		t.Fatalf("cells_below_naive = %v", res["cells_below_naive"])
	}
	// Without --naive the key is absent rather than a misleading 0.
	out, err = runCmd(t, bin, nil, "bench", "dialer", "--cell", "25/0.3/60", "--reps", "1", "--hours", "0.25")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	if strings.Contains(out, "cells_below_naive") || strings.Contains(out, "naive predictive reproduced") {
		t.Fatalf("naive figures without --naive:\n%s", out)
	}
}
