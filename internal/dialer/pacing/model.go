package pacing

import (
	"math"
	"time"
)

// Model is a JSON-serializable snapshot of a predictive pacer's learned
// estimates (not its abandonment record, which Days and Restore carry):
// the live-answer rate, the two delay histograms and the handle time. The
// abandonment controller's state (θ) is not part of it: it starts afresh
// with each day's record. A campaign carries it over from one shift to
// the next so that a new shift starts from what the previous one learned
// rather than from the priors. Every figure in it comes from observations
// (Placed, Answered, Failed, Handled, Abandoned) and the priors of New.
type Model struct {
	HitLive   float64   `json:"hit_live"`   // decayed live answers
	HitAll    float64   `json:"hit_all"`    // decayed resolved calls
	LiveDelay []float64 `json:"live_delay"` // weights of 0.5 s bins, live answer delays
	DeadDelay []float64 `json:"dead_delay"` // weights of 0.5 s bins, non-live resolution delays
	DelaySum  float64   `json:"delay_sum"`  // decayed sum of live delays, seconds
	DelayW    float64   `json:"delay_w"`
	AHTSum    float64   `json:"aht_sum"` // decayed sum of handle times, seconds
	AHTW      float64   `json:"aht_w"`
	Handled   int       `json:"handled"`    // calls handled
	HandleSum float64   `json:"handle_sum"` // their handle time, seconds
}

// Model returns the learned estimates (see Model).
func (p *Pacer) Model() Model {
	norm := func(h *hist) []float64 {
		out := make([]float64, len(h.w))
		for i, v := range h.w {
			out[i] = v / h.inc // in units of the newest observation
		}
		return out
	}
	return Model{
		HitLive: p.hit.live, HitAll: p.hit.all,
		LiveDelay: norm(&p.liveDelay), DeadDelay: norm(&p.deadDelay),
		DelaySum: p.delaySum, DelayW: p.delW,
		AHTSum: p.ahtSum, AHTW: p.ahtW,
		Handled: p.handled, HandleSum: p.handledSum,
	}
}

// SetModel replaces the learned estimates with m (e.g. the previous shift's
// Model); the abandonment record is untouched. Invalid parts (wrong
// histogram length, non-positive weights, NaN) are ignored and keep the
// current estimates.
func (p *Pacer) SetModel(m Model) {
	ok := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) }
	if ok(m.HitAll) && m.HitLive >= 0 && m.HitLive <= m.HitAll {
		p.hit.live, p.hit.all = m.HitLive, m.HitAll
	}
	setHist := func(h *hist, w []float64) {
		if len(w) != len(h.w) {
			return
		}
		t := 0.0
		for _, v := range w {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return
			}
			t += v
		}
		if !ok(t) {
			return
		}
		copy(h.w, w)
		h.total, h.inc = t, 1
	}
	setHist(&p.liveDelay, m.LiveDelay)
	setHist(&p.deadDelay, m.DeadDelay)
	if ok(m.DelaySum) && ok(m.DelayW) {
		p.delaySum, p.delW = m.DelaySum, m.DelayW
	}
	if ok(m.AHTSum) && ok(m.AHTW) {
		p.ahtSum, p.ahtW = m.AHTSum, m.AHTW
	}
	if m.Handled > 0 && ok(m.HandleSum) {
		p.handled, p.handledSum = m.Handled, m.HandleSum
	}
	p.dirty = true
	p.builtAt = time.Time{} // rebuild at the next decision
}
