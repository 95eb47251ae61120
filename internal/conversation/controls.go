package conversation

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/telephony"
)

// Actor is who asks for a control: a person (UserID) or an integration;
// supervisors (and admins) may act on conversations they are not in.
type Actor struct {
	UserID     string
	Supervisor bool
}

// Target is where a transfer, a consult, an invitation or a call goes:
// one of a user, a queue or an external number.
type Target struct {
	UserID   string
	UserName string
	QueueID  string
	Queue    string // queue name
	Address  string // a phone number
}

// Error codes of refused controls.
const (
	CodeNotParticipant = "conversation.not.participant"
	CodeEnded          = "conversation.ended"
	CodeState          = "participant.state"
	CodeNoStation      = "user.no.station"
	CodeConsult        = "consult.in.progress"
	CodeNoConsult      = "consult.none"
	CodeAnswerOnPhone  = "answer.on.phone"
)

func conflict(code, format string, args ...any) error {
	return problem.Coded(problem.Conflict, code, "", format, args...)
}

// live finds a live conversation; an ended one gives 409.
func (s *Service) live(ctx context.Context, id string) (*Conversation, error) {
	if c := s.convs[id]; c != nil {
		return c, nil
	}
	if _, err := s.load(ctx, id); err != nil {
		return nil, err
	}
	return nil, conflict(CodeEnded, "conversation %s has ended", id)
}

// mine is the actor's live (or, with acw, wrapping-up) participant in c.
func mine(c *Conversation, a Actor) *Participant {
	var best *Participant
	for _, p := range c.Participants {
		if p.UserID != a.UserID || a.UserID == "" || !p.Live() {
			continue
		}
		if best == nil || p.State == StateConnected {
			best = p
		}
	}
	return best
}

// part finds the participant a control names, checking the actor may act
// on it: their own participant; or, for a person connected to the call (or
// a supervisor), any participant.
func (s *Service) part(c *Conversation, a Actor, id string) (*Participant, error) {
	p := c.participant(id)
	if p == nil {
		return nil, problem.NotFoundf("participant %s is not in conversation %s", id, c.ID)
	}
	if a.Supervisor || (a.UserID != "" && p.UserID == a.UserID) {
		return p, nil
	}
	if m := mine(c, a); m != nil && m.State == StateConnected {
		return p, nil
	}
	return nil, conflict(CodeNotParticipant, "you are not on conversation %s", c.ID)
}

// connectedMine is the actor's connected participant, required for
// controls that act from the actor's side of the call.
func connectedMine(c *Conversation, a Actor) (*Participant, error) {
	m := mine(c, a)
	if m == nil {
		return nil, conflict(CodeNotParticipant, "you are not on conversation %s", c.ID)
	}
	if m.State != StateConnected {
		return nil, conflict(CodeState, "your participant is %s: this needs a connected call", m.State)
	}
	return m, nil
}

// connectedParty finds the live conversation and the participant a control
// names (see part), which must be connected with a leg; otherwise the
// refusal reads "participant is <state>: <need>". s.mu must be held.
func (s *Service) connectedParty(ctx context.Context, a Actor, convID, partID, need string) (*Conversation, *Participant, error) {
	c, p, err := s.livePart(ctx, a, convID, partID)
	if err != nil {
		return nil, nil, err
	}
	if p.State != StateConnected || p.Leg == "" {
		return nil, nil, conflict(CodeState, "participant is %s: %s", p.State, need)
	}
	return c, p, nil
}

// livePart finds a live conversation and one of its participants the actor
// may act on. s.mu must be held.
func (s *Service) livePart(ctx context.Context, a Actor, convID, partID string) (*Conversation, *Participant, error) {
	c, err := s.live(ctx, convID)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.part(c, a, partID)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// Answer picks up an alerting participant's phone (the actor's own).
func (s *Service) Answer(ctx context.Context, a Actor, convID, partID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return err
	}
	p := c.participant(partID)
	if p == nil {
		return problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
	}
	if p.UserID == "" || p.UserID != a.UserID {
		return conflict(CodeNotParticipant, "only %s can answer this participant, on their own phone", nameOr(p.Name, "its user"))
	}
	if p.State == StateConnected {
		return nil
	}
	if p.State != StateAlerting || p.Leg == "" {
		return conflict(CodeState, "participant is %s: only an alerting call can be answered", p.State)
	}
	pa, ok := s.sw.(PhoneAnswerer)
	if !ok {
		return conflict(CodeAnswerOnPhone, "answer on your phone: this switch cannot answer it for you")
	}
	if err := pa.AnswerPhone(p.Leg); err != nil {
		return conflict(CodeState, "the phone cannot answer now: %v", err)
	}
	return nil
}

func nameOr(n, def string) string {
	if n == "" {
		return def
	}
	return n
}

// Disconnect hangs up a participant: the actor's own (declining an offer,
// leaving a call, completing an attended transfer, ending monitoring) or,
// for someone on the call or a supervisor, another party.
func (s *Service) Disconnect(ctx context.Context, a Actor, convID, partID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.livePart(ctx, a, convID, partID)
	if err != nil {
		return err
	}
	if !p.Live() {
		return conflict(CodeState, "participant is already disconnected")
	}
	if p.Purpose == PurposeACD {
		return conflict(CodeState, "the queue is not a party: hang up the caller, or transfer")
	}
	s.drop(c, p, DisconnectClient)
	s.commit(c)
	return nil
}

// drop takes a participant out of the call and decides for the others.
func (s *Service) drop(c *Conversation, p *Participant, why string) {
	wasAlerting, wasConnected := p.State == StateAlerting, p.State == StateConnected
	cause := telephony.CauseNormal
	if !wasConnected {
		cause = telephony.CauseCancelled
	}
	if cs := c.Consult; cs != nil && cs.Consulter == p.ID {
		if t := c.participant(cs.Target); t != nil && t.State == StateConnected {
			why = DisconnectTransferConsult
		}
	}
	if wasAlerting && p.ACD && p.Purpose == PurposeAgent {
		// Declined: the engine routes the call again; the agent is not
		// responding (marked first, so it never looks idle in between).
		s.router.Decline(c.ID, p.UserID)
		s.notResponding(p.UserID)
		s.hangup(c, p, cause, why)
		return
	}
	s.hangup(c, p, cause, why)
	s.afterLeave(c, p, wasConnected)
}

// DisconnectAll ends the whole conversation (everyone is hung up).
func (s *Service) DisconnectAll(ctx context.Context, a Actor, convID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return err
	}
	if !a.Supervisor && mine(c, a) == nil {
		return conflict(CodeNotParticipant, "you are not on conversation %s", c.ID)
	}
	if !c.mediaLive() {
		return conflict(CodeState, "the call is over; only wrap-up remains")
	}
	s.endAll(c, DisconnectClient)
	s.commit(c)
	return nil
}

// ForceDisconnect tears a conversation down whatever its state, wrap-ups
// included: the way out of anything stuck.
func (s *Service) ForceDisconnect(ctx context.Context, a Actor, convID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return err
	}
	if !a.Supervisor && mine(c, a) == nil {
		hasUser := false
		for _, p := range c.Participants {
			hasUser = hasUser || (p.UserID == a.UserID && p.Active())
		}
		if !hasUser {
			return conflict(CodeNotParticipant, "you are not on conversation %s", c.ID)
		}
	}
	s.endAll(c, DisconnectSystem)
	for _, p := range c.Participants {
		if p.ACW {
			p.WrapupSkipped = true
			s.finishWrapup(c, p)
		}
	}
	s.commit(c)
	return nil
}

// counterparts are the other connected parties of p's call.
func counterparts(c *Conversation, p *Participant) []*Participant {
	var out []*Participant
	for _, o := range liveParties(c) {
		if o.ID != p.ID && !o.Parked {
			out = append(out, o)
		}
	}
	return out
}

// SetHeld holds or resumes. On the actor's own participant in a two-party
// call the other party is held (hears music); in a conference the actor's
// own leg is. On another participant, that participant is held.
func (s *Service) SetHeld(ctx context.Context, a Actor, convID, partID string, held bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.livePart(ctx, a, convID, partID)
	if err != nil {
		return err
	}
	if p.State != StateConnected || p.Leg == "" || p.Purpose == PurposeMonitor {
		return conflict(CodeState, "participant is %s: only a connected party can be held", p.State)
	}
	if c.Consult != nil && (p.ID == c.Consult.Object || p.ID == c.Consult.Target) {
		return conflict(CodeConsult, "a consult decides who is held: change it with speakTo")
	}
	if p.Held == held {
		return nil
	}
	leg := p.Leg
	if p.UserID != "" && c.Conference == "" {
		others := counterparts(c, p)
		if len(others) == 1 {
			leg = others[0].Leg
		}
	}
	var op error
	if held {
		op = s.sw.Hold(ctx, leg)
	} else {
		op = s.sw.Resume(ctx, leg)
	}
	if !s.tolerate("hold", op) {
		return conflict(CodeState, "the switch refused: %v", op)
	}
	s.markHeld(p, held, leg)
	s.commit(c)
	return nil
}

// markHeld records a hold (and which leg it held) in the timeline.
func (s *Service) markHeld(p *Participant, held bool, leg string) {
	now := s.clock.Now()
	p.Held = held
	if held {
		p.StartHoldTime = now
		p.segment(now, SegmentHold, p.QueueID)
		p.HeldLeg = leg
	} else {
		p.segment(now, SegmentInteract, p.QueueID)
		p.HeldLeg = ""
	}
}

// hold / resume a participant's own leg (consults).
func (s *Service) holdOwn(p *Participant, on bool) {
	if p.Held == on || p.Leg == "" {
		return
	}
	var err error
	if on {
		err = s.sw.Hold(s.ctx, p.Leg)
	} else {
		err = s.sw.Resume(s.ctx, p.Leg)
	}
	s.tolerate("hold", err)
	s.markHeld(p, on, p.Leg)
}

// SetMuted mutes or unmutes a participant's voice.
func (s *Service) SetMuted(ctx context.Context, a Actor, convID, partID string, muted bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.connectedParty(ctx, a, convID, partID, "only a connected party can be muted")
	if err != nil {
		return err
	}
	if p.Muted == muted {
		return nil
	}
	if err := s.sw.Mute(ctx, p.Leg, muted); !s.tolerate("mute", err) {
		return conflict(CodeState, "the switch refused: %v", err)
	}
	p.Muted = muted
	s.commit(c)
	return nil
}

// SetRecording starts or stops recording a participant's leg.
func (s *Service) SetRecording(ctx context.Context, a Actor, convID, partID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.connectedParty(ctx, a, convID, partID, "only a connected party can be recorded")
	if err != nil {
		return err
	}
	if p.Recording == on {
		return nil
	}
	if err := s.sw.Record(ctx, p.Leg, on); !s.tolerate("record", err) {
		if errors.Is(err, telephony.ErrNotSupported) {
			return conflict("recording.unsupported", "this switch does not record")
		}
		return conflict(CodeState, "the switch refused: %v", err)
	}
	p.Recording = on
	s.commit(c)
	return nil
}

var digitsRE = regexp.MustCompile(`^[0-9*#A-Da-d]{1,64}$`)

// SendDigits sends DTMF, one digit after another. From the actor's own
// participant the digits go to the other parties (an IVR on the far end);
// to another participant, to that participant.
func (s *Service) SendDigits(ctx context.Context, a Actor, convID, partID, digits string) error {
	if !digitsRE.MatchString(digits) {
		return problem.Invalidf("digits", "1 to 64 of 0-9 * # A-D, got %q", digits)
	}
	digits = strings.ToUpper(digits)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.connectedParty(ctx, a, convID, partID, "digits need a connected call")
	if err != nil {
		return err
	}
	targets := []*Participant{p}
	if p.UserID == a.UserID && a.UserID != "" {
		targets = counterparts(c, p)
		if len(targets) == 0 {
			return conflict(CodeState, "nobody else is on the call to hear the digits")
		}
	}
	for _, t := range targets {
		if err := s.sw.SendDTMF(ctx, t.Leg, digits); !s.tolerate("dtmf", err) {
			return conflict(CodeState, "the switch refused: %v", err)
		}
	}
	return nil
}

// ---- wrap-up and attributes ----

// MaxNotes bounds wrap-up notes.
const MaxNotes = 4000

// SetWrapup records the actor's wrap-up (code and notes) on their
// participant. During after-call work it ends it (except with a forced
// time-limited wrap-up, which runs its full time); during the call it is
// kept for the end.
func (s *Service) SetWrapup(ctx context.Context, a Actor, convID, partID, code, notes string) error {
	if len(notes) > MaxNotes {
		return problem.Invalidf("wrapup.notes", "must be at most %d characters", MaxNotes)
	}
	if !directory.IsUUID(code) {
		return problem.Coded(problem.Invalid, "wrapup.code.unknown", "wrapup.code", "%q is not a wrap-up code id", code)
	}
	w, err := s.dir.GetWrapupCode(ctx, code)
	if err != nil {
		return problem.Coded(problem.Invalid, "wrapup.code.unknown", "wrapup.code", "there is no wrap-up code %s", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, stored, err := s.anyConv(ctx, convID)
	if err != nil {
		return err
	}
	p := c.participant(partID)
	if p == nil {
		return problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
	}
	if p.UserID == "" || p.UserID != a.UserID {
		return conflict(CodeNotParticipant, "only %s can wrap up this participant", nameOr(p.Name, "its user"))
	}
	if !p.ACW && !p.Live() && p.Wrapup != nil {
		return conflict("wrapup.done", "the wrap-up of this participant is already recorded")
	}
	if p.QueueID != "" {
		allowed, n, err := s.dir.ListWrapupCodes(ctx, directory.WrapupFilter{QueueID: p.QueueID}, directory.Page{Limit: 1000})
		if err != nil {
			return err
		}
		ok := n == 0
		for _, x := range allowed {
			ok = ok || x.ID == code
		}
		if !ok {
			return problem.Coded(problem.Invalid, "wrapup.code.not.allowed", "wrapup.code", "wrap-up code %q is not assigned to queue %s", w.Name, s.queueName(ctx, p.QueueID))
		}
	}
	now := s.clock.Now()
	dur := 0
	if p.ACW {
		dur = int(now.Sub(p.ACWStart) / time.Second)
	}
	p.Wrapup = &Wrapup{Code: w.ID, Name: w.Name, Notes: notes, DurationSeconds: dur, EndTime: now}
	p.WrapupSkipped = false
	if p.ACW && p.WrapupPrompt != PromptForcedTimeout {
		s.finishWrapup(c, p)
	}
	s.persist(c, stored)
	return nil
}

// SkipWrapup says the actor will not wrap up (only when not mandatory).
func (s *Service) SkipWrapup(ctx context.Context, a Actor, convID, partID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, stored, err := s.anyConv(ctx, convID)
	if err != nil {
		return err
	}
	p := c.participant(partID)
	if p == nil {
		return problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
	}
	if p.UserID == "" || p.UserID != a.UserID {
		return conflict(CodeNotParticipant, "only %s can wrap up this participant", nameOr(p.Name, "its user"))
	}
	if p.WrapupRequired {
		return problem.Coded(problem.Invalid, "wrapup.required", "wrapupSkipped", "queue %s requires a wrap-up code (%s)", s.queueName(ctx, p.QueueID), p.WrapupPrompt)
	}
	p.WrapupSkipped = true
	if p.ACW {
		s.finishWrapup(c, p)
	}
	s.persist(c, stored)
	return nil
}

// anyConv finds a conversation live or stored (ended).
func (s *Service) anyConv(ctx context.Context, id string) (*Conversation, bool, error) {
	if c := s.convs[id]; c != nil {
		return c, false, nil
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

func (s *Service) persist(c *Conversation, stored bool) {
	if stored {
		if err := s.save(s.ctx, c); err != nil {
			s.log.Error("conversation: saving failed", "conversation", c.ID, "err", err)
		}
		return
	}
	s.commit(c)
}

// Attribute limits.
const (
	MaxAttributes     = 100
	MaxAttributeKey   = 100
	MaxAttributeValue = 4000
)

// SetAttributes merges key/value data into a participant's attributes; a
// nil value removes the key. Works on ended conversations too (the CRM
// connector writes after the call).
func (s *Service) SetAttributes(ctx context.Context, a Actor, convID, partID string, attrs map[string]*string) error {
	var c problem.Collector
	if len(attrs) == 0 {
		c.Add("attributes", "give at least one attribute")
	}
	for k, v := range attrs {
		if k == "" || len(k) > MaxAttributeKey {
			c.Add("attributes", "keys must be 1 to %d characters, got %q", MaxAttributeKey, k)
		}
		if v != nil && len(*v) > MaxAttributeValue {
			c.Add("attributes."+k, "must be at most %d characters", MaxAttributeValue)
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conv, stored, err := s.anyConv(ctx, convID)
	if err != nil {
		return err
	}
	p := conv.participant(partID)
	if p == nil {
		return problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
	}
	if !a.Supervisor && !hasUser(conv, a.UserID) {
		return conflict(CodeNotParticipant, "you are not on conversation %s", convID)
	}
	next := map[string]string{}
	for k, v := range p.Attributes {
		next[k] = v
	}
	for k, v := range attrs {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	if len(next) > MaxAttributes {
		return problem.Invalidf("attributes", "a participant holds at most %d attributes", MaxAttributes)
	}
	p.Attributes = next
	s.persist(conv, stored)
	return nil
}

func hasUser(c *Conversation, userID string) bool {
	if userID == "" {
		return false
	}
	for _, p := range c.Participants {
		if p.UserID == userID {
			return true
		}
	}
	return false
}

// ---- reads ----

// Get returns a conversation; agents see only those they are or were in.
func (s *Service) Get(ctx context.Context, a Actor, id string) (CallConversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _, err := s.anyConv(ctx, id)
	if err != nil {
		return CallConversation{}, err
	}
	if !a.Supervisor && !hasUser(c, a.UserID) {
		return CallConversation{}, problem.Forbiddenf("you are not a participant of conversation %s", id)
	}
	return c.View(s.queueNames(ctx, c)), nil
}

// List returns the actor's active conversations (a live call or a pending
// wrap-up), oldest first.
func (s *Service) List(ctx context.Context, a Actor) []CallConversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []*Conversation
	for _, c := range s.convs {
		if a.UserID != "" && c.activeFor(a.UserID) {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].StartTime.Equal(cs[j].StartTime) {
			return cs[i].StartTime.Before(cs[j].StartTime)
		}
		return cs[i].ID < cs[j].ID
	})
	out := make([]CallConversation, len(cs))
	for i, c := range cs {
		out[i] = c.View(s.queueNames(ctx, c))
	}
	return out
}

// WrapupCodes lists the codes a participant may use: its queue's, or every
// code when the queue has none assigned (or the call had no queue).
func (s *Service) WrapupCodes(ctx context.Context, a Actor, convID, partID string) ([]directory.WrapupCode, error) {
	s.mu.Lock()
	c, _, err := s.anyConv(ctx, convID)
	var queueID string
	if err == nil {
		if p := c.participant(partID); p == nil {
			err = problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
		} else if !a.Supervisor && !hasUser(c, a.UserID) {
			err = problem.Forbiddenf("you are not a participant of conversation %s", convID)
		} else {
			queueID = p.QueueID
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if queueID != "" {
		codes, n, err := s.dir.ListWrapupCodes(ctx, directory.WrapupFilter{QueueID: queueID}, directory.Page{Limit: 1000})
		if err != nil || n > 0 {
			return codes, err
		}
	}
	codes, _, err := s.dir.ListWrapupCodes(ctx, directory.WrapupFilter{}, directory.Page{Limit: 1000})
	return codes, err
}

// Participant returns one participant's view.
func (s *Service) Participant(ctx context.Context, a Actor, convID, partID string) (CallMediaParticipant, error) {
	v, err := s.Get(ctx, a, convID)
	if err != nil {
		return CallMediaParticipant{}, err
	}
	for _, p := range v.Participants {
		if p.ID == partID {
			return p, nil
		}
	}
	return CallMediaParticipant{}, problem.NotFoundf("participant %s is not in conversation %s", partID, convID)
}

// Wait is the estimated wait in a queue: for a new arrival, or for a
// conversation waiting there (then with its position, 1 = next; 0 while
// it is being offered). Unknown when nobody is on the queue.
type Wait struct {
	Estimated time.Duration
	Position  int
	Waiting   bool // the conversation given waits in the queue
}

// EstimatedWait answers for a queue, and a conversation when convID is set.
func (s *Service) EstimatedWait(ctx context.Context, queueID, convID string) (Wait, error) {
	if _, err := s.dir.GetQueue(ctx, queueID); err != nil {
		return Wait{}, err
	}
	if convID != "" {
		s.mu.Lock()
		c := s.convs[convID]
		var a *Participant
		if c != nil {
			a = c.waitingACD()
		}
		s.mu.Unlock()
		if a == nil || a.QueueID != queueID {
			return Wait{}, problem.Coded(problem.Invalid, "conversation.not.waiting", "conversationId", "conversation %s is not waiting in queue %s", convID, queueID)
		}
		pos, w, err := s.router.Position(ctx, convID)
		if err != nil {
			return Wait{}, problem.Coded(problem.Invalid, "conversation.not.waiting", "conversationId", "conversation %s is not waiting in queue %s", convID, queueID)
		}
		return Wait{Estimated: w, Position: pos, Waiting: true}, nil
	}
	w, err := s.router.EstimatedWait(ctx, queueID)
	return Wait{Estimated: w}, err
}

// ---- targets ----

// resolved is a checked Target.
type resolved struct {
	userID, station, userName string
	queue                     *directory.Queue
	routing                   *Routing // for a queue: what the call asks of the ACD (nil: keep the priority of the last queue)
	address                   string
}

func (s *Service) resolveTarget(ctx context.Context, a Actor, t Target, field string) (resolved, error) {
	n := 0
	for _, v := range []string{t.UserID + t.UserName, t.QueueID + t.Queue, t.Address} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return resolved{}, problem.Invalidf(field, "name exactly one destination: a user (userId), a queue (queueId) or a number (address)")
	}
	switch {
	case t.UserID != "" || t.UserName != "":
		var u directory.User
		var err error
		if t.UserID != "" {
			if !directory.IsUUID(t.UserID) {
				return resolved{}, problem.Invalidf(field+".userId", "%q is not a user id", t.UserID)
			}
			u, err = s.dir.GetUser(ctx, t.UserID)
		} else {
			u, err = s.userByName(ctx, t.UserName)
		}
		if err != nil || u.State != "active" {
			return resolved{}, problem.Coded(problem.Invalid, "user.unknown", field+".userId", "there is no active user %s%s", t.UserID, t.UserName)
		}
		if u.ID == a.UserID {
			return resolved{}, problem.Invalidf(field+".userId", "you cannot call yourself")
		}
		st, ok := s.agents.StationOf(u.ID)
		if !ok {
			return resolved{}, conflict(CodeNoStation, "%s is not logged into a station", u.Name)
		}
		return resolved{userID: u.ID, station: st, userName: u.Name}, nil
	case t.QueueID != "" || t.Queue != "":
		if t.QueueID != "" {
			q, err := s.dir.GetQueue(ctx, t.QueueID)
			if err != nil {
				return resolved{}, problem.Coded(problem.Invalid, "queue.unknown", field+".queueId", "there is no queue %s", t.QueueID)
			}
			return resolved{queue: &q}, nil
		}
		qs, _, err := s.dir.ListQueues(ctx, directory.QueueFilter{Name: t.Queue}, directory.Page{Limit: 1})
		if err != nil || len(qs) == 0 {
			return resolved{}, problem.Coded(problem.Invalid, "queue.unknown", field+".queueName", "there is no queue named %q", t.Queue)
		}
		return resolved{queue: &qs[0]}, nil
	}
	num := strings.TrimSpace(strings.TrimPrefix(t.Address, telephony.TelPrefix))
	if !validNumber(num) {
		return resolved{}, problem.Coded(problem.Invalid, "address.invalid", field+".address", "%q is not a phone number", t.Address)
	}
	return resolved{address: num}, nil
}

var numberRE = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{0,30}$`)

func validNumber(n string) bool { return numberRE.MatchString(n) }

func (s *Service) userByName(ctx context.Context, name string) (directory.User, error) {
	if d, ok := s.dir.(interface {
		GetUserByUsername(ctx context.Context, username string) (directory.User, error)
	}); ok {
		return d.GetUserByUsername(ctx, name)
	}
	return directory.User{}, problem.NotFoundf("user %q not found", name)
}

// reach adds the participant for a resolved target and places its leg (a
// queue instead gets an acd participant and waits for the engine).
func (s *Service) reach(c *Conversation, r resolved, purpose string, other *Participant) (*Participant, error) {
	switch {
	case r.userID != "":
		return s.ringUser(c, r.userID, purpose, other)
	case r.queue != nil:
		s.names[r.queue.ID] = r.queue.Name
		// A transfer keeps the call's priority; the skills are the new queue's.
		var rt Routing
		if r.routing != nil {
			rt = *r.routing
		} else if last := lastQueue(c); last != nil {
			rt.Priority = last.Priority
		}
		return s.enqueue(c, r.queue, rt, s.clock.Now()), nil
	}
	return s.dial(c, r.address, other)
}

// dial places a leg to an external number.
func (s *Service) dial(c *Conversation, number string, caller *Participant) (*Participant, error) {
	p := s.newParticipant(c, PurposeExternal, StateDialing, "outbound")
	p.Name, p.Address, p.Dnis = number, tel(number), tel(number)
	p.segment(p.StartTime, SegmentDialing, "")
	from := ""
	if caller != nil {
		from = strings.TrimPrefix(caller.Ani, telephony.TelPrefix)
	}
	leg, err := s.sw.Originate(s.ctx, telephony.OriginateRequest{To: telephony.TelPrefix + number, From: from,
		Tags: map[string]string{"conversationId": c.ID, "participantId": p.ID}})
	if err != nil {
		s.disconnect(c, p, DisconnectError)
		if errors.Is(err, telephony.ErrBadDestination) || errors.Is(err, telephony.ErrNotSupported) {
			return p, problem.Coded(problem.Invalid, "address.invalid", "address", "%q cannot be called: %v", number, err)
		}
		return p, conflict("call.failed", "could not call %s: %v", number, err)
	}
	s.bind(c, p, leg)
	return p, nil
}

func lastQueue(c *Conversation) *Participant {
	for i := len(c.Participants) - 1; i >= 0; i-- {
		if p := c.Participants[i]; p.Purpose == PurposeACD {
			return p
		}
	}
	return nil
}

// ---- blind transfer ----

// Replace transfers the call away from a participant (the actor's own, or
// for a supervisor any user's) to a target at once: the participant drops
// out and the other party waits (on hold) for the target.
func (s *Service) Replace(ctx context.Context, a Actor, convID, partID string, t Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, p, err := s.livePart(ctx, a, convID, partID)
	if err != nil {
		return err
	}
	if p.UserID == "" || p.State != StateConnected || p.Leg == "" || p.Purpose == PurposeMonitor {
		return conflict(CodeState, "participant is %s %s: only a connected agent or user can be transferred away", p.State, p.Purpose)
	}
	if c.Consult != nil {
		return conflict(CodeConsult, "an attended transfer is in progress: complete or cancel it first")
	}
	others := counterparts(c, p)
	if len(others) != 1 || c.Conference != "" {
		return conflict("transfer.conference", "a transfer needs a two-party call; in a conference, leave or remove parties instead")
	}
	other := others[0]
	r, err := s.resolveTarget(ctx, Actor{UserID: p.UserID}, t, "body")
	if err != nil {
		return err
	}
	s.holdOwn(other, true)
	other.Parked = true
	np, err := s.reach(c, r, PurposeAgent, other)
	if err != nil {
		// Nothing reached: the call goes on as it was.
		other.Parked = false
		s.holdOwn(other, false)
		s.commit(c)
		return err
	}
	np.TransferOf = other.ID
	s.hangup(c, p, telephony.CauseNormal, DisconnectTransfer)
	s.commit(c)
	return nil
}

// ---- consult (attended transfer) ----

// Consult starts an attended transfer of the object participant (the party
// to transfer, e.g. the customer): it is held while the actor talks to the
// target. It returns the target's participant id.
func (s *Service) Consult(ctx context.Context, a Actor, convID, objectID string, t Target, speakTo string) (string, error) {
	if speakTo == "" {
		speakTo = SpeakToDestination
	}
	if !validSpeakTo(speakTo) {
		return "", problem.Invalidf("speakTo", "must be DESTINATION, OBJECT, BOTH or CONFERENCE, got %q", speakTo)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return "", err
	}
	me, err := connectedMine(c, a)
	if err != nil {
		return "", err
	}
	obj := c.participant(objectID)
	if obj == nil {
		return "", problem.NotFoundf("participant %s is not in conversation %s", objectID, convID)
	}
	if obj.ID == me.ID || obj.State != StateConnected || obj.Purpose == PurposeMonitor || obj.Purpose == PurposeACD {
		return "", conflict(CodeState, "the participant to transfer must be another connected party (it is %s %s)", obj.State, obj.Purpose)
	}
	if c.Consult != nil {
		return "", conflict(CodeConsult, "an attended transfer is already in progress")
	}
	if len(counterparts(c, me)) != 1 || c.Conference != "" {
		return "", conflict("transfer.conference", "a consult needs a two-party call")
	}
	r, err := s.resolveTarget(ctx, a, t, "body")
	if err != nil {
		return "", err
	}
	s.holdOwn(obj, true)
	obj.Parked = true
	np, err := s.reach(c, r, PurposeAgent, obj)
	if err != nil {
		obj.Parked = false
		s.holdOwn(obj, false)
		s.commit(c)
		return "", err
	}
	c.Consult = &Consult{Object: obj.ID, Consulter: me.ID, Target: np.ID, SpeakTo: speakTo}
	me.ConsultID = np.ID
	// The actor's leg is left alone (unbridged) until the target answers.
	s.tolerate("unbridge", s.sw.Unbridge(ctx, me.Leg))
	s.commit(c)
	return np.ID, nil
}

func validSpeakTo(v string) bool {
	switch v {
	case SpeakToDestination, SpeakToObject, SpeakToBoth, SpeakToConference:
		return true
	}
	return false
}

// ConsultSpeakTo changes whom the consulting agent talks to.
func (s *Service) ConsultSpeakTo(ctx context.Context, a Actor, convID, objectID, speakTo string) error {
	if !validSpeakTo(speakTo) {
		return problem.Invalidf("speakTo", "must be DESTINATION, OBJECT, BOTH or CONFERENCE, got %q", speakTo)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, cs, err := s.consultOf(ctx, a, convID, objectID)
	if err != nil {
		return err
	}
	if t := c.participant(cs.Target); t == nil || t.State != StateConnected {
		return conflict(CodeState, "the consulted party has not answered yet")
	}
	cs.SpeakTo = speakTo
	s.applyConsult(c)
	s.commit(c)
	return nil
}

func (s *Service) consultOf(ctx context.Context, a Actor, convID, objectID string) (*Conversation, *Consult, error) {
	c, err := s.live(ctx, convID)
	if err != nil {
		return nil, nil, err
	}
	cs := c.Consult
	if cs == nil || cs.Object != objectID {
		return nil, nil, conflict(CodeNoConsult, "no attended transfer of participant %s is in progress", objectID)
	}
	me := c.participant(cs.Consulter)
	if !a.Supervisor && (me == nil || me.UserID != a.UserID) {
		return nil, nil, conflict(CodeNotParticipant, "only the consulting agent can do this")
	}
	return c, cs, nil
}

// CancelConsult ends the consult ("end transfer"): the target is hung up
// and the agent is back with the held party.
func (s *Service) CancelConsult(ctx context.Context, a Actor, convID, objectID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, cs, err := s.consultOf(ctx, a, convID, objectID)
	if err != nil {
		return err
	}
	if t := c.participant(cs.Target); t != nil && t.Live() {
		if t.Purpose == PurposeACD {
			s.dequeue(c, DisconnectClient)
		} else {
			s.hangup(c, t, telephony.CauseCancelled, DisconnectClient)
		}
	}
	s.endConsult(c)
	s.commit(c)
	return nil
}

// CompleteConsult completes the attended transfer: the agent drops out and
// the held party talks to the target.
func (s *Service) CompleteConsult(ctx context.Context, a Actor, convID, objectID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, cs, err := s.consultOf(ctx, a, convID, objectID)
	if err != nil {
		return err
	}
	t := c.participant(cs.Target)
	if t == nil || t.State != StateConnected {
		return conflict(CodeState, "the consulted party has not answered yet: cancel, or wait")
	}
	me := c.participant(cs.Consulter)
	s.hangup(c, me, telephony.CauseNormal, DisconnectTransferConsult)
	s.completeConsult(c)
	s.commit(c)
	return nil
}

// applyConsult puts the media as the consult's SpeakTo says.
func (s *Service) applyConsult(c *Conversation) {
	cs := c.Consult
	obj, tgt := c.participant(cs.Object), c.participant(cs.Target)
	if obj == nil || tgt == nil {
		return
	}
	switch cs.SpeakTo {
	case SpeakToDestination:
		obj.Parked, tgt.Parked = true, false
		s.holdOwn(obj, true)
		s.holdOwn(tgt, false)
	case SpeakToObject:
		obj.Parked, tgt.Parked = false, true
		s.holdOwn(tgt, true)
		s.holdOwn(obj, false)
	default:
		obj.Parked, tgt.Parked = false, false
		s.holdOwn(obj, false)
		s.holdOwn(tgt, false)
	}
	s.arrange(c)
}

// endConsult returns the agent to the held party.
func (s *Service) endConsult(c *Conversation) {
	cs := c.Consult
	c.Consult = nil
	if me := c.participant(cs.Consulter); me != nil {
		me.ConsultID = ""
	}
	if tgt := c.participant(cs.Target); tgt != nil {
		tgt.Parked = false
	}
	s.unpark(c)
}

// completeConsult joins the held party and the target (the agent is gone).
func (s *Service) completeConsult(c *Conversation) {
	cs := c.Consult
	c.Consult = nil
	if tgt := c.participant(cs.Target); tgt != nil {
		tgt.Parked = false
		s.holdOwn(tgt, false)
	}
	s.unpark(c)
}

// unpark takes every parked party off hold and arranges the media.
func (s *Service) unpark(c *Conversation) {
	for _, p := range c.Participants {
		if p.Parked || (p.Held && p.HeldLeg == p.Leg && p.Live()) {
			p.Parked = false
			s.holdOwn(p, false)
		}
	}
	s.arrange(c)
}

// ---- conference ----

// Invite adds parties to the call; with three or more the call becomes a
// conference. It returns the new participants' ids.
func (s *Service) Invite(ctx context.Context, a Actor, convID string, ts []Target) ([]string, error) {
	if len(ts) == 0 || len(ts) > MaxParticipants {
		return nil, problem.Invalidf("participants", "give 1 to %d participants", MaxParticipants)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return nil, err
	}
	me, err := connectedMine(c, a)
	if err != nil {
		return nil, err
	}
	if c.Consult != nil {
		return nil, conflict(CodeConsult, "an attended transfer is in progress: complete or cancel it first")
	}
	live := 0
	for _, p := range c.Participants {
		if p.Live() && p.Purpose != PurposeACD && p.Purpose != PurposeMonitor {
			live++
		}
	}
	if live+len(ts) > MaxParticipants {
		return nil, conflict("conference.full", "a conference holds at most %d parties", MaxParticipants)
	}
	rs := make([]resolved, len(ts))
	for i, t := range ts {
		r, err := s.resolveTarget(ctx, a, t, "participants["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		if r.queue != nil {
			return nil, problem.Invalidf("participants["+strconv.Itoa(i)+"]", "invite a user or a number; queues are for transfers")
		}
		rs[i] = r
	}
	var ids []string
	for _, r := range rs {
		np, err := s.reach(c, r, PurposeUser, me)
		if err != nil {
			s.commit(c)
			return ids, err
		}
		ids = append(ids, np.ID)
	}
	s.commit(c)
	return ids, nil
}

// KickAll removes everyone the call gained besides the actor and the
// original party (the first customer or external): the conference is back
// to two.
func (s *Service) KickAll(ctx context.Context, a Actor, convID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return err
	}
	me, err := connectedMine(c, a)
	if err != nil {
		return err
	}
	var keep *Participant
	for _, p := range c.Participants {
		if p.Live() && p.ID != me.ID && (p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal) {
			keep = p
			break
		}
	}
	n := 0
	for _, p := range c.Participants {
		if p.Live() && p != me && p != keep && p.Purpose != PurposeACD && p.Purpose != PurposeMonitor {
			s.hangup(c, p, "", DisconnectClient)
			n++
		}
	}
	if n == 0 {
		return conflict(CodeState, "nobody else to remove")
	}
	c.Consult = nil
	s.arrange(c)
	s.commit(c)
	return nil
}

// ---- monitoring ----

// Monitor has a supervisor listen to (MonitorListen), coach
// (MonitorWhisper) or join (MonitorBarge) the call of an agent participant.
// The supervisor's own phone is called (and, when the switch can, answered
// at once); it returns the monitor participant's id. Asked again with
// another mode, it changes the mode.
func (s *Service) Monitor(ctx context.Context, a Actor, convID, agentPartID, mode string) (string, error) {
	if a.UserID == "" {
		return "", problem.Invalidf("", "monitoring needs a person's token (the supervisor's phone is called)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.live(ctx, convID)
	if err != nil {
		return "", err
	}
	var target *Participant
	if agentPartID == "" {
		for _, p := range c.Participants {
			if p.UserID != "" && p.State == StateConnected && p.Purpose != PurposeMonitor {
				target = p
				break
			}
		}
		if target == nil {
			return "", conflict(CodeState, "nobody from the contact center is connected on this call")
		}
	} else if target = c.participant(agentPartID); target == nil {
		return "", problem.NotFoundf("participant %s is not in conversation %s", agentPartID, convID)
	}
	if target.UserID == "" || target.Purpose == PurposeMonitor || target.State != StateConnected {
		return "", conflict(CodeState, "only a connected agent or user can be monitored (participant is %s %s)", target.State, target.Purpose)
	}
	if target.UserID == a.UserID {
		return "", conflict(CodeState, "you cannot monitor yourself")
	}
	for _, m := range c.Participants {
		if m.Purpose == PurposeMonitor && m.UserID == a.UserID && m.Live() {
			m.MonitorMode, m.MonitoredID = mode, target.ID
			if m.State == StateConnected {
				s.arrange(c)
			}
			s.commit(c)
			return m.ID, nil
		}
	}
	station, ok := s.agents.StationOf(a.UserID)
	if !ok {
		return "", conflict(CodeNoStation, "log into a station first: your phone is where you will hear the call")
	}
	m := s.newParticipant(c, PurposeMonitor, StateAlerting, "outbound")
	m.UserID, m.MonitorMode, m.MonitoredID, m.AutoReply, m.StartAlertingTime = a.UserID, mode, target.ID, true, m.StartTime
	m.Address = telephony.StationPrefix + station
	if u, err := s.dir.GetUser(ctx, a.UserID); err == nil {
		m.Name = u.Name
	}
	m.segment(m.StartTime, SegmentAlert, "")
	leg, err := s.sw.Originate(ctx, telephony.OriginateRequest{To: telephony.StationPrefix + station, CallerName: "Monitor: " + target.Name,
		Tags: map[string]string{"conversationId": c.ID, "participantId": m.ID}})
	if err != nil {
		s.disconnect(c, m, DisconnectError)
		s.commit(c)
		return "", conflict("call.failed", "could not ring your station: %v", err)
	}
	s.bind(c, m, leg)
	if err := s.agents.SetActivity(ctx, a.UserID, m.ID, session.Calling); err != nil {
		s.log.Error("conversation: session update failed", "user", a.UserID, "err", err)
	}
	s.commit(c)
	return m.ID, nil
}

// Monitorable lists the conversations with a connected agent or user, for
// supervisors choosing whom to monitor.
func (s *Service) Monitorable(ctx context.Context) []CallConversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []*Conversation
	for _, c := range s.convs {
		for _, p := range c.Participants {
			if p.UserID != "" && p.State == StateConnected && p.Purpose != PurposeMonitor {
				cs = append(cs, c)
				break
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].StartTime.Before(cs[j].StartTime) })
	out := make([]CallConversation, len(cs))
	for i, c := range cs {
		out[i] = c.View(s.queueNames(ctx, c))
	}
	return out
}

// ---- placing calls ----

// CallRequest places a call from the actor.
type CallRequest struct {
	Target
	FromQueueID string // place it on behalf of a queue (agent purpose, the queue's caller id)
	CallerID    string
	Attributes  map[string]string
	// Routing applies to a call to a queue (Target.QueueID); its priority
	// and skills are checked here (preferred agents are not taken).
	Routing Routing
	// CampaignID marks a dialer call (progressive, preview, callback): the
	// outbound observer follows it and the agent is held after the call
	// until the contact is released.
	CampaignID string
}

// PlaceCall calls the actor's own phone (answered at once when the switch
// can) and then the destination: a number, a user or a queue. It returns
// the new conversation's id.
func (s *Service) PlaceCall(ctx context.Context, a Actor, r CallRequest) (string, error) {
	if a.UserID == "" {
		return "", problem.Invalidf("", "placing a call needs a person's token: the call starts at your phone")
	}
	dest, err := s.resolveTarget(ctx, a, r.Target, "body")
	if err != nil {
		return "", err
	}
	if dest.queue == nil && (r.Routing.Priority != 0 || len(r.Routing.Skills) > 0) {
		field := "priority"
		if r.Routing.Priority == 0 {
			field = "routingSkillsIds"
		}
		return "", problem.Invalidf(field, "applies only to a call to a queue (callQueueId)")
	}
	if dest.queue != nil {
		rt, err := s.CheckRouting(ctx, Routing{Priority: r.Routing.Priority, Skills: r.Routing.Skills}, "priority", "routingSkillsIds", "")
		if err != nil {
			return "", err
		}
		dest.routing = &rt
	}
	var fromQueue *directory.Queue
	if r.FromQueueID != "" {
		q, err := s.dir.GetQueue(ctx, r.FromQueueID)
		if err != nil {
			return "", problem.Coded(problem.Invalid, "queue.unknown", "callFromQueueId", "there is no queue %s", r.FromQueueID)
		}
		fromQueue = &q
	}
	station, ok := s.agents.StationOf(a.UserID)
	if !ok {
		return "", conflict(CodeNoStation, "log into a station first: the call starts at your phone")
	}
	if s.agents.Get(a.UserID).Busy() {
		return "", conflict("agent.busy", "you already have a call ringing or in progress")
	}
	u, err := s.dir.GetUser(ctx, a.UserID)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	c := &Conversation{ID: uuid.NewString(), MediaType: "call", Direction: "outbound", StartTime: now}
	me := s.newParticipant(c, PurposeUser, StateDialing, "outbound")
	me.UserID, me.Name, me.AutoReply = a.UserID, u.Name, true
	me.Address = telephony.StationPrefix + station
	me.Ani = r.CallerID
	if fromQueue != nil {
		me.Purpose, me.QueueID = PurposeAgent, fromQueue.ID
		s.names[fromQueue.ID] = fromQueue.Name
		if me.Ani == "" {
			me.Ani = fromQueue.CallingPartyNumber
		}
	}
	for k, v := range r.Attributes {
		me.Attributes[k] = v
	}
	if r.CampaignID != "" {
		c.Campaign, me.Dialer = r.CampaignID, true
		if _, ok := me.Attributes["callId"]; ok {
			me.Attributes["callId"] = c.ID // the call data names the conversation
		}
	}
	me.segment(now, SegmentDialing, me.QueueID)
	switch {
	case dest.address != "":
		c.Address = tel(dest.address)
	case dest.queue != nil:
		c.Address = dest.queue.Name
	default:
		c.Address = telephony.StationPrefix + dest.station
	}
	c.Dial = &Dial{Address: dest.address, UserID: dest.userID, Station: dest.station}
	if dest.queue != nil {
		c.Dial.QueueID, c.Dial.Routing = dest.queue.ID, dest.routing
	}
	leg, err := s.sw.Originate(ctx, telephony.OriginateRequest{To: telephony.StationPrefix + station, CallerName: "Llamando a " + c.Address,
		Tags: map[string]string{"conversationId": c.ID, "participantId": me.ID}})
	if err != nil {
		return "", conflict("call.failed", "could not ring your phone: %v", err)
	}
	s.convs[c.ID] = c
	s.bind(c, me, leg)
	if err := s.agents.SetActivity(ctx, a.UserID, me.ID, session.Calling); err != nil {
		s.log.Error("conversation: session update failed", "user", a.UserID, "err", err)
	}
	s.commit(c)
	return c.ID, nil
}

// dialPending places the destination of a call once the caller's phone answered.
func (s *Service) dialPending(c *Conversation) {
	d := c.Dial
	c.Dial = nil
	if d == nil {
		return
	}
	var caller *Participant
	for _, p := range c.Participants {
		if p.AutoReply && p.Purpose != PurposeMonitor {
			caller = p
		}
	}
	if caller == nil {
		return
	}
	r := resolved{address: d.Address, userID: d.UserID, station: d.Station, routing: d.Routing}
	if d.QueueID != "" {
		q, err := s.dir.GetQueue(s.ctx, d.QueueID)
		if err != nil {
			s.afterLeave(c, caller, true)
			return
		}
		r.queue = &q
	}
	if _, err := s.reach(c, r, PurposeUser, caller); err != nil {
		s.log.Info("conversation: the destination of a placed call failed", "conversation", c.ID, "err", err)
		s.afterLeave(c, caller, true)
	}
}
