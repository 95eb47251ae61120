package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
)

// ServiceLevel is a queue's target: percentage (0..1) answered within durationMs.
type ServiceLevel struct {
	Percentage float64 `json:"percentage" minimum:"0" maximum:"1" required:"false"`
	DurationMs int     `json:"durationMs" required:"false"`
}

// MediaSetting holds per-media queue settings; only call is used for now.
type MediaSetting struct {
	AlertingTimeoutSeconds int          `json:"alertingTimeoutSeconds" required:"false"`
	ServiceLevel           ServiceLevel `json:"serviceLevel" required:"false"`
}

// MediaSettings is keyed by media type.
type MediaSettings struct {
	Call MediaSetting `json:"call" required:"false"`
}

// ACWSettings are the queue's after-call-work rules.
type ACWSettings struct {
	WrapupPrompt string `json:"wrapupPrompt" required:"false" enum:"MANDATORY,OPTIONAL,MANDATORY_TIMEOUT,MANDATORY_FORCED_TIMEOUT,AGENT_REQUESTED,"`
	TimeoutMs    int    `json:"timeoutMs,omitempty"`
}

// QueueOverflow moves calls still waiting after a while to another queue
// (Centralita extension).
type QueueOverflow struct {
	AfterSeconds int    `json:"afterSeconds" minimum:"1" maximum:"86400" doc:"A call still waiting this long in the queue (and not ringing an agent) moves to queueId, keeping its place by arrival time and its priority and skills."`
	QueueID      string `json:"queueId" doc:"Another existing queue."`
}

// QueueBullseyeRing is one ring of the bullseye strategy.
type QueueBullseyeRing struct {
	AfterSeconds   int     `json:"afterSeconds" minimum:"0" maximum:"86400" doc:"When the ring opens, in seconds of waiting in the queue: 0 for the first ring, then strictly increasing."`
	MinProficiency float64 `json:"minProficiency" minimum:"0" maximum:"5" doc:"Agents whose proficiency in every required skill is at least this may take the call; not above the previous ring's (rings only widen)."`
}

// QueueBullseye are the bullseye strategy's rings (Centralita extension).
type QueueBullseye struct {
	Rings []QueueBullseyeRing `json:"rings" maxItems:"6" doc:"Up to 6 rings sorted by afterSeconds. No rings (or no required skill): every member at once. Give the last ring minProficiency 0 to let every member in eventually."`
}

// Queue is the platform's queue object plus routingStrategy and the ACD extensions.
type Queue struct {
	ID                    string         `json:"id"`
	Name                  string         `json:"name"`
	Division              *Ref           `json:"division"`
	Description           string         `json:"description,omitempty"`
	DateCreated           Time           `json:"dateCreated"`
	DateModified          Time           `json:"dateModified"`
	MemberCount           int            `json:"memberCount"`
	UserMemberCount       int            `json:"userMemberCount"`
	JoinedMemberCount     int            `json:"joinedMemberCount"`
	MediaSettings         MediaSettings  `json:"mediaSettings"`
	ACWSettings           ACWSettings    `json:"acwSettings"`
	SkillEvaluationMethod string         `json:"skillEvaluationMethod"`
	RoutingStrategy       string         `json:"routingStrategy" doc:"Centralita extension: longest_idle, least_occupied, round_robin, skills_best_match, preferred_agent or bullseye."`
	Overflow              *QueueOverflow `json:"overflow,omitempty" doc:"Centralita extension: where calls waiting too long go; absent when they stay."`
	Bullseye              QueueBullseye  `json:"bullseye" doc:"Centralita extension: the rings of the bullseye strategy (kept, unused, under other strategies)."`
	PreferredAgentWait    int            `json:"preferredAgentWaitSeconds" doc:"Centralita extension: under preferred_agent, how long a call waits for its preferred agents before any member may take it (0: at once)."`
	SkillIDs              []string       `json:"skillIds" doc:"Centralita extension: skills every call entering the queue requires, in addition to those the call asks for."`
	WaitPrompt            string         `json:"waitPrompt" doc:"Centralita extension: the prompt a waiting caller hears once (a prompt name, /api/v2/architect/prompts); default queue-wait."`
	HoldMusic             string         `json:"holdMusic" doc:"Centralita extension: the prompt looped after waitPrompt until an agent takes the call; default moh."`
	CallingPartyName      string         `json:"callingPartyName,omitempty"`
	CallingPartyNumber    string         `json:"callingPartyNumber,omitempty"`
	SelfURI               string         `json:"selfUri"`
}

func queueOut(q directory.Queue) Queue {
	out := Queue{ID: q.ID, Name: q.Name, Division: homeDivision, Description: q.Description,
		DateCreated: Time(q.Created), DateModified: Time(q.Modified),
		MemberCount: q.MemberCount, UserMemberCount: q.MemberCount, JoinedMemberCount: q.JoinedMemberCount,
		MediaSettings: MediaSettings{Call: MediaSetting{AlertingTimeoutSeconds: q.AlertingTimeoutSeconds,
			ServiceLevel: ServiceLevel{Percentage: q.ServiceLevelPercentage, DurationMs: q.ServiceLevelDurationMs}}},
		ACWSettings:           ACWSettings{WrapupPrompt: q.ACWPrompt, TimeoutMs: q.ACWTimeoutMs},
		SkillEvaluationMethod: q.SkillEvaluation, RoutingStrategy: q.RoutingStrategy,
		CallingPartyName: q.CallingPartyName, CallingPartyNumber: q.CallingPartyNumber,
		Overflow: overflowOut(q), Bullseye: QueueBullseye{Rings: []QueueBullseyeRing{}}, PreferredAgentWait: q.PreferredAgentWaitMs / 1000,
		SkillIDs: append([]string{}, q.SkillIDs...), SelfURI: "/api/v2/routing/queues/" + q.ID}
	out.WaitPrompt, out.HoldMusic = q.Prompts()
	for _, r := range q.Bullseye {
		out.Bullseye.Rings = append(out.Bullseye.Rings, QueueBullseyeRing{AfterSeconds: r.AfterMs / 1000, MinProficiency: r.MinProficiency})
	}
	return out
}

func overflowOut(q directory.Queue) *QueueOverflow {
	if q.OverflowQueueID == "" {
		return nil
	}
	return &QueueOverflow{AfterSeconds: q.OverflowAfterMs / 1000, QueueID: q.OverflowQueueID}
}

// QueueInput is the body of POST and PUT on queues; omitted settings take
// the defaults (alerting 8 s, service level 80 % in 20 s, optional wrap-up).
type QueueInput struct {
	Name        string `json:"name" minLength:"1" maxLength:"200"`
	Description string `json:"description,omitempty"`
	// Read-only fields a client may echo back from a GET are accepted and ignored.
	ID                    string         `json:"id,omitempty" readOnly:"true"`
	SelfURI               string         `json:"selfUri,omitempty" readOnly:"true"`
	MediaSettings         *MediaSettings `json:"mediaSettings,omitempty"`
	ACWSettings           *ACWSettings   `json:"acwSettings,omitempty"`
	SkillEvaluationMethod string         `json:"skillEvaluationMethod,omitempty" enum:"NONE,BEST,ALL,"`
	RoutingStrategy       string         `json:"routingStrategy,omitempty"`
	CallingPartyName      string         `json:"callingPartyName,omitempty"`
	CallingPartyNumber    string         `json:"callingPartyNumber,omitempty"`
	// Centralita extensions (see Queue); omitted: none.
	Overflow           *QueueOverflow `json:"overflow,omitempty" doc:"Centralita extension: move calls still waiting after afterSeconds to queueId. Omitted or null: no overflow."`
	Bullseye           *QueueBullseye `json:"bullseye,omitempty" doc:"Centralita extension: the bullseye strategy's rings."`
	PreferredAgentWait int            `json:"preferredAgentWaitSeconds,omitempty" minimum:"0" maximum:"86400" doc:"Centralita extension: under preferred_agent, seconds a call waits for its preferred agents (0: none)."`
	SkillIDs           []string       `json:"skillIds,omitempty" maxItems:"20" doc:"Centralita extension: skill ids every call entering the queue requires (repeats count once)."`
	WaitPrompt         string         `json:"waitPrompt,omitempty" maxLength:"64" doc:"Centralita extension: prompt name a waiting caller hears once; omitted: queue-wait."`
	HoldMusic          string         `json:"holdMusic,omitempty" maxLength:"64" doc:"Centralita extension: prompt name looped while the caller waits; omitted: moh."`
}

func (in QueueInput) queue() directory.Queue {
	q := directory.QueueDefaults()
	q.Name, q.Description = in.Name, in.Description
	if m := in.MediaSettings; m != nil {
		if m.Call.AlertingTimeoutSeconds != 0 {
			q.AlertingTimeoutSeconds = m.Call.AlertingTimeoutSeconds
		}
		if m.Call.ServiceLevel.DurationMs != 0 {
			q.ServiceLevelDurationMs = m.Call.ServiceLevel.DurationMs
			q.ServiceLevelPercentage = m.Call.ServiceLevel.Percentage
		}
	}
	if a := in.ACWSettings; a != nil {
		if a.WrapupPrompt != "" {
			q.ACWPrompt = a.WrapupPrompt
		}
		q.ACWTimeoutMs = a.TimeoutMs
	}
	if in.SkillEvaluationMethod != "" {
		q.SkillEvaluation = in.SkillEvaluationMethod
	}
	if in.RoutingStrategy != "" {
		q.RoutingStrategy = in.RoutingStrategy
	}
	q.CallingPartyName, q.CallingPartyNumber = in.CallingPartyName, in.CallingPartyNumber
	if o := in.Overflow; o != nil {
		q.OverflowAfterMs, q.OverflowQueueID = o.AfterSeconds*1000, o.QueueID
	}
	if b := in.Bullseye; b != nil {
		for _, r := range b.Rings {
			q.Bullseye = append(q.Bullseye, directory.BullseyeRing{AfterMs: r.AfterSeconds * 1000, MinProficiency: r.MinProficiency})
		}
	}
	q.PreferredAgentWaitMs = in.PreferredAgentWait * 1000
	q.SkillIDs = append([]string(nil), in.SkillIDs...)
	q.WaitPrompt, q.HoldMusic = in.WaitPrompt, in.HoldMusic
	return q
}

// QueueMember is a user's membership.
type QueueMember struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	User       *Ref   `json:"user"`
	RingNumber int    `json:"ringNumber"`
	Joined     bool   `json:"joined"`
	MemberBy   string `json:"memberBy"`
	SelfURI    string `json:"selfUri"`
}

// Skill is a routing skill; its version is a string, as in the platform API.
type Skill struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DateModified Time   `json:"dateModified"`
	State        string `json:"state"`
	Version      string `json:"version"`
	SelfURI      string `json:"selfUri"`
}

func skillOut(sk directory.Skill) Skill {
	return Skill{ID: sk.ID, Name: sk.Name, DateModified: Time(sk.Modified), State: sk.State, Version: strconv.Itoa(sk.Version),
		SelfURI: "/api/v2/routing/skills/" + sk.ID}
}

// WrapupCode is a wrap-up code with its category and subcategory.
type WrapupCode struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Category     string `json:"category,omitempty" doc:"Centralita extension: disposition category."`
	Subcategory  string `json:"subcategory,omitempty" doc:"Centralita extension: disposition subcategory."`
	Description  string `json:"description,omitempty"`
	Division     *Ref   `json:"division"`
	DateCreated  Time   `json:"dateCreated"`
	DateModified Time   `json:"dateModified"`
	SelfURI      string `json:"selfUri"`
}

func wrapupOut(w directory.WrapupCode) WrapupCode {
	return WrapupCode{ID: w.ID, Name: w.Name, Category: w.Category, Subcategory: w.Subcategory, Description: w.Description,
		Division: homeDivision, DateCreated: Time(w.Created), DateModified: Time(w.Modified), SelfURI: "/api/v2/routing/wrapupcodes/" + w.ID}
}

// WrapupCodeInput creates or replaces a code; name defaults to "Category - Subcategory".
type WrapupCodeInput struct {
	Name        string `json:"name,omitempty" maxLength:"200"`
	Category    string `json:"category,omitempty" maxLength:"200"`
	Subcategory string `json:"subcategory,omitempty" maxLength:"200"`
	Description string `json:"description,omitempty"`
	ID          string `json:"id,omitempty" readOnly:"true"`
	SelfURI     string `json:"selfUri,omitempty" readOnly:"true"`
}

type idBody struct {
	ID string `json:"id"`
}

func (s *Server) registerRouting(api huma.API) {
	// Queues.
	huma.Register(api, op("getRoutingQueues", http.MethodGet, "/api/v2/routing/queues", "List queues", "Routing", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name      string   `query:"name" doc:"Exact name, or with * wildcards."`
			ID        []string `query:"id,explode"`
			SortOrder string   `query:"sortOrder" enum:"asc,desc,ascending,descending,"`
		}) (*Body[*Listing[Queue]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			idList := ids(in.ID)
			if err := needUUID("id", idList...); err != nil {
				return nil, err
			}
			qs, total, err := s.Directory.ListQueues(ctx, directory.QueueFilter{Name: in.Name, IDs: idList,
				Descending: in.SortOrder == "desc" || in.SortOrder == "descending"}, pg)
			if err != nil {
				return nil, err
			}
			out := make([]Queue, len(qs))
			for i, q := range qs {
				out[i] = queueOut(q)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getRoutingQueue", http.MethodGet, "/api/v2/routing/queues/{queueId}", "Get a queue", "Routing", auth.Agent),
		func(ctx context.Context, in *QueueIDPath) (*Body[Queue], error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			q, err := s.Directory.GetQueue(ctx, in.QueueID)
			if err != nil {
				return nil, err
			}
			return body(queueOut(q)), nil
		})
	huma.Register(api, op("postRoutingQueues", http.MethodPost, "/api/v2/routing/queues", "Create a queue", "Routing", auth.Admin),
		func(ctx context.Context, in *struct{ Body QueueInput }) (*Body[Queue], error) {
			q, err := s.Directory.CreateQueue(ctx, in.Body.queue())
			if err != nil {
				return nil, err
			}
			return body(queueOut(q)), nil
		})
	huma.Register(api, op("putRoutingQueue", http.MethodPut, "/api/v2/routing/queues/{queueId}", "Replace a queue's settings", "Routing", auth.Admin),
		func(ctx context.Context, in *struct {
			QueueIDPath
			Body QueueInput
		}) (*Body[Queue], error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			q, err := s.Directory.UpdateQueue(ctx, in.QueueID, in.Body.queue())
			if err != nil {
				return nil, err
			}
			return body(queueOut(q)), nil
		})
	huma.Register(api, withStatus(op("deleteRoutingQueue", http.MethodDelete, "/api/v2/routing/queues/{queueId}", "Delete a queue", "Routing", auth.Admin), 204),
		func(ctx context.Context, in *QueueIDPath) (*struct{}, error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			return nil, s.Directory.DeleteQueue(ctx, in.QueueID)
		})

	// Members.
	huma.Register(api, op("getRoutingQueueMembers", http.MethodGet, "/api/v2/routing/queues/{queueId}/members", "List a queue's members", "Routing", auth.Supervisor),
		func(ctx context.Context, in *struct {
			QueueIDPath
			PageSize   int    `query:"pageSize" minimum:"0" maximum:"100" doc:"At most 100."`
			PageNumber int    `query:"pageNumber" minimum:"0"`
			Joined     string `query:"joined" enum:"true,false,"`
		}) (*Body[*Listing[QueueMember]], error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			pg, size, num, err := PageParams{PageSize: in.PageSize, PageNumber: in.PageNumber}.page(100)
			if err != nil {
				return nil, err
			}
			var joined *bool
			if in.Joined != "" {
				j := in.Joined == "true"
				joined = &j
			}
			ms, total, err := s.Directory.ListMembers(ctx, in.QueueID, joined, pg)
			if err != nil {
				return nil, err
			}
			out := make([]QueueMember, len(ms))
			for i, m := range ms {
				out[i] = QueueMember{ID: m.UserID, Name: m.Name, User: &Ref{ID: m.UserID, Name: m.Name, SelfURI: "/api/v2/users/" + m.UserID},
					RingNumber: m.RingNumber, Joined: m.Joined, MemberBy: "user", SelfURI: "/api/v2/routing/queues/" + in.QueueID + "/members/" + m.UserID}
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, withStatus(op("postRoutingQueueMembers", http.MethodPost, "/api/v2/routing/queues/{queueId}/members", "Add (or with delete=true remove) up to 100 members", "Routing", auth.Supervisor), 204),
		func(ctx context.Context, in *struct {
			QueueIDPath
			Delete bool `query:"delete"`
			Body   []idBody
		}) (*struct{}, error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			userIDs := make([]string, len(in.Body))
			for i, b := range in.Body {
				userIDs[i] = b.ID
			}
			if err := needUUID("id", userIDs...); err != nil {
				return nil, err
			}
			if in.Delete {
				return nil, s.Directory.RemoveMembers(ctx, in.QueueID, userIDs)
			}
			return nil, s.Directory.AddMembers(ctx, in.QueueID, userIDs)
		})
	huma.Register(api, withStatus(op("patchRoutingQueueMembers", http.MethodPatch, "/api/v2/routing/queues/{queueId}/members", "Join or unjoin members", "Routing", auth.Supervisor), 204),
		func(ctx context.Context, in *struct {
			QueueIDPath
			Body []struct {
				ID     string `json:"id"`
				Joined bool   `json:"joined"`
			}
		}) (*struct{}, error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			m := map[string]bool{}
			for _, b := range in.Body {
				if err := needUUID("id", b.ID); err != nil {
					return nil, err
				}
				m[b.ID] = b.Joined
			}
			return nil, s.Directory.SetJoined(ctx, in.QueueID, m)
		})

	// Queue wrap-up codes.
	huma.Register(api, op("getRoutingQueueWrapupcodes", http.MethodGet, "/api/v2/routing/queues/{queueId}/wrapupcodes", "List a queue's wrap-up codes", "Routing", auth.Agent),
		func(ctx context.Context, in *struct {
			QueueIDPath
			PageParams
		}) (*Body[*Listing[WrapupCode]], error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			if _, err := s.Directory.GetQueue(ctx, in.QueueID); err != nil {
				return nil, err
			}
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			ws, total, err := s.Directory.ListWrapupCodes(ctx, directory.WrapupFilter{QueueID: in.QueueID}, pg)
			if err != nil {
				return nil, err
			}
			out := make([]WrapupCode, len(ws))
			for i, w := range ws {
				out[i] = wrapupOut(w)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, withStatus(op("postRoutingQueueWrapupcodes", http.MethodPost, "/api/v2/routing/queues/{queueId}/wrapupcodes", "Assign wrap-up codes to a queue", "Routing", auth.Admin), 204),
		func(ctx context.Context, in *struct {
			QueueIDPath
			Body []idBody
		}) (*struct{}, error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			codes := make([]string, len(in.Body))
			for i, b := range in.Body {
				codes[i] = b.ID
			}
			if err := needUUID("id", codes...); err != nil {
				return nil, err
			}
			return nil, s.Directory.AssignWrapupCodes(ctx, in.QueueID, codes)
		})
	huma.Register(api, withStatus(op("deleteRoutingQueueWrapupcode", http.MethodDelete, "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}", "Remove a wrap-up code from a queue", "Routing", auth.Admin), 204),
		func(ctx context.Context, in *struct {
			QueueIDPath
			CodeID string `path:"codeId"`
		}) (*struct{}, error) {
			if err := needUUID("queueId", in.QueueID); err != nil {
				return nil, err
			}
			if err := needUUID("codeId", in.CodeID); err != nil {
				return nil, err
			}
			return nil, s.Directory.UnassignWrapupCode(ctx, in.QueueID, in.CodeID)
		})

	// Skills.
	huma.Register(api, op("getRoutingSkills", http.MethodGet, "/api/v2/routing/skills", "List skills", "Routing", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name string   `query:"name"`
			ID   []string `query:"id,explode"`
		}) (*Body[*Listing[Skill]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			idList := ids(in.ID)
			if err := needUUID("id", idList...); err != nil {
				return nil, err
			}
			sks, total, err := s.Directory.ListSkills(ctx, in.Name, idList, pg)
			if err != nil {
				return nil, err
			}
			out := make([]Skill, len(sks))
			for i, sk := range sks {
				out[i] = skillOut(sk)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getRoutingSkill", http.MethodGet, "/api/v2/routing/skills/{skillId}", "Get a skill", "Routing", auth.Agent),
		func(ctx context.Context, in *SkillIDPath) (*Body[Skill], error) {
			if err := needUUID("skillId", in.SkillID); err != nil {
				return nil, err
			}
			sk, err := s.Directory.GetSkill(ctx, in.SkillID)
			if err != nil {
				return nil, err
			}
			return body(skillOut(sk)), nil
		})
	huma.Register(api, op("postRoutingSkills", http.MethodPost, "/api/v2/routing/skills", "Create a skill", "Routing", auth.Admin),
		func(ctx context.Context, in *struct {
			Body struct {
				Name string `json:"name" minLength:"1" maxLength:"200"`
			}
		}) (*Body[Skill], error) {
			sk, err := s.Directory.CreateSkill(ctx, in.Body.Name)
			if err != nil {
				return nil, err
			}
			return body(skillOut(sk)), nil
		})
	huma.Register(api, op("patchRoutingSkill", http.MethodPatch, "/api/v2/routing/skills/{skillId}", "Rename a skill", "Routing", auth.Admin),
		func(ctx context.Context, in *struct {
			SkillIDPath
			Body struct {
				Name string `json:"name" minLength:"1" maxLength:"200"`
			}
		}) (*Body[Skill], error) {
			if err := needUUID("skillId", in.SkillID); err != nil {
				return nil, err
			}
			sk, err := s.Directory.RenameSkill(ctx, in.SkillID, in.Body.Name)
			if err != nil {
				return nil, err
			}
			return body(skillOut(sk)), nil
		})
	huma.Register(api, withStatus(op("deleteRoutingSkill", http.MethodDelete, "/api/v2/routing/skills/{skillId}", "Delete a skill", "Routing", auth.Admin), 204),
		func(ctx context.Context, in *SkillIDPath) (*struct{}, error) {
			if err := needUUID("skillId", in.SkillID); err != nil {
				return nil, err
			}
			return nil, s.Directory.DeleteSkill(ctx, in.SkillID)
		})

	// Wrap-up codes.
	huma.Register(api, op("getRoutingWrapupcodes", http.MethodGet, "/api/v2/routing/wrapupcodes", "List wrap-up codes", "Routing", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name      string   `query:"name"`
			ID        []string `query:"id,explode"`
			Category  string   `query:"category" doc:"Centralita extension: only this category."`
			SortBy    string   `query:"sortBy" enum:"name,id,"`
			SortOrder string   `query:"sortOrder" enum:"ascending,descending,asc,desc,"`
		}) (*Body[*Listing[WrapupCode]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			idList := ids(in.ID)
			if err := needUUID("id", idList...); err != nil {
				return nil, err
			}
			ws, total, err := s.Directory.ListWrapupCodes(ctx, directory.WrapupFilter{Name: in.Name, IDs: idList, Category: in.Category,
				SortByID: in.SortBy == "id", Descending: in.SortOrder == "descending" || in.SortOrder == "desc"}, pg)
			if err != nil {
				return nil, err
			}
			out := make([]WrapupCode, len(ws))
			for i, w := range ws {
				out[i] = wrapupOut(w)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getRoutingWrapupcode", http.MethodGet, "/api/v2/routing/wrapupcodes/{codeId}", "Get a wrap-up code", "Routing", auth.Agent),
		func(ctx context.Context, in *CodeIDPath) (*Body[WrapupCode], error) {
			if err := needUUID("codeId", in.CodeID); err != nil {
				return nil, err
			}
			w, err := s.Directory.GetWrapupCode(ctx, in.CodeID)
			if err != nil {
				return nil, err
			}
			return body(wrapupOut(w)), nil
		})
	huma.Register(api, op("postRoutingWrapupcodes", http.MethodPost, "/api/v2/routing/wrapupcodes", "Create a wrap-up code", "Routing", auth.Admin),
		func(ctx context.Context, in *struct{ Body WrapupCodeInput }) (*Body[WrapupCode], error) {
			b := in.Body
			w, err := s.Directory.CreateWrapupCode(ctx, directory.WrapupCode{Name: b.Name, Category: b.Category, Subcategory: b.Subcategory, Description: b.Description})
			if err != nil {
				return nil, err
			}
			return body(wrapupOut(w)), nil
		})
	huma.Register(api, op("putRoutingWrapupcode", http.MethodPut, "/api/v2/routing/wrapupcodes/{codeId}", "Replace a wrap-up code", "Routing", auth.Admin),
		func(ctx context.Context, in *struct {
			CodeIDPath
			Body WrapupCodeInput
		}) (*Body[WrapupCode], error) {
			if err := needUUID("codeId", in.CodeID); err != nil {
				return nil, err
			}
			b := in.Body
			w, err := s.Directory.UpdateWrapupCode(ctx, in.CodeID, directory.WrapupCode{Name: b.Name, Category: b.Category, Subcategory: b.Subcategory, Description: b.Description})
			if err != nil {
				return nil, err
			}
			return body(wrapupOut(w)), nil
		})
	huma.Register(api, withStatus(op("deleteRoutingWrapupcode", http.MethodDelete, "/api/v2/routing/wrapupcodes/{codeId}", "Delete a wrap-up code", "Routing", auth.Admin), 204),
		func(ctx context.Context, in *CodeIDPath) (*struct{}, error) {
			if err := needUUID("codeId", in.CodeID); err != nil {
				return nil, err
			}
			return nil, s.Directory.DeleteWrapupCode(ctx, in.CodeID)
		})
}

// QueueIDPath is the {queueId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type QueueIDPath struct {
	QueueID string `path:"queueId"`
}

// SkillIDPath is the {skillId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type SkillIDPath struct {
	SkillID string `path:"skillId"`
}

// CodeIDPath is the {codeId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type CodeIDPath struct {
	CodeID string `path:"codeId"`
}
