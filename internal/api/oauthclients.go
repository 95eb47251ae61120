package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/centralita/centralita/internal/auth"
)

// OAuthClient is the platform's OAuth client object. The secret appears only
// in the answer to its creation.
type OAuthClient struct {
	ID                         string   `json:"id"`
	Name                       string   `json:"name"`
	Description                string   `json:"description,omitempty"`
	AccessTokenValiditySeconds int      `json:"accessTokenValiditySeconds"`
	AuthorizedGrantType        string   `json:"authorizedGrantType" enum:"CLIENT-CREDENTIALS,CODE"`
	RegisteredRedirectURI      []string `json:"registeredRedirectUri"`
	Roles                      []string `json:"roles" doc:"Roles carried by client-credentials tokens."`
	Secret                     string   `json:"secret,omitempty"`
	State                      string   `json:"state"`
	Builtin                    bool     `json:"builtin,omitempty"`
	DateCreated                Time     `json:"dateCreated"`
	DateModified               Time     `json:"dateModified"`
	SelfURI                    string   `json:"selfUri"`
}

// OAuthClientInput creates or replaces a client.
type OAuthClientInput struct {
	Name                       string   `json:"name" minLength:"1" maxLength:"200"`
	Description                string   `json:"description,omitempty" maxLength:"1000"`
	AccessTokenValiditySeconds int      `json:"accessTokenValiditySeconds,omitempty" doc:"300 to 172800; default 86400."`
	AuthorizedGrantType        string   `json:"authorizedGrantType,omitempty" enum:"CLIENT-CREDENTIALS,CODE,"`
	RegisteredRedirectURI      []string `json:"registeredRedirectUri,omitempty"`
	Roles                      []string `json:"roles,omitempty"`
	RoleIDs                    []string `json:"roleIds,omitempty" doc:"Same as roles (role ids are the role names)."`
	State                      string   `json:"state,omitempty" enum:"active,inactive,"`
	ID                         string   `json:"id,omitempty" readOnly:"true"`
	SelfURI                    string   `json:"selfUri,omitempty" readOnly:"true"`
}

func (in OAuthClientInput) input() auth.ClientInput {
	roles := in.Roles
	if len(roles) == 0 {
		roles = in.RoleIDs
	}
	return auth.ClientInput{Name: in.Name, Description: in.Description, GrantType: in.AuthorizedGrantType,
		RedirectURIs: in.RegisteredRedirectURI, Roles: roles, TokenLifetimeSeconds: in.AccessTokenValiditySeconds, State: in.State}
}

func clientOut(c auth.Client) OAuthClient {
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	return OAuthClient{ID: c.ID, Name: c.Name, Description: c.Description, AccessTokenValiditySeconds: c.TokenLifetimeSeconds,
		AuthorizedGrantType: c.GrantType, RegisteredRedirectURI: uris, Roles: rolesOf(c.Roles), State: c.State, Builtin: c.Builtin,
		DateCreated: Time(c.Created), DateModified: Time(c.Modified), SelfURI: "/api/v2/oauth/clients/" + c.ID}
}

// ClientIDPath is the {clientId} path parameter. Path types are exported because huma
// ignores embedded fields of unexported types (the id would stay empty).
type ClientIDPath struct {
	ClientID string `path:"clientId" maxLength:"100"`
}

func (s *Server) registerOAuthClients(api huma.API) {
	huma.Register(api, op("getOauthClients", http.MethodGet, "/api/v2/oauth/clients", "List OAuth clients", "OAuth", auth.Admin),
		func(ctx context.Context, in *struct{ PageParams }) (*Body[*Listing[OAuthClient]], error) {
			pg, size, num, err := in.page(500)
			if err != nil {
				return nil, err
			}
			cs, total, err := s.Auth.ListClients(ctx, pg.Limit, pg.Offset)
			if err != nil {
				return nil, err
			}
			out := make([]OAuthClient, len(cs))
			for i, c := range cs {
				out[i] = clientOut(c)
			}
			return body(listing(ctx, out, total, size, num)), nil
		})
	huma.Register(api, op("getOauthClient", http.MethodGet, "/api/v2/oauth/clients/{clientId}", "Get an OAuth client", "OAuth", auth.Admin),
		func(ctx context.Context, in *ClientIDPath) (*Body[OAuthClient], error) {
			c, err := s.Auth.GetClient(ctx, in.ClientID)
			if err != nil {
				return nil, err
			}
			return body(clientOut(c)), nil
		})
	huma.Register(api, op("postOauthClients", http.MethodPost, "/api/v2/oauth/clients", "Create an OAuth client (the answer carries its secret, once)", "OAuth", auth.Admin),
		func(ctx context.Context, in *struct{ Body OAuthClientInput }) (*Body[OAuthClient], error) {
			c, secret, err := s.Auth.CreateClient(ctx, in.Body.input())
			if err != nil {
				return nil, err
			}
			out := clientOut(c)
			out.Secret = secret
			return body(out), nil
		})
	huma.Register(api, op("putOauthClient", http.MethodPut, "/api/v2/oauth/clients/{clientId}", "Replace an OAuth client's settings", "OAuth", auth.Admin),
		func(ctx context.Context, in *struct {
			ClientIDPath
			Body OAuthClientInput
		}) (*Body[OAuthClient], error) {
			c, err := s.Auth.UpdateClient(ctx, in.ClientID, in.Body.input())
			if err != nil {
				return nil, err
			}
			return body(clientOut(c)), nil
		})
	huma.Register(api, withStatus(op("deleteOauthClient", http.MethodDelete, "/api/v2/oauth/clients/{clientId}", "Delete an OAuth client and its tokens", "OAuth", auth.Admin), 204),
		func(ctx context.Context, in *ClientIDPath) (*struct{}, error) {
			return nil, s.Auth.DeleteClient(ctx, in.ClientID)
		})
}
