// Package dialer runs outbound campaigns. One goroutine (Run) owns every
// running campaign's live state: the agents logged into it and what each
// is doing, the calls in flight, the customers who answered and wait for
// an agent, the pacer. Everything that can change a decision — an agent's
// status, a call's progress, a campaign or callback change, a timer for
// the next due contact — is posted to that goroutine, which then asks the
// pacer how many calls to place. There is no polling loop.
//
// Modes: predictive and power call the customer first and connect a live
// answer to a free agent of the campaign within 2 s, or play the abandon
// message and hang up; progressive reserves a free agent and rings them
// first (the record is on screen before the customer answers); preview
// offers the record to a free agent, who dials or skips it. Callbacks are
// placed agent-first at their time, to their owner or any campaign agent.
//
// After a connected call the agent stays in after-call work until the
// contact is released (categorized or not, or automatically after the
// campaign's autoReleaseSeconds), then signals "ready" for the next call —
// unless the contact was scheduled as a callback.
package dialer

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/dialer/pacing"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/store"
)

// AbandonWait is how long a live answer waits for an agent before the
// abandon message (the 2-second rule).
const AbandonWait = 2 * time.Second

// CallbackGrace is how long a due callback waits for its agent before it
// is marked missed and the contact goes back to the list.
const CallbackGrace = time.Hour

// SkipDelay is when a skipped preview record comes back.
const SkipDelay = time.Hour

// refill is how many due contacts a campaign reads at a time.
const refill = 50

// Calls is what the dialer needs of conversations.
type Calls interface {
	DialCustomer(ctx context.Context, r conversation.OutboundCall) (string, error)
	ConnectAgent(ctx context.Context, convID, userID string, attrs map[string]string) error
	AbandonCall(ctx context.Context, convID, prompt string) error
	PlaceCall(ctx context.Context, a conversation.Actor, r conversation.CallRequest) (string, error)
	Release(ctx context.Context, convID, userID string, d conversation.Disposition) error
	CallData(ctx context.Context, convID string) (map[string]string, error)
	DialerWrapups() []conversation.CallState
}

// Agents is what the dialer needs of the agent sessions.
type Agents interface {
	Get(userID string) session.View
}

// Contacts is what the dialer needs of the contact store.
type Contacts interface {
	GetSchema(ctx context.Context, id string) (contact.Schema, error)
	GetContact(ctx context.Context, id string) (contact.Contact, error)
	Due(ctx context.Context, listIDs []string, now time.Time, limit int) ([]contact.Contact, error)
	Claim(ctx context.Context, contactID, campaignID string) (bool, error)
	Finish(ctx context.Context, a contact.Attempt, status string, next time.Time) error
	Blocked(ctx context.Context, dncListIDs []string, e164 string) (bool, error)
	Unclaim(ctx context.Context, contactID string) error
	Defer(ctx context.Context, contactID string, until time.Time) error
	NextDue(ctx context.Context, listIDs []string) (time.Time, error)
	AnsweredSince(ctx context.Context, campaignID string, since time.Time) ([]contact.Answer, error)
}

// Campaigns is what the dialer needs of the campaigns.
type Campaigns interface {
	Get(ctx context.Context, id string) (campaign.Campaign, error)
	Running(ctx context.Context) ([]campaign.Campaign, error)
	Agents(ctx context.Context, campaignID string) ([]string, error)
	AgentCampaign(ctx context.Context, userID string) (string, error)
	DueCallbacks(ctx context.Context, now time.Time, limit int) ([]campaign.Callback, error)
	NextCallback(ctx context.Context) (time.Time, error)
	TakeCallback(ctx context.Context, id string) (bool, error)
	FinishCallback(ctx context.Context, id, state, conversationID string) error
}

// Events is what the dialer needs of the outbox (the agents' desk events).
type Events interface {
	Add(ctx context.Context, tx *store.Tx, topic string, body any) error
}

// Options configure an Engine.
type Options struct {
	DB        *store.DB
	Events    Events
	Calls     Calls
	Agents    Agents
	Contacts  Contacts
	Campaigns Campaigns
	Clock     clock.Clock
	Log       *slog.Logger
}

// Engine is the live dialer.
type Engine struct {
	o   Options
	log *slog.Logger
	m   metrics

	mu   sync.Mutex
	work []func()
	wake chan struct{}
	// stopped is closed when Run returns; do then runs work itself (late
	// calls at shutdown, e.g. SaveModels after the context ended).
	stopped  chan struct{}
	stopOnce sync.Once
	lateMu   sync.Mutex
	ctx      context.Context

	// Owned by the Run goroutine.
	runs   map[string]*run   // campaign id → running campaign
	agents map[string]*agent // user id → agent logged into a campaign
	calls  map[string]*call  // conversation id → dialer call
	timers map[string]clock.Timer
	// callbacks due and waiting for an agent, by callback id.
	callbacks map[string]*campaign.Callback
}

type run struct {
	c       campaign.Campaign
	schema  contact.Schema
	pacer   *pacing.Pacer
	queue   []contact.Contact // due contacts read ahead, oldest first
	drained time.Time         // when the list last had nothing due
	waiting []string          // answered calls waiting for an agent, oldest first
}

type agent struct {
	id, campaign string
	ready        bool
	call         string // conversation of the current dialer call (reserved, ringing or talking)
	release      string // conversation whose contact waits for release
	preview      *Preview
}

type call struct {
	conv, campaign, agent string
	contact               contact.Contact
	phone, reason         string
	callback              string // callback id, when placing one
	agentFirst            bool
	placed, answered      time.Time
	connected             time.Time
	outcome               string // once known
	released              bool
	scheduled             bool // the contact was scheduled as a callback during the call
}

// Preview is a record offered to an agent before dialing.
type Preview struct {
	CampaignID string            `json:"campaignId"`
	ContactID  string            `json:"contactId"`
	ListID     string            `json:"listId"`
	Phone      string            `json:"phone"`
	Key        string            `json:"key"`
	Data       map[string]string `json:"data"`
	Reason     string            `json:"reason"`
	CallbackID string            `json:"callbackId,omitempty"`
}

// New builds the dialer; call Start (loads the running campaigns) and Run.
func New(o Options) *Engine {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Engine{o: o, log: o.Log, m: newMetrics(), wake: make(chan struct{}, 1), stopped: make(chan struct{}), ctx: context.Background(),
		runs: map[string]*run{}, agents: map[string]*agent{}, calls: map[string]*call{}, timers: map[string]clock.Timer{},
		callbacks: map[string]*campaign.Callback{}}
}

// post queues f for the Run goroutine; it never blocks.
func (e *Engine) post(f func()) {
	e.mu.Lock()
	e.work = append(e.work, f)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// do runs f on the Run goroutine and waits for it (API calls).
func (e *Engine) do(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	var once sync.Once
	run := func() { once.Do(func() { done <- f() }) }
	e.post(run)
	select {
	case err := <-done:
		return err
	case <-e.stopped:
		// Run has returned and owns nothing any more; run f here, once.
		e.lateMu.Lock()
		run()
		e.lateMu.Unlock()
		return <-done
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending reports queued work (tests' quiesce barrier).
func (e *Engine) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.work)
}

// Run applies queued work until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	e.post(e.load)
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			for _, t := range e.timers {
				t.Stop()
			}
			e.mu.Unlock()
			e.stopOnce.Do(func() { close(e.stopped) })
			return
		case <-e.wake:
			for {
				e.mu.Lock()
				if len(e.work) == 0 {
					e.mu.Unlock()
					break
				}
				f := e.work[0]
				e.work[0] = nil
				e.work = e.work[1:]
				e.mu.Unlock()
				e.apply(f)
			}
		}
	}
}

func (e *Engine) apply(f func()) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("dialer: panic", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// after arms a named timer whose work runs on the Run goroutine.
func (e *Engine) after(key string, d time.Duration, f func()) {
	e.stop(key)
	var t clock.Timer
	t = e.o.Clock.AfterFunc(d, func() {
		e.post(func() {
			if e.timers[key] == t {
				delete(e.timers, key)
				f()
			}
		})
	})
	e.mu.Lock()
	e.timers[key] = t
	e.mu.Unlock()
}

func (e *Engine) stop(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.timers[key]; ok {
		t.Stop()
		delete(e.timers, key)
	}
}

func (e *Engine) now() time.Time { return e.o.Clock.Now() }

// ---- inputs ----

// AgentChanged is told of every agent status change (session.OnStatus).
func (e *Engine) AgentChanged(v session.View) {
	e.post(func() {
		if a := e.agents[v.UserID]; a != nil {
			e.serve(a.campaign)
		}
	})
}

// CallChanged is the conversations' outbound observer (OnOutbound).
func (e *Engine) CallChanged(st conversation.CallState) {
	e.post(func() { e.onCall(st) })
}

// Changed follows campaign, agent-login and callback changes (an outbox
// OnCommit observer).
func (e *Engine) Changed(ev bus.Event) {
	t := ev.Topic
	switch {
	case strings.HasPrefix(t, "v2.outbound.campaigns.") && strings.HasSuffix(t, ".agents"):
		var b struct {
			UserID   string `json:"userId"`
			LoggedIn bool   `json:"loggedIn"`
		}
		if json.Unmarshal(ev.Body, &b) != nil {
			return
		}
		id := strings.TrimSuffix(strings.TrimPrefix(t, "v2.outbound.campaigns."), ".agents")
		e.post(func() { e.onLogin(id, b.UserID, b.LoggedIn) })
	case strings.HasPrefix(t, "v2.outbound.campaigns.") && strings.Count(t, ".") == 3:
		id := strings.TrimPrefix(t, "v2.outbound.campaigns.")
		e.post(func() { e.reload(id) })
	case strings.HasPrefix(t, "v2.outbound.callbacks."):
		var cb campaign.Callback
		if json.Unmarshal(ev.Body, &cb) != nil {
			return
		}
		e.post(func() { e.onCallback(cb) })
	case strings.HasPrefix(t, "v2.outbound.contactlists.") && strings.HasSuffix(t, ".importstatus"):
		e.post(func() {
			for id, r := range e.runs {
				r.drained = time.Time{}
				e.serve(id)
			}
		})
	}
}

// load reads the running campaigns and their agents (start, restart).
func (e *Engine) load() {
	ctx := e.ctx
	cs, err := e.o.Campaigns.Running(ctx)
	if err != nil {
		e.log.Error("dialer: loading campaigns failed", "err", err)
		return
	}
	for _, c := range cs {
		e.reload(c.ID)
	}
	e.armCallbacks()
	// Agents who were waiting to release a contact when the program
	// stopped still are: take their calls up again.
	for _, st := range e.o.Calls.DialerWrapups() {
		attrs, err := e.o.Calls.CallData(ctx, st.ConversationID)
		if err != nil {
			continue
		}
		ct, err := e.o.Contacts.GetContact(ctx, attrs["contactId"])
		if err != nil {
			continue
		}
		c := &call{conv: st.ConversationID, campaign: st.CampaignID, agent: st.AgentID, contact: ct, phone: attrs["phoneNumber"],
			reason: attrs["callReason"], answered: st.CustomerAnswered, connected: st.AgentConnected, outcome: "connected"}
		e.calls[c.conv] = c
		a := e.agents[st.AgentID]
		if a == nil {
			a = &agent{id: st.AgentID, campaign: st.CampaignID}
			e.agents[st.AgentID] = a
		}
		a.release = c.conv
	}
}

// reload (re)reads a campaign; off or deleted campaigns stop dialing.
func (e *Engine) reload(id string) {
	ctx := e.ctx
	c, err := e.o.Campaigns.Get(ctx, id)
	r := e.runs[id]
	if err != nil || c.Direction != "outbound" || c.State != "on" {
		if r != nil {
			e.stopRun(id)
		}
		return
	}
	sc, err := e.o.Contacts.GetSchema(ctx, c.SchemaID)
	if err != nil {
		e.log.Warn("dialer: campaign schema unreadable", "campaign", c.Name, "err", err)
		return
	}
	cfg := pacing.Config{Mode: pacing.Mode(c.DialingMode), Ratio: c.PowerRatio, AbandonCap: c.AbandonCapPercent / 100}
	if loc, err := time.LoadLocation(c.CallingHours.TimeZone); err == nil {
		cfg.Location = loc
	}
	if r == nil || r.c.DialingMode != c.DialingMode || r.c.PowerRatio != c.PowerRatio || r.c.AbandonCapPercent != c.AbandonCapPercent {
		p := pacing.New(cfg, e.now())
		if r != nil {
			p.Restore(r.pacer.Days())
			p.SetModel(r.pacer.Model())
		} else {
			p.Restore(e.history(id, cfg.Location))
			e.loadModel(id, p)
			e.armModelSave(id)
		}
		if r == nil {
			r = &run{}
			e.runs[id] = r
		}
		r.pacer = p
	}
	r.c, r.schema, r.queue, r.drained = c, sc, nil, time.Time{}
	users, err := e.o.Campaigns.Agents(ctx, id)
	if err != nil {
		e.log.Warn("dialer: campaign agents unreadable", "campaign", c.Name, "err", err)
	}
	for _, u := range users {
		e.onLogin(id, u, true)
	}
	e.serve(id)
}

// history reads back a campaign's live answers and abandons per day of
// the last 30 days from the attempt record.
func (e *Engine) history(id string, loc *time.Location) []pacing.Day {
	as, err := e.o.Contacts.AnsweredSince(e.ctx, id, e.now().AddDate(0, 0, -31))
	if err != nil {
		e.log.Warn("dialer: reading the abandonment record failed", "campaign", id, "err", err)
		return nil
	}
	return byDay(as, loc)
}

// byDay counts live answers and abandonments per date in loc (UTC when
// nil), oldest first.
func byDay(as []contact.Answer, loc *time.Location) []pacing.Day {
	if loc == nil {
		loc = time.UTC
	}
	days := map[string]pacing.Day{}
	for _, a := range as {
		date := a.At.In(loc).Format("2006-01-02")
		d := days[date]
		d.Date = date
		d.Live++
		if a.Abandoned {
			d.Abandoned++
		}
		days[date] = d
	}
	out := make([]pacing.Day, 0, len(days))
	for _, d := range days {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

func (e *Engine) stopRun(id string) {
	r := e.runs[id]
	delete(e.runs, id)
	e.stop("due:" + id)
	e.stop("model:" + id)
	e.saveModel(e.ctx, id, r.pacer)
	// Customers already on the line hear the message rather than silence.
	for _, conv := range r.waiting {
		if c := e.calls[conv]; c != nil && c.outcome == "" {
			e.stop("abandon:" + conv)
			c.outcome = "abandoned"
			r.pacer.Abandoned(e.now())
			if err := e.o.Calls.AbandonCall(e.ctx, conv, r.c.AbandonPrompt); err != nil {
				e.log.Warn("dialer: abandon message failed", "conversation", conv, "err", err)
			}
		}
	}
	for _, a := range e.agents {
		if a.campaign == id && a.preview != nil {
			e.dropPreview(a)
		}
	}
}

func (e *Engine) onLogin(campaignID, userID string, in bool) {
	a := e.agents[userID]
	if !in {
		if a != nil && a.campaign == campaignID {
			if a.preview != nil {
				e.dropPreview(a)
			}
			a.campaign = ""
			if a.call == "" && a.release == "" {
				delete(e.agents, userID)
			}
			e.publishDesk(userID)
		}
		return
	}
	if a == nil {
		a = &agent{id: userID, ready: true}
		e.agents[userID] = a
	}
	if a.campaign != campaignID {
		if a.preview != nil {
			e.dropPreview(a)
		}
		a.campaign = campaignID
		e.publishDesk(userID)
	}
	e.serve(campaignID)
}

// ---- choosing and placing calls ----

// free reports whether an agent can take a campaign call now.
func (e *Engine) free(a *agent) bool {
	if a.campaign == "" || !a.ready || a.call != "" || a.release != "" || a.preview != nil {
		return false
	}
	v := e.o.Agents.Get(a.id)
	return v.StationID != "" && v.Status == session.Idle
}

// campaignAgents lists a campaign's agents in a stable order.
func (e *Engine) campaignAgents(id string) []*agent {
	var out []*agent
	for _, a := range e.agents {
		if a.campaign == id {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// serve does what a campaign can do now: give waiting customers to free
// agents, place due callbacks, then pace new calls.
func (e *Engine) serve(id string) {
	r := e.runs[id]
	if r == nil {
		return
	}
	if !r.drained.IsZero() {
		e.armDue(r) // a retry may have come due sooner than the timer set
	}
	for len(r.waiting) > 0 {
		a := e.firstFree(id)
		if a == nil {
			break
		}
		conv := r.waiting[0]
		r.waiting = r.waiting[1:]
		e.connect(r, e.calls[conv], a)
	}
	e.serveCallbacks(id)
	switch r.c.DialingMode {
	case "preview":
		for _, a := range e.campaignAgents(id) {
			if e.free(a) {
				c, ok := e.next(r)
				if !ok {
					break
				}
				a.preview = e.previewOf(r, c, reasonOf(c), "")
				e.publishDesk(a.id)
			}
		}
	case "progressive":
		for _, a := range e.campaignAgents(id) {
			if e.free(a) {
				c, ok := e.next(r)
				if !ok {
					break
				}
				e.placeAgentFirst(r, a, c, reasonOf(c), "")
			}
		}
	default: // predictive, power
		n := r.pacer.Calls(e.snapshot(r))
		for i := 0; i < n; i++ {
			c, ok := e.next(r)
			if !ok {
				break
			}
			e.placeCustomerFirst(r, c)
		}
	}
}

func (e *Engine) firstFree(id string) *agent {
	for _, a := range e.campaignAgents(id) {
		if e.free(a) {
			return a
		}
	}
	return nil
}

// snapshot is the campaign as the pacer sees it.
func (e *Engine) snapshot(r *run) pacing.Snapshot {
	now := e.now()
	s := pacing.Snapshot{Now: now, Waiting: len(r.waiting)}
	for _, a := range e.campaignAgents(r.c.ID) {
		switch {
		case e.free(a):
			s.Idle++
		case a.call != "":
			if c := e.calls[a.call]; c != nil && !c.connected.IsZero() {
				s.Busy = append(s.Busy, now.Sub(c.connected))
			}
		case a.release != "":
			if c := e.calls[a.release]; c != nil && !c.connected.IsZero() {
				s.Busy = append(s.Busy, now.Sub(c.connected))
			}
		}
	}
	for _, c := range e.calls {
		if c.campaign == r.c.ID && !c.agentFirst && c.answered.IsZero() && c.outcome == "" {
			s.InFlight = append(s.InFlight, now.Sub(c.placed))
		}
	}
	return s
}

// next takes the campaign's next callable contact: due, allowed by the
// calling hours in its time zone, not on a do-not-call list, claimed. When
// nothing is due it arms one timer for when the next retry comes due.
func (e *Engine) next(r *run) (contact.Contact, bool) {
	ctx, now := e.ctx, e.now()
	for {
		if len(r.queue) == 0 {
			if !r.drained.IsZero() {
				return contact.Contact{}, false
			}
			cs, err := e.o.Contacts.Due(ctx, r.c.ContactListIDs, now, refill)
			if err != nil {
				e.log.Warn("dialer: reading due contacts failed", "campaign", r.c.Name, "err", err)
				return contact.Contact{}, false
			}
			if len(cs) == 0 {
				r.drained = now
				e.armDue(r)
				return contact.Contact{}, false
			}
			r.queue = cs
		}
		c := r.queue[0]
		r.queue = r.queue[1:]
		phone := firstPhone(r.schema, c)
		if phone == "" {
			e.finishContact(contact.Attempt{ContactID: c.ID, CampaignID: r.c.ID, Outcome: "failed", Started: now, Ended: now}, "done", time.Time{})
			continue
		}
		if !r.c.Allows(now, c.TimeZone) {
			// Not now in the contact's zone: it comes due when its hours open.
			until := r.c.NextAllowed(now, c.TimeZone)
			if until.IsZero() {
				until = now.Add(24 * time.Hour)
			}
			if err := e.o.Contacts.Defer(ctx, c.ID, until); err != nil {
				e.log.Warn("dialer: deferring a contact failed", "contact", c.ID, "err", err)
			}
			continue
		}
		if blocked, err := e.o.Contacts.Blocked(ctx, r.c.DNCListIDs, phone); err == nil && blocked {
			e.finishContact(contact.Attempt{ContactID: c.ID, CampaignID: r.c.ID, Phone: phone, Outcome: "dnc", Started: now, Ended: now}, "dnc", time.Time{})
			continue
		}
		ok, err := e.o.Contacts.Claim(ctx, c.ID, r.c.ID)
		if err != nil || !ok {
			continue
		}
		return c, true
	}
}

// armDue sets the campaign's timer for its next contact coming due.
func (e *Engine) armDue(r *run) {
	at, err := e.o.Contacts.NextDue(e.ctx, r.c.ContactListIDs)
	if err != nil || at.IsZero() {
		return
	}
	id := r.c.ID
	e.after("due:"+id, max(at.Sub(e.now()), time.Second), func() {
		if r := e.runs[id]; r != nil {
			r.drained = time.Time{}
			e.serve(id)
		}
	})
}

func reasonOf(c contact.Contact) string {
	if c.Attempts > 0 {
		return "Reintento"
	}
	return "No Procesado"
}

// firstPhone is the number to dial: the contact's first phone in the
// schema's field order.
func firstPhone(_ contact.Schema, c contact.Contact) string { return c.FirstPhone() }

// callData is the SPEC 2.7 call data, with the exact names of the seed.
func (e *Engine) callData(r *run, c contact.Contact, phone, reason, agentID string) map[string]string {
	searchBy, searchData := r.schema.KeyField().Name, c.Key
	if r.schema.MatchBy == "phone" {
		if pf := r.schema.PhoneFields(); len(pf) > 0 {
			searchBy = pf[0].Name
		}
		searchData = phone
	}
	m := map[string]string{
		"callCampaing":    r.c.ID,
		"callDialer":      r.c.DialingMode,
		"callId":          "",
		"callQueue":       r.c.QueueID,
		"callReason":      reason,
		"phoneNumber":     phone,
		"contactBaseId":   c.ListID,
		"campaignCrmId":   r.c.SchemaID,
		"campaignBaseId":  c.ListID,
		"userOutCampaign": "",
		"crmId":           r.c.SchemaID,
		"contactId":       c.ID,
		"crmKey":          c.Key,
		"SearchBy":        searchBy,
		"SearchData":      searchData,
	}
	if agentID != "" {
		m["userOutCampaign"] = r.c.ID
	}
	return m
}

func (e *Engine) placeCustomerFirst(r *run, c contact.Contact) {
	phone := firstPhone(r.schema, c)
	conv, err := e.o.Calls.DialCustomer(e.ctx, conversation.OutboundCall{CampaignID: r.c.ID, Number: phone, CallerID: r.c.CallerID,
		QueueID: r.c.QueueID, RingTimeout: time.Duration(r.c.RingTimeoutSeconds) * time.Second, Attributes: e.callData(r, c, phone, reasonOf(c), "")})
	now := e.now()
	if err != nil {
		e.log.Info("dialer: placing a call failed", "campaign", r.c.Name, "err", err)
		status, next := e.afterOutcome(r, c, "failed")
		e.finishContact(contact.Attempt{ContactID: c.ID, CampaignID: r.c.ID, Phone: phone, Outcome: "failed", Started: now, Ended: now}, status, next)
		return
	}
	r.pacer.Placed(now)
	e.m.placed.WithLabelValues(r.c.ID).Inc()
	e.calls[conv] = &call{conv: conv, campaign: r.c.ID, contact: c, phone: phone, reason: reasonOf(c), placed: now}
}

func (e *Engine) placeAgentFirst(r *run, a *agent, c contact.Contact, reason, callbackID string) string {
	phone := firstPhone(r.schema, c)
	if callbackID != "" {
		if cb := e.callbacks[callbackID]; cb != nil && cb.Phone != "" {
			phone = cb.Phone
		}
	}
	now := e.now()
	conv, err := e.o.Calls.PlaceCall(e.ctx, conversation.Actor{UserID: a.id}, conversation.CallRequest{
		Target: conversation.Target{Address: phone}, FromQueueID: r.c.QueueID, CallerID: r.c.CallerID,
		Attributes: e.callData(r, c, phone, reason, a.id), CampaignID: r.c.ID})
	if err != nil {
		e.log.Info("dialer: placing an agent-first call failed", "campaign", r.c.Name, "agent", a.id, "err", err)
		status, next := e.afterOutcome(r, c, "failed")
		e.finishContact(contact.Attempt{ContactID: c.ID, CampaignID: r.c.ID, Phone: phone, AgentID: a.id, Outcome: "failed", Started: now, Ended: now}, status, next)
		if callbackID != "" {
			e.endCallback(callbackID, "missed", "")
		}
		return ""
	}
	a.call = conv
	e.m.placed.WithLabelValues(r.c.ID).Inc()
	e.calls[conv] = &call{conv: conv, campaign: r.c.ID, agent: a.id, contact: c, phone: phone, reason: reason, callback: callbackID, agentFirst: true, placed: now}
	e.publishDesk(a.id)
	return conv
}

// connect gives an answered customer to a free agent.
func (e *Engine) connect(r *run, c *call, a *agent) {
	if c == nil {
		return
	}
	e.stop("abandon:" + c.conv)
	attrs := map[string]string{"userOutCampaign": r.c.ID}
	if err := e.o.Calls.ConnectAgent(e.ctx, c.conv, a.id, attrs); err != nil {
		e.log.Info("dialer: connecting an agent failed", "agent", a.id, "err", err)
		r.waiting = append([]string{c.conv}, r.waiting...)
		e.armAbandon(r, c)
		return
	}
	now := e.now()
	a.call, c.agent, c.connected = c.conv, a.id, now
	r.pacer.Connected(now, now.Sub(c.answered))
	e.m.connected.WithLabelValues(r.c.ID).Inc()
	e.publishDesk(a.id)
}

func (e *Engine) armAbandon(r *run, c *call) {
	left := AbandonWait - e.now().Sub(c.answered)
	if left < 0 {
		left = 0
	}
	e.after("abandon:"+c.conv, left, func() {
		r := e.runs[c.campaign]
		if r == nil || c.agent != "" || c.outcome != "" {
			return
		}
		for i, w := range r.waiting {
			if w == c.conv {
				r.waiting = append(r.waiting[:i], r.waiting[i+1:]...)
				break
			}
		}
		c.outcome = "abandoned"
		r.pacer.Abandoned(e.now())
		e.m.abandoned.WithLabelValues(r.c.ID).Inc()
		if err := e.o.Calls.AbandonCall(e.ctx, c.conv, r.c.AbandonPrompt); err != nil {
			e.log.Warn("dialer: abandon message failed", "conversation", c.conv, "err", err)
		}
	})
}

// ---- call progress ----

func (e *Engine) onCall(st conversation.CallState) {
	c := e.calls[st.ConversationID]
	if c == nil {
		return
	}
	r := e.runs[c.campaign]
	now := e.now()
	if c.answered.IsZero() && !st.CustomerAnswered.IsZero() {
		c.answered = st.CustomerAnswered
		if r != nil && !c.agentFirst {
			r.pacer.Answered(now, c.answered.Sub(c.placed), true)
			e.m.live.WithLabelValues(r.c.ID).Inc()
			if a := e.firstFree(c.campaign); a != nil {
				e.connect(r, c, a)
			} else {
				r.waiting = append(r.waiting, c.conv)
				e.armAbandon(r, c)
			}
		}
		if c.agentFirst && !st.AgentConnected.IsZero() {
			c.connected = c.answered
		}
	}
	if c.agentFirst && c.connected.IsZero() && !c.answered.IsZero() {
		c.connected = c.answered
	}
	customerGone := st.CustomerState == conversation.StateDisconnected || st.Ended
	if customerGone && c.outcome == "" {
		switch {
		case !c.answered.IsZero() && (c.agent != "" || c.agentFirst):
			c.outcome = "connected"
		case c.answered.IsZero() && c.agentFirst && st.AgentState == conversation.StateDisconnected && st.CustomerCause == "cancelled":
			c.outcome = "agent-disconnected"
		case c.answered.IsZero():
			c.outcome = outcomeOf(st.CustomerCause)
			if r != nil && !c.agentFirst {
				r.pacer.Failed(now, now.Sub(c.placed))
			}
		default:
			c.outcome = "abandoned"
		}
	}
	if c.outcome == "" {
		return
	}
	// The agent's part: after a connected call they wait for release.
	if a := e.agents[c.agent]; a != nil && a.call == c.conv && (st.AgentState == conversation.StateDisconnected || st.AgentState == "" || st.Ended) {
		a.call = ""
		if c.outcome == "connected" && !c.released && st.AgentInWrapup {
			a.release = c.conv
			if r != nil {
				if n := r.c.AutoReleaseSeconds; n >= 0 {
					e.after("release:"+c.conv, time.Duration(n)*time.Second, func() {
						if err := e.release(a.id, c.conv, "", "", ""); err != nil {
							e.log.Info("dialer: automatic release failed", "conversation", c.conv, "err", err)
						}
					})
				}
			}
		}
		if c.outcome != "connected" {
			a.ready = true // nothing to release: next call
		}
		e.publishDesk(a.id)
	}
	if c.outcome != "connected" && !c.released {
		c.released = true
		e.finishCall(c, "", "", "")
	}
	if st.Ended && c.released {
		delete(e.calls, c.conv)
	}
	if !c.connected.IsZero() && st.Ended && r != nil && c.outcome == "connected" {
		r.pacer.Handled(now, now.Sub(c.connected))
	}
	e.serve(c.campaign)
}

func outcomeOf(cause string) string {
	switch cause {
	case "busy", "rejected":
		return "busy"
	case "no-answer":
		return "no-answer"
	case "abandoned":
		return "abandoned"
	}
	return "failed"
}

// finishCall writes the attempt and the contact's next status.
func (e *Engine) finishCall(c *call, category, subcategory, notes string) {
	r := e.runs[c.campaign]
	now := e.now()
	att := contact.Attempt{ContactID: c.contact.ID, CampaignID: c.campaign, ConversationID: c.conv, Phone: c.phone, Outcome: c.outcome,
		AgentID: c.agent, Category: category, Subcategory: subcategory, Notes: notes, Started: c.placed, Answered: c.answered, Ended: now}
	status, next := "done", time.Time{}
	if r != nil {
		status, next = e.afterOutcome(r, c.contact, c.outcome)
	} else if c.outcome != "connected" {
		status, next = "retry", now.Add(time.Hour)
	}
	e.finishContact(att, status, next)
	if c.callback != "" {
		state := "done"
		if c.outcome != "connected" {
			state = "missed"
		}
		e.endCallback(c.callback, state, c.conv)
	}
}

// afterOutcome applies the campaign's retry rules and attempt limit.
func (e *Engine) afterOutcome(r *run, c contact.Contact, outcome string) (string, time.Time) {
	if outcome == "connected" {
		return "done", time.Time{}
	}
	retry, delay := r.c.Retry(outcome)
	if !retry {
		return "done", time.Time{}
	}
	if c.Attempts+1 >= r.c.MaxAttempts {
		return "exhausted", time.Time{}
	}
	return "retry", e.now().Add(delay)
}

func (e *Engine) finishContact(a contact.Attempt, status string, next time.Time) {
	if err := e.o.Contacts.Finish(e.ctx, a, status, next); err != nil {
		e.log.Error("dialer: recording an attempt failed", "contact", a.ContactID, "err", err)
	}
}

// Sync returns once everything queued before it was applied (tests'
// barrier, with Processed).
func (e *Engine) Sync(ctx context.Context) error {
	return e.do(ctx, func() error { return nil })
}
