package api

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/centralita/centralita/internal/auth"
)

// LoginPage is what the login page of the authorization endpoint shows.
type LoginPage struct {
	ClientID, RedirectURI, State, CodeChallenge, CodeChallengeMethod, Scope string
	Username, Error                                                         string
}

// LoginRenderer draws the login page; the web package provides it.
type LoginRenderer interface {
	RenderLogin(w http.ResponseWriter, r *http.Request, p LoginPage)
}

type oauthError struct {
	Error            string `json:"error"`
	Description      string `json:"description"`
	ErrorDescription string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="centralita"`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(oauthError{Error: code, Description: desc, ErrorDescription: desc})
}

// throttled answers 429 when the caller's address has failed too often.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request) bool {
	if blocked, reset := s.failures.blocked(clientIP(r)); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(reset))
		writeOAuthError(w, http.StatusTooManyRequests, "too_many_requests",
			"too many failed attempts from this address; retry in "+strconv.Itoa(reset)+" seconds")
		return true
	}
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// token is POST /oauth/token (RFC 6749 §4.1.3, §4.4, §6 and RFC 7636).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		writeOAuthError(w, 400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, 400, "invalid_request", "malformed form body: "+err.Error())
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
		if v, err := url.QueryUnescape(clientID); err == nil {
			clientID = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	var tok auth.Token
	var err error
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		if clientID == "" {
			writeOAuthError(w, 401, "invalid_client", "client credentials are required (HTTP Basic or client_id/client_secret)")
			return
		}
		tok, err = s.Auth.ClientCredentials(r.Context(), clientID, secret)
	case "authorization_code":
		if clientID == "" {
			clientID = r.PostForm.Get("client_id")
		}
		code, verifier := r.PostForm.Get("code"), r.PostForm.Get("code_verifier")
		if code == "" || verifier == "" || clientID == "" {
			writeOAuthError(w, 400, "invalid_request", "code, code_verifier and client_id are required")
			return
		}
		tok, err = s.Auth.ExchangeCode(r.Context(), clientID, code, verifier, r.PostForm.Get("redirect_uri"))
	case "refresh_token":
		if clientID == "" {
			clientID = r.PostForm.Get("client_id")
		}
		rt := r.PostForm.Get("refresh_token")
		if rt == "" || clientID == "" {
			writeOAuthError(w, 400, "invalid_request", "refresh_token and client_id are required")
			return
		}
		tok, err = s.Auth.Refresh(r.Context(), clientID, rt)
	case "":
		writeOAuthError(w, 400, "invalid_request", "grant_type is required")
		return
	default:
		writeOAuthError(w, 400, "unsupported_grant_type", "grant_type "+gt+" is not supported (use client_credentials, authorization_code or refresh_token)")
		return
	}
	switch {
	case errors.Is(err, auth.ErrInvalidClient):
		s.failures.take(clientIP(r))
		logFrom(r.Context()).Info("oauth: client authentication failed", "clientId", clientID)
		writeOAuthError(w, 401, "invalid_client", "Invalid login credentials.")
	case errors.Is(err, auth.ErrInvalidGrant):
		writeOAuthError(w, 400, "invalid_grant", err.Error())
	case errors.Is(err, auth.ErrUnauthorized):
		writeOAuthError(w, 400, "unauthorized_client", err.Error())
	case err != nil:
		logFrom(r.Context()).Error("oauth: token failed", "err", err)
		writeOAuthError(w, 500, "server_error", "the server failed to issue a token")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		json.NewEncoder(w).Encode(tok)
	}
}

func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func authorizeRequest(v url.Values) (auth.AuthorizeRequest, LoginPage) {
	ar := auth.AuthorizeRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		CodeChallenge: v.Get("code_challenge"), CodeChallengeMethod: v.Get("code_challenge_method"),
	}
	lp := LoginPage{ClientID: ar.ClientID, RedirectURI: ar.RedirectURI, State: v.Get("state"),
		CodeChallenge: ar.CodeChallenge, CodeChallengeMethod: ar.CodeChallengeMethod, Scope: v.Get("scope")}
	return ar, lp
}

// authorizePage is GET /oauth/authorize: validate, then show the login page.
// Errors about the client or redirect URI are shown, never redirected, so
// the endpoint cannot be used to bounce browsers to arbitrary sites.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ar, lp := authorizeRequest(q)
	if q.Get("response_type") != "code" {
		writeOAuthError(w, 400, "unsupported_response_type", "response_type must be code")
		return
	}
	if err := s.Auth.CheckAuthorize(r.Context(), ar, origin(r)); err != nil {
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	}
	s.renderLogin(w, r, lp)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, lp LoginPage) {
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Cache-Control", "no-store")
	if s.Login == nil {
		http.Error(w, "login page unavailable", 500)
		return
	}
	s.Login.RenderLogin(w, r, lp)
}

// authorizeSubmit is POST /oauth/authorize from the login form.
func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if s.throttled(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, 400, "invalid_request", "malformed form body")
		return
	}
	if r.PostForm.Get("response_type") != "code" {
		writeOAuthError(w, 400, "unsupported_response_type", "response_type must be code")
		return
	}
	ar, lp := authorizeRequest(r.PostForm)
	ar.Username, ar.Password = strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	lp.Username = ar.Username
	code, err := s.Auth.Authorize(r.Context(), ar, origin(r))
	switch {
	case errors.Is(err, auth.ErrBadLogin):
		s.failures.take(clientIP(r))
		logFrom(r.Context()).Info("login failed", "username", ar.Username)
		lp.Error = "bad_login"
		s.renderLogin(w, r, lp)
		return
	case errors.Is(err, auth.ErrInvalidClient), errors.Is(err, auth.ErrInvalidRequest), errors.Is(err, auth.ErrUnauthorized):
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	case err != nil:
		logFrom(r.Context()).Error("login: authorize failed", "err", err)
		writeOAuthError(w, 500, "server_error", "the server failed to complete the login")
		return
	}
	target := ar.RedirectURI
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	v := url.Values{"code": {code}}
	if lp.State != "" {
		v.Set("state", lp.State)
	}
	http.Redirect(w, r, target+sep+v.Encode(), http.StatusSeeOther)
}
