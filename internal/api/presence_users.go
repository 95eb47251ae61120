package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/session"
)

// UserPresence is a user's current presence (PURECLOUD source).
type UserPresence struct {
	Source             string                 `json:"source"`
	Primary            bool                   `json:"primary"`
	PresenceDefinition UserPresenceDefinition `json:"presenceDefinition"`
	Message            string                 `json:"message"`
	ModifiedDate       Time                   `json:"modifiedDate"`
	SelfURI            string                 `json:"selfUri"`
}

// UserPresenceDefinition names the presence inside UserPresence.
type UserPresenceDefinition struct {
	ID             string `json:"id"`
	SystemPresence string `json:"systemPresence" doc:"As in REST bodies: Available, On Queue, Break, ..."`
	Name           string `json:"name,omitempty" doc:"Centralita extension: the label, e.g. \"1 - Descanso\"."`
	BreakNumber    int    `json:"breakNumber,omitempty" doc:"Centralita extension: the break state's number."`
	SelfURI        string `json:"selfUri"`
}

func userPresenceOut(v session.View) UserPresence {
	return UserPresence{Source: "PURECLOUD", Primary: true, Message: v.Presence.Message, ModifiedDate: Time(v.Presence.Modified),
		PresenceDefinition: UserPresenceDefinition{ID: v.Presence.DefinitionID, SystemPresence: v.Presence.SystemPresence,
			Name: v.Presence.Label, BreakNumber: v.Presence.BreakNumber, SelfURI: "/api/v2/presencedefinitions/" + v.Presence.DefinitionID},
		SelfURI: "/api/v2/users/" + v.UserID + "/presences/purecloud"}
}

// BulkUserPresence is one entry of the bulk presence answer: the user's
// presence, as GET .../presences/purecloud returns it, and whose it is.
type BulkUserPresence struct {
	UserID string `json:"userId"`
	UserPresence
}

// MaxBulkPresenceIDs bounds the ids of one bulk presence request.
const MaxBulkPresenceIDs = 100

// RoutingStatus is a user's derived routing status.
type RoutingStatus struct {
	UserID    string `json:"userId"`
	Status    string `json:"status" enum:"OFF_QUEUE,IDLE,INTERACTING,NOT_RESPONDING,COMMUNICATING"`
	StartTime Time   `json:"startTime"`
}

func routingStatusOut(userID string, v session.View) RoutingStatus {
	return RoutingStatus{UserID: userID, Status: string(v.Status), StartTime: Time(v.StatusStart)}
}

// UserStation is a station as seen from its user.
type UserStation struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	AssociatedUser *Ref   `json:"associatedUser"`
	AssociatedDate Time   `json:"associatedDate"`
	SelfURI        string `json:"selfUri"`
}

// UserStations says which station a user is logged into.
type UserStations struct {
	AssociatedStation *UserStation `json:"associatedStation,omitempty"`
	EffectiveStation  *UserStation `json:"effectiveStation,omitempty"`
}

func (s *Server) userStationsOut(ctx context.Context, v session.View) UserStations {
	if v.StationID == "" {
		return UserStations{}
	}
	typ := ""
	if st, err := s.Directory.GetStation(ctx, v.StationID); err == nil {
		typ = st.Type
	}
	us := &UserStation{ID: v.StationID, Name: v.StationName, Type: typ, AssociatedDate: Time(v.StationSince),
		AssociatedUser: &Ref{ID: v.UserID, SelfURI: "/api/v2/users/" + v.UserID}, SelfURI: "/api/v2/stations/" + v.StationID}
	return UserStations{AssociatedStation: us, EffectiveStation: us}
}

// StationLogin is the body of a station login.
type StationLogin struct {
	StationName string `json:"stationName,omitempty" doc:"The station (device) name, e.g. 1001. Give this or stationId."`
	StationID   string `json:"stationId,omitempty"`
	Password    string `json:"password,omitempty" doc:"The station's (device's) password."`
}

// PresencePatch is the body of PATCH .../presences/purecloud.
type PresencePatch struct {
	PresenceDefinition *struct {
		ID string `json:"id"`
	} `json:"presenceDefinition,omitempty" doc:"The presence to move into: a system presence by its well-known id or a break state by its id."`
	Message *string `json:"message,omitempty"`
	Primary *bool   `json:"primary,omitempty" doc:"Accepted for compatibility; PURECLOUD is always the primary source."`
}

// BreakRequest picks a break state by number.
type BreakRequest struct {
	BreakNumber int     `json:"breakNumber" minimum:"1" maximum:"99" doc:"The break state's number, e.g. 1 for \"1 - Descanso\"."`
	Message     *string `json:"message,omitempty"`
}

func (s *Server) registerUserPresence(api huma.API) {
	const tag = "Presence"
	own := func(ctx context.Context, userID string) error {
		if err := s.ownOrSupervisor(ctx, userID); err != nil {
			return err
		}
		_, err := s.Directory.GetUser(ctx, userID)
		return err
	}

	huma.Register(api, op("getUserStation", http.MethodGet, "/api/v2/users/{userId}/station", "The station a user is logged into", "Stations", auth.Agent),
		func(ctx context.Context, in *UserIDPath) (*Body[UserStations], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			return body(s.userStationsOut(ctx, s.Sessions.Get(in.UserID))), nil
		})
	login := op("postUserStation", http.MethodPost, "/api/v2/users/{userId}/station", "Log into a station (device)", "Stations", auth.Agent)
	login.Description = "Ties the user to a station after checking the station's password: calls for the user ring there. " +
		"A station serves one agent at a time (409 station.in.use); unknown station: 400 station.unknown; wrong password: 400 station.bad.password. " +
		"Logging into another station leaves the previous one. The user themselves, or a supervisor, may do it."
	huma.Register(api, login,
		func(ctx context.Context, in *struct {
			UserIDPath
			Body StationLogin
		}) (*Body[UserStations], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			v, err := s.Sessions.Login(ctx, in.UserID, session.StationRef{ID: in.Body.StationID, Name: in.Body.StationName}, in.Body.Password)
			if err != nil {
				return nil, err
			}
			return body(s.userStationsOut(ctx, v)), nil
		})
	logout := func(ctx context.Context, in *UserIDPath) (*struct{}, error) {
		if err := own(ctx, in.UserID); err != nil {
			return nil, err
		}
		_, err := s.Sessions.Logout(ctx, in.UserID)
		return nil, err
	}
	huma.Register(api, withStatus(op("deleteUserStation", http.MethodDelete, "/api/v2/users/{userId}/station", "Log out of the station", "Stations", auth.Agent), 204), logout)
	huma.Register(api, withStatus(op("deleteUserStationAssociatedstation", http.MethodDelete, "/api/v2/users/{userId}/station/associatedstation",
		"Log out of the station (platform path)", "Stations", auth.Agent), 204), logout)

	huma.Register(api, op("getUserPresencesPurecloud", http.MethodGet, "/api/v2/users/{userId}/presences/purecloud", "A user's presence", tag, auth.Agent),
		func(ctx context.Context, in *UserIDPath) (*Body[UserPresence], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			if _, err := s.Directory.GetUser(ctx, in.UserID); err != nil {
				return nil, err
			}
			return body(userPresenceOut(s.Sessions.Get(in.UserID))), nil
		})
	bulk := op("getUsersPresencesPurecloudBulk", http.MethodGet, "/api/v2/users/presences/purecloud/bulk", "Several users' presences", tag, auth.Agent)
	bulk.Description = "The presences of up to 100 users, in the order asked (repeated ids once). Ids of users that do not exist are skipped. " +
		"Requires the agent role or higher."
	huma.Register(api, bulk,
		func(ctx context.Context, in *struct {
			ID []string `query:"id,explode" doc:"User ids, comma-separated or repeated (1 to 100)."`
		}) (*Body[[]BulkUserPresence], error) {
			var want []string
			seen := map[string]bool{}
			for _, id := range ids(in.ID) {
				if !seen[id] {
					seen[id] = true
					want = append(want, id)
				}
			}
			if len(want) == 0 {
				return nil, problem.Invalidf("id", "give at least one user id")
			}
			if len(want) > MaxBulkPresenceIDs {
				return nil, problem.Invalidf("id", "at most %d ids, got %d", MaxBulkPresenceIDs, len(want))
			}
			if err := needUUID("id", want...); err != nil {
				return nil, err
			}
			us, _, err := s.Directory.ListUsers(ctx, directory.UserFilter{IDs: want, State: "any"}, directory.Page{Limit: len(want)})
			if err != nil {
				return nil, err
			}
			known := make(map[string]bool, len(us))
			for _, u := range us {
				known[u.ID] = true
			}
			out := []BulkUserPresence{}
			for _, id := range want {
				if known[id] {
					out = append(out, BulkUserPresence{UserID: id, UserPresence: userPresenceOut(s.Sessions.Get(id))})
				}
			}
			return body(out), nil
		})
	patch := op("patchUserPresencesPurecloud", http.MethodPatch, "/api/v2/users/{userId}/presences/purecloud", "Change a user's presence", tag, auth.Agent)
	patch.Description = "Moves the user into a presence at once: a system presence by its well-known id (On Queue: e08eaf1b-ee47-4fa9-a231-1200e284798f, " +
		"Available: 6a3af858-942f-489d-9700-5f9bcdcdae9b, Break: 227b37e2-f1d0-4dd0-8f50-badd7cf6d158, ...) or a custom break state by its id. " +
		"On Queue needs a station login (409 station.required). The routing status follows."
	huma.Register(api, patch,
		func(ctx context.Context, in *struct {
			UserIDPath
			Body PresencePatch
		}) (*Body[UserPresence], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			id := ""
			if in.Body.PresenceDefinition != nil {
				id = in.Body.PresenceDefinition.ID
				if id == "" {
					return nil, newError(400, "bad.request", "presenceDefinition.id is required")
				}
			}
			v, err := s.Sessions.SetPresence(ctx, in.UserID, id, in.Body.Message)
			if err != nil {
				return nil, err
			}
			return body(userPresenceOut(v)), nil
		})
	brk := op("postUserPresencesPurecloudBreak", http.MethodPost, "/api/v2/users/{userId}/presences/purecloud/break", "Go on a break state by its number", tag, auth.Agent)
	brk.Description = "Centralita extension: moves the user into the custom break state with that number (400 break.unknown lists the known ones)."
	huma.Register(api, brk,
		func(ctx context.Context, in *struct {
			UserIDPath
			Body BreakRequest
		}) (*Body[UserPresence], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			v, err := s.Sessions.SetBreak(ctx, in.UserID, in.Body.BreakNumber, in.Body.Message)
			if err != nil {
				return nil, err
			}
			return body(userPresenceOut(v)), nil
		})
	pause := op("postUserPresencesPurecloudPause", http.MethodPost, "/api/v2/users/{userId}/presences/purecloud/pause", "Pause (go on Break)", tag, auth.Agent)
	pause.Description = "Centralita extension: the quick way into a break (the system Break presence)."
	huma.Register(api, pause,
		func(ctx context.Context, in *UserIDPath) (*Body[UserPresence], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			v, err := s.Sessions.Pause(ctx, in.UserID)
			if err != nil {
				return nil, err
			}
			return body(userPresenceOut(v)), nil
		})
	unpause := op("postUserPresencesPurecloudUnpause", http.MethodPost, "/api/v2/users/{userId}/presences/purecloud/unpause", "Unpause (back On Queue)", tag, auth.Agent)
	unpause.Description = "Centralita extension: the quick way back On Queue (needs a station login)."
	huma.Register(api, unpause,
		func(ctx context.Context, in *UserIDPath) (*Body[UserPresence], error) {
			if err := own(ctx, in.UserID); err != nil {
				return nil, err
			}
			v, err := s.Sessions.Unpause(ctx, in.UserID)
			if err != nil {
				return nil, err
			}
			return body(userPresenceOut(v)), nil
		})
	rs := op("getUserRoutingstatus", http.MethodGet, "/api/v2/users/{userId}/routingstatus", "A user's routing status", tag, auth.Agent)
	rs.Description = "Derived, never set by hand: OFF_QUEUE unless logged into a station and On Queue; then NOT_RESPONDING after a missed offer, " +
		"INTERACTING with an ACD offer, call or wrap-up, COMMUNICATING on another call, IDLE otherwise. OFF_QUEUE for an unknown user."
	huma.Register(api, rs,
		func(ctx context.Context, in *UserIDPath) (*Body[RoutingStatus], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			return body(routingStatusOut(in.UserID, s.Sessions.Get(in.UserID))), nil
		})
}
