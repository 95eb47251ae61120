// Package api is the HTTP face of Centralita: the platform API under
// /api/v2 (paths and shapes of the Genesys Cloud Platform API v2 where the
// two share a resource), the OAuth endpoints, health, metrics and the
// OpenAPI document. It translates HTTP to calls on domain services and back.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/campaign"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/conversation"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/dialer"
	"github.com/centralita/centralita/internal/directory"
	"github.com/centralita/centralita/internal/messaging"
	"github.com/centralita/centralita/internal/notify"
	"github.com/centralita/centralita/internal/prompt"
	"github.com/centralita/centralita/internal/recording"
	"github.com/centralita/centralita/internal/session"
	"github.com/centralita/centralita/internal/trunk"
)

// Version is the API document version.
const Version = "2.0.0"

// MaxFailedLoginsPerMinute bounds password and client-secret guessing from
// one address; successful logins are not counted.
const MaxFailedLoginsPerMinute = 20

// MaxBodyBytes bounds request bodies.
const MaxBodyBytes = 1 << 20

// Server holds what the handlers need.
type Server struct {
	Auth      *auth.Service
	Directory *directory.Service
	Clock     clock.Clock
	Log       *slog.Logger
	Registry  *prometheus.Registry
	RateLimit int // requests per minute per token
	// Ready reports whether the program can serve (store and bus up).
	Ready func(ctx context.Context) error
	// Web serves the embedded UI for paths the API does not own.
	Web http.Handler
	// Login renders the login page of the authorization endpoint.
	Login LoginRenderer
	// Sessions keeps agents' station logins, presences and routing statuses.
	Sessions *session.Service
	// Conversations is the conversation record and call control.
	Conversations *conversation.Service
	// Simulator injects simulated calls; nil outside the demo.
	Simulator Simulator
	// Notify is the live notifications hub (channels, topics, WebSockets).
	Notify *notify.Hub
	// Contacts keeps schemas, contact lists, contacts and do-not-call lists.
	Contacts *contact.Service
	// Campaigns keeps campaigns, agent campaign logins and callbacks.
	Campaigns *campaign.Service
	// Dialer runs the outbound campaigns (the agents' desk, live figures).
	Dialer *dialer.Engine
	// CRM keeps call centers, runs screen pops and the activity log.
	CRM *crm.Service
	// CRMRuntime is the live connector: the call center in use, screen pops.
	CRMRuntime CRMRuntime
	// Trunks keeps the SIP trunks; Recordings indexes call recordings.
	Trunks     *trunk.Service
	Recordings *recording.Service
	// Registrations reports the trunks' registrations with their
	// carriers (the SIP switch); nil without SIP telephony.
	Registrations TrunkRegistrations
	// Prompts keeps the operators' prompts (nil: the prompts API is off).
	Prompts *prompt.Service
	// Messaging sends text messages through messaging integrations; nil: off.
	Messaging *messaging.Service

	limiter  *limiter
	failures *limiter // failed logins and client authentications per client IP
	metrics  *httpMetrics
}

// Handler builds the whole HTTP handler.
func (s *Server) Handler() http.Handler {
	s.limiter = newLimiter(s.Clock, s.RateLimit)
	s.failures = newLimiter(s.Clock, MaxFailedLoginsPerMinute)
	s.metrics = newHTTPMetrics(s.Registry)

	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("Centralita Platform API", Version)
	cfg.CreateHooks = nil // no $schema fields or Link headers: bodies must match the platform's JSON
	cfg.Info.Description = "Contact-center platform API. Paths and shapes follow the Genesys Cloud Platform API v2 where the two share a resource. " +
		"Authenticate with POST /oauth/token (client credentials, Basic auth) and send `Authorization: Bearer <token>`."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"oauth": {Type: "oauth2", Flows: &huma.OAuthFlows{
			ClientCredentials: &huma.OAuthFlow{TokenURL: "/oauth/token", Scopes: map[string]string{}},
			AuthorizationCode: &huma.OAuthFlow{AuthorizationURL: "/oauth/authorize", TokenURL: "/oauth/token", Scopes: map[string]string{}},
		}},
	}
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = "/docs"
	cfg.SchemasPath = "/schemas"
	api := humago.New(mux, cfg)
	api.UseMiddleware(s.authorize(api))
	huma.NewErrorWithContext = toError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return toError(nil, status, msg, errs...)
	}

	s.registerUsers(api)
	s.registerStations(api)
	s.registerRouting(api)
	s.registerPresence(api)
	s.registerOAuthClients(api)
	s.registerTokens(api)
	s.registerUserPresence(api)
	s.registerConversations(api)
	s.registerSimulation(api)
	s.registerNotifications(api)
	s.registerContacts(api)
	s.registerCampaigns(api)
	s.registerDialer(api)
	s.registerCRM(api)
	s.registerCRMPreview(api)
	s.registerCRMActivity(api)
	s.registerCRMExec(api)
	s.registerTrunks(api)
	s.registerRecordings(api)
	s.registerPrompts(api)
	s.registerMessaging(api)
	s.registerCRMSaveLog(api)

	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /oauth/authorize", s.authorizePage)
	mux.HandleFunc("POST /oauth/authorize", s.authorizeSubmit)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /channels/{channelId}", s.notificationSocket)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	if s.Web != nil {
		mux.Handle("/", s.Web)
	}
	return s.outer(mux)
}

type ctxKey int

const (
	keyPrincipal ctxKey = iota
	keyURL
	keyLog
)

// outer wraps every request: correlation id, recovery, JSON 404/405, body
// limits, access metrics and logs.
func (s *Server) outer(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cid := r.Header.Get("ININ-Correlation-Id")
		if cid == "" || len(cid) > 100 {
			cid = uuid.NewString()
		}
		w.Header().Set("ININ-Correlation-Id", cid)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		log := s.Log.With("correlationId", cid)
		ctx := bus.WithCorrelationID(r.Context(), cid)
		ctx = context.WithValue(ctx, keyURL, r.URL)
		ctx = context.WithValue(ctx, keyLog, log)
		r = recordingAlias(r.WithContext(ctx))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
		}
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic serving request", "panic", v, "stack", string(debug.Stack()))
				writeJSONError(rec, r, newError(500, "", "The server failed to handle the request; quote the contextId when reporting it."))
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.observe(r.Method, route, rec.status, time.Since(start))
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/oauth/") {
				log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", time.Since(start).Milliseconds())
			}
		}()
		if _, pattern := mux.Handler(r); (pattern == "" || pattern == "/") && (strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/oauth/")) {
			// Distinguish a wrong method on a known path from an unknown path.
			probe := r.Clone(ctx)
			for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				probe.Method = m
				if _, p := mux.Handler(probe); p != "" && p != "/" {
					writeJSONError(rec, r, newError(405, "", r.Method+" is not supported on "+r.URL.Path))
					return
				}
			}
			writeJSONError(rec, r, newError(404, "", "No resource at "+r.URL.Path))
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSONError(w http.ResponseWriter, r *http.Request, e *ErrorBody) {
	e.ContextID = bus.CorrelationID(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}

func logFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLog).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

func principal(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(keyPrincipal).(auth.Principal)
	return p
}

// Access levels put in an operation's metadata under "access".
const (
	accessPublic = "public"
)

// op builds an operation that needs role min (or any authenticated caller
// with "" ).
func op(id, method, path, summary, tag string, min auth.Role) huma.Operation {
	o := huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{tag},
		Security: []map[string][]string{{"oauth": {}}},
		Metadata: map[string]any{"role": min},
	}
	if min != "" {
		o.Description = "Requires the " + string(min) + " role or higher."
	}
	return o
}

// authorize is the huma middleware that authenticates the bearer token,
// checks the operation's role and applies the per-token rate limit.
func (s *Server) authorize(api huma.API) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if op.Metadata["access"] == accessPublic {
			next(ctx)
			return
		}
		h := ctx.Header("Authorization")
		scheme, token, _ := strings.Cut(h, " ")
		if h == "" || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
			writeHumaError(api, ctx, newError(401, "authentication.required", "No authentication bearer token specified in authorization header."))
			return
		}
		p, err := s.Auth.Authenticate(ctx.Context(), strings.TrimSpace(token))
		if err != nil {
			if !isBadToken(err) {
				writeHumaError(api, ctx, toError(ctx, 500, "authentication failed", err).(*ErrorBody))
				return
			}
			writeHumaError(api, ctx, newError(401, "bad.credentials", "Invalid or expired bearer token: get a new one from /oauth/token."))
			return
		}
		res := s.limiter.take(p.TokenHash)
		ctx.SetHeader("inin-ratelimit-count", strconv.Itoa(res.count))
		ctx.SetHeader("inin-ratelimit-allowed", strconv.Itoa(res.allowed))
		ctx.SetHeader("inin-ratelimit-reset", strconv.Itoa(res.reset))
		if !res.ok {
			ctx.SetHeader("Retry-After", strconv.Itoa(res.reset))
			e := newError(429, "too.many.requests", "Rate limit exceeded the maximum. Retry the request in ["+strconv.Itoa(res.reset)+"] seconds")
			e.MessageParams = map[string]string{"retryAfter": strconv.Itoa(res.reset)}
			writeHumaError(api, ctx, e)
			return
		}
		if min, _ := op.Metadata["role"].(auth.Role); min != "" && !p.Has(min) {
			writeHumaError(api, ctx, newError(403, "missing.permissions", "This action needs the "+string(min)+" role."))
			return
		}
		next(huma.WithValue(ctx, keyPrincipal, p))
	}
}

func writeHumaError(api huma.API, ctx huma.Context, e *ErrorBody) {
	e.ContextID = bus.CorrelationID(ctx.Context())
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(e.Status)
	json.NewEncoder(ctx.BodyWriter()).Encode(e)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			w.WriteHeader(503)
			json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

// requestURL is the URL of the request being served.
func requestURL(ctx context.Context) *url.URL {
	if u, ok := ctx.Value(keyURL).(*url.URL); ok {
		return u
	}
	return &url.URL{}
}

func isBadToken(err error) bool { return errors.Is(err, auth.ErrBadToken) }
