// Package conversation is the conversation record and the call control
// that drives it. A Service owns every live conversation: it turns switch
// events (telephony.Switch) and ACD decisions (the routing engine, through
// the Router interface) into participants, states and segments, carries out
// the call controls asked through the API (answer, hang up, hold, mute,
// DTMF, transfers, consults, conferences, monitoring, wrap-up), tells the
// agent sessions what each agent is doing, and commits every change with
// its events (v2.conversations.{id}, v2.users.{id}.conversations,
// v2.routing.queues.{id}.conversations) through the outbox.
//
// Concurrency: one mutex guards the live conversations. Switch events,
// engine decisions and timers are queued (never blocking their sender) and
// applied in order by the goroutine running Run; API calls take the mutex
// in their own goroutine and return once the switch accepted the request —
// its effect arrives as a switch event, like everything else.
package conversation

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/telephony"
)

// Interaction is a conversation waiting for an agent in a queue.
type Interaction struct {
	ID, QueueID     string
	Priority        int
	Skills          []string
	PreferredAgents []string
	EnqueuedAt      time.Time
}

// Offer is the engine's decision: alert this agent for this interaction.
type Offer struct {
	InteractionID, AgentID, QueueID string
	Attempt                         int
	Timeout                         time.Duration
}

// Router is what conversations need of the ACD engine.
type Router interface {
	Enqueue(ix Interaction)
	Dequeue(interactionID string)
	Accept(interactionID, agentID string)
	Decline(interactionID, agentID string)
	Complete(interactionID, agentID string)
	Position(ctx context.Context, interactionID string) (int, time.Duration, error)
	// EstimatedWait is a new arrival's estimated wait in a queue; Unknown
	// when nobody is on the queue.
	EstimatedWait(ctx context.Context, queueID string) (time.Duration, error)
}

// Unknown is an estimated wait that cannot be told (nobody on the queue).
const Unknown time.Duration = -1

// Agents is what conversations need of the agent sessions.
type Agents interface {
	Get(userID string) session.View
	StationOf(userID string) (string, bool)
	UserAtStation(name string) (string, bool)
	SetActivity(ctx context.Context, userID, key string, a session.Activity) error
	EndActivity(ctx context.Context, userID, key string) error
	MarkNotResponding(ctx context.Context, userID string) error
}

// Directory is what conversations need of the directory.
type Directory interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
	GetQueue(ctx context.Context, id string) (directory.Queue, error)
	GetSkill(ctx context.Context, id string) (directory.Skill, error)
	ListQueues(ctx context.Context, f directory.QueueFilter, p directory.Page) ([]directory.Queue, int, error)
	GetWrapupCode(ctx context.Context, id string) (directory.WrapupCode, error)
	ListWrapupCodes(ctx context.Context, f directory.WrapupFilter, p directory.Page) ([]directory.WrapupCode, int, error)
}

// Events is what conversations need of the outbox.
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// PhoneAnswerer is implemented by switches whose phones can be answered
// from the platform (the simulated switch's phones; a SIP phone with
// auto-answer). Without it, agents answer on the phone itself.
type PhoneAnswerer interface {
	AnswerPhone(leg string) error
}

// LegChecker is implemented by switches that can tell whether a leg exists;
// on restart, conversations whose legs survived go on (waiting ones are
// queued again). Without it every leg is taken as gone: the switch runs in
// the process, and Close hung up every leg.
type LegChecker interface {
	HasLeg(leg string) bool
}

// Options configure a Service.
type Options struct {
	DB        *store.DB
	Events    Events
	Switch    telephony.Switch
	Router    Router
	Agents    Agents
	Directory Directory
	Clock     clock.Clock
	Log       *slog.Logger
}

type legRef struct{ conv, part string }

// Service owns the live conversations.
type Service struct {
	db     *store.DB
	events Events
	sw     telephony.Switch
	router Router
	agents Agents
	dir    Directory
	clock  clock.Clock
	log    *slog.Logger

	mu       sync.Mutex
	convs    map[string]*Conversation // live (not ended)
	legs     map[string]legRef
	expected map[string]expectedCall // leg → conversation id chosen before its Incoming event
	timers   map[string]clock.Timer
	names    map[string]string // queue id → name
	auto     map[string]AutoAnswer
	outbound func(CallState) // the dialer's observer of campaign conversations
	inbound  InboundMatch    // inbound campaigns' contact matching
	// agentConnected is the CRM connector's hook (screen pops).
	agentConnected func(AgentConnected)
	// recorded is the recordings index's hook (recording.go).
	recorded func(RecordingDone)
	numbers  NumberPlan // DIDs → queues (numbers.go)
	// hangupAfterPlayback: customer legs hearing the abandon message.
	hangupAfterPlayback map[string]bool
	// waiting: the queue audio of callers waiting in queues (queueaudio.go).
	waiting map[string]*waitAudio

	work      []work
	wake      chan struct{}
	processed atomic.Uint64
	received  atomic.Uint64 // switch events received
	ctx       context.Context
	closed    bool
}

// New builds the service. Call Restore, then Run.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{db: o.DB, events: o.Events, sw: o.Switch, router: o.Router, agents: o.Agents, dir: o.Directory,
		clock: o.Clock, log: o.Log, convs: map[string]*Conversation{}, legs: map[string]legRef{}, expected: map[string]expectedCall{},
		timers: map[string]clock.Timer{}, names: map[string]string{}, auto: map[string]AutoAnswer{}, hangupAfterPlayback: map[string]bool{},
		wake: make(chan struct{}, 1), ctx: context.Background()}
}

// work is an item for the Run goroutine.
type work struct {
	f      func()
	marker bool // Flush's: not counted as processed
}

// post queues work for the Run goroutine; it never blocks.
func (s *Service) post(f func()) {
	s.mu.Lock()
	s.work = append(s.work, work{f: f})
	s.mu.Unlock()
	s.signal()
}

// Run applies switch events and queued work, one at a time, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	events := s.sw.Events()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.closed = true
			for _, t := range s.timers {
				t.Stop()
			}
			s.mu.Unlock()
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			s.mu.Lock()
			s.received.Add(1)
			s.apply(func() { s.onEvent(ev) })
			s.processed.Add(1)
			s.mu.Unlock()
		case <-s.wake:
			// Only the items queued now: an item that queues itself again
			// (Flush's marker) waits for the next turn, after the events.
			s.mu.Lock()
			n := len(s.work)
			s.mu.Unlock()
			for i := 0; i < n; i++ {
				s.mu.Lock()
				w := s.work[0]
				s.work[0] = work{}
				s.work = s.work[1:]
				s.apply(w.f)
				if !w.marker {
					s.processed.Add(1)
				}
				s.mu.Unlock()
			}
		}
	}
}

// apply runs f, logging a panic instead of dying with it. Called with s.mu held.
func (s *Service) apply(f func()) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("conversation: panic handling work", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// Pending is the number of work items waiting.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.work)
}

// emitter is implemented by switches that count the events they emitted
// (the simulated switch), so the reader knows when it has them all.
type emitter interface{ Emitted() uint64 }

// caught reports whether every event the switch emitted so far was received.
func (s *Service) caught() bool {
	em, ok := s.sw.(emitter)
	return !ok || em.Emitted() == s.received.Load()
}

// Caught reports whether every event the switch emitted so far was applied
// (for switches that count them; true otherwise).
func (s *Service) Caught() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught()
}

// Processed counts the switch events and work items applied so far.
func (s *Service) Processed() uint64 { return s.processed.Load() }

// Flush returns once everything queued before it was applied and the
// switch had no event waiting (tests and the demo use it as a barrier).
func (s *Service) Flush(ctx context.Context) error {
	done := make(chan struct{})
	var marker work
	marker = work{marker: true, f: func() {
		if !s.caught() {
			s.work = append(s.work, marker)
			s.signal()
			return
		}
		close(done)
	}}
	s.mu.Lock()
	s.work = append(s.work, marker)
	s.mu.Unlock()
	s.signal()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Decisions of the ACD engine; they are queued, never run on the engine's goroutine.

// Offered: the engine chose an agent for a waiting conversation.
func (s *Service) Offered(o Offer) { s.post(func() { s.onOffer(o) }) }

// OfferTimedOut: the agent did not answer within the queue's alerting timeout.
func (s *Service) OfferTimedOut(interactionID, agentID string) {
	s.post(func() { s.onOfferEnded(interactionID, agentID, true) })
}

// OfferWithdrawn: the engine cancelled an offer (the agent left the queue).
func (s *Service) OfferWithdrawn(interactionID, agentID string) {
	s.post(func() { s.onOfferEnded(interactionID, agentID, false) })
}

// Overflowed: a waiting conversation moved to another queue.
func (s *Service) Overflowed(interactionID, fromQueue, toQueue string) {
	s.post(func() { s.onOverflow(interactionID, fromQueue, toQueue) })
}

// Dropped: the engine let go of a waiting conversation (its queue is gone).
func (s *Service) Dropped(interactionID, queueID string) {
	s.post(func() { s.onDropped(interactionID, queueID) })
}

// commit saves a conversation after a change; a conversation that ended
// leaves memory. Called with s.mu held. Errors are logged: the switch has
// acted already, so the record must follow as well as it can.
func (s *Service) commit(c *Conversation) {
	if c.EndTime.IsZero() && !c.mediaLive() {
		c.EndTime = s.clock.Now()
	}
	if !c.Ended && !c.mediaLive() && !s.acwPending(c) {
		c.Ended = true
		for _, p := range c.Participants {
			if p.Leg != "" {
				delete(s.legs, p.Leg)
				p.Leg = ""
			}
		}
	}
	if err := s.save(s.ctx, c); err != nil {
		s.log.Error("conversation: saving failed", "conversation", c.ID, "err", err)
	}
	if c.Campaign != "" && s.outbound != nil {
		s.outbound(outboundState(c))
	}
	if c.Ended {
		delete(s.convs, c.ID)
	}
}

func (s *Service) acwPending(c *Conversation) bool {
	for _, p := range c.Participants {
		if p.ACW {
			return true
		}
	}
	return false
}

// queueNames returns the names of the conversation's queues.
func (s *Service) queueNames(ctx context.Context, c *Conversation) map[string]string {
	out := map[string]string{}
	for _, q := range c.queues() {
		out[q] = s.queueName(ctx, q)
	}
	return out
}

func (s *Service) queueName(ctx context.Context, id string) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	q, err := s.dir.GetQueue(ctx, id)
	if err != nil {
		return ""
	}
	s.names[id] = q.Name
	return q.Name
}

// QueueRenamed forgets a cached queue name.
func (s *Service) QueueRenamed(id string) {
	s.mu.Lock()
	delete(s.names, id)
	s.mu.Unlock()
}

// newParticipant adds a participant.
func (s *Service) newParticipant(c *Conversation, purpose, state, direction string) *Participant {
	p := &Participant{ID: uuid.NewString(), Purpose: purpose, State: state, Direction: direction, StartTime: s.clock.Now(),
		Attributes: map[string]string{}, Segments: []Segment{}}
	c.Participants = append(c.Participants, p)
	return p
}

func (s *Service) bind(c *Conversation, p *Participant, leg string) {
	p.Leg = leg
	s.legs[leg] = legRef{conv: c.ID, part: p.ID}
}

// byLeg finds the participant on a leg.
func (s *Service) byLeg(leg string) (*Conversation, *Participant) {
	ref, ok := s.legs[leg]
	if !ok {
		return nil, nil
	}
	c := s.convs[ref.conv]
	if c == nil {
		return nil, nil
	}
	return c, c.participant(ref.part)
}

// tel renders a number as a tel: address ("" stays "").
func tel(n string) string {
	if n == "" || strings.Contains(n, ":") {
		return n
	}
	return "tel:" + n
}

// disconnect marks a participant gone (its leg is already gone or being
// hung up) and tells its user's session. Called with s.mu held.
func (s *Service) disconnect(c *Conversation, p *Participant, why string) {
	if !p.Live() {
		return
	}
	now := s.clock.Now()
	wasConnected := p.State == StateConnected
	p.State, p.EndTime, p.DisconnectType = StateDisconnected, now, why
	if p.Held {
		p.Held = false
	}
	p.closeSegment(now, why)
	if p.Leg != "" {
		delete(s.legs, p.Leg)
		p.Leg = ""
	}
	p.InConf, p.Parked = false, false
	if t, ok := s.timers["alert:"+p.ID]; ok {
		t.Stop()
		delete(s.timers, "alert:"+p.ID)
	}
	if p.UserID == "" {
		return
	}
	if wasConnected && p.ACD && p.Purpose == PurposeAgent {
		s.startWrapup(c, p)
		return
	}
	if wasConnected && p.Dialer && customerAnswered(c) {
		s.holdForRelease(c, p)
		return
	}
	if err := s.agents.EndActivity(s.ctx, p.UserID, p.ID); err != nil {
		s.log.Error("conversation: session update failed", "user", p.UserID, "err", err)
	}
}

// hangup ends a participant's leg (if any) and marks it gone.
func (s *Service) hangup(c *Conversation, p *Participant, cause, why string) {
	if leg := p.Leg; leg != "" {
		if err := s.sw.Hangup(s.ctx, leg, cause); err != nil && !errors.Is(err, telephony.ErrNoLeg) {
			s.log.Warn("conversation: hangup failed", "leg", leg, "err", err)
		}
	}
	s.disconnect(c, p, why)
}

// liveParties are the connected participants with media (no acd, no monitor).
func liveParties(c *Conversation) []*Participant {
	var out []*Participant
	for _, p := range c.Participants {
		if p.State == StateConnected && p.Leg != "" && p.Purpose != PurposeMonitor && p.Purpose != PurposeACD {
			out = append(out, p)
		}
	}
	return out
}

func monitors(c *Conversation) []*Participant {
	var out []*Participant
	for _, p := range c.Participants {
		if p.Purpose == PurposeMonitor && p.State == StateConnected && p.Leg != "" {
			out = append(out, p)
		}
	}
	return out
}

// arrange puts the media of a conversation in shape after a change: two
// parties are bridged; more, or any monitor, and everyone meets in a
// conference. Parked participants (held aside by a consult) are left out.
// Called with s.mu held.
func (s *Service) arrange(c *Conversation) {
	ctx := s.ctx
	var parties []*Participant
	for _, p := range liveParties(c) {
		if !p.Parked {
			parties = append(parties, p)
		}
	}
	mons := monitors(c)
	if len(mons) == 0 && len(parties) <= 2 {
		if c.Conference != "" {
			// Back to two: a plain bridge again.
			s.tolerate("end conference", s.sw.EndConference(ctx, c.Conference))
			c.Conference = ""
			for _, p := range c.Participants {
				p.InConf = false
			}
		}
		if len(parties) == 2 {
			s.tolerate("bridge", s.sw.Bridge(ctx, parties[0].Leg, parties[1].Leg))
		}
		return
	}
	if c.Conference == "" {
		conf, err := s.sw.NewConference(ctx)
		if err != nil {
			s.log.Error("conversation: conference failed", "conversation", c.ID, "err", err)
			return
		}
		c.Conference = conf
	}
	for _, p := range parties {
		if !p.InConf {
			if err := s.sw.Join(ctx, c.Conference, p.Leg, telephony.Full, ""); s.tolerate("join", err) {
				p.InConf = true
			}
		}
	}
	for _, p := range c.Participants {
		if p.Parked && p.InConf {
			s.tolerate("leave", s.sw.Leave(ctx, c.Conference, p.Leg))
			p.InConf = false
		}
	}
	for _, m := range mons {
		mode, coach := telephony.Listen, ""
		switch m.MonitorMode {
		case MonitorWhisper:
			mode = telephony.Whisper
			if t := c.participant(m.MonitoredID); t != nil {
				coach = t.Leg
			}
		case MonitorBarge:
			mode = telephony.Full
		}
		if err := s.sw.Join(ctx, c.Conference, m.Leg, mode, coach); s.tolerate("join monitor", err) {
			m.InConf = true
		}
	}
}

// tolerate logs a switch error that only says "already so" at debug level
// and anything else as a warning; it reports whether the request succeeded
// or was already in effect.
func (s *Service) tolerate(op string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, telephony.ErrState):
		s.log.Debug("conversation: switch says already so", "op", op, "err", err)
		return true
	default:
		s.log.Warn("conversation: switch request failed", "op", op, "err", err)
		return false
	}
}

// startWrapup begins an agent's after-call work per the queue's rules, or
// finishes at once when none is needed. Called with s.mu held.
func (s *Service) startWrapup(c *Conversation, p *Participant) {
	q, err := s.dir.GetQueue(s.ctx, p.QueueID)
	prompt, timeout := PromptOptional, 0
	if err == nil {
		prompt, timeout = q.ACWPrompt, q.ACWTimeoutMs
	}
	p.WrapupPrompt, p.WrapupTimeoutMs = prompt, timeout
	forced := prompt == PromptForcedTimeout
	required := prompt == PromptMandatory || prompt == PromptMandatoryTimeout || forced
	p.WrapupRequired = required
	if !required || (p.Wrapup != nil && !forced) {
		s.finishWrapup(c, p)
		return
	}
	now := s.clock.Now()
	p.ACW, p.ACWStart = true, now
	p.Segments = append(p.Segments, Segment{Type: SegmentWrapup, Start: now, QueueID: p.QueueID})
	if err := s.agents.SetActivity(s.ctx, p.UserID, p.ID, session.Wrapup); err != nil {
		s.log.Error("conversation: session update failed", "user", p.UserID, "err", err)
	}
	if (prompt == PromptMandatoryTimeout || forced) && timeout > 0 {
		s.armWrapupTimer(c.ID, p.ID, p.ACWStart.Add(time.Duration(timeout)*time.Millisecond))
	}
	s.autoWrapup(c, p)
}

func (s *Service) armWrapupTimer(convID, partID string, at time.Time) {
	key := "acw:" + partID
	if t, ok := s.timers[key]; ok {
		t.Stop()
	}
	s.timers[key] = s.clock.AfterFunc(at.Sub(s.clock.Now()), func() {
		s.post(func() {
			delete(s.timers, key)
			c := s.convs[convID]
			if c == nil {
				return
			}
			p := c.participant(partID)
			if p == nil || !p.ACW {
				return
			}
			if p.Wrapup == nil {
				now := s.clock.Now()
				p.Wrapup = &Wrapup{Code: TimeoutWrapupCode, Name: "Wrap-up timeout", DurationSeconds: int(now.Sub(p.ACWStart) / time.Second), EndTime: now}
			}
			s.finishWrapup(c, p)
			s.commit(c)
		})
	})
}

// finishWrapup ends after-call work: the agent is free of this conversation.
func (s *Service) finishWrapup(c *Conversation, p *Participant) {
	now := s.clock.Now()
	if p.ACW {
		p.ACW = false
		if n := len(p.Segments); n > 0 && p.Segments[n-1].Type == SegmentWrapup && p.Segments[n-1].End.IsZero() {
			p.Segments[n-1].End = now
			if p.Wrapup != nil {
				p.Segments[n-1].WrapupCode = p.Wrapup.Code
			}
		}
	}
	if t, ok := s.timers["acw:"+p.ID]; ok {
		t.Stop()
		delete(s.timers, "acw:"+p.ID)
	}
	if p.ACD {
		s.router.Complete(c.ID, p.UserID)
	}
	if err := s.agents.EndActivity(s.ctx, p.UserID, p.ID); err != nil {
		s.log.Error("conversation: session update failed", "user", p.UserID, "err", err)
	}
}
