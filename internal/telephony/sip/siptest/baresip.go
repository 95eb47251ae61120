package siptest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/telephony/audio"
)

// Bounds of the baresip driver. Generous for a loaded 2-core machine, but
// every wait ends.
const (
	phoneStartTimeout   = 10 * time.Second
	phoneCommandTimeout = 5 * time.Second
	phoneQuitTimeout    = 3 * time.Second
	// toneSeconds is the length of the WAV a phone says: longer than any
	// test call (baresip's aufile source goes silent at the end of it).
	toneSeconds = 60
	// ToneAmplitude is the peak of a phone's tone: three of them summed by
	// a conference mixer stay below full scale.
	ToneAmplitude = 6000
)

// PhoneConfig describes one baresip phone.
type PhoneConfig struct {
	// User is the account's user part: a station ("1001") for an agent
	// phone, a number ("+34600111222") for a customer.
	User string
	// Server is the switch's SIP address (host:port): the account's domain
	// and, with Register, its registrar.
	Server string
	// Register makes the account REGISTER (every 60 s) with User and
	// Password; without it the phone only places and takes calls.
	Register bool
	Password string
	// ToneHz is what the phone says on every call: a sine at this
	// frequency (amplitude ToneAmplitude). 0 is silence.
	ToneHz float64
	// AutoAnswer answers incoming calls at once; otherwise they ring
	// until Accept.
	AutoAnswer bool
	// SIPTrace makes baresip print every SIP message it sends and
	// receives (-s) into its Log.
	SIPTrace bool
	// MediaEnc is the account's media encryption (baresip's mediaenc,
	// e.g. "srtp-mand": SRTP with SDES keys, required); "" is plain RTP.
	// "srtp…" loads the srtp module.
	MediaEnc string
}

// Event is one event baresip pushed on ctrl_tcp, e.g. Type
// "CALL_ESTABLISHED", "CALL_CLOSED", "CALL_INCOMING", "REGISTER_OK",
// "REGISTER_FAIL", "CALL_DTMF_START".
type Event struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}

// Phone is a running baresip process driven over its ctrl_tcp socket. Its
// methods may be called from several goroutines.
type Phone struct {
	t    testing.TB
	cfg  PhoneConfig
	dir  string
	port int
	cmd  *exec.Cmd
	conn net.Conn

	exited  chan struct{}
	waitErr error

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every new event
	events  []Event
	taken   map[string]int // events of a type already returned by WaitEvent
	replies map[string]chan reply
	nextTok int
	closed  bool
	readErr error

	closeOnce sync.Once
}

type reply struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// StartPhone starts baresip with cfg and connects to its control socket.
// The phone quits (or is killed) when t ends; its log is printed if t
// failed.
func StartPhone(t testing.TB, cfg PhoneConfig) *Phone {
	t.Helper()
	RequireBaresip(t)
	var err error
	for range 3 { // a port FreePort found may be taken before baresip binds it
		var p *Phone
		if p, err = startPhone(t, cfg); err == nil {
			return p
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("baresip %s: %v", cfg.User, err)
	return nil
}

var errPortTaken = errors.New("port taken")

func startPhone(t testing.TB, cfg PhoneConfig) (*Phone, error) {
	if cfg.User == "" || cfg.Server == "" {
		return nil, errors.New("PhoneConfig needs User and Server")
	}
	dir := t.TempDir()
	sipPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	ctrlPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	p := &Phone{t: t, cfg: cfg, dir: dir, port: sipPort, exited: make(chan struct{}),
		changed: make(chan struct{}), taken: map[string]int{}, replies: map[string]chan reply{}}
	if err := os.MkdirAll(p.dumpDir(), 0o755); err != nil {
		return nil, err
	}
	source := "aubridge,nil" // silence
	if cfg.ToneHz > 0 {
		wav := filepath.Join(dir, "say.wav")
		if err := WriteTone(wav, cfg.ToneHz, toneSeconds); err != nil {
			return nil, err
		}
		source = "aufile," + wav
	}
	conf := strings.Join([]string{
		"poll_method epoll",
		"module_path /usr/lib/baresip/modules",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", sipPort),
		"net_interface 127.0.0.1", // an address: "lo" is skipped as loopback
		"audio_source " + source,
		"ausrc_srate 8000", // aufile wants the file's rate and channels
		"ausrc_channels 1",
		"audio_player aubridge,nil", // no sound card: a player must exist
		"audio_alert aubridge,nil",
		"snd_path " + p.dumpDir(), // sndfile: dump-*-dec.wav (heard), -enc.wav (said)
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module sndfile.so",
		srtpModule(cfg.MediaEnc),
		"module_app account.so",
		"module_app menu.so",
		"module_app ctrl_tcp.so", // not stdio.so: stdin is not a TTY
		fmt.Sprintf("ctrl_tcp_listen 127.0.0.1:%d", ctrlPort),
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// No accounts here: the account is added over ctrl_tcp once we listen
	// to events, so that its REGISTER_OK is not missed.
	if err := os.WriteFile(filepath.Join(dir, "accounts"), nil, 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "baresip.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"-4", "-f", dir}
	if cfg.SIPTrace {
		args = append(args, "-s")
	}
	p.cmd = exec.Command("baresip", args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive a killed test
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("baresip %s log (last lines):\n%s", cfg.User, tail(p.Log(), 40))
		}
	})

	// Ready when the control socket accepts.
	deadline := time.Now().Add(phoneStartTimeout)
	for {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", ctrlPort), time.Second)
		if err == nil {
			p.conn = c
			break
		}
		select {
		case <-p.exited:
			log := p.Log()
			if strings.Contains(log, "Address already in use") {
				return nil, fmt.Errorf("%w: exited at start:\n%s", errPortTaken, tail(log, 20))
			}
			return nil, fmt.Errorf("exited at start (%v):\n%s", p.waitErr, tail(log, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if log := p.Log(); strings.Contains(log, "Address already in use") || time.Now().After(deadline) {
			_ = p.cmd.Process.Kill()
			if strings.Contains(log, "Address already in use") {
				return nil, fmt.Errorf("%w:\n%s", errPortTaken, tail(log, 20))
			}
			return nil, fmt.Errorf("control socket 127.0.0.1:%d not up within %v:\n%s", ctrlPort, phoneStartTimeout, tail(log, 20))
		}
	}
	go p.read()

	answer := "manual"
	if cfg.AutoAnswer {
		answer = "auto"
	}
	regint := 0
	if cfg.Register {
		regint = 60
	}
	aor := fmt.Sprintf("<sip:%s@%s>;answermode=%s;regint=%d;audio_codecs=PCMU", cfg.User, cfg.Server, answer, regint)
	if cfg.Password != "" {
		aor += ";auth_pass=" + cfg.Password
	}
	if cfg.MediaEnc != "" {
		aor += ";mediaenc=" + cfg.MediaEnc
	}
	if _, err := p.Command("uanew", aor); err != nil {
		return nil, err
	}
	return p, nil
}

// srtpModule is the config line loading baresip's srtp module for
// mediaenc (a comment line when it needs none).
func srtpModule(mediaenc string) string {
	if strings.HasPrefix(mediaenc, "srtp") {
		return "module srtp.so"
	}
	return "# no media encryption"
}

func (p *Phone) dumpDir() string { return filepath.Join(p.dir, "dump") }

// SIPAddr is where the phone takes SIP (127.0.0.1:port).
func (p *Phone) SIPAddr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// Log is what baresip printed so far.
func (p *Phone) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "baresip.log"))
	return string(b)
}

// read parses the netstring-framed JSON the control socket sends:
// command replies (routed by token) and events (kept for WaitEvent).
func (p *Phone) read() {
	r := bufio.NewReader(p.conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			p.mu.Lock()
			p.readErr = err
			p.notifyLocked()
			p.mu.Unlock()
			return
		}
		var m struct {
			Event    bool   `json:"event"`
			Response bool   `json:"response"`
			Token    string `json:"token"`
			reply
		}
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		p.mu.Lock()
		switch {
		case m.Response:
			if ch := p.replies[m.Token]; ch != nil {
				ch <- m.reply
				delete(p.replies, m.Token)
			}
		case m.Event:
			var ev Event
			if json.Unmarshal(msg, &ev) == nil {
				p.events = append(p.events, ev)
				p.notifyLocked()
			}
		}
		p.mu.Unlock()
	}
}

func (p *Phone) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// readNetstring reads one "LEN:DATA," frame.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[:len(head)-1]))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("baresip ctrl_tcp: bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("baresip ctrl_tcp: netstring without its trailing comma")
	}
	return buf[:n], nil
}

// Command runs a baresip command (as in its help: "dial", "accept",
// "hangup", "sndcode", "transfer", "hold", "resume", "reginfo",
// "listcalls", "uanew" …) and returns its reply text. A reply with
// ok=false is an error.
func (p *Phone) Command(command, params string) (string, error) {
	p.mu.Lock()
	if p.closed || p.readErr != nil {
		p.mu.Unlock()
		return "", fmt.Errorf("baresip %s: control socket closed", p.cfg.User)
	}
	p.nextTok++
	tok := fmt.Sprintf("t%d", p.nextTok)
	ch := make(chan reply, 1)
	p.replies[tok] = ch
	p.mu.Unlock()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	_ = p.conn.SetWriteDeadline(time.Now().Add(phoneCommandTimeout))
	if _, err := fmt.Fprintf(p.conn, "%d:%s,", len(msg), msg); err != nil {
		return "", fmt.Errorf("baresip %s: send %s: %w", p.cfg.User, command, err)
	}
	select {
	case r := <-ch:
		if !r.OK {
			return r.Data, fmt.Errorf("baresip %s: %s %q failed: %s", p.cfg.User, command, params, strings.TrimSpace(r.Data))
		}
		return r.Data, nil
	case <-p.exited:
		return "", fmt.Errorf("baresip %s exited during %s", p.cfg.User, command)
	case <-time.After(phoneCommandTimeout):
		p.mu.Lock()
		delete(p.replies, tok)
		p.mu.Unlock()
		return "", fmt.Errorf("baresip %s: no reply to %s within %v", p.cfg.User, command, phoneCommandTimeout)
	}
}

// must runs a command and fails the test on error.
func (p *Phone) must(command, params string) {
	p.t.Helper()
	if _, err := p.Command(command, params); err != nil {
		p.t.Fatal(err)
	}
}

// Dial calls uri ("sip:900100200@127.0.0.1:5060").
func (p *Phone) Dial(uri string) { p.t.Helper(); p.must("dial", uri) }

// Accept answers the ringing call.
func (p *Phone) Accept() { p.t.Helper(); p.must("accept", "") }

// Hangup ends the current call.
func (p *Phone) Hangup() { p.t.Helper(); p.must("hangup", "") }

// Transfer sends a REFER (blind transfer) of the current call to uri.
func (p *Phone) Transfer(uri string) { p.t.Helper(); p.must("transfer", uri) }

// SendDTMF presses each digit (RFC 4733 telephone-event) on the current
// call, one key press per command, gap apart: baresip sends a press and
// its release per sndcode.
func (p *Phone) SendDTMF(digits string, gap time.Duration) {
	p.t.Helper()
	for i, d := range digits {
		if i > 0 {
			time.Sleep(gap) // pacing the key presses, not waiting for a result
		}
		p.must("sndcode", string(d))
	}
}

// WaitEvent returns the next event of type typ not returned before (events
// are kept from the start, so one that came before the call is found),
// failing the test after d.
func (p *Phone) WaitEvent(typ string, d time.Duration) Event {
	p.t.Helper()
	ev, err := p.NextEvent(typ, d)
	if err != nil {
		p.t.Fatal(err)
	}
	return ev
}

// NextEvent is WaitEvent returning an error instead of failing.
func (p *Phone) NextEvent(typ string, d time.Duration) (Event, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		seen := 0
		for _, ev := range p.events {
			if ev.Type != typ {
				continue
			}
			if seen == p.taken[typ] {
				p.taken[typ]++
				p.mu.Unlock()
				return ev, nil
			}
			seen++
		}
		changed, readErr := p.changed, p.readErr
		p.mu.Unlock()
		if readErr != nil {
			return Event{}, fmt.Errorf("baresip %s: no %s event: control socket: %v", p.cfg.User, typ, readErr)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return Event{}, fmt.Errorf("baresip %s: no %s event within %v; events: %s", p.cfg.User, typ, d, p.eventTypes())
		}
	}
}

// Events returns every event so far.
func (p *Phone) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

func (p *Phone) eventTypes() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s []string
	for _, ev := range p.events {
		if ev.Type == "CALL_RTCP" {
			continue
		}
		s = append(s, ev.Type)
	}
	return strings.Join(s, " ")
}

// WaitRegistered waits for the account's REGISTER_OK; a REGISTER_FAIL
// first is an error carrying baresip's reason.
func (p *Phone) WaitRegistered(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		p.mu.Lock()
		for _, ev := range p.events {
			switch ev.Type {
			case "REGISTER_OK":
				p.mu.Unlock()
				return nil
			case "REGISTER_FAIL":
				p.mu.Unlock()
				return fmt.Errorf("baresip %s: REGISTER_FAIL %s", p.cfg.User, ev.Param)
			}
		}
		changed := p.changed
		p.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("baresip %s: not registered within %v; events: %s", p.cfg.User, d, p.eventTypes())
		}
		select {
		case <-changed:
		case <-time.After(left):
		}
	}
}

// Recordings lists the phone's sndfile dumps, oldest first: for each
// call a "-dec.wav" (what the phone heard) and an "-enc.wav" (what it
// said), written while the call runs and completed when it closes. Their
// names carry the call's start to the second: two calls of one phone
// starting within the same second share (overwrite) one pair.
func (p *Phone) Recordings() (heard, said []string) {
	ents, _ := os.ReadDir(p.dumpDir())
	for _, e := range ents {
		name := filepath.Join(p.dumpDir(), e.Name())
		switch {
		case strings.HasSuffix(name, "-dec.wav"):
			heard = append(heard, name)
		case strings.HasSuffix(name, "-enc.wav"):
			said = append(said, name)
		}
	}
	sort.Strings(heard)
	sort.Strings(said)
	return heard, said
}

// Heard returns what the phone heard on its last call (after
// CALL_CLOSED: the dump is complete only then). It waits, bounded, for
// libsndfile to finish the file.
func (p *Phone) Heard() []int16 {
	p.t.Helper()
	return p.lastDump(true)
}

// Said returns what the phone sent on its last call.
func (p *Phone) Said() []int16 {
	p.t.Helper()
	return p.lastDump(false)
}

func (p *Phone) lastDump(heard bool) []int16 {
	p.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		h, s := p.Recordings()
		files := s
		if heard {
			files = h
		}
		var err error
		if len(files) > 0 {
			var pcm []int16
			pcm, err = ReadWAVFile(files[len(files)-1])
			if err == nil && len(pcm) > 0 {
				return pcm
			}
		} else {
			err = errors.New("no recording yet")
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("baresip %s: recording (heard=%v): %v", p.cfg.User, heard, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close quits baresip (killing it if it does not exit in time). Calls
// still up are dropped without BYE when it is killed.
func (p *Phone) Close() {
	p.closeOnce.Do(func() {
		if p.conn != nil {
			_, _ = p.Command("quit", "")
		}
		select {
		case <-p.exited:
		case <-time.After(phoneQuitTimeout):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		if p.conn != nil {
			p.conn.Close()
		}
	})
}

// ReadWAVFile reads a mono 8 kHz 16-bit WAV file.
func ReadWAVFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, err := audio.ReadWAV(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, nil
}

// WriteTone writes seconds of a sine at freq Hz (amplitude ToneAmplitude)
// as a mono 8 kHz 16-bit WAV file.
func WriteTone(path string, freq float64, seconds int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := audio.WriteWAV(w, audio.Tone(freq, ToneAmplitude, seconds*audio.SampleRate, nil)); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
