package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/password"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Grant types, spelled as the platform API spells authorizedGrantType.
const (
	GrantClientCredentials = "CLIENT-CREDENTIALS"
	GrantCode              = "CODE"
)

// Token lifetime bounds per client (platform API: 5 minutes to 48 hours).
const (
	MinTokenLifetime     = 300
	MaxTokenLifetime     = 172800
	DefaultTokenLifetime = 86400
)

// WebClientID is the built-in public client of the web UI and softphone.
const WebClientID = "centralita-web"

// Client is an OAuth client.
type Client struct {
	ID                   string
	Name                 string
	Description          string
	GrantType            string
	RedirectURIs         []string
	Roles                []Role
	TokenLifetimeSeconds int
	State                string
	Builtin              bool
	Created, Modified    time.Time
	secretHash           string
}

// AllowsRedirect reports whether uri is registered. A registered path (no
// scheme) allows that path on the origin the browser used.
func (c Client) AllowsRedirect(uri, origin string) bool {
	for _, r := range c.RedirectURIs {
		if strings.HasPrefix(r, "/") {
			if p, ok := sameOriginPath(uri, origin); ok && p == r {
				return true
			}
		} else if r == uri {
			return true
		}
	}
	return false
}

// ClientInput creates or replaces a client. ID and Secret are optional: the
// admin command and the demo set them; the API lets the server choose.
type ClientInput struct {
	ID                   string
	Name                 string
	Description          string
	GrantType            string
	RedirectURIs         []string
	Roles                []string
	TokenLifetimeSeconds int
	State                string
	Secret               string
}

func (in *ClientInput) validate(creating bool) ([]Role, error) {
	var c problem.Collector
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		c.Add("name", "is required")
	} else if len(in.Name) > 200 {
		c.Add("name", "must be at most 200 characters")
	}
	if in.GrantType == "" {
		in.GrantType = GrantClientCredentials
	}
	if in.GrantType != GrantClientCredentials && in.GrantType != GrantCode {
		c.Add("authorizedGrantType", "must be CLIENT-CREDENTIALS or CODE, got %q", in.GrantType)
	}
	if in.TokenLifetimeSeconds == 0 {
		in.TokenLifetimeSeconds = DefaultTokenLifetime
	}
	if in.TokenLifetimeSeconds < MinTokenLifetime || in.TokenLifetimeSeconds > MaxTokenLifetime {
		c.Add("accessTokenValiditySeconds", "must be between %d and %d seconds, got %d", MinTokenLifetime, MaxTokenLifetime, in.TokenLifetimeSeconds)
	}
	if in.State == "" {
		in.State = "active"
	}
	if in.State != "active" && in.State != "inactive" {
		c.Add("state", "must be active or inactive, got %q", in.State)
	}
	roles, err := ParseRoles(in.Roles)
	if err != nil {
		c.Add("roles", "%v", err)
	}
	if in.GrantType == GrantClientCredentials && len(roles) == 0 && err == nil {
		c.Add("roles", "a client-credentials client needs at least one role (admin, supervisor or agent)")
	}
	if in.GrantType == GrantCode && len(in.RedirectURIs) == 0 {
		c.Add("registeredRedirectUri", "a CODE client needs at least one redirect URI")
	}
	for i, u := range in.RedirectURIs {
		if !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			c.Add(fmt.Sprintf("registeredRedirectUri[%d]", i), "must be an absolute http(s) URL or a path starting with /")
		}
	}
	if creating && in.ID != "" && (len(in.ID) > 100 || strings.ContainsAny(in.ID, " :/?#")) {
		c.Add("id", "must be at most 100 characters without spaces, ':', '/', '?' or '#'")
	}
	if in.Secret != "" && len(in.Secret) < 8 {
		c.Add("secret", "must be at least 8 characters")
	}
	return roles, c.Err()
}

// CreateClient stores a new client. For client-credentials clients it
// returns the secret, which is shown this once and stored only hashed.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (Client, string, error) {
	roles, err := in.validate(true)
	if err != nil {
		return Client{}, "", err
	}
	id := in.ID
	if id == "" {
		id = uuid.NewString()
	}
	secret, secretHash := in.Secret, ""
	if in.GrantType == GrantClientCredentials {
		if secret == "" {
			b := make([]byte, 32)
			rand.Read(b)
			secret = base64.RawURLEncoding.EncodeToString(b)
		}
		if secretHash, err = password.Hash(secret); err != nil {
			return Client{}, "", err
		}
	} else {
		secret = ""
	}
	now := s.clock.Now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO oauth_clients (id, name, description, secret_hash, grant_type, redirect_uris, roles, token_lifetime_s, state, created_at, modified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		id, in.Name, in.Description, secretHash, in.GrantType, strings.Join(in.RedirectURIs, " "), JoinRoles(roles),
		in.TokenLifetimeSeconds, in.State, store.Millis(now))
	if store.IsUniqueViolation(err) {
		return Client{}, "", problem.Duplicatef("name", "an OAuth client with this name or id already exists")
	}
	if err != nil {
		return Client{}, "", err
	}
	c, err := s.GetClient(ctx, id)
	return c, secret, err
}

// UpdateClient replaces a client's settings (not its secret).
func (s *Service) UpdateClient(ctx context.Context, id string, in ClientInput) (Client, error) {
	old, err := s.GetClient(ctx, id)
	if err != nil {
		return Client{}, err
	}
	if old.Builtin {
		return Client{}, problem.Forbiddenf("the built-in client %q cannot be changed", id)
	}
	roles, err := in.validate(false)
	if err != nil {
		return Client{}, err
	}
	if in.GrantType != old.GrantType {
		return Client{}, problem.Invalidf("authorizedGrantType", "cannot change from %s to %s; create a new client", old.GrantType, in.GrantType)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE oauth_clients SET name = $1, description = $2, redirect_uris = $3, roles = $4, token_lifetime_s = $5, state = $6, modified_at = $7 WHERE id = $8`,
		in.Name, in.Description, strings.Join(in.RedirectURIs, " "), JoinRoles(roles), in.TokenLifetimeSeconds, in.State, store.Millis(s.clock.Now()), id)
	if store.IsUniqueViolation(err) {
		return Client{}, problem.Duplicatef("name", "an OAuth client with this name already exists")
	}
	if err != nil {
		return Client{}, err
	}
	if in.State != "active" {
		// A deactivated client's sessions end, people's included, and its
		// pending codes can no longer be exchanged.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE client_id = $1`, id); err != nil {
			return Client{}, err
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_codes WHERE client_id = $1`, id); err != nil {
			return Client{}, err
		}
	} else if !slices.Equal(roles, old.Roles) {
		// Tokens carry the roles they were issued with; drop them so the change holds now.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE client_id = $1 AND user_id IS NULL`, id); err != nil {
			return Client{}, err
		}
	}
	return s.GetClient(ctx, id)
}

// DeleteClient removes a client and every token it issued.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	c, err := s.GetClient(ctx, id)
	if err != nil {
		return err
	}
	if c.Builtin {
		return problem.Forbiddenf("the built-in client %q cannot be deleted", id)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE client_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_codes WHERE client_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM oauth_clients WHERE id = $1`, id)
		return err
	})
}

const clientColumns = `id, name, description, secret_hash, grant_type, redirect_uris, roles, token_lifetime_s, state, builtin, created_at, modified_at`

func scanClient(row interface{ Scan(...any) error }) (Client, error) {
	var c Client
	var uris, roles string
	var created, modified int64
	err := row.Scan(&c.ID, &c.Name, &c.Description, &c.secretHash, &c.GrantType, &uris, &roles, &c.TokenLifetimeSeconds, &c.State, &c.Builtin, &created, &modified)
	c.RedirectURIs = strings.Fields(uris)
	c.Roles = SplitRoles(roles)
	c.Created, c.Modified = store.Time(created), store.Time(modified)
	return c, err
}

// GetClient returns one client.
func (s *Service) GetClient(ctx context.Context, id string) (Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, problem.NotFoundf("OAuth client %q not found", id)
	}
	return c, err
}

// ListClients returns a page of clients ordered by name, and the total.
func (s *Service) ListClients(ctx context.Context, limit, offset int) ([]Client, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_clients`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients ORDER BY name, id LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// EnsureWebClient creates the built-in public client of the web UI if missing.
func (s *Service) EnsureWebClient(ctx context.Context) error {
	now := store.Millis(s.clock.Now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_clients (id, name, description, grant_type, redirect_uris, roles, token_lifetime_s, state, builtin, created_at, modified_at)
		VALUES ($1, $2, $3, $4, $5, '', 3600, 'active', TRUE, $6, $6) ON CONFLICT (id) DO NOTHING`,
		WebClientID, "Centralita web", "Built-in public client of the web console and softphone (authorization code + PKCE).",
		GrantCode, "/ui/ /softphone/ /softphone", now)
	return err
}
