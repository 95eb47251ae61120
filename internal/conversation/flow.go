package conversation

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/telephony"
)

// Destination is where an inbound call goes.
type Destination struct {
	Queue   *directory.Queue // an ACD queue
	UserID  string           // or a user, by the station they are logged into
	Station string
}

// Resolve finds what a dialled address names: a queue (by name, any case,
// or id; "queue:NAME" too) or a station with a logged-in user.
func (s *Service) Resolve(ctx context.Context, to string) (Destination, error) {
	name := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(to, "queue:"), telephony.TelPrefix))
	if name == "" {
		return Destination{}, problem.Invalidf("to", "is required: a queue name or a station")
	}
	if q, err := s.planned(ctx, name); err != nil || q != nil {
		return Destination{Queue: q}, err
	}
	if directory.IsUUID(name) {
		if q, err := s.dir.GetQueue(ctx, name); err == nil {
			return Destination{Queue: &q}, nil
		}
	}
	qs, _, err := s.dir.ListQueues(ctx, directory.QueueFilter{}, directory.Page{Limit: 1000})
	if err != nil {
		return Destination{}, err
	}
	for i := range qs {
		if strings.EqualFold(qs[i].Name, name) {
			return Destination{Queue: &qs[i]}, nil
		}
	}
	st := strings.TrimPrefix(name, telephony.StationPrefix)
	if u, ok := s.agents.UserAtStation(st); ok {
		return Destination{UserID: u, Station: st}, nil
	}
	return Destination{}, problem.Coded(problem.Invalid, "destination.unknown", "to", "%q is neither a queue nor a station with an agent logged in", to)
}

// Routing is what a call asks of the ACD beyond its queue: a priority
// (higher first), skills the agent must have (on top of those the queue
// requires), and agents it prefers (the preferred_agent strategy).
type Routing struct {
	Priority        int      `json:"priority,omitempty"`
	Skills          []string `json:"skills,omitempty"`
	PreferredAgents []string `json:"preferredAgents,omitempty"`
}

// Bounds of a call's Routing.
const (
	MaxPriority        = 1000000
	MaxCallSkills      = 20
	MaxPreferredAgents = 10
)

// CheckRouting validates what a call asks of the ACD: a priority within
// 0..MaxPriority, known skills, active users. skillsField and agentsField
// name the request's fields in problems; repeats are dropped.
func (s *Service) CheckRouting(ctx context.Context, r Routing, priorityField, skillsField, agentsField string) (Routing, error) {
	var c problem.Collector
	if r.Priority < 0 || r.Priority > MaxPriority {
		c.Add(priorityField, "must be between 0 and %d, got %d", MaxPriority, r.Priority)
	}
	r.Skills, r.PreferredAgents = unique(r.Skills), unique(r.PreferredAgents)
	if len(r.Skills) > MaxCallSkills {
		c.Add(skillsField, "at most %d skills, got %d", MaxCallSkills, len(r.Skills))
	} else {
		for i, id := range r.Skills {
			if !directory.IsUUID(id) {
				c.Add(skillsField+"["+strconv.Itoa(i)+"]", "%q is not a skill id", id)
			} else if _, err := s.dir.GetSkill(ctx, id); err != nil {
				c.Add(skillsField+"["+strconv.Itoa(i)+"]", "skill %s does not exist", id)
			}
		}
	}
	if agentsField != "" {
		if len(r.PreferredAgents) > MaxPreferredAgents {
			c.Add(agentsField, "at most %d preferred agents, got %d", MaxPreferredAgents, len(r.PreferredAgents))
		} else {
			for i, id := range r.PreferredAgents {
				if !directory.IsUUID(id) {
					c.Add(agentsField+"["+strconv.Itoa(i)+"]", "%q is not a user id", id)
				} else if u, err := s.dir.GetUser(ctx, id); err != nil || u.State != "active" {
					c.Add(agentsField+"["+strconv.Itoa(i)+"]", "there is no active user %s", id)
				}
			}
		}
	}
	if err := c.Err(); err != nil {
		return Routing{}, err
	}
	return r, nil
}

// unique drops repeats, keeping the first of each.
func unique(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// expectedCall is an inbound call placed through Expect, before its
// Incoming event.
type expectedCall struct {
	id      string
	routing Routing
}

// Expect reserves the conversation id of an inbound call about to be
// placed: inject places it and returns its leg; the Incoming event that
// follows creates the conversation under the returned id.
func (s *Service) Expect(inject func() string) (string, error) {
	return s.ExpectRouted(Routing{}, inject)
}

// ExpectRouted is Expect for a call that, if it reaches a queue, asks r of
// the ACD (check r with CheckRouting first).
func (s *Service) ExpectRouted(r Routing, inject func() string) (string, error) {
	id := uuid.NewString()
	s.mu.Lock()
	defer s.mu.Unlock()
	leg := inject()
	if leg == "" {
		return "", errors.New("the switch is closed")
	}
	s.expected[leg] = expectedCall{id: id, routing: r}
	return id, nil
}

// onEvent applies a switch event. Called with s.mu held.
func (s *Service) onEvent(ev telephony.Event) {
	switch ev.Type {
	case telephony.Incoming:
		s.onIncoming(ev)
	case telephony.Ringing:
		s.onRinging(ev)
	case telephony.Answered:
		s.onAnswered(ev)
	case telephony.Hangup:
		s.onHangup(ev)
	case telephony.Held, telephony.Resumed, telephony.Muted, telephony.Unmuted:
		s.onFlag(ev)
	case telephony.PlaybackDone:
		s.queueAudioDone(ev) // queueaudio.go
		s.onPlaybackDone(ev)
	case telephony.RecordingStopped:
		s.onRecordingStopped(ev)
	case telephony.Left:
		if _, p := s.byLeg(ev.Leg); p != nil {
			p.InConf = false
		}
	}
}

func (s *Service) onIncoming(ev telephony.Event) {
	ctx := s.ctx
	exp, ok := s.expected[ev.Leg]
	delete(s.expected, ev.Leg)
	id := exp.id
	if !ok {
		id = uuid.NewString()
	}
	dest, err := s.Resolve(ctx, ev.To)
	if err != nil {
		s.log.Info("conversation: inbound call to an unknown destination rejected", "to", ev.To, "err", err)
		s.tolerate("reject", s.sw.Hangup(ctx, ev.Leg, telephony.CauseRejected))
		return
	}
	now := s.clock.Now()
	c := &Conversation{ID: id, MediaType: "call", Direction: "inbound", Address: tel(ev.To), StartTime: now}
	cust := s.newParticipant(c, PurposeCustomer, StateAlerting, "inbound")
	cust.Name, cust.Address, cust.Ani, cust.Dnis = ev.From, tel(ev.From), tel(ev.From), tel(ev.To)
	if ev.From == "" {
		cust.Name = "Anonymous"
	}
	s.convs[c.ID] = c
	s.bind(c, cust, ev.Leg)
	if err := s.sw.Answer(ctx, ev.Leg); err != nil {
		s.log.Warn("conversation: answering an inbound call failed", "leg", ev.Leg, "err", err)
		s.disconnect(c, cust, DisconnectError)
		s.commit(c)
		return
	}
	cust.State, cust.ConnectedTime = StateConnected, now
	cust.segment(now, SegmentInteract, "")
	if dest.Queue != nil {
		s.names[dest.Queue.ID] = dest.Queue.Name
		s.matchInbound(c, cust, dest.Queue.ID)
		s.enqueue(c, dest.Queue, exp.routing, now)
	} else {
		s.ringUser(c, dest.UserID, PurposeUser, cust)
	}
	s.commit(c)
}

// enqueue puts the conversation in a queue: an acd participant and an
// interaction for the engine. The interaction requires the queue's skills
// and those the call asks for.
func (s *Service) enqueue(c *Conversation, q *directory.Queue, r Routing, since time.Time) *Participant {
	now := s.clock.Now()
	skills := unique(append(slices.Clone(q.SkillIDs), r.Skills...))
	a := s.newParticipant(c, PurposeACD, StateConnected, "inbound")
	a.Name, a.Address, a.QueueID, a.ConnectedTime = q.Name, q.Name, q.ID, now
	a.Priority, a.Skills, a.Preferred, a.Enqueued, a.Routed = r.Priority, skills, unique(r.PreferredAgents), since, true
	a.segment(now, SegmentInteract, q.ID)
	s.router.Enqueue(Interaction{ID: c.ID, QueueID: q.ID, Priority: a.Priority, Skills: a.Skills, PreferredAgents: a.Preferred, EnqueuedAt: since})
	s.startQueueAudio(c, q) // queueaudio.go
	return a
}

// dequeue ends the acd participant (the call left the queue).
func (s *Service) dequeue(c *Conversation, why string) {
	if a := c.waitingACD(); a != nil {
		if a.Routed {
			s.router.Dequeue(c.ID)
			a.Routed = false
		}
		s.disconnect(c, a, why)
	}
}

// ringUser originates a leg to a user's station for a conversation and adds
// the participant (alerting). other is the party the user will talk to.
func (s *Service) ringUser(c *Conversation, userID, purpose string, other *Participant) (*Participant, error) {
	ctx := s.ctx
	station, ok := s.agents.StationOf(userID)
	p := s.newParticipant(c, purpose, StateAlerting, "inbound")
	p.UserID = userID
	p.StartAlertingTime = p.StartTime
	if u, err := s.dir.GetUser(ctx, userID); err == nil {
		p.Name = u.Name
	}
	if !ok {
		s.disconnect(c, p, DisconnectError)
		return p, problem.Coded(problem.Conflict, "user.no.station", "", "%s is not logged into a station", p.Name)
	}
	p.Address = telephony.StationPrefix + station
	p.segment(p.StartTime, SegmentAlert, "")
	from, name := "", ""
	if other != nil {
		from, name = strings.TrimPrefix(other.Ani, telephony.TelPrefix), other.Name
		if from == "" {
			from = strings.TrimPrefix(other.Address, telephony.TelPrefix)
		}
	}
	leg, err := s.sw.Originate(ctx, telephony.OriginateRequest{To: telephony.StationPrefix + station, From: from, CallerName: name,
		Tags: map[string]string{"conversationId": c.ID, "participantId": p.ID}})
	if err != nil {
		s.disconnect(c, p, DisconnectError)
		return p, problem.Coded(problem.Conflict, "call.failed", "", "could not ring %s: %v", p.Name, err)
	}
	s.bind(c, p, leg)
	act := session.Calling
	if p.ACD {
		act = session.Alerting
	}
	if err := s.agents.SetActivity(ctx, userID, p.ID, act); err != nil {
		s.log.Error("conversation: session update failed", "user", userID, "err", err)
	}
	return p, nil
}

// onOffer alerts the agent the engine chose.
func (s *Service) onOffer(o Offer) {
	ctx := s.ctx
	c := s.convs[o.InteractionID]
	var a *Participant
	if c != nil {
		a = c.waitingACD()
	}
	if a == nil {
		s.router.Dequeue(o.InteractionID) // gone meanwhile
		return
	}
	station, ok := s.agents.StationOf(o.AgentID)
	if !ok {
		s.router.Decline(o.InteractionID, o.AgentID)
		s.notResponding(o.AgentID)
		return
	}
	if s.agents.Get(o.AgentID).Busy() {
		// A call reached the agent just before the offer (a transfer, a
		// call they placed): not the agent's fault. The engine hears
		// "available" again when the agent is idle.
		s.router.Decline(o.InteractionID, o.AgentID)
		return
	}
	now := s.clock.Now()
	var cust *Participant
	for _, p := range c.Participants {
		if (p.Purpose == PurposeCustomer || p.Purpose == PurposeExternal || p.Purpose == PurposeUser) && p.State == StateConnected {
			cust = p
			break
		}
	}
	p := s.newParticipant(c, PurposeAgent, StateAlerting, "inbound")
	p.UserID, p.QueueID, p.ACD, p.StartAlertingTime = o.AgentID, o.QueueID, true, now
	p.AlertingTimeoutMs = int(o.Timeout / time.Millisecond)
	p.Address = telephony.StationPrefix + station
	if u, err := s.dir.GetUser(ctx, o.AgentID); err == nil {
		p.Name = u.Name
	}
	p.segment(now, SegmentAlert, o.QueueID)
	from, name := "", ""
	if cust != nil {
		from, name = strings.TrimPrefix(cust.Ani, telephony.TelPrefix), cust.Name
	}
	ring := 2 * time.Minute
	if o.Timeout > 0 {
		ring = o.Timeout + 30*time.Second // the engine's alerting timeout comes first
	}
	leg, err := s.sw.Originate(ctx, telephony.OriginateRequest{To: telephony.StationPrefix + station, From: from, CallerName: name, RingTimeout: ring,
		Tags: map[string]string{"conversationId": c.ID, "participantId": p.ID}})
	if err != nil {
		s.log.Warn("conversation: ringing the agent failed", "agent", o.AgentID, "station", station, "err", err)
		s.disconnect(c, p, DisconnectError)
		s.router.Decline(o.InteractionID, o.AgentID)
		s.notResponding(o.AgentID)
		s.commit(c)
		return
	}
	s.bind(c, p, leg)
	if err := s.agents.SetActivity(ctx, o.AgentID, p.ID, session.Alerting); err != nil {
		s.log.Error("conversation: session update failed", "user", o.AgentID, "err", err)
	}
	if aa, ok := s.auto[o.AgentID]; ok {
		s.scheduleAutoAnswer(c.ID, p.ID, aa)
	}
	s.commit(c)
}

func (s *Service) notResponding(userID string) {
	if err := s.agents.MarkNotResponding(s.ctx, userID); err != nil {
		s.log.Error("conversation: session update failed", "user", userID, "err", err)
	}
}

// alertingAgent finds the agent participant alerting for an ACD offer.
func alertingAgent(c *Conversation, agentID string) *Participant {
	for _, p := range c.Participants {
		if p.Purpose == PurposeAgent && p.ACD && p.UserID == agentID && p.State == StateAlerting {
			return p
		}
	}
	return nil
}

// onOfferEnded: the engine ended an offer (timeout: the agent is not
// responding; withdrawn: the agent went away). The agent's phone stops ringing.
func (s *Service) onOfferEnded(interactionID, agentID string, timedOut bool) {
	c := s.convs[interactionID]
	if c == nil {
		return
	}
	p := alertingAgent(c, agentID)
	if p == nil {
		return // answered (or gone) meanwhile: nothing rings any more
	}
	if timedOut {
		// Before the offer ends, so the agent never looks idle in between.
		s.notResponding(agentID)
	}
	s.hangup(c, p, telephony.CauseCancelled, DisconnectNoAnswer)
	s.commit(c)
}

func (s *Service) onOverflow(interactionID, from, to string) {
	c := s.convs[interactionID]
	if c == nil {
		return
	}
	a := c.waitingACD()
	if a == nil {
		return
	}
	q, err := s.dir.GetQueue(s.ctx, to)
	if err != nil {
		return
	}
	s.names[q.ID] = q.Name
	a.Routed = false // the engine moved it; the new acd participant carries it
	s.disconnect(c, a, DisconnectTransfer)
	n := s.newParticipant(c, PurposeACD, StateConnected, "inbound")
	now := s.clock.Now()
	n.Name, n.Address, n.QueueID, n.ConnectedTime = q.Name, q.Name, q.ID, now
	n.Priority, n.Skills, n.Preferred, n.Enqueued, n.Routed = a.Priority, a.Skills, a.Preferred, a.Enqueued, true
	n.segment(now, SegmentInteract, q.ID)
	s.commit(c)
}

func (s *Service) onDropped(interactionID, queueID string) {
	c := s.convs[interactionID]
	if c == nil {
		return
	}
	if a := c.waitingACD(); a != nil {
		a.Routed = false
	}
	s.endAll(c, DisconnectSystem)
	s.commit(c)
}

// endAll hangs up every live participant.
func (s *Service) endAll(c *Conversation, why string) {
	s.dequeue(c, why)
	for _, p := range c.Participants {
		if p.Live() {
			s.hangup(c, p, "", why)
		}
	}
	if c.Conference != "" {
		s.tolerate("end conference", s.sw.EndConference(s.ctx, c.Conference))
		c.Conference = ""
	}
	c.Consult = nil
}

func (s *Service) onRinging(ev telephony.Event) {
	c, p := s.byLeg(ev.Leg)
	if p == nil {
		return
	}
	if p.State == StateDialing {
		p.State = StateContacting
		p.segment(s.clock.Now(), SegmentContacting, "")
		s.commit(c)
	}
	if p.AutoReply || p.Dialer {
		if pa, ok := s.sw.(PhoneAnswerer); ok {
			s.tolerate("auto answer", pa.AnswerPhone(ev.Leg))
		}
	}
}

func (s *Service) onAnswered(ev telephony.Event) {
	c, p := s.byLeg(ev.Leg)
	if p == nil || !p.Live() || p.State == StateConnected {
		return
	}
	now := s.clock.Now()
	p.State, p.ConnectedTime = StateConnected, now
	p.segment(now, SegmentInteract, p.QueueID)
	if t, ok := s.timers["alert:"+p.ID]; ok {
		t.Stop()
		delete(s.timers, "alert:"+p.ID)
	}
	if p.ACD && p.Purpose == PurposeAgent {
		// Accept before the session hears of it: SetAvailable(false) during
		// an offer would withdraw it.
		s.router.Accept(c.ID, p.UserID)
		if a := c.waitingACD(); a != nil {
			a.Routed = false
			s.disconnect(c, a, DisconnectTransfer)
		}
		if err := s.agents.SetActivity(s.ctx, p.UserID, p.ID, session.Connected); err != nil {
			s.log.Error("conversation: session update failed", "user", p.UserID, "err", err)
		}
		s.autoConnected(c, p)
	}
	s.connected(c, p)
	if p.UserID != "" && !p.AutoReply {
		s.reportAgentConnected(c, p)
	} else if p.Purpose == PurposeExternal {
		// A placed call's destination answered: the caller is now on it.
		for _, u := range c.Participants {
			if u.AutoReply && u.Live() && u.Purpose != PurposeMonitor {
				s.reportAgentConnected(c, u)
			}
		}
	}
	s.commit(c)
}

// connected wires a participant that just answered into the call.
func (s *Service) connected(c *Conversation, p *Participant) {
	if p.Purpose == PurposeMonitor {
		s.arrange(c)
		return
	}
	if cs := c.Consult; cs != nil {
		// A consult to a queue: the agent who answered is the target.
		if t := c.participant(cs.Target); t != nil && t.Purpose == PurposeACD && p.ACD {
			cs.Target = p.ID
			if me := c.participant(cs.Consulter); me != nil {
				me.ConsultID = p.ID
			}
		}
		if cs.Target == p.ID {
			s.applyConsult(c)
			return
		}
	}
	if p.AutoReply && c.Dial != nil {
		// The caller's own phone answered: now the destination.
		s.dialPending(c)
		return
	}
	// Whoever waited on hold for this party (a transfer, a queue) is back.
	s.unpark(c)
}

// onFlag: holds, mutes and their reverses are recorded when asked; the
// events only confirm them.
func (s *Service) onFlag(telephony.Event) {}

func (s *Service) onHangup(ev telephony.Event) {
	c, p := s.byLeg(ev.Leg)
	delete(s.expected, ev.Leg)
	if p == nil {
		return
	}
	delete(s.legs, ev.Leg)
	delete(s.hangupAfterPlayback, ev.Leg)
	s.queueAudioGone(ev.Leg)
	p.Leg = ""
	p.Cause = ev.Cause
	if !p.Live() {
		s.commit(c)
		return
	}
	wasAlerting := p.State == StateAlerting
	wasConnected := p.State == StateConnected
	why := DisconnectEndpoint
	switch ev.Cause {
	case telephony.CauseNoAnswer:
		why = DisconnectNoAnswer
	case telephony.CauseFailed, telephony.CauseBusy:
		why = DisconnectError
	}
	// An ACD offer that was refused or rang out: the engine routes again.
	if wasAlerting && p.ACD && p.Purpose == PurposeAgent {
		s.router.Decline(c.ID, p.UserID)
		s.notResponding(p.UserID)
		s.disconnect(c, p, why)
		s.commit(c)
		return
	}
	s.disconnect(c, p, why)
	s.afterLeave(c, p, wasConnected)
	s.commit(c)
}

// afterLeave decides what happens to the others when a participant leaves.
func (s *Service) afterLeave(c *Conversation, gone *Participant, wasConnected bool) {
	// A consult in progress?
	if cs := c.Consult; cs != nil {
		switch gone.ID {
		case cs.Target:
			s.endConsult(c)
			return
		case cs.Consulter:
			c.Consult = nil
			t := c.participant(cs.Target)
			switch {
			case t != nil && t.State == StateConnected:
				c.Consult = cs
				s.completeConsult(c)
				return
			case t != nil && t.Live():
				// Still ringing: it becomes a blind transfer.
				t.TransferOf = cs.Object
				return
			}
			s.unpark(c)
		case cs.Object:
			c.Consult = nil
			if o := c.participant(cs.Consulter); o != nil {
				o.ConsultID = ""
			}
			if t := c.participant(cs.Target); t != nil {
				t.Parked = false
			}
			s.unpark(c)
		}
	}
	// A blind transfer whose target never answered: back to the queue the
	// call came from, if any.
	if gone.TransferOf != "" && !wasConnected {
		if w := c.participant(gone.TransferOf); w != nil && w.State == StateConnected {
			if last := lastQueue(c); last != nil && c.waitingACD() == nil {
				if q, err := s.dir.GetQueue(s.ctx, last.QueueID); err == nil {
					s.enqueue(c, &q, Routing{Priority: last.Priority, Skills: last.Skills, PreferredAgents: last.Preferred}, last.Enqueued)
					return
				}
			}
		}
	}
	// Monitors follow the monitored agent out.
	for _, m := range monitors(c) {
		if m.MonitoredID == gone.ID {
			s.hangup(c, m, "", DisconnectPeer)
		}
	}
	if gone.Purpose == PurposeMonitor {
		// The last monitor gone: back to a plain bridge, or transfers
		// would still see a conference.
		if len(liveParties(c)) >= 2 {
			s.arrange(c)
		}
		return
	}
	parties := liveParties(c)
	if len(parties) >= 2 {
		s.arrange(c)
		return
	}
	if len(parties) == 1 {
		// One party left: it waits if someone is coming (a queue, a phone
		// ringing for it); otherwise the call is over.
		for _, p := range c.Participants {
			if p.Live() && p.Purpose != PurposeMonitor && (p.Purpose == PurposeACD || p.State != StateConnected) {
				return
			}
		}
	}
	// Nobody left to talk to: the call ends for everyone still on it.
	s.dequeue(c, DisconnectPeer)
	for _, p := range c.Participants {
		if p.Live() {
			s.hangup(c, p, "", DisconnectPeer)
		}
	}
	if c.Conference != "" {
		s.tolerate("end conference", s.sw.EndConference(s.ctx, c.Conference))
		c.Conference = ""
	}
	c.Consult = nil
}

// Restore reads the live conversations after a restart. Legs are gone
// unless the switch says otherwise (LegChecker); conversations whose calls
// are gone end, with the agents' pending wrap-ups kept; waiting ones whose
// customer leg survived are queued again.
func (s *Service) Restore(ctx context.Context) error {
	convs, err := s.loadActive(ctx)
	if err != nil {
		return err
	}
	checker, _ := s.sw.(LegChecker)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
	now := s.clock.Now()
	for _, c := range convs {
		s.convs[c.ID] = c
		c.Conference, c.Consult = "", nil
		for _, p := range c.Participants {
			if p.Leg != "" && checker != nil && checker.HasLeg(p.Leg) {
				s.bind(c, p, p.Leg)
			} else {
				p.Leg = ""
			}
			p.InConf = false
		}
		for _, p := range c.Participants {
			switch {
			case p.Purpose == PurposeACD && p.Live():
				if cust := firstLive(c, PurposeCustomer); cust != nil && cust.Leg != "" {
					p.Routed = true
					s.router.Enqueue(Interaction{ID: c.ID, QueueID: p.QueueID, Priority: p.Priority, Skills: p.Skills, PreferredAgents: p.Preferred, EnqueuedAt: p.Enqueued})
				} else {
					p.Routed = false
					s.disconnect(c, p, DisconnectSystem)
				}
			case p.Live() && p.Leg == "":
				p.ACD = p.ACD && p.State == StateConnected // a live call that is gone still gets its wrap-up
				s.disconnect(c, p, DisconnectSystem)
			case p.Live() && p.UserID != "":
				act := session.Calling
				switch {
				case p.ACD && p.State == StateAlerting:
					act = session.Alerting
				case p.ACD:
					act = session.Connected
				}
				if err := s.agents.SetActivity(ctx, p.UserID, p.ID, act); err != nil {
					return err
				}
			case p.ACW:
				if err := s.agents.SetActivity(ctx, p.UserID, p.ID, session.Wrapup); err != nil {
					return err
				}
				if (p.WrapupPrompt == PromptMandatoryTimeout || p.WrapupPrompt == PromptForcedTimeout) && p.WrapupTimeoutMs > 0 {
					s.armWrapupTimer(c.ID, p.ID, p.ACWStart.Add(time.Duration(p.WrapupTimeoutMs)*time.Millisecond))
				}
			}
		}
		if c.EndTime.IsZero() && !c.mediaLive() {
			c.EndTime = now
		}
		s.commit(c)
	}
	return nil
}

func firstLive(c *Conversation, purpose string) *Participant {
	for _, p := range c.Participants {
		if p.Purpose == purpose && p.Live() {
			return p
		}
	}
	return nil
}
