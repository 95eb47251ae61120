package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/problem"
)

// User is the platform's user object. Email, contact info and roles are
// private: only the user and supervisors or admins see them.
type User struct {
	ID                 string        `json:"id"`
	Name               string        `json:"name"`
	Division           *Ref          `json:"division"`
	Email              string        `json:"email,omitempty"`
	Username           string        `json:"username"`
	Department         string        `json:"department,omitempty"`
	Title              string        `json:"title,omitempty"`
	State              string        `json:"state"`
	PrimaryContactInfo []ContactInfo `json:"primaryContactInfo,omitempty"`
	Roles              []string      `json:"roles,omitempty"`
	Version            int           `json:"version"`
	// Expand-only (expand=presence,routingStatus,station).
	Presence      *UserPresence  `json:"presence,omitempty" doc:"With expand=presence: as GET /api/v2/users/{userId}/presences/purecloud."`
	RoutingStatus *RoutingStatus `json:"routingStatus,omitempty" doc:"With expand=routingStatus: as GET /api/v2/users/{userId}/routingstatus."`
	Station       *UserStations  `json:"station,omitempty" doc:"With expand=station (the user, supervisors and admins only): as GET /api/v2/users/{userId}/station."`
	DateCreated   Time           `json:"dateCreated"`
	DateModified  Time           `json:"dateModified"`
	SelfURI       string         `json:"selfUri"`
}

// ContactInfo is one way to reach a user.
type ContactInfo struct {
	Address   string `json:"address"`
	MediaType string `json:"mediaType"`
	Type      string `json:"type"`
}

func userOut(u directory.User, private bool) User {
	out := User{ID: u.ID, Name: u.Name, Division: homeDivision, Username: u.Username, Department: u.Department, Title: u.Title,
		State: u.State, Version: u.Version, DateCreated: Time(u.Created), DateModified: Time(u.Modified), SelfURI: "/api/v2/users/" + u.ID}
	if private {
		out.Email = u.Email
		out.Roles = rolesOf(u.Roles)
		if u.Email != "" {
			out.PrimaryContactInfo = append(out.PrimaryContactInfo, ContactInfo{Address: u.Email, MediaType: "EMAIL", Type: "PRIMARY"})
		}
		if u.Phone != "" {
			out.PrimaryContactInfo = append(out.PrimaryContactInfo, ContactInfo{Address: u.Phone, MediaType: "PHONE", Type: "PRIMARY"})
		}
	}
	return out
}

// userExpand is what a users request asked to expand. Values Centralita
// does not know are ignored: SDKs send many.
type userExpand struct {
	presence, routingStatus, station bool
}

func parseExpand(values []string) userExpand {
	var x userExpand
	for _, v := range ids(values) {
		switch strings.ToLower(v) {
		case "presence":
			x.presence = true
		case "routingstatus":
			x.routingStatus = true
		case "station":
			x.station = true
		}
	}
	return x
}

// expandUser adds the expanded fields to out. Presence and routing status
// are public, as on the platform; the station follows the rule of
// GET /api/v2/users/{userId}/station (the user, supervisors and admins).
func (s *Server) expandUser(ctx context.Context, out *User, x userExpand, private bool) {
	if !x.presence && !x.routingStatus && !x.station {
		return
	}
	v := s.Sessions.Get(out.ID)
	if x.presence {
		p := userPresenceOut(v)
		out.Presence = &p
	}
	if x.routingStatus {
		rs := routingStatusOut(out.ID, v)
		out.RoutingStatus = &rs
	}
	if x.station && private {
		st := s.userStationsOut(ctx, v)
		out.Station = &st
	}
}

// canSeePrivate: a user sees their own private fields; supervisors and
// admins see everyone's; integrations (client credentials) need supervisor.
func canSeePrivate(p auth.Principal, userID string) bool {
	return p.UserID == userID || p.Has(auth.Supervisor)
}

// UserCreate is the body of POST /api/v2/users.
type UserCreate struct {
	Name       string   `json:"name" minLength:"1" maxLength:"200"`
	Username   string   `json:"username,omitempty" maxLength:"200" doc:"Login name; defaults to the email."`
	Email      string   `json:"email,omitempty" maxLength:"200"`
	Department string   `json:"department,omitempty"`
	Title      string   `json:"title,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Password   string   `json:"password,omitempty" doc:"Initial password (stored as an argon2id hash)."`
	Roles      []string `json:"roles,omitempty" doc:"admin, supervisor and/or agent (default agent)."`
	State      string   `json:"state,omitempty" enum:"active,inactive"`
}

// UserPatch is the body of PATCH /api/v2/users/{userId}.
type UserPatch struct {
	Version    int       `json:"version" doc:"The user's current version, as last read."`
	Name       *string   `json:"name,omitempty"`
	Email      *string   `json:"email,omitempty"`
	Department *string   `json:"department,omitempty"`
	Title      *string   `json:"title,omitempty"`
	Phone      *string   `json:"phone,omitempty"`
	State      *string   `json:"state,omitempty"`
	Roles      *[]string `json:"roles,omitempty"`
}

// UserSkill is a skill held by a user.
type UserSkill struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Proficiency float64 `json:"proficiency"`
	State       string  `json:"state"`
	SkillURI    string  `json:"skillUri"`
	SelfURI     string  `json:"selfUri"`
}

// UserIDPath is the {userId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type UserIDPath struct {
	UserID string `path:"userId"`
}

// UserExpandQuery is the expand query parameter of the single-user reads.
type UserExpandQuery struct {
	Expand []string `query:"expand,explode" doc:"presence, routingStatus and/or station (comma-separated or repeated); other values are ignored."`
}

func (s *Server) registerUsers(api huma.API) {
	huma.Register(api, op("getUsers", http.MethodGet, "/api/v2/users", "List users", "Users", auth.Agent),
		func(ctx context.Context, in *struct {
			PageParams
			ID        []string `query:"id,explode" doc:"Only these ids (comma-separated or repeated)."`
			SortOrder string   `query:"sortOrder" enum:"ascending,descending,asc,desc,"`
			State     string   `query:"state" enum:"active,inactive,deleted,any," doc:"Default active."`
			Expand    []string `query:"expand,explode" doc:"presence, routingStatus and/or station (comma-separated or repeated); other values are ignored."`
		}) (*Body[*Listing[User]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			idList := ids(in.ID)
			if err := needUUID("id", idList...); err != nil {
				return nil, err
			}
			us, total, err := s.Directory.ListUsers(ctx, directory.UserFilter{IDs: idList, State: in.State,
				Descending: in.SortOrder == "descending" || in.SortOrder == "desc"}, pg)
			if err != nil {
				return nil, err
			}
			p := principal(ctx)
			x := parseExpand(in.Expand)
			out := make([]User, len(us))
			for i, u := range us {
				private := canSeePrivate(p, u.ID)
				out[i] = userOut(u, private)
				s.expandUser(ctx, &out[i], x, private)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})

	huma.Register(api, op("getUsersMe", http.MethodGet, "/api/v2/users/me", "The signed-in user", "Users", ""),
		func(ctx context.Context, in *UserExpandQuery) (*Body[User], error) {
			p := principal(ctx)
			if !p.IsUser() {
				return nil, problem.Invalidf("", "/api/v2/users/me needs a person's token; a client-credentials token acts for an application")
			}
			u, err := s.Directory.GetUser(ctx, p.UserID)
			if err != nil {
				return nil, err
			}
			out := userOut(u, true)
			s.expandUser(ctx, &out, parseExpand(in.Expand), true)
			return body(out), nil
		})

	huma.Register(api, op("getUser", http.MethodGet, "/api/v2/users/{userId}", "Get a user", "Users", auth.Agent),
		func(ctx context.Context, in *struct {
			UserIDPath
			UserExpandQuery
		}) (*Body[User], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			u, err := s.Directory.GetUser(ctx, in.UserID)
			if err != nil {
				return nil, err
			}
			private := canSeePrivate(principal(ctx), u.ID)
			out := userOut(u, private)
			s.expandUser(ctx, &out, parseExpand(in.Expand), private)
			return body(out), nil
		})

	huma.Register(api, op("postUsers", http.MethodPost, "/api/v2/users", "Create a user", "Users", auth.Admin),
		func(ctx context.Context, in *struct{ Body UserCreate }) (*Body[User], error) {
			b := in.Body
			if b.Username == "" {
				b.Username = b.Email
			}
			u, err := s.Directory.CreateUser(ctx, directory.UserInput{Username: b.Username, Name: b.Name, Email: b.Email,
				Department: b.Department, Title: b.Title, Phone: b.Phone, Roles: b.Roles, Password: b.Password, State: b.State})
			if err != nil {
				return nil, err
			}
			return body(userOut(u, true)), nil
		})

	huma.Register(api, op("patchUser", http.MethodPatch, "/api/v2/users/{userId}", "Update a user", "Users", auth.Admin),
		func(ctx context.Context, in *struct {
			UserIDPath
			Body UserPatch
		}) (*Body[User], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			b := in.Body
			u, err := s.Directory.PatchUser(ctx, in.UserID, directory.UserPatch{Name: b.Name, Email: b.Email, Department: b.Department,
				Title: b.Title, Phone: b.Phone, State: b.State, Roles: b.Roles, Version: b.Version})
			if err != nil {
				return nil, err
			}
			return body(userOut(u, true)), nil
		})

	huma.Register(api, op("deleteUser", http.MethodDelete, "/api/v2/users/{userId}", "Delete a user", "Users", auth.Admin),
		func(ctx context.Context, in *UserIDPath) (*Body[map[string]any], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			if p := principal(ctx); p.UserID == in.UserID {
				return nil, problem.Forbiddenf("you cannot delete yourself")
			}
			return body(map[string]any{}), s.Directory.DeleteUser(ctx, in.UserID)
		})

	huma.Register(api, withStatus(op("postUserPassword", http.MethodPost, "/api/v2/users/{userId}/password", "Set a user's password", "Users", auth.Admin), 204),
		func(ctx context.Context, in *struct {
			UserIDPath
			Body struct {
				NewPassword string `json:"newPassword" minLength:"4" maxLength:"256" doc:"4 to 256 characters."`
			}
		}) (*struct{}, error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			return nil, s.Directory.SetPassword(ctx, in.UserID, in.Body.NewPassword)
		})

	huma.Register(api, withStatus(op("postUsersMePassword", http.MethodPost, "/api/v2/users/me/password", "Change your own password", "Users", ""), 204),
		func(ctx context.Context, in *struct {
			Body struct {
				OldPassword string `json:"oldPassword" minLength:"1"`
				NewPassword string `json:"newPassword" minLength:"4" maxLength:"256" doc:"4 to 256 characters."`
			}
		}) (*struct{}, error) {
			p := principal(ctx)
			if !p.IsUser() {
				return nil, problem.Invalidf("", "needs a person's token")
			}
			u, err := s.Directory.GetUser(ctx, p.UserID)
			if err != nil {
				return nil, err
			}
			if _, _, err := s.Directory.VerifyPassword(ctx, u.Username, in.Body.OldPassword); err != nil {
				return nil, problem.Invalidf("oldPassword", "does not match your current password")
			}
			return nil, s.Directory.SetPassword(ctx, p.UserID, in.Body.NewPassword)
		})

	huma.Register(api, op("getUserRoutingskills", http.MethodGet, "/api/v2/users/{userId}/routingskills", "List a user's skills", "Users", auth.Agent),
		func(ctx context.Context, in *struct {
			UserIDPath
			PageParams
		}) (*Body[*Listing[UserSkill]], error) {
			if err := s.ownOrSupervisor(ctx, in.UserID); err != nil {
				return nil, err
			}
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			sks, err := s.Directory.UserSkills(ctx, in.UserID)
			if err != nil {
				return nil, err
			}
			var out []UserSkill
			for i, sk := range sks {
				if i >= pg.Offset && len(out) < pg.Limit {
					out = append(out, userSkillOut(in.UserID, sk))
				}
			}
			return body(listing(ctx, out, len(sks), size, num)), nil
		})

	huma.Register(api, op("postUserRoutingskills", http.MethodPost, "/api/v2/users/{userId}/routingskills", "Give a user a skill", "Users", auth.Admin),
		func(ctx context.Context, in *struct {
			UserIDPath
			Body struct {
				ID          string  `json:"id"`
				Proficiency float64 `json:"proficiency" minimum:"0" maximum:"5"`
			}
		}) (*Body[UserSkill], error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			if err := needUUID("id", in.Body.ID); err != nil {
				return nil, err
			}
			sk, err := s.Directory.SetUserSkill(ctx, in.UserID, in.Body.ID, in.Body.Proficiency)
			if err != nil {
				return nil, err
			}
			return body(userSkillOut(in.UserID, sk)), nil
		})

	huma.Register(api, withStatus(op("deleteUserRoutingskill", http.MethodDelete, "/api/v2/users/{userId}/routingskills/{skillId}", "Take a skill from a user", "Users", auth.Admin), 204),
		func(ctx context.Context, in *struct {
			UserIDPath
			SkillID string `path:"skillId"`
		}) (*struct{}, error) {
			if err := needUUID("userId", in.UserID); err != nil {
				return nil, err
			}
			if err := needUUID("skillId", in.SkillID); err != nil {
				return nil, err
			}
			return nil, s.Directory.RemoveUserSkill(ctx, in.UserID, in.SkillID)
		})

	huma.Register(api, op("getUserQueues", http.MethodGet, "/api/v2/users/{userId}/queues", "List a user's queues", "Users", auth.Agent),
		func(ctx context.Context, in *struct {
			UserIDPath
			PageParams
		}) (*Body[*Listing[Queue]], error) {
			if err := s.ownOrSupervisor(ctx, in.UserID); err != nil {
				return nil, err
			}
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			qs, total, err := s.Directory.UserQueues(ctx, in.UserID, pg)
			if err != nil {
				return nil, err
			}
			out := make([]Queue, len(qs))
			for i, q := range qs {
				out[i] = queueOut(q)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
}

func (s *Server) ownOrSupervisor(ctx context.Context, userID string) error {
	if err := needUUID("userId", userID); err != nil {
		return err
	}
	if !canSeePrivate(principal(ctx), userID) {
		return problem.Forbiddenf("only the user, a supervisor or an admin may read this")
	}
	return nil
}

func userSkillOut(userID string, sk directory.UserSkill) UserSkill {
	return UserSkill{ID: sk.ID, Name: sk.Name, Proficiency: sk.Proficiency, State: sk.State,
		SkillURI: "/api/v2/routing/skills/" + sk.ID, SelfURI: "/api/v2/users/" + userID + "/routingskills/" + sk.ID}
}
