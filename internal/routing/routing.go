package routing

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centralita/centralita/internal/clock"
)

// Strategy chooses among several agents that could take an interaction.
type Strategy string

// Strategies, with the same strings as directory.RoutingStrategies.
const (
	LongestIdle     Strategy = "longest_idle"
	LeastOccupied   Strategy = "least_occupied"
	RoundRobin      Strategy = "round_robin"
	SkillsBestMatch Strategy = "skills_best_match"
	PreferredAgent  Strategy = "preferred_agent"
	Bullseye        Strategy = "bullseye"
)

// Strategies lists every strategy the engine implements.
var Strategies = []Strategy{LongestIdle, LeastOccupied, RoundRobin, SkillsBestMatch, PreferredAgent, Bullseye}

// Skill evaluation methods (Queue.SkillEvaluation).
const (
	EvaluateNone = "NONE" // ignore skills
	EvaluateBest = "BEST" // anyone may take it, best proficiency first
	EvaluateAll  = "ALL"  // the agent must have every required skill
)

// DefaultHandleTime is a queue's average handle time until one is measured.
const DefaultHandleTime = 3 * time.Minute

// ServiceLevelWindow is the rolling window of the service-level counters.
const ServiceLevelWindow = 30 * time.Minute

// Unknown is the estimated wait when no agent is on the queue.
const Unknown time.Duration = -1

// ErrNotFound: no such interaction (waiting or offered) or queue.
var ErrNotFound = errors.New("routing: not found")

// ErrStopped: the engine's loop is not running any more.
var ErrStopped = errors.New("routing: engine stopped")

// Ring is one bullseye ring: from After in the queue on, agents whose
// proficiency in every required skill is at least MinProficiency may take
// the interaction.
type Ring struct {
	After          time.Duration
	MinProficiency float64
}

// Queue is a queue's routing configuration.
type Queue struct {
	ID                 string
	Strategy           Strategy      // "" = longest_idle; unknown strings too (see Validate)
	AlertingTimeout    time.Duration // 0 = offers never time out
	SkillEvaluation    string        // NONE, BEST, ALL ("" = ALL)
	ServiceLevel       float64       // goal, e.g. 0.8 (reported only)
	ServiceLevelTarget time.Duration // e.g. 20 s; 0 = 20 s
	OverflowAfter      time.Duration // 0 = no overflow
	OverflowQueue      string        // "" = no overflow
	Bullseye           []Ring        // bullseye strategy only
	PreferredAgentWait time.Duration // preferred_agent strategy only; 0 = to anyone at once
}

// Validate reports a configuration the engine would have to correct.
func (q Queue) Validate() error {
	var errs []error
	if q.ID == "" {
		errs = append(errs, errors.New("routing: queue id is empty"))
	}
	known := q.Strategy == ""
	for _, s := range Strategies {
		known = known || s == q.Strategy
	}
	if !known {
		errs = append(errs, errors.New("routing: unknown strategy "+string(q.Strategy)))
	}
	switch q.SkillEvaluation {
	case "", EvaluateNone, EvaluateBest, EvaluateAll:
	default:
		errs = append(errs, errors.New("routing: unknown skill evaluation "+q.SkillEvaluation))
	}
	if q.AlertingTimeout < 0 || q.OverflowAfter < 0 || q.ServiceLevelTarget < 0 || q.PreferredAgentWait < 0 {
		errs = append(errs, errors.New("routing: negative duration"))
	}
	return errors.Join(errs...)
}

// Agent is a routable person: the queues it joined and its skills
// (skill id → proficiency 0..5).
type Agent struct {
	ID     string
	Queues []string
	Skills map[string]float64
}

// Interaction is a conversation waiting for an agent.
type Interaction struct {
	ID              string
	QueueID         string
	Priority        int // higher first
	Skills          []string
	PreferredAgents []string
	EnqueuedAt      time.Time // zero = now
}

// Offer asks the caller to alert an agent.
type Offer struct {
	InteractionID, AgentID, QueueID string
	Attempt                         int // 1 for the first offer of the interaction, 2 for the next...
	Timeout                         time.Duration
}

// Decisions is implemented by the caller (the conversation layer). Its
// methods are called from the engine's goroutine, one at a time: they must
// not block. They may call the engine's inputs (which never block) but not
// its queries (Position, QueueStats, AgentState, Sync), which wait for the
// loop the callback is running on; hand work to another goroutine or a
// channel instead.
type Decisions interface {
	// Offer: alert this agent now.
	Offer(o Offer)
	// OfferTimedOut: the alerting timeout passed; the engine marked the agent
	// not responding (unavailable) and put the interaction back at its
	// original position. An Offer to the next agent may follow at once.
	OfferTimedOut(interactionID, agentID string)
	// Overflowed: the interaction moved to another queue.
	Overflowed(interactionID, fromQueue, toQueue string)
}

// Notices may also be implemented by a Decisions to hear about offers and
// interactions the engine ended on its own.
type Notices interface {
	// OfferWithdrawn: a pending offer was cancelled because the agent was
	// removed, made unavailable or left the queue, or the queue was removed.
	// The interaction is routed again (unless its queue was removed).
	OfferWithdrawn(interactionID, agentID string)
	// Dropped: the interaction left the engine because its queue was removed,
	// or was never taken in because its queue is unknown.
	Dropped(interactionID, queueID string)
}

// AgentStatus is an agent's routing status, derived by the engine.
type AgentStatus string

const (
	StatusOffQueue      AgentStatus = "OFF_QUEUE"
	StatusIdle          AgentStatus = "IDLE"
	StatusAlerting      AgentStatus = "ALERTING"
	StatusInteracting   AgentStatus = "INTERACTING"
	StatusNotResponding AgentStatus = "NOT_RESPONDING"
)

// AgentState is what the engine knows about an agent.
type AgentState struct {
	ID          string
	Status      AgentStatus
	Offered     string    // interaction alerting the agent, if any
	Interacting string    // interaction accepted and not completed, if any
	IdleSince   time.Time // last time it became available
}

// Stats are a queue's live figures.
type Stats struct {
	QueueID           string
	Waiting           int           // not yet offered, or put back
	Alerting          int           // offered, not yet answered
	LongestWait       time.Duration // longest time in this queue among Waiting and Alerting
	AgentsAvailable   int           // idle members
	AgentsOnQueue     int           // members idle, alerting or interacting
	AverageHandleTime time.Duration
	EstimatedWait     time.Duration // for a new arrival; Unknown when AgentsOnQueue is 0

	// Over ServiceLevelWindow.
	Answered, AnsweredInTarget      int
	Abandoned, AbandonedAfterTarget int
	Overflowed                      int
	ServiceLevel                    float64 // AnsweredInTarget / (Answered + AbandonedAfterTarget); 1 when both are 0
	ServiceLevelGoal                float64
	ServiceLevelTarget              time.Duration
}

// Engine is the ACD. Create it with New, start it with Run (once).
type Engine struct {
	clock   clock.Clock
	st      *state
	mu      sync.Mutex
	inbox   []msg
	wake    chan struct{}
	stopped chan struct{}
	running atomic.Bool
}

// New returns an engine that takes its time from c and reports to d.
func New(c clock.Clock, d Decisions) *Engine {
	e := &Engine{clock: c, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	e.st = newState(e, d)
	return e
}

// Run applies inputs and deadlines until ctx ends. Inputs sent before Run
// are applied when it starts. Call it once.
func (e *Engine) Run(ctx context.Context) {
	if !e.running.CompareAndSwap(false, true) {
		panic("routing: Engine.Run called twice")
	}
	defer close(e.stopped)
	defer e.st.disarm()
	var batch []msg
	for {
		e.mu.Lock()
		batch, e.inbox = e.inbox, batch[:0]
		e.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-e.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		for i := range batch {
			e.st.apply(&batch[i])
			batch[i] = msg{}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (e *Engine) post(m msg) {
	e.mu.Lock()
	e.inbox = append(e.inbox, m)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) send(m msg) {
	m.at = e.clock.Now().UnixNano()
	e.post(m)
}

// SetQueue adds a queue or replaces its configuration (waiting
// interactions are re-sorted under the new rules and routed again).
func (e *Engine) SetQueue(q Queue) {
	q.Bullseye = append([]Ring(nil), q.Bullseye...)
	e.send(msg{kind: mSetQueue, p: &q})
}

// RemoveQueue removes a queue: its interactions are dropped (Notices.Dropped),
// pending offers withdrawn, and their agents routed again.
func (e *Engine) RemoveQueue(id string) { e.send(msg{kind: mRemoveQueue, a: id}) }

// SetAgent adds an agent (unavailable until SetAvailable) or replaces its
// queues and skills.
func (e *Engine) SetAgent(a Agent) {
	c := Agent{ID: a.ID, Queues: append([]string(nil), a.Queues...), Skills: make(map[string]float64, len(a.Skills))}
	for k, v := range a.Skills {
		c.Skills[k] = v
	}
	e.send(msg{kind: mSetAgent, p: &c})
}

// RemoveAgent forgets an agent, withdrawing its pending offer.
func (e *Engine) RemoveAgent(id string) { e.send(msg{kind: mRemoveAgent, a: id}) }

// SetAvailable says whether the agent is on queue and idle.
func (e *Engine) SetAvailable(agentID string, available bool) {
	e.send(msg{kind: mSetAvailable, a: agentID, flag: available})
}

// Enqueue puts an interaction in its queue. An id already waiting or
// offered is ignored.
func (e *Engine) Enqueue(ix Interaction) {
	ix.Skills = append([]string(nil), ix.Skills...)
	ix.PreferredAgents = append([]string(nil), ix.PreferredAgents...)
	e.send(msg{kind: mEnqueue, p: &ix})
}

// Dequeue removes a waiting or offered interaction (abandoned, or left the
// queue some other way).
func (e *Engine) Dequeue(interactionID string) { e.send(msg{kind: mDequeue, a: interactionID}) }

// Accept: the agent answered the offer. The interaction leaves the queue;
// the agent is interacting and unavailable.
func (e *Engine) Accept(interactionID, agentID string) {
	e.send(msg{kind: mAccept, a: interactionID, b: agentID})
}

// Decline: the agent rejected the offer. The interaction goes back to its
// original position; the agent is unavailable until SetAvailable.
func (e *Engine) Decline(interactionID, agentID string) {
	e.send(msg{kind: mDecline, a: interactionID, b: agentID})
}

// Complete: the agent finished the accepted interaction (talk and
// wrap-up). Optional: without it busy time ends at the next SetAvailable(true).
func (e *Engine) Complete(interactionID, agentID string) {
	e.send(msg{kind: mComplete, a: interactionID, b: agentID})
}

// Sync returns once every input sent before it has been applied.
func (e *Engine) Sync(ctx context.Context) error {
	return e.do(ctx, func(*state) {})
}

// Position returns a waiting interaction's place in its queue (1 = next;
// 0 while it is being offered) and its estimated wait (Unknown when no
// agent is on the queue).
func (e *Engine) Position(ctx context.Context, interactionID string) (pos int, estimatedWait time.Duration, err error) {
	var p int
	var w time.Duration
	var ferr error
	if derr := e.do(ctx, func(s *state) { p, w, ferr = s.position(interactionID) }); derr != nil {
		return 0, 0, derr
	}
	return p, w, ferr
}

// QueueStats returns a queue's live figures.
func (e *Engine) QueueStats(ctx context.Context, queueID string) (Stats, error) {
	var st Stats
	var ferr error
	if derr := e.do(ctx, func(s *state) { st, ferr = s.stats(queueID) }); derr != nil {
		return Stats{}, derr
	}
	return st, ferr
}

// AgentState returns an agent's routing status.
func (e *Engine) AgentState(ctx context.Context, agentID string) (AgentState, error) {
	var as AgentState
	var ferr error
	if derr := e.do(ctx, func(s *state) { as, ferr = s.agentState(agentID) }); derr != nil {
		return AgentState{}, derr
	}
	return as, ferr
}

// do runs f on the loop and waits for it.
func (e *Engine) do(ctx context.Context, f func(*state)) error {
	done := make(chan struct{})
	e.send(msg{kind: mQuery, p: func(s *state) { f(s); close(done) }})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-e.stopped:
		select {
		case <-done:
			return nil
		default:
			return ErrStopped
		}
	}
}
