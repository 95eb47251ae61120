package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/centralita/centralita/internal/telephony/sip/sipbench"
)

func benchSIPCmd() *cobra.Command {
	var (
		quick   bool
		keep    string
		profile string
	)
	cfg := sipbench.Default()
	c := &cobra.Command{
		Use:   "sip",
		Short: "SIP switch throughput and memory with SIPp on loopback",
		Long: `Runs the SIP switch (with its registrar) in-process on 127.0.0.1 and SIPp
(Debian package sip-tester) beside it, in three phases, each on a fresh switch:

  answered    SIPp customers call in at --answered-rate; the bench answers
              each Incoming; SIPp hangs up after a short pause.
  bridged     a SIPp UAS registers as station 2001 (digest auth) and answers
              with RTP echo; for each customer call the bench originates to
              the station, answers the customer when the station answers and
              bridges them; the customer streams a PCMU tone that the switch
              relays both ways, then hangs up.
  concurrent  the bridged flow with long calls until --concurrent calls are
              bridged at once with RTP flowing; VmRSS is sampled before and
              while, giving kB of resident memory per bridged call.

A call fails unless every leg ended normally after being answered (and
bridged) and SIPp counted it successful. The last line of the output is a
JSON object. --quick runs small phases (under 30 s).`,
		Args: cobra.NoArgs,
	}
	f := c.Flags()
	f.BoolVar(&quick, "quick", false, "small phases (under 30 s); explicit flags still apply")
	f.IntVar(&cfg.AnsweredRate, "answered-rate", cfg.AnsweredRate, "answered phase: calls offered per second")
	f.IntVar(&cfg.AnsweredCalls, "answered-calls", cfg.AnsweredCalls, "answered phase: calls offered")
	f.DurationVar(&cfg.AnsweredHold, "answered-hold", cfg.AnsweredHold, "answered phase: how long SIPp keeps each answered call before its BYE")
	f.IntVar(&cfg.BridgedRate, "bridged-rate", cfg.BridgedRate, "bridged phase: calls offered per second")
	f.IntVar(&cfg.BridgedCalls, "bridged-calls", cfg.BridgedCalls, "bridged phase: calls offered")
	f.DurationVar(&cfg.BridgedHold, "bridged-hold", cfg.BridgedHold, "bridged phase: customer talk time (RTP)")
	f.IntVar(&cfg.Concurrent, "concurrent", cfg.Concurrent, "concurrent phase: bridged calls held at once (0 skips it)")
	f.IntVar(&cfg.ConcurrentRate, "concurrent-rate", cfg.ConcurrentRate, "concurrent phase: calls per second while ramping up")
	f.DurationVar(&cfg.ConcurrentHold, "concurrent-hold", cfg.ConcurrentHold, "concurrent phase: customer talk time")
	f.StringVar(&keep, "keep", "", "keep SIPp's traces in this directory")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of this process (the switch's side) to this file")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		if quick {
			q := sipbench.Quick()
			for name, dst := range map[string]*int{"answered-rate": &cfg.AnsweredRate, "answered-calls": &cfg.AnsweredCalls,
				"bridged-rate": &cfg.BridgedRate, "bridged-calls": &cfg.BridgedCalls,
				"concurrent": &cfg.Concurrent, "concurrent-rate": &cfg.ConcurrentRate} {
				if !f.Changed(name) {
					*dst = map[string]int{"answered-rate": q.AnsweredRate, "answered-calls": q.AnsweredCalls,
						"bridged-rate": q.BridgedRate, "bridged-calls": q.BridgedCalls,
						"concurrent": q.Concurrent, "concurrent-rate": q.ConcurrentRate}[name]
				}
			}
			if !f.Changed("bridged-hold") {
				cfg.BridgedHold = q.BridgedHold
			}
			if !f.Changed("concurrent-hold") {
				cfg.ConcurrentHold = q.ConcurrentHold
			}
			if !f.Changed("answered-hold") {
				cfg.AnsweredHold = q.AnsweredHold
			}
		}
		if keep != "" {
			if err := os.MkdirAll(keep, 0o755); err != nil {
				return err
			}
			cfg.Dir = keep
		}
		w := cmd.OutOrStdout()
		cfg.Progress = cmd.ErrOrStderr()
		host, _ := os.Hostname()
		load := sipbench.LoadAvg()
		fmt.Fprintf(w, "sip bench: switch in-process on 127.0.0.1, SIPp on loopback; %s %s/%s, GOMAXPROCS %d, host %s, load average %s\n",
			runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), host, load)
		if profile != "" {
			pf, err := os.Create(profile)
			if err != nil {
				return err
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		res, err := sipbench.Run(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		return printSIPBench(w, res, load)
	}
	return c
}

func printSIPBench(w io.Writer, r sipbench.Result, loadBefore string) error {
	cfg := r.Config
	fmt.Fprintf(w, "\n%-11s %8s %7s %10s %7s %12s %9s %8s  %s\n", "phase", "offered", "rate/s", "completed", "failed", "achieved/s", "span", "retrans", "note")
	row := func(p sipbench.Phase) {
		fmt.Fprintf(w, "%-11s %8d %7d %10d %7d %12.1f %9v %8d  %s\n", p.Name, p.Calls, p.Rate, p.Completed, p.Failed,
			p.PerSecond, p.Span.Round(time.Millisecond), p.Retransmissions, p.Note)
	}
	row(r.Answered)
	row(r.Bridged)
	c := r.Concurrent
	if cfg.Concurrent > 0 {
		row(c.Phase)
		fmt.Fprintf(w, "\nconcurrent: %d bridged calls up at once (target %d), %d goroutines; VmRSS %d kB idle → %d kB with them up: %.1f kB per bridged call (Go heap in use %d → %d kB); %.0f UDP datagrams/s received on the machine over %v\n",
			c.Peak, c.Target, c.GoroutinesWhile, c.RSSBeforeKB, c.RSSWhileKB, c.KBPerCall, c.HeapBeforeKB, c.HeapWhileKB, c.UDPInPerSecond, c.SampledFor.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "failed calls: %d; elapsed %v; load average before %s, after %s\n", r.Failed, r.Elapsed.Round(time.Second), loadBefore, sipbench.LoadAvg())
	out := map[string]any{
		"answered_cps":            round(r.Answered.PerSecond, 1),
		"bridged_cps":             round(r.Bridged.PerSecond, 1),
		"concurrent_bridged":      c.Peak,
		"failed_calls":            r.Failed,
		"rss_kb_per_bridged_call": round(c.KBPerCall, 1),
		"answered_rate":           cfg.AnsweredRate,
		"answered_calls":          cfg.AnsweredCalls,
		"answered_hold_ms":        cfg.AnsweredHold.Milliseconds(),
		"bridged_rate":            cfg.BridgedRate,
		"bridged_calls":           cfg.BridgedCalls,
		"bridged_hold_ms":         cfg.BridgedHold.Milliseconds(),
		"concurrent_target":       cfg.Concurrent,
		"concurrent_rate":         cfg.ConcurrentRate,
		"concurrent_hold_ms":      cfg.ConcurrentHold.Milliseconds(),
		"rss_before_kb":           c.RSSBeforeKB,
		"rss_while_kb":            c.RSSWhileKB,
		"heap_before_kb":          c.HeapBeforeKB,
		"heap_while_kb":           c.HeapWhileKB,
		"udp_in_per_s":            round(c.UDPInPerSecond, 0),
		"retransmissions":         r.Answered.Retransmissions + r.Bridged.Retransmissions + c.Phase.Retransmissions,
		"elapsed_s":               round(r.Elapsed.Seconds(), 1),
		"gomaxprocs":              runtime.GOMAXPROCS(0),
		"go":                      runtime.Version(),
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
