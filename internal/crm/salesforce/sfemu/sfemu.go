// Package sfemu is an in-memory Salesforce REST emulator for tests: the
// OAuth token endpoint (JWT bearer, client credentials, username-password),
// SOQL /query with nextRecordsUrl paging, SOSL /search (the phone-fields
// subset the connector sends), /parameterizedSearch (GET and POST), sObject
// create/read/update/delete, upsert by external id (201/200, 300 on several
// matches), /composite (subrequests in order with @{ref.path} references,
// allOrNone rollback, one API request for the whole; see composite.go),
// Salesforce-shaped error arrays, token expiry (401
// INVALID_SESSION_ID), outages (503), the daily limit (403
// REQUEST_LIMIT_EXCEEDED) and the Sforce-Limit-Info header on every answer.
//
// Shapes follow ../shared/reference/salesforce-and-crm.md §2. It is a test
// double: one org, no sharing rules, a fixed schema per object (AddField adds
// fields), string/number/bool field values.
package sfemu

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prefixes are the 3-character key prefixes of record ids per object.
var Prefixes = map[string]string{
	"Account": "001", "Contact": "003", "User": "005", "Opportunity": "006",
	"Lead": "00Q", "Task": "00T", "VoiceCall": "0LQ",
}

// Emulator is one emulated org. Set the exported configuration before the
// first request.
type Emulator struct {
	// Credentials the token endpoint accepts.
	ClientID, ClientSecret string
	Username, Password     string
	SecurityToken          string // appended to Password in the password flow
	// JWTPublicKey verifies JWT-bearer assertions (nil refuses the flow).
	JWTPublicKey *rsa.PublicKey
	// Audience is the aud a JWT assertion must carry
	// (default "https://login.salesforce.com").
	Audience string
	// PageSize is the SOQL batch size (default 2000); the request header
	// Sforce-Query-Options: batchSize=N lowers it.
	PageSize int
	// APILimit is the daily API request limit reported in Sforce-Limit-Info
	// (default 15000).
	APILimit int

	srv *httptest.Server

	mu       sync.Mutex
	schema   map[string]map[string]bool  // object → fields
	extIDs   map[string]map[string]bool  // object → external-id fields
	records  map[string][]map[string]any // object → records in insertion order
	seq      int
	tokens   map[string]bool
	cursors  map[string][]map[string]any // query locator → remaining rows
	down     bool
	limited  bool
	inject   []injected
	requests int
	apiUsed  int
	log      []string
}

type injected struct {
	status  int
	code    string
	message string
}

// New starts an emulator on 127.0.0.1 with the default schema, one active
// user ("Integration User") and default credentials (client "emu-client" /
// "emu-secret", user "integration@example.com" / "password" + token
// "TOKEN").
func New() *Emulator {
	e := &Emulator{
		ClientID: "emu-client", ClientSecret: "emu-secret",
		Username: "integration@example.com", Password: "password", SecurityToken: "TOKEN",
		Audience: "https://login.salesforce.com",
		PageSize: 2000, APILimit: 15000,
		schema:  map[string]map[string]bool{},
		extIDs:  map[string]map[string]bool{},
		records: map[string][]map[string]any{},
		tokens:  map[string]bool{},
		cursors: map[string][]map[string]any{},
	}
	person := []string{"FirstName", "LastName", "Name", "Phone", "MobilePhone", "HomePhone", "OtherPhone", "Email", "Title", "Description", "OwnerId", "neoSyncId__c"}
	e.define("Contact", append(person, "AccountId"), "neoSyncId__c")
	e.define("Lead", append(person, "Company", "Status"), "neoSyncId__c")
	e.define("Account", []string{"Name", "Phone", "Fax", "Website", "Industry", "Description", "OwnerId", "neoSyncId__c"}, "neoSyncId__c")
	e.define("Opportunity", []string{"Name", "StageName", "CloseDate", "Amount", "AccountId", "Description", "OwnerId", "neoSyncId__c"}, "neoSyncId__c")
	e.define("Task", []string{"Subject", "Status", "Priority", "WhoId", "WhatId", "AccountId", "CallType", "CallDisposition",
		"CallDurationInSeconds", "CallObject", "Description", "ActivityDate", "TaskSubtype", "Type", "OwnerId", "neoCallId__c"}, "neoCallId__c")
	e.define("VoiceCall", []string{"VendorCallKey", "CallType", "CallStartDateTime", "CallEndDateTime", "CallDurationInSeconds",
		"CallDisposition", "FromPhoneNumber", "ToPhoneNumber", "RelatedRecordId", "ActivityId", "Description", "OwnerId"}, "VendorCallKey")
	e.define("User", []string{"Name", "FirstName", "LastName", "Email", "Username", "IsActive"})
	e.srv = httptest.NewServer(e.Handler())
	e.Seed("User", map[string]any{"FirstName": "Integration", "LastName": "User", "Email": "integration@example.com", "Username": "integration@example.com", "IsActive": true})
	return e
}

func (e *Emulator) define(obj string, fields []string, ext ...string) {
	e.schema[obj] = map[string]bool{"Id": true, "CreatedDate": true, "LastModifiedDate": true}
	for _, f := range fields {
		e.schema[obj][f] = true
	}
	e.extIDs[obj] = map[string]bool{}
	for _, f := range ext {
		e.extIDs[obj][f] = true
	}
}

// AddField adds a field to an object (and marks it External ID when ext).
func (e *Emulator) AddField(obj, field string, ext bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.schema[obj] == nil {
		e.define(obj, nil)
	}
	e.schema[obj][field] = true
	if ext {
		e.extIDs[obj][field] = true
	}
}

// URL is the emulator's base URL (login and instance URL alike).
func (e *Emulator) URL() string { return e.srv.URL }

// Client is an HTTP client for the emulator.
func (e *Emulator) Client() *http.Client { return e.srv.Client() }

// Close stops the server.
func (e *Emulator) Close() { e.srv.Close() }

// SetDown makes every endpoint answer 503 (true) or work again.
func (e *Emulator) SetDown(down bool) { e.mu.Lock(); e.down = down; e.mu.Unlock() }

// SetRateLimited makes the data API answer 403 REQUEST_LIMIT_EXCEEDED.
func (e *Emulator) SetRateLimited(on bool) { e.mu.Lock(); e.limited = on; e.mu.Unlock() }

// ExpireTokens revokes every access token issued so far: the next data
// request answers 401 INVALID_SESSION_ID.
func (e *Emulator) ExpireTokens() { e.mu.Lock(); clear(e.tokens); e.mu.Unlock() }

// FailNext makes the next data request answer status with an error body of
// code and message (e.g. 400 UNABLE_TO_LOCK_ROW, 500 UNKNOWN_EXCEPTION).
func (e *Emulator) FailNext(status int, code, message string) {
	e.mu.Lock()
	e.inject = append(e.inject, injected{status, code, message})
	e.mu.Unlock()
}

// SetAPIUsage sets the used-request counter reported in Sforce-Limit-Info.
func (e *Emulator) SetAPIUsage(used int) { e.mu.Lock(); e.apiUsed = used; e.mu.Unlock() }

// Requests is how many requests the emulator answered (token requests
// included).
func (e *Emulator) Requests() int { e.mu.Lock(); defer e.mu.Unlock(); return e.requests }

// Log lists "METHOD path" of every request answered, in order.
func (e *Emulator) Log() []string { e.mu.Lock(); defer e.mu.Unlock(); return slices.Clone(e.log) }

// Tasks lists the Task records (copies).
func (e *Emulator) Tasks() []map[string]any { return e.Records("Task") }

// Records lists the records of an object (copies), in insertion order.
func (e *Emulator) Records(obj string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []map[string]any
	for _, r := range e.records[obj] {
		out = append(out, cloneRec(r))
	}
	return out
}

// Record returns one record by id (a copy) or nil.
func (e *Emulator) Record(obj, id string) map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.find(obj, id); r != nil {
		return cloneRec(r)
	}
	return nil
}

// Seed stores a record directly (no validation besides the object) and
// returns its id. For Contact, Lead and User a "Name" without FirstName or
// LastName becomes the LastName.
func (e *Emulator) Seed(obj string, fields map[string]any) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.schema[obj] == nil {
		panic("sfemu: unknown object " + obj)
	}
	r := map[string]any{}
	for k, v := range fields {
		r[k] = v
	}
	if derivedName(obj) {
		if n, ok := r["Name"]; ok && r["FirstName"] == nil && r["LastName"] == nil {
			r["LastName"] = n
		}
	}
	return e.insert(obj, r)
}

func derivedName(obj string) bool { return obj == "Contact" || obj == "Lead" || obj == "User" }

func cloneRec(r map[string]any) map[string]any {
	c := make(map[string]any, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// newID makes an 18-character id: prefix + pod + counter + the case-safe
// checksum suffix.
func (e *Emulator) newID(obj string) string {
	e.seq++
	p := Prefixes[obj]
	if p == "" {
		p = "a0" + string(rune('A'+len(obj)%26))
	}
	id15 := fmt.Sprintf("%s%s%09d", p, "Kg0", e.seq)
	return id15 + checksum(id15)
}

func checksum(id15 string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out []byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		out = append(out, alpha[n])
	}
	return string(out)
}

func (e *Emulator) insert(obj string, r map[string]any) string {
	id := e.newID(obj)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
	r["Id"] = id
	r["CreatedDate"] = now
	r["LastModifiedDate"] = now
	fixName(obj, r)
	e.records[obj] = append(e.records[obj], r)
	return id
}

func fixName(obj string, r map[string]any) {
	if !derivedName(obj) {
		return
	}
	var parts []string
	for _, f := range []string{"FirstName", "LastName"} {
		if s, _ := r[f].(string); s != "" {
			parts = append(parts, s)
		}
	}
	r["Name"] = strings.Join(parts, " ")
}

func (e *Emulator) find(obj, id string) map[string]any {
	for _, r := range e.records[obj] {
		rid := r["Id"].(string)
		if rid == id || (len(id) == 15 && rid[:15] == id) {
			return r
		}
	}
	return nil
}

// apiError is one element of a Salesforce error body.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

type reply struct {
	status int
	body   any
}

func fail(status int, code, msg string, fields ...string) reply {
	return reply{status, []apiError{{Message: msg, ErrorCode: code, Fields: fields}}}
}

// Handler is the emulator's HTTP handler (also served at URL()).
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests++
		e.log = append(e.log, r.Method+" "+r.URL.Path)
		rep, data := e.route(r)
		if data {
			if rep.status != http.StatusServiceUnavailable {
				e.apiUsed++
			}
			w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", e.apiUsed, e.APILimit))
		}
		e.mu.Unlock()
		if rep.body == nil {
			w.WriteHeader(rep.status)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(rep.status)
		_ = json.NewEncoder(w).Encode(rep.body)
	})
}

// route answers r with e.mu held; data reports a data-API request (counted
// against the limit).
func (e *Emulator) route(r *http.Request) (reply, bool) {
	if e.down {
		return fail(http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Service temporarily unavailable"), strings.HasPrefix(r.URL.Path, "/services/data")
	}
	path := r.URL.EscapedPath()
	if path == "/services/oauth2/token" {
		if r.Method != http.MethodPost {
			return fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "POST only"), false
		}
		return e.token(r), false
	}
	rest, ok := strings.CutPrefix(path, "/services/data/")
	if !ok {
		return fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist"), false
	}
	if rest == "" {
		return reply{200, []map[string]string{{"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"}}}, false
	}
	version, rest, _ := strings.Cut(rest, "/")
	if len(version) < 2 || version[0] != 'v' {
		return fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist"), false
	}
	if !e.authorized(r) {
		return fail(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid"), true
	}
	if e.limited {
		return fail(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), true
	}
	if len(e.inject) > 0 {
		in := e.inject[0]
		e.inject = e.inject[1:]
		return fail(in.status, in.code, in.message), true
	}
	return e.dispatch(r, version, rest), true
}

// dispatch answers a data-API resource (rest is the path after
// /services/data/<version>/) with e.mu held, once the request is
// authorized; composite subrequests come through here too.
func (e *Emulator) dispatch(r *http.Request, version, rest string) reply {
	base := "/services/data/" + version
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	switch {
	case segs[0] == "query" && len(segs) == 1 && r.Method == http.MethodGet:
		return e.query(r, base)
	case segs[0] == "query" && len(segs) == 2 && r.Method == http.MethodGet:
		return e.queryMore(base, segs[1])
	case segs[0] == "search" && len(segs) == 1 && r.Method == http.MethodGet:
		return e.search(r.URL.Query().Get("q"), base)
	case segs[0] == "parameterizedSearch" && len(segs) == 1:
		return e.paramSearch(r, base)
	case segs[0] == "sobjects" && len(segs) >= 2:
		return e.sobjects(r, base, segs[1:])
	case segs[0] == "composite" && len(segs) == 1:
		return e.composite(r, version)
	}
	return fail(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

func (e *Emulator) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && e.tokens[tok]
}

// ---- OAuth ----

func oauthFail(status int, code, desc string) reply {
	return reply{status, map[string]string{"error": code, "error_description": desc}}
}

func (e *Emulator) token(r *http.Request) reply {
	if err := r.ParseForm(); err != nil {
		return oauthFail(400, "invalid_request", "bad form")
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "password":
		if f.Get("client_id") != e.ClientID || f.Get("client_secret") != e.ClientSecret {
			return oauthFail(400, "invalid_client", "invalid client credentials")
		}
		if f.Get("username") != e.Username || f.Get("password") != e.Password+e.SecurityToken {
			return oauthFail(400, "invalid_grant", "authentication failure")
		}
	case "client_credentials":
		id, secret := f.Get("client_id"), f.Get("client_secret")
		if u, p, ok := r.BasicAuth(); ok {
			id, secret = u, p
		}
		if id != e.ClientID || secret != e.ClientSecret {
			return oauthFail(400, "invalid_client", "invalid client credentials")
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if err := e.checkJWT(f.Get("assertion")); err != "" {
			return oauthFail(400, "invalid_grant", err)
		}
	default:
		return oauthFail(400, "unsupported_grant_type", "grant type not supported")
	}
	tok := fmt.Sprintf("00DKg0000000001!AQ%d.%d", e.seq, len(e.tokens)+int(time.Now().UnixNano()%1e9))
	e.seq++
	e.tokens[tok] = true
	issued := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := e.URL() + "/id/00DKg0000000001AAA/005Kg0000000001AAA"
	mac := hmac.New(sha256.New, []byte(e.ClientSecret))
	mac.Write([]byte(id + issued))
	return reply{200, map[string]string{
		"access_token": tok, "instance_url": e.URL(), "id": id, "token_type": "Bearer",
		"issued_at": issued, "signature": base64.StdEncoding.EncodeToString(mac.Sum(nil)), "scope": "api",
	}}
}

// checkJWT verifies an RS256 assertion: signature, iss, sub (or prn), aud,
// exp. It returns "" when valid.
func (e *Emulator) checkJWT(assertion string) string {
	if e.JWTPublicKey == nil {
		return "no certificate configured for the connected app"
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "invalid assertion"
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "invalid assertion encoding"
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "RS256" {
		return "invalid assertion algorithm"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(e.JWTPublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "invalid assertion signature"
	}
	var c struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Prn string          `json:"prn"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
	}
	if json.Unmarshal(cb, &c) != nil {
		return "invalid assertion claims"
	}
	if c.Iss != e.ClientID {
		return "invalid issuer"
	}
	if c.Sub == "" {
		c.Sub = c.Prn
	}
	if c.Sub != e.Username {
		return "user hasn't approved this consumer"
	}
	var aud string
	var auds []string
	if json.Unmarshal(c.Aud, &aud) == nil {
		auds = []string{aud}
	} else {
		_ = json.Unmarshal(c.Aud, &auds)
	}
	if !slices.Contains(auds, e.Audience) {
		return "audience is invalid"
	}
	now := time.Now().Unix()
	if c.Exp < now {
		return "expired authorization code"
	}
	if c.Exp > now+5*60 {
		return "expiration too far in the future"
	}
	return ""
}
