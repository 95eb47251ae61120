package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
)

// PresenceDefinition is the shape of the (deprecated but widely used)
// /api/v2/presencedefinitions, plus breakNumber for custom break states.
type PresenceDefinition struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	LanguageLabels map[string]string `json:"languageLabels"`
	SystemPresence string            `json:"systemPresence"`
	Deactivated    bool              `json:"deactivated"`
	Primary        bool              `json:"primary"`
	BreakNumber    int               `json:"breakNumber,omitempty" doc:"Centralita extension: the number agents pick a custom break state by."`
	DateCreated    Time              `json:"createdDate"`
	DateModified   Time              `json:"modifiedDate"`
	SelfURI        string            `json:"selfUri"`
}

// PresenceDefinitionV2 is the shape of /api/v2/presence/definitions.
type PresenceDefinitionV2 struct {
	ID             string            `json:"id"`
	Type           string            `json:"type" enum:"System,User"`
	LanguageLabels map[string]string `json:"languageLabels"`
	SystemPresence string            `json:"systemPresence"`
	Deactivated    bool              `json:"deactivated"`
	BreakNumber    int               `json:"breakNumber,omitempty"`
	SelfURI        string            `json:"selfUri"`
}

func presenceOut(p directory.PresenceDefinition) PresenceDefinition {
	return PresenceDefinition{ID: p.ID, Name: p.Name(), LanguageLabels: map[string]string{"en_US": p.LabelEN, "es": p.LabelES},
		SystemPresence: p.SystemPresence, Deactivated: p.Deactivated, Primary: p.Primary, BreakNumber: p.BreakNumber,
		DateCreated: Time(p.Created), DateModified: Time(p.Modified), SelfURI: "/api/v2/presencedefinitions/" + p.ID}
}

// BreakStateInput creates or replaces a custom break state.
type BreakStateInput struct {
	BreakNumber    int               `json:"breakNumber" minimum:"1" maximum:"99"`
	Label          string            `json:"label,omitempty" maxLength:"200" doc:"Label, e.g. \"Descanso\" or \"1 - Descanso\"; the number prefix is added when missing."`
	LabelEn        string            `json:"labelEn,omitempty" maxLength:"200" doc:"English label; defaults to label."`
	LanguageLabels map[string]string `json:"languageLabels,omitempty" doc:"Alternative to label/labelEn: es and en_US keys."`
	Deactivated    bool              `json:"deactivated,omitempty"`
}

func (b BreakStateInput) input() directory.BreakInput {
	in := directory.BreakInput{Number: b.BreakNumber, Label: b.Label, LabelEN: b.LabelEn, Deactivated: b.Deactivated}
	if in.Label == "" {
		in.Label = b.LanguageLabels["es"]
	}
	if in.LabelEN == "" {
		in.LabelEN = b.LanguageLabels["en_US"]
	}
	if in.Label == "" {
		in.Label = in.LabelEN
	}
	return in
}

// PresenceIDPath is the {presenceId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type PresenceIDPath struct {
	PresenceID string `path:"presenceId"`
}

func (s *Server) registerPresence(api huma.API) {
	huma.Register(api, op("getPresencedefinitions", http.MethodGet, "/api/v2/presencedefinitions", "List presence definitions, including custom break states", "Presence", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Deactivated string `query:"deactivated" enum:"true,false,"`
		}) (*Body[*Listing[PresenceDefinition]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			ps, total, err := s.Directory.ListPresences(ctx, in.Deactivated == "true", pg)
			if err != nil {
				return nil, err
			}
			out := make([]PresenceDefinition, len(ps))
			for i, p := range ps {
				out[i] = presenceOut(p)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getPresencedefinition", http.MethodGet, "/api/v2/presencedefinitions/{presenceId}", "Get a presence definition", "Presence", auth.Agent),
		func(ctx context.Context, in *PresenceIDPath) (*Body[PresenceDefinition], error) {
			if err := needUUID("presenceId", in.PresenceID); err != nil {
				return nil, err
			}
			p, err := s.Directory.GetPresence(ctx, in.PresenceID)
			if err != nil {
				return nil, err
			}
			return body(presenceOut(p)), nil
		})
	huma.Register(api, op("postPresencedefinitions", http.MethodPost, "/api/v2/presencedefinitions", "Create a custom break state", "Presence", auth.Admin),
		func(ctx context.Context, in *struct{ Body BreakStateInput }) (*Body[PresenceDefinition], error) {
			p, err := s.Directory.CreateBreak(ctx, in.Body.input())
			if err != nil {
				return nil, err
			}
			return body(presenceOut(p)), nil
		})
	huma.Register(api, op("putPresencedefinition", http.MethodPut, "/api/v2/presencedefinitions/{presenceId}", "Replace a custom break state", "Presence", auth.Admin),
		func(ctx context.Context, in *struct {
			PresenceIDPath
			Body BreakStateInput
		}) (*Body[PresenceDefinition], error) {
			if err := needUUID("presenceId", in.PresenceID); err != nil {
				return nil, err
			}
			p, err := s.Directory.UpdateBreak(ctx, in.PresenceID, in.Body.input())
			if err != nil {
				return nil, err
			}
			return body(presenceOut(p)), nil
		})
	huma.Register(api, withStatus(op("deletePresencedefinition", http.MethodDelete, "/api/v2/presencedefinitions/{presenceId}", "Delete a custom break state", "Presence", auth.Admin), 204),
		func(ctx context.Context, in *PresenceIDPath) (*struct{}, error) {
			if err := needUUID("presenceId", in.PresenceID); err != nil {
				return nil, err
			}
			return nil, s.Directory.DeleteBreak(ctx, in.PresenceID)
		})
	huma.Register(api, op("getPresenceDefinitions", http.MethodGet, "/api/v2/presence/definitions", "List presence definitions (current API shape)", "Presence", auth.Agent),
		func(ctx context.Context, in *struct {
			Deactivated string `query:"deactivated" enum:"true,false,"`
		}) (*Body[Entities[PresenceDefinitionV2]], error) {
			ps, _, err := s.Directory.ListPresences(ctx, in.Deactivated == "true", directory.Page{Limit: 1000})
			if err != nil {
				return nil, err
			}
			out := make([]PresenceDefinitionV2, len(ps))
			for i, p := range ps {
				typ := "System"
				if p.BreakNumber > 0 {
					typ = "User"
				}
				out[i] = PresenceDefinitionV2{ID: p.ID, Type: typ, LanguageLabels: map[string]string{"en_US": p.LabelEN, "es": p.LabelES},
					SystemPresence: strings.ReplaceAll(p.SystemPresence, " ", ""), Deactivated: p.Deactivated, BreakNumber: p.BreakNumber,
					SelfURI: "/api/v2/presence/definitions/" + p.ID}
			}
			return body(Entities[PresenceDefinitionV2]{Entities: out, Total: len(out)}), nil
		})
}

// Entities is an unpaged listing.
type Entities[T any] struct {
	Entities []T `json:"entities"`
	Total    int `json:"total"`
}
