package siptest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SIPp describes one SIPp run on 127.0.0.1. SIPp's trace files go to Dir.
type SIPp struct {
	// Scenario is an XML scenario file; Builtin (e.g. "uac", "uas") is
	// used instead when Scenario is empty.
	Scenario string
	Builtin  string
	// Remote is the address calls go to ("127.0.0.1:5060"); empty for a
	// UAS that only answers.
	Remote string
	// Port is the local SIP port; 0 picks a free one (see Run.Port).
	Port int
	// Dir receives the statistics and error traces; required.
	Dir string
	// Timeout bounds the whole run (default 60 s); SIPp is killed after it.
	Timeout time.Duration
	// Files (pcap captures a scenario plays) are copied into Dir, where
	// SIPp runs: scenarios name them without a directory.
	Files []string
	// Args are more SIPp arguments: -r RATE, -m CALLS, -l LIMIT, -au/-ap,
	// -rtp_echo, -mp PORT, -d MS, -set NAME VALUE …
	Args []string
}

// Result is how a SIPp run ended, from its exit code and its last
// statistics line (-trace_stat).
type Result struct {
	ExitCode int
	// Cumulative counters of the run.
	Created, Successful, Failed, Retransmissions, DeadCalls int
	Elapsed                                                 time.Duration
	Output                                                  string // stdout and stderr
	Errors                                                  string // the -trace_err file (unexpected messages)
	Stats                                                   map[string]string
}

// OK: SIPp exited 0 (every call successful) and counted no failed call.
func (r Result) OK() bool { return r.ExitCode == 0 && r.Failed == 0 }

// Err describes a run that was not OK, nil otherwise.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("sipp exit %d (%s): %d created, %d successful, %d failed, %d retransmissions\n%s\n%s",
		r.ExitCode, exitMeaning(r.ExitCode), r.Created, r.Successful, r.Failed, r.Retransmissions,
		tail(r.Output, 25), tail(r.Errors, 25))
}

func exitMeaning(code int) string {
	switch code {
	case 0:
		return "all calls successful"
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command"
	case 99:
		return "normal exit without calls processed"
	case 255, -1:
		return "fatal error"
	case 254, -2:
		return "fatal error binding a socket"
	default:
		return "killed or unknown"
	}
}

// Run is a SIPp process under way.
type Run struct {
	Port    int // local SIP port
	cmd     *exec.Cmd
	out     *syncBuf
	dir     string
	start   time.Time
	done    chan struct{}
	waitErr error
	cancel  context.CancelFunc
	once    sync.Once
	res     Result
}

// Start starts SIPp. Wait (or Stop) must follow.
func (s SIPp) Start(ctx context.Context) (*Run, error) {
	if s.Dir == "" {
		return nil, errors.New("siptest: SIPp needs a Dir for its traces")
	}
	if s.Scenario == "" && s.Builtin == "" {
		return nil, errors.New("siptest: SIPp needs a Scenario or a Builtin")
	}
	for _, f := range s.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("siptest: SIPp file: %w", err)
		}
		if err := os.WriteFile(filepath.Join(s.Dir, filepath.Base(f)), b, 0o644); err != nil {
			return nil, err
		}
	}
	port := s.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	args := []string{}
	if s.Scenario != "" {
		abs, err := filepath.Abs(s.Scenario)
		if err != nil {
			return nil, err
		}
		args = append(args, "-sf", abs)
	} else {
		args = append(args, "-sn", s.Builtin)
	}
	if s.Remote != "" {
		args = append(args, s.Remote)
	}
	args = append(args, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", strconv.Itoa(port),
		"-nostdin", "-trace_stat", "-stf", filepath.Join(s.Dir, "stat.csv"), "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(s.Dir, "errors.log"))
	args = append(args, s.Args...)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	cmd := exec.CommandContext(cctx, "sipp", args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive a killed test or bench
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	r := &Run{Port: port, cmd: cmd, out: out, dir: s.Dir, done: make(chan struct{}), cancel: cancel}
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("siptest: start sipp: %w", err)
	}
	go func() {
		r.waitErr = cmd.Wait()
		close(r.done)
	}()
	return r, nil
}

// Run starts SIPp and waits for it.
func (s SIPp) Run(ctx context.Context) (Result, error) {
	r, err := s.Start(ctx)
	if err != nil {
		return Result{}, err
	}
	return r.Wait(), nil
}

// WaitListening waits until SIPp has bound its SIP port (a UAS must be
// ready before calls are sent to it: an INVITE to a port not yet bound
// is refused by the kernel and fails the call). It looks in
// /proc/net/udp rather than probing the port, which could steal it.
func (r *Run) WaitListening(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if udpBound(r.Port) {
			return nil
		}
		select {
		case <-r.done:
			return fmt.Errorf("sipp exited before listening on %d:\n%s", r.Port, tail(r.out.String(), 20))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sipp not listening on 127.0.0.1:%d within %v", r.Port, d)
		}
	}
}

// udpBound reports whether some socket is bound to UDP port on
// 127.0.0.1 or any address (/proc/net/udp: "local_address" is
// hex IP:port, 0100007F is 127.0.0.1).
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasSuffix(f[1], suffix) &&
			(strings.HasPrefix(f[1], "0100007F:") || strings.HasPrefix(f[1], "00000000:")) {
			return true
		}
	}
	return false
}

// Done is closed when SIPp has exited.
func (r *Run) Done() <-chan struct{} { return r.done }

// Wait waits for SIPp to exit and returns its result.
func (r *Run) Wait() Result {
	<-r.done
	r.once.Do(r.collect)
	return r.res
}

// Stop kills SIPp (a UAS that would otherwise wait for more calls) and
// returns its result.
func (r *Run) Stop() Result {
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
	}
	return r.Wait()
}

func (r *Run) collect() {
	defer r.cancel()
	res := Result{Elapsed: time.Since(r.start), Output: r.out.String(), ExitCode: -1}
	if r.cmd.ProcessState != nil {
		res.ExitCode = r.cmd.ProcessState.ExitCode()
	}
	if b, err := os.ReadFile(filepath.Join(r.dir, "errors.log")); err == nil {
		res.Errors = string(b)
	}
	res.Stats = lastStats(filepath.Join(r.dir, "stat.csv"))
	num := func(k string) int { n, _ := strconv.Atoi(res.Stats[k]); return n }
	res.Created = num("TotalCallCreated")
	res.Successful = num("SuccessfulCall(C)")
	res.Failed = num("FailedCall(C)")
	res.Retransmissions = num("Retransmissions(C)")
	res.DeadCalls = num("DeadCallMsgs(C)")
	r.res = res
}

// lastStats reads SIPp's -trace_stat file (";"-separated, a header line,
// one line per -fd period, the last one final) into name → value.
func lastStats(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil || len(recs) < 2 {
		return out
	}
	head, last := recs[0], recs[len(recs)-1]
	for i, k := range head {
		if i < len(last) {
			out[strings.TrimSpace(k)] = strings.TrimSpace(last[i])
		}
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // SIPp can be chatty under load: keep the first MB
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
