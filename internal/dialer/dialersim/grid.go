package dialersim

import (
	"runtime"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
)

// CellResult is one cell of a grid run: both modes and the §3.5 baseline.
type CellResult struct {
	Cell        Cell
	Progressive Result
	Predictive  Result
	Baseline    Baseline
	HasBaseline bool
	// Naive is the §3.5 naive policy reproduced on the same customers
	// (GridOptions.Naive); nil when not run.
	Naive *Tuned
}

// BelowBaseline: predictive occupancy under the baseline's predictive
// column (compared unrounded against the printed figure).
func (r CellResult) BelowBaseline() bool {
	return r.HasBaseline && 100*r.Predictive.Occupancy < r.Baseline.Predictive
}

// BaselineNoise is how far under the baseline a cell's predictive
// occupancy can fall by the luck of its replications alone, in occupancy
// points: two standard errors of its mean. The printed figure is taken as
// exact, though it is itself one draw of a policy over 4 replications
// (its spread is unknown: reproduced with --naive, the policy's own is
// smaller than the pacer's, while the table differs from the reproduction
// by more), so this is the stricter test.
func (r CellResult) BaselineNoise() float64 {
	return 100 * 2 * r.Predictive.OccupancySE()
}

// BelowBaselineBeyondNoise: below the baseline by more than BaselineNoise.
func (r CellResult) BelowBaselineBeyondNoise() bool {
	return r.HasBaseline && 100*r.Predictive.Occupancy < r.Baseline.Predictive-r.BaselineNoise()
}

// BelowProgressive: predictive occupancy under progressive on the same
// customers.
func (r CellResult) BelowProgressive() bool {
	return r.Predictive.Occupancy < r.Progressive.Occupancy
}

// BelowNaive: predictive occupancy under the naive policy reproduced on
// the same customers (false when it was not run).
func (r CellResult) BelowNaive() bool {
	return r.Naive != nil && r.Predictive.Occupancy < r.Naive.Result.Occupancy
}

// GridOptions configures RunGrid.
type GridOptions struct {
	Cells []Cell
	Reps  int           // replications per cell and mode (default 4)
	Shift time.Duration // default 8 hours
	// Warmup, when positive, precedes every predictive replication with an
	// uncounted warm-up shift of that length whose learned estimates are
	// carried over (RunCellWarm).
	Warmup  time.Duration
	Seed    uint64
	Workers int // parallel replications (default GOMAXPROCS)
	Pacing  pacing.Config
	// Naive also reproduces the §3.5 naive policy on every cell, its α
	// bisected on the cell's own replications (TuneNaive: about a dozen
	// shifts per cell, so it multiplies the run time by about six).
	Naive bool
	// Step, when its At is positive, changes the customers' live-answer
	// rate during every counted shift (both modes).
	Step Step
	// Done, when set, is called (from one goroutine at a time) as each cell
	// completes.
	Done func(CellResult)
}

// RunGrid simulates every cell in both modes (and the naive policy when
// asked), cells and modes in parallel; results come back in the order of
// opts.Cells and do not depend on the number of workers.
func RunGrid(opts GridOptions) []CellResult {
	if opts.Reps <= 0 {
		opts.Reps = 4
	}
	if opts.Shift <= 0 {
		opts.Shift = 8 * time.Hour
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	out := make([]CellResult, len(opts.Cells))
	for i, c := range opts.Cells {
		out[i].Cell = c
		out[i].Baseline, out[i].HasBaseline = BaselineFor(c)
	}
	type job struct{ cell, mode int }
	jobs := make(chan job)
	var mu sync.Mutex
	left := make([]int, len(opts.Cells))
	for i := range left {
		left[i] = 2
		if opts.Naive {
			left[i] = 3
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j.mode == 2 {
					t := TuneNaive(opts.Cells[j.cell], opts.Reps, opts.Shift, opts.Seed)
					mu.Lock()
					out[j.cell].Naive = &t
					left[j.cell]--
					if left[j.cell] == 0 && opts.Done != nil {
						opts.Done(out[j.cell])
					}
					mu.Unlock()
					continue
				}
				mode := pacing.Progressive
				if j.mode == 1 {
					mode = pacing.Predictive
				}
				r := RunCellStep(mode, opts.Cells[j.cell], opts.Reps, opts.Shift, opts.Warmup, opts.Seed, opts.Pacing, opts.Step)
				mu.Lock()
				if j.mode == 1 {
					out[j.cell].Predictive = r
				} else {
					out[j.cell].Progressive = r
				}
				left[j.cell]--
				if left[j.cell] == 0 && opts.Done != nil {
					opts.Done(out[j.cell])
				}
				mu.Unlock()
			}
		}()
	}
	// Biggest cells first so the tail of the run stays parallel.
	order := make([]int, len(opts.Cells))
	for i := range order {
		order[i] = i
	}
	weight := func(c Cell) float64 { return float64(c.Agents) / c.P / c.AHT.Seconds() }
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && weight(opts.Cells[order[j]]) > weight(opts.Cells[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	if opts.Naive { // the longest jobs first
		for _, i := range order {
			jobs <- job{i, 2}
		}
	}
	for _, i := range order {
		jobs <- job{i, 1}
		jobs <- job{i, 0}
	}
	close(jobs)
	wg.Wait()
	return out
}
