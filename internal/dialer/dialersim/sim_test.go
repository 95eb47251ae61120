package dialersim

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/dialer/pacing"
)

// One small cell for one simulated hour: predictive keeps abandonment
// within 3 % and gets more out of the agents than progressive; progressive
// never abandons; a run is deterministic for its seed.
func TestSmallCell(t *testing.T) {
	c := Cell{Agents: 25, P: 0.3, AHT: 120 * time.Second}
	prog := Simulate(Config{Mode: pacing.Progressive, Cell: c, Shift: time.Hour, Seed: 42})
	pred := Simulate(Config{Mode: pacing.Predictive, Cell: c, Shift: time.Hour, Seed: 42})
	t.Logf("progressive: occupancy %.1f %%, %d live, %d placed", 100*prog.Occupancy, prog.Live, prog.Placed)
	t.Logf("predictive:  occupancy %.1f %%, abandoned %.2f %% (%d/%d), %d placed", 100*pred.Occupancy, pred.AbandonPct, pred.Abandoned, pred.Live, pred.Placed)
	if prog.Abandoned != 0 {
		t.Errorf("progressive abandoned %d calls", prog.Abandoned)
	}
	if pred.AbandonPct > 3 {
		t.Errorf("predictive abandonment %.2f %% > 3 %%", pred.AbandonPct)
	}
	if pred.Occupancy <= prog.Occupancy {
		t.Errorf("predictive occupancy %.3f not above progressive %.3f", pred.Occupancy, prog.Occupancy)
	}
	if pred.Live == 0 || pred.Events == 0 || pred.PacerCalls == 0 {
		t.Errorf("nothing happened: %+v", pred)
	}
	again := Simulate(Config{Mode: pacing.Predictive, Cell: c, Shift: time.Hour, Seed: 42})
	if !reflect.DeepEqual(again, pred) {
		t.Errorf("not deterministic:\n%+v\n%+v", pred, again)
	}
}

// The handle time by hour adds up to the shift's, and a replication's
// hourly occupancies average to its occupancy.
func TestHourlyHandle(t *testing.T) {
	c := Cell{Agents: 10, P: 0.3, AHT: 120 * time.Second}
	r := RunCell(pacing.Predictive, c, 2, 150*time.Minute, 7, pacing.Config{})
	var sum time.Duration
	for _, d := range r.HourlyHandle {
		sum += d
	}
	if sum != r.HandleTime || r.HandleTime == 0 {
		t.Fatalf("hourly handle time adds up to %v, the shift's is %v", sum, r.HandleTime)
	}
	occ := r.HourlyOccupancy()
	if len(occ) != 3 {
		t.Fatalf("%d hourly figures for a 2.5 h shift, want 3", len(occ))
	}
	weighted := (occ[0] + occ[1] + occ[2]/2) / 2.5
	if d := weighted - r.Occupancy; d > 1e-9 || d < -1e-9 || occ[2] == 0 {
		t.Fatalf("hourly occupancies %v weigh to %.6f, the shift's is %.6f", occ, weighted, r.Occupancy)
	}
}

// repsOf adds up replications with these occupancies.
func repsOf(occ ...float64) Result {
	return runReps(len(occ), func(rep int) Result {
		res := Result{Reps: 1, HandleTime: time.Duration(occ[rep] * 1e9), LoggedIn: time.Second}
		res.finish()
		return res
	})
}

// A cell's occupancy is the mean of its replications', and its standard
// error their spread over √reps.
func TestOccupancySE(t *testing.T) {
	occ := []float64{0.90, 0.92, 0.94}
	r := repsOf(occ...)
	if d := r.Occupancy - 0.92; d > 1e-9 || d < -1e-9 {
		t.Errorf("occupancy %.6f, want the mean 0.92", r.Occupancy)
	}
	if want := 0.02 / math.Sqrt(3); math.Abs(r.OccupancySE()-want) > 1e-9 {
		t.Errorf("se %.6f, want %.6f", r.OccupancySE(), want)
	}
	if se := runReps(1, func(int) Result { return Result{Reps: 1} }).OccupancySE(); se != 0 {
		t.Errorf("one replication: se %v, want 0", se)
	}
}

// A cell under the baseline is beyond noise only when it is further under
// than two standard errors of its mean.
func TestBelowBaselineBeyondNoise(t *testing.T) {
	cell := func(occ ...float64) CellResult {
		r := CellResult{HasBaseline: true, Baseline: Baseline{Predictive: 92}}
		r.Predictive = repsOf(occ...)
		return r
	}
	for _, tc := range []struct {
		name         string
		r            CellResult
		below, noisy bool
	}{
		{"above", cell(0.92, 0.93), false, false},
		{"under, spread wide", cell(0.90, 0.935), true, false},    // 91.75, se 1.75: noise 3.5
		{"under, just within", cell(0.9155, 0.9205), true, false}, // 91.8, se 0.25: noise 0.5
		{"under, spread narrow", cell(0.910, 0.912), true, true},  // 91.1, se 0.1: noise 0.2
		{"one replication", cell(0.919), true, true},
		{"no baseline", CellResult{Predictive: Result{Occupancy: 0.5}}, false, false},
	} {
		if got := tc.r.BelowBaseline(); got != tc.below {
			t.Errorf("%s: BelowBaseline %v, want %v", tc.name, got, tc.below)
		}
		if got := tc.r.BelowBaselineBeyondNoise(); got != tc.noisy {
			t.Errorf("%s: BelowBaselineBeyondNoise %v (noise %.2f), want %v", tc.name, got, tc.r.BaselineNoise(), tc.noisy)
		}
	}
}

func TestBaselineTable(t *testing.T) {
	if n := len(Grid()); n != 60 {
		t.Fatalf("grid has %d cells", n)
	}
	for _, c := range Grid() {
		b, ok := BaselineFor(c)
		if !ok || b.Predictive < b.Progressive-0.5 || b.Progressive < 30 {
			t.Errorf("%+v: %+v %v", c, b, ok)
		}
	}
	if b, _ := BaselineFor(Cell{Agents: 100, P: 0.3, AHT: 120 * time.Second}); b.Predictive != 95.1 {
		t.Errorf("100/0.3/120: %+v", b)
	}
}

func TestEventClock(t *testing.T) {
	c := newEventClock(Start)
	var got []int
	c.AfterFunc(2*time.Second, func() { got = append(got, 2) })
	stop := c.AfterFunc(time.Second, func() { got = append(got, 99) })
	c.AfterFunc(time.Second, func() {
		got = append(got, 1)
		c.AfterFunc(0, func() { got = append(got, 10) })
	})
	if !stop.Stop() || stop.Stop() {
		t.Fatal("Stop")
	}
	for {
		at, ok := c.next()
		if !ok {
			break
		}
		for c.fireAt(at) {
		}
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 10 || got[2] != 2 || !c.Now().Equal(Start.Add(2*time.Second)) {
		t.Fatalf("fired %v, now %v", got, c.Now())
	}
}

// A step in the customers' live-answer rate (0.1 → 0.3, the dangerous
// way: the calls in flight answer three times as often) is noticed and
// followed within minutes, and the day stays under the cap. With the
// decayed hit-rate counts alone, this cell's estimate was not within 10 %
// of the new rate an hour later.
func TestStepFollowed(t *testing.T) {
	c := Cell{Agents: 25, P: 0.1, AHT: 120 * time.Second}
	step := Step{At: time.Hour, P: 0.3}
	r := RunCellStep(pacing.Predictive, c, 2, 2*time.Hour, 0, 1, pacing.Config{}, step)
	if r.HitRateChanges < r.Reps {
		t.Errorf("%d steps noticed in %d replications", r.HitRateChanges, r.Reps)
	}
	if mean := r.StepReconverge / time.Duration(r.Reps); mean > 10*time.Minute {
		t.Errorf("hit rate within 10 %% of 0.3 after %v on average, want ≤ 10 min", mean)
	}
	if r.StepLive == 0 || r.AbandonPct > 3 {
		t.Errorf("after the step %d live answers; the day abandoned %.2f %%", r.StepLive, r.AbandonPct)
	}
	// Steady customers: nothing noticed.
	still := RunCellStep(pacing.Predictive, c, 2, 2*time.Hour, 0, 1, pacing.Config{}, Step{})
	if still.HitRateChanges != 0 || still.StepLive != 0 || still.StepReconverge != 0 {
		t.Errorf("no step: %d changes noticed, %d live answers and %v counted after a step", still.HitRateChanges, still.StepLive, still.StepReconverge)
	}
}
