package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/centralita/centralita/internal/dialer/dialersim"
	"github.com/centralita/centralita/internal/dialer/pacing"
)

func benchDialerCmd() *cobra.Command {
	var (
		quick   bool
		reps    int
		seed    uint64
		hours   float64
		workers int
		target  float64
		warmup  float64
		only    []string
		hourly  bool
		naive   bool
		stepArg string
	)
	c := &cobra.Command{
		Use:   "dialer",
		Short: "Dialer simulation: progressive vs predictive pacing against the simulated switch",
		Long: `Runs the dialer's pacer (internal/dialer/pacing) against the simulated switch
on a discrete-event clock over the grid agents {5, 10, 25, 50, 100} × live-answer
probability {0.1, 0.2, 0.3, 0.5} × average handle time {60, 120, 300 s}, in
progressive and predictive mode, with the customer model of the reference notes
(§3.5): live answer with probability p after U(5, 20) s, else busy or rejected
after U(3, 25) s; exponential handle time; a live answer waits at most 2 s for an
agent, else it is abandoned (prompt, hang up). Each cell runs --reps
replications of a --hours shift; progressive and predictive see the same
customers.

Prints occupancy (handle time / logged-in time), abandonment (% of live
answers) and talk-minutes per agent-hour for both modes next to the §3.5
baseline; the last line is a JSON object. --quick runs agents {10, 100} ×
p {0.1, 0.3} × AHT 120 s, 1 replication. --cell agents/p/aht (repeatable, e.g.
--cell 100/0.1/60) runs only the given cells, with --reps replications.
--naive also reproduces §3.5's naive predictive policy on every cell, on the
same customers, its α bisected on the cell's own replications to the largest
value within 3 % abandonment (about six times the run time).
--step p@duration (e.g. 0.3@2h) changes every cell's live-answer probability
to p that far into each shift, and prints how pacing followed: the day's
abandonment, its peak running rate, abandonment in the 10 minutes after the
step and how long the pacer's hit-rate estimate took to come within 10 % of
the new rate.`,
		Args: cobra.NoArgs,
	}
	f := c.Flags()
	f.BoolVar(&quick, "quick", false, "a subset: agents {10,100} × p {0.1,0.3} × AHT 120 s, 1 replication (unless given)")
	f.IntVar(&reps, "reps", 4, "replications per cell and mode")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.Float64Var(&hours, "hours", 8, "shift length in hours")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "replications run in parallel")
	f.Float64Var(&warmup, "warmup", 0, "predictive: hours of an uncounted warm-up shift before each replication whose learned estimates (pacing.Model) carry over, as the live dialer carries them from a previous shift; 0: cold start")
	f.StringArrayVar(&only, "cell", nil, "run only this cell, agents/p/aht-seconds (e.g. 100/0.1/60); repeatable")
	f.BoolVar(&hourly, "hourly", false, "also print predictive occupancy by hour of the shift (a shift's start against its steady state)")
	f.BoolVar(&naive, "naive", false, "also reproduce §3.5's naive predictive policy on the same customers, α tuned in hindsight per cell (about 6× the run time)")
	f.StringVar(&stepArg, "step", "", "p@duration: every cell's live-answer probability becomes p that far into the shift (e.g. 0.3@2h)")
	f.Float64Var(&target, "target", 0, "predictive abandonment target in % of live answers (0: 0.95 × the 3 % cap, under a guard band)")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		cells := dialersim.Grid()
		if quick {
			cells = dialersim.QuickGrid()
			if !f.Changed("reps") {
				reps = 1
			}
		}
		if len(only) > 0 {
			if quick {
				return fmt.Errorf("--cell and --quick: give one or the other")
			}
			cells = cells[:0]
			for _, spec := range only {
				c, err := parseDialerCell(spec)
				if err != nil {
					return err
				}
				cells = append(cells, c)
			}
		}
		if reps < 1 || hours <= 0 || warmup < 0 {
			return fmt.Errorf("--reps must be ≥ 1, --hours > 0 and --warmup ≥ 0")
		}
		shift := time.Duration(hours * float64(time.Hour))
		var step dialersim.Step
		if stepArg != "" {
			var err error
			if step, err = parseDialerStep(stepArg, shift); err != nil {
				return err
			}
		}
		w := cmd.OutOrStdout()
		host, _ := os.Hostname()
		fmt.Fprintf(w, "dialer bench: %d cells × 2 modes × %d replications of %g h (predictive after a %g h warm-up), seed %d; %s %s/%s, GOMAXPROCS %d, %d workers, host %s\n",
			len(cells), reps, hours, warmup, seed, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), workers, host)
		start := time.Now()
		res := dialersim.RunGrid(dialersim.GridOptions{
			Cells:   cells,
			Reps:    reps,
			Shift:   shift,
			Warmup:  time.Duration(warmup * float64(time.Hour)),
			Seed:    seed,
			Workers: workers,
			Pacing:  pacing.Config{Target: target / 100},
			Naive:   naive,
			Step:    step,
		})
		if hourly {
			printDialerHourly(w, res)
		}
		if naive {
			printDialerNaive(w, res)
		}
		if step.At > 0 {
			printDialerStep(w, res, step)
		}
		return printDialerBench(w, res, warmup, time.Since(start))
	}
	return c
}

// parseDialerCell reads a --cell value: agents/p/aht-seconds, e.g.
// 100/0.1/60. Cells off the grid are allowed (they have no baseline).
func parseDialerCell(spec string) (dialersim.Cell, error) {
	bad := func(why string) (dialersim.Cell, error) {
		return dialersim.Cell{}, fmt.Errorf("--cell %q: %s (want agents/p/aht-seconds, e.g. 100/0.1/60)", spec, why)
	}
	parts := strings.Split(spec, "/")
	if len(parts) != 3 {
		return bad("not three fields separated by /")
	}
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n < 1 {
		return bad("agents must be a whole number ≥ 1")
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err != nil || !(p > 0 && p <= 1) {
		return bad("p must be a number in (0, 1]")
	}
	aht, err := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
	if err != nil || !(aht >= 1 && aht <= 86400) {
		return bad("aht must be a number of seconds in [1, 86400]")
	}
	return dialersim.Cell{Agents: n, P: p, AHT: time.Duration(aht * float64(time.Second))}, nil
}

// parseDialerStep reads a --step value: p@duration, e.g. 0.3@2h.
func parseDialerStep(spec string, shift time.Duration) (dialersim.Step, error) {
	bad := func(why string) (dialersim.Step, error) {
		return dialersim.Step{}, fmt.Errorf("--step %q: %s (want p@duration, e.g. 0.3@2h)", spec, why)
	}
	ps, ds, ok := strings.Cut(spec, "@")
	if !ok {
		return bad("no @ between the new p and when")
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(ps), 64)
	if err != nil || !(p > 0 && p <= 1) {
		return bad("p must be a number in (0, 1]")
	}
	at, err := time.ParseDuration(strings.TrimSpace(ds))
	if err != nil || at <= 0 || at >= shift {
		return bad(fmt.Sprintf("when must be a duration inside the %v shift", shift))
	}
	return dialersim.Step{At: at, P: p}, nil
}

// printDialerStep prints how predictive pacing followed the step.
func printDialerStep(w io.Writer, res []dialersim.CellResult, st dialersim.Step) {
	fmt.Fprintf(w, "\npredictive after the step to p = %g at %v: day abandonment, its peak running rate (once the day has %d live answers), abandonment in the %v after the step, hit-rate estimate within 10 %% after (mean over replications), steps noticed per replication\n",
		st.P, st.At, dialersim.PeakFrom, dialersim.StepWindow)
	fmt.Fprintf(w, "%15s | %7s %7s | %12s %8s | %11s %7s\n", "cell", "aband", "peak", "after step", "aband", "reconverge", "noticed")
	for _, r := range res {
		pd := r.Predictive
		ab := 0.0
		if pd.StepLive > 0 {
			ab = 100 * float64(pd.StepAbandoned) / float64(pd.StepLive)
		}
		fmt.Fprintf(w, "%4d/%.1f/%-4.0f    | %6.2f%% %6.2f%% | %5d/%6d %7.2f%% | %11v %7.1f\n",
			r.Cell.Agents, r.Cell.P, r.Cell.AHT.Seconds(), pd.AbandonPct, pd.PeakDayPct, pd.StepAbandoned, pd.StepLive, ab,
			(pd.StepReconverge / time.Duration(pd.Reps)).Round(time.Second), float64(pd.HitRateChanges)/float64(pd.Reps))
	}
}

// printDialerHourly prints each cell's predictive occupancy by hour of the
// shift and over the hours after the first.
func printDialerHourly(w io.Writer, res []dialersim.CellResult) {
	fmt.Fprintf(w, "\npredictive occupancy by hour of the shift (%%), and over hours 2 on\n")
	for _, r := range res {
		occ := r.Predictive.HourlyOccupancy()
		fmt.Fprintf(w, "%3d/%.1f/%-4.0f |", r.Cell.Agents, r.Cell.P, r.Cell.AHT.Seconds())
		for _, o := range occ {
			fmt.Fprintf(w, " %5.2f", 100*o)
		}
		if len(occ) > 1 {
			rest := r.Predictive.HandleTime - r.Predictive.HourlyHandle[0]
			span := time.Duration(r.Cell.Agents*r.Predictive.Reps) * (r.Predictive.Shift - time.Hour)
			fmt.Fprintf(w, " | 2–%d: %5.2f", len(occ), 100*float64(rest)/float64(span))
		}
		fmt.Fprintln(w)
	}
}

// printDialerNaive prints the naive policy reproduced on each cell next to
// the pacer and to the §3.5 table.
func printDialerNaive(w io.Writer, res []dialersim.CellResult) {
	fmt.Fprintf(w, "\n§3.5 naive predictive reproduced on the same customers (α bisected per cell to ≤ %.0f %% abandonment)\n", dialersim.NaiveCap)
	fmt.Fprintf(w, "%15s | %7s %8s %5s %7s | %8s %5s %8s | %11s %11s\n", "cell", "α", "occ", "se", "aband", "pred occ", "se", "Δ naive", "table pred", "naive−table")
	for _, r := range res {
		if r.Naive == nil {
			continue
		}
		n := r.Naive.Result
		table, diff := "—", ""
		if r.HasBaseline {
			table = fmt.Sprintf("%.1f", r.Baseline.Predictive)
			diff = fmt.Sprintf("%+.2f", 100*n.Occupancy-r.Baseline.Predictive)
		}
		mark := ""
		if r.BelowNaive() {
			mark = " BELOW-NAIVE"
		}
		fmt.Fprintf(w, "%4d/%.1f/%-4.0f    | %7.4f %7.2f%% %5.2f %6.2f%% | %7.2f%% %5.2f %+8.2f | %11s %11s%s\n",
			r.Cell.Agents, r.Cell.P, r.Cell.AHT.Seconds(), r.Naive.Naive.Alpha, 100*n.Occupancy, 100*n.OccupancySE(), n.AbandonPct,
			100*r.Predictive.Occupancy, 100*r.Predictive.OccupancySE(), 100*(r.Predictive.Occupancy-n.Occupancy), table, diff, mark)
	}
}

func printDialerBench(w io.Writer, res []dialersim.CellResult, warmup float64, elapsed time.Duration) error {
	var (
		maxAb, maxRepAb, occ100 float64
		occ100Found             bool
		below, belowProg        int
		belowNoise              int
		belowNaive, naiveCells  int
		events                  uint64
		placed                  int
		peak                    float64
		changes                 int
		reconverge              time.Duration
		stepAb                  float64
		step                    bool
	)
	lastAHT := time.Duration(-1)
	for _, r := range res {
		c := r.Cell
		if c.AHT != lastAHT {
			lastAHT = c.AHT
			fmt.Fprintf(w, "\nAHT %v\n", c.AHT)
			fmt.Fprintf(w, "%6s %4s | %8s %8s | %8s %5s %7s %7s %7s %8s | %17s | %6s %6s %s\n",
				"agents", "p", "prog occ", "talk/h", "pred occ", "se", "aband", "max rep", "peak", "talk/h", "baseline prog/pred", "Δ base", "noise", "")
		}
		pr, pd := r.Progressive, r.Predictive
		base := "—"
		delta, noise := "", ""
		if r.HasBaseline {
			base = fmt.Sprintf("%.1f / %.1f", r.Baseline.Progressive, r.Baseline.Predictive)
			delta = fmt.Sprintf("%+.2f", 100*pd.Occupancy-r.Baseline.Predictive)
			noise = fmt.Sprintf("%.2f", r.BaselineNoise())
		}
		mark := ""
		if r.BelowBaseline() {
			mark += " BELOW-BASELINE"
			below++
			if r.BelowBaselineBeyondNoise() {
				mark += " BEYOND-NOISE"
				belowNoise++
			}
		}
		if r.BelowProgressive() {
			mark += " BELOW-PROGRESSIVE"
			belowProg++
		}
		fmt.Fprintf(w, "%6d %4.1f | %7.1f%% %8.1f | %7.2f%% %5.2f %6.2f%% %6.2f%% %6.2f%% %8.1f | %17s | %6s %6s%s\n",
			c.Agents, c.P, 100*pr.Occupancy, pr.TalkMinPerAgentHour, 100*pd.Occupancy, 100*pd.OccupancySE(), pd.AbandonPct, pd.MaxRepAbandonPct, pd.PeakDayPct, pd.TalkMinPerAgentHour, base, delta, noise, mark)
		maxAb = max(maxAb, pd.AbandonPct, pr.AbandonPct)
		maxRepAb = max(maxRepAb, pd.MaxRepAbandonPct, pr.MaxRepAbandonPct)
		if c.Agents == 100 && c.P == 0.3 && c.AHT == 120*time.Second {
			occ100, occ100Found = 100*pd.Occupancy, true
		}
		if r.Naive != nil {
			naiveCells++
			if r.BelowNaive() {
				belowNaive++
			}
		}
		peak = max(peak, pd.PeakDayPct)
		changes += pd.HitRateChanges
		if pd.StepLive > 0 || pd.StepReconverge > 0 {
			step = true
			reconverge = max(reconverge, pd.StepReconverge/time.Duration(pd.Reps))
			if pd.StepLive > 0 {
				stepAb = max(stepAb, 100*float64(pd.StepAbandoned)/float64(pd.StepLive))
			}
		}
		events += pr.Events + pd.Events
		placed += pr.Placed + pd.Placed
	}
	fmt.Fprintf(w, "\noccupancy = handle time / logged-in time; aband = abandoned / live answers over the cell's replications (max rep: the worst replication; peak: the day's highest running rate once it had %d live answers, worst replication); talk/h = talk-minutes per agent-hour; se = standard error of pred occ over the replications; noise = 2·se, how far under the baseline a cell can fall by the luck of its replications (BEYOND-NOISE: further; the baseline taken as exact)\n", dialersim.PeakFrom)
	fmt.Fprintf(w, "%d calls placed, %d switch events, %v wall clock\n", placed, events, elapsed.Round(time.Millisecond))
	out := map[string]any{
		"max_abandon_pct":                   round(maxAb, 2),
		"max_rep_abandon_pct":               round(maxRepAb, 2),
		"cells_below_baseline":              below,
		"cells_below_baseline_beyond_noise": belowNoise,
		"cells_below_progressive":           belowProg,
		"cells":                             len(res),
		"calls_placed":                      placed,
		"switch_events":                     events,
		"elapsed_s":                         round(elapsed.Seconds(), 1),
		"peak_day_abandon_pct":              round(peak, 2),
		"hit_rate_changes":                  changes,
	}
	if step {
		out["step_reconverge_max_s"] = round(reconverge.Seconds(), 1)
		out["step_window_abandon_pct_max"] = round(stepAb, 2)
	}
	if naiveCells > 0 {
		out["cells_below_naive"] = belowNaive
	}
	if occ100Found {
		out["occupancy_100_p03_aht120"] = round(occ100, 1)
	} else {
		out["occupancy_100_p03_aht120"] = nil
	}
	if len(res) > 0 {
		out["reps"] = res[0].Predictive.Reps
		out["hours"] = res[0].Predictive.Shift.Hours()
		out["warmup_hours"] = warmup
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
