package loadgen

import (
	"context"
	"testing"
	"time"
)

// A small run completes, keeps the number waiting constant and measures
// every decision.
func TestRunSmall(t *testing.T) {
	cfg := Config{Agents: 50, Queues: 12, Skills: 6, Waiting: 300, QueuesPerAgent: 3, SkillsPerQueue: 2, Decisions: 2000, Rate: 5000, Seed: 3}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Saturated.Decisions != cfg.Decisions || r.Saturated.PerSecond <= 0 || r.Saturated.P99 <= 0 || r.Saturated.Timeouts != 0 {
		t.Fatalf("saturated %+v", r.Saturated)
	}
	// Every trigger is decided, or skipped because no agent was free, or
	// left an agent idle at the end (timing decides which, not the count).
	p := r.Paced
	if p == nil || p.Decisions == 0 || p.Decisions+p.Starved+cfg.Agents < cfg.Decisions || p.P50 <= 0 || p.P50 > p.P99 || p.P99 > p.Max {
		t.Fatalf("paced %+v", p)
	}
	if r.Waiting != cfg.Waiting || r.HeapMB <= 0 {
		t.Fatalf("waiting %d, heap %.1f MB", r.Waiting, r.HeapMB)
	}
}

// The whole engine, loop and callbacks included, at the reference size.
//
//	go test ./internal/routing/loadgen -run XXX -bench . -benchtime 200000x
func BenchmarkEngine(b *testing.B) {
	cfg := Default()
	cfg.Decisions, cfg.Rate = max(b.N, 1000), 0
	r, err := Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.Saturated.PerSecond, "decisions/s")
	b.ReportMetric(float64(r.Saturated.P99.Microseconds()), "p99-µs-saturated")
	b.ReportMetric(r.HeapMB, "heap-MB")
	b.ReportMetric(0, "ns/op")
}
