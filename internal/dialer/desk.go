package dialer

import (
	"context"
	"time"

	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/dialer/pacing"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// This file is the agent's side: the desk (campaign, preview, pending
// release, ready), release with or without categorizing, "ready", preview
// dial and skip, and callbacks placed at their time.

// Desk is an agent's outbound state (GET /api/v2/outbound/me).
type Desk struct {
	CampaignID     string   `json:"campaignId"`
	Ready          bool     `json:"ready"`
	ConversationID string   `json:"conversationId,omitempty"` // the dialer call in progress
	Preview        *Preview `json:"preview"`
	PendingRelease *Pending `json:"pendingRelease"`
}

// Pending is a contact waiting to be released after a call.
type Pending struct {
	ConversationID string    `json:"conversationId"`
	CampaignID     string    `json:"campaignId"`
	ContactID      string    `json:"contactId"`
	SchemaID       string    `json:"schemaId"`
	AllowRelease   bool      `json:"allowReleaseWithoutCategory"`
	AutoReleaseAt  time.Time `json:"autoReleaseAt,omitzero"`
	Scheduled      bool      `json:"scheduled"` // a callback was scheduled: no "ready" needed
}

func (e *Engine) deskOf(userID string) Desk {
	a := e.agents[userID]
	if a == nil {
		return Desk{}
	}
	d := Desk{CampaignID: a.campaign, Ready: a.ready && a.release == "", ConversationID: a.call, Preview: a.preview}
	if c := e.calls[a.release]; c != nil {
		p := &Pending{ConversationID: c.conv, CampaignID: c.campaign, ContactID: c.contact.ID, Scheduled: c.scheduled}
		if r := e.runs[c.campaign]; r != nil {
			p.SchemaID, p.AllowRelease = r.c.SchemaID, r.c.AllowReleaseWithoutCategory
			if n := r.c.AutoReleaseSeconds; n >= 0 {
				p.AutoReleaseAt = e.now().Add(time.Duration(n) * time.Second)
			}
		}
		d.PendingRelease = p
	}
	return d
}

// Desk returns an agent's outbound state.
func (e *Engine) Desk(ctx context.Context, userID string) (Desk, error) {
	var d Desk
	err := e.do(ctx, func() error { d = e.deskOf(userID); return nil })
	return d, err
}

// publishDesk tells the agent's softphone its desk changed
// (v2.users.{id}.outbound).
func (e *Engine) publishDesk(userID string) {
	d := e.deskOf(userID)
	if e.o.DB == nil || e.o.Events == nil {
		return
	}
	err := e.o.DB.Tx(e.ctx, func(tx *store.Tx) error {
		return e.o.Events.Add(e.ctx, tx, "v2.users."+userID+".outbound", d)
	})
	if err != nil {
		e.log.Warn("dialer: desk event failed", "user", userID, "err", err)
	}
}

// Ready makes the agent eligible for the next campaign call ("play").
func (e *Engine) Ready(ctx context.Context, userID string) error {
	return e.do(ctx, func() error {
		a := e.agents[userID]
		if a == nil || a.campaign == "" {
			return problem.Coded(problem.Conflict, "campaign.none", "", "log into an outbound campaign first")
		}
		if a.release != "" {
			return problem.Coded(problem.Conflict, "release.pending", "", "release the contact of your last call first")
		}
		a.ready = true
		e.publishDesk(userID)
		e.serve(a.campaign)
		return nil
	})
}

// Release releases the contact of the agent's last call, with a category
// and subcategory of the schema's disposition tree or (when the campaign
// allows it) without.
func (e *Engine) Release(ctx context.Context, userID, convID, categoryID, subcategoryID, notes string) error {
	return e.do(ctx, func() error { return e.release(userID, convID, categoryID, subcategoryID, notes) })
}

func (e *Engine) release(userID, convID, categoryID, subcategoryID, notes string) error {
	a := e.agents[userID]
	c := e.calls[convID]
	if a == nil || c == nil || c.agent != userID || c.released {
		return problem.Coded(problem.Conflict, "release.none", "", "there is no contact of yours to release on conversation %s", convID)
	}
	r := e.runs[c.campaign]
	var sc contact.Schema
	allow := true
	if r != nil {
		sc, allow = r.schema, r.c.AllowReleaseWithoutCategory
	} else if s, err := e.o.Contacts.GetSchema(e.ctx, c.contact.ListID); err == nil {
		sc = s
	}
	var cat, sub string
	outcome := ""
	if subcategoryID == "" {
		if !allow {
			return problem.Coded(problem.Invalid, "category.required", "subcategoryId", "this campaign needs a category and subcategory to release a contact")
		}
	} else {
		d, s, ok := sc.Subcategory(subcategoryID)
		if !ok || (categoryID != "" && d.ID != categoryID) {
			return problem.Coded(problem.Invalid, "category.unknown", "subcategoryId", "%q is not a subcategory of the campaign's disposition tree", subcategoryID)
		}
		cat, sub, outcome = d.Name, s.Name, s.Outcome
	}
	disp := conversation.Disposition{Code: subcategoryID, Notes: notes}
	if sub != "" {
		disp.Name = cat + " / " + sub
	}
	if err := e.o.Calls.Release(e.ctx, convID, userID, disp); err != nil {
		return err
	}
	e.stop("release:" + convID)
	c.released = true
	now := e.now()
	att := contact.Attempt{ContactID: c.contact.ID, CampaignID: c.campaign, ConversationID: c.conv, Phone: c.phone, Outcome: c.outcome,
		AgentID: userID, Category: cat, Subcategory: sub, Notes: notes, Started: c.placed, Answered: c.answered, Ended: now}
	status, next := "done", time.Time{}
	switch outcome {
	case "retry":
		status, next = "retry", now.Add(time.Hour)
		if r != nil {
			if ok, d := r.c.Retry("agent-disconnected"); ok {
				next = now.Add(d)
			}
			if c.contact.Attempts+1 >= r.c.MaxAttempts {
				status, next = "exhausted", time.Time{}
			}
		}
	case "callback":
		status = "callback"
	case "dnc":
		status = "dnc"
	}
	if c.scheduled {
		status = "callback"
	}
	e.finishContact(att, status, next)
	if c.callback != "" {
		e.endCallback(c.callback, "done", c.conv)
	}
	if a.release == convID {
		a.release = ""
		// "Ready" is not needed when the contact was scheduled.
		a.ready = c.scheduled || outcome == "callback"
	}
	delete(e.calls, convID)
	e.publishDesk(userID)
	e.serve(a.campaign)
	return nil
}

// Scheduled tells the dialer a callback was scheduled for the contact of
// an agent's current or last call (the agent needs no "ready" after it).
func (e *Engine) onCallback(cb campaign.Callback) {
	for _, c := range e.calls {
		if c.contact.ID == cb.ContactID && c.agent != "" && cb.State == "scheduled" {
			c.scheduled = true
			e.publishDesk(c.agent)
		}
	}
	if cb.State == "cancelled" {
		if _, ok := e.callbacks[cb.ID]; ok {
			delete(e.callbacks, cb.ID)
			e.stop("missed:" + cb.ID)
		}
	}
	if cb.State == "scheduled" {
		e.armCallbacks()
	}
}

// armCallbacks takes the callbacks that are due and serves their campaigns.
func (e *Engine) armCallbacks() {
	ctx, now := e.ctx, e.now()
	cbs, err := e.o.Campaigns.DueCallbacks(ctx, now, 100)
	if err != nil {
		e.log.Warn("dialer: reading callbacks failed", "err", err)
		return
	}
	for i := range cbs {
		cb := cbs[i]
		if _, ok := e.callbacks[cb.ID]; ok {
			continue
		}
		if ok, err := e.o.Campaigns.TakeCallback(ctx, cb.ID); err != nil || !ok {
			continue
		}
		e.callbacks[cb.ID] = &cb
		e.after("missed:"+cb.ID, CallbackGrace, func() {
			if _, ok := e.callbacks[cb.ID]; ok {
				e.endCallback(cb.ID, "missed", "")
			}
		})
		e.serve(cb.CampaignID)
	}
	// One timer for the earliest callback still ahead (restarts included).
	next, err := e.o.Campaigns.NextCallback(ctx)
	if err != nil || next.IsZero() {
		return
	}
	e.after("callbacks", max(next.Sub(now), time.Second), e.armCallbacks)
}

// serveCallbacks places due callbacks of a campaign with its free agents:
// a personal one waits for its owner.
func (e *Engine) serveCallbacks(id string) {
	r := e.runs[id]
	for cbID, cb := range e.callbacks {
		if cb.CampaignID != id || r == nil {
			continue
		}
		// A record offered for preview gives way to a due callback.
		takeBack := func(x *agent) bool {
			if x.preview == nil || x.preview.CallbackID != "" {
				return false
			}
			if err := e.o.Contacts.Unclaim(e.ctx, x.preview.ContactID); err != nil {
				e.log.Warn("dialer: giving back a preview failed", "contact", x.preview.ContactID, "err", err)
			}
			x.preview = nil
			return e.free(x)
		}
		var a *agent
		if cb.UserID != "" {
			if x := e.agents[cb.UserID]; x != nil && x.campaign == id && (e.free(x) || takeBack(x)) {
				a = x
			}
		} else if a = e.firstFree(id); a == nil {
			for _, x := range e.campaignAgents(id) {
				if takeBack(x) {
					a = x
					break
				}
			}
		}
		if a == nil {
			continue
		}
		c, err := e.o.Contacts.GetContact(e.ctx, cb.ContactID)
		if err != nil {
			e.endCallback(cbID, "missed", "")
			continue
		}
		if r.c.DialingMode == "preview" {
			a.preview = e.previewOf(r, c, "Agenda", cbID)
			e.publishDesk(a.id)
			continue
		}
		e.placeAgentFirst(r, a, c, "Agenda", cbID)
		delete(e.callbacks, cbID)
		e.stop("missed:" + cbID)
	}
}

func (e *Engine) endCallback(id, state, conv string) {
	delete(e.callbacks, id)
	e.stop("missed:" + id)
	if err := e.o.Campaigns.FinishCallback(e.ctx, id, state, conv); err != nil {
		e.log.Warn("dialer: closing a callback failed", "callback", id, "err", err)
	}
}

func (e *Engine) previewOf(r *run, c contact.Contact, reason, callbackID string) *Preview {
	phone := firstPhone(r.schema, c)
	if cb := e.callbacks[callbackID]; cb != nil && cb.Phone != "" {
		phone = cb.Phone
	}
	return &Preview{CampaignID: r.c.ID, ContactID: c.ID, ListID: c.ListID, Phone: phone, Key: c.Key, Data: c.Data, Reason: reason, CallbackID: callbackID}
}

// dropPreview gives an offered record back (agent logged out, campaign off).
func (e *Engine) dropPreview(a *agent) {
	p := a.preview
	a.preview = nil
	if p.CallbackID != "" {
		return // still due: another agent (or the owner later) takes it
	}
	e.finishContact(contact.Attempt{ContactID: p.ContactID, CampaignID: p.CampaignID, Phone: p.Phone, AgentID: a.id, Outcome: "skipped",
		Started: e.now(), Ended: e.now()}, "retry", e.now())
}

// PreviewDial dials the record offered to the agent.
func (e *Engine) PreviewDial(ctx context.Context, userID string) (string, error) {
	var conv string
	err := e.do(ctx, func() error {
		a := e.agents[userID]
		if a == nil || a.preview == nil {
			return problem.Coded(problem.Conflict, "preview.none", "", "there is no record offered to you")
		}
		p := a.preview
		r := e.runs[p.CampaignID]
		if r == nil {
			return problem.Coded(problem.Conflict, "campaign.off", "", "the campaign is not running")
		}
		c, err := e.o.Contacts.GetContact(e.ctx, p.ContactID)
		if err != nil {
			return err
		}
		a.preview = nil
		conv = e.placeAgentFirst(r, a, c, p.Reason, p.CallbackID)
		if p.CallbackID != "" {
			delete(e.callbacks, p.CallbackID)
			e.stop("missed:" + p.CallbackID)
		}
		if conv == "" {
			e.publishDesk(userID)
			return problem.Coded(problem.Conflict, "call.failed", "", "the call could not be placed")
		}
		return nil
	})
	return conv, err
}

// PreviewSkip gives the offered record back; it comes due again later.
func (e *Engine) PreviewSkip(ctx context.Context, userID string) error {
	return e.do(ctx, func() error {
		a := e.agents[userID]
		if a == nil || a.preview == nil {
			return problem.Coded(problem.Conflict, "preview.none", "", "there is no record offered to you")
		}
		p := a.preview
		a.preview = nil
		if p.CallbackID == "" {
			e.finishContact(contact.Attempt{ContactID: p.ContactID, CampaignID: p.CampaignID, Phone: p.Phone, AgentID: userID, Outcome: "skipped",
				Started: e.now(), Ended: e.now()}, "retry", e.now().Add(SkipDelay))
		}
		e.publishDesk(userID)
		e.serve(a.campaign)
		return nil
	})
}

// Stats are a campaign's live dialer figures.
type Stats struct {
	CampaignID     string  `json:"campaignId"`
	Running        bool    `json:"running"`
	DialingMode    string  `json:"dialingMode"`
	AgentsLoggedIn int     `json:"agentsLoggedIn"`
	AgentsFree     int     `json:"agentsFree"`
	CallsInFlight  int     `json:"callsInFlight"`
	Waiting        int     `json:"waitingForAgent"`
	HitRate        float64 `json:"hitRate"`
	// HitRateSteps counts the steps in the live-answer rate the pacer
	// noticed since the campaign started (its estimate then restarted
	// from the calls since the step).
	HitRateSteps  int     `json:"hitRateSteps"`
	AnswerDelayMs int64   `json:"answerDelayMs"`
	HandleTimeMs  int64   `json:"handleTimeMs"`
	Placed        int     `json:"placed"`
	LiveToday     int     `json:"liveAnswersToday"`
	AbandonToday  int     `json:"abandonedToday"`
	AbandonPctDay float64 `json:"abandonPercentToday"`
	Live30d       int     `json:"liveAnswers30d"`
	Abandon30d    int     `json:"abandoned30d"`
	AbandonPct30d float64 `json:"abandonPercent30d"`
	AbandonCapPct float64 `json:"abandonCapPercent"`
	// Predictive only: how the last decision paced ("normal"; "soft" or
	// "progressive" while one more abandonment would break the cap) and
	// the risk threshold θ it used.
	PacingState string  `json:"pacingState,omitempty" enum:"normal,soft,progressive"`
	Threshold   float64 `json:"riskThreshold,omitempty"`
}

// Stats returns a campaign's live figures (zeros when it is not running).
func (e *Engine) Stats(ctx context.Context, campaignID string) (Stats, error) {
	var out Stats
	err := e.do(ctx, func() error {
		out.CampaignID = campaignID
		r := e.runs[campaignID]
		if r == nil {
			return nil
		}
		snap := e.snapshot(r)
		ps := r.pacer.Stats(e.now())
		out = Stats{CampaignID: campaignID, Running: true, DialingMode: r.c.DialingMode, AgentsLoggedIn: len(e.campaignAgents(campaignID)),
			AgentsFree: snap.Idle, CallsInFlight: len(snap.InFlight), Waiting: snap.Waiting,
			HitRate: ps.HitRate, HitRateSteps: ps.HitRateChanges, AnswerDelayMs: ps.AnswerDelay.Milliseconds(), HandleTimeMs: ps.AHT.Milliseconds(), Placed: ps.Placed,
			LiveToday: ps.LiveToday, AbandonToday: ps.AbandonedToday, AbandonPctDay: 100 * ps.AbandonRateToday,
			Live30d: ps.Live30d, Abandon30d: ps.Abandoned30d, AbandonPct30d: 100 * ps.AbandonRate30d, AbandonCapPct: r.c.AbandonCapPercent}
		if r.c.DialingMode == string(pacing.Predictive) {
			out.PacingState, out.Threshold = string(ps.State), ps.Threshold
		}
		return nil
	})
	return out, err
}
