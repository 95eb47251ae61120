package sipbench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony/sip/siptest"
)

// The quick bench end to end: every phase completes its calls with none
// failed, RTP flows in the concurrent phase and the memory figure is
// measured. (Figures themselves are not asserted: the machine is shared.)
func TestQuickBench(t *testing.T) {
	siptest.RequireSIPp(t)
	cfg := Quick()
	if testing.Short() {
		cfg.AnsweredCalls, cfg.BridgedCalls, cfg.Concurrent = 100, 30, 20
	}
	cfg.Progress = testWriter{t}
	if d := os.Getenv("CENTRALITA_SIP_BENCH_DIR"); d != "" {
		cfg.Dir = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Phase{res.Answered, res.Bridged, res.Concurrent.Phase} {
		if p.Failed != 0 || p.Completed != p.Calls {
			t.Errorf("%s: %d of %d completed, %d failed: %s (causes %v)", p.Name, p.Completed, p.Calls, p.Failed, p.Note, p.Causes)
		}
		if p.PerSecond <= 0 {
			t.Errorf("%s: no rate measured", p.Name)
		}
	}
	c := res.Concurrent
	if c.Peak != cfg.Concurrent {
		t.Errorf("concurrent peak %d, want %d", c.Peak, cfg.Concurrent)
	}
	if c.RSSBeforeKB <= 0 || c.RSSWhileKB <= 0 {
		t.Errorf("RSS not measured: %+v", c)
	}
	// each bridged call moves ~200 datagrams/s (customer → switch → agent
	// → switch → customer at 50 packets/s); ask for a quarter of it
	if min := float64(cfg.Concurrent) * 50; c.UDPInPerSecond < min {
		t.Errorf("%.0f UDP datagrams/s received with %d calls up, want ≥ %.0f: is RTP relayed?", c.UDPInPerSecond, c.Peak, min)
	}
	if res.Failed != 0 {
		t.Errorf("failed calls %d", res.Failed)
	}
	t.Logf("answered %.0f/s, bridged %.0f/s, %d concurrent, %.1f kB per bridged call, %.0f UDP/s",
		res.Answered.PerSecond, res.Bridged.PerSecond, c.Peak, c.KBPerCall, c.UDPInPerSecond)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
