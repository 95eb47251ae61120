// Package dynemu is an in-memory Dynamics 365 (Dataverse Web API v9.2)
// emulator for tests: the Azure AD client-credentials token endpoint,
// entity sets contacts, accounts, leads, opportunities, phonecalls and
// systemusers with GET (by id or by alternate key), POST (204 with
// OData-EntityId, or 201 with Prefer return=representation), PATCH (update,
// or upsert by GUID or by alternate key: 201 created / 200 updated with
// return=representation, else 204), DELETE; OData $filter (eq, ne, and, or,
// parentheses, contains/startswith), $select, $top, odata.maxpagesize with
// @odata.nextLink; the error body {"error":{"code","message"}}; 401 on an
// expired token, 429 with Retry-After, 503 when down.
//
// It listens on 127.0.0.1 only.
package dynemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Alternate keys of the emulated organization.
const (
	SyncKey = "neosyncid"  // on contacts, accounts, leads, opportunities
	CallKey = "neo_callid" // on phonecalls
)

// Set describes one entity set.
type set struct {
	idAttr  string
	attrs   map[string]bool
	key     string // alternate key attribute
	logical string
}

func attrs(list ...string) map[string]bool {
	m := map[string]bool{"createdon": true, "modifiedon": true, "description": true, "_ownerid_value": true}
	for _, a := range list {
		m[a] = true
	}
	return m
}

var sets = map[string]*set{
	"contacts": {"contactid", attrs("contactid", "firstname", "lastname", "fullname", "telephone1", "telephone2", "mobilephone",
		"emailaddress1", "jobtitle", "companyname", "address1_city", "neosyncid"), SyncKey, "contact"},
	"accounts": {"accountid", attrs("accountid", "name", "telephone1", "telephone2", "emailaddress1", "accountnumber",
		"address1_city", "websiteurl", "neosyncid"), SyncKey, "account"},
	"leads": {"leadid", attrs("leadid", "firstname", "lastname", "fullname", "subject", "companyname", "telephone1", "telephone2",
		"mobilephone", "emailaddress1", "jobtitle", "neosyncid"), SyncKey, "lead"},
	"opportunities": {"opportunityid", attrs("opportunityid", "name", "estimatedvalue", "neosyncid"), SyncKey, "opportunity"},
	"phonecalls": {"activityid", attrs("activityid", "subject", "directioncode", "actualdurationminutes", "phonenumber",
		"actualstart", "actualend", "neo_callid", "_regardingobjectid_value", "regardingobjecttypecode"), CallKey, "phonecall"},
	"systemusers": {"systemuserid", attrs("systemuserid", "fullname", "internalemailaddress", "isdisabled", "firstname", "lastname"), "", "systemuser"},
}

// Emulator is a running fake organization.
type Emulator struct {
	srv *httptest.Server

	mu       sync.Mutex
	rows     map[string]map[string]map[string]any // set → id → row
	order    map[string][]string
	tokens   map[string]bool
	down     bool
	throttle int
	pageSize int
	clientID string
	secret   string
	counts   Counts
}

// Counts are what the emulator was asked to do.
type Counts struct {
	Tokens          int // tokens issued
	Requests        int // API requests (any answer)
	PhoneCallsNew   int // phonecall activities created
	PhoneCallWrites int // phonecall creates + updates
	Unauthorized    int // 401 answers
}

// Credentials the emulator accepts.
const (
	ClientID     = "emu-client"
	ClientSecret = "emu-secret"
	Tenant       = "emu-tenant"
)

// New starts an emulator on 127.0.0.1.
func New() *Emulator {
	e := &Emulator{
		rows:     map[string]map[string]map[string]any{},
		order:    map[string][]string{},
		tokens:   map[string]bool{},
		clientID: ClientID, secret: ClientSecret,
	}
	for s := range sets {
		e.rows[s] = map[string]map[string]any{}
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the organization URL (also the authority URL).
func (e *Emulator) URL() string { return e.srv.URL }

// Close stops the server.
func (e *Emulator) Close() { e.srv.Close() }

// SetDown makes every request answer 503 (true) or work again.
func (e *Emulator) SetDown(down bool) { e.mu.Lock(); e.down = down; e.mu.Unlock() }

// ExpireTokens invalidates every token issued so far.
func (e *Emulator) ExpireTokens() { e.mu.Lock(); e.tokens = map[string]bool{}; e.mu.Unlock() }

// Throttle makes the next n API requests answer 429 with Retry-After.
func (e *Emulator) Throttle(n int) { e.mu.Lock(); e.throttle = n; e.mu.Unlock() }

// SetPageSize caps pages at n rows (0 = 5000), whatever the client prefers.
func (e *Emulator) SetPageSize(n int) { e.mu.Lock(); e.pageSize = n; e.mu.Unlock() }

// Counts returns the counters.
func (e *Emulator) Counts() Counts { e.mu.Lock(); defer e.mu.Unlock(); return e.counts }

// Seed stores a row in an entity set directly and returns its id. Contact
// and lead fullname is derived from firstname and lastname.
func (e *Emulator) Seed(setName string, row map[string]any) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := sets[setName]
	if s == nil {
		panic("dynemu: unknown entity set " + setName)
	}
	r := map[string]any{}
	for k, v := range row {
		r[k] = v
	}
	id, _ := r[s.idAttr].(string)
	if id == "" {
		id = uuid.NewString()
	}
	e.insert(setName, id, r)
	return id
}

// Rows returns copies of the rows of an entity set, in insertion order.
func (e *Emulator) Rows(setName string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []map[string]any
	for _, id := range e.order[setName] {
		r := map[string]any{}
		for k, v := range e.rows[setName][id] {
			r[k] = v
		}
		out = append(out, r)
	}
	return out
}

func (e *Emulator) insert(setName, id string, r map[string]any) {
	s := sets[setName]
	r[s.idAttr] = id
	now := time.Now().UTC().Format(time.RFC3339)
	r["createdon"], r["modifiedon"] = now, now
	derive(setName, r)
	e.rows[setName][id] = r
	e.order[setName] = append(e.order[setName], id)
}

func derive(setName string, r map[string]any) {
	if setName == "contacts" || setName == "leads" {
		f, _ := r["firstname"].(string)
		l, _ := r["lastname"].(string)
		r["fullname"] = strings.TrimSpace(f + " " + l)
	}
}

type apiErr struct {
	status int
	code   string
	msg    string
}

func writeErr(w http.ResponseWriter, status int, code, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": fmt.Sprintf(format, args...)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var (
	tokenPath = regexp.MustCompile(`^/([^/]+)/oauth2/v2\.0/token$`)
	apiPath   = regexp.MustCompile(`^/api/data/v9\.2/([a-z]+)(?:\((.*)\))?$`)
	guidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyRE     = regexp.MustCompile(`^([a-z_][a-z0-9_]*)='((?:[^']|'')*)'$`)
)

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		writeErr(w, http.StatusServiceUnavailable, "0x80040216", "The service is temporarily unavailable")
		return
	}
	if m := tokenPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		e.token(w, r, m[1])
		return
	}
	m := apiPath.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		writeErr(w, http.StatusNotFound, "0x80060888", "Resource not found for the segment '%s'", r.URL.Path)
		return
	}
	e.counts.Requests++
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !e.tokens[tok] {
		e.counts.Unauthorized++
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token has expired"`)
		writeErr(w, http.StatusUnauthorized, "0x80072560", "The user is not a member of the organization or the token expired.")
		return
	}
	if e.throttle > 0 {
		e.throttle--
		w.Header().Set("Retry-After", "2")
		writeErr(w, http.StatusTooManyRequests, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		return
	}
	setName := m[1]
	s := sets[setName]
	if s == nil {
		writeErr(w, http.StatusNotFound, "0x80060888", "Resource not found for the segment '%s'.", setName)
		return
	}
	seg, err := url.PathUnescape(m[2])
	if err != nil {
		writeErr(w, http.StatusBadRequest, "0x80060888", "bad key segment")
		return
	}
	hasSeg := strings.Contains(r.URL.EscapedPath(), "(")
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		raw, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeErr(w, http.StatusBadRequest, "0x80040333", "The request body is not valid JSON: %v", err)
			return
		}
		if ae := e.bind(setName, body); ae != nil {
			writeErr(w, ae.status, ae.code, "%s", ae.msg)
			return
		}
	}
	switch {
	case !hasSeg && r.Method == http.MethodGet:
		e.list(w, r, setName)
	case !hasSeg && r.Method == http.MethodPost:
		id := uuid.NewString()
		e.insert(setName, id, body)
		e.wrote(setName, true)
		loc := e.srv.URL + "/api/data/v9.2/" + setName + "(" + id + ")"
		w.Header().Set("OData-EntityId", loc)
		if strings.Contains(r.Header.Get("Prefer"), "return=representation") {
			writeJSON(w, http.StatusCreated, e.rows[setName][id])
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case hasSeg:
		e.one(w, r, setName, s, seg, body)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "0x80060888", "method %s not allowed", r.Method)
	}
}

func (e *Emulator) wrote(setName string, created bool) {
	if setName != "phonecalls" {
		return
	}
	e.counts.PhoneCallWrites++
	if created {
		e.counts.PhoneCallsNew++
	}
}

// bind checks body attributes and turns @odata.bind into lookup values.
func (e *Emulator) bind(setName string, body map[string]any) *apiErr {
	s := sets[setName]
	add := map[string]any{}
	defer func() {
		for k, v := range add {
			body[k] = v
		}
	}()
	for k, v := range body {
		if name, ok := strings.CutSuffix(k, "@odata.bind"); ok {
			ref, _ := v.(string)
			m := regexp.MustCompile(`^/?([a-z]+)\(([0-9a-fA-F-]{36})\)$`).FindStringSubmatch(ref)
			if m == nil || sets[m[1]] == nil {
				return &apiErr{400, "0x80048d19", fmt.Sprintf("Error identified in Payload provided by the user for Entity :'%s', bad reference %q", setName, ref)}
			}
			if _, exists := e.rows[m[1]][strings.ToLower(m[2])]; !exists {
				return &apiErr{404, "0x80040217", fmt.Sprintf("%s With Id = %s Does Not Exist", sets[m[1]].logical, m[2])}
			}
			delete(body, k)
			switch {
			case strings.HasPrefix(name, "regardingobjectid_") && setName == "phonecalls":
				add["_regardingobjectid_value"] = strings.ToLower(m[2])
				add["regardingobjecttypecode"] = sets[m[1]].logical
			case name == "ownerid":
				add["_ownerid_value"] = strings.ToLower(m[2])
			default:
				return &apiErr{400, "0x80060888", fmt.Sprintf("An undeclared property '%s' which only has property annotations in the payload", name)}
			}
			continue
		}
		if !s.attrs[k] || k == s.idAttr || k == "fullname" || strings.HasPrefix(k, "_") {
			return &apiErr{400, "0x80060888", fmt.Sprintf("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.%s'. Make sure to only use property names that are defined by the type.", k, s.logical)}
		}
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			body[k] = f
		}
	}
	return nil
}

func (e *Emulator) token(w http.ResponseWriter, r *http.Request, tenant string) {
	r.ParseForm()
	if tenant != Tenant || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != e.clientID || r.PostForm.Get("client_secret") != e.secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided."})
		return
	}
	if !strings.HasSuffix(r.PostForm.Get("scope"), "/.default") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value for scope is not valid."})
		return
	}
	tok := "emu-" + uuid.NewString()
	e.tokens[tok] = true
	e.counts.Tokens++
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// one serves the requests on one record: by GUID or by alternate key.
func (e *Emulator) one(w http.ResponseWriter, r *http.Request, setName string, s *set, seg string, body map[string]any) {
	var ids []string
	var keyAttr, keyVal string
	switch {
	case guidRE.MatchString(seg):
		id := strings.ToLower(seg)
		if _, ok := e.rows[setName][id]; ok {
			ids = []string{id}
		}
		keyAttr, keyVal = s.idAttr, id
	default:
		m := keyRE.FindStringSubmatch(seg)
		if m == nil {
			writeErr(w, http.StatusBadRequest, "0x80060888", "Bad Request - Error in query syntax: key segment %q", seg)
			return
		}
		if m[1] != s.key || s.key == "" {
			writeErr(w, http.StatusBadRequest, "0x80060888", "The key '%s' is not an alternate key of entity '%s'", m[1], s.logical)
			return
		}
		keyAttr, keyVal = m[1], strings.ReplaceAll(m[2], "''", "'")
		for _, id := range e.order[setName] {
			if row := e.rows[setName][id]; row != nil && fmt.Sprint(row[keyAttr]) == keyVal {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > 1 {
		writeErr(w, http.StatusConflict, "0x80060892", "More than one %s record matches the alternate key %s='%s'", s.logical, keyAttr, keyVal)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if len(ids) == 0 {
			writeErr(w, http.StatusNotFound, "0x80040217", "%s With Id = %s Does Not Exist", s.logical, seg)
			return
		}
		writeJSON(w, http.StatusOK, project(e.rows[setName][ids[0]], r.URL.Query().Get("$select")))
	case http.MethodDelete:
		if len(ids) == 0 {
			writeErr(w, http.StatusNotFound, "0x80040217", "%s With Id = %s Does Not Exist", s.logical, seg)
			return
		}
		delete(e.rows[setName], ids[0])
		e.order[setName] = slices.DeleteFunc(e.order[setName], func(x string) bool { return x == ids[0] })
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		rep := strings.Contains(r.Header.Get("Prefer"), "return=representation")
		if len(ids) == 0 {
			if r.Header.Get("If-Match") == "*" {
				writeErr(w, http.StatusNotFound, "0x80040217", "%s With Id = %s Does Not Exist", s.logical, seg)
				return
			}
			id := keyVal
			if keyAttr != s.idAttr {
				id = uuid.NewString()
				body[keyAttr] = keyVal
			}
			e.insert(setName, id, body)
			e.wrote(setName, true)
			w.Header().Set("OData-EntityId", e.srv.URL+"/api/data/v9.2/"+setName+"("+id+")")
			if rep {
				writeJSON(w, http.StatusCreated, e.rows[setName][id])
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Header.Get("If-None-Match") == "*" {
			writeErr(w, http.StatusPreconditionFailed, "0x80060882", "A record with matching key values already exists.")
			return
		}
		row := e.rows[setName][ids[0]]
		for k, v := range body {
			row[k] = v
		}
		row["modifiedon"] = time.Now().UTC().Format(time.RFC3339)
		derive(setName, row)
		e.wrote(setName, false)
		w.Header().Set("OData-EntityId", e.srv.URL+"/api/data/v9.2/"+setName+"("+ids[0]+")")
		if rep {
			writeJSON(w, http.StatusOK, row)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "0x80060888", "method %s not allowed", r.Method)
	}
}

func project(row map[string]any, sel string) map[string]any {
	out := map[string]any{}
	if sel == "" {
		for k, v := range row {
			out[k] = v
		}
		return out
	}
	for _, a := range strings.Split(sel, ",") {
		a = strings.TrimSpace(a)
		if v, ok := row[a]; ok {
			out[a] = v
		} else {
			out[a] = nil
		}
	}
	return out
}

// list serves GET on an entity set: $filter, $select, $top, paging.
func (e *Emulator) list(w http.ResponseWriter, r *http.Request, setName string) {
	q := r.URL.Query()
	var pred func(map[string]any) bool = func(map[string]any) bool { return true }
	if f := q.Get("$filter"); f != "" {
		p, err := parseFilter(f)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "0x80060888", "Syntax error in $filter: %v", err)
			return
		}
		for _, a := range p.attrs() {
			if !sets[setName].attrs[a] {
				writeErr(w, http.StatusBadRequest, "0x80060888", "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", a, sets[setName].logical)
				return
			}
		}
		pred = p.eval
	}
	var match []map[string]any
	for _, id := range e.order[setName] {
		if row := e.rows[setName][id]; row != nil && pred(row) {
			match = append(match, row)
		}
	}
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "0x80060888", "Invalid $top value %q", t)
			return
		}
		match = match[:min(n, len(match))]
	}
	size := 5000
	for _, p := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "odata.maxpagesize="); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					size = n
				}
			}
		}
	}
	if e.pageSize > 0 && e.pageSize < size {
		size = e.pageSize
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	if skip > len(match) {
		skip = len(match)
	}
	end := min(skip+size, len(match))
	page := []map[string]any{}
	for _, row := range match[skip:end] {
		page = append(page, project(row, q.Get("$select")))
	}
	out := map[string]any{"@odata.context": e.srv.URL + "/api/data/v9.2/$metadata#" + setName, "value": page}
	if end < len(match) {
		q.Set("$skiptoken", strconv.Itoa(end))
		out["@odata.nextLink"] = e.srv.URL + r.URL.Path + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	writeJSON(w, http.StatusOK, out)
}
