package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/centralita/centralita/internal/routing/loadgen"
)

func benchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Measure parts of the system in-process"}
	c.AddCommand(benchRoutingCmd())
	c.AddCommand(benchDialerCmd())
	c.AddCommand(benchSIPCmd())
	return c
}

func benchRoutingCmd() *cobra.Command {
	cfg := loadgen.Default()
	c := &cobra.Command{
		Use:   "routing",
		Short: "Routing decisions per second and decision latency of the ACD engine",
		Long: `Runs the ACD engine in-process with a synthetic contact center (agents in
several queues, every routing strategy, skills, a constant number of waiting
interactions) and drives decisions: agents become available, are offered an
interaction, accept it, and it is replaced by a new one.

Two phases: "saturated" cycles every agent as fast as possible (throughput);
"paced" makes agents available at --rate per second (latency at that load).
Decision latency runs from the triggering input to the Offer callback.
The last line of the output is a JSON object.`,
		Args: cobra.NoArgs,
	}
	f := c.Flags()
	f.IntVar(&cfg.Agents, "agents", cfg.Agents, "agents")
	f.IntVar(&cfg.Queues, "queues", cfg.Queues, "queues")
	f.IntVar(&cfg.Skills, "skills", cfg.Skills, "distinct skills")
	f.IntVar(&cfg.Waiting, "waiting", cfg.Waiting, "interactions kept waiting")
	f.IntVar(&cfg.QueuesPerAgent, "queues-per-agent", cfg.QueuesPerAgent, "queues each agent is a member of")
	f.IntVar(&cfg.SkillsPerQueue, "skills-per-queue", cfg.SkillsPerQueue, "skills each queue's interactions draw from")
	f.IntVar(&cfg.Decisions, "decisions", cfg.Decisions, "decisions measured per phase")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "paced phase: agents made available per second (0 skips the phase)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of the contact center")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		res, err := loadgen.Run(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		return printRoutingBench(cmd.OutOrStdout(), res)
	}
	return c
}

func printRoutingBench(w io.Writer, r loadgen.Result) error {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	host, _ := os.Hostname()
	cfg := r.Config
	fmt.Fprintf(w, "routing bench: %d agents, %d queues (%d per agent), %d skills, %d waiting; %s %s/%s, GOMAXPROCS %d, host %s\n",
		cfg.Agents, cfg.Queues, cfg.QueuesPerAgent, cfg.Skills, cfg.Waiting, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), host)
	fmt.Fprintf(w, "setup (queues, agents, %d interactions enqueued): %v\n\n", cfg.Waiting, r.Setup.Round(time.Millisecond))
	fmt.Fprintf(w, "%-18s %10s %10s %14s %9s %9s %9s %9s %9s %8s\n", "phase", "decisions", "elapsed", "decisions/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs", "timeouts")
	phases := []loadgen.Phase{r.Saturated}
	if r.Paced != nil {
		phases = append(phases, *r.Paced)
	}
	for _, p := range phases {
		fmt.Fprintf(w, "%-18s %10d %10v %14.0f %9.1f %9.1f %9.1f %9.1f %9.1f %8d\n", p.Name, p.Decisions, p.Elapsed.Round(time.Millisecond),
			p.PerSecond, us(p.P50), us(p.P90), us(p.P99), us(p.P999), us(p.Max), p.Timeouts)
	}
	fmt.Fprintf(w, "\nheap after GC at the end: %.1f MB (before the engine was built: %.1f MB, the driver's timing arrays); waiting at the end: %d\n",
		r.HeapMB, r.BaseHeapMB, r.Waiting)
	lat := r.Saturated
	if r.Paced != nil {
		lat = *r.Paced
		if r.Paced.Starved > 0 {
			fmt.Fprintf(w, "paced phase: %d triggers skipped, no agent free\n", r.Paced.Starved)
		}
	}
	fmt.Fprintf(w, "decisions_per_second: saturated phase; p50/p99: %s phase\n", lat.Name)
	out := map[string]any{
		"decisions_per_second": round(r.Saturated.PerSecond, 0),
		"p50_us":               round(us(lat.P50), 1),
		"p99_us":               round(us(lat.P99), 1),
		"p999_us":              round(us(lat.P999), 1),
		"max_us":               round(us(lat.Max), 1),
		"latency_phase":        lat.Name,
		"saturated_p50_us":     round(us(r.Saturated.P50), 1),
		"saturated_p99_us":     round(us(r.Saturated.P99), 1),
		"heap_mb":              round(r.HeapMB, 1),
		"engine_heap_mb":       round(r.HeapMB-r.BaseHeapMB, 1),
		"agents":               cfg.Agents,
		"queues":               cfg.Queues,
		"skills":               cfg.Skills,
		"waiting":              cfg.Waiting,
		"decisions":            r.Saturated.Decisions,
		"gomaxprocs":           runtime.GOMAXPROCS(0),
		"go":                   runtime.Version(),
	}
	if r.Paced != nil {
		out["paced_rate"] = cfg.Rate
		out["paced_decisions_per_second"] = round(r.Paced.PerSecond, 0)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
