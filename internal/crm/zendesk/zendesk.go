// Package zendesk is the Zendesk Support connector.
//
// Authentication is an API token: HTTP Basic "{email}/token:{apiToken}".
// A 401 is crm.ErrAuth (there is no token to renew).
//
// Record types: Contact → users (end users), Account and Company →
// organizations. Lead and Opportunity do not exist in Zendesk: searches
// skip them, other operations answer crm.ErrRejected. Fields are the
// Zendesk attribute names (name, email, phone, external_id, notes,
// details, organization_id, ...); any other name is a custom field
// (user_fields / organization_fields). The Salesforce standard names
// FirstName + LastName (→ name), Name, Phone and MobilePhone (→ phone),
// Email, Description (→ details) are accepted as aliases.
//
// An activity is a ticket per call: its external_id is the CallID, so
// logging the same call again finds the ticket (GET /tickets?external_id=)
// and updates it, adding a private comment only when the text changed. The
// first comment (and every later one) holds the disposition and the notes.
// CreateVoiceCall writes the same ticket (Zendesk has no separate voice-call
// record reachable over the Support API).
package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/crm"
)

// Config is how to reach one Zendesk account.
type Config struct {
	BaseURL  string // https://acme.zendesk.com
	Email    string // the API user's email
	APIToken string
	// TicketStatus is the status of call tickets ("" = Zendesk's default).
	TicketStatus string
	// TicketTags are added to call tickets (default: centralita, call).
	TicketTags []string
	HTTPClient *http.Client // default: 20 s timeout
}

// FromSettings reads a Config from a call center's settings (baseUrl,
// userEmail, ticketStatus) and secrets (apiToken).
func FromSettings(settings, secrets map[string]string) (Config, error) {
	c := Config{BaseURL: settings["baseUrl"], Email: settings["userEmail"], TicketStatus: settings["ticketStatus"], APIToken: secrets["apiToken"]}
	var missing []string
	for _, kv := range [][2]string{{"baseUrl", c.BaseURL}, {"userEmail", c.Email}, {"apiToken", c.APIToken}} {
		if strings.TrimSpace(kv[1]) == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("zendesk: settings missing: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Connector is a crm.Connector for Zendesk.
type Connector struct {
	cfg  Config
	hc   *http.Client
	auth string
}

var _ crm.Connector = (*Connector)(nil)

// New returns a connector; nothing is contacted until the first call.
func New(cfg Config) (*Connector, error) {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if u, err := url.ParseRequestURI(cfg.BaseURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("zendesk: baseUrl %q is not a URL", cfg.BaseURL)
	}
	if cfg.TicketTags == nil {
		cfg.TicketTags = []string{"centralita", "call"}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+"/token:"+cfg.APIToken))
	return &Connector{cfg: cfg, hc: hc, auth: auth}, nil
}

// kind is users or organizations.
type kind struct {
	path, one, many, custom, resultType string
}

var (
	users = kind{"users", "user", "users", "user_fields", "user"}
	orgs  = kind{"organizations", "organization", "organizations", "organization_fields", "organization"}
)

func kindOf(typ string) (kind, error) {
	switch typ {
	case crm.TypeContact:
		return users, nil
	case crm.TypeAccount, crm.TypeCompany:
		return orgs, nil
	}
	return kind{}, fmt.Errorf("%w: zendesk: record type %q is not supported (Contact = user, Account/Company = organization)", crm.ErrRejected, typ)
}

// Top-level attributes written as they are; other names are custom fields.
var topLevel = map[string]map[string]bool{
	"users": {"name": true, "email": true, "phone": true, "external_id": true, "role": true, "organization_id": true,
		"notes": true, "details": true, "time_zone": true, "iana_time_zone": true, "locale": true, "alias": true,
		"verified": true, "signature": true, "tags": true},
	"organizations": {"name": true, "external_id": true, "details": true, "notes": true, "group_id": true,
		"shared_tickets": true, "shared_comments": true, "domain_names": true, "tags": true},
}

// canonical maps a field name (native or Salesforce alias) to the Zendesk one.
func canonical(k kind, field string) string {
	f := strings.TrimSpace(field)
	switch strings.ToLower(f) {
	case "id":
		return "id"
	case "name":
		return "name"
	case "phone", "mobilephone":
		if k.path == "users" {
			return "phone"
		}
	case "email":
		if k.path == "users" {
			return "email"
		}
	case "description":
		return "details"
	case "externalid", "external_id":
		return "external_id"
	}
	if topLevel[k.path][strings.ToLower(f)] {
		return strings.ToLower(f)
	}
	return f
}

// object turns fields into a user or organization body.
func object(k kind, fields map[string]string) map[string]any {
	out := map[string]any{}
	custom := map[string]any{}
	var first, last string
	for key, v := range fields {
		switch strings.ToLower(key) {
		case "firstname":
			first = v
			continue
		case "lastname":
			last = v
			continue
		}
		c := canonical(k, key)
		switch {
		case c == "tags" || c == "domain_names":
			out[c] = strings.Fields(strings.ReplaceAll(v, ",", " "))
		case c == "organization_id" || c == "group_id":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[c] = n
			} else {
				out[c] = v
			}
		case topLevel[k.path][c]:
			out[c] = v
		default:
			custom[key] = v
		}
	}
	if _, ok := out["name"]; !ok && (first != "" || last != "") {
		out["name"] = strings.TrimSpace(first + " " + last)
	}
	if len(custom) > 0 {
		out[k.custom] = custom
	}
	return out
}

func (c *Connector) record(typ string, k kind, obj map[string]any) crm.Record {
	r := crm.Record{Type: typ, Fields: map[string]string{}}
	for key, v := range obj {
		if key == k.custom {
			if m, ok := v.(map[string]any); ok {
				for ck, cv := range m {
					if s := scalar(cv); s != "" {
						r.Fields[ck] = s
					}
				}
			}
			continue
		}
		if s := scalar(v); s != "" {
			r.Fields[key] = s
		}
	}
	r.ID = r.Fields["id"]
	r.Name = r.Fields["name"]
	if p := r.Fields["phone"]; p != "" {
		r.Phones = []string{p}
	}
	r.URL = c.cfg.BaseURL + "/agent/" + k.path + "/" + r.ID
	return r
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, scalar(e))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func phoneForms(p string) []string {
	p = strings.TrimSpace(p)
	var d strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			d.WriteRune(r)
		}
	}
	forms := []string{p}
	if s := d.String(); s != "" && s != p {
		forms = append(forms, s)
	}
	return forms
}

// term is one search term field:"value" (double quotes cannot be escaped
// in Zendesk search: they are dropped from values).
func term(field, value string) string {
	return field + `:"` + strings.ReplaceAll(value, `"`, "") + `"`
}

// Search implements crm.Connector.
func (c *Connector) Search(ctx context.Context, q crm.Query) ([]crm.Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	types := q.Types
	if len(types) == 0 {
		types = []string{crm.TypeContact, crm.TypeAccount}
	}
	var out []crm.Record
	seen := map[string]bool{}
	add := func(typ string, k kind, obj map[string]any, keep func(crm.Record) bool) bool {
		r := c.record(typ, k, obj)
		if seen[k.path+r.ID] || (keep != nil && !keep(r)) {
			return len(out) < limit
		}
		seen[k.path+r.ID] = true
		out = append(out, r)
		return len(out) < limit
	}
	done := map[string]bool{}
	for _, typ := range types {
		k, err := kindOf(typ)
		if err != nil {
			if typ == crm.TypeLead || typ == crm.TypeOpportunity {
				continue
			}
			return nil, err
		}
		if done[k.path] || len(out) >= limit {
			continue
		}
		done[k.path] = true
		switch {
		case q.Phone != "":
			if k.path != "users" {
				continue // organizations have no phone
			}
			for _, form := range phoneForms(q.Phone) {
				if err := c.search(ctx, "type:user "+term("phone", form), limit, func(obj map[string]any) bool { return add(typ, k, obj, nil) }); err != nil {
					return nil, err
				}
			}
		case strings.EqualFold(q.Field, "Id"):
			if _, err := strconv.ParseInt(q.Value, 10, 64); err != nil {
				continue
			}
			r, err := c.Get(ctx, typ, q.Value)
			if errors.Is(err, crm.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !seen[k.path+r.ID] {
				seen[k.path+r.ID] = true
				out = append(out, r)
			}
		case q.Field != "":
			f := canonical(k, q.Field)
			keep := func(r crm.Record) bool { return strings.EqualFold(r.Fields[f], q.Value) }
			if err := c.search(ctx, "type:"+k.resultType+" "+term(f, q.Value), limit, func(obj map[string]any) bool { return add(typ, k, obj, keep) }); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: zendesk: a search needs a field or a phone", crm.ErrRejected)
		}
	}
	return out, nil
}

// search runs a search query, following next_page while each says more.
func (c *Connector) search(ctx context.Context, query string, limit int, each func(map[string]any) bool) error {
	next := c.cfg.BaseURL + "/api/v2/search.json?" + url.Values{"query": {query}, "per_page": {strconv.Itoa(min(limit, 100))}}.Encode()
	for next != "" {
		var page struct {
			Results  []map[string]any `json:"results"`
			NextPage *string          `json:"next_page"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, &page, nil); err != nil {
			return err
		}
		for _, r := range page.Results {
			if !each(r) {
				return nil
			}
		}
		next = ""
		if page.NextPage != nil {
			next = *page.NextPage
		}
	}
	return nil
}

func numericID(typ, id string) error {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return fmt.Errorf("%w: zendesk: %s %q (ids are numbers)", crm.ErrNotFound, typ, id)
	}
	return nil
}

// Get implements crm.Connector.
func (c *Connector) Get(ctx context.Context, typ, id string) (crm.Record, error) {
	k, err := kindOf(typ)
	if err != nil {
		return crm.Record{}, err
	}
	if err := numericID(typ, id); err != nil {
		return crm.Record{}, err
	}
	var body map[string]map[string]any
	if err := c.do(ctx, http.MethodGet, c.cfg.BaseURL+"/api/v2/"+k.path+"/"+id+".json", nil, &body, nil); err != nil {
		return crm.Record{}, err
	}
	return c.record(typ, k, body[k.one]), nil
}

// Create implements crm.Connector.
func (c *Connector) Create(ctx context.Context, typ string, fields map[string]string) (string, error) {
	k, err := kindOf(typ)
	if err != nil {
		return "", err
	}
	obj := object(k, fields)
	if k.path == "users" {
		if _, ok := obj["role"]; !ok {
			obj["role"] = "end-user"
		}
	}
	var out map[string]map[string]any
	if err := c.do(ctx, http.MethodPost, c.cfg.BaseURL+"/api/v2/"+k.path+".json", map[string]any{k.one: obj}, &out, nil); err != nil {
		return "", err
	}
	return scalar(out[k.one]["id"]), nil
}

// Update implements crm.Connector.
func (c *Connector) Update(ctx context.Context, typ, id string, fields map[string]string) error {
	k, err := kindOf(typ)
	if err != nil {
		return err
	}
	if err := numericID(typ, id); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, c.cfg.BaseURL+"/api/v2/"+k.path+"/"+id+".json", map[string]any{k.one: object(k, fields)}, nil, nil)
}

// Upsert implements crm.Connector with create_or_update, matching on
// external_id (a Zendesk record has one external id: whatever extField is
// called, its value is the external_id) — or on email when extField is
// "email" (users). Several records with the external id are crm.ErrMultiple.
func (c *Connector) Upsert(ctx context.Context, typ, extField, extValue string, fields map[string]string) (string, bool, error) {
	k, err := kindOf(typ)
	if err != nil {
		return "", false, err
	}
	if extValue == "" {
		return "", false, fmt.Errorf("%w: zendesk: upsert without an external id value", crm.ErrRejected)
	}
	match := "external_id"
	if k.path == "users" && canonical(k, extField) == "email" {
		match = "email"
	}
	n := 0
	err = c.search(ctx, "type:"+k.resultType+" "+term(match, extValue), 100, func(obj map[string]any) bool {
		if strings.EqualFold(scalar(obj[match]), extValue) {
			n++
		}
		return true
	})
	if err != nil {
		return "", false, err
	}
	if n > 1 {
		return "", false, fmt.Errorf("%w: zendesk: %d %s have %s %q", crm.ErrMultiple, n, k.path, match, extValue)
	}
	obj := object(k, fields)
	delete(obj, "id")
	obj[match] = extValue
	if k.path == "users" && n == 0 {
		if _, ok := obj["role"]; !ok {
			obj["role"] = "end-user"
		}
	}
	var out map[string]map[string]any
	var status int
	if err := c.do(ctx, http.MethodPost, c.cfg.BaseURL+"/api/v2/"+k.path+"/create_or_update.json", map[string]any{k.one: obj}, &out, &status); err != nil {
		return "", false, err
	}
	return scalar(out[k.one]["id"]), status == http.StatusCreated, nil
}

// LogActivity implements crm.Connector: the ticket of a.CallID.
func (c *Connector) LogActivity(ctx context.Context, a crm.Activity) (string, error) {
	if a.CallID == "" {
		return "", fmt.Errorf("%w: zendesk: activity without a call id", crm.ErrRejected)
	}
	var b strings.Builder
	if a.Disposition != "" {
		fmt.Fprintf(&b, "Disposition: %s\n", a.Disposition)
	}
	fmt.Fprintf(&b, "Call %s", a.Direction)
	if a.Phone != "" {
		fmt.Fprintf(&b, " %s", a.Phone)
	}
	fmt.Fprintf(&b, ", %d s", a.DurationSeconds)
	if !a.Start.IsZero() {
		fmt.Fprintf(&b, ", started %s", a.Start.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if a.Description != "" {
		b.WriteString("\n" + a.Description + "\n")
	}
	t := map[string]any{"subject": a.Subject}
	if a.Subject == "" {
		t["subject"] = "Call " + a.Direction
	}
	switch a.RecordType {
	case crm.TypeContact, "":
		if a.RecordID != "" {
			if err := numericID("requester", a.RecordID); err != nil {
				return "", fmt.Errorf("%w: %v", crm.ErrRejected, err)
			}
			t["requester_id"], _ = strconv.ParseInt(a.RecordID, 10, 64)
		}
	case crm.TypeAccount, crm.TypeCompany:
		if a.RecordID != "" {
			n, err := strconv.ParseInt(a.RecordID, 10, 64)
			if err != nil {
				return "", fmt.Errorf("%w: zendesk: organization %q (ids are numbers)", crm.ErrRejected, a.RecordID)
			}
			t["organization_id"] = n
		}
	}
	if n, err := strconv.ParseInt(a.OwnerID, 10, 64); err == nil {
		t["assignee_id"] = n
	}
	tags := append([]string{}, c.cfg.TicketTags...)
	if a.Direction != "" {
		tags = append(tags, "call_"+a.Direction)
	}
	return c.writeTicket(ctx, a.CallID, t, tags, b.String())
}

// CreateVoiceCall implements crm.Connector: the same ticket per call.
func (c *Connector) CreateVoiceCall(ctx context.Context, v crm.VoiceCall) (string, error) {
	number := v.From
	if v.Direction == "outbound" {
		number = v.To
	}
	return c.LogActivity(ctx, crm.Activity{CallID: v.CallID, RecordID: v.RelatedRecordID, Subject: "Call " + v.Direction + " " + number,
		Direction: v.Direction, Disposition: v.Disposition, DurationSeconds: v.DurationSeconds, Start: v.Start, End: v.End, Phone: number})
}

func (c *Connector) writeTicket(ctx context.Context, callID string, t map[string]any, tags []string, body string) (string, error) {
	var found struct {
		Tickets []map[string]any `json:"tickets"`
	}
	if err := c.do(ctx, http.MethodGet, c.cfg.BaseURL+"/api/v2/tickets.json?"+url.Values{"external_id": {callID}}.Encode(), nil, &found, nil); err != nil {
		return "", err
	}
	if c.cfg.TicketStatus != "" {
		t["status"] = c.cfg.TicketStatus
	}
	if len(found.Tickets) == 0 {
		t["external_id"] = callID
		t["tags"] = tags
		t["comment"] = map[string]any{"body": body, "public": false}
		var out struct {
			Ticket map[string]any `json:"ticket"`
		}
		if err := c.do(ctx, http.MethodPost, c.cfg.BaseURL+"/api/v2/tickets.json", map[string]any{"ticket": t}, &out, nil); err != nil {
			return "", err
		}
		return scalar(out.Ticket["id"]), nil
	}
	id := scalar(found.Tickets[0]["id"])
	var last struct {
		Comments []struct {
			Body string `json:"body"`
		} `json:"comments"`
	}
	if err := c.do(ctx, http.MethodGet, c.cfg.BaseURL+"/api/v2/tickets/"+id+"/comments.json?sort_order=desc&per_page=1", nil, &last, nil); err != nil {
		return "", err
	}
	if len(last.Comments) == 0 || strings.TrimSpace(last.Comments[0].Body) != strings.TrimSpace(body) {
		t["comment"] = map[string]any{"body": body, "public": false}
	}
	t["additional_tags"] = tags
	if err := c.do(ctx, http.MethodPut, c.cfg.BaseURL+"/api/v2/tickets/"+id+".json", map[string]any{"ticket": t}, nil, nil); err != nil {
		return "", err
	}
	return id, nil
}

// Users implements crm.Connector: the agents and admins.
func (c *Connector) Users(ctx context.Context) ([]crm.User, error) {
	next := c.cfg.BaseURL + "/api/v2/users.json?" + url.Values{"role[]": {"agent", "admin"}, "per_page": {"100"}}.Encode()
	var out []crm.User
	for next != "" {
		var page struct {
			Users []struct {
				ID    json.Number `json:"id"`
				Name  string      `json:"name"`
				Email string      `json:"email"`
			} `json:"users"`
			NextPage *string `json:"next_page"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, &page, nil); err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			out = append(out, crm.User{ID: u.ID.String(), Name: u.Name, Email: u.Email})
		}
		next = ""
		if page.NextPage != nil {
			next = *page.NextPage
		}
	}
	return out, nil
}

func (c *Connector) do(ctx context.Context, method, u string, in, out any, status *int) error {
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: zendesk %s: %v", crm.ErrUnavailable, method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%w: zendesk %s: %v", crm.ErrUnavailable, method, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if status != nil {
			*status = resp.StatusCode
		}
		if out != nil && len(raw) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(out); err != nil {
				return fmt.Errorf("%w: zendesk %s: bad JSON answer: %v", crm.ErrUnavailable, method, err)
			}
		}
		return nil
	}
	return apiError(method, resp, raw)
}

func apiError(method string, resp *http.Response, raw []byte) error {
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
		Details     json.RawMessage `json:"details"`
	}
	_ = json.Unmarshal(raw, &e)
	detail := fmt.Sprintf("zendesk %s %s: HTTP %d", method, resp.Request.URL.Path, resp.StatusCode)
	var code string
	if json.Unmarshal(e.Error, &code) != nil {
		var obj struct{ Title, Message string }
		if json.Unmarshal(e.Error, &obj) == nil {
			code, e.Description = obj.Title, obj.Message
		}
	}
	if code != "" {
		detail += " " + code
	}
	if e.Description != "" {
		detail += ": " + e.Description
	}
	if len(e.Details) > 0 && string(e.Details) != "null" {
		detail += " " + string(e.Details)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", crm.ErrAuth, detail)
	case resp.StatusCode == http.StatusTooManyRequests:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			detail += " (Retry-After " + ra + ")"
		}
		return fmt.Errorf("%w: %s", crm.ErrUnavailable, detail)
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %s", crm.ErrUnavailable, detail)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", crm.ErrNotFound, detail)
	}
	return fmt.Errorf("%w: %s", crm.ErrRejected, detail)
}
