package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
)

// Station is a device agents log in with. Its SIP password is write-only.
type Station struct {
	ID           string `json:"id"`
	Name         string `json:"name" doc:"The extension / SIP user name, e.g. 1001."`
	Type         string `json:"type" enum:"sip,webrtc,remote"`
	Status       string `json:"status"`
	RemoteNumber string `json:"remoteNumber,omitempty"`
	HasPassword  bool   `json:"hasPassword"`
	DateCreated  Time   `json:"dateCreated"`
	DateModified Time   `json:"dateModified"`
	SelfURI      string `json:"selfUri"`
}

// StationInput creates or replaces a station.
type StationInput struct {
	Name         string `json:"name" minLength:"1" maxLength:"64"`
	Type         string `json:"type,omitempty" enum:"sip,webrtc,remote,"`
	Password     string `json:"password,omitempty" writeOnly:"true" doc:"SIP digest password; stored encrypted, never returned. On PUT, empty keeps the current one."`
	RemoteNumber string `json:"remoteNumber,omitempty"`
	ID           string `json:"id,omitempty" readOnly:"true"`
	SelfURI      string `json:"selfUri,omitempty" readOnly:"true"`
}

func stationOut(st directory.Station) Station {
	return Station{ID: st.ID, Name: st.Name, Type: st.Type, Status: "AVAILABLE", RemoteNumber: st.RemoteNumber, HasPassword: st.HasPassword,
		DateCreated: Time(st.Created), DateModified: Time(st.Modified), SelfURI: "/api/v2/stations/" + st.ID}
}

// StationIDPath is the {stationId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type StationIDPath struct {
	StationID string `path:"stationId"`
}

func (s *Server) registerStations(api huma.API) {
	huma.Register(api, op("getStations", http.MethodGet, "/api/v2/stations", "List stations (devices)", "Stations", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			Name string `query:"name" doc:"Exact name or with * wildcards."`
		}) (*Body[*Listing[Station]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			sts, total, err := s.Directory.ListStations(ctx, in.Name, pg)
			if err != nil {
				return nil, err
			}
			out := make([]Station, len(sts))
			for i, st := range sts {
				out[i] = stationOut(st)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getStation", http.MethodGet, "/api/v2/stations/{stationId}", "Get a station", "Stations", auth.Agent),
		func(ctx context.Context, in *StationIDPath) (*Body[Station], error) {
			if err := needUUID("stationId", in.StationID); err != nil {
				return nil, err
			}
			st, err := s.Directory.GetStation(ctx, in.StationID)
			if err != nil {
				return nil, err
			}
			return body(stationOut(st)), nil
		})
	huma.Register(api, op("postStations", http.MethodPost, "/api/v2/stations", "Create a station", "Stations", auth.Admin),
		func(ctx context.Context, in *struct{ Body StationInput }) (*Body[Station], error) {
			b := in.Body
			st, err := s.Directory.CreateStation(ctx, directory.StationInput{Name: b.Name, Type: b.Type, Password: b.Password, RemoteNumber: b.RemoteNumber})
			if err != nil {
				return nil, err
			}
			return body(stationOut(st)), nil
		})
	huma.Register(api, op("putStation", http.MethodPut, "/api/v2/stations/{stationId}", "Replace a station", "Stations", auth.Admin),
		func(ctx context.Context, in *struct {
			StationIDPath
			Body StationInput
		}) (*Body[Station], error) {
			if err := needUUID("stationId", in.StationID); err != nil {
				return nil, err
			}
			b := in.Body
			st, err := s.Directory.UpdateStation(ctx, in.StationID, directory.StationInput{Name: b.Name, Type: b.Type, Password: b.Password, RemoteNumber: b.RemoteNumber})
			if err != nil {
				return nil, err
			}
			return body(stationOut(st)), nil
		})
	huma.Register(api, withStatus(op("deleteStation", http.MethodDelete, "/api/v2/stations/{stationId}", "Delete a station", "Stations", auth.Admin), 204),
		func(ctx context.Context, in *StationIDPath) (*struct{}, error) {
			if err := needUUID("stationId", in.StationID); err != nil {
				return nil, err
			}
			return nil, s.Directory.DeleteStation(ctx, in.StationID)
		})
}
