package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/password"
	"github.com/centralita/centralita/internal/store"
)

// Errors of the token endpoint, named after RFC 6749 §5.2.
var (
	ErrInvalidClient  = errors.New("invalid_client")
	ErrInvalidGrant   = errors.New("invalid_grant")
	ErrUnauthorized   = errors.New("unauthorized_client")
	ErrInvalidRequest = errors.New("invalid_request")
	// ErrBadToken means a bearer token is unknown, expired or revoked.
	ErrBadToken = errors.New("bad token")
	// ErrBadLogin means a username/password pair did not match.
	ErrBadLogin = errors.New("invalid login credentials")
)

// Lifetimes of what is not set per client.
const (
	CodeLifetime    = 2 * time.Minute
	RefreshLifetime = 30 * 24 * time.Hour
)

// UserVerifier checks a person's credentials; the directory implements it.
type UserVerifier interface {
	VerifyPassword(ctx context.Context, username, password string) (userID string, roles []Role, err error)
}

// Service is the token authority.
type Service struct {
	db    *store.DB
	users UserVerifier
	clock clock.Clock
}

// New returns the service.
func New(db *store.DB, users UserVerifier, c clock.Clock) *Service {
	return &Service{db: db, users: users, clock: c}
}

// Token is what the token endpoint answers.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// ClientCredentials authenticates a confidential client and issues a token
// carrying the client's roles.
func (s *Service) ClientCredentials(ctx context.Context, clientID, secret string) (Token, error) {
	c, err := s.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return Token{}, err
	}
	if c.GrantType != GrantClientCredentials {
		return Token{}, fmt.Errorf("%w: client is not allowed the client_credentials grant", ErrUnauthorized)
	}
	return s.issue(ctx, c, "", c.Roles, uuid.NewString(), false)
}

func (s *Service) authenticateClient(ctx context.Context, clientID, secret string) (Client, error) {
	c, err := s.GetClient(ctx, clientID)
	if err != nil || c.State != "active" || c.secretHash == "" {
		// Hash anyway so a missing client costs the same time as a wrong secret.
		password.Check(dummyHash, secret)
		return Client{}, ErrInvalidClient
	}
	ok, err := password.Check(c.secretHash, secret)
	if err != nil || !ok {
		return Client{}, ErrInvalidClient
	}
	return c, nil
}

var dummyHash, _ = password.Hash("centralita-dummy")

// AuthorizeRequest is a validated /oauth/authorize request plus the
// credentials typed into the login page.
type AuthorizeRequest struct {
	ClientID, RedirectURI, CodeChallenge, CodeChallengeMethod string
	Username, Password                                        string
}

// CheckAuthorize validates the client, redirect URI and PKCE parameters of an
// authorization request before the login page is shown. origin is the scheme
// and host the browser used, for same-origin redirect URIs.
func (s *Service) CheckAuthorize(ctx context.Context, r AuthorizeRequest, origin string) error {
	c, err := s.GetClient(ctx, r.ClientID)
	if err != nil || c.State != "active" {
		return fmt.Errorf("%w: unknown client_id %q", ErrInvalidClient, r.ClientID)
	}
	if c.GrantType != GrantCode {
		return fmt.Errorf("%w: client %q is not allowed the authorization code grant", ErrUnauthorized, r.ClientID)
	}
	if !c.AllowsRedirect(r.RedirectURI, origin) {
		return fmt.Errorf("%w: redirect_uri %q is not registered for client %q", ErrInvalidRequest, r.RedirectURI, r.ClientID)
	}
	if r.CodeChallengeMethod != "S256" {
		return fmt.Errorf("%w: code_challenge_method must be S256", ErrInvalidRequest)
	}
	if l := len(r.CodeChallenge); l < 43 || l > 128 {
		return fmt.Errorf("%w: code_challenge must be 43 to 128 characters", ErrInvalidRequest)
	}
	return nil
}

// Authorize checks the person's credentials and returns a one-time code.
func (s *Service) Authorize(ctx context.Context, r AuthorizeRequest, origin string) (string, error) {
	if err := s.CheckAuthorize(ctx, r, origin); err != nil {
		return "", err
	}
	userID, _, err := s.users.VerifyPassword(ctx, r.Username, r.Password)
	if err != nil {
		return "", err
	}
	code := randomToken()
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO auth_codes (hash, client_id, user_id, redirect_uri, challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hash(code), r.ClientID, userID, r.RedirectURI, r.CodeChallenge, store.Millis(s.clock.Now().Add(CodeLifetime)))
	if err != nil {
		return "", err
	}
	return code, nil
}

// ExchangeCode redeems an authorization code with its PKCE verifier. A code
// works once; it is deleted whether or not the exchange succeeds.
func (s *Service) ExchangeCode(ctx context.Context, clientID, code, verifier, redirectURI string) (Token, error) {
	var userID, storedRedirect, challenge, codeClient string
	var expires int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx,
			`SELECT client_id, user_id, redirect_uri, challenge, expires_at FROM auth_codes WHERE hash = $1`, hash(code)).
			Scan(&codeClient, &userID, &storedRedirect, &challenge, &expires)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM auth_codes WHERE hash = $1`, hash(code))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: unknown or used authorization code", ErrInvalidGrant)
	}
	if err != nil {
		return Token{}, err
	}
	switch {
	case codeClient != clientID:
		return Token{}, fmt.Errorf("%w: code was issued to another client", ErrInvalidGrant)
	case store.Time(expires).Before(s.clock.Now()):
		return Token{}, fmt.Errorf("%w: authorization code expired", ErrInvalidGrant)
	case storedRedirect != redirectURI:
		return Token{}, fmt.Errorf("%w: redirect_uri does not match the authorization request", ErrInvalidGrant)
	case !verifyPKCE(challenge, verifier):
		return Token{}, fmt.Errorf("%w: code_verifier does not match code_challenge", ErrInvalidGrant)
	}
	c, err := s.GetClient(ctx, clientID)
	if err != nil {
		return Token{}, ErrInvalidClient
	}
	roles, err := s.userRoles(ctx, userID)
	if err != nil {
		return Token{}, err
	}
	return s.issue(ctx, c, userID, roles, uuid.NewString(), true)
}

// Refresh rotates a refresh token: the old one stops working and a new pair
// is issued in the same family. Presenting a rotated (already used) refresh
// token revokes the whole family, as it means the token leaked.
func (s *Service) Refresh(ctx context.Context, clientID, refresh string) (Token, error) {
	var userID, family, tokClient string
	var expires int64
	var kind string
	err := s.db.QueryRowContext(ctx, `SELECT kind, client_id, COALESCE(user_id, ''), family, expires_at FROM tokens WHERE hash = $1`,
		hash(refresh)).Scan(&kind, &tokClient, &userID, &family, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: unknown refresh token", ErrInvalidGrant)
	}
	if err != nil {
		return Token{}, err
	}
	if kind == kindUsedRefresh {
		s.revokeFamily(ctx, family)
		return Token{}, fmt.Errorf("%w: refresh token already used; its session was revoked", ErrInvalidGrant)
	}
	if kind != kindRefresh || tokClient != clientID || store.Time(expires).Before(s.clock.Now()) || userID == "" {
		return Token{}, fmt.Errorf("%w: refresh token expired or not issued to this client", ErrInvalidGrant)
	}
	// Mark it used only if nobody else did meanwhile: of two concurrent uses
	// of one refresh token, one wins and the other counts as a reuse.
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET kind = $1 WHERE hash = $2 AND kind = $3`, kindUsedRefresh, hash(refresh), kindRefresh)
	if err != nil {
		return Token{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return Token{}, err
	} else if n == 0 {
		s.revokeFamily(ctx, family)
		return Token{}, fmt.Errorf("%w: refresh token already used; its session was revoked", ErrInvalidGrant)
	}
	c, err := s.GetClient(ctx, clientID)
	if err != nil {
		return Token{}, ErrInvalidClient
	}
	roles, err := s.userRoles(ctx, userID)
	if err != nil {
		return Token{}, err
	}
	return s.issue(ctx, c, userID, roles, family, true)
}

const (
	kindAccess      = "access"
	kindRefresh     = "refresh"
	kindUsedRefresh = "refresh-used"
)

func (s *Service) issue(ctx context.Context, c Client, userID string, roles []Role, family string, withRefresh bool) (Token, error) {
	now := s.clock.Now()
	t := Token{AccessToken: randomToken(), TokenType: "bearer", ExpiresIn: c.TokenLifetimeSeconds}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := insertToken(ctx, tx, t.AccessToken, kindAccess, c.ID, userID, roles, family, now.Add(time.Duration(c.TokenLifetimeSeconds)*time.Second), now); err != nil {
			return err
		}
		if withRefresh {
			t.RefreshToken = randomToken()
			return insertToken(ctx, tx, t.RefreshToken, kindRefresh, c.ID, userID, roles, family, now.Add(RefreshLifetime), now)
		}
		return nil
	})
	return t, err
}

func insertToken(ctx context.Context, tx *store.Tx, tok, kind, clientID, userID string, roles []Role, family string, exp, now time.Time) error {
	var uid any
	if userID != "" {
		uid = userID
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO tokens (hash, kind, client_id, user_id, roles, family, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		hash(tok), kind, clientID, uid, JoinRoles(roles), family, store.Millis(exp), store.Millis(now))
	return err
}

// Authenticate resolves a bearer token to its principal. A person's roles are
// read fresh, so a demotion or deactivation takes effect at once.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if bearer == "" || len(bearer) > 512 {
		return Principal{}, ErrBadToken
	}
	var p Principal
	var roles, userRoles, userState sql.NullString
	var expires int64
	err := s.db.QueryRowContext(ctx, `
		SELECT t.client_id, COALESCE(t.user_id, ''), t.roles, t.family, t.expires_at, u.roles, u.state
		FROM tokens t LEFT JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.kind = $2`, hash(bearer), kindAccess).
		Scan(&p.ClientID, &p.UserID, &roles, &p.Family, &expires, &userRoles, &userState)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	if store.Time(expires).Before(s.clock.Now()) {
		return Principal{}, fmt.Errorf("%w: expired", ErrBadToken)
	}
	p.TokenHash = hash(bearer)
	p.Roles = SplitRoles(roles.String)
	if p.UserID != "" {
		if userState.String != "active" {
			return Principal{}, fmt.Errorf("%w: user is not active", ErrBadToken)
		}
		p.Roles = SplitRoles(userRoles.String)
	}
	return p, nil
}

// Revoke ends the session p belongs to: its access and refresh tokens.
func (s *Service) Revoke(ctx context.Context, p Principal) error {
	if p.UserID == "" {
		_, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE hash = $1`, p.TokenHash)
		return err
	}
	return s.revokeFamily(ctx, p.Family)
}

// RevokeUser ends every session of a person (password reset, deactivation).
func (s *Service) RevokeUser(ctx context.Context, userID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = $1`, userID)
	return err
}

func (s *Service) revokeFamily(ctx context.Context, family string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE family = $1`, family)
	return err
}

// PruneExpired deletes expired tokens and codes.
func (s *Service) PruneExpired(ctx context.Context) error {
	now := store.Millis(s.clock.Now())
	if _, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at < $1`, now); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM auth_codes WHERE expires_at < $1`, now)
	return err
}

func (s *Service) userRoles(ctx context.Context, userID string) ([]Role, error) {
	var roles, state string
	err := s.db.QueryRowContext(ctx, `SELECT roles, state FROM users WHERE id = $1`, userID).Scan(&roles, &state)
	if errors.Is(err, sql.ErrNoRows) || state != "active" {
		return nil, fmt.Errorf("%w: user no longer active", ErrInvalidGrant)
	}
	return SplitRoles(roles), err
}

func verifyPKCE(challenge, verifier string) bool {
	if l := len(verifier); l < 43 || l > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sameOriginPath returns the path of u when u is absolute and has origin's
// scheme and host, or when u is itself a path.
func sameOriginPath(u, origin string) (string, bool) {
	p, err := url.Parse(u)
	if err != nil || p.RawQuery != "" || p.Fragment != "" {
		return "", false
	}
	if p.Scheme == "" && p.Host == "" {
		return p.Path, strings.HasPrefix(p.Path, "/")
	}
	o, err := url.Parse(origin)
	if err != nil {
		return "", false
	}
	return p.Path, strings.EqualFold(p.Scheme, o.Scheme) && strings.EqualFold(p.Host, o.Host)
}
