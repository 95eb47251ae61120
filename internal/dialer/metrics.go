package dialer

import "github.com/prometheus/client_golang/prometheus"

// metrics are the dialer's counters, by campaign id.
type metrics struct {
	placed, live, abandoned, connected *prometheus.CounterVec
}

func newMetrics() metrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"campaign"})
	}
	return metrics{
		placed:    vec("centralita_dialer_calls_placed_total", "Calls the dialer placed (customer first or agent first)."),
		live:      vec("centralita_dialer_live_answers_total", "Customer-first calls answered by a person."),
		abandoned: vec("centralita_dialer_abandoned_total", "Live answers no agent took within 2 s (the abandon message played)."),
		connected: vec("centralita_dialer_connected_total", "Live answers connected to an agent."),
	}
}

// Register adds the dialer's metrics to reg.
func (e *Engine) Register(reg prometheus.Registerer) {
	reg.MustRegister(e.m.placed, e.m.live, e.m.abandoned, e.m.connected)
}
