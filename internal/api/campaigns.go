package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/problem"
)

// CampaignTransferNumber is a number agents of the campaign may transfer to.
type CampaignTransferNumber struct {
	Name   string `json:"name"`
	Number string `json:"number" doc:"Digits with an optional leading +, 3 to 20 digits."`
}

// CampaignWindow is a daily span of calling hours.
type CampaignWindow struct {
	Days  []string `json:"days" doc:"mon, tue, wed, thu, fri, sat, sun."`
	Start string   `json:"start" doc:"HH:MM, 24 h."`
	End   string   `json:"end" doc:"HH:MM, 24 h, after start: windows do not cross midnight."`
}

// CampaignCallingHours say when contacts may be called.
type CampaignCallingHours struct {
	TimeZone string           `json:"timeZone" required:"false" doc:"IANA zone used for contacts without one; empty: UTC."`
	Windows  []CampaignWindow `json:"windows" required:"false" doc:"No windows: any time. Evaluated in the contact's time zone."`
}

// CampaignRetryRule says whether and after how long an outcome is dialed again.
type CampaignRetryRule struct {
	Outcome      string `json:"outcome" doc:"busy, no-answer, failed, machine, agent-disconnected or abandoned; one rule per outcome."`
	Retry        bool   `json:"retry"`
	DelaySeconds int    `json:"delaySeconds" required:"false" doc:"0 to 2592000 (30 days)."`
}

// Campaign is an inbound or outbound campaign.
type Campaign struct {
	ID                          string                   `json:"id"`
	Name                        string                   `json:"name"`
	Number                      int                      `json:"number"`
	Direction                   string                   `json:"direction"`
	DialingMode                 string                   `json:"dialingMode"`
	PowerRatio                  float64                  `json:"powerRatio"`
	ContactListIDs              []string                 `json:"contactListIds"`
	SchemaID                    string                   `json:"schemaId"`
	QueueID                     string                   `json:"queueId"`
	InboundListID               string                   `json:"inboundListId"`
	TransferNumbers             []CampaignTransferNumber `json:"transferNumbers"`
	CallingHours                CampaignCallingHours     `json:"callingHours"`
	RetryRules                  []CampaignRetryRule      `json:"retryRules"`
	MaxAttempts                 int                      `json:"maxAttempts"`
	DNCListIDs                  []string                 `json:"dncListIds"`
	CallerID                    string                   `json:"callerId"`
	AbandonCapPercent           float64                  `json:"abandonCapPercent"`
	RingTimeoutSeconds          int                      `json:"ringTimeoutSeconds"`
	AbandonPrompt               string                   `json:"abandonPrompt"`
	AllowReleaseWithoutCategory bool                     `json:"allowReleaseWithoutCategory"`
	AutoReleaseSeconds          int                      `json:"autoReleaseSeconds"`
	State                       string                   `json:"state"`
	DateCreated                 Time                     `json:"dateCreated"`
	DateModified                Time                     `json:"dateModified"`
	SelfURI                     string                   `json:"selfUri"`
}

func campaignOut(c campaign.Campaign) Campaign {
	out := Campaign{ID: c.ID, Name: c.Name, Number: c.Number, Direction: c.Direction, DialingMode: c.DialingMode, PowerRatio: c.PowerRatio,
		ContactListIDs: append([]string{}, c.ContactListIDs...), SchemaID: c.SchemaID, QueueID: c.QueueID, InboundListID: c.InboundListID,
		TransferNumbers: []CampaignTransferNumber{}, CallingHours: CampaignCallingHours{TimeZone: c.CallingHours.TimeZone, Windows: []CampaignWindow{}},
		RetryRules: []CampaignRetryRule{}, MaxAttempts: c.MaxAttempts, DNCListIDs: append([]string{}, c.DNCListIDs...), CallerID: c.CallerID,
		AbandonCapPercent: c.AbandonCapPercent, RingTimeoutSeconds: c.RingTimeoutSeconds, AbandonPrompt: c.AbandonPrompt,
		AllowReleaseWithoutCategory: c.AllowReleaseWithoutCategory, AutoReleaseSeconds: c.AutoReleaseSeconds, State: c.State,
		DateCreated: Time(c.Created), DateModified: Time(c.Modified), SelfURI: "/api/v2/outbound/campaigns/" + c.ID}
	for _, t := range c.TransferNumbers {
		out.TransferNumbers = append(out.TransferNumbers, CampaignTransferNumber(t))
	}
	for _, w := range c.CallingHours.Windows {
		out.CallingHours.Windows = append(out.CallingHours.Windows, CampaignWindow{Days: append([]string{}, w.Days...), Start: w.Start, End: w.End})
	}
	for _, r := range c.RetryRules {
		out.RetryRules = append(out.RetryRules, CampaignRetryRule(r))
	}
	return out
}

// CampaignInput creates or replaces a campaign. Omitted settings take their
// defaults (maxAttempts 3, abandonCapPercent 3, ringTimeoutSeconds 25,
// abandonPrompt "abandon", allowReleaseWithoutCategory true,
// autoReleaseSeconds -1); an omitted state is off on POST and unchanged on PUT.
type CampaignInput struct {
	Name                        string                   `json:"name"`
	Number                      int                      `json:"number" doc:"The short number agents see (\"97 - Cobranzas\"), unique, 1–9999."`
	Direction                   string                   `json:"direction,omitempty" enum:"inbound,outbound," doc:"Default outbound."`
	DialingMode                 string                   `json:"dialingMode,omitempty" doc:"Outbound: preview, progressive, power or predictive."`
	PowerRatio                  float64                  `json:"powerRatio,omitempty" doc:"Power mode only: 1–10 calls per free agent."`
	ContactListIDs              []string                 `json:"contactListIds,omitempty" doc:"Outbound: at least one list, all of one schema."`
	QueueID                     string                   `json:"queueId,omitempty" doc:"Required for inbound, optional for outbound."`
	InboundListID               string                   `json:"inboundListId,omitempty" doc:"Inbound: the list find-or-create inserts into (required)."`
	TransferNumbers             []CampaignTransferNumber `json:"transferNumbers,omitempty"`
	CallingHours                *CampaignCallingHours    `json:"callingHours,omitempty"`
	RetryRules                  []CampaignRetryRule      `json:"retryRules,omitempty"`
	MaxAttempts                 *int                     `json:"maxAttempts,omitempty" doc:"1–100, default 3."`
	DNCListIDs                  []string                 `json:"dncListIds,omitempty"`
	CallerID                    string                   `json:"callerId,omitempty" doc:"Digits with an optional leading +, 3 to 20 digits."`
	AbandonCapPercent           *float64                 `json:"abandonCapPercent,omitempty" doc:"0–3, default 3."`
	RingTimeoutSeconds          *int                     `json:"ringTimeoutSeconds,omitempty" doc:"15–120, default 25."`
	AbandonPrompt               *string                  `json:"abandonPrompt,omitempty" doc:"Default \"abandon\"."`
	AllowReleaseWithoutCategory *bool                    `json:"allowReleaseWithoutCategory,omitempty" doc:"Default true."`
	AutoReleaseSeconds          *int                     `json:"autoReleaseSeconds,omitempty" doc:"-1 (never, the default) or 0–3600."`
	State                       string                   `json:"state,omitempty" enum:"on,off,"`
	// Read-only fields a client may echo back from a GET are accepted and ignored.
	ID           string `json:"id,omitempty" readOnly:"true"`
	SchemaID     string `json:"schemaId,omitempty" readOnly:"true" doc:"Derived from the lists."`
	DateCreated  string `json:"dateCreated,omitempty" readOnly:"true"`
	DateModified string `json:"dateModified,omitempty" readOnly:"true"`
	SelfURI      string `json:"selfUri,omitempty" readOnly:"true"`
}

func (in CampaignInput) campaign() campaign.Campaign {
	c := campaign.Defaults()
	c.State = in.State
	c.Name, c.Number, c.DialingMode, c.PowerRatio = in.Name, in.Number, in.DialingMode, in.PowerRatio
	if in.Direction != "" {
		c.Direction = in.Direction
	}
	c.ContactListIDs, c.DNCListIDs = in.ContactListIDs, in.DNCListIDs
	c.QueueID, c.InboundListID, c.CallerID = in.QueueID, in.InboundListID, in.CallerID
	for _, t := range in.TransferNumbers {
		c.TransferNumbers = append(c.TransferNumbers, campaign.TransferNumber(t))
	}
	if h := in.CallingHours; h != nil {
		c.CallingHours.TimeZone = h.TimeZone
		for _, w := range h.Windows {
			c.CallingHours.Windows = append(c.CallingHours.Windows, campaign.Window{Days: w.Days, Start: w.Start, End: w.End})
		}
	}
	for _, r := range in.RetryRules {
		c.RetryRules = append(c.RetryRules, campaign.RetryRule(r))
	}
	if in.MaxAttempts != nil {
		c.MaxAttempts = *in.MaxAttempts
	}
	if in.AbandonCapPercent != nil {
		c.AbandonCapPercent = *in.AbandonCapPercent
	}
	if in.RingTimeoutSeconds != nil {
		c.RingTimeoutSeconds = *in.RingTimeoutSeconds
	}
	if in.AbandonPrompt != nil {
		c.AbandonPrompt = *in.AbandonPrompt
	}
	if in.AllowReleaseWithoutCategory != nil {
		c.AllowReleaseWithoutCategory = *in.AllowReleaseWithoutCategory
	}
	if in.AutoReleaseSeconds != nil {
		c.AutoReleaseSeconds = *in.AutoReleaseSeconds
	}
	return c
}

// CampaignIDPath is the {campaignId} path parameter.
type CampaignIDPath struct {
	CampaignID string `path:"campaignId"`
}

// CampaignAgent is an agent logged into a campaign.
type CampaignAgent struct {
	UserID       string `json:"userId"`
	CampaignID   string `json:"campaignId"`
	DateLoggedIn Time   `json:"dateLoggedIn"`
}

func agentOut(l campaign.AgentLogin) CampaignAgent {
	return CampaignAgent{UserID: l.UserID, CampaignID: l.CampaignID, DateLoggedIn: Time(l.LoggedIn)}
}

// CampaignAgents lists the agents logged into a campaign.
type CampaignAgents struct {
	Entities []CampaignAgent `json:"entities"`
}

// UserOutboundCampaign is the campaign the caller is logged into: an empty
// campaignId when none (the summary fields are then absent).
type UserOutboundCampaign struct {
	CampaignID   string `json:"campaignId"`
	Name         string `json:"name,omitempty"`
	Number       int    `json:"number,omitempty"`
	DialingMode  string `json:"dialingMode,omitempty"`
	State        string `json:"state,omitempty"`
	DateLoggedIn Time   `json:"dateLoggedIn,omitzero"`
	SelfURI      string `json:"selfUri,omitempty"`
}

// Callback is a scheduled call back to a contact ("agenda").
type Callback struct {
	ID             string `json:"id"`
	CampaignID     string `json:"campaignId"`
	ContactID      string `json:"contactId"`
	Phone          string `json:"phone"`
	At             Time   `json:"at"`
	UserID         string `json:"userId" doc:"Empty: owned by the campaign (any of its agents)."`
	State          string `json:"state" doc:"scheduled, placing, done, missed or cancelled."`
	ConversationID string `json:"conversationId"`
	CreatedBy      string `json:"createdBy"`
	DateCreated    Time   `json:"dateCreated"`
	DateModified   Time   `json:"dateModified"`
	SelfURI        string `json:"selfUri"`
}

func callbackOut(cb campaign.Callback) Callback {
	return Callback{ID: cb.ID, CampaignID: cb.CampaignID, ContactID: cb.ContactID, Phone: cb.Phone, At: Time(cb.At), UserID: cb.UserID,
		State: cb.State, ConversationID: cb.ConversationID, CreatedBy: cb.CreatedBy, DateCreated: Time(cb.Created), DateModified: Time(cb.Modified),
		SelfURI: "/api/v2/outbound/callbacks/" + cb.ID}
}

// CallbackInput schedules a callback.
type CallbackInput struct {
	CampaignID string    `json:"campaignId" doc:"An outbound campaign."`
	ContactID  string    `json:"contactId" doc:"A contact of one of the campaign's lists."`
	Phone      string    `json:"phone,omitempty" doc:"Default: the contact's first phone."`
	At         time.Time `json:"at" doc:"In the future, at most 366 days ahead."`
	UserID     string    `json:"userId,omitempty" doc:"Empty: owned by the campaign. Agents may name only themselves."`
}

// CallbackPatch moves or reassigns a callback.
type CallbackPatch struct {
	At     *time.Time `json:"at,omitempty" doc:"The new time, in the future."`
	UserID *string    `json:"userId,omitempty" doc:"The new owner; empty: the campaign."`
}

// CallbackIDPath is the {callbackId} path parameter.
type CallbackIDPath struct {
	CallbackID string `path:"callbackId"`
}

func campaignActor(ctx context.Context) campaign.Actor {
	p := principal(ctx)
	return campaign.Actor{UserID: p.UserID, Supervisor: p.Has(auth.Supervisor)}
}

// targetUser resolves {userId} ("me" = the caller) and refuses an agent
// acting on someone else.
func targetUser(ctx context.Context, userID string) (string, error) {
	p := principal(ctx)
	if userID == "me" {
		if !p.IsUser() {
			return "", problem.Invalidf("userId", "me needs a person's token; a client-credentials token acts for an application")
		}
		return p.UserID, nil
	}
	if err := needUUID("userId", userID); err != nil {
		return "", err
	}
	if userID != p.UserID && !p.Has(auth.Supervisor) {
		return "", problem.Forbiddenf("agents log themselves in and out of campaigns; a supervisor may do it for others")
	}
	return userID, nil
}

func parseTimeParam(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, problem.Invalidf(field, "must be an ISO-8601 date-time such as 2026-11-21T15:00:00.000Z, got %q", v)
	}
	return t, nil
}

// registerCampaigns registers campaigns, campaign agent logins and callbacks
// under /api/v2/outbound.
func (s *Server) registerCampaigns(api huma.API) {
	const tag = "Outbound campaigns"
	huma.Register(api, op("getOutboundCampaigns", http.MethodGet, "/api/v2/outbound/campaigns", "List campaigns", tag, auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name      string `query:"name" doc:"Exact name or with * wildcards."`
			Direction string `query:"direction" enum:"inbound,outbound,"`
			State     string `query:"state" enum:"on,off,"`
		}) (*Body[*Listing[Campaign]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			cs, total, err := s.Campaigns.List(ctx, campaign.Filter{Name: in.Name, Direction: in.Direction, State: in.State},
				campaign.Page{Limit: pg.Limit, Offset: pg.Offset})
			if err != nil {
				return nil, err
			}
			out := make([]Campaign, len(cs))
			for i, c := range cs {
				out[i] = campaignOut(c)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundCampaigns", http.MethodPost, "/api/v2/outbound/campaigns", "Create a campaign", tag, auth.Admin),
		func(ctx context.Context, in *struct{ Body CampaignInput }) (*Body[Campaign], error) {
			c := in.Body.campaign()
			if c.State == "" {
				c.State = campaign.Off
			}
			created, err := s.Campaigns.Create(ctx, c)
			if err != nil {
				return nil, err
			}
			return body(campaignOut(created)), nil
		})
	huma.Register(api, op("getOutboundCampaign", http.MethodGet, "/api/v2/outbound/campaigns/{campaignId}", "Get a campaign", tag, auth.Agent),
		func(ctx context.Context, in *CampaignIDPath) (*Body[Campaign], error) {
			if err := needUUID("campaignId", in.CampaignID); err != nil {
				return nil, err
			}
			c, err := s.Campaigns.Get(ctx, in.CampaignID)
			if err != nil {
				return nil, err
			}
			return body(campaignOut(c)), nil
		})
	huma.Register(api, op("putOutboundCampaign", http.MethodPut, "/api/v2/outbound/campaigns/{campaignId}", "Replace a campaign", tag, auth.Admin),
		func(ctx context.Context, in *struct {
			CampaignIDPath
			Body CampaignInput
		}) (*Body[Campaign], error) {
			if err := needUUID("campaignId", in.CampaignID); err != nil {
				return nil, err
			}
			c, err := s.Campaigns.Update(ctx, in.CampaignID, in.Body.campaign())
			if err != nil {
				return nil, err
			}
			return body(campaignOut(c)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundCampaign", http.MethodDelete, "/api/v2/outbound/campaigns/{campaignId}",
		"Delete a campaign (its agents are logged out, its scheduled callbacks cancelled)", tag, auth.Admin), 204),
		func(ctx context.Context, in *CampaignIDPath) (*struct{}, error) {
			if err := needUUID("campaignId", in.CampaignID); err != nil {
				return nil, err
			}
			return nil, s.Campaigns.Delete(ctx, in.CampaignID)
		})

	// Agents: Login_Campaign / Logout_Campaign.
	huma.Register(api, op("getOutboundCampaignAgents", http.MethodGet, "/api/v2/outbound/campaigns/{campaignId}/agents",
		"The agents logged into a campaign", tag, auth.Agent),
		func(ctx context.Context, in *CampaignIDPath) (*Body[CampaignAgents], error) {
			if err := needUUID("campaignId", in.CampaignID); err != nil {
				return nil, err
			}
			ls, err := s.Campaigns.AgentLogins(ctx, in.CampaignID)
			if err != nil {
				return nil, err
			}
			out := CampaignAgents{Entities: []CampaignAgent{}}
			for _, l := range ls {
				out.Entities = append(out.Entities, agentOut(l))
			}
			return body(out), nil
		})
	login := func(ctx context.Context, campaignID, userID string) (*Body[CampaignAgent], error) {
		if err := needUUID("campaignId", campaignID); err != nil {
			return nil, err
		}
		u, err := targetUser(ctx, userID)
		if err != nil {
			return nil, err
		}
		l, err := s.Campaigns.Login(ctx, campaignID, u)
		if err != nil {
			return nil, err
		}
		return body(agentOut(l)), nil
	}
	logout := func(ctx context.Context, campaignID, userID string) (*struct{}, error) {
		if err := needUUID("campaignId", campaignID); err != nil {
			return nil, err
		}
		u, err := targetUser(ctx, userID)
		if err != nil {
			return nil, err
		}
		return nil, s.Campaigns.Logout(ctx, campaignID, u)
	}
	huma.Register(api, op("postOutboundCampaignAgentsMe", http.MethodPost, "/api/v2/outbound/campaigns/{campaignId}/agents/me",
		"Log into an outbound campaign (out of any other)", tag, auth.Agent),
		func(ctx context.Context, in *CampaignIDPath) (*Body[CampaignAgent], error) {
			return login(ctx, in.CampaignID, "me")
		})
	huma.Register(api, withStatus(op("deleteOutboundCampaignAgentsMe", http.MethodDelete, "/api/v2/outbound/campaigns/{campaignId}/agents/me",
		"Log out of a campaign", tag, auth.Agent), 204),
		func(ctx context.Context, in *CampaignIDPath) (*struct{}, error) {
			return logout(ctx, in.CampaignID, "me")
		})
	huma.Register(api, op("putOutboundCampaignAgent", http.MethodPut, "/api/v2/outbound/campaigns/{campaignId}/agents/{userId}",
		"Log an agent into an outbound campaign (supervisors; agents only themselves)", tag, auth.Agent),
		func(ctx context.Context, in *struct {
			CampaignIDPath
			UserID string `path:"userId"`
		}) (*Body[CampaignAgent], error) {
			return login(ctx, in.CampaignID, in.UserID)
		})
	huma.Register(api, withStatus(op("deleteOutboundCampaignAgent", http.MethodDelete, "/api/v2/outbound/campaigns/{campaignId}/agents/{userId}",
		"Log an agent out of a campaign (supervisors; agents only themselves)", tag, auth.Agent), 204),
		func(ctx context.Context, in *struct {
			CampaignIDPath
			UserID string `path:"userId"`
		}) (*struct{}, error) {
			return logout(ctx, in.CampaignID, in.UserID)
		})
	huma.Register(api, op("getUsersMeOutboundcampaign", http.MethodGet, "/api/v2/users/me/outboundcampaign",
		"The outbound campaign the caller is logged into", tag, auth.Agent),
		func(ctx context.Context, _ *struct{}) (*Body[UserOutboundCampaign], error) {
			p := principal(ctx)
			if !p.IsUser() {
				return nil, problem.Invalidf("", "/api/v2/users/me/outboundcampaign needs a person's token; a client-credentials token acts for an application")
			}
			l, ok, err := s.Campaigns.AgentLogin(ctx, p.UserID)
			if err != nil || !ok {
				return body(UserOutboundCampaign{}), err
			}
			c, err := s.Campaigns.Get(ctx, l.CampaignID)
			if err != nil {
				return nil, err
			}
			return body(UserOutboundCampaign{CampaignID: c.ID, Name: c.Name, Number: c.Number, DialingMode: c.DialingMode, State: c.State,
				DateLoggedIn: Time(l.LoggedIn), SelfURI: "/api/v2/outbound/campaigns/" + c.ID}), nil
		})

	// Callbacks ("agenda").
	const cbTag = "Outbound callbacks"
	huma.Register(api, op("getOutboundCallbacks", http.MethodGet, "/api/v2/outbound/callbacks",
		"List callbacks (agents: their own and their campaign's)", cbTag, auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			CampaignID string `query:"campaignId"`
			UserID     string `query:"userId" doc:"A user id, or me."`
			State      string `query:"state" enum:"scheduled,placing,done,missed,cancelled,"`
			From       string `query:"from" doc:"Callbacks at or after this date-time."`
			To         string `query:"to" doc:"Callbacks before this date-time."`
		}) (*Body[*Listing[Callback]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			f := campaign.CallbackFilter{CampaignID: in.CampaignID, UserID: in.UserID, State: in.State}
			if f.UserID == "me" {
				f.UserID = principal(ctx).UserID
				if f.UserID == "" {
					return nil, problem.Invalidf("userId", "me needs a person's token")
				}
			}
			if f.From, err = parseTimeParam("from", in.From); err != nil {
				return nil, err
			}
			if f.To, err = parseTimeParam("to", in.To); err != nil {
				return nil, err
			}
			cbs, total, err := s.Campaigns.ListCallbacks(ctx, campaignActor(ctx), f, campaign.Page{Limit: pg.Limit, Offset: pg.Offset})
			if err != nil {
				return nil, err
			}
			out := make([]Callback, len(cbs))
			for i, cb := range cbs {
				out[i] = callbackOut(cb)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("postOutboundCallbacks", http.MethodPost, "/api/v2/outbound/callbacks", "Schedule a callback", cbTag, auth.Agent),
		func(ctx context.Context, in *struct{ Body CallbackInput }) (*Body[Callback], error) {
			b := in.Body
			cb, err := s.Campaigns.ScheduleCallback(ctx, campaignActor(ctx), campaign.Callback{CampaignID: b.CampaignID, ContactID: b.ContactID,
				Phone: b.Phone, At: b.At, UserID: strings.TrimSpace(b.UserID)})
			if err != nil {
				return nil, err
			}
			return body(callbackOut(cb)), nil
		})
	huma.Register(api, op("getOutboundCallback", http.MethodGet, "/api/v2/outbound/callbacks/{callbackId}", "Get a callback", cbTag, auth.Agent),
		func(ctx context.Context, in *CallbackIDPath) (*Body[Callback], error) {
			if err := needUUID("callbackId", in.CallbackID); err != nil {
				return nil, err
			}
			cb, err := s.Campaigns.GetCallback(ctx, campaignActor(ctx), in.CallbackID)
			if err != nil {
				return nil, err
			}
			return body(callbackOut(cb)), nil
		})
	huma.Register(api, op("patchOutboundCallback", http.MethodPatch, "/api/v2/outbound/callbacks/{callbackId}",
		"Move or reassign a callback", cbTag, auth.Agent),
		func(ctx context.Context, in *struct {
			CallbackIDPath
			Body CallbackPatch
		}) (*Body[Callback], error) {
			if err := needUUID("callbackId", in.CallbackID); err != nil {
				return nil, err
			}
			cb, err := s.Campaigns.MoveCallback(ctx, campaignActor(ctx), in.CallbackID, campaign.CallbackChange{At: in.Body.At, UserID: in.Body.UserID})
			if err != nil {
				return nil, err
			}
			return body(callbackOut(cb)), nil
		})
	huma.Register(api, withStatus(op("deleteOutboundCallback", http.MethodDelete, "/api/v2/outbound/callbacks/{callbackId}",
		"Cancel a callback (it stays, cancelled)", cbTag, auth.Agent), 204),
		func(ctx context.Context, in *CallbackIDPath) (*struct{}, error) {
			if err := needUUID("callbackId", in.CallbackID); err != nil {
				return nil, err
			}
			_, err := s.Campaigns.CancelCallback(ctx, campaignActor(ctx), in.CallbackID)
			return nil, err
		})
}
