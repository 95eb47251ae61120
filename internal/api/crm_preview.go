package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/problem"
)

// Limits of a preview request.
const (
	previewMaxCallData = 100
	previewMaxName     = 100
	previewMaxValue    = 2000
)

// ScreenPopPreviewInput is a call's data to plan a screen pop for, and
// optionally what a CRM search found, to see the decision.
type ScreenPopPreviewInput struct {
	CallCenterID string            `json:"callCenterId" doc:"The call center whose options plan the pop."`
	CallData     map[string]string `json:"callData" doc:"The call data (SPEC 2.7 names: SearchBy, SearchData, CLAVESF, contactId, phoneNumber, callDialer, ...)."`
	Matches      []ScreenPopMatch  `json:"matches,omitempty" maxItems:"200" doc:"Records a search found: when given (even empty), the response has the decision."`
}

// ScreenPopMatch is a CRM record found by the search.
type ScreenPopMatch struct {
	Type   string            `json:"type" minLength:"1" maxLength:"100" doc:"Contact, Account, Lead, Opportunity or Company."`
	ID     string            `json:"id" minLength:"1" maxLength:"200"`
	Name   string            `json:"name,omitempty" maxLength:"1000"`
	Phones []string          `json:"phones,omitempty" maxItems:"20"`
	Fields map[string]string `json:"fields,omitempty"`
	URL    string            `json:"url,omitempty" maxLength:"2000"`
}

// ScreenPopSearch is the CRM search a plan runs.
type ScreenPopSearch struct {
	Field string   `json:"field,omitempty" doc:"Search this field's exact value (Id = the record id)."`
	Value string   `json:"value,omitempty"`
	Phone string   `json:"phone,omitempty" doc:"Or search phone fields for this number."`
	Types []string `json:"types" doc:"Record types searched."`
}

// ScreenPopPlan is crm.Plan: what to search and what each outcome does.
type ScreenPopPlan struct {
	Search     *ScreenPopSearch  `json:"search" required:"false" doc:"Null: no search (empty search data, e.g. CLAVESF \"<contactId>-\"); the no-match rule applies."`
	SearchBy   string            `json:"searchBy"`
	SearchData string            `json:"searchData" doc:"The value searched (the data part of a CLAVESF)."`
	Priority   []string          `json:"priority" doc:"searchTypePriority; empty = none."`
	OnNone     crm.Action        `json:"onNone"`
	OnOne      crm.Action        `json:"onOne"`
	OnMany     crm.Action        `json:"onMany"`
	Updates    map[string]string `json:"updates,omitempty" doc:"externalData resolved: written on the record that opens."`
	Log        *crm.ActivityPlan `json:"log" required:"false" doc:"Null when saveActivityLog is false."`
}

// ScreenPopPreview is the plan and, when matches were given, the decision.
type ScreenPopPreview struct {
	Plan     ScreenPopPlan `json:"plan"`
	Decision *crm.Decision `json:"decision,omitempty"`
}

func screenPopPlanOut(p crm.Plan) ScreenPopPlan {
	out := ScreenPopPlan{SearchBy: p.SearchBy, SearchData: p.SearchData, Priority: p.Priority,
		OnNone: p.OnNone, OnOne: p.OnOne, OnMany: p.OnMany, Updates: p.Updates, Log: p.Log}
	if out.Priority == nil {
		out.Priority = []string{}
	}
	if q := p.Search; q != nil {
		out.Search = &ScreenPopSearch{Field: q.Field, Value: q.Value, Phone: q.Phone, Types: q.Types}
	}
	return out
}

func (in *ScreenPopPreviewInput) check() error {
	var col problem.Collector
	if err := needUUID("callCenterId", in.CallCenterID); err != nil {
		return err
	}
	if len(in.CallData) > previewMaxCallData {
		col.Add("callData", "has %d items, at most %d", len(in.CallData), previewMaxCallData)
	}
	for k, v := range in.CallData {
		switch {
		case k == "" || len(k) > previewMaxName:
			col.Add("callData", "names must have 1 to %d characters, got %q", previewMaxName, k)
		case len(v) > previewMaxValue:
			col.Add("callData."+k, "has %d characters, at most %d", len(v), previewMaxValue)
		}
	}
	for i, m := range in.Matches {
		if len(m.Fields) > previewMaxCallData {
			col.Add(fmt.Sprintf("matches[%d].fields", i), "has %d items, at most %d", len(m.Fields), previewMaxCallData)
		}
	}
	return col.Err()
}

// registerCRMPreview registers the screen-pop plan preview.
func (s *Server) registerCRMPreview(api huma.API) {
	o := op("postCrmScreenpopPreview", http.MethodPost, "/api/v2/crm/screenpop/preview",
		"Preview a screen pop: the plan for a call's data and, given search results, the decision", "CRM", auth.Supervisor)
	o.Description += " Nothing is searched or written: the plan follows the call center's options (searchTypePriority," +
		" externalData, defaultNewRowData, layout, saveActivityLog, activityMode) and the decision applies it to the matches given."
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body ScreenPopPreviewInput }) (*Body[ScreenPopPreview], error) {
		b := &in.Body
		if err := b.check(); err != nil {
			return nil, err
		}
		cc, err := s.CRM.GetCallCenter(ctx, b.CallCenterID)
		if err != nil {
			return nil, err
		}
		p := crm.PlanCall(crm.CallData(b.CallData), cc)
		out := ScreenPopPreview{Plan: screenPopPlanOut(p)}
		if b.Matches != nil {
			found := make([]crm.Record, len(b.Matches))
			for i, m := range b.Matches {
				found[i] = crm.Record{Type: m.Type, ID: m.ID, Name: m.Name, Phones: m.Phones, Fields: m.Fields, URL: m.URL}
			}
			d := p.Decide(found)
			out.Decision = &d
		}
		return body(out), nil
	})
}
