package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/centralita/centralita/internal/auth"
)

// Rule decides who may subscribe to a topic. The id a rule looks at is the
// value of the template's {id} placeholder.
type Rule int

const (
	// Anyone: any authenticated caller.
	Anyone Rule = iota + 1
	// SelfOrSupervisor: {id} is a user id; that user (a person's token), or
	// supervisor and above. A client-credentials token needs supervisor+.
	SelfOrSupervisor
	// Supervisor: supervisor and above.
	Supervisor
	// ParticipantOrSupervisor: {id} is a conversation id; supervisor and
	// above, or a person who is or was a participant (asked of the
	// ParticipantChecker; without one, supervisors only).
	ParticipantOrSupervisor
)

func (r Rule) String() string {
	switch r {
	case Anyone:
		return "any authenticated caller"
	case SelfOrSupervisor:
		return "the user the topic names, or the supervisor role"
	case Supervisor:
		return "the supervisor role"
	case ParticipantOrSupervisor:
		return "a participant of the conversation, or the supervisor role"
	}
	return "nobody"
}

// ParticipantChecker tells whether a person is or was a participant of a
// conversation. The conversation layer implements it.
type ParticipantChecker interface {
	IsParticipant(ctx context.Context, conversationID, userID string) (bool, error)
}

// Topic is one entry of the topic registry.
type Topic struct {
	// Template is the topic name with {id} placeholders, e.g.
	// "v2.users.{id}.presence". At most one {id}.
	Template    string
	Description string
	Rule        Rule
	// Schema describes the eventBody as a JSON Schema object; optional.
	Schema map[string]any
}

// Placeholder is the one placeholder a template may hold.
const Placeholder = "{id}"

// MaxCombinedTopicLength bounds a combined topic such as
// "v2.users.<id>?presence&routingStatus".
const MaxCombinedTopicLength = 200

// registry holds the available topics. It has its own lock, never held
// while the hub's lock is taken or the other way round.
type registry struct {
	mu     sync.RWMutex
	topics map[string]Topic // by template
}

func (r *registry) register(ts ...Topic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.topics == nil {
		r.topics = map[string]Topic{}
	}
	for _, t := range ts {
		if err := t.validate(); err != nil {
			panic("notify: " + err.Error())
		}
		r.topics[t.Template] = t
	}
}

func (t Topic) validate() error {
	segs := strings.Split(t.Template, ".")
	holders := 0
	for _, s := range segs {
		switch {
		case s == Placeholder:
			holders++
		case !validSegment(s):
			return fmt.Errorf("topic template %q: bad segment %q", t.Template, s)
		}
	}
	if len(segs) < 2 || segs[0] != "v2" {
		return fmt.Errorf("topic template %q: must start with v2.", t.Template)
	}
	if holders > 1 {
		return fmt.Errorf("topic template %q: at most one %s", t.Template, Placeholder)
	}
	switch t.Rule {
	case Anyone, Supervisor:
	case SelfOrSupervisor, ParticipantOrSupervisor:
		if holders != 1 {
			return fmt.Errorf("topic template %q: rule %d needs an %s", t.Template, t.Rule, Placeholder)
		}
	default:
		return fmt.Errorf("topic template %q: unknown rule %d", t.Template, t.Rule)
	}
	return nil
}

// validSegment: letters, digits, '-' and '_' (so never a NATS wildcard).
func validSegment(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// match finds the template a concrete topic name fits and the value of its
// placeholder.
func (r *registry) match(name string) (Topic, string, bool) {
	segs := strings.Split(name, ".")
	for _, s := range segs {
		if !validSegment(s) {
			return Topic{}, "", false
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	// A template without a placeholder beats one with: "v2.a.b" is more
	// specific than "v2.a.{id}".
	var best Topic
	bestID, found := "", false
	for _, t := range r.topics {
		ts := strings.Split(t.Template, ".")
		if len(ts) != len(segs) {
			continue
		}
		id, ok, holder := "", true, false
		for i, s := range ts {
			if s == Placeholder {
				id, holder = segs[i], true
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if ok && (!found || !holder) {
			best, bestID, found = t, id, true
			if !holder {
				break
			}
		}
	}
	return best, bestID, found
}

func (r *registry) list() []Topic {
	r.mu.RLock()
	out := make([]Topic, 0, len(r.topics))
	for _, t := range r.topics {
		out = append(out, t)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Template < out[j].Template })
	return out
}

// ExpandTopics turns the requested names into individual topic names,
// expanding combined topics ("v2.users.<id>?presence&routingStatus" →
// "v2.users.<id>.presence", "v2.users.<id>.routingStatus") and dropping
// repeats; the order of first appearance is kept. Malformed combined topics
// are returned in bad with the reason.
func ExpandTopics(names []string) (out []string, bad map[string]string) {
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		prefix, rest, combined := strings.Cut(n, "?")
		if !combined {
			add(n)
			continue
		}
		reason := ""
		switch {
		case len(n) > MaxCombinedTopicLength:
			reason = fmt.Sprintf("a combined topic is at most %d characters, this one has %d", MaxCombinedTopicLength, len(n))
		case prefix == "" || rest == "":
			reason = "a combined topic is prefix?suffix&suffix..."
		}
		var parts []string
		if reason == "" {
			for _, s := range strings.Split(rest, "&") {
				if s == "" {
					reason = "a combined topic has an empty suffix"
					break
				}
				parts = append(parts, prefix+"."+s)
			}
		}
		if reason != "" {
			if bad == nil {
				bad = map[string]string{}
			}
			bad[n] = reason
			continue
		}
		for _, p := range parts {
			add(p)
		}
	}
	return out, bad
}

// allowed applies a topic's rule to p for the placeholder value id.
func allowed(ctx context.Context, t Topic, id string, p auth.Principal, pc ParticipantChecker) (bool, error) {
	if p.Has(auth.Supervisor) {
		return true, nil
	}
	switch t.Rule {
	case Anyone:
		return true, nil
	case SelfOrSupervisor:
		return p.IsUser() && p.UserID == id, nil
	case ParticipantOrSupervisor:
		if !p.IsUser() || pc == nil {
			return false, nil
		}
		return pc.IsParticipant(ctx, id, p.UserID)
	}
	return false, nil
}

// DefaultTopics are the topics every hub starts with.
var DefaultTopics = []Topic{
	{Template: "v2.users.{id}.presence", Rule: SelfOrSupervisor,
		Description: "The user's presence changed.",
		Schema: object(map[string]any{
			"source":             str("Who changed it."),
			"presenceDefinition": object(map[string]any{"id": str("Presence definition id."), "systemPresence": str("AVAILABLE, AWAY, BUSY, OFFLINE, IDLE, BREAK, MEAL, MEETING, TRAINING, ON_QUEUE.")}),
			"message":            str("Presence message."),
			"modifiedDate":       dateTime("When it changed."),
		})},
	{Template: "v2.users.{id}.routingStatus", Rule: SelfOrSupervisor,
		Description: "The user's routing status changed (OFF_QUEUE, IDLE, INTERACTING, NOT_RESPONDING, COMMUNICATING).",
		Schema: object(map[string]any{
			"routingStatus": object(map[string]any{"status": str("OFF_QUEUE, IDLE, INTERACTING, NOT_RESPONDING or COMMUNICATING."), "startTime": dateTime("Since when.")}),
		})},
	{Template: "v2.users.{id}.activity", Rule: SelfOrSupervisor,
		Description: "The user's routing status, presence and active queues, in one body."},
	{Template: "v2.users.{id}.conversations", Rule: SelfOrSupervisor,
		Description: "A conversation the user takes part in changed (any media)."},
	{Template: "v2.users.{id}.conversations.calls", Rule: SelfOrSupervisor,
		Description: "A call the user takes part in changed."},
	{Template: "v2.users.{id}.station", Rule: SelfOrSupervisor,
		Description: "The user's station association changed."},
	{Template: "v2.routing.queues.{id}.users", Rule: Supervisor,
		Description: "The queue's membership changed (members added, removed, joined or unjoined).",
		Schema: object(map[string]any{
			"action": str("created, updated or deleted."),
			"entity": str("queuemembers."),
			"id":     str("The queue id."),
		})},
	{Template: "v2.routing.queues.{id}.conversations", Rule: Supervisor,
		Description: "A conversation in the queue changed (any media)."},
	{Template: "v2.routing.queues.{id}.conversations.calls", Rule: Supervisor,
		Description: "A call in the queue changed."},
	{Template: "v2.conversations.{id}", Rule: ParticipantOrSupervisor,
		Description: "The conversation changed (any media)."},
	{Template: "v2.conversations.calls.{id}", Rule: ParticipantOrSupervisor,
		Description: "The call changed."},
	{Template: "v2.users.{id}.outbound", Rule: SelfOrSupervisor,
		Description: "The agent's outbound desk changed: campaign, record offered for preview, contact to release, ready."},
	{Template: "v2.users.{id}.outboundcampaign", Rule: SelfOrSupervisor,
		Description: "The outbound campaign the agent is logged into changed."},
	{Template: "v2.outbound.campaigns.{id}", Rule: Supervisor,
		Description: "An outbound or inbound campaign changed."},
	{Template: "v2.outbound.campaigns.{id}.agents", Rule: Supervisor,
		Description: "An agent logged into or out of the campaign."},
	{Template: "v2.outbound.callbacks.{id}", Rule: Supervisor,
		Description: "A scheduled callback changed."},
	{Template: "v2.outbound.contactlists.{id}.importstatus", Rule: Supervisor,
		Description: "An import into the contact list finished."},
	{Template: "v2.users.{id}.crm.screenpop", Rule: SelfOrSupervisor,
		Description: "A call connected to the agent: what the CRM search found and what the softphone should open (plan, decision, record)."},
	{Template: "v2.users.{id}.messages", Rule: SelfOrSupervisor,
		Description: "A text message (SMS, WhatsApp) the user sent was accepted, delivered or failed.",
		Schema: object(map[string]any{
			"id":             str("The message id (GET /api/v2/conversations/messages/agentless/{id})."),
			"conversationId": str("Its conversation."),
			"integrationId":  str("The Open Messaging integration it goes through."),
			"toAddress":      str("The customer's number, E.164."),
			"messengerType":  str("sms or whatsapp."),
			"userId":         str("Who sent it."),
			"state":          str("pending, delivered or failed."),
		})},
	{Template: "v2.crm.callcenters.{id}", Rule: Supervisor,
		Description: "A call center's connector options changed."},
}

func object(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func dateTime(desc string) map[string]any {
	return map[string]any{"type": "string", "format": "date-time", "description": desc}
}
