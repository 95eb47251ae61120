package dialersim

import (
	"math"
	"time"
)

// Grid axes of `centralita bench dialer`.
var (
	GridAgents = []int{5, 10, 25, 50, 100}
	GridP      = []float64{0.1, 0.2, 0.3, 0.5}
	GridAHT    = []time.Duration{60 * time.Second, 120 * time.Second, 300 * time.Second}
)

// Grid is every cell, by AHT, then agents, then p.
func Grid() []Cell {
	var out []Cell
	for _, aht := range GridAHT {
		for _, n := range GridAgents {
			for _, p := range GridP {
				out = append(out, Cell{Agents: n, P: p, AHT: aht})
			}
		}
	}
	return out
}

// QuickGrid is the --quick subset: agents {10, 100} × p {0.1, 0.3} × AHT 120 s.
func QuickGrid() []Cell {
	var out []Cell
	for _, n := range []int{10, 100} {
		for _, p := range []float64{0.1, 0.3} {
			out = append(out, Cell{Agents: n, P: p, AHT: 120 * time.Second})
		}
	}
	return out
}

// Baseline is one cell of the reference notes' §3.5 tables: occupancy (%)
// of progressive and of the naive predictive policy tuned offline to 3 %
// abandonment.
type Baseline struct {
	Progressive, Predictive float64
}

// baseline[aht seconds][agents index][p index], as printed in §3.5.
var baseline = map[int][5][4]Baseline{
	120: {
		{{47.6, 62.6}, {63.8, 63.8}, {72.3, 72.3}, {81.9, 81.9}},
		{{46.4, 74.7}, {63.5, 76.1}, {72.6, 75.6}, {81.8, 81.8}},
		{{46.9, 85.4}, {64.1, 86.5}, {72.3, 86.8}, {81.7, 87.9}},
		{{46.2, 91.2}, {63.6, 91.4}, {72.4, 91.7}, {81.8, 92.6}},
		{{46.5, 94.8}, {63.4, 95.0}, {72.6, 95.1}, {81.9, 95.5}},
	},
	300: {
		{{69.6, 75.8}, {81.1, 84.6}, {87.0, 88.6}, {91.8, 91.8}},
		{{69.1, 80.0}, {80.7, 85.2}, {86.3, 89.4}, {91.6, 92.4}},
		{{68.1, 89.1}, {81.2, 89.6}, {86.8, 90.8}, {91.8, 91.8}},
		{{68.3, 92.8}, {81.4, 93.4}, {86.8, 93.1}, {91.7, 93.8}},
		{{68.3, 95.6}, {81.2, 95.8}, {86.8, 95.9}, {91.8, 96.3}},
	},
	60: {
		{{30.8, 57.3}, {46.4, 59.0}, {57.6, 57.6}, {68.9, 68.9}},
		{{30.7, 70.0}, {46.8, 71.9}, {57.3, 72.7}, {69.4, 75.9}},
		{{30.2, 83.7}, {46.7, 84.3}, {57.1, 84.6}, {69.4, 86.3}},
		{{30.1, 90.2}, {46.8, 90.4}, {56.9, 90.8}, {69.2, 91.5}},
		{{30.1, 94.7}, {46.6, 94.8}, {56.9, 95.1}, {69.2, 95.4}},
	},
}

// BaselineFor returns the §3.5 figures of a grid cell.
func BaselineFor(c Cell) (Baseline, bool) {
	t, ok := baseline[int(c.AHT/time.Second)]
	if !ok {
		return Baseline{}, false
	}
	ai, pi := -1, -1
	for i, n := range GridAgents {
		if n == c.Agents {
			ai = i
		}
	}
	for i, p := range GridP {
		if math.Abs(p-c.P) < 1e-9 {
			pi = i
		}
	}
	if ai < 0 || pi < 0 {
		return Baseline{}, false
	}
	return t[ai][pi], true
}
