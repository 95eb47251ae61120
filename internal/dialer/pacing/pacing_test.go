package pacing

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func durs(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestFormulas(t *testing.T) {
	s := Snapshot{Now: t0, Idle: 5, Busy: durs(3, time.Minute), InFlight: durs(2, 5*time.Second)}
	cases := []struct {
		cfg  Config
		want int
	}{
		{Config{Mode: Preview}, 0},
		{Config{Mode: Progressive}, 3},
		{Config{Mode: Power, Ratio: 2.5}, 11}, // ceil(12.5) − 2
		{Config{Mode: Power, Ratio: 1}, 3},
	}
	for _, c := range cases {
		if got := New(c.cfg, t0).Calls(s); got != c.want {
			t.Errorf("%s ratio %v: %d calls, want %d", c.cfg.Mode, c.cfg.Ratio, got, c.want)
		}
	}
	s.InFlight = durs(9, time.Second)
	if got := New(Config{Mode: Progressive}, t0).Calls(s); got != 0 {
		t.Errorf("progressive with more in flight than idle: %d", got)
	}
}

// feed gives the pacer a history of n resolved calls at hit rate p, all
// live answers connected, handle times around aht.
func feed(p *Pacer, now time.Time, n int, hit float64, aht time.Duration, rng *rand.Rand) {
	for i := 0; i < n; i++ {
		p.Placed(now)
		if rng.Float64() < hit {
			p.Answered(now, time.Duration((5+15*rng.Float64())*float64(time.Second)), true)
			p.Connected(now, 0)
			p.Handled(now, time.Duration(rng.ExpFloat64()*float64(aht)))
		} else {
			p.Failed(now, time.Duration((3+22*rng.Float64())*float64(time.Second)))
		}
	}
}

func TestPredictiveNeverBelowProgressive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := New(Config{Mode: Predictive}, t0)
	prog := New(Config{Mode: Progressive}, t0)
	feed(p, t0, 3000, 0.3, 2*time.Minute, rng)
	over := false
	for i := 0; i < 2000; i++ {
		idle := rng.IntN(30)
		s := Snapshot{Now: t0.Add(time.Duration(i) * time.Second), Idle: idle, Waiting: rng.IntN(3)}
		for j := rng.IntN(60); j > 0; j-- {
			s.Busy = append(s.Busy, time.Duration(rng.IntN(600))*time.Second)
		}
		for j := rng.IntN(80); j > 0; j-- {
			s.InFlight = append(s.InFlight, time.Duration(rng.IntN(25000))*time.Millisecond)
		}
		got, want := p.Calls(s), prog.Calls(s)
		if got < want {
			t.Fatalf("snapshot %d: predictive %d < progressive %d", i, got, want)
		}
		if got > want {
			over = true
		}
	}
	if !over {
		t.Error("predictive never dialed more than progressive")
	}
}

// At or over the cap (one more abandonment would break it, or calls placed
// earlier already did): a small team is exactly progressive; a team of 20
// or more keeps placing calls of negligible risk only, fewer than at normal
// pacing, since progressive pacing brings so few live answers that its
// rate took far longer by the clock to get back under the cap.
func TestAtCapBySizeAndOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := New(Config{Mode: Predictive}, t0)
	feed(p, t0, 1000, 0.3, 2*time.Minute, rng)
	small := Snapshot{Now: t0, Idle: 2, Busy: durs(8, 100*time.Second), InFlight: durs(1, time.Second)}
	large := Snapshot{Now: t0, Idle: 2, Busy: durs(48, 100*time.Second), InFlight: durs(1, time.Second)}
	normal := p.Calls(large)
	if st := p.Stats(t0); st.State != StateNormal || st.Threshold <= softTheta {
		t.Fatalf("no abandonment: pacing %s at θ %.4f, want normal above the soft θ", st.State, st.Threshold)
	}
	if normal <= 1 || p.Calls(small) <= 1 {
		t.Fatalf("with no abandonment predictive placed %d (50 agents), want more than progressive", normal)
	}
	live := p.Stats(t0).LiveToday
	for i := 0; i < int(math.Ceil(0.03*float64(live))); i++ {
		p.Abandoned(t0)
	}
	st := p.Stats(t0)
	if !st.AtRisk {
		t.Fatalf("at %d/%d abandoned the cap is not at risk", st.AbandonedToday, st.LiveToday)
	}
	if n := p.Calls(small); n != 1 || p.Stats(t0).State != StateProgressive {
		t.Fatalf("10 agents at the cap: predictive placed %d (%s), want progressive's 1", n, p.Stats(t0).State)
	}
	if n := p.Calls(large); n < 1 || n >= normal || p.Stats(t0).State != StateSoft {
		t.Fatalf("50 agents at the cap: predictive placed %d (%s), want soft pacing: progressive's 1 up to fewer than normal pacing's %d", n, p.Stats(t0).State, normal)
	}
	// Over the cap (calls placed earlier abandoned), with many agents free.
	p.Abandoned(t0)
	if n := p.Calls(Snapshot{Now: t0, Idle: 10, Busy: durs(5, 100*time.Second)}); n != 10 {
		t.Fatalf("15 agents over the cap: predictive placed %d, want progressive's 10", n)
	}
	wide := Snapshot{Now: t0, Idle: 40, Busy: durs(10, 100*time.Second)}
	soft := p.Calls(wide)
	if soft <= 40 {
		t.Fatalf("50 agents, 40 free, over the cap: predictive placed %d, want more than progressive's 40", soft)
	}
	fresh := New(Config{Mode: Predictive}, t0)
	feed(fresh, t0, 1000, 0.3, 2*time.Minute, rand.New(rand.NewPCG(3, 4)))
	if n := fresh.Calls(wide); n <= soft {
		t.Fatalf("normal pacing placed %d, over the cap %d: want the soft pacing more cautious", n, soft)
	}
}

func TestDaysRestoreAndWindow(t *testing.T) {
	p := New(Config{Mode: Predictive}, t0)
	p.Answered(t0, 10*time.Second, true)
	p.Abandoned(t0)
	p.Answered(t0, 10*time.Second, true)
	days := []Day{{Date: "2026-10-01", Live: 500, Abandoned: 9}, {Date: "2026-11-10", Live: 100, Abandoned: 2}, {Date: "2026-11-22", Live: 50, Abandoned: 1}}
	q := New(Config{Mode: Predictive}, t0)
	q.Restore(append(p.Days(), days...))
	got := q.Days()
	want := []Day{{Date: "2026-11-10", Live: 100, Abandoned: 2}, {Date: "2026-11-22", Live: 50, Abandoned: 1}, {Date: "2026-11-23", Live: 2, Abandoned: 1}}
	if len(got) != len(want) {
		t.Fatalf("days %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("days %+v, want %+v", got, want)
		}
	}
	st := q.Stats(t0)
	if st.LiveToday != 2 || st.AbandonedToday != 1 || st.Live30d != 152 || st.Abandoned30d != 4 {
		t.Fatalf("stats %+v", st)
	}
	// 2026-11-10 leaves the window on 2026-12-10 (30 days: 11-11 … 12-10).
	st = q.Stats(time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC))
	if st.Live30d != 52 || st.Abandoned30d != 2 {
		t.Fatalf("30 days later: %+v", st)
	}
	if d := q.Days(); d[0].Date != "2026-11-22" {
		t.Fatalf("old days kept: %+v", d)
	}
}

func TestLocationDay(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Skip(err)
	}
	p := New(Config{Mode: Progressive, Location: madrid}, t0)
	late := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) // 00:30 on the 24th in Madrid
	p.Answered(late, time.Second, true)
	if d := p.Days(); d[len(d)-1].Date != "2026-11-24" {
		t.Fatalf("days %+v", d)
	}
}

func TestEstimatorsConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := New(Config{Mode: Predictive}, t0)
	feed(p, t0, 20000, 0.35, 90*time.Second, rng)
	st := p.Stats(t0)
	if math.Abs(st.HitRate-0.35) > 0.04 {
		t.Errorf("hit rate %.3f, want 0.35", st.HitRate)
	}
	if d := st.AnswerDelay.Seconds(); math.Abs(d-12.5) > 1 {
		t.Errorf("answer delay %.1f s, want 12.5", d)
	}
	if a := st.AHT.Seconds(); math.Abs(a-90) > 10 {
		t.Errorf("AHT %.1f s, want 90", a)
	}
	// A step change is followed within a few thousand calls.
	feed(p, t0, 4000, 0.15, 90*time.Second, rng)
	if h := p.Stats(t0).HitRate; math.Abs(h-0.15) > 0.04 {
		t.Errorf("after the step the hit rate is %.3f, want 0.15", h)
	}
	// The in-flight model: a call unanswered for 19 s is less likely to be
	// a live answer to come than a fresh one.
	p.rebuild(t0.Add(time.Hour), false)
	fresh, old := p.inflight[2][kPoints-1], p.inflight[38][kPoints-1]
	if !(old < fresh) {
		t.Errorf("P(live within the horizon): fresh %.3f, 19 s old %.3f", fresh, old)
	}
}

// BenchmarkCalls: a predictive decision with 300 calls in flight and 100
// busy agents.
func BenchmarkCalls(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	p := New(Config{Mode: Predictive}, t0)
	feed(p, t0, 5000, 0.1, 2*time.Minute, rng)
	s := Snapshot{Now: t0, Idle: 3, Waiting: 0}
	for i := 0; i < 300; i++ {
		s.InFlight = append(s.InFlight, time.Duration(rng.IntN(25000))*time.Millisecond)
	}
	for i := 0; i < 97; i++ {
		s.Busy = append(s.Busy, time.Duration(rng.IntN(300))*time.Second)
	}
	p.Calls(s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Calls(s)
	}
}

// A Model carried over (through JSON) gives a new pacer the same estimates;
// the abandonment record is not part of it.
func TestModelCarryOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a := New(Config{Mode: Predictive}, t0)
	feed(a, t0, 5000, 0.25, 100*time.Second, rng)
	a.Abandoned(t0)
	b, err := json.Marshal(a.Model())
	if err != nil {
		t.Fatal(err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	c := New(Config{Mode: Predictive}, t0.Add(24*time.Hour))
	c.SetModel(m)
	sa, sc := a.Stats(t0), c.Stats(t0.Add(24*time.Hour))
	if math.Abs(sa.HitRate-sc.HitRate) > 1e-9 || sa.AHT != sc.AHT || sa.AnswerDelay != sc.AnswerDelay {
		t.Errorf("estimates differ: %+v vs %+v", sa, sc)
	}
	if sc.LiveToday != 0 || sc.AbandonedToday != 0 || sc.Live30d != 0 {
		t.Errorf("abandonment record carried over: %+v", sc)
	}
	a.rebuild(t0.Add(time.Hour), false)
	c.rebuild(t0.Add(25*time.Hour), false)
	for k := range a.tau {
		if math.Abs(a.tau[k]-c.tau[k]) > 1e-6 {
			t.Errorf("τ_%d: %v vs %v", k, a.tau[k], c.tau[k])
		}
		for i := range a.inflight {
			if math.Abs(float64(a.inflight[i][k]-c.inflight[i][k])) > 1e-5 {
				t.Fatalf("in-flight table [%d][%d]: %v vs %v", i, k, a.inflight[i][k], c.inflight[i][k])
			}
		}
	}
	// Garbage is ignored.
	d := New(Config{Mode: Predictive}, t0)
	before := d.Stats(t0)
	d.SetModel(Model{HitAll: math.NaN(), LiveDelay: []float64{1, 2}})
	if after := d.Stats(t0); after.HitRate != before.HitRate || after.AnswerDelay != before.AnswerDelay {
		t.Errorf("invalid model changed the estimates: %+v", after)
	}
}

// At the start of a day, with no live answers yet (so the cap is at risk)
// and nothing abandoned, predictive places only calls of negligible risk
// judged with a pessimistic hit rate: more than progressive when many agents
// are free, fewer when the hit rate seen so far is high, fewer than at
// normal pacing; and exactly progressive once the day has an abandonment.
func TestSoftStartOfDay(t *testing.T) {
	yesterday := t0.Add(-24 * time.Hour)
	start := func(hit float64) int {
		rng := rand.New(rand.NewPCG(9, 10))
		p := New(Config{Mode: Predictive}, yesterday)
		feed(p, yesterday, 2000, hit, time.Minute, rng)
		st := p.Stats(t0)
		if st.LiveToday != 0 || !st.AtRisk || st.Live30d == 0 {
			t.Fatalf("hit %.1f: the day does not start clean: %+v", hit, st)
		}
		return p.Calls(Snapshot{Now: t0, Idle: 100})
	}
	low, high := start(0.1), start(0.5)
	if low <= 100 || high < 100 || high >= low {
		t.Fatalf("start of day with 100 agents free: %d calls at hit rate 0.1, %d at 0.5; want 100 < 0.5's ≤ 0.1's", low, high)
	}
	// With no history at all (the priors: 0.2 over ten calls, upper bound
	// about 0.5) still more than progressive, but cautious.
	fresh := New(Config{Mode: Predictive}, t0).Calls(Snapshot{Now: t0, Idle: 100})
	if fresh <= 100 || fresh > 250 {
		t.Fatalf("fresh pacer, 100 agents free: %d calls, want 101–250", fresh)
	}
	// Once a day has live answers to spare, pacing is normal and bolder.
	rng := rand.New(rand.NewPCG(9, 10))
	p := New(Config{Mode: Predictive}, t0)
	feed(p, t0, 2000, 0.1, time.Minute, rng)
	if n := p.Calls(Snapshot{Now: t0, Idle: 100}); n <= low {
		t.Fatalf("normal pacing placed %d, the soft start %d", n, low)
	}
	// An abandonment early in the day: a small team is exactly
	// progressive until the cap has room again; a large one paces softly,
	// with the estimated hit rate rather than its upper bound.
	q := New(Config{Mode: Predictive}, t0)
	feed(q, yesterday, 2000, 0.1, time.Minute, rand.New(rand.NewPCG(9, 10)))
	for i := 0; i < 20; i++ {
		q.Answered(t0, 10*time.Second, true)
	}
	q.Abandoned(t0)
	if n := q.Calls(Snapshot{Now: t0, Idle: 10}); n != 10 {
		t.Fatalf("1 of 20 abandoned, 10 agents: %d calls, want progressive's 10", n)
	}
	if n := q.Calls(Snapshot{Now: t0, Idle: 100}); n <= low {
		t.Fatalf("1 of 20 abandoned, 100 agents: %d calls, want more than the pessimistic soft start's %d", n, low)
	}
}

// Later in a day, within one abandonment of the cap but not over it: a
// team of 20 agents or more keeps placing calls of negligible risk, a
// smaller one falls back to exactly progressive.
func TestSoftAtCapBySize(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	p := New(Config{Mode: Predictive}, t0)
	feed(p, t0, 3000, 0.3, time.Minute, rng)
	live := p.Stats(t0).LiveToday
	for i := 0; i < int(0.03*float64(live)); i++ { // abandoned ≤ cap × live < abandoned + 1
		p.Abandoned(t0)
	}
	if st := p.Stats(t0); !st.AtRisk || float64(st.AbandonedToday) > 0.03*float64(st.LiveToday) {
		t.Fatalf("not within one abandonment of the cap: %+v", st)
	}
	if n := p.Calls(Snapshot{Now: t0, Idle: 30}); n <= 30 {
		t.Errorf("30 agents free at the cap: %d calls, want more than progressive's 30", n)
	}
	if n := p.Calls(Snapshot{Now: t0, Idle: 10, Busy: durs(5, time.Minute)}); n != 10 {
		t.Errorf("15 agents at the cap: %d calls, want progressive's 10", n)
	}
}

// With few agents and calls the risk is the exact binomial one: with only
// idle agents and a fixed θ, the count placed is the first n at which
// mean_k P(Bin(n, p·F_L(τ_k)) ≥ idle) exceeds θ.
func TestExactRiskSmallTeam(t *testing.T) {
	for _, idle := range []int{1, 2, 3, 5} {
		rng := rand.New(rand.NewPCG(11, 12))
		p := New(Config{Mode: Predictive, Threshold: 0.05}, t0)
		feed(p, t0, 3000, 0.3, time.Minute, rng)
		got := p.Calls(Snapshot{Now: t0, Idle: idle})
		risk := func(n int) float64 {
			r := 0.0
			for k := 0; k < kPoints; k++ {
				f := p.newF[k]
				// P(Bin(n, f) ≥ idle) = 1 − Σ_{j<idle} C(n,j) f^j (1−f)^(n−j)
				c := 0.0
				for j := 0; j < idle && j <= n; j++ {
					lg, _ := math.Lgamma(float64(n + 1))
					lj, _ := math.Lgamma(float64(j + 1))
					lnj, _ := math.Lgamma(float64(n - j + 1))
					c += math.Exp(lg - lj - lnj + float64(j)*math.Log(f) + float64(n-j)*math.Log1p(-f))
				}
				r += 1 - c
			}
			return r / kPoints
		}
		want := 0
		for risk(want) <= 0.05 {
			want++
		}
		if want < idle {
			want = idle
		}
		if got != want {
			t.Errorf("%d idle: placed %d, exact binomial rule says %d (risk %.4f at %d)", idle, got, want, risk(want), want)
		}
	}
}
