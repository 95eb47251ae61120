// Package zdemu is an in-memory Zendesk Support API emulator for tests:
// API-token Basic authentication, users (with phone identities),
// organizations, tickets with comments, /api/v2/search.json (type:,
// field:"value" terms and free text, page/per_page with next_page),
// create_or_update for users and organizations, users by role, the error
// body {"error","description"}, 429 with Retry-After, 503 when down.
//
// It listens on 127.0.0.1 only.
package zdemu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials the emulator accepts.
const (
	Email = "api@example.com"
	Token = "emu-token"
)

// Comment is a ticket comment.
type Comment struct {
	ID       int64  `json:"id"`
	Body     string `json:"body"`
	Public   bool   `json:"public"`
	AuthorID int64  `json:"author_id"`
	Created  string `json:"created_at"`
}

// Ticket is a stored ticket.
type Ticket struct {
	ID             int64     `json:"id"`
	ExternalID     string    `json:"external_id,omitempty"`
	Subject        string    `json:"subject"`
	Description    string    `json:"description"`
	Status         string    `json:"status"`
	RequesterID    int64     `json:"requester_id,omitempty"`
	AssigneeID     int64     `json:"assignee_id,omitempty"`
	OrganizationID int64     `json:"organization_id,omitempty"`
	Tags           []string  `json:"tags"`
	Comments       []Comment `json:"-"`
	Created        string    `json:"created_at"`
	Updated        string    `json:"updated_at"`
}

// Counts are what the emulator was asked to do.
type Counts struct {
	Requests       int
	TicketsCreated int
	TicketUpdates  int
	Comments       int
}

// Emulator is a running fake Zendesk account.
type Emulator struct {
	srv *httptest.Server

	mu       sync.Mutex
	nextID   int64
	users    map[int64]map[string]any
	orgs     map[int64]map[string]any
	tickets  map[int64]*Ticket
	order    map[string][]int64 // users, organizations, tickets
	token    string
	down     bool
	throttle int
	pageSize int
	counts   Counts
}

// New starts an emulator on 127.0.0.1.
func New() *Emulator {
	e := &Emulator{nextID: 1000, users: map[int64]map[string]any{}, orgs: map[int64]map[string]any{},
		tickets: map[int64]*Ticket{}, order: map[string][]int64{}, token: Token}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	// the API user itself
	e.add("users", map[string]any{"name": "API User", "email": Email, "role": "admin"})
	return e
}

// URL is the account's base URL.
func (e *Emulator) URL() string { return e.srv.URL }

// Close stops the server.
func (e *Emulator) Close() { e.srv.Close() }

// SetDown makes every request answer 503 (true) or work again.
func (e *Emulator) SetDown(down bool) { e.mu.Lock(); e.down = down; e.mu.Unlock() }

// ExpireTokens revokes the API token (every request then answers 401);
// RestoreToken brings it back.
func (e *Emulator) ExpireTokens() { e.mu.Lock(); e.token = ""; e.mu.Unlock() }

// RestoreToken accepts Token again.
func (e *Emulator) RestoreToken() { e.mu.Lock(); e.token = Token; e.mu.Unlock() }

// Throttle makes the next n requests answer 429 with Retry-After.
func (e *Emulator) Throttle(n int) { e.mu.Lock(); e.throttle = n; e.mu.Unlock() }

// SetPageSize caps pages at n (0 = 100).
func (e *Emulator) SetPageSize(n int) { e.mu.Lock(); e.pageSize = n; e.mu.Unlock() }

// Counts returns the counters.
func (e *Emulator) Counts() Counts { e.mu.Lock(); defer e.mu.Unlock(); return e.counts }

// SeedUser stores a user (name, email, phone, external_id, role, notes,
// user_fields, ...; "phones" []string adds phone identities) and returns its id.
func (e *Emulator) SeedUser(u map[string]any) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := u["role"]; !ok {
		u["role"] = "end-user"
	}
	return e.add("users", u)
}

// SeedOrganization stores an organization and returns its id.
func (e *Emulator) SeedOrganization(o map[string]any) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.add("organizations", o)
}

// Tickets returns copies of the tickets with their comments, in creation order.
func (e *Emulator) Tickets() []Ticket {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Ticket
	for _, id := range e.order["tickets"] {
		t := *e.tickets[id]
		t.Comments = slices.Clone(t.Comments)
		out = append(out, t)
	}
	return out
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func (e *Emulator) add(kind string, obj map[string]any) int64 {
	e.nextID++
	id := e.nextID
	o := map[string]any{}
	for k, v := range obj {
		o[k] = v
	}
	o["id"] = id
	o["url"] = fmt.Sprintf("%s/api/v2/%s/%d.json", e.srv.URL, kind, id)
	o["created_at"], o["updated_at"] = now(), now()
	if kind == "users" {
		if _, ok := o["user_fields"]; !ok {
			o["user_fields"] = map[string]any{}
		}
		e.users[id] = o
	} else {
		if _, ok := o["organization_fields"]; !ok {
			o["organization_fields"] = map[string]any{}
		}
		e.orgs[id] = o
	}
	e.order[kind] = append(e.order[kind], id)
	return id
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, desc string, details any) {
	body := map[string]any{"error": code, "description": desc}
	if details != nil {
		body["details"] = details
	}
	writeJSON(w, status, body)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"title": "No help desk at this address", "message": "RecordNotFound"}})
}

var (
	onePath      = regexp.MustCompile(`^/api/v2/(users|organizations|tickets)/(\d+)\.json$`)
	commentsPath = regexp.MustCompile(`^/api/v2/tickets/(\d+)/comments\.json$`)
)

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts.Requests++
	if e.down {
		writeErr(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Zendesk is down for maintenance", nil)
		return
	}
	if !e.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Couldn't authenticate you"})
		return
	}
	if e.throttle > 0 {
		e.throttle--
		w.Header().Set("Retry-After", "7")
		writeErr(w, http.StatusTooManyRequests, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded", nil)
		return
	}
	var body map[string]map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			writeErr(w, http.StatusBadRequest, "InvalidJSON", err.Error(), nil)
			return
		}
	}
	p := r.URL.Path
	switch {
	case p == "/api/v2/search.json" && r.Method == http.MethodGet:
		e.search(w, r)
	case p == "/api/v2/users.json" && r.Method == http.MethodGet:
		roles := r.URL.Query()["role[]"]
		if role := r.URL.Query().Get("role"); role != "" {
			roles = append(roles, role)
		}
		var out []any
		for _, id := range e.order["users"] {
			u := e.users[id]
			if len(roles) == 0 || slices.Contains(roles, fmt.Sprint(u["role"])) {
				out = append(out, u)
			}
		}
		e.page(w, r, "users", out)
	case (p == "/api/v2/users.json" || p == "/api/v2/organizations.json") && r.Method == http.MethodPost:
		kind := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/"), ".json")
		one := strings.TrimSuffix(kind, "s")
		obj, ok := body[one]
		if !ok {
			writeErr(w, http.StatusBadRequest, "InvalidEndpoint", "the body needs a "+one+" object", nil)
			return
		}
		if msg := e.validate(kind, 0, obj); msg != nil {
			writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
			return
		}
		if kind == "users" {
			if _, ok := obj["role"]; !ok {
				obj["role"] = "end-user"
			}
		}
		id := e.add(kind, obj)
		writeJSON(w, http.StatusCreated, map[string]any{one: e.get(kind, id)})
	case (p == "/api/v2/users/create_or_update.json" || p == "/api/v2/organizations/create_or_update.json") && r.Method == http.MethodPost:
		kind := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/"), "/create_or_update.json")
		one := strings.TrimSuffix(kind, "s")
		obj := body[one]
		var match []int64
		for _, id := range e.order[kind] {
			o := e.get(kind, id)
			if ext, _ := obj["external_id"].(string); ext != "" && o["external_id"] == ext {
				match = append(match, id)
			} else if em, _ := obj["email"].(string); kind == "users" && ext == "" && em != "" && strings.EqualFold(fmt.Sprint(o["email"]), em) {
				match = append(match, id)
			}
		}
		if len(match) == 0 {
			if msg := e.validate(kind, 0, obj); msg != nil {
				writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
				return
			}
			id := e.add(kind, obj)
			writeJSON(w, http.StatusCreated, map[string]any{one: e.get(kind, id)})
			return
		}
		if msg := e.validate(kind, match[0], obj); msg != nil {
			writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
			return
		}
		e.merge(e.get(kind, match[0]), obj)
		writeJSON(w, http.StatusOK, map[string]any{one: e.get(kind, match[0])})
	case p == "/api/v2/tickets.json" && r.Method == http.MethodGet:
		ext := r.URL.Query().Get("external_id")
		out := []any{}
		for _, id := range e.order["tickets"] {
			if t := e.tickets[id]; ext == "" || t.ExternalID == ext {
				out = append(out, t)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"tickets": out, "next_page": nil, "count": len(out)})
	case p == "/api/v2/tickets.json" && r.Method == http.MethodPost:
		e.createTicket(w, body["ticket"])
	default:
		if m := commentsPath.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			t := e.tickets[id]
			if t == nil {
				notFound(w)
				return
			}
			cs := slices.Clone(t.Comments)
			if r.URL.Query().Get("sort_order") == "desc" {
				slices.Reverse(cs)
			}
			if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 && n < len(cs) {
				cs = cs[:n]
			}
			writeJSON(w, http.StatusOK, map[string]any{"comments": cs, "next_page": nil, "count": len(t.Comments)})
			return
		}
		m := onePath.FindStringSubmatch(p)
		if m == nil {
			notFound(w)
			return
		}
		kind := m[1]
		id, _ := strconv.ParseInt(m[2], 10, 64)
		if kind == "tickets" {
			e.ticket(w, r, id, body["ticket"])
			return
		}
		one := strings.TrimSuffix(kind, "s")
		o := e.get(kind, id)
		if o == nil {
			notFound(w)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{one: o})
		case http.MethodPut:
			if msg := e.validate(kind, id, body[one]); msg != nil {
				writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
				return
			}
			e.merge(o, body[one])
			writeJSON(w, http.StatusOK, map[string]any{one: o})
		default:
			writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method, nil)
		}
	}
}

func (e *Emulator) authorized(r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok || e.token == "" {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	return err == nil && string(b) == Email+"/token:"+e.token
}

func (e *Emulator) get(kind string, id int64) map[string]any {
	if kind == "users" {
		return e.users[id]
	}
	return e.orgs[id]
}

// validate checks a user or organization: a name on creation, a unique
// email among users, known roles.
func (e *Emulator) validate(kind string, id int64, obj map[string]any) map[string]any {
	if obj == nil {
		return map[string]any{"base": []map[string]string{{"description": "missing object"}}}
	}
	if id == 0 {
		if n, _ := obj["name"].(string); strings.TrimSpace(n) == "" {
			return map[string]any{"name": []map[string]string{{"description": "Name: cannot be blank", "error": "BlankValue"}}}
		}
	}
	if kind == "users" {
		if role, ok := obj["role"].(string); ok && role != "end-user" && role != "agent" && role != "admin" {
			return map[string]any{"role": []map[string]string{{"description": "Role: is invalid", "error": "InvalidValue"}}}
		}
		if em, _ := obj["email"].(string); em != "" {
			for oid, u := range e.users {
				if oid != id && strings.EqualFold(fmt.Sprint(u["email"]), em) {
					return map[string]any{"email": []map[string]string{{"description": "Email: " + em + " is already being used by another user", "error": "DuplicateValue"}}}
				}
			}
		}
	}
	return nil
}

func (e *Emulator) merge(o, in map[string]any) {
	for k, v := range in {
		if k == "id" {
			continue
		}
		if k == "user_fields" || k == "organization_fields" {
			cur, _ := o[k].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			if m, ok := v.(map[string]any); ok {
				for ck, cv := range m {
					cur[ck] = cv
				}
			}
			o[k] = cur
			continue
		}
		o[k] = v
	}
	o["updated_at"] = now()
}

func int64Of(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func stringsOf(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func (e *Emulator) applyTicket(t *Ticket, in map[string]any) map[string]any {
	if s, ok := in["subject"].(string); ok {
		t.Subject = s
	}
	if s, ok := in["status"].(string); ok {
		if !slices.Contains([]string{"new", "open", "pending", "hold", "solved", "closed"}, s) {
			return map[string]any{"status": []map[string]string{{"description": "Status: is invalid"}}}
		}
		t.Status = s
	}
	for k, dst := range map[string]*int64{"requester_id": &t.RequesterID, "assignee_id": &t.AssigneeID, "organization_id": &t.OrganizationID} {
		if v, ok := in[k]; ok {
			n := int64Of(v)
			if k != "organization_id" && e.users[n] == nil || k == "organization_id" && e.orgs[n] == nil {
				return map[string]any{k: []map[string]string{{"description": fmt.Sprintf("%s: %v does not exist", k, v)}}}
			}
			*dst = n
		}
	}
	if v, ok := in["tags"]; ok {
		t.Tags = stringsOf(v)
	}
	for _, tag := range stringsOf(in["additional_tags"]) {
		if !slices.Contains(t.Tags, tag) {
			t.Tags = append(t.Tags, tag)
		}
	}
	if c, ok := in["comment"].(map[string]any); ok {
		body, _ := c["body"].(string)
		public, ok := c["public"].(bool)
		if !ok {
			public = true
		}
		if strings.TrimSpace(body) == "" {
			return map[string]any{"comment": []map[string]string{{"description": "Comment: cannot be blank"}}}
		}
		e.nextID++
		t.Comments = append(t.Comments, Comment{ID: e.nextID, Body: body, Public: public, AuthorID: 1001, Created: now()})
		if t.Description == "" {
			t.Description = body
		}
		e.counts.Comments++
	}
	t.Updated = now()
	return nil
}

func (e *Emulator) createTicket(w http.ResponseWriter, in map[string]any) {
	if in == nil {
		writeErr(w, http.StatusBadRequest, "InvalidEndpoint", "the body needs a ticket object", nil)
		return
	}
	if _, ok := in["comment"]; !ok {
		writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors",
			map[string]any{"description": []map[string]string{{"description": "Description: cannot be blank"}}})
		return
	}
	e.nextID++
	t := &Ticket{ID: e.nextID, Status: "new", RequesterID: 1001, Created: now(), Tags: []string{}}
	t.ExternalID, _ = in["external_id"].(string)
	if msg := e.applyTicket(t, in); msg != nil {
		writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
		return
	}
	if t.AssigneeID != 0 && t.Status == "new" {
		t.Status = "open"
	}
	e.tickets[t.ID] = t
	e.order["tickets"] = append(e.order["tickets"], t.ID)
	e.counts.TicketsCreated++
	writeJSON(w, http.StatusCreated, map[string]any{"ticket": t})
}

func (e *Emulator) ticket(w http.ResponseWriter, r *http.Request, id int64, in map[string]any) {
	t := e.tickets[id]
	if t == nil {
		notFound(w)
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"ticket": t})
	case http.MethodPut:
		if t.Status == "closed" {
			writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors",
				map[string]any{"status": []map[string]string{{"description": "Status: closed prevents ticket update"}}})
			return
		}
		copyT := *t
		copyT.Comments = slices.Clone(t.Comments)
		if msg := e.applyTicket(&copyT, in); msg != nil {
			writeErr(w, http.StatusUnprocessableEntity, "RecordInvalid", "Record validation errors", msg)
			return
		}
		*t = copyT
		e.counts.TicketUpdates++
		writeJSON(w, http.StatusOK, map[string]any{"ticket": t})
	default:
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method, nil)
	}
}

// page writes one page of items under key with next_page.
func (e *Emulator) page(w http.ResponseWriter, r *http.Request, key string, items []any) {
	q := r.URL.Query()
	size := 100
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 && n < size {
		size = n
	}
	if e.pageSize > 0 && e.pageSize < size {
		size = e.pageSize
	}
	pg, _ := strconv.Atoi(q.Get("page"))
	if pg < 1 {
		pg = 1
	}
	start := min((pg-1)*size, len(items))
	end := min(start+size, len(items))
	out := map[string]any{key: append([]any{}, items[start:end]...), "count": len(items), "next_page": nil, "previous_page": nil}
	if end < len(items) {
		q.Set("page", strconv.Itoa(pg+1))
		out["next_page"] = e.srv.URL + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// search implements a subset of the search syntax: space-separated terms,
// type:user|organization|ticket, field:value or field:"quoted value"
// (exact, case-insensitive; phone also matches phone identities), and free
// words (substring of name, email or phone).
func (e *Emulator) search(w http.ResponseWriter, r *http.Request) {
	terms, err := parseQuery(r.URL.Query().Get("query"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "InvalidQuery", err.Error(), nil)
		return
	}
	typ := ""
	for _, t := range terms {
		if t.field == "type" {
			typ = t.value
		}
	}
	var out []any
	for _, kind := range []string{"users", "organizations"} {
		rt := strings.TrimSuffix(kind, "s")
		if typ != "" && typ != rt {
			continue
		}
		for _, id := range e.order[kind] {
			o := e.get(kind, id)
			if matches(o, terms, kind) {
				res := map[string]any{"result_type": rt}
				for k, v := range o {
					res[k] = v
				}
				out = append(out, res)
			}
		}
	}
	e.page(w, r, "results", out)
}

type qterm struct{ field, value string }

func parseQuery(q string) ([]qterm, error) {
	var out []qterm
	for i := 0; i < len(q); {
		if q[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(q) && q[j] != ' ' && q[j] != ':' && q[j] != '"' {
			j++
		}
		field := ""
		if j < len(q) && q[j] == ':' {
			field = q[i:j]
			j++
			i = j
		}
		var val string
		if i < len(q) && q[i] == '"' {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unbalanced quotes in %q", q)
			}
			val = q[i+1 : i+1+end]
			i = i + 2 + end
		} else {
			j = i
			for j < len(q) && q[j] != ' ' {
				j++
			}
			val = q[i:j]
			i = j
		}
		out = append(out, qterm{strings.ToLower(field), val})
	}
	return out, nil
}

func matches(o map[string]any, terms []qterm, kind string) bool {
	for _, t := range terms {
		switch t.field {
		case "type":
			continue
		case "":
			v := strings.ToLower(t.value)
			if !strings.Contains(strings.ToLower(fmt.Sprint(o["name"])), v) && !strings.Contains(strings.ToLower(fmt.Sprint(o["email"])), v) &&
				!strings.Contains(fmt.Sprint(o["phone"]), t.value) {
				return false
			}
		case "phone":
			ok := fmt.Sprint(o["phone"]) == t.value
			for _, p := range stringsOf(o["phones"]) {
				ok = ok || p == t.value
			}
			if !ok {
				return false
			}
		default:
			v, has := o[t.field]
			if !has {
				custom, _ := o[strings.TrimSuffix(kind, "s")+"_fields"].(map[string]any)
				v = custom[t.field]
			}
			if v == nil || !strings.EqualFold(fmt.Sprint(v), t.value) {
				if s, ok := v.(float64); !ok || strconv.FormatInt(int64(s), 10) != t.value {
					if n, ok := v.(int64); !ok || strconv.FormatInt(n, 10) != t.value {
						return false
					}
				}
			}
		}
	}
	return true
}
