// Package dynamics is the Dynamics 365 (Dataverse Web API v9.2) connector.
//
// Authentication is the OAuth 2.0 client-credentials grant against an
// Azure AD-style token endpoint ({authority}/{tenant}/oauth2/v2.0/token,
// scope "<org URL>/.default"). A 401 on an API call gets one new token and
// one retry; a second 401 is crm.ErrAuth.
//
// Record types map onto entity sets: Contact → contacts, Account and
// Company → accounts, Lead → leads, Opportunity → opportunities. Fields are
// the entity's logical attribute names (firstname, telephone1, ...); the
// Salesforce standard names FirstName, LastName, Name, Phone, MobilePhone,
// Email, Title, Company are accepted as aliases on writes and searches.
// Activities (and voice calls: Dynamics has no separate entity) are
// phonecall activities upserted through the alternate key neo_callid (the
// key must exist on the phonecall entity of the organization).
package dynamics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/crm"
)

// Config is how to reach one Dynamics 365 organization.
type Config struct {
	OrgURL       string // https://contoso.crm4.dynamics.com (API and scope base)
	AuthorityURL string // default https://login.microsoftonline.com
	TenantID     string
	ClientID     string
	ClientSecret string
	APIVersion   string // default "9.2"
	// CallIDKey is the phonecall alternate key holding our call id
	// (default "neo_callid").
	CallIDKey string
	// PageSize asks for pages of this many rows (Prefer odata.maxpagesize);
	// 0 = 500.
	PageSize   int
	HTTPClient *http.Client // default: 20 s timeout
}

// FromSettings reads a Config from a call center's settings (orgUrl,
// authorityUrl, tenantId, clientId, apiVersion, callIdKey) and secrets
// (clientSecret).
func FromSettings(settings, secrets map[string]string) (Config, error) {
	c := Config{
		OrgURL:       settings["orgUrl"],
		AuthorityURL: settings["authorityUrl"],
		TenantID:     settings["tenantId"],
		ClientID:     settings["clientId"],
		APIVersion:   settings["apiVersion"],
		CallIDKey:    settings["callIdKey"],
		ClientSecret: secrets["clientSecret"],
	}
	var missing []string
	for k, v := range map[string]string{"orgUrl": c.OrgURL, "tenantId": c.TenantID, "clientId": c.ClientID, "clientSecret": c.ClientSecret} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("dynamics: settings missing: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Connector is a crm.Connector for Dynamics 365.
type Connector struct {
	cfg  Config
	hc   *http.Client
	base string // {org}/api/data/v9.2

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ crm.Connector = (*Connector)(nil)

// New returns a connector; nothing is contacted until the first call.
func New(cfg Config) (*Connector, error) {
	cfg.OrgURL = strings.TrimRight(strings.TrimSpace(cfg.OrgURL), "/")
	if _, err := url.ParseRequestURI(cfg.OrgURL); err != nil || cfg.OrgURL == "" {
		return nil, fmt.Errorf("dynamics: orgUrl %q is not a URL", cfg.OrgURL)
	}
	if cfg.AuthorityURL == "" {
		cfg.AuthorityURL = "https://login.microsoftonline.com"
	}
	cfg.AuthorityURL = strings.TrimRight(cfg.AuthorityURL, "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = "9.2"
	}
	if cfg.CallIDKey == "" {
		cfg.CallIDKey = "neo_callid"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	return &Connector{cfg: cfg, hc: hc, base: cfg.OrgURL + "/api/data/v" + cfg.APIVersion}, nil
}

// entity describes one entity set.
type entity struct {
	set, idAttr, nameAttr string
	phones                []string
}

var entities = map[string]entity{
	crm.TypeContact:     {"contacts", "contactid", "fullname", []string{"telephone1", "telephone2", "mobilephone"}},
	crm.TypeAccount:     {"accounts", "accountid", "name", []string{"telephone1", "telephone2"}},
	crm.TypeCompany:     {"accounts", "accountid", "name", []string{"telephone1", "telephone2"}},
	crm.TypeLead:        {"leads", "leadid", "fullname", []string{"telephone1", "telephone2", "mobilephone"}},
	crm.TypeOpportunity: {"opportunities", "opportunityid", "name", nil},
}

var defaultTypes = []string{crm.TypeContact, crm.TypeAccount, crm.TypeLead}

func entityOf(typ string) (entity, error) {
	e, ok := entities[typ]
	if !ok {
		return entity{}, fmt.Errorf("%w: dynamics: record type %q is not supported (Contact, Account, Company, Lead, Opportunity)", crm.ErrRejected, typ)
	}
	return e, nil
}

// aliases maps Salesforce standard field names onto Dataverse attributes.
var aliases = map[string]string{
	"firstname": "firstname", "lastname": "lastname", "phone": "telephone1",
	"mobilephone": "mobilephone", "email": "emailaddress1", "title": "jobtitle",
	"company": "companyname", "description": "description",
}

// attr returns the Dataverse attribute for a field name of typ.
func attr(typ, field string) string {
	f := strings.ToLower(strings.TrimSpace(field))
	if f == "name" {
		switch typ {
		case crm.TypeContact, crm.TypeLead:
			return "fullname"
		}
		return "name"
	}
	if a, ok := aliases[f]; ok {
		return a
	}
	return f
}

var attrRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// body turns fields into a request body (attributes by logical name).
func body(typ string, fields map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		a := attr(typ, k)
		if a == "fullname" {
			// fullname is computed; write it as first and last name.
			first, last, ok := strings.Cut(strings.TrimSpace(v), " ")
			if !ok {
				first, last = "", first
			}
			if _, set := out["lastname"]; !set {
				out["lastname"] = last
			}
			if _, set := out["firstname"]; !set && first != "" {
				out["firstname"] = first
			}
			continue
		}
		if strings.Contains(a, "@odata.bind") {
			out[k] = v
			continue
		}
		if !attrRE.MatchString(a) {
			return nil, fmt.Errorf("%w: dynamics: %q is not an attribute name", crm.ErrRejected, k)
		}
		out[a] = v
	}
	return out, nil
}

// Search implements crm.Connector.
func (c *Connector) Search(ctx context.Context, q crm.Query) ([]crm.Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	types := q.Types
	if len(types) == 0 {
		types = defaultTypes
	}
	var out []crm.Record
	seen := map[string]bool{}
	for _, typ := range types {
		if len(out) >= limit {
			break
		}
		e, err := entityOf(typ)
		if err != nil {
			return nil, err
		}
		if seen[e.set] {
			continue // Account and Company are the same entity set
		}
		var filter string
		switch {
		case q.Phone != "":
			if len(e.phones) == 0 {
				continue
			}
			var or []string
			for _, form := range phoneForms(q.Phone) {
				for _, p := range e.phones {
					or = append(or, p+" eq "+quote(form))
				}
			}
			filter = strings.Join(or, " or ")
		case strings.EqualFold(q.Field, "Id"):
			seen[e.set] = true
			if !guidRE.MatchString(q.Value) {
				continue
			}
			r, err := c.Get(ctx, typ, q.Value)
			if errors.Is(err, crm.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			continue
		case q.Field != "":
			a := attr(typ, q.Field)
			if !attrRE.MatchString(a) {
				return nil, fmt.Errorf("%w: dynamics: %q is not an attribute name", crm.ErrRejected, q.Field)
			}
			filter = a + " eq " + quote(q.Value)
		default:
			return nil, fmt.Errorf("%w: dynamics: a search needs a field or a phone", crm.ErrRejected)
		}
		seen[e.set] = true
		v := url.Values{"$filter": {filter}}
		next := c.base + "/" + e.set + "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
		for next != "" && len(out) < limit {
			var page struct {
				Value    []map[string]any `json:"value"`
				NextLink string           `json:"@odata.nextLink"`
			}
			if err := c.do(ctx, http.MethodGet, next, nil, nil, &page, nil); err != nil {
				return nil, err
			}
			for _, row := range page.Value {
				if len(out) >= limit {
					break
				}
				out = append(out, c.record(typ, e, row))
			}
			next = page.NextLink
		}
	}
	return out, nil
}

// phoneForms are the forms a number may be stored in: as given (E.164),
// digits only, and without the leading +.
func phoneForms(p string) []string {
	p = strings.TrimSpace(p)
	var digits strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	forms := []string{p}
	if d := digits.String(); d != "" && d != p {
		forms = append(forms, d)
	}
	return forms
}

func (c *Connector) record(typ string, e entity, row map[string]any) crm.Record {
	r := crm.Record{Type: typ, Fields: map[string]string{}}
	for k, v := range row {
		if strings.HasPrefix(k, "@odata") || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			r.Fields[k] = x
		case float64:
			r.Fields[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			r.Fields[k] = strconv.FormatBool(x)
		case json.Number:
			r.Fields[k] = x.String()
		}
	}
	r.ID = r.Fields[e.idAttr]
	r.Name = r.Fields[e.nameAttr]
	if r.Name == "" && e.nameAttr == "fullname" {
		r.Name = strings.TrimSpace(r.Fields["firstname"] + " " + r.Fields["lastname"])
	}
	for _, p := range e.phones {
		if v := r.Fields[p]; v != "" {
			r.Phones = append(r.Phones, v)
		}
	}
	logical := strings.TrimSuffix(e.idAttr, "id")
	r.URL = c.cfg.OrgURL + "/main.aspx?pagetype=entityrecord&etn=" + logical + "&id=" + r.ID
	return r
}

// Get implements crm.Connector.
func (c *Connector) Get(ctx context.Context, typ, id string) (crm.Record, error) {
	e, err := entityOf(typ)
	if err != nil {
		return crm.Record{}, err
	}
	if !guidRE.MatchString(id) {
		return crm.Record{}, fmt.Errorf("%w: dynamics: %s %q (ids are GUIDs)", crm.ErrNotFound, typ, id)
	}
	var row map[string]any
	if err := c.do(ctx, http.MethodGet, c.base+"/"+e.set+"("+id+")", nil, nil, &row, nil); err != nil {
		return crm.Record{}, err
	}
	return c.record(typ, e, row), nil
}

// Create implements crm.Connector.
func (c *Connector) Create(ctx context.Context, typ string, fields map[string]string) (string, error) {
	e, err := entityOf(typ)
	if err != nil {
		return "", err
	}
	b, err := body(typ, fields)
	if err != nil {
		return "", err
	}
	var hdr http.Header
	if err := c.do(ctx, http.MethodPost, c.base+"/"+e.set, b, nil, nil, &hdr); err != nil {
		return "", err
	}
	id := entityID(hdr.Get("OData-EntityId"))
	if id == "" {
		return "", fmt.Errorf("%w: dynamics: create answered without OData-EntityId", crm.ErrUnavailable)
	}
	return id, nil
}

var entityIDRE = regexp.MustCompile(`\(([0-9a-fA-F-]{36})\)\s*$`)

// entityID takes the GUID out of an OData-EntityId header.
func entityID(h string) string {
	m := entityIDRE.FindStringSubmatch(h)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// Update implements crm.Connector.
func (c *Connector) Update(ctx context.Context, typ, id string, fields map[string]string) error {
	e, err := entityOf(typ)
	if err != nil {
		return err
	}
	if !guidRE.MatchString(id) {
		return fmt.Errorf("%w: dynamics: %s %q (ids are GUIDs)", crm.ErrNotFound, typ, id)
	}
	b, err := body(typ, fields)
	if err != nil {
		return err
	}
	// If-Match: * makes PATCH an update only (no upsert of a missing id).
	return c.do(ctx, http.MethodPatch, c.base+"/"+e.set+"("+id+")", b, http.Header{"If-Match": {"*"}}, nil, nil)
}

// Upsert implements crm.Connector: PATCH by alternate key extField (the
// attribute, lower-cased, must be an alternate key of the entity).
func (c *Connector) Upsert(ctx context.Context, typ, extField, extValue string, fields map[string]string) (string, bool, error) {
	e, err := entityOf(typ)
	if err != nil {
		return "", false, err
	}
	key := attr(typ, extField)
	if !attrRE.MatchString(key) || extValue == "" {
		return "", false, fmt.Errorf("%w: dynamics: upsert needs an alternate key attribute and a value", crm.ErrRejected)
	}
	b, err := body(typ, fields)
	if err != nil {
		return "", false, err
	}
	b[key] = extValue
	var row map[string]any
	var status int
	err = c.doStatus(ctx, http.MethodPatch, c.base+"/"+e.set+"("+key+"="+url.PathEscape(quote(extValue))+")", b,
		http.Header{"Prefer": {"return=representation"}}, &row, nil, &status)
	if err != nil {
		return "", false, err
	}
	id, _ := row[e.idAttr].(string)
	return id, status == http.StatusCreated, nil
}

// LogActivity implements crm.Connector: a phonecall activity upserted by
// its alternate key (CallIDKey = a.CallID).
func (c *Connector) LogActivity(ctx context.Context, a crm.Activity) (string, error) {
	if a.CallID == "" {
		return "", fmt.Errorf("%w: dynamics: activity without a call id", crm.ErrRejected)
	}
	b := map[string]any{
		"subject":               a.Subject,
		"directioncode":         a.Direction == "outbound",
		"actualdurationminutes": minutes(a.DurationSeconds),
	}
	desc := a.Description
	if a.Disposition != "" {
		desc = strings.TrimSpace("Disposition: " + a.Disposition + "\n\n" + desc)
	}
	b["description"] = desc
	if a.Phone != "" {
		b["phonenumber"] = a.Phone
	}
	if !a.Start.IsZero() {
		b["actualstart"] = a.Start.UTC().Format(time.RFC3339)
	}
	if !a.End.IsZero() {
		b["actualend"] = a.End.UTC().Format(time.RFC3339)
	}
	if a.RecordID != "" {
		typ := a.RecordType
		if typ == "" {
			typ = crm.TypeContact
		}
		e, err := entityOf(typ)
		if err != nil {
			return "", err
		}
		if !guidRE.MatchString(a.RecordID) {
			return "", fmt.Errorf("%w: dynamics: regarding record %q is not a GUID", crm.ErrRejected, a.RecordID)
		}
		b["regardingobjectid_"+strings.TrimSuffix(e.idAttr, "id")+"@odata.bind"] = "/" + e.set + "(" + a.RecordID + ")"
	}
	if a.OwnerID != "" && guidRE.MatchString(a.OwnerID) {
		b["ownerid@odata.bind"] = "/systemusers(" + a.OwnerID + ")"
	}
	return c.upsertCall(ctx, a.CallID, b)
}

// CreateVoiceCall implements crm.Connector with the same phonecall
// activity as LogActivity (Dynamics has no voice-call entity of its own).
func (c *Connector) CreateVoiceCall(ctx context.Context, v crm.VoiceCall) (string, error) {
	if v.CallID == "" {
		return "", fmt.Errorf("%w: dynamics: voice call without a call id", crm.ErrRejected)
	}
	number := v.From
	if v.Direction == "outbound" {
		number = v.To
	}
	b := map[string]any{
		"subject":               "Call " + v.Direction + " " + number,
		"directioncode":         v.Direction == "outbound",
		"actualdurationminutes": minutes(v.DurationSeconds),
		"phonenumber":           number,
	}
	if v.Disposition != "" {
		b["description"] = "Disposition: " + v.Disposition
	}
	if !v.Start.IsZero() {
		b["actualstart"] = v.Start.UTC().Format(time.RFC3339)
	}
	if !v.End.IsZero() {
		b["actualend"] = v.End.UTC().Format(time.RFC3339)
	}
	if guidRE.MatchString(v.RelatedRecordID) {
		b["regardingobjectid_contact@odata.bind"] = "/contacts(" + v.RelatedRecordID + ")"
	}
	return c.upsertCall(ctx, v.CallID, b)
}

func (c *Connector) upsertCall(ctx context.Context, callID string, b map[string]any) (string, error) {
	b[c.cfg.CallIDKey] = callID
	var row map[string]any
	err := c.do(ctx, http.MethodPatch, c.base+"/phonecalls("+c.cfg.CallIDKey+"="+url.PathEscape(quote(callID))+")", b,
		http.Header{"Prefer": {"return=representation"}}, &row, nil)
	if err != nil {
		return "", err
	}
	id, _ := row["activityid"].(string)
	return id, nil
}

func minutes(sec int) int {
	if sec <= 0 {
		return 0
	}
	return int(math.Ceil(float64(sec) / 60))
}

// Users implements crm.Connector: the enabled systemusers.
func (c *Connector) Users(ctx context.Context) ([]crm.User, error) {
	v := url.Values{"$select": {"systemuserid,fullname,internalemailaddress"}, "$filter": {"isdisabled eq false"}}
	next := c.base + "/systemusers?" + strings.ReplaceAll(v.Encode(), "+", "%20")
	var out []crm.User
	for next != "" {
		var page struct {
			Value []struct {
				ID    string `json:"systemuserid"`
				Name  string `json:"fullname"`
				Email string `json:"internalemailaddress"`
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, nil, &page, nil); err != nil {
			return nil, err
		}
		for _, u := range page.Value {
			out = append(out, crm.User{ID: u.ID, Name: u.Name, Email: u.Email})
		}
		next = page.NextLink
	}
	return out, nil
}

// accessToken returns the cached token, or a new one.
func (c *Connector) accessToken(ctx context.Context, renew bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !renew && c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"scope":         {c.cfg.OrgURL + "/.default"},
	}
	u := c.cfg.AuthorityURL + "/" + url.PathEscape(c.cfg.TenantID) + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: dynamics token: %v", crm.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return "", fmt.Errorf("%w: dynamics token: HTTP %d", crm.ErrUnavailable, resp.StatusCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(raw, &tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("%w: dynamics token: HTTP %d %s %s", crm.ErrAuth, resp.StatusCode, tok.Error, tok.Description)
	}
	c.token = tok.AccessToken
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	c.expires = time.Now().Add(life - life/10) // renew a little early
	return c.token, nil
}

func (c *Connector) do(ctx context.Context, method, u string, in any, hdr http.Header, out any, respHdr *http.Header) error {
	return c.doStatus(ctx, method, u, in, hdr, out, respHdr, nil)
}

// doStatus sends one API request with a token, renewing it once on 401,
// and maps errors onto the crm error values.
func (c *Connector) doStatus(ctx context.Context, method, u string, in any, hdr http.Header, out any, respHdr *http.Header, status *int) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for try := 0; ; try++ {
		tok, err := c.accessToken(ctx, try > 0)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("OData-MaxVersion", "4.0")
		req.Header.Set("OData-Version", "4.0")
		if method == http.MethodGet {
			req.Header.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(c.cfg.PageSize))
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return fmt.Errorf("%w: dynamics %s: %v", crm.ErrUnavailable, method, err)
		}
		raw, rerr := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if rerr != nil {
			return fmt.Errorf("%w: dynamics %s: %v", crm.ErrUnavailable, method, rerr)
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 {
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if status != nil {
				*status = resp.StatusCode
			}
			if respHdr != nil {
				*respHdr = resp.Header
			}
			if out != nil && len(raw) > 0 {
				if err := json.Unmarshal(raw, out); err != nil {
					return fmt.Errorf("%w: dynamics %s: bad JSON answer: %v", crm.ErrUnavailable, method, err)
				}
			}
			return nil
		}
		return apiError(method, resp, raw)
	}
}

func apiError(method string, resp *http.Response, raw []byte) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	detail := fmt.Sprintf("dynamics %s %s: HTTP %d", method, resp.Request.URL.Path, resp.StatusCode)
	if e.Error.Code != "" || e.Error.Message != "" {
		detail += fmt.Sprintf(" %s: %s", e.Error.Code, e.Error.Message)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", crm.ErrAuth, detail)
	case resp.StatusCode == http.StatusTooManyRequests:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			detail += " (Retry-After " + ra + ")"
		}
		return fmt.Errorf("%w: %s", crm.ErrUnavailable, detail)
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s", crm.ErrUnavailable, detail)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", crm.ErrNotFound, detail)
	case resp.StatusCode == http.StatusConflict && e.Error.Code == CodeDuplicateKey:
		return fmt.Errorf("%w: %s", crm.ErrMultiple, detail)
	}
	return fmt.Errorf("%w: %s", crm.ErrRejected, detail)
}

// CodeDuplicateKey is the error code of a 409 answer to an upsert whose
// alternate key matches several records (which Dataverse itself prevents
// with the key's unique index; kept for keys created over dirty data).
const CodeDuplicateKey = "0x80060892"
