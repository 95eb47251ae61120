package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/trunk"
)

// SIP trunks (docs/telephony.md): our own shape, admin only. The password
// is write-only: stored sealed, never returned, never logged.

const trunksTag = "Telephony"

// TrunkDID is an inbound number and the queue it reaches.
type TrunkDID struct {
	Number  string `json:"number" minLength:"1" maxLength:"32" doc:"E.164 (+34910000001), a national number (read in defaultCountry) or a short number (2001)."`
	QueueID string `json:"queueId" doc:"The queue calls to this number reach."`
}

// Trunk is a SIP trunk.
type Trunk struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Address        string     `json:"address" doc:"host or host:port of the carrier's SIP server (UDP). INVITEs from it are customer calls; outbound calls go there."`
	Username       string     `json:"username,omitempty" doc:"Digest user for calls out through the trunk."`
	HasPassword    bool       `json:"hasPassword"`
	DefaultCountry string     `json:"defaultCountry,omitempty" doc:"ISO 3166 alpha-2 country national numbers are read in."`
	CallerID       string     `json:"callerId,omitempty" doc:"Number shown on outbound calls that name none."`
	DIDs           []TrunkDID `json:"dids"`
	DateCreated    Time       `json:"dateCreated"`
	DateModified   Time       `json:"dateModified"`
	SelfURI        string     `json:"selfUri"`
}

// TrunkInput creates or replaces a trunk.
type TrunkInput struct {
	Name           string     `json:"name" minLength:"1" maxLength:"200"`
	Address        string     `json:"address" minLength:"1" maxLength:"200"`
	Username       string     `json:"username,omitempty" maxLength:"200"`
	Password       string     `json:"password,omitempty" writeOnly:"true" maxLength:"128" doc:"Digest password; stored encrypted, never returned. On PUT, empty keeps the current one."`
	ClearPassword  bool       `json:"clearPassword,omitempty" doc:"On PUT: remove the stored password."`
	DefaultCountry string     `json:"defaultCountry,omitempty" maxLength:"2"`
	CallerID       string     `json:"callerId,omitempty" maxLength:"32"`
	DIDs           []TrunkDID `json:"dids,omitempty" maxItems:"1000"`
	ID             string     `json:"id,omitempty" readOnly:"true"`
	SelfURI        string     `json:"selfUri,omitempty" readOnly:"true"`
}

func (in TrunkInput) domain() trunk.Input {
	out := trunk.Input{Name: in.Name, Address: in.Address, Username: in.Username, Password: in.Password, ClearPassword: in.ClearPassword,
		DefaultCountry: in.DefaultCountry, CallerID: in.CallerID}
	for _, d := range in.DIDs {
		out.DIDs = append(out.DIDs, trunk.DID{Number: d.Number, QueueID: d.QueueID})
	}
	return out
}

const trunksPath = "/api/v2/telephony/sip/trunks"

func trunkOut(t trunk.Trunk) Trunk {
	out := Trunk{ID: t.ID, Name: t.Name, Address: t.Address, Username: t.Username, HasPassword: t.HasPassword,
		DefaultCountry: t.DefaultCountry, CallerID: t.CallerID, DIDs: []TrunkDID{},
		DateCreated: Time(t.Created), DateModified: Time(t.Modified), SelfURI: trunksPath + "/" + t.ID}
	for _, d := range t.DIDs {
		out.DIDs = append(out.DIDs, TrunkDID{Number: d.Number, QueueID: d.QueueID})
	}
	return out
}

// TrunkIDPath is the {trunkId} path parameter.
type TrunkIDPath struct {
	TrunkID string `path:"trunkId"`
}

func (s *Server) registerTrunks(api huma.API) {
	if s.Trunks == nil {
		return
	}
	huma.Register(api, op("getTelephonySipTrunks", http.MethodGet, trunksPath, "List SIP trunks", trunksTag, auth.Admin),
		func(ctx context.Context, in *struct{}) (*Body[*Listing[Trunk]], error) {
			ts, err := s.Trunks.List(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Trunk, len(ts))
			for i, t := range ts {
				out[i] = trunkOut(t)
			}
			return body(listing(ctx, out, len(out), max(len(out), 1), 1)), nil
		})
	huma.Register(api, op("getTelephonySipTrunk", http.MethodGet, trunksPath+"/{trunkId}", "Get a SIP trunk", trunksTag, auth.Admin),
		func(ctx context.Context, in *TrunkIDPath) (*Body[Trunk], error) {
			if err := needUUID("trunkId", in.TrunkID); err != nil {
				return nil, err
			}
			t, err := s.Trunks.Get(ctx, in.TrunkID)
			if err != nil {
				return nil, err
			}
			return body(trunkOut(t)), nil
		})
	huma.Register(api, op("postTelephonySipTrunks", http.MethodPost, trunksPath, "Create a SIP trunk", trunksTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body TrunkInput }) (*Body[Trunk], error) {
			t, err := s.Trunks.Create(ctx, in.Body.domain())
			if err != nil {
				return nil, err
			}
			return body(trunkOut(t)), nil
		})
	huma.Register(api, op("putTelephonySipTrunk", http.MethodPut, trunksPath+"/{trunkId}", "Replace a SIP trunk", trunksTag, auth.Admin),
		func(ctx context.Context, in *struct {
			TrunkIDPath
			Body TrunkInput
		}) (*Body[Trunk], error) {
			if err := needUUID("trunkId", in.TrunkID); err != nil {
				return nil, err
			}
			t, err := s.Trunks.Update(ctx, in.TrunkID, in.Body.domain())
			if err != nil {
				return nil, err
			}
			return body(trunkOut(t)), nil
		})
	huma.Register(api, withStatus(op("deleteTelephonySipTrunk", http.MethodDelete, trunksPath+"/{trunkId}", "Delete a SIP trunk", trunksTag, auth.Admin), 204),
		func(ctx context.Context, in *TrunkIDPath) (*struct{}, error) {
			if err := needUUID("trunkId", in.TrunkID); err != nil {
				return nil, err
			}
			return nil, s.Trunks.Delete(ctx, in.TrunkID)
		})
}
