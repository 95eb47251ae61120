// Package pacing is the dialer's pure decision core: given the state of a
// campaign at an instant (a Snapshot), it says how many new calls to place.
// It owns the estimators (live-answer rate, answer delays, handle time) and
// the abandonment counts per day and per rolling 30 days. It starts no
// goroutines, reads no clock (every time comes in as an argument) and does
// no I/O; one goroutine owns a Pacer (it is not safe for concurrent use).
// The live dialer (internal/dialer) and the simulation
// (internal/dialer/dialersim) call Calls on every agent and call event and
// report what happened through the observation methods.
//
// # Modes
//
//   - Preview: 0 (the agent sees the record and dials).
//   - Progressive: max(0, Idle − len(InFlight)), one call per free agent.
//   - Power: max(0, ceil(Ratio × Idle) − len(InFlight)).
//   - Predictive: below; never fewer calls than progressive; while the
//     abandonment cap is at risk, calls of negligible risk only at the
//     start of a day and in teams of 20 agents or more, else exactly
//     progressive.
//
// # Observation contract
//
// For every placed call: Placed, then either Failed (busy, no answer,
// rejected, failed) or Answered. A live answer (Answered with live=true) is
// followed by exactly one of Connected (an agent took it) or Abandoned (no
// agent within 2 s). Handled is reported when the agent finishes the call
// (talk plus wrap-up). Live answers are counted per day when answered;
// abandonments when declared.
//
// # Predictive pacing
//
// Estimators, all online with exponential forgetting so that a step change
// is followed within a few thousand calls:
//
//   - p, the live-answer rate among resolved calls (Beta prior 0.2, weight
//     10; memory about 2000 resolved calls), with a two-sided Bernoulli
//     CUSUM (a rate 1.6 times higher or lower, threshold e^14: no false
//     alarm in a million steady calls) that notices a step within about a
//     hundred calls and restarts the counts from the calls since the step
//     began (Stats.HitRateChanges; after a fall, from the upper end of
//     their rate's interval, since the test fires when they look lowest
//     and a rate too low over-dials): the decayed counts alone took
//     thousands of calls, while the calls in flight at the old rate
//     abandoned;
//   - the live answer-delay distribution F_L and the non-live resolution
//     delay distribution F_N (busy, rejected, no answer, machine), as
//     histograms of 0.5 s bins with a weak uniform prior over 2–30 s;
//   - the mean handle time (memory about 3000 calls), modelled as
//     exponential; until 1000 calls were handled it is the censored
//     estimate (finished calls' time plus busy agents' time so far, over
//     finished calls), since the calls that end first in a fresh shift are
//     the short ones.
//
// The derived tables are rebuilt lazily (at most about once a simulated
// second, and only after new observations), so Calls itself is a few table
// lookups per in-flight call and per busy agent.
//
// The decision asks, for the next call we might place, "if this call is
// answered live, how likely is it that no agent is free within the 2 s
// allowed?" The call answers live at τ, drawn from F_L (K = 8 quantile
// points). At τ the free agents are approximately
//
//	X(τ) = Idle + R(τ+2s) − Waiting − D(τ) − n·p·F_L(τ)
//
// where R counts the busy agents that release by then (each with
// probability 1 − exp(−(τ+2s)/AHT)), D
// counts the live answers of the calls already in flight before τ (each
// in-flight call's chance comes from Bayes with the two delay distributions:
// a call unanswered after a ages is live with probability
// p(1−F_L(a)) / (p(1−F_L(a)) + (1−p)(1−F_N(a))), and answers within τ with
// the conditional probability of F_L), and n is the number of new calls
// placed before this one. Sums of independent Bernoullis are approximated
// by a normal with continuity correction, so the marginal risk is
// mean_k Φ((0.5 − E[X(τ_k)]) / sd[X(τ_k)]); with at most 64 busy agents
// and calls in flight (small teams, where the normal's tails are wrong by
// a factor) the sums are convolved exactly instead and the risk is
// mean_k P(X(τ_k) ≤ 0). The pacer places calls one by
// one while that marginal risk stays at or under a threshold θ: the
// Lagrangian form of "maximize connected calls subject to an abandonment
// rate", in which only the marginal call's risk matters.
//
// θ is steered by the abandonment record itself. The slack S is the
// smallest, over {today, 30 days}, of
//
//   - target × live − abandoned: the abandonments still affordable at the
//     target rate (default 0.95 × cap), and
//   - cap × live − abandoned − w·(1.5·sqrt(cap × live) + 2): the
//     abandonments affordable under the cap minus a guard band of about
//     1.5 standard deviations of the count, so that a burst of abandonments
//     early in a day (when cap × live is small) does not trip the
//     fallback below. The band's weight w is
//     min(1, 0.2 + (agents/20)²·max(1, (0.2/p)²)): full for 20 agents or
//     more and at low hit rates, where falling back to progressive costs
//     most; light for small teams with high hit rates, whose days have
//     few live answers and little to lose by the fallback;
//
// θ = θb · exp(S / s) (clamped to [0.0005, 0.6]; s = 5 + 0.3 × target ×
// today's live answers grows with the day's volume, so that in large
// campaigns the burst-to-burst noise of the count does not swing θ: a
// swinging θ buys less occupancy for the same abandonments than a steady
// one; from 20 agents up S/s is at most 0.3, since a full e-fold push
// early in the day overshoots into abandonment bursts that cost more than
// it gains), so θ grows while live answers accumulate without
// abandonments and shrinks with every abandonment. The base θb is the controller's
// integral part: on every live answer log θb moves by g·clamp(S/s, −1, 1),
// with a gain g that is larger while the day is young (first few hundred
// live answers, upward only, so that small campaigns reach the target
// within a day; that extra gain fades as (8/agents)² above 8 agents) and
// fades as the day's volume grows (large campaigns, whose estimates are
// already tight, are not jolted). Teams of 20 agents or more on the
// default target steer to 0.967 × cap with 0.7 × the sqrt part of the
// band: their days are long enough for the count to be steered tightly.
// The day's rate converges to the target or the band from below.
//
// Independently of θ, when one more abandonment would put today's or the
// 30-day rate over the cap (abandoned + 1 > cap × live), pacing is soft:
// only calls whose marginal risk is at most 0.2 %. At the start of a day,
// which is always in that state (no live answers yet), the hit rate is
// replaced by the upper end of its Wilson interval (2 standard errors),
// since the estimate then rests on few calls and is biased low (non-live
// outcomes resolve sooner than live answers); later in the day the
// estimate itself is used. Such calls abandon about 0.1 % of live answers,
// and a large team no longer sits idle while the day's first 34 live
// answers come in (a 100-agent team at p = 0.1 used to run at 15 %
// occupancy for the first minute of every day) or whenever a burst of
// abandonments reaches the cap. In teams of 20 agents or more this holds
// when the count is already over the cap too (calls placed earlier
// abandoned): progressive pacing abandons nothing but brings few live
// answers (a 100-agent team at p = 0.1 runs at 30 % occupancy), so the
// day's rate took longer by the clock to get back under the cap (and one
// such episode cost a 100-agent day 0.4 points); soft pacing gets it back
// sooner, which is what a campaign stopped early is measured on. Teams under 20 agents are exactly progressive once the
// day has an abandonment and the cap is at risk: their cap is at risk for
// tens of minutes at a time late in the day, and even negligible marginal
// risks add up to an abandonment over such a stretch.
//
// # Carrying estimates over
//
// Model returns a JSON-serializable snapshot of the learned estimates (hit
// rate, the two delay histograms, handle time; not θ and not the
// abandonment record, which Days and Restore carry); SetModel installs one
// in a new Pacer, so that a campaign's next shift starts from what the
// previous one learned instead of the priors. The simulation's cold-start
// figures are the default; `centralita bench dialer --warmup H` runs an
// uncounted H-hour warm-up shift on the same cell before each predictive
// replication and carries its Model over (docs/benchmarks.md).
//
// Cost: Calls is O(len(InFlight) + len(Busy)) table lookups plus K normal
// CDF evaluations per call placed (BenchmarkCalls: about 5 µs with 300 calls
// in flight on the development machine).
package pacing
