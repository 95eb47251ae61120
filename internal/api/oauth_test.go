package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/demo"
)

// oauthError checks the token endpoint's error shape.
func oauthError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want %d", r, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	m := r.obj(t)
	if m["error"] != code {
		t.Errorf("error %v, want %s: %s", m["error"], code, r)
	}
	for _, k := range []string{"error_description", "description"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("%s missing: %s", k, r)
		}
	}
	if r.header.Get("Location") != "" {
		t.Errorf("error answer redirects to %q", r.header.Get("Location"))
	}
}

func TestOAuthTokenClientAuthentication(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	cc := url.Values{"grant_type": {"client_credentials"}}

	t.Run("basic", func(t *testing.T) {
		tok := e.clientCredentials(t, demo.ClientID, demo.ClientSecret)
		if tok.ExpiresIn != 86400 {
			t.Errorf("expires_in %d, want the default 86400", tok.ExpiresIn)
		}
		if tok.TokenType != "bearer" {
			t.Errorf("token_type %q, want bearer", tok.TokenType)
		}
		e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil)
		// The scheme is case-insensitive: clients build it from token_type.
		for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
			r := e.send(t, "GET", "/api/v2/tokens/me", "", nil, "Authorization", scheme+" "+tok.AccessToken)
			if r.status != 200 {
				t.Errorf("scheme %q: %s", scheme, r)
			}
		}
	})
	t.Run("form", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {demo.ClientID}, "client_secret": {demo.ClientSecret}}
		tok := decodeToken(t, e.postForm(t, "/oauth/token", form, "", ""))
		e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil)
	})
	t.Run("wrong secret basic", func(t *testing.T) {
		r := e.postForm(t, "/oauth/token", cc, demo.ClientID, "wrong-secret")
		oauthError(t, r, 401, "invalid_client")
	})
	t.Run("wrong secret form", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {demo.ClientID}, "client_secret": {"nope"}}
		oauthError(t, e.postForm(t, "/oauth/token", form, "", ""), 401, "invalid_client")
	})
	t.Run("unknown client", func(t *testing.T) {
		oauthError(t, e.postForm(t, "/oauth/token", cc, "no-such-client", "whatever"), 401, "invalid_client")
	})
	t.Run("no credentials", func(t *testing.T) {
		oauthError(t, e.postForm(t, "/oauth/token", cc, "", ""), 401, "invalid_client")
	})
	t.Run("missing grant_type", func(t *testing.T) {
		oauthError(t, e.postForm(t, "/oauth/token", url.Values{}, demo.ClientID, demo.ClientSecret), 400, "invalid_request")
	})
	t.Run("unsupported grant", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"}}
		oauthError(t, e.postForm(t, "/oauth/token", form, demo.ClientID, demo.ClientSecret), 400, "unsupported_grant_type")
	})
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.base+"/oauth/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(demo.ClientID, demo.ClientSecret)
		oauthError(t, e.do(t, req), 400, "invalid_request")
	})
	t.Run("code client cannot use client credentials", func(t *testing.T) {
		// The built-in web client is public (no secret): it cannot authenticate.
		oauthError(t, e.postForm(t, "/oauth/token", cc, webClientID, ""), 401, "invalid_client")
	})
}

func TestOAuthTokenLifetimePerClient(t *testing.T) {
	clk := newFakeClock()
	e := startEnv(t, apptest.Options{Clock: clk})
	r := e.must(t, 200, "POST", "/api/v2/oauth/clients", e.token(t, pAdminCC),
		map[string]any{"name": "Short lived", "roles": []string{"agent"}, "accessTokenValiditySeconds": 600})
	c := r.obj(t)
	if c["accessTokenValiditySeconds"] != float64(600) {
		t.Errorf("accessTokenValiditySeconds %v, want 600", c["accessTokenValiditySeconds"])
	}
	tok := e.clientCredentials(t, c["id"].(string), c["secret"].(string))
	if tok.ExpiresIn != 600 {
		t.Fatalf("expires_in %d, want 600", tok.ExpiresIn)
	}
	clk.Advance(599 * time.Second)
	e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil)
	clk.Advance(2 * time.Second)
	errorBody(t, e.send(t, "GET", "/api/v2/tokens/me", tok.AccessToken, nil), 401, "")
}

func TestOAuthCodeFlowWithPKCE(t *testing.T) {
	e := startEnv(t, apptest.Options{})

	t.Run("login", func(t *testing.T) {
		tok := e.login(t, "agent2", "agent")
		if tok.ExpiresIn != 3600 {
			t.Errorf("web client tokens last %d s, want its configured 3600", tok.ExpiresIn)
		}
		me := e.must(t, 200, "GET", "/api/v2/users/me", tok.AccessToken, nil).obj(t)
		if me["username"] != "agent2" || me["email"] != "agent2@demo.centralita.local" {
			t.Errorf("users/me: %v", me)
		}
		ti := e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil).obj(t)
		if u, _ := ti["user"].(map[string]any); u == nil || u["id"] != me["id"] {
			t.Errorf("tokens/me user %v, want %v", ti["user"], me["id"])
		}
		if c, _ := ti["OAuthClient"].(map[string]any); c == nil || c["id"] != webClientID {
			t.Errorf("tokens/me OAuthClient %v", ti["OAuthClient"])
		}
		if rs, _ := ti["roles"].([]any); len(rs) != 1 || rs[0] != "agent" {
			t.Errorf("tokens/me roles %v, want [agent]", ti["roles"])
		}
	})

	t.Run("wrong verifier burns the code", func(t *testing.T) {
		p := newPKCE("wrong-verifier-test-")
		code := e.authorizeCode(t, "agent3", "agent", p)
		oauthError(t, e.exchange(t, code, newPKCE("some-other-verifier-").verifier), 400, "invalid_grant")
		// A code works once, whether or not the exchange succeeded.
		oauthError(t, e.exchange(t, code, p.verifier), 400, "invalid_grant")
	})

	t.Run("reused code", func(t *testing.T) {
		p := newPKCE("reused-code-test-")
		code := e.authorizeCode(t, "agent3", "agent", p)
		decodeToken(t, e.exchange(t, code, p.verifier))
		oauthError(t, e.exchange(t, code, p.verifier), 400, "invalid_grant")
	})

	t.Run("redirect_uri must match at exchange", func(t *testing.T) {
		p := newPKCE("redirect-mismatch-")
		code := e.authorizeCode(t, "agent3", "agent", p)
		r := e.postForm(t, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"code_verifier": {p.verifier}, "client_id": {webClientID}, "redirect_uri": {e.base + "/softphone/"}}, "", "")
		oauthError(t, r, 400, "invalid_grant")
	})

	t.Run("missing verifier", func(t *testing.T) {
		p := newPKCE("missing-verifier-")
		code := e.authorizeCode(t, "agent3", "agent", p)
		r := e.postForm(t, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"client_id": {webClientID}, "redirect_uri": {e.base + "/ui/"}}, "", "")
		oauthError(t, r, 400, "invalid_request")
	})

	t.Run("bad login re-renders the page", func(t *testing.T) {
		p := newPKCE("bad-login-")
		for _, c := range []struct{ user, pass string }{{"agent3", "wrong"}, {"nobody", "agent"}, {"agent3", ""}} {
			form := e.authorizeParams(p)
			form.Set("username", c.user)
			form.Set("password", c.pass)
			r := e.postForm(t, "/oauth/authorize", form, "", "")
			if r.status != 401 {
				t.Errorf("%s/%q: got %s, want 401", c.user, c.pass, r)
			}
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("%s: redirected to %q after a failed login", c.user, loc)
			}
			if !strings.Contains(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), `name="password"`) ||
				!strings.Contains(string(r.body), p.challenge) {
				t.Errorf("%s: failed login does not show the login page again: %s", c.user, r)
			}
			if strings.Contains(string(r.body), "code=") {
				t.Errorf("%s: failed login leaks a code", c.user)
			}
		}
	})

	t.Run("bad client or redirect never redirects", func(t *testing.T) {
		p := newPKCE("no-redirect-")
		cases := map[string]func(url.Values){
			"unknown client":          func(v url.Values) { v.Set("client_id", "no-such-client") },
			"unregistered redirect":   func(v url.Values) { v.Set("redirect_uri", "https://evil.example/ui/") },
			"unregistered path":       func(v url.Values) { v.Set("redirect_uri", e.base+"/evil/") },
			"other host same path":    func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.2:1/ui/") },
			"client credentials only": func(v url.Values) { v.Set("client_id", demo.ClientID) },
			"no challenge":            func(v url.Values) { v.Del("code_challenge") },
			"plain challenge method":  func(v url.Values) { v.Set("code_challenge_method", "plain") },
			"response_type token":     func(v url.Values) { v.Set("response_type", "token") },
		}
		for name, mutate := range cases {
			t.Run(name, func(t *testing.T) {
				q := e.authorizeParams(p)
				mutate(q)
				r := e.send(t, "GET", "/oauth/authorize?"+q.Encode(), "", nil)
				if r.status != 400 || r.header.Get("Location") != "" {
					t.Errorf("GET: got %s (Location %q), want 400 without redirect", r, r.header.Get("Location"))
				}
				q.Set("username", "agent3")
				q.Set("password", "agent")
				r = e.postForm(t, "/oauth/authorize", q, "", "")
				if r.status != 400 || r.header.Get("Location") != "" {
					t.Errorf("POST: got %s (Location %q), want 400 without redirect", r, r.header.Get("Location"))
				}
			})
		}
	})
}

func TestOAuthRefreshRotation(t *testing.T) {
	e := startEnv(t, apptest.Options{})
	first := e.login(t, "agent4", "agent")
	refresh := func(rt string) *response {
		return e.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {webClientID}}, "", "")
	}
	second := decodeToken(t, refresh(first.RefreshToken))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh did not rotate: %+v after %+v", second, first)
	}
	me := e.must(t, 200, "GET", "/api/v2/users/me", second.AccessToken, nil).obj(t)
	if me["username"] != "agent4" {
		t.Errorf("refreshed token acts for %v", me["username"])
	}
	// Wrong client or unknown token.
	oauthError(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "client_id": {webClientID}}, "", ""), 400, "invalid_grant")
	oauthError(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {webClientID}}, "", ""), 400, "invalid_request")
	// Reusing the rotated refresh token means it leaked: the whole session ends.
	oauthError(t, refresh(first.RefreshToken), 400, "invalid_grant")
	errorBody(t, e.send(t, "GET", "/api/v2/users/me", second.AccessToken, nil), 401, "")
	oauthError(t, refresh(second.RefreshToken), 400, "invalid_grant")
}

func TestTokensMe(t *testing.T) {
	e := startEnv(t, apptest.Options{})

	t.Run("client credentials", func(t *testing.T) {
		ti := e.must(t, 200, "GET", "/api/v2/tokens/me", e.token(t, pAdminCC), nil).obj(t)
		if c, _ := ti["OAuthClient"].(map[string]any); c == nil || c["id"] != demo.ClientID || c["name"] != "Demo integration" {
			t.Errorf("OAuthClient %v", ti["OAuthClient"])
		}
		if _, ok := ti["user"]; ok {
			t.Errorf("client-credentials token has a user: %v", ti["user"])
		}
		if rs, _ := ti["roles"].([]any); len(rs) != 1 || rs[0] != "admin" {
			t.Errorf("roles %v", ti["roles"])
		}
		if o, _ := ti["organization"].(map[string]any); o == nil || !uuidRE.MatchString(o["id"].(string)) {
			t.Errorf("organization %v", ti["organization"])
		}
	})

	t.Run("person logout", func(t *testing.T) {
		tok := e.login(t, "agent5", "agent")
		other := e.login(t, "agent5", "agent") // a second session of the same person
		e.must(t, 200, "GET", "/api/v2/tokens/me", tok.AccessToken, nil)
		e.must(t, 200, "HEAD", "/api/v2/tokens/me", tok.AccessToken, nil)
		e.must(t, 401, "HEAD", "/api/v2/tokens/me", "", nil)
		e.must(t, 204, "DELETE", "/api/v2/tokens/me", tok.AccessToken, nil)
		errorBody(t, e.send(t, "GET", "/api/v2/tokens/me", tok.AccessToken, nil), 401, "")
		// The session's refresh token is gone too.
		oauthError(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {webClientID}}, "", ""), 400, "invalid_grant")
		// Only that session ends.
		e.must(t, 200, "GET", "/api/v2/tokens/me", other.AccessToken, nil)
	})

	t.Run("client logout", func(t *testing.T) {
		tok := e.clientCredentials(t, demo.ClientID, demo.ClientSecret).AccessToken
		e.must(t, 204, "DELETE", "/api/v2/tokens/me", tok, nil)
		errorBody(t, e.send(t, "GET", "/api/v2/tokens/me", tok, nil), 401, "")
		e.must(t, 200, "GET", "/api/v2/tokens/me", e.token(t, pAdminCC), nil)
	})
}
