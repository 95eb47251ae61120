package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/config"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/demo"
	"github.com/centralita/centralita/internal/dialer"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/routing"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/telephony"
	"github.com/centralita/centralita/internal/telephony/sim"
	"github.com/centralita/centralita/internal/telephony/sip"
)

// contactCenter is the live part of the program: the switch, the ACD
// engine, the conversations and the agent sessions, and how they talk.
type contactCenter struct {
	sw  telephony.Switch
	sim *sim.Switch // when telephony is sim
	sip *sip.Switch // when telephony is sip
	reg *sip.Registrar
	// recorded queues finished recordings for the index (telephony.go).
	recorded chan conversation.RecordingDone
	engine   *routing.Engine
	traffic  *sim.Traffic

	syncMu sync.Mutex // one routing sync at a time
	queues map[string]bool
}

// buildContactCenter builds the switch, the ACD, the sessions and the
// conversations, restores them from the store and feeds the ACD.
func (a *App) buildContactCenter(ctx context.Context) error {
	cc := &contactCenter{queues: map[string]bool{}}
	a.cc = cc
	numbers := a.numbers
	if numbers == nil && a.Config.Mode == config.ModeDemo {
		numbers = demo.Customers
	}
	if err := a.buildSwitch(ctx, numbers); err != nil {
		return err
	}
	dec := &decisions{}
	cc.engine = routing.New(a.Clock, dec)
	a.Sessions = session.New(a.DB, a.Outbox, a.Directory, a.Clock)
	a.Conversations = conversation.New(conversation.Options{DB: a.DB, Events: a.Outbox, Switch: cc.sw, Router: engineRouter{cc.engine},
		Agents: a.Sessions, Directory: a.Directory, Clock: a.Clock, Log: a.Log})
	dec.c = a.Conversations
	a.Dialer = dialer.New(dialer.Options{DB: a.DB, Events: a.Outbox, Calls: a.Conversations, Agents: a.Sessions,
		Contacts: a.Contacts, Campaigns: a.Campaigns, Clock: a.Clock, Log: a.Log})
	a.Conversations.OnOutbound(a.Dialer.CallChanged)
	a.Conversations.SetInboundMatcher(a.matchInbound)
	a.wireTelephony()
	if err := a.wireOutbound(ctx); err != nil {
		return fmt.Errorf("outbound: %w", err)
	}
	if err := a.Sessions.Load(ctx); err != nil {
		return fmt.Errorf("agent sessions: %w", err)
	}
	if err := a.Conversations.Restore(ctx); err != nil {
		return fmt.Errorf("conversations: %w", err)
	}
	if err := a.Sessions.Settle(ctx); err != nil {
		return fmt.Errorf("agent sessions: %w", err)
	}
	// The engine learns the queues and agents, then who is available.
	if err := a.syncRouting(ctx); err != nil {
		return fmt.Errorf("routing: %w", err)
	}
	for _, v := range a.Sessions.List() {
		a.agentChanged(v)
	}
	a.Sessions.OnStatus(a.agentChanged)
	a.Outbox.OnCommit(a.directoryChanged)
	a.Outbox.OnCommit(a.Dialer.Changed)
	return nil
}

// startContactCenter runs the engine and the conversations, and in the
// demo the simulated traffic and auto-answering agents.
func (a *App) startContactCenter(ctx context.Context) {
	cc := a.cc
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		cc.engine.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.Conversations.Run(ctx)
	}()
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.Dialer.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.runRecordings(ctx)
	}()
	if a.Config.Mode != config.ModeDemo {
		return
	}
	if cc.sim == nil {
		// Simulated callers and self-answering agents need the simulated
		// switch; with SIP, people call and answer.
		if a.Config.DemoTraffic > 0 || a.Config.DemoAgents > 0 {
			a.Log.Info("demo traffic and demo agents are off with telephony sip: call the demo queues from a SIP phone (docs/telephony.md)")
		}
		return
	}
	if n := a.Config.DemoAgents; n > 0 {
		if err := a.startDemoAgents(ctx, n); err != nil {
			a.Log.Warn("demo agents could not start", "err", err)
		}
	}
	if rate := a.Config.DemoTraffic; rate > 0 {
		cc.traffic = sim.NewTraffic(cc.sim, a.Clock, sim.TrafficOptions{
			Seed: uint64(a.Clock.Now().UnixNano()), CallsPerMinute: float64(rate), To: []string{"Ventas", "Soporte"}, RandomTo: true,
			Patience: sim.Uniform(45*time.Second, 3*time.Minute), TalkTime: sim.Uniform(20*time.Second, 2*time.Minute),
		})
		cc.traffic.Start(ctx)
		a.Log.Info("demo traffic started", "callsPerMinute", rate, "queues", "Ventas, Soporte")
	}
}

// closeContactCenter hangs up every call.
func (a *App) closeContactCenter() {
	if a.cc == nil {
		return
	}
	if a.cc.traffic != nil {
		a.cc.traffic.Stop()
	}
	if a.cc.sw != nil {
		a.cc.sw.Close()
	}
	if a.cc.reg != nil {
		a.cc.reg.Close()
	}
}

// DemoAgentOrder is the order demo agents are taken in: agent3 works both
// queues, so two demo agents cover Ventas and Soporte, and agent1 (the
// first login the banner shows) stays free for a person.
var DemoAgentOrder = []string{"agent3", "agent5", "agent2", "agent4", "agent1"}

// startDemoAgents logs n demo agents into stations 1005, 1004... On Queue
// and has them answer, talk and wrap up by themselves.
func (a *App) startDemoAgents(ctx context.Context, n int) error {
	for i := 0; i < n && i < len(DemoAgentOrder); i++ {
		u, err := a.Directory.GetUserByUsername(ctx, DemoAgentOrder[i])
		if err != nil {
			return err
		}
		station := fmt.Sprintf("100%d", 5-i)
		if _, err := a.Sessions.Login(ctx, u.ID, session.StationRef{Name: station}, demo.StationPassword); err != nil {
			return fmt.Errorf("%s on station %s: %w", u.Username, station, err)
		}
		if _, err := a.Sessions.SetPresence(ctx, u.ID, session.PresenceOnQueue, nil); err != nil {
			return err
		}
		a.Conversations.SetAutoAnswer(u.ID, &conversation.AutoAnswer{AnswerAfter: 3 * time.Second, TalkAfter: 90 * time.Second, WrapupAfter: 5 * time.Second})
		a.Log.Info("demo agent on queue", "user", u.Username, "station", station)
	}
	return nil
}

// SimulateCall injects a simulated customer call (demo and tests): to is a
// queue name (or id) or a station with an agent; from may be empty (hidden
// number). A call to a queue asks r of the ACD (priority, skills on top of
// the queue's, preferred agents); r is checked first. It returns the
// conversation id.
func (a *App) SimulateCall(ctx context.Context, to, from string, talkTime, patience time.Duration, r conversation.Routing) (string, error) {
	if _, err := a.Conversations.Resolve(ctx, to); err != nil {
		return "", err
	}
	r, err := a.Conversations.CheckRouting(ctx, r, "priority", "skillIds", "preferredAgentIds")
	if err != nil {
		return "", err
	}
	if a.cc.sim == nil {
		return "", problem.Coded(problem.Conflict, "simulation.unavailable", "", "simulated calls need the simulated switch (telephony sim); this server runs SIP: call it from a phone or a trunk")
	}
	return a.Conversations.ExpectRouted(r, func() string {
		return a.cc.sim.InjectCall(from, to, sim.Caller{TalkTime: talkTime, Patience: patience})
	})
}

// Quiesce returns once the contact center has nothing left to do: no
// switch event waiting, no decision of the engine or work of the
// conversations pending (tests use it with a fake clock: Advance, then
// Quiesce, then look).
func (a *App) Quiesce(ctx context.Context) error {
	for i := 0; i < 10000; i++ {
		before := a.Conversations.Processed()
		if err := a.cc.engine.Sync(ctx); err != nil {
			return err
		}
		if err := a.Conversations.Flush(ctx); err != nil {
			return err
		}
		if err := a.Dialer.Sync(ctx); err != nil {
			return err
		}
		if err := a.cc.engine.Sync(ctx); err != nil {
			return err
		}
		if a.Conversations.Processed() == before && a.Conversations.Caught() && a.Conversations.Pending() == 0 && a.Dialer.Pending() == 0 {
			if a.CRM.WriterIdle() {
				return nil
			}
			// The activity-log writer is in a pass (its CRM calls are real
			// I/O): give it a moment.
			time.Sleep(time.Millisecond)
		}
	}
	return errors.New("the contact center does not settle: something loops")
}

// DemoTraffic is the demo's simulated traffic generator (nil when off).
func (a *App) DemoTraffic() *sim.Traffic { return a.cc.traffic }

// Switch is the simulated switch (tests drive its phones and callers); nil
// when telephony is sip.
func (a *App) Switch() *sim.Switch { return a.cc.sim }

// Engine is the ACD engine (tests and the benchmark read it).
func (a *App) Engine() *routing.Engine { return a.cc.engine }

// agentChanged tells the engine whether an agent may get offers: IDLE
// agents may, others not — except while the engine's own offer rings
// (INTERACTING with nothing but that offer): telling it "not available"
// then would withdraw the offer.
func (a *App) agentChanged(v session.View) {
	a.Dialer.AgentChanged(v)
	switch {
	case v.Status == session.Idle:
		a.cc.engine.SetAvailable(v.UserID, true)
	case v.Status == session.Interacting && onlyAlerting(v):
	default:
		a.cc.engine.SetAvailable(v.UserID, false)
	}
}

func onlyAlerting(v session.View) bool {
	if len(v.Activities) == 0 {
		return false
	}
	for _, act := range v.Activities {
		if act != session.Alerting {
			return false
		}
	}
	return true
}

// directoryChanged keeps the engine's queues and agents in step with the
// directory: queue settings, members, skills.
func (a *App) directoryChanged(ev bus.Event) {
	t := ev.Topic
	switch {
	case strings.HasPrefix(t, "v2.directory.queues."), strings.HasPrefix(t, "v2.directory.users."), strings.HasPrefix(t, "v2.directory.skills."),
		strings.HasPrefix(t, "v2.routing.queues.") && strings.HasSuffix(t, ".users"):
	default:
		return
	}
	if strings.HasPrefix(t, "v2.directory.queues.") {
		a.Conversations.QueueRenamed(strings.TrimPrefix(t, "v2.directory.queues."))
	}
	if id, ok := strings.CutPrefix(t, "v2.directory.users."); ok {
		// A deactivated or deleted user is logged out of their station.
		if u, err := a.Directory.GetUser(context.Background(), id); err == nil && u.State != "active" {
			if err := a.Sessions.ForceLogout(context.Background(), id); err != nil {
				a.Log.Warn("logging out a deactivated user failed", "user", id, "err", err)
			}
		}
	}
	if err := a.syncRouting(context.Background()); err != nil {
		a.Log.Warn("routing: sync after a directory change failed", "topic", t, "err", err)
	}
}

// syncRouting gives the engine every queue and every member agent.
func (a *App) syncRouting(ctx context.Context) error {
	cc := a.cc
	cc.syncMu.Lock()
	defer cc.syncMu.Unlock()
	qs, _, err := a.Directory.ListQueues(ctx, directory.QueueFilter{}, directory.Page{Limit: 10000})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	members := map[string][]string{}
	for _, q := range qs {
		seen[q.ID] = true
		cc.engine.SetQueue(routingQueue(q))
		joined := true
		ms, _, err := a.Directory.ListMembers(ctx, q.ID, &joined, directory.Page{Limit: 100000})
		if err != nil {
			return err
		}
		for _, m := range ms {
			members[m.UserID] = append(members[m.UserID], q.ID)
		}
	}
	for id := range cc.queues {
		if !seen[id] {
			cc.engine.RemoveQueue(id)
		}
	}
	cc.queues = seen
	users, _, err := a.Directory.ListUsers(ctx, directory.UserFilter{State: "any"}, directory.Page{Limit: 100000})
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.State != "active" {
			cc.engine.RemoveAgent(u.ID)
			continue
		}
		skills, err := a.Directory.UserSkills(ctx, u.ID)
		if err != nil {
			return err
		}
		cc.engine.SetAgent(routingAgent(u.ID, members[u.ID], skills))
	}
	return nil
}

// routingQueue is a directory queue as the engine sees it. The queue's
// required skills are not part of it: conversations add them to each
// interaction as it enters the queue.
func routingQueue(q directory.Queue) routing.Queue {
	rq := routing.Queue{ID: q.ID, Strategy: routing.Strategy(q.RoutingStrategy),
		AlertingTimeout: time.Duration(q.AlertingTimeoutSeconds) * time.Second, SkillEvaluation: q.SkillEvaluation,
		ServiceLevel: q.ServiceLevelPercentage, ServiceLevelTarget: time.Duration(q.ServiceLevelDurationMs) * time.Millisecond,
		OverflowAfter: time.Duration(q.OverflowAfterMs) * time.Millisecond, OverflowQueue: q.OverflowQueueID,
		PreferredAgentWait: time.Duration(q.PreferredAgentWaitMs) * time.Millisecond}
	for _, r := range q.Bullseye {
		rq.Bullseye = append(rq.Bullseye, routing.Ring{After: time.Duration(r.AfterMs) * time.Millisecond, MinProficiency: r.MinProficiency})
	}
	return rq
}

func routingAgent(id string, queues []string, skills []directory.UserSkill) routing.Agent {
	ag := routing.Agent{ID: id, Queues: queues, Skills: map[string]float64{}}
	for _, s := range skills {
		ag.Skills[s.ID] = s.Proficiency
	}
	return ag
}

// engineRouter adapts the engine to what conversations need.
type engineRouter struct{ e *routing.Engine }

func (r engineRouter) Enqueue(ix conversation.Interaction) {
	r.e.Enqueue(routing.Interaction{ID: ix.ID, QueueID: ix.QueueID, Priority: ix.Priority, Skills: ix.Skills,
		PreferredAgents: ix.PreferredAgents, EnqueuedAt: ix.EnqueuedAt})
}
func (r engineRouter) Dequeue(id string)         { r.e.Dequeue(id) }
func (r engineRouter) Accept(ix, agent string)   { r.e.Accept(ix, agent) }
func (r engineRouter) Decline(ix, agent string)  { r.e.Decline(ix, agent) }
func (r engineRouter) Complete(ix, agent string) { r.e.Complete(ix, agent) }
func (r engineRouter) Position(ctx context.Context, id string) (int, time.Duration, error) {
	p, w, err := r.e.Position(ctx, id)
	if w == routing.Unknown {
		w = conversation.Unknown
	}
	return p, w, err
}
func (r engineRouter) EstimatedWait(ctx context.Context, queueID string) (time.Duration, error) {
	st, err := r.e.QueueStats(ctx, queueID)
	if errors.Is(err, routing.ErrNotFound) {
		return conversation.Unknown, nil // a queue the engine has not heard of yet: nobody on it
	}
	if err != nil {
		return 0, err
	}
	if st.EstimatedWait == routing.Unknown {
		return conversation.Unknown, nil
	}
	return st.EstimatedWait, nil
}

// decisions adapts conversations to the engine's callbacks.
type decisions struct{ c *conversation.Service }

func (d *decisions) Offer(o routing.Offer) {
	d.c.Offered(conversation.Offer{InteractionID: o.InteractionID, AgentID: o.AgentID, QueueID: o.QueueID, Attempt: o.Attempt, Timeout: o.Timeout})
}
func (d *decisions) OfferTimedOut(ix, agent string)  { d.c.OfferTimedOut(ix, agent) }
func (d *decisions) Overflowed(ix, from, to string)  { d.c.Overflowed(ix, from, to) }
func (d *decisions) OfferWithdrawn(ix, agent string) { d.c.OfferWithdrawn(ix, agent) }
func (d *decisions) Dropped(ix, queue string)        { d.c.Dropped(ix, queue) }
