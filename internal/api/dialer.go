package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/dialer"
	"github.com/centralita/centralita/internal/problem"
)

// ReleaseBody releases the contact of a dialer call.
type ReleaseBody struct {
	CategoryID    string `json:"categoryId,omitempty" doc:"A category of the schema's disposition tree (optional: the subcategory names it)."`
	SubcategoryID string `json:"subcategoryId,omitempty" doc:"A subcategory of the schema's disposition tree; empty releases without categorizing (when the campaign allows it)."`
	Notes         string `json:"notes,omitempty" maxLength:"4000"`
}

// DialResult names the conversation a preview dial started.
type DialResult struct {
	ConversationID string `json:"conversationId"`
}

// registerDialer registers the agent's outbound desk and the live
// campaign figures.
func (s *Server) registerDialer(api huma.API) {
	const tag = "Outbound"
	me := func(ctx context.Context) (string, error) {
		if s.Dialer == nil {
			return "", problem.Coded(problem.Conflict, "dialer.off", "", "the dialer is not running")
		}
		u := principal(ctx).UserID
		if u == "" {
			return "", problem.Invalidf("", "the outbound desk needs a person's token")
		}
		return u, nil
	}
	huma.Register(api, op("getOutboundMe", http.MethodGet, "/api/v2/outbound/me", "The caller's outbound desk: campaign, offered record, contact to release, ready", tag, auth.Agent),
		func(ctx context.Context, _ *struct{}) (*Body[dialer.Desk], error) {
			u, err := me(ctx)
			if err != nil {
				return nil, err
			}
			d, err := s.Dialer.Desk(ctx, u)
			if err != nil {
				return nil, err
			}
			return body(d), nil
		})
	huma.Register(api, withStatus(op("postOutboundMeReady", http.MethodPost, "/api/v2/outbound/me/ready", "Ready for the next campaign call (the connector's play button)", tag, auth.Agent), 204),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			u, err := me(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.Dialer.Ready(ctx, u)
		})
	huma.Register(api, op("postOutboundMePreviewDial", http.MethodPost, "/api/v2/outbound/me/preview/dial", "Dial the record offered to the caller", tag, auth.Agent),
		func(ctx context.Context, _ *struct{}) (*Body[DialResult], error) {
			u, err := me(ctx)
			if err != nil {
				return nil, err
			}
			conv, err := s.Dialer.PreviewDial(ctx, u)
			if err != nil {
				return nil, err
			}
			return body(DialResult{ConversationID: conv}), nil
		})
	huma.Register(api, withStatus(op("postOutboundMePreviewSkip", http.MethodPost, "/api/v2/outbound/me/preview/skip", "Skip the record offered to the caller", tag, auth.Agent), 204),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			u, err := me(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.Dialer.PreviewSkip(ctx, u)
		})
	huma.Register(api, withStatus(op("postOutboundConversationRelease", http.MethodPost, "/api/v2/outbound/conversations/{conversationId}/release",
		"Release the contact of a dialer call, categorized or not", tag, auth.Agent), 204),
		func(ctx context.Context, in *struct {
			ConversationIDPath
			Body ReleaseBody
		}) (*struct{}, error) {
			if err := needUUID("conversationId", in.ConversationID); err != nil {
				return nil, err
			}
			u, err := me(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.Dialer.Release(ctx, u, in.ConversationID, in.Body.CategoryID, in.Body.SubcategoryID, in.Body.Notes)
		})
	// campaignDialer checks a campaign id and that the dialer runs.
	campaignDialer := func(id string) error {
		if err := needUUID("campaignId", id); err != nil {
			return err
		}
		if s.Dialer == nil {
			return problem.Coded(problem.Conflict, "dialer.off", "", "the dialer is not running")
		}
		return nil
	}
	huma.Register(api, op("getOutboundCampaignStats", http.MethodGet, "/api/v2/outbound/campaigns/{campaignId}/stats", "Live dialer figures of a campaign", tag, auth.Supervisor),
		func(ctx context.Context, in *struct {
			CampaignID string `path:"campaignId"`
		}) (*Body[dialer.Stats], error) {
			if err := campaignDialer(in.CampaignID); err != nil {
				return nil, err
			}
			if s.Campaigns != nil {
				if _, err := s.Campaigns.Get(ctx, in.CampaignID); err != nil {
					return nil, err
				}
			}
			st, err := s.Dialer.Stats(ctx, in.CampaignID)
			if err != nil {
				return nil, err
			}
			return body(st), nil
		})
	huma.Register(api, op("getOutboundCampaignAbandonment", http.MethodGet, "/api/v2/outbound/campaigns/{campaignId}/abandonment",
		"A campaign's abandonment record: per day and over the rolling 30 days, against its cap", tag, auth.Supervisor),
		func(ctx context.Context, in *struct {
			CampaignID string `path:"campaignId"`
		}) (*Body[dialer.AbandonRecord], error) {
			if err := campaignDialer(in.CampaignID); err != nil {
				return nil, err
			}
			rec, err := s.Dialer.AbandonRecord(ctx, in.CampaignID)
			if err != nil {
				return nil, err
			}
			return body(rec), nil
		})
}
