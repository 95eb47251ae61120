// Package sipbench measures the SIP switch with SIPp on loopback, for
// `centralita bench sip`: the switch (package sip, with its registrar)
// runs in this process on 127.0.0.1, SIPp runs beside it.
//
// Three phases, each on a fresh switch (run in the order concurrent,
// answered, bridged):
//
//   - answered: SIPp customers call through the trunk at a rate; the bench
//     answers every Incoming (consuming the switch's Events as the
//     platform would) and SIPp hangs up after a short pause. Calls
//     answered per second.
//   - bridged: a full back-to-back call. A SIPp UAS registers as station
//     2001 (digest auth) and then answers, echoing RTP (-rtp_echo); for
//     each customer call the bench originates to station:2001, answers the
//     customer when the station answers, and bridges the two legs; the customer streams a PCMU tone (rtp_stream)
//     that the switch relays to the agent and back, then hangs up, and the
//     bench hangs the agent leg up. Calls bridged per second.
//   - concurrent: the bridged flow with long calls, until the target
//     number of bridged calls is up at once with RTP flowing; the process's
//     resident memory (VmRSS) is sampled before and while, giving
//     kilobytes per bridged call.
//
// A call counts as failed unless every leg of it ended with a normal
// hangup after being answered (and, in the bridged phases, bridged), and
// SIPp counted it successful.
package sipbench

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/sip"
	"github.com/centralita/centralita/internal/telephony/sip/siptest"
)

//go:embed scenarios/*.xml
var scenarios embed.FS

const (
	station         = "2001"
	stationPassword = "bench"
)

// Config sizes the three phases.
type Config struct {
	AnsweredRate  int           // calls offered per second
	AnsweredCalls int           // calls offered
	AnsweredHold  time.Duration // how long SIPp keeps each answered call

	BridgedRate  int
	BridgedCalls int
	BridgedHold  time.Duration // customer talk time (RTP) once answered

	Concurrent     int           // bridged calls to hold at once (0 skips the phase)
	ConcurrentRate int           // calls per second while ramping up
	ConcurrentHold time.Duration // customer talk time: long enough to overlap them all

	// Progress, when set, gets a line per phase step.
	Progress io.Writer
	// Dir keeps SIPp's traces; a temporary directory (removed) when empty.
	Dir string
}

// Default is the full bench (about a minute of calls).
func Default() Config {
	return Config{
		AnsweredRate: 1000, AnsweredCalls: 10000, AnsweredHold: 100 * time.Millisecond,
		BridgedRate: 250, BridgedCalls: 2500, BridgedHold: time.Second,
		Concurrent: 500, ConcurrentRate: 100, ConcurrentHold: 12 * time.Second,
	}
}

// Quick is a small run (under 30 s) that exercises every phase.
func Quick() Config {
	return Config{
		AnsweredRate: 200, AnsweredCalls: 400, AnsweredHold: 100 * time.Millisecond,
		BridgedRate: 50, BridgedCalls: 100, BridgedHold: 500 * time.Millisecond,
		Concurrent: 50, ConcurrentRate: 50, ConcurrentHold: 4 * time.Second,
	}
}

// Phase is the outcome of the answered or bridged phase.
type Phase struct {
	Name      string
	Rate      int // offered calls per second
	Calls     int // offered calls
	Completed int // calls that went through every step and ended normally
	Failed    int
	// PerSecond is the achieved rate: answered (or bridged) calls over the
	// time from the first Incoming to the last Answered (or Bridged).
	PerSecond       float64
	Span            time.Duration
	Elapsed         time.Duration // SIPp's run
	Retransmissions int           // SIP retransmissions SIPp counted
	Causes          map[string]int
	Note            string // why calls failed, when they did
}

// Concurrent is the outcome of the concurrent phase.
type Concurrent struct {
	Target, Peak    int // bridged calls aimed at / up at once at most
	Phase           Phase
	RSSBeforeKB     int64 // VmRSS with the switch idle, after a GC returned free memory
	RSSWhileKB      int64 // largest VmRSS sampled with Peak calls up
	KBPerCall       float64
	HeapBeforeKB    int64 // Go heap in use (runtime.MemStats.HeapInuse) at the same moments
	HeapWhileKB     int64
	UDPInPerSecond  float64 // UDP datagrams received on the machine while Peak calls were up
	SampledFor      time.Duration
	GoroutinesWhile int
}

// Result of a bench run.
type Result struct {
	Config     Config
	Answered   Phase
	Bridged    Phase
	Concurrent Concurrent
	Failed     int
	Elapsed    time.Duration
}

// Run runs the phases in order. It needs sipp on PATH.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.AnsweredCalls <= 0 || cfg.AnsweredRate <= 0 || cfg.BridgedCalls <= 0 || cfg.BridgedRate <= 0 {
		return Result{}, errors.New("sipbench: rates and call counts must be positive")
	}
	if _, err := osexec.LookPath("sipp"); err != nil {
		return Result{}, fmt.Errorf("sipbench: sipp not found (Debian package sip-tester): %w", err)
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "centralita-bench-sip-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := writeFiles(dir); err != nil {
		return Result{}, err
	}
	b := &bench{cfg: cfg, dir: dir}
	start := time.Now()
	res := Result{Config: cfg}
	var err error
	// The memory phase first, in a process that has not yet grown its
	// heap and stacks for the throughput phases (memory it would reuse).
	if cfg.Concurrent > 0 {
		if res.Concurrent, err = b.concurrent(ctx); err != nil {
			return res, err
		}
	}
	if res.Answered, err = b.answered(ctx); err != nil {
		return res, err
	}
	if res.Bridged, err = b.bridged(ctx, "bridged", cfg.BridgedRate, cfg.BridgedCalls, cfg.BridgedHold, nil); err != nil {
		return res, err
	}
	res.Failed = res.Answered.Failed + res.Bridged.Failed + res.Concurrent.Phase.Failed
	res.Elapsed = time.Since(start)
	return res, nil
}

type bench struct {
	cfg Config
	dir string
	seq int
}

func (b *bench) logf(format string, args ...any) {
	if b.cfg.Progress != nil {
		fmt.Fprintf(b.cfg.Progress, format+"\n", args...)
	}
}

// writeFiles puts the scenarios and the tone the customers stream in dir.
func writeFiles(dir string) error {
	ents, err := scenarios.ReadDir("scenarios")
	if err != nil {
		return err
	}
	for _, e := range ents {
		data, err := scenarios.ReadFile("scenarios/" + e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	// 1 s of a 440 Hz PCMU tone, raw (160 bytes per 20 ms packet), looped
	tone := audio.EncodePCMU(nil, audio.Tone(440, 6000, audio.SampleRate, nil))
	return os.WriteFile(filepath.Join(dir, "bench_tone.ulaw"), tone, 0o644)
}

// sipp runs a scenario in a fresh trace directory under b.dir.
func (b *bench) sipp(scenario, remote string, port int, timeout time.Duration, args ...string) (siptest.SIPp, error) {
	b.seq++
	d := filepath.Join(b.dir, fmt.Sprintf("%02d-%s", b.seq, strings.TrimSuffix(scenario, ".xml")))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return siptest.SIPp{}, err
	}
	files := []string{}
	if strings.Contains(scenario, "rtp") {
		files = append(files, filepath.Join(b.dir, "bench_tone.ulaw"))
	}
	return siptest.SIPp{Scenario: filepath.Join(b.dir, scenario), Remote: remote, Port: port, Dir: d,
		Timeout: timeout, Files: files, Args: args}, nil
}

// creds is the directory of the bench: station 2001.
type creds struct{}

func (creds) StationPassword(_ context.Context, name string) (string, error) {
	if name == station {
		return stationPassword, nil
	}
	return "", sip.ErrUnknownStation
}

// newSwitch starts a quiet switch taking calls from 127.0.0.1.
func newSwitch() (*sip.Switch, *sip.Registrar, error) {
	quiet := slog.New(slog.DiscardHandler)
	reg, err := sip.New(sip.Config{Credentials: creds{}, Logger: quiet})
	if err != nil {
		return nil, nil, err
	}
	sw, err := sip.NewSwitch(sip.Options{Listen: "127.0.0.1:0", Registrar: reg, Trunks: []sip.Trunk{{Name: "bench", Address: "127.0.0.1", Inbound: true}},
		Logger: quiet})
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	return sw, reg, nil
}

// ---------------------------------------------------------------- answered --

func (b *bench) answered(ctx context.Context) (Phase, error) {
	cfg := b.cfg
	ph := Phase{Name: "answered", Rate: cfg.AnsweredRate, Calls: cfg.AnsweredCalls, Causes: map[string]int{}}
	sw, reg, err := newSwitch()
	if err != nil {
		return ph, err
	}
	defer reg.Close()
	defer sw.Close()

	type call struct{ answered bool }
	calls := map[string]*call{}
	var first, last time.Time
	var answered, done, failed int
	var mu sync.Mutex
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for ev := range sw.Events() {
			mu.Lock()
			switch ev.Type {
			case telephony.Incoming:
				if first.IsZero() {
					first = time.Now()
				}
				calls[ev.Leg] = &call{}
				if err := sw.Answer(ctx, ev.Leg); err != nil {
					failed++
				}
			case telephony.Answered:
				if c := calls[ev.Leg]; c != nil {
					c.answered = true
					answered++
					last = time.Now()
				}
			case telephony.Hangup:
				ph.Causes[ev.Cause]++
				if c := calls[ev.Leg]; c != nil && c.answered && ev.Cause == telephony.CauseNormal {
					done++
				} else {
					failed++
				}
				delete(calls, ev.Leg)
			}
			mu.Unlock()
		}
	}()

	timeout := time.Duration(cfg.AnsweredCalls/cfg.AnsweredRate)*time.Second + cfg.AnsweredHold + 60*time.Second
	s, err := b.sipp("bench_uac_answer.xml", sw.Addr().String(), 0, timeout,
		"-r", strconv.Itoa(cfg.AnsweredRate), "-m", strconv.Itoa(cfg.AnsweredCalls),
		"-l", strconv.Itoa(cfg.AnsweredCalls), "-d", strconv.Itoa(int(cfg.AnsweredHold/time.Millisecond)),
		"-timeout", sippDuration(timeout-5*time.Second), "-timeout_error", "-recv_timeout", "10s")
	if err != nil {
		return ph, err
	}
	b.logf("answered: %d calls offered at %d/s", cfg.AnsweredCalls, cfg.AnsweredRate)
	r, err := s.Run(ctx)
	if err != nil {
		return ph, err
	}
	waitFor(10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return done+failed >= cfg.AnsweredCalls })
	sw.Close()
	<-finished
	mu.Lock()
	defer mu.Unlock()
	ph.Elapsed, ph.Retransmissions = r.Elapsed, r.Retransmissions
	ph.Completed = min(done, r.Successful)
	ph.Failed = cfg.AnsweredCalls - ph.Completed
	if !last.IsZero() {
		ph.Span = last.Sub(first)
		ph.PerSecond = float64(answered) / max(ph.Span.Seconds(), 1e-3)
	}
	if ph.Failed > 0 {
		ph.Note = fmt.Sprintf("sipp: %d successful, %d failed, exit %d; switch: %d answered, %d normal hangups, %d other; hangup causes %v; %s",
			r.Successful, r.Failed, r.ExitCode, answered, done, failed, ph.Causes, tailOf(r.Errors, 5))
	}
	b.logf("answered: %.0f calls/s, %d failed", ph.PerSecond, ph.Failed)
	return ph, nil
}

// ----------------------------------------------------------------- bridged --

// agentStation registers a SIPp UAS as station 2001 and starts it
// answering with RTP echo.
func (b *bench) agentStation(ctx context.Context, sw *sip.Switch, timeout time.Duration) (*siptest.Run, error) {
	port, err := siptest.FreePort()
	if err != nil {
		return nil, err
	}
	mport, err := siptest.FreePort()
	if err != nil {
		return nil, err
	}
	reg, err := b.sipp("bench_register.xml", sw.Addr().String(), port, 20*time.Second,
		"-s", station, "-au", station, "-ap", stationPassword, "-m", "1", "-timeout", "10s", "-timeout_error")
	if err != nil {
		return nil, err
	}
	r, err := reg.Run(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("station %s REGISTER: %w", station, err)
	}
	uas, err := b.sipp("bench_uas_echo.xml", "", port, timeout,
		"-rtp_echo", "-mp", strconv.Itoa(mport), "-l", "100000")
	if err != nil {
		return nil, err
	}
	run, err := uas.Start(ctx)
	if err != nil {
		return nil, err
	}
	if err := run.WaitListening(10 * time.Second); err != nil {
		run.Stop()
		return nil, err
	}
	return run, nil
}

// pair is one bridged call: the customer's leg and the agent's.
type pair struct {
	cust, agent         string
	custUp, agentUp     bool
	bridged             bool
	custDone, agentDone bool
	ok                  bool
}

// bridger is the platform of the bridged phases: for each customer it
// originates to the station, answers the customer when the station
// answers, bridges them, and hangs the agent up when the customer leaves.
type bridger struct {
	sw *sip.Switch

	mu                      sync.Mutex
	byLeg                   map[string]*pair
	first, last             time.Time
	incoming, bridged, done int
	active                  int // bridged and not yet ended
	peak                    int
	failed                  int
	causes                  map[string]int
	notes                   []string
}

func (br *bridger) note(format string, args ...any) {
	if len(br.notes) < 5 {
		br.notes = append(br.notes, fmt.Sprintf(format, args...))
	}
}

func (br *bridger) handle(ctx context.Context, ev telephony.Event) {
	br.mu.Lock()
	defer br.mu.Unlock()
	switch ev.Type {
	case telephony.Incoming:
		// as a B2BUA: ring the agent first, answer the customer when the
		// agent answers (so the customer's talk time starts bridged)
		if br.first.IsZero() {
			br.first = time.Now()
		}
		br.incoming++
		p := &pair{cust: ev.Leg}
		br.byLeg[ev.Leg] = p
		a, err := br.sw.Originate(ctx, telephony.OriginateRequest{To: "station:" + station, From: ev.From})
		if err != nil {
			br.note("originate: %v", err)
			_ = br.sw.Hangup(ctx, ev.Leg, "")
			return
		}
		p.agent = a
		br.byLeg[a] = p
	case telephony.Answered:
		p := br.byLeg[ev.Leg]
		if p == nil {
			return
		}
		if ev.Leg == p.agent {
			p.agentUp = true
			if err := br.sw.Answer(ctx, p.cust); err != nil {
				br.note("answer %s: %v", p.cust, err)
			}
			return
		}
		p.custUp = true
		if p.agentUp {
			if err := br.sw.Bridge(ctx, p.cust, p.agent); err != nil {
				br.note("bridge: %v", err)
			}
		}
	case telephony.Bridged:
		p := br.byLeg[ev.Leg]
		if p == nil || p.bridged {
			return
		}
		p.bridged = true
		br.bridged++
		br.active++
		br.peak = max(br.peak, br.active)
		br.last = time.Now()
	case telephony.Hangup:
		br.causes[ev.Cause]++
		p := br.byLeg[ev.Leg]
		if p == nil {
			return
		}
		delete(br.byLeg, ev.Leg)
		normal := ev.Cause == telephony.CauseNormal
		if ev.Leg == p.cust {
			p.custDone = true
			p.ok = normal && p.bridged
			if !normal {
				br.note("customer leg %s: hangup %s", ev.Leg, ev.Cause)
			}
			if !p.agentDone && p.agent != "" {
				_ = br.sw.Hangup(ctx, p.agent, "")
			}
		} else {
			p.agentDone = true
			if !normal {
				p.ok = false
				br.note("agent leg %s: hangup %s", ev.Leg, ev.Cause)
			}
			if !p.custDone { // the agent left (or never answered) first: not the script
				p.ok = false
				br.note("agent leg %s ended before the customer (%s)", ev.Leg, ev.Cause)
				_ = br.sw.Hangup(ctx, p.cust, "")
			}
		}
		if p.custDone && (p.agentDone || p.agent == "") {
			if p.bridged {
				br.active--
			}
			if p.ok {
				br.done++
			} else {
				br.failed++
			}
		}
	}
}

func (br *bridger) ended() int { br.mu.Lock(); defer br.mu.Unlock(); return br.done + br.failed }

// bridged runs customers through the bridged flow. During, if set, is
// called (in its own goroutine) once SIPp is running.
func (b *bench) bridged(ctx context.Context, name string, rate, calls int, hold time.Duration, during func(br *bridger, sipp *siptest.Run)) (Phase, error) {
	ph := Phase{Name: name, Rate: rate, Calls: calls}
	sw, reg, err := newSwitch()
	if err != nil {
		return ph, err
	}
	defer reg.Close()
	defer sw.Close()
	timeout := time.Duration(calls/rate)*time.Second + hold + 60*time.Second
	uas, err := b.agentStation(ctx, sw, timeout+30*time.Second)
	if err != nil {
		return ph, err
	}
	defer uas.Stop()

	br := &bridger{sw: sw, byLeg: map[string]*pair{}, causes: map[string]int{}}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for ev := range sw.Events() {
			br.handle(ctx, ev)
		}
	}()

	s, err := b.sipp("bench_uac_rtp.xml", sw.Addr().String(), 0, timeout,
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls),
		"-d", strconv.Itoa(int(hold/time.Millisecond)),
		"-timeout", sippDuration(timeout-5*time.Second), "-timeout_error", "-recv_timeout", "10s")
	if err != nil {
		return ph, err
	}
	b.logf("%s: %d calls offered at %d/s, %v of RTP each", name, calls, rate, hold)
	run, err := s.Start(ctx)
	if err != nil {
		return ph, err
	}
	if during != nil {
		during(br, run)
	}
	r := run.Wait()
	waitFor(10*time.Second, func() bool { return br.ended() >= calls })
	sw.Close()
	<-finished

	br.mu.Lock()
	defer br.mu.Unlock()
	ph.Causes = br.causes
	ph.Elapsed, ph.Retransmissions = r.Elapsed, r.Retransmissions
	ph.Completed = min(br.done, r.Successful)
	ph.Failed = calls - ph.Completed
	if !br.last.IsZero() {
		ph.Span = br.last.Sub(br.first)
		ph.PerSecond = float64(br.bridged) / max(ph.Span.Seconds(), 1e-3)
	}
	if ph.Failed > 0 {
		ph.Note = fmt.Sprintf("sipp: %d successful, %d failed, exit %d; switch: %d incoming, %d bridged, %d completed, %d failed; hangup causes %v; %s; %s",
			r.Successful, r.Failed, r.ExitCode, br.incoming, br.bridged, br.done, br.failed, br.causes, strings.Join(br.notes, "; "), tailOf(r.Errors, 5))
	}
	b.logf("%s: %.0f calls/s bridged, peak %d at once, %d failed", name, ph.PerSecond, br.peak, ph.Failed)
	return ph, nil
}

// -------------------------------------------------------------- concurrent --

func (b *bench) concurrent(ctx context.Context) (Concurrent, error) {
	cfg := b.cfg
	c := Concurrent{Target: cfg.Concurrent}
	var sampleErr error
	during := func(br *bridger, run *siptest.Run) {
		// before: the switch idle with the station registered, free memory
		// handed back to the system
		runtime.GC()
		debug.FreeOSMemory()
		c.RSSBeforeKB, sampleErr = rssKB()
		if sampleErr != nil {
			return
		}
		c.HeapBeforeKB = heapInuseKB()
		// wait until every call is bridged at once (bounded by the ramp)
		ramp := time.Duration(cfg.Concurrent/max(cfg.ConcurrentRate, 1))*time.Second + 15*time.Second
		if !waitFor(ramp, func() bool {
			select {
			case <-run.Done(): // SIPp gave up: no point waiting
				return true
			default:
			}
			br.mu.Lock()
			defer br.mu.Unlock()
			return br.active >= cfg.Concurrent
		}) || func() bool { br.mu.Lock(); defer br.mu.Unlock(); return br.active < cfg.Concurrent }() {
			br.mu.Lock()
			sampleErr = fmt.Errorf("only %d of %d calls bridged at once (%d incoming)", br.active, cfg.Concurrent, br.incoming)
			br.mu.Unlock()
			return
		}
		// while: RTP flowing on all of them; sample for a while
		udp0, _ := udpInDatagrams()
		t0 := time.Now()
		var peakRSS int64
		for i := 0; i < 10; i++ {
			time.Sleep(200 * time.Millisecond)
			if kb, err := rssKB(); err == nil {
				peakRSS = max(peakRSS, kb)
			}
		}
		udp1, _ := udpInDatagrams()
		c.SampledFor = time.Since(t0)
		c.UDPInPerSecond = float64(udp1-udp0) / c.SampledFor.Seconds()
		c.RSSWhileKB = peakRSS
		c.HeapWhileKB = heapInuseKB()
		c.GoroutinesWhile = runtime.NumGoroutine()
		br.mu.Lock()
		c.Peak = br.active
		br.mu.Unlock()
	}
	hold := cfg.ConcurrentHold
	ph, err := b.bridged(ctx, "concurrent", cfg.ConcurrentRate, cfg.Concurrent, hold, during)
	c.Phase = ph
	if err != nil {
		return c, err
	}
	if sampleErr != nil {
		c.Phase.Note = strings.TrimPrefix(c.Phase.Note+"; ", "; ") + sampleErr.Error()
		if c.Phase.Failed == 0 {
			c.Phase.Failed = cfg.Concurrent - c.Peak
		}
		return c, nil
	}
	if c.Peak > 0 {
		c.KBPerCall = float64(c.RSSWhileKB-c.RSSBeforeKB) / float64(c.Peak)
	}
	b.logf("concurrent: %d bridged at once, VmRSS %d → %d kB (%.1f kB per call), %.0f UDP datagrams/s received on the machine",
		c.Peak, c.RSSBeforeKB, c.RSSWhileKB, c.KBPerCall, c.UDPInPerSecond)
	return c, nil
}

// ------------------------------------------------------------------ helpers --

// sippDuration writes d as SIPp reads durations: whole seconds, "30s".
func sippDuration(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func heapInuseKB() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse / 1024)
}

// rssKB is this process's resident set size (VmRSS) in kB.
func rssKB() (int64, error) {
	return procField("/proc/self/status", "VmRSS:")
}

func procField(path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				return strconv.ParseInt(fields[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// udpInDatagrams is the machine's count of UDP datagrams received
// (/proc/net/snmp Udp InDatagrams): evidence that RTP flows.
func udpInDatagrams() (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var head []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "Udp: ") {
			continue
		}
		f := strings.Fields(line)
		if head == nil {
			head = f
			continue
		}
		for i, k := range head {
			if k == "InDatagrams" && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
	}
	return 0, errors.New("/proc/net/snmp: no Udp InDatagrams")
}

// LoadAvg is the 1-minute load average (to note how busy the machine was).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tailOf(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
