package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralita/centralita/internal/app"
	"github.com/centralita/centralita/internal/app/apptest"
	"github.com/centralita/centralita/internal/clock"
	"github.com/centralita/centralita/internal/demo"
)

// webClientID is the built-in public client of the web console.
const webClientID = "centralita-web"

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	dateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// testEnv is one running Centralita plus a cache of tokens, so each person is
// logged in (argon2id) once per test.
type testEnv struct {
	app   *app.App
	base  string
	clock *clock.Fake // nil unless the test asked for one
	http  *http.Client

	mu      sync.Mutex
	tokens  map[string]string
	secrets map[string]string // client id → secret, for clients the test created
	ids     map[string]string // username → user id
}

// startEnv starts the whole program with demo data on 127.0.0.1.
func startEnv(t *testing.T, o apptest.Options) *testEnv {
	t.Helper()
	e := &testEnv{
		app:    apptest.Start(t, o),
		http:   &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tokens: map[string]string{}, secrets: map[string]string{}, ids: map[string]string{},
	}
	e.base = e.app.URL()
	if f, ok := o.Clock.(*clock.Fake); ok {
		e.clock = f
	}
	if !strings.HasPrefix(e.base, "http://127.0.0.1:") {
		t.Fatalf("app listens on %s, want 127.0.0.1", e.base)
	}
	return e
}

// newFakeClock is a fake clock at a fixed, realistic time.
func newFakeClock() *clock.Fake {
	return clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	b := string(r.body)
	if len(b) > 2000 {
		b = b[:2000] + "…"
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// obj decodes the body as a JSON object.
func (r *response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %s", err, r)
	}
	return m
}

// entities returns the entities of a listing.
func (r *response) entities(t *testing.T) []map[string]any {
	t.Helper()
	raw, ok := r.obj(t)["entities"].([]any)
	if !ok {
		t.Fatalf("no entities array: %s", r)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// send makes a request. body may be nil, a string (sent as is) or any value
// (sent as JSON). A non-nil body gets Content-Type application/json unless
// hdr sets one.
func (e *testEnv) send(t *testing.T, method, path, token string, body any, hdr ...string) *response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(t, req)
}

// do sends a prepared request and reads the whole answer.
func (e *testEnv) do(t *testing.T, req *http.Request) *response {
	t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends and fails the test unless the status is want.
func (e *testEnv) must(t *testing.T, want int, method, path, token string, body any) *response {
	t.Helper()
	r := e.send(t, method, path, token, body)
	if r.status != want {
		t.Fatalf("%s %s: got %s, want status %d", method, path, r, want)
	}
	return r
}

// postForm posts a form; user and pass, when user is not empty, go in a
// Basic Authorization header.
func (e *testEnv) postForm(t *testing.T, path string, form url.Values, user, pass string) *response {
	t.Helper()
	req, err := http.NewRequest("POST", e.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return e.do(t, req)
}

// tokenResponse is the answer of POST /oauth/token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func decodeToken(t *testing.T, r *response) tokenResponse {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("token endpoint: %s", r)
	}
	var tok tokenResponse
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatalf("token body: %v: %s", err, r)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") || tok.ExpiresIn <= 0 {
		t.Fatalf("bad token answer: %s", r)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token answer Cache-Control %q, want no-store", cc)
	}
	return tok
}

// clientCredentials gets a client-credentials token with Basic auth.
func (e *testEnv) clientCredentials(t *testing.T, id, secret string) tokenResponse {
	t.Helper()
	tok := decodeToken(t, e.postForm(t, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, secret))
	if tok.RefreshToken != "" {
		t.Errorf("client-credentials answer carries a refresh token")
	}
	return tok
}

// pkce is a verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := strings.Repeat(seed, 64/len(seed)+1)[:64] // 43..128 characters
	sum := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authorizeParams are the query (or form) of /oauth/authorize for the web client.
func (e *testEnv) authorizeParams(p pkce) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {webClientID}, "redirect_uri": {e.base + "/ui/"},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"}, "state": {"x"},
	}
}

// authorizeCode runs the login page part of the code flow and returns the code.
func (e *testEnv) authorizeCode(t *testing.T, username, password string, p pkce) string {
	t.Helper()
	q := e.authorizeParams(p)
	page := e.send(t, "GET", "/oauth/authorize?"+q.Encode(), "", nil)
	if page.status != 200 || !strings.Contains(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %s", page)
	}
	if !strings.Contains(string(page.body), p.challenge) || !strings.Contains(string(page.body), `name="password"`) {
		t.Fatalf("login page does not carry the request or a password field: %s", page)
	}
	form := e.authorizeParams(p)
	form.Set("username", username)
	form.Set("password", password)
	r := e.postForm(t, "/oauth/authorize", form, "", "")
	if r.status != http.StatusSeeOther {
		t.Fatalf("login of %s: %s", username, r)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.base+"/ui/" {
		t.Fatalf("redirected to %s, want %s/ui/", loc, e.base)
	}
	if loc.Query().Get("state") != "x" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s lacks code or state", loc)
	}
	return loc.Query().Get("code")
}

// exchange redeems a code as the public web client (no Basic header).
func (e *testEnv) exchange(t *testing.T, code, verifier string) *response {
	t.Helper()
	return e.postForm(t, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {webClientID}, "redirect_uri": {e.base + "/ui/"},
	}, "", "")
}

// login logs a person in through authorization code + PKCE, as the web
// console does, and returns the token answer.
func (e *testEnv) login(t *testing.T, username, password string) tokenResponse {
	t.Helper()
	p := newPKCE("verifier-" + username + "-")
	code := e.authorizeCode(t, username, password, p)
	tok := decodeToken(t, e.exchange(t, code, p.verifier))
	if tok.RefreshToken == "" {
		t.Fatal("code grant answer has no refresh token")
	}
	return tok
}

// demoPassword is the demo password of a demo user.
func demoPassword(t *testing.T, username string) string {
	t.Helper()
	for _, l := range demo.Logins {
		if l.Username == username {
			return l.Password
		}
	}
	t.Fatalf("%s is not a demo user", username)
	return ""
}

// Principals of the permission tests.
const (
	pAdmin      = "admin"         // admin person
	pSupervisor = "supervisor"    // supervisor person
	pAgent      = "agent1"        // agent person
	pAdminCC    = "cc:admin"      // demo-client (admin role)
	pSuperCC    = "cc:supervisor" // client created by the test
	pAgentCC    = "cc:agent"      // client created by the test
)

// token returns a cached access token for a principal: a demo username, or
// "cc:<role>" for a client-credentials client holding that role.
func (e *testEnv) token(t *testing.T, who string) string {
	t.Helper()
	e.mu.Lock()
	tok, ok := e.tokens[who]
	e.mu.Unlock()
	if ok {
		return tok
	}
	tok = e.freshToken(t, who)
	e.mu.Lock()
	e.tokens[who] = tok
	e.mu.Unlock()
	return tok
}

// freshToken gets a new token for a principal (see token).
func (e *testEnv) freshToken(t *testing.T, who string) string {
	t.Helper()
	role, cc := strings.CutPrefix(who, "cc:")
	if !cc {
		return e.login(t, who, demoPassword(t, who)).AccessToken
	}
	if role == "admin" {
		return e.clientCredentials(t, demo.ClientID, demo.ClientSecret).AccessToken
	}
	id, secret := e.roleClient(t, role)
	return e.clientCredentials(t, id, secret).AccessToken
}

// roleClient creates (once) a client-credentials client with one role.
func (e *testEnv) roleClient(t *testing.T, role string) (id, secret string) {
	t.Helper()
	name := "Integration " + role
	e.mu.Lock()
	id, ok := e.ids["client:"+role]
	secret = e.secrets[id]
	e.mu.Unlock()
	if ok {
		return id, secret
	}
	r := e.must(t, 200, "POST", "/api/v2/oauth/clients", e.token(t, pAdminCC),
		map[string]any{"name": name, "authorizedGrantType": "CLIENT-CREDENTIALS", "roles": []string{role}})
	c := r.obj(t)
	id, _ = c["id"].(string)
	secret, _ = c["secret"].(string)
	if id == "" || secret == "" {
		t.Fatalf("created client lacks id or secret: %s", r)
	}
	e.mu.Lock()
	e.ids["client:"+role] = id
	e.secrets[id] = secret
	e.mu.Unlock()
	return id, secret
}

// userID returns a demo user's id, looked up by username.
func (e *testEnv) userID(t *testing.T, username string) string {
	t.Helper()
	e.mu.Lock()
	id, ok := e.ids[username]
	e.mu.Unlock()
	if ok {
		return id
	}
	r := e.must(t, 200, "GET", "/api/v2/users?pageSize=100&state=any", e.token(t, pAdminCC), nil)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range r.entities(t) {
		e.ids[u["username"].(string)] = u["id"].(string)
	}
	id, ok = e.ids[username]
	if !ok {
		t.Fatalf("no user %q in %s", username, r)
	}
	return id
}

// findID returns the id of the entity named name in a listing at path
// (read with the admin client).
func (e *testEnv) findID(t *testing.T, path, name string) string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := e.must(t, 200, "GET", path+sep+"pageSize=500", e.token(t, pAdminCC), nil)
	for _, ent := range r.entities(t) {
		if ent["name"] == name {
			return ent["id"].(string)
		}
	}
	t.Fatalf("no %q in %s: %s", name, path, r)
	return ""
}

// names lists the name field of a listing's entities.
func names(ents []map[string]any) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i], _ = e["name"].(string)
	}
	return out
}

// errorBody checks the platform error shape and returns it.
func errorBody(t *testing.T, r *response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	m := r.obj(t)
	if s, ok := m["status"].(float64); !ok || int(s) != status {
		t.Errorf("error status field %v, want %d: %s", m["status"], status, r)
	}
	if c, _ := m["code"].(string); code != "" && c != code {
		t.Errorf("error code %q, want %q: %s", c, code, r)
	}
	for _, k := range []string{"code", "message", "messageWithParams", "contextId"} {
		if v, ok := m[k].(string); !ok || v == "" {
			t.Errorf("error field %s is %v, want a non-empty string: %s", k, m[k], r)
		}
	}
	if _, ok := m["messageParams"].(map[string]any); !ok {
		t.Errorf("error messageParams is %v, want an object: %s", m["messageParams"], r)
	}
	for _, k := range []string{"details", "errors"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("error %s is %v, want an array: %s", k, m[k], r)
		}
	}
	if cid := r.header.Get("ININ-Correlation-Id"); cid == "" || m["contextId"] != cid {
		t.Errorf("contextId %v differs from ININ-Correlation-Id %q", m["contextId"], cid)
	}
	return m
}

// detailFields lists the fieldName of each error detail.
func detailFields(m map[string]any) []string {
	var out []string
	ds, _ := m["details"].([]any)
	for _, d := range ds {
		if dm, ok := d.(map[string]any); ok {
			f, _ := dm["fieldName"].(string)
			out = append(out, f)
		}
	}
	return out
}
