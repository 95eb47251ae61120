// Package routing is the ACD: it decides which agent is offered which
// waiting interaction, the moment a decision is possible.
//
// # One goroutine, no polling
//
// An Engine keeps every queue, agent and waiting interaction in memory,
// owned by the goroutine running Engine.Run. Inputs (SetQueue, SetAgent,
// SetAvailable, Enqueue, Accept, ...) never block: they are appended to an
// unbounded mailbox and applied in the order they were sent. Queries
// (Position, QueueStats, AgentState, Sync) are round trips through the same
// loop, so a query sees every input sent before it. Decisions are made when
// an input makes one possible (an interaction arrives, an agent becomes
// available, an offer ends) or when a deadline passes (alerting timeout,
// bullseye ring, preferred-agent wait, overflow). Deadlines live in one heap
// inside the engine; a single clock timer is armed for the earliest one.
//
// Every input is stamped with the injected clock when it is sent, and before
// an input is applied every deadline up to its stamp is processed first, in
// deadline order. So the outcome depends only on the inputs and their times:
// with clock.Fake, "Advance then Sync" shows the effect of every deadline
// passed, however the fake delivered its timer.
//
// # Matching
//
// Every queue groups its waiting interactions into classes by the skills
// they require (one class when skills play no part in the queue). A class
// keeps its waiting interactions in a priority queue (higher Priority first,
// then earlier EnqueuedAt, then arrival order) and its idle eligible agents
// in a heap ordered by the queue's strategy. An interaction that arrives
// looks at the top of its class's agent heap; an agent that becomes available
// looks at the top interaction of each class of each of its queues and takes
// the best (priority, then longest EnqueuedAt, across all its queues). No
// decision scans the agents or the interactions of a queue. Classes with no
// waiting interaction are dropped when a queue has more than 64 of them.
//
// # Agents
//
// An agent is routable when the session layer said it is available
// (SetAvailable true: on queue and idle) and it has no pending offer. Its
// derived status (AgentStatus) is ALERTING while an offer is pending,
// INTERACTING from Accept until Complete or the next SetAvailable(true),
// NOT_RESPONDING after an alerting timeout or a Decline until the next
// SetAvailable(true), IDLE when routable, OFF_QUEUE otherwise. Accept,
// Decline and alerting timeouts make the agent unavailable: only
// SetAvailable(true) makes it routable again. SetAvailable(false) while
// alerting withdraws the offer; it does not end INTERACTING (the session
// layer may say "not idle" during a call). An agent is a member of the
// queues listed in Agent.Queues; a queue set later picks its members up.
//
// # Strategies (Queue.Strategy), when several agents could take an interaction
//
//   - longest_idle: the agent that became available (SetAvailable true)
//     longest ago.
//   - least_occupied: the agent with the least busy time, weighted
//     exponentially with a half-life of one hour (a minute busy an hour ago
//     counts as half a minute), a smooth rolling window. Busy time runs from
//     Accept to Complete (or to the next SetAvailable(true)): talk, hold and
//     wrap-up. The weighting keeps the ranking of idle agents fixed while
//     time passes, so a heap works. Ties (no busy time yet) go to the
//     longest idle.
//   - round_robin: a rotation per queue: the member this queue offered to
//     least recently; members never offered to go first, in the order they
//     joined the queue.
//   - skills_best_match: the highest proficiency summed over the required
//     skills, ties to the longest idle. With SkillEvaluation NONE skills
//     are ignored and this is longest_idle.
//   - preferred_agent: an idle preferred agent (Interaction.PreferredAgents,
//     members of the queue) is chosen first, the longest idle of them. When
//     none is free the interaction waits for them for
//     Queue.PreferredAgentWait (0: it goes to anyone at once), then any
//     member may take it (longest idle); a preferred agent that becomes
//     available still takes the interactions that prefer it before others.
//   - bullseye: Queue.Bullseye rings, sorted by After. While an interaction
//     has waited less than ring i+1's After, only agents whose proficiency in
//     every required skill is at least the MinProficiency of rings 0..i may
//     take it (thresholds are made non-increasing, so rings only widen). A
//     deadline widens it to the next ring; the last ring stays. With no
//     required skill every member is in ring 0. Give the last ring
//     MinProficiency 0 to let every member in. No rings: everyone.
//
// # Skill evaluation (Queue.SkillEvaluation)
//
//   - ALL (default): an agent must have every required skill (any
//     proficiency present in Agent.Skills), then the strategy chooses.
//   - BEST: anyone may take it; agents with the higher proficiency sum on the
//     required skills come first, then the strategy chooses among equals.
//   - NONE: skills are ignored (bullseye rings still use proficiencies).
//
// # Offers
//
// One interaction is offered to one agent at a time, and an agent is never
// offered two. Accept ends the interaction's time in the queue. Decline and
// an alerting timeout (Queue.AlertingTimeout, 0 = none) put the interaction
// back at its original position (its priority, EnqueuedAt and arrival order
// are kept) and route it again at once; the agent becomes unavailable
// (OfferTimedOut is called first for a timeout). Dequeue (abandoned) removes
// a waiting or an offered interaction; an agent whose offer it was is free
// again and is routed at once. RemoveAgent, SetAvailable(false), SetAgent
// dropping the queue, and RemoveQueue withdraw a pending offer; a Decisions
// that also implements Notices hears about it (OfferWithdrawn), and about
// interactions dropped because their queue was removed or unknown
// (Dropped). Late and duplicate inputs (Accept of an interaction no longer
// offered to that agent, a second Decline, Enqueue of a waiting id, inputs
// for unknown agents) are ignored.
//
// # Overflow
//
// An interaction still waiting Queue.OverflowAfter after it entered a queue
// moves to Queue.OverflowQueue (if that queue exists; otherwise it stays).
// It keeps its EnqueuedAt and priority, so in the new queue it ranks by its
// original arrival and is not sent behind callers who came later. If it is
// being offered at that moment the move waits until the offer ends
// (Decline/timeout), so a ringing agent is never cut off. Overflowed is
// called before any Offer from the new queue.
//
// Time in queue (bullseye rings, preferred wait, overflow, service level,
// longest wait) runs from EnqueuedAt in the first queue (clamped to now) and
// from the moment of the move after an overflow.
//
// # Service level and estimated wait
//
// Service level is Genesys's formula: answered within the target /
// (answered + abandoned after the target), over a rolling 30-minute window
// kept in one-minute buckets (the oldest minute drops out whole). Abandons
// within the target and interactions that overflowed out are not in it
// (Overflowed counts them). With nothing counted it is 1.
//
// The estimated wait of the interaction at position k (1 = next) is
// k × AHT / N: with N agents on the queue (idle, alerting or interacting)
// each freeing up on average every AHT, the k-th departure comes after
// k × AHT / N (the mean of an Erlang-k wait in an M/M/N queue when all N are
// busy). AHT is the queue's average handle time, Accept to Complete (or to
// the next SetAvailable(true)): DefaultHandleTime until one is measured,
// then the mean of the first ten, then an exponentially weighted mean
// (weight 0.1 per new handle time). For a new arrival,
// Stats.EstimatedWait is 0 when an agent is idle, else (Waiting+1) × AHT / N.
// With no agent on the queue it is Unknown (-1). Position counts every
// waiting interaction of the queue that ranks ahead, whatever its skills.
//
// Queries cost O(log n) for the position and O(members) for the agent
// counts; QueueStats also walks the queue's interactions. They wait for the
// loop, so before Run they block until their context ends.
package routing
