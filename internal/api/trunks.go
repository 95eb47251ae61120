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

// TrunkRegistrations reports the trunks' live registrations with their
// carriers, by trunk name (the SIP switch).
type TrunkRegistrations interface {
	TrunkRegistrations() map[string]TrunkRegistration
}

// TrunkRegistration is a trunk's registration with its carrier as the
// running switch sees it.
type TrunkRegistration struct {
	State     string `json:"state" enum:"registering,registered,failed" doc:"registering: the first REGISTER is on its way; registered: the carrier holds our address; failed: the last attempt failed (see error), another follows at retryAt."`
	ExpiresAt *Time  `json:"expiresAt,omitempty" doc:"Registered: when the carrier drops the registration unless refreshed (the switch refreshes it halfway)."`
	RetryAt   *Time  `json:"retryAt,omitempty" doc:"Failed: when the switch tries again (5 s after the first failure, doubling up to 5 min)."`
	Error     string `json:"error,omitempty" doc:"Failed: why the last attempt failed."`
}

// TrunkDID is an inbound number and the queue it reaches.
type TrunkDID struct {
	Number  string `json:"number" minLength:"1" maxLength:"32" doc:"E.164 (+34910000001), a national number (read in defaultCountry) or a short number (2001)."`
	QueueID string `json:"queueId" doc:"The queue calls to this number reach."`
}

// Trunk is a SIP trunk.
type Trunk struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Address        string     `json:"address" doc:"host or host:port of the carrier's SIP server (port 5060 over UDP, 5061 over TLS when none is given). INVITEs from it are customer calls; outbound calls go there."`
	Transport      string     `json:"transport" enum:"udp,tls" doc:"udp, or tls: SIP over TLS to address, the carrier's certificate verified against the system's roots; its calls are taken over TLS only (needs the switch's sip_tls_listen)."`
	SRTP           bool       `json:"srtp" doc:"Calls out through the trunk offer encrypted audio (SRTP, RTP/SAVP with SDES keys) and end if the carrier answers plain RTP. Only with transport tls."`
	Username       string     `json:"username,omitempty" doc:"Digest user for calls out through the trunk."`
	HasPassword    bool       `json:"hasPassword"`
	DefaultCountry string     `json:"defaultCountry,omitempty" doc:"ISO 3166 alpha-2 country national numbers are read in."`
	CallerID       string     `json:"callerId,omitempty" doc:"Number shown on outbound calls that name none."`
	DIDs           []TrunkDID `json:"dids"`
	Register       bool       `json:"register" doc:"The switch registers with the carrier (REGISTER to address as username, with the password) so that the carrier sends the trunk's calls to it."`
	// RegisterExpires is shown whether or not the trunk registers: it is
	// kept for when it does.
	RegisterExpires int                `json:"registerExpires" doc:"Seconds of registration asked of the carrier (60 to 86400)."`
	Registration    *TrunkRegistration `json:"registration,omitempty" doc:"The live registration, for a trunk that registers while the program runs the SIP switch (telephony sip)."`
	DateCreated     Time               `json:"dateCreated"`
	DateModified    Time               `json:"dateModified"`
	SelfURI         string             `json:"selfUri"`
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
	Register       bool       `json:"register,omitempty" doc:"Register with the carrier; needs username and a password (given here or stored)."`
	// Checked by the domain, whose message says what each one means.
	Transport string `json:"transport,omitempty" maxLength:"8" doc:"udp (default) or tls: SIP over TLS to address (port 5061 when none is given), the carrier's certificate verified; needs the switch's sip_tls_listen. PUT replaces it: leaving it out means udp."`
	// Needs transport tls: the domain says so (400 on srtp).
	SRTP bool `json:"srtp,omitempty" doc:"Encrypt the audio of calls out through the trunk: offer SRTP (RTP/SAVP, AES_CM_128_HMAC_SHA1_80 with an SDES key) and end a call the carrier answers in plain RTP. Needs transport tls (the keys travel in the SDP). Calls in from the trunk are encrypted whenever the carrier offers SRTP. PUT replaces it: leaving it out means false."`
	// The range is the domain's to check, with a message that says why.
	RegisterExpires int    `json:"registerExpires,omitempty" doc:"Seconds of registration asked of the carrier, 60 to 86400; default 3600."`
	ID              string `json:"id,omitempty" readOnly:"true"`
	SelfURI         string `json:"selfUri,omitempty" readOnly:"true"`
}

func (in TrunkInput) domain() trunk.Input {
	out := trunk.Input{Name: in.Name, Address: in.Address, Username: in.Username, Password: in.Password, ClearPassword: in.ClearPassword,
		DefaultCountry: in.DefaultCountry, CallerID: in.CallerID, Register: in.Register, RegisterExpires: in.RegisterExpires,
		Transport: in.Transport, SRTP: in.SRTP}
	for _, d := range in.DIDs {
		out.DIDs = append(out.DIDs, trunk.DID{Number: d.Number, QueueID: d.QueueID})
	}
	return out
}

const trunksPath = "/api/v2/telephony/sip/trunks"

// trunkOut shapes a trunk; live are the switch's registrations by trunk
// name (nil without the SIP switch).
func trunkOut(t trunk.Trunk, live map[string]TrunkRegistration) Trunk {
	out := Trunk{ID: t.ID, Name: t.Name, Address: t.Address, Transport: t.Transport, SRTP: t.SRTP, Username: t.Username, HasPassword: t.HasPassword,
		DefaultCountry: t.DefaultCountry, CallerID: t.CallerID, DIDs: []TrunkDID{},
		Register: t.Register, RegisterExpires: t.RegisterExpires,
		DateCreated: Time(t.Created), DateModified: Time(t.Modified), SelfURI: trunksPath + "/" + t.ID}
	for _, d := range t.DIDs {
		out.DIDs = append(out.DIDs, TrunkDID{Number: d.Number, QueueID: d.QueueID})
	}
	if r, ok := live[t.Name]; ok && t.Register {
		out.Registration = &r
	}
	return out
}

// registrations are the switch's live registrations, nil without one.
func (s *Server) registrations() map[string]TrunkRegistration {
	if s.Registrations == nil {
		return nil
	}
	return s.Registrations.TrunkRegistrations()
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
			live := s.registrations()
			out := make([]Trunk, len(ts))
			for i, t := range ts {
				out[i] = trunkOut(t, live)
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
			return body(trunkOut(t, s.registrations())), nil
		})
	huma.Register(api, op("postTelephonySipTrunks", http.MethodPost, trunksPath, "Create a SIP trunk", trunksTag, auth.Admin),
		func(ctx context.Context, in *struct{ Body TrunkInput }) (*Body[Trunk], error) {
			t, err := s.Trunks.Create(ctx, in.Body.domain())
			if err != nil {
				return nil, err
			}
			return body(trunkOut(t, s.registrations())), nil
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
			return body(trunkOut(t, s.registrations())), nil
		})
	huma.Register(api, withStatus(op("deleteTelephonySipTrunk", http.MethodDelete, trunksPath+"/{trunkId}", "Delete a SIP trunk", trunksTag, auth.Admin), 204),
		func(ctx context.Context, in *TrunkIDPath) (*struct{}, error) {
			if err := needUUID("trunkId", in.TrunkID); err != nil {
				return nil, err
			}
			return nil, s.Trunks.Delete(ctx, in.TrunkID)
		})
}
