package conversation_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/telephony/audio"
	"github.com/centralita/centralita/internal/telephony/sim"
)

// playSwitch is the simulated switch recording every Play asked of it.
type playSwitch struct {
	*sim.Switch
	mu    sync.Mutex
	plays []string // "leg prompt", with " !" when the switch refused it
}

func (p *playSwitch) Play(ctx context.Context, leg, prompt string) error {
	err := p.Switch.Play(ctx, leg, prompt)
	p.mu.Lock()
	defer p.mu.Unlock()
	s := leg + " " + prompt
	if err != nil {
		s += " !"
	}
	p.plays = append(p.plays, s)
	return err
}

func (p *playSwitch) played() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.plays)
}

// length is a built-in prompt's duration.
func length(t *testing.T, name string) time.Duration {
	t.Helper()
	pcm, err := audio.Prompt(name)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(len(pcm)) * time.Second / audio.SampleRate
}

// A caller waiting in a queue hears the waiting prompt once, then the
// music again and again; once an agent is connected (the Bridge stops the
// music and reports it done) nothing plays any more. A queue's own prompts
// replace the defaults, and a caller hanging up ends the loop.
func TestQueueWaitingAudio(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ventas, err := w.dir.CreateQueue(ctx, func() directory.Queue { q := directory.QueueDefaults(); q.Name = "Ventas"; return q }())
	if err != nil {
		t.Fatal(err)
	}
	q := directory.QueueDefaults()
	q.Name, q.WaitPrompt, q.HoldMusic = "Soporte", "bienvenida", "musica"
	soporte, err := w.dir.CreateQueue(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := w.dir.GetQueue(ctx, soporte.ID); got.WaitPrompt != "bienvenida" || got.HoldMusic != "musica" {
		t.Fatalf("stored %q %q", got.WaitPrompt, got.HoldMusic)
	}
	agent, err := w.dir.CreateUser(ctx, directory.UserInput{Username: "agent1", Name: "Lucía"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.dir.CreateStation(ctx, directory.StationInput{Name: "1001", Password: "device"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sess.Login(ctx, agent.ID, session.StationRef{Name: "1001"}, "device"); err != nil {
		t.Fatal(err)
	}

	sw := &playSwitch{Switch: sim.New(w.clk, sim.Options{})}
	defer sw.Close()
	sw.SetPrompts(map[string]time.Duration{"bienvenida": 3 * time.Second, "musica": 4 * time.Second})
	s := w.service(conversation.Options{Switch: sw, Router: &router{}})
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(run); close(done) }()
	defer func() { stop(); <-done }()
	flush := func() {
		t.Helper()
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	advance := func(d time.Duration) {
		t.Helper()
		// Step by step: each PlaybackDone is applied (and the next Play
		// asked) before the clock moves on.
		for step := 100 * time.Millisecond; d > 0; d -= step {
			w.clk.Advance(min(step, d))
			flush()
		}
	}
	expect := func(what string, want ...string) {
		t.Helper()
		if got := sw.played(); !slices.Equal(got, want) {
			t.Fatalf("%s: plays %q, want %q", what, got, want)
		}
	}

	conv, err := s.Expect(func() string { return sw.InjectCall("+34600000001", "Ventas", sim.Caller{}) })
	if err != nil {
		t.Fatal(err)
	}
	flush()
	cust := sw.Legs()[0].ID
	expect("queued", cust+" queue-wait")
	wait, moh := length(t, "queue-wait"), length(t, "moh")
	advance(wait - 200*time.Millisecond)
	expect("during the waiting prompt", cust+" queue-wait")
	advance(300 * time.Millisecond)
	expect("after the waiting prompt", cust+" queue-wait", cust+" moh")
	advance(2*moh + 100*time.Millisecond)
	expect("music looped", cust+" queue-wait", cust+" moh", cust+" moh", cust+" moh")
	if in, _ := sw.Info(cust); in.Prompts != 1 {
		t.Fatalf("%d prompts queued on the caller, want the music only", in.Prompts)
	}

	// An agent takes the call: the Bridge interrupts the music and its
	// PlaybackDone starts nothing.
	s.Offered(conversation.Offer{InteractionID: conv, AgentID: agent.ID, QueueID: ventas.ID, Timeout: 30 * time.Second})
	flush()
	var agentLeg string
	for _, l := range sw.Legs() {
		if l.Station == "station:1001" || l.To == "station:1001" {
			agentLeg = l.ID
		}
	}
	if agentLeg == "" {
		t.Fatalf("no leg rings the agent: %+v", sw.Legs())
	}
	advance(time.Second) // ringing; the music goes on meanwhile
	if err := sw.AnswerPhone(agentLeg); err != nil {
		t.Fatal(err)
	}
	flush()
	before := sw.played()
	advance(3 * moh)
	expect("after the agent answered", before...)
	in, _ := sw.Info(cust)
	if in.Bridge != agentLeg || in.Prompts != 0 {
		t.Fatalf("caller after connect: %+v", in)
	}

	// A queue's own prompts; the caller hangs up while the music plays.
	base := len(sw.played())
	if _, err := s.Expect(func() string { return sw.InjectCall("+34600000002", "Soporte", sim.Caller{}) }); err != nil {
		t.Fatal(err)
	}
	flush()
	var cust2 string
	for _, l := range sw.Legs() {
		if l.From == "+34600000002" {
			cust2 = l.ID
		}
	}
	advance(3*time.Second + 4*time.Second + 100*time.Millisecond)
	if got := sw.played()[base:]; !slices.Equal(got, []string{cust2 + " bienvenida", cust2 + " musica", cust2 + " musica"}) {
		t.Fatalf("Soporte plays %q", got)
	}
	if err := sw.HangupFromPeer(cust2); err != nil {
		t.Fatal(err)
	}
	flush()
	n := len(sw.played())
	advance(10 * time.Second)
	if got := sw.played()[n:]; len(got) != 0 {
		t.Fatalf("plays after the caller hung up: %q", got)
	}

	// A call that overflows from Ventas to Soporte hears Soporte's music
	// from the next loop on.
	base = len(sw.played())
	conv3, err := s.Expect(func() string { return sw.InjectCall("+34600000003", "Ventas", sim.Caller{}) })
	if err != nil {
		t.Fatal(err)
	}
	flush()
	s.Overflowed(conv3, ventas.ID, soporte.ID)
	flush()
	var cust3 string
	for _, l := range sw.Legs() {
		if l.From == "+34600000003" {
			cust3 = l.ID
		}
	}
	advance(wait + 4*time.Second + 100*time.Millisecond)
	if got := sw.played()[base:]; !slices.Equal(got, []string{cust3 + " queue-wait", cust3 + " musica", cust3 + " musica"}) {
		t.Fatalf("overflowed call plays %q", got)
	}
}

// A queue whose waiting prompt the switch does not know still gets its
// music; names are checked when a queue is written.
func TestQueueAudioSettings(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	q := directory.QueueDefaults()
	q.Name, q.WaitPrompt = "Ventas", "Bad Name"
	if _, err := w.dir.CreateQueue(ctx, q); err == nil || problem.All(err)[0].Field != "waitPrompt" {
		t.Fatalf("bad name: %v", err)
	}
	w.dir.SetPromptChecker(func(ctx context.Context, field, name string) error {
		if name == "known" {
			return nil
		}
		return problem.Invalidf(field, "there is no prompt %q", name)
	})
	q.WaitPrompt, q.HoldMusic = "known", "unknown"
	if _, err := w.dir.CreateQueue(ctx, q); err == nil || problem.All(err)[0].Field != "holdMusic" || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("unknown music: %v", err)
	}
	q.HoldMusic = ""
	created, err := w.dir.CreateQueue(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if wait, music := created.Prompts(); wait != "known" || music != "moh" {
		t.Fatalf("prompts %q %q", wait, music)
	}

	sw := &playSwitch{Switch: sim.New(w.clk, sim.Options{})}
	defer sw.Close()
	s := w.service(conversation.Options{Switch: sw, Router: &router{}})
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(run); close(done) }()
	defer func() { stop(); <-done }()
	if _, err := s.Expect(func() string { return sw.InjectCall("+34600000001", "Ventas", sim.Caller{}) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cust := sw.Legs()[0].ID
	if got := sw.played(); !slices.Equal(got, []string{cust + " known !", cust + " moh"}) {
		t.Fatalf("plays %q", got)
	}
	// Not a telephony error that stops anything: the call is queued and hears music.
	if in, _ := sw.Info(cust); in.Prompts != 1 || in.State != sim.StateAnswered {
		t.Fatalf("caller %+v", in)
	}
}
