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

func TestParseDialerStep(t *testing.T) {
	s, err := parseDialerStep("0.3@2h", 8*time.Hour)
	if err != nil || s != (dialersim.Step{At: 2 * time.Hour, P: 0.3}) {
		t.Fatalf("0.3@2h: %+v, %v", s, err)
	}
	for _, bad := range []string{"", "0.3", "0@2h", "1.5@2h", "x@2h", "0.3@", "0.3@-1h", "0.3@8h", "0.3@9h", "0.3@soon"} {
		if _, err := parseDialerStep(bad, 8*time.Hour); err == nil || !strings.Contains(err.Error(), "--step") {
			t.Errorf("%q: err %v, want a --step error", bad, err)
		}
	}
}

// `bench dialer --step` prints how pacing followed the step and adds its
// figures to the JSON line; without it, only the peak and the steps
// noticed (none on steady customers) are there.
func TestBenchDialerStep(t *testing.T) {
	bin := build(t)
	last := func(out string) map[string]any {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var res map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
			t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
		}
		return res
	}
	out, err := runCmd(t, bin, nil, "bench", "dialer", "--cell", "25/0.1/120", "--reps", "1", "--hours", "1", "--step", "0.3@30m")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	if !strings.Contains(out, "after the step to p = 0.3") {
		t.Fatalf("no step table:\n%s", out)
	}
	res := last(out)
	if v, ok := res["step_reconverge_max_s"].(float64); !ok || v <= 0 || v > 1800 {
		t.Errorf("step_reconverge_max_s = %v", res["step_reconverge_max_s"])
	}
	if _, ok := res["step_window_abandon_pct_max"].(float64); !ok {
		t.Errorf("step_window_abandon_pct_max = %v", res["step_window_abandon_pct_max"])
	}
	if v, ok := res["hit_rate_changes"].(float64); !ok || v < 1 {
		t.Errorf("hit_rate_changes = %v after a step", res["hit_rate_changes"])
	}
	out, err = runCmd(t, bin, nil, "bench", "dialer", "--cell", "25/0.1/120", "--reps", "1", "--hours", "0.5")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	res = last(out)
	if _, ok := res["step_reconverge_max_s"]; ok {
		t.Errorf("step figures without --step: %v", res)
	}
	if v, ok := res["peak_day_abandon_pct"].(float64); !ok || v < 0 {
		t.Errorf("peak_day_abandon_pct = %v", res["peak_day_abandon_pct"])
	}
	if v, ok := res["cells_below_baseline_beyond_noise"].(float64); !ok || v < 0 || v > res["cells_below_baseline"].(float64) {
		t.Errorf("cells_below_baseline_beyond_noise = %v (cells_below_baseline %v)", res["cells_below_baseline_beyond_noise"], res["cells_below_baseline"])
	}
	if !strings.Contains(out, " noise ") {
		t.Errorf("no noise column:\n%s", out)
	}
	if v, ok := res["hit_rate_changes"].(float64); !ok || v != 0 {
		t.Errorf("hit_rate_changes = %v on steady customers", res["hit_rate_changes"])
	}
	if out, err := runCmd(t, bin, nil, "bench", "dialer", "--cell", "25/0.1/120", "--step", "0.3@9h"); err == nil || !strings.Contains(out, "--step") {
		t.Errorf("a step after the shift: %v\n%s", err, out)
	}
}
