package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
)

// TokenInfo describes the caller's token.
type TokenInfo struct {
	Organization     *Ref     `json:"organization"`
	HomeOrganization *Ref     `json:"homeOrganization"`
	OAuthClient      *Ref     `json:"OAuthClient"`
	User             *Ref     `json:"user,omitempty"`
	Roles            []string `json:"roles"`
}

// Role is an authorization role.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SelfURI     string `json:"selfUri"`
}

var roleInfo = []Role{
	{ID: "agent", Name: "agent", Description: "Takes calls and messages; reads the directory; manages only their own presence and sessions."},
	{ID: "supervisor", Name: "supervisor", Description: "Everything an agent can, plus monitoring, queue membership and other agents' details."},
	{ID: "admin", Name: "admin", Description: "Everything, including users, stations, queues, codes, presences and OAuth clients."},
}

var organization = &Ref{ID: "00000000-0000-4000-8000-000000000000", Name: "Centralita"}

func rolesOf(rs []auth.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func (s *Server) registerTokens(api huma.API) {
	huma.Register(api, op("getTokensMe", http.MethodGet, "/api/v2/tokens/me", "Describe the caller's token", "Tokens", ""),
		func(ctx context.Context, _ *struct{}) (*Body[TokenInfo], error) {
			p := principal(ctx)
			ti := TokenInfo{Organization: organization, HomeOrganization: organization,
				OAuthClient: &Ref{ID: p.ClientID, SelfURI: "/api/v2/oauth/clients/" + p.ClientID}, Roles: rolesOf(p.Roles)}
			if c, err := s.Auth.GetClient(ctx, p.ClientID); err == nil {
				ti.OAuthClient.Name = c.Name
			}
			if p.IsUser() {
				ti.User = &Ref{ID: p.UserID, SelfURI: "/api/v2/users/" + p.UserID}
				if u, err := s.Directory.GetUser(ctx, p.UserID); err == nil {
					ti.User.Name = u.Name
				}
			}
			return body(ti), nil
		})
	huma.Register(api, withStatus(op("deleteTokensMe", http.MethodDelete, "/api/v2/tokens/me", "Revoke the caller's session (log out)", "Tokens", ""), 204),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, s.Auth.Revoke(ctx, principal(ctx))
		})
	huma.Register(api, op("getAuthorizationRoles", http.MethodGet, "/api/v2/authorization/roles", "List roles", "Authorization", auth.Agent),
		func(ctx context.Context, in *struct{ PageParams }) (*Body[*Listing[Role]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			var items []Role
			for i, r := range roleInfo {
				if i >= pg.Offset && len(items) < pg.Limit {
					r.SelfURI = "/api/v2/authorization/roles/" + r.ID
					items = append(items, r)
				}
			}
			return body(listing(ctx, items, len(roleInfo), size, num)), nil
		})
}

func withStatus(o huma.Operation, status int) huma.Operation {
	o.DefaultStatus = status
	return o
}
