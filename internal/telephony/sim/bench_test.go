package sim_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/sim"
)

const benchPairs = 5000 // 10 000 legs

// bridgedPairs sets up n customers (injected, answered) each bridged to an
// agent phone (originated, answered), returning the legs; events are read
// by a goroutine as the demo's consumer would.
func bridgedPairs(tb testing.TB, s *sim.Switch, n int) []string {
	legs := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		c := s.InjectCall("+34600000000", "900100200", sim.Caller{})
		if err := s.Answer(ctx, c); err != nil {
			tb.Fatal(err)
		}
		a, err := s.Originate(ctx, telephony.OriginateRequest{To: stationNames[i], From: "+34600000000"})
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.AnswerPhone(a); err != nil {
			tb.Fatal(err)
		}
		if err := s.Bridge(ctx, c, a); err != nil {
			tb.Fatal(err)
		}
		legs = append(legs, c, a)
	}
	return legs
}

var stationNames = func() []string {
	out := make([]string, benchPairs)
	for i := range out {
		out[i] = fmt.Sprintf("station:%d", 100000+i)
	}
	return out
}()

// consume reads the switch's events in a goroutine, counting them.
func consume(s *sim.Switch) (done chan struct{}, n *atomic.Uint64) {
	done, n = make(chan struct{}), new(atomic.Uint64)
	go func() {
		for range s.Events() {
			n.Add(1)
		}
		close(done)
	}()
	return done, n
}

// BenchmarkBridge10k: one op sets up 10 000 simultaneous legs — 5 000
// customers answered and bridged to 5 000 agent phones that rang and
// answered (about 30 000 events) — then closes the switch, hanging all of
// them up (another 15 000 events). The real clock is used as in the
// program; no timer fires during the op. Reports time per leg and, from a
// separate measurement, the live heap per bridged leg.
func BenchmarkBridge10k(b *testing.B) {
	// Live memory: heap in use with 10k bridged legs, after GC.
	var liveBytes float64
	{
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := sim.New(clock.Real{}, sim.Options{})
		done, read := consume(s)
		legs := bridgedPairs(b, s, benchPairs)
		for read.Load() < s.Emitted() { // let the reader catch up: no backlog in the figure
			runtime.Gosched()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		liveBytes = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(legs))
		s.Close()
		<-done
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := sim.New(clock.Real{}, sim.Options{})
		done, _ := consume(s)
		bridgedPairs(b, s, benchPairs)
		s.Close()
		<-done
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(2*benchPairs), "ns/leg")
	b.ReportMetric(liveBytes, "live-B/leg")
}

// BenchmarkHears is the media question on a busy switch: 10 000 bridged
// legs, one Hears between partners per op.
func BenchmarkHears(b *testing.B) {
	s := sim.New(clock.Real{}, sim.Options{})
	done, _ := consume(s)
	legs := bridgedPairs(b, s, benchPairs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := (i % benchPairs) * 2
		if !s.Hears(legs[j], legs[j+1]) {
			b.Fatal("partners do not hear each other")
		}
	}
	b.StopTimer()
	s.Close()
	<-done
}
