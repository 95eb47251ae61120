// Package salesforce is the Salesforce REST connector (crm.Connector):
// OAuth 2.0 server flows (JWT bearer, client credentials, username-password)
// with a lazily minted, cached token renewed once on INVALID_SESSION_ID;
// SOQL with nextRecordsUrl paging; SOSL or parameterized phone search;
// sObject get/create/update and upsert by external id; call logging as a
// Task upserted on an external-id field holding the call id; VoiceCall
// records; the Composite API (up to 25 subrequests in one API call, e.g.
// CreateWithActivity); and the API usage from Sforce-Limit-Info as
// Prometheus gauges.
//
// Reference: ../shared/reference/salesforce-and-crm.md §2. Its emulator is
// the sfemu subpackage.
package salesforce

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centralita/centralita/internal/crm"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a connector.
type Config struct {
	// LoginURL is where tokens are minted ("https://login.salesforce.com",
	// "https://test.salesforce.com" or the My Domain URL). Empty: InstanceURL.
	LoginURL string
	// InstanceURL is the org's My Domain URL; the token response's
	// instance_url wins when present.
	InstanceURL string
	// APIVersion is the REST version, "v66.0" by default.
	APIVersion string
	// Flow is "jwt" (default when PrivateKeyPEM is set), "client_credentials"
	// or "password".
	Flow                   string
	ClientID, ClientSecret string
	Username, Password     string
	SecurityToken          string // appended to Password (password flow)
	// PrivateKeyPEM is the RSA key (PKCS#1 or PKCS#8 PEM) that signs JWT
	// assertions; the certificate is on the connected app.
	PrivateKeyPEM string
	// Audience is the JWT aud; empty: LoginURL (the login host for
	// login/test.salesforce.com).
	Audience string
	// TaskCallIDField is the Task external-id field holding the call id
	// (default "neoCallId__c").
	TaskCallIDField string
	// ExternalIDField is the records' external-id field (default
	// "neoSyncId__c"), for callers that upsert records they created.
	ExternalIDField string
	// PhoneSearch is "sosl" (default) or "parameterized".
	PhoneSearch string
}

// DefaultTypes are searched when a query names none, in priority order.
var DefaultTypes = []string{crm.TypeContact, crm.TypeAccount, crm.TypeLead, crm.TypeOpportunity}

// searchFields are the fields read per type in searches.
var searchFields = map[string][]string{
	crm.TypeContact:     {"Id", "Name", "Phone", "MobilePhone"},
	crm.TypeAccount:     {"Id", "Name", "Phone"},
	crm.TypeLead:        {"Id", "Name", "Phone", "MobilePhone"},
	crm.TypeOpportunity: {"Id", "Name"},
}

// Connector talks to one Salesforce org. Safe for concurrent use.
type Connector struct {
	cfg  Config
	http *http.Client
	key  *rsa.PrivateKey
	kerr error

	mu       sync.Mutex
	token    string
	instance string

	used, limit atomic.Int64
	collector   *collector
}

// New returns a connector; nothing is sent until the first call.
func New(cfg Config, httpClient *http.Client) *Connector {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = "v66.0"
	}
	if !strings.HasPrefix(cfg.APIVersion, "v") {
		cfg.APIVersion = "v" + cfg.APIVersion
	}
	if cfg.TaskCallIDField == "" {
		cfg.TaskCallIDField = "neoCallId__c"
	}
	if cfg.ExternalIDField == "" {
		cfg.ExternalIDField = "neoSyncId__c"
	}
	if cfg.PhoneSearch == "" {
		cfg.PhoneSearch = "sosl"
	}
	if cfg.Flow == "" {
		switch {
		case cfg.PrivateKeyPEM != "":
			cfg.Flow = "jwt"
		case cfg.Password != "":
			cfg.Flow = "password"
		default:
			cfg.Flow = "client_credentials"
		}
	}
	cfg.LoginURL = strings.TrimRight(cfg.LoginURL, "/")
	cfg.InstanceURL = strings.TrimRight(cfg.InstanceURL, "/")
	if cfg.LoginURL == "" {
		cfg.LoginURL = cfg.InstanceURL
	}
	c := &Connector{cfg: cfg, http: httpClient}
	if cfg.Flow == "jwt" {
		c.key, c.kerr = parseKey(cfg.PrivateKeyPEM)
	}
	c.limit.Store(-1)
	c.used.Store(-1)
	c.collector = &collector{c: c, desc: prometheus.NewDesc("centralita_crm_salesforce_api_usage",
		"Salesforce daily API requests from Sforce-Limit-Info: used and limit.", []string{"kind"}, nil)}
	return c
}

func parseKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("salesforce: PrivateKeyPEM holds no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("salesforce: parse private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("salesforce: the private key is not RSA")
	}
	return rk, nil
}

// APIError is an error answer of the REST API: the HTTP status and the
// first element of the error array. It unwraps to one of the crm errors.
type APIError struct {
	Status  int
	Code    string
	Message string
	Fields  []string
	Kind    error // crm.ErrRejected, crm.ErrUnavailable, ...
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%v: salesforce %d", e.Kind, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += " (fields " + strings.Join(e.Fields, ", ") + ")"
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Kind }

// ---- tokens ----

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// accessToken returns the cached token, minting one if there is none or
// stale names the token that was refused.
func (c *Connector) accessToken(ctx context.Context, stale string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.token != stale {
		return c.token, c.instance, nil
	}
	c.token = ""
	form := url.Values{}
	switch c.cfg.Flow {
	case "jwt":
		if c.kerr != nil {
			return "", "", fmt.Errorf("%w: %v", crm.ErrAuth, c.kerr)
		}
		a, err := c.assertion()
		if err != nil {
			return "", "", fmt.Errorf("%w: %v", crm.ErrAuth, err)
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", a)
	case "client_credentials":
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", c.cfg.ClientID)
		form.Set("client_secret", c.cfg.ClientSecret)
	case "password":
		form.Set("grant_type", "password")
		form.Set("client_id", c.cfg.ClientID)
		form.Set("client_secret", c.cfg.ClientSecret)
		form.Set("username", c.cfg.Username)
		form.Set("password", c.cfg.Password+c.cfg.SecurityToken)
	default:
		return "", "", fmt.Errorf("%w: unknown flow %q", crm.ErrAuth, c.cfg.Flow)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.LoginURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", crm.ErrRejected, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%w: token request: %v", crm.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tr tokenResponse
	_ = json.Unmarshal(b, &tr)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", "", fmt.Errorf("%w: token endpoint answered %d", crm.ErrUnavailable, resp.StatusCode)
	case resp.StatusCode != http.StatusOK || tr.AccessToken == "":
		return "", "", fmt.Errorf("%w: token endpoint answered %d %s: %s", crm.ErrAuth, resp.StatusCode, tr.Error, tr.Description)
	}
	c.token = tr.AccessToken
	c.instance = strings.TrimRight(tr.InstanceURL, "/")
	if c.instance == "" {
		c.instance = c.cfg.InstanceURL
	}
	return c.token, c.instance, nil
}

// assertion builds the RS256 JWT: iss client id, sub username, aud the
// login host, exp three minutes ahead.
func (c *Connector) assertion() (string, error) {
	aud := c.cfg.Audience
	if aud == "" {
		aud = c.cfg.LoginURL
	}
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256"})
	claims, _ := json.Marshal(map[string]any{
		"iss": c.cfg.ClientID, "sub": c.cfg.Username, "aud": aud,
		"exp": time.Now().Add(3 * time.Minute).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ---- requests ----

// do sends a data-API request (path relative to /services/data/vXX.X, or
// absolute from /services/...), renewing the token once on
// INVALID_SESSION_ID. It decodes a 2xx JSON body into out and returns the
// status; errors are *APIError (or wrap crm.ErrUnavailable / ErrAuth).
func (c *Connector) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, fmt.Errorf("%w: %v", crm.ErrRejected, err)
		}
	}
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, inst, err := c.accessToken(ctx, stale)
		if err != nil {
			return 0, err
		}
		u := inst + path
		if !strings.HasPrefix(path, "/services/") {
			u = inst + "/services/data/" + c.cfg.APIVersion + path
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", crm.ErrRejected, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%w: %s %s: %v", crm.ErrUnavailable, method, path, err)
		}
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		c.noteLimits(resp.Header.Get("Sforce-Limit-Info"))
		if rerr != nil {
			return resp.StatusCode, fmt.Errorf("%w: %s %s: reading the answer: %v", crm.ErrUnavailable, method, path, rerr)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out != nil && len(bytes.TrimSpace(b)) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return resp.StatusCode, fmt.Errorf("%w: %s %s: bad answer: %v", crm.ErrUnavailable, method, path, err)
				}
			}
			return resp.StatusCode, nil
		}
		apiErr := classify(resp.StatusCode, b)
		if apiErr.Status == http.StatusUnauthorized {
			if attempt == 0 {
				stale = tok
				continue
			}
			apiErr.Kind = crm.ErrAuth
		}
		if resp.StatusCode == http.StatusMultipleChoices && out != nil {
			_ = json.Unmarshal(b, out)
		}
		return resp.StatusCode, apiErr
	}
}

// classify maps an error answer onto the crm errors.
func classify(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var arr []struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	var obj struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &arr) == nil && len(arr) > 0 {
		e.Code, e.Message, e.Fields = arr[0].ErrorCode, arr[0].Message, arr[0].Fields
	} else if json.Unmarshal(body, &obj) == nil && obj.ErrorCode != "" {
		e.Code, e.Message = obj.ErrorCode, obj.Message
	} else if status != http.StatusMultipleChoices {
		e.Message = strings.TrimSpace(string(truncate(body, 300)))
	}
	switch {
	case status == http.StatusMultipleChoices:
		e.Kind = crm.ErrMultiple
	case status == http.StatusUnauthorized:
		e.Kind = crm.ErrAuth
	case status >= 500, status == http.StatusTooManyRequests,
		e.Code == "REQUEST_LIMIT_EXCEEDED", e.Code == "UNABLE_TO_LOCK_ROW", e.Code == "SERVER_UNAVAILABLE",
		e.Code == "API_CURRENTLY_DISABLED" && status != http.StatusForbidden:
		e.Kind = crm.ErrUnavailable
	case status == http.StatusNotFound && (e.Code == "NOT_FOUND" || e.Code == "" || e.Code == "ENTITY_IS_DELETED") && !strings.Contains(e.Message, "external ID field"):
		e.Kind = crm.ErrNotFound
	default:
		e.Kind = crm.ErrRejected
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// ---- limits ----

var limitRe = regexp.MustCompile(`(?:^|[;,\s])api-usage=(\d+)/(\d+)`)

// ParseLimitInfo reads "api-usage=used/limit" from a Sforce-Limit-Info
// header value (other entries, e.g. api-bursts or per-app-api-usage, are
// ignored).
func ParseLimitInfo(h string) (used, limit int, ok bool) {
	m := limitRe.FindStringSubmatch(h)
	if m == nil {
		return 0, 0, false
	}
	u, err1 := strconv.Atoi(m[1])
	l, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return u, l, true
}

func (c *Connector) noteLimits(h string) {
	if u, l, ok := ParseLimitInfo(h); ok {
		c.used.Store(int64(u))
		c.limit.Store(int64(l))
	}
}

// APIUsage is the last Sforce-Limit-Info seen: daily API requests used and
// the limit (-1, -1 before any answer carried it).
func (c *Connector) APIUsage() (used, limit int) {
	return int(c.used.Load()), int(c.limit.Load())
}

// Collector exports APIUsage as the gauge
// centralita_crm_salesforce_api_usage{kind="used"|"limit"}.
func (c *Connector) Collector() prometheus.Collector { return c.collector }

type collector struct {
	c    *Connector
	desc *prometheus.Desc
}

func (k *collector) Describe(ch chan<- *prometheus.Desc) { ch <- k.desc }

func (k *collector) Collect(ch chan<- prometheus.Metric) {
	used, limit := k.c.APIUsage()
	if limit < 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, float64(used), "used")
	ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, float64(limit), "limit")
}
