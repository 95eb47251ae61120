package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/secret"
	"github.com/centralita/centralita/internal/store"
	"github.com/centralita/centralita/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
)

const (
	appRedirect = "https://app.example/callback"
	userPass    = "s3creto!"
)

type fixture struct {
	db   *store.DB
	clk  *clock.Fake
	dir  *directory.Service
	auth *auth.Service
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	dir := directory.New(db, outbox.New(db, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil))), box, clk)
	return &fixture{db: db, clk: clk, dir: dir, auth: auth.New(db, dir, clk)}
}

// user creates a person who can log in with userPass.
func (f *fixture) user(t *testing.T, username string, roles ...string) directory.User {
	t.Helper()
	u, err := f.dir.CreateUser(ctx, directory.UserInput{Username: username, Name: username, Password: userPass, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// codeClient registers a CODE client (no secret, so no hashing cost).
func (f *fixture) codeClient(t *testing.T, name string, redirects ...string) auth.Client {
	t.Helper()
	c, secret, err := f.auth.CreateClient(ctx, auth.ClientInput{Name: name, GrantType: auth.GrantCode, RedirectURIs: redirects, TokenLifetimeSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		t.Fatalf("a CODE client got a secret")
	}
	return c
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b) // 43 characters
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

func (f *fixture) code(t *testing.T, clientID, redirect, origin, username string, p pkce) string {
	t.Helper()
	code, err := f.auth.Authorize(ctx, auth.AuthorizeRequest{
		ClientID: clientID, RedirectURI: redirect, CodeChallenge: p.challenge, CodeChallengeMethod: "S256",
		Username: username, Password: userPass,
	}, origin)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// login runs the whole code + PKCE flow.
func (f *fixture) login(t *testing.T, clientID, redirect, username string) auth.Token {
	t.Helper()
	p := newPKCE()
	tok, err := f.auth.ExchangeCode(ctx, clientID, f.code(t, clientID, redirect, "", username, p), p.verifier, redirect)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) principal(t *testing.T, bearer string) auth.Principal {
	t.Helper()
	p, err := f.auth.Authenticate(ctx, bearer)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

func (f *fixture) rejected(t *testing.T, bearer, why string) {
	t.Helper()
	if p, err := f.auth.Authenticate(ctx, bearer); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("%s: Authenticate = %+v, %v; want ErrBadToken", why, p, err)
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func wantProblem(t *testing.T, err error, kind problem.Kind, fields ...string) {
	t.Helper()
	ps := problem.All(err)
	if len(ps) == 0 {
		t.Fatalf("got %v, want problems of kind %d on %v", err, kind, fields)
	}
	var got []string
	for _, p := range ps {
		if p.Kind != kind {
			t.Errorf("problem %q has kind %d, want %d", p.Error(), p.Kind, kind)
		}
		got = append(got, p.Field)
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problems on fields %q (%v), want %q", got, err, want)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, secret, err := f.auth.CreateClient(ctx, auth.ClientInput{Name: " crm ", Roles: []string{"supervisor"}, TokenLifetimeSeconds: 600})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "crm" || c.GrantType != auth.GrantClientCredentials || c.State != "active" || c.Builtin || len(secret) < 32 ||
			!slices.Equal(c.Roles, []auth.Role{auth.Supervisor}) || c.TokenLifetimeSeconds != 600 {
			t.Fatalf("created %+v with secret %q", c, secret)
		}
		var stored string
		f.db.QueryRowContext(ctx, `SELECT secret_hash FROM oauth_clients WHERE id = $1`, c.ID).Scan(&stored)
		if !strings.HasPrefix(stored, "$argon2id$") || strings.Contains(stored, secret) {
			t.Fatalf("stored secret %q, want an argon2id hash", stored)
		}

		tok, err := f.auth.ClientCredentials(ctx, c.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "bearer" || tok.ExpiresIn != 600 || tok.RefreshToken != "" || len(tok.AccessToken) < 40 {
			t.Fatalf("token %+v", tok)
		}
		p := f.principal(t, tok.AccessToken)
		if p.ClientID != c.ID || p.UserID != "" || p.IsUser() || !slices.Equal(p.Roles, []auth.Role{auth.Supervisor}) ||
			!p.Has(auth.Agent) || !p.Has(auth.Supervisor) || p.Has(auth.Admin) {
			t.Fatalf("principal %+v", p)
		}
		var n int
		f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE hash = $1`, tok.AccessToken).Scan(&n)
		if n != 0 {
			t.Fatal("the bearer value itself is stored")
		}

		_, err = f.auth.ClientCredentials(ctx, c.ID, secret+"x")
		wantErr(t, err, auth.ErrInvalidClient, "wrong secret")
		_, err = f.auth.ClientCredentials(ctx, "no-such-client", secret)
		wantErr(t, err, auth.ErrInvalidClient, "unknown client")
		for _, bad := range []string{"", "garbage", tok.AccessToken + "x", strings.Repeat("a", 600)} {
			f.rejected(t, bad, "bad bearer "+bad[:min(len(bad), 10)])
		}

		code := f.codeClient(t, "web app", appRedirect)
		if _, err := f.auth.ClientCredentials(ctx, code.ID, ""); err == nil {
			t.Fatal("a CODE client got a client-credentials token")
		}

		// Deactivating the client ends its tokens and its grant.
		if _, err := f.auth.UpdateClient(ctx, c.ID, auth.ClientInput{Name: "crm", Roles: []string{"supervisor"}, TokenLifetimeSeconds: 600, State: "inactive"}); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, tok.AccessToken, "token of a deactivated client")
		_, err = f.auth.ClientCredentials(ctx, c.ID, secret)
		wantErr(t, err, auth.ErrInvalidClient, "deactivated client")
	})
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c, secret, err := f.auth.CreateClient(ctx, auth.ClientInput{Name: "short", Roles: []string{"agent"}, TokenLifetimeSeconds: auth.MinTokenLifetime,
			Secret: "a-known-secret"})
		if err != nil || secret != "a-known-secret" {
			t.Fatalf("CreateClient: %q, %v", secret, err)
		}
		tok, err := f.auth.ClientCredentials(ctx, c.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		if tok.ExpiresIn != auth.MinTokenLifetime {
			t.Fatalf("expires_in %d", tok.ExpiresIn)
		}
		f.clk.Advance(auth.MinTokenLifetime*time.Second - time.Millisecond)
		f.principal(t, tok.AccessToken)
		f.clk.Advance(2 * time.Millisecond)
		f.rejected(t, tok.AccessToken, "after its lifetime")

		// PruneExpired removes it; a live one stays.
		u := f.user(t, "ana")
		app := f.codeClient(t, "app", appRedirect)
		live := f.login(t, app.ID, appRedirect, u.Username)
		if err := f.auth.PruneExpired(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE client_id = $1`, c.ID).Scan(&n)
		if n != 0 {
			t.Fatalf("%d expired tokens left after PruneExpired", n)
		}
		f.principal(t, live.AccessToken)
		// A user's access token expires with the client's lifetime (3600 s).
		f.clk.Advance(time.Hour + time.Millisecond)
		f.rejected(t, live.AccessToken, "user token after its lifetime")
	})
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ana := f.user(t, "ana", "agent", "supervisor")
		app := f.codeClient(t, "app", appRedirect, "http://localhost:5173/cb")
		other := f.codeClient(t, "other", appRedirect)
		cc, _, err := f.auth.CreateClient(ctx, auth.ClientInput{Name: "cc", Roles: []string{"agent"}, Secret: "cc-secret-1"})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("authorize request checks", func(t *testing.T) {
			p := newPKCE()
			ok := auth.AuthorizeRequest{ClientID: app.ID, RedirectURI: appRedirect, CodeChallenge: p.challenge, CodeChallengeMethod: "S256"}
			if err := f.auth.CheckAuthorize(ctx, ok, ""); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				change func(*auth.AuthorizeRequest)
				want   error
			}{
				{func(r *auth.AuthorizeRequest) { r.ClientID = "nope" }, auth.ErrInvalidClient},
				{func(r *auth.AuthorizeRequest) { r.ClientID = cc.ID }, auth.ErrUnauthorized},
				{func(r *auth.AuthorizeRequest) { r.RedirectURI = "https://evil.example/callback" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.RedirectURI = appRedirect + "/more" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.RedirectURI = "" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.CodeChallengeMethod = "plain" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.CodeChallengeMethod = "" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.CodeChallenge = "short" }, auth.ErrInvalidRequest},
				{func(r *auth.AuthorizeRequest) { r.CodeChallenge = strings.Repeat("a", 129) }, auth.ErrInvalidRequest},
			} {
				r := ok
				c.change(&r)
				wantErr(t, f.auth.CheckAuthorize(ctx, r, ""), c.want, "CheckAuthorize")
				r.Username, r.Password = "ana", userPass
				if code, err := f.auth.Authorize(ctx, r, ""); !errors.Is(err, c.want) || code != "" {
					t.Fatalf("Authorize with a bad request: %q, %v; want %v", code, err, c.want)
				}
			}
			r := ok
			r.Username, r.Password = "ana", "wrong"
			_, err := f.auth.Authorize(ctx, r, "")
			wantErr(t, err, auth.ErrBadLogin, "wrong password")
		})

		t.Run("valid flow", func(t *testing.T) {
			p := newPKCE()
			code := f.code(t, app.ID, appRedirect, "", "ana", p)
			var stored int
			f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_codes WHERE hash = $1`, code).Scan(&stored)
			if stored != 0 {
				t.Fatal("the code itself is stored")
			}
			tok, err := f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, appRedirect)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "bearer" || tok.ExpiresIn != 3600 || tok.RefreshToken == "" || tok.RefreshToken == tok.AccessToken {
				t.Fatalf("token %+v", tok)
			}
			pr := f.principal(t, tok.AccessToken)
			if pr.UserID != ana.ID || pr.ClientID != app.ID || !pr.IsUser() || !slices.Equal(pr.Roles, []auth.Role{auth.Agent, auth.Supervisor}) {
				t.Fatalf("principal %+v", pr)
			}
			f.rejected(t, tok.RefreshToken, "a refresh token used as bearer")
			_, err = f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, appRedirect)
			wantErr(t, err, auth.ErrInvalidGrant, "code reuse")
			// Roles are read fresh: a demotion holds at once.
			roles := []string{"agent"}
			u, _ := f.dir.GetUser(ctx, ana.ID)
			if _, err := f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{Roles: &roles, Version: u.Version}); err != nil {
				t.Fatal(err)
			}
			if pr := f.principal(t, tok.AccessToken); !slices.Equal(pr.Roles, []auth.Role{auth.Agent}) {
				t.Fatalf("roles after demotion %v", pr.Roles)
			}
		})

		t.Run("bad exchanges", func(t *testing.T) {
			for _, c := range []struct {
				name     string
				exchange func(code string, p pkce) error
			}{
				{"wrong verifier", func(code string, p pkce) error {
					_, err := f.auth.ExchangeCode(ctx, app.ID, code, newPKCE().verifier, appRedirect)
					return err
				}},
				{"missing verifier", func(code string, p pkce) error {
					_, err := f.auth.ExchangeCode(ctx, app.ID, code, "", appRedirect)
					return err
				}},
				{"redirect mismatch", func(code string, p pkce) error {
					_, err := f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, "http://localhost:5173/cb")
					return err
				}},
				{"another client", func(code string, p pkce) error {
					_, err := f.auth.ExchangeCode(ctx, other.ID, code, p.verifier, appRedirect)
					return err
				}},
				{"expired", func(code string, p pkce) error {
					f.clk.Advance(auth.CodeLifetime + time.Millisecond)
					_, err := f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, appRedirect)
					return err
				}},
				{"unknown code", func(code string, p pkce) error {
					_, err := f.auth.ExchangeCode(ctx, app.ID, code+"x", p.verifier, appRedirect)
					return err
				}},
			} {
				p := newPKCE()
				code := f.code(t, app.ID, appRedirect, "", "ana", p)
				wantErr(t, c.exchange(code, p), auth.ErrInvalidGrant, c.name)
				if c.name == "unknown code" {
					continue
				}
				// A failed exchange burns the code: the right one fails too.
				_, err := f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, appRedirect)
				wantErr(t, err, auth.ErrInvalidGrant, c.name+", then the right exchange")
			}
		})

		t.Run("inactive user", func(t *testing.T) {
			bob := f.user(t, "bob")
			p := newPKCE()
			code := f.code(t, app.ID, appRedirect, "", "bob", p)
			inactive := "inactive"
			if _, err := f.dir.PatchUser(ctx, bob.ID, directory.UserPatch{State: &inactive, Version: bob.Version}); err != nil {
				t.Fatal(err)
			}
			_, err := f.auth.ExchangeCode(ctx, app.ID, code, p.verifier, appRedirect)
			wantErr(t, err, auth.ErrInvalidGrant, "code of a user deactivated meanwhile")
			r := auth.AuthorizeRequest{ClientID: app.ID, RedirectURI: appRedirect, CodeChallenge: p.challenge, CodeChallengeMethod: "S256",
				Username: "bob", Password: userPass}
			_, err = f.auth.Authorize(ctx, r, "")
			wantErr(t, err, auth.ErrBadLogin, "inactive user logging in")
		})
	})
}

func TestWebClient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		for range 2 {
			if err := f.auth.EnsureWebClient(ctx); err != nil {
				t.Fatal(err)
			}
		}
		web, err := f.auth.GetClient(ctx, auth.WebClientID)
		if err != nil {
			t.Fatal(err)
		}
		if !web.Builtin || web.GrantType != auth.GrantCode || web.State != "active" {
			t.Fatalf("web client %+v", web)
		}
		if _, total, _ := f.auth.ListClients(ctx, 10, 0); total != 1 {
			t.Fatalf("%d clients after EnsureWebClient twice, want 1", total)
		}
		const origin = "https://cc.example.com"
		p := newPKCE()
		check := func(redirect string) error {
			return f.auth.CheckAuthorize(ctx, auth.AuthorizeRequest{ClientID: auth.WebClientID, RedirectURI: redirect,
				CodeChallenge: p.challenge, CodeChallengeMethod: "S256"}, origin)
		}
		for _, ok := range []string{origin + "/ui/", "/ui/", origin + "/softphone", "HTTPS://CC.EXAMPLE.COM/softphone/"} {
			if err := check(ok); err != nil {
				t.Errorf("redirect %q refused: %v", ok, err)
			}
		}
		for _, bad := range []string{"https://evil.example/ui/", "http://cc.example.com/ui/", "//evil.example/ui/", origin + "/ui/?next=x",
			origin + "/ui/#x", origin + "/ui", origin + "/admin/", "ui/", "https://cc.example.com:8443/ui/"} {
			wantErr(t, check(bad), auth.ErrInvalidRequest, "redirect "+bad)
		}

		f.user(t, "ana")
		redirect := origin + "/ui/"
		code := f.code(t, auth.WebClientID, redirect, origin, "ana", p)
		tok, err := f.auth.ExchangeCode(ctx, auth.WebClientID, code, p.verifier, redirect)
		if err != nil {
			t.Fatal(err)
		}
		if pr := f.principal(t, tok.AccessToken); pr.ClientID != auth.WebClientID || tok.ExpiresIn != 3600 {
			t.Fatalf("web login %+v, %+v", pr, tok)
		}

		wantProblem(t, f.auth.DeleteClient(ctx, auth.WebClientID), problem.Forbidden, "")
		_, err = f.auth.UpdateClient(ctx, auth.WebClientID, auth.ClientInput{Name: "x", GrantType: auth.GrantCode, RedirectURIs: []string{"/"}})
		wantProblem(t, err, problem.Forbidden, "")
		if _, err := f.auth.GetClient(ctx, auth.WebClientID); err != nil {
			t.Fatal("the built-in client is gone")
		}
		f.principal(t, tok.AccessToken)
	})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ana := f.user(t, "ana", "agent")
		app := f.codeClient(t, "app", appRedirect)
		other := f.codeClient(t, "other", appRedirect)
		t1 := f.login(t, app.ID, appRedirect, "ana")

		_, err := f.auth.Refresh(ctx, other.ID, t1.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "refresh by another client")
		_, err = f.auth.Refresh(ctx, app.ID, t1.AccessToken)
		wantErr(t, err, auth.ErrInvalidGrant, "an access token used as refresh token")
		_, err = f.auth.Refresh(ctx, app.ID, "unknown")
		wantErr(t, err, auth.ErrInvalidGrant, "unknown refresh token")

		f.clk.Advance(time.Minute)
		t2, err := f.auth.Refresh(ctx, app.ID, t1.RefreshToken)
		if err != nil {
			t.Fatalf("refresh (after the failed attempts, which must not burn it): %v", err)
		}
		if t2.AccessToken == t1.AccessToken || t2.RefreshToken == t1.RefreshToken || t2.RefreshToken == "" {
			t.Fatalf("refresh did not rotate: %+v", t2)
		}
		p2 := f.principal(t, t2.AccessToken)
		if p2.UserID != ana.ID || p2.Family != f.principal(t, t1.AccessToken).Family {
			t.Fatalf("refreshed principal %+v is not in the session's family", p2)
		}
		t3, err := f.auth.Refresh(ctx, app.ID, t2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		f.principal(t, t3.AccessToken)

		// A second session of the same user, unaffected by what follows.
		s2 := f.login(t, app.ID, appRedirect, "ana")

		// Reusing a rotated refresh token means it leaked: the family dies.
		_, err = f.auth.Refresh(ctx, app.ID, t1.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "reused refresh token")
		for _, a := range []string{t1.AccessToken, t2.AccessToken, t3.AccessToken} {
			f.rejected(t, a, "access token of a revoked family")
		}
		_, err = f.auth.Refresh(ctx, app.ID, t3.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "newest refresh token of a revoked family")
		f.principal(t, s2.AccessToken)

		// Refresh tokens expire.
		f.clk.Advance(auth.RefreshLifetime + time.Millisecond)
		_, err = f.auth.Refresh(ctx, app.ID, s2.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "expired refresh token")

		// A deactivated user cannot refresh.
		s3 := f.login(t, app.ID, appRedirect, "ana")
		u, _ := f.dir.GetUser(ctx, ana.ID)
		inactive := "inactive"
		if _, err := f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{State: &inactive, Version: u.Version}); err != nil {
			t.Fatal(err)
		}
		_, err = f.auth.Refresh(ctx, app.ID, s3.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "refresh of a deactivated user")
	})
}

// Two uses of one refresh token at the same moment are a reuse too: at most
// one of them may get a new pair.
func TestConcurrentRefreshUsesTokenOnce(t *testing.T) {
	t.Parallel()
	const racers = 8
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.user(t, "ana")
		app := f.codeClient(t, "app", appRedirect)
		for round := range 3 {
			tok := f.login(t, app.ID, appRedirect, "ana")
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			start := make(chan struct{})
			for range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := f.auth.Refresh(ctx, app.ID, tok.RefreshToken)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case !errors.Is(err, auth.ErrInvalidGrant):
						t.Errorf("round %d: refresh failed with %v, want ErrInvalidGrant", round, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if won > 1 {
				t.Fatalf("round %d: one refresh token was exchanged %d times", round, won)
			}
		}
	})
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ana := f.user(t, "ana")
		f.user(t, "bob")
		app := f.codeClient(t, "app", appRedirect)
		s1 := f.login(t, app.ID, appRedirect, "ana")
		s2 := f.login(t, app.ID, appRedirect, "ana")
		bob := f.login(t, app.ID, appRedirect, "bob")

		// Revoke ends one session: its access and refresh tokens.
		if err := f.auth.Revoke(ctx, f.principal(t, s1.AccessToken)); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, s1.AccessToken, "revoked session")
		_, err := f.auth.Refresh(ctx, app.ID, s1.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "refresh of a revoked session")
		f.principal(t, s2.AccessToken)

		// A client token: only that token goes.
		cc, secret, err := f.auth.CreateClient(ctx, auth.ClientInput{Name: "cc", Roles: []string{"agent"}, Secret: "cc-secret-1"})
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := f.auth.ClientCredentials(ctx, cc.ID, secret)
		c2, _ := f.auth.ClientCredentials(ctx, cc.ID, secret)
		if err := f.auth.Revoke(ctx, f.principal(t, c1.AccessToken)); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, c1.AccessToken, "revoked client token")
		f.principal(t, c2.AccessToken)

		// RevokeUser ends every session of the person, nobody else's.
		s3 := f.login(t, app.ID, appRedirect, "ana")
		if err := f.auth.RevokeUser(ctx, ana.ID); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, s2.AccessToken, "after RevokeUser")
		f.rejected(t, s3.AccessToken, "after RevokeUser")
		_, err = f.auth.Refresh(ctx, app.ID, s3.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "refresh after RevokeUser")
		f.principal(t, bob.AccessToken)
		f.principal(t, c2.AccessToken)
	})
}

func TestUserStateChangesEndSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ana := f.user(t, "ana")
		app := f.codeClient(t, "app", appRedirect)
		s := f.login(t, app.ID, appRedirect, "ana")
		inactive, active := "inactive", "active"
		u, _ := f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{State: &inactive, Version: ana.Version})
		f.rejected(t, s.AccessToken, "deactivated user")
		// Reactivating does not bring the old session back.
		if _, err := f.dir.PatchUser(ctx, ana.ID, directory.UserPatch{State: &active, Version: u.Version}); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, s.AccessToken, "session from before a deactivation")
		s = f.login(t, app.ID, appRedirect, "ana")
		if err := f.dir.DeleteUser(ctx, ana.ID); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, s.AccessToken, "deleted user")
	})
}

func TestClientChangesDropTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		in := auth.ClientInput{Name: "cc", Roles: []string{"agent"}, Secret: "cc-secret-1"}
		cc, secret, err := f.auth.CreateClient(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := f.auth.ClientCredentials(ctx, cc.ID, secret)

		// Same roles, new description: tokens stay.
		in.Secret, in.Description = "", "described"
		if _, err := f.auth.UpdateClient(ctx, cc.ID, in); err != nil {
			t.Fatal(err)
		}
		f.principal(t, old.AccessToken)

		in.Roles = []string{"admin"}
		up, err := f.auth.UpdateClient(ctx, cc.ID, in)
		if err != nil || !slices.Equal(up.Roles, []auth.Role{auth.Admin}) || up.Description != "described" {
			t.Fatalf("updated %+v, %v", up, err)
		}
		f.rejected(t, old.AccessToken, "token issued with the old roles")
		tok, err := f.auth.ClientCredentials(ctx, cc.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, tok.AccessToken); !p.Has(auth.Admin) {
			t.Fatalf("new token roles %v", p.Roles)
		}
		in.GrantType = auth.GrantCode
		in.RedirectURIs = []string{appRedirect}
		_, err = f.auth.UpdateClient(ctx, cc.ID, in)
		wantProblem(t, err, problem.Invalid, "authorizedGrantType")

		// Deactivating a CODE client ends its users' sessions too.
		f.user(t, "ana")
		app := f.codeClient(t, "app", appRedirect)
		s := f.login(t, app.ID, appRedirect, "ana")
		p := newPKCE()
		pending := f.code(t, app.ID, appRedirect, "", "ana", p)
		if _, err := f.auth.UpdateClient(ctx, app.ID, auth.ClientInput{Name: "app", GrantType: auth.GrantCode, RedirectURIs: []string{appRedirect},
			TokenLifetimeSeconds: 3600, State: "inactive"}); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, s.AccessToken, "session of a deactivated client")
		_, err = f.auth.Refresh(ctx, app.ID, s.RefreshToken)
		wantErr(t, err, auth.ErrInvalidGrant, "refresh with a deactivated client")
		_, err = f.auth.ExchangeCode(ctx, app.ID, pending, p.verifier, appRedirect)
		if err == nil {
			t.Fatal("a deactivated client exchanged a code")
		}

		// Deleting a client removes its tokens.
		if err := f.auth.DeleteClient(ctx, cc.ID); err != nil {
			t.Fatal(err)
		}
		f.rejected(t, tok.AccessToken, "token of a deleted client")
		if _, err := f.auth.GetClient(ctx, cc.ID); err == nil {
			t.Fatal("deleted client still there")
		}
		wantProblem(t, f.auth.DeleteClient(ctx, cc.ID), problem.NotFound, "")
	})
}

func TestCreateClientValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		code := func(in auth.ClientInput) auth.ClientInput {
			in.GrantType = auth.GrantCode
			if in.RedirectURIs == nil {
				in.RedirectURIs = []string{appRedirect}
			}
			return in
		}
		for _, c := range []struct {
			in     auth.ClientInput
			fields []string
		}{
			{auth.ClientInput{}, []string{"name", "roles"}},
			{code(auth.ClientInput{Name: strings.Repeat("n", 201)}), []string{"name"}},
			{code(auth.ClientInput{Name: "x", TokenLifetimeSeconds: auth.MinTokenLifetime - 1}), []string{"accessTokenValiditySeconds"}},
			{code(auth.ClientInput{Name: "x", TokenLifetimeSeconds: auth.MaxTokenLifetime + 1}), []string{"accessTokenValiditySeconds"}},
			{code(auth.ClientInput{Name: "x", TokenLifetimeSeconds: -5}), []string{"accessTokenValiditySeconds"}},
			{auth.ClientInput{Name: "x", Roles: []string{"root"}}, []string{"roles"}},
			{auth.ClientInput{Name: "x", GrantType: auth.GrantClientCredentials}, []string{"roles"}},
			{auth.ClientInput{Name: "x", GrantType: "PASSWORD", Roles: []string{"agent"}}, []string{"authorizedGrantType"}},
			{auth.ClientInput{Name: "x", GrantType: "IMPLICIT", Roles: []string{"agent"}}, []string{"authorizedGrantType"}},
			{auth.ClientInput{Name: "x", GrantType: auth.GrantCode}, []string{"registeredRedirectUri"}},
			{code(auth.ClientInput{Name: "x", RedirectURIs: []string{appRedirect, "ftp://x/y", "relative"}}), []string{"registeredRedirectUri[1]", "registeredRedirectUri[2]"}},
			{code(auth.ClientInput{Name: "x", State: "deleted"}), []string{"state"}},
			{code(auth.ClientInput{Name: "x", ID: "has/slash"}), []string{"id"}},
			{code(auth.ClientInput{Name: "x", ID: strings.Repeat("i", 101)}), []string{"id"}},
			{auth.ClientInput{Name: "x", Roles: []string{"agent"}, Secret: "short"}, []string{"secret"}},
		} {
			_, secret, err := f.auth.CreateClient(ctx, c.in)
			wantProblem(t, err, problem.Invalid, c.fields...)
			if secret != "" {
				t.Fatal("a rejected client got a secret")
			}
		}
		if _, total, _ := f.auth.ListClients(ctx, 10, 0); total != 0 {
			t.Fatalf("%d clients stored by rejected requests", total)
		}
		// The bounds themselves are valid; 0 means the default.
		for _, lt := range []int{auth.MinTokenLifetime, auth.MaxTokenLifetime, 0} {
			c, _, err := f.auth.CreateClient(ctx, code(auth.ClientInput{Name: fmt.Sprint("lifetime ", lt), TokenLifetimeSeconds: lt}))
			want := lt
			if lt == 0 {
				want = auth.DefaultTokenLifetime
			}
			if err != nil || c.TokenLifetimeSeconds != want {
				t.Fatalf("lifetime %d: %+v, %v", lt, c, err)
			}
		}
		c, _, err := f.auth.CreateClient(ctx, code(auth.ClientInput{ID: "my-app", Name: "Mine", Roles: []string{"Agent"}, RedirectURIs: []string{appRedirect, "/ui/"}}))
		if err != nil || c.ID != "my-app" || !slices.Equal(c.RedirectURIs, []string{appRedirect, "/ui/"}) || !slices.Equal(c.Roles, []auth.Role{auth.Agent}) {
			t.Fatalf("created %+v, %v", c, err)
		}
		_, _, err = f.auth.CreateClient(ctx, code(auth.ClientInput{Name: "Mine"}))
		wantProblem(t, err, problem.Duplicate, "name")
		_, _, err = f.auth.CreateClient(ctx, code(auth.ClientInput{ID: "my-app", Name: "Other"}))
		wantProblem(t, err, problem.Duplicate, "name")
		cs, total, err := f.auth.ListClients(ctx, 2, 0)
		if err != nil || total != 4 || len(cs) != 2 {
			t.Fatalf("ListClients: %d of %d, %v", len(cs), total, err)
		}
	})
}
