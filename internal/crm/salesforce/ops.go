package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/centralita/centralita/internal/crm"
)

var _ crm.Connector = (*Connector)(nil)

// EscapeSOSL escapes the SOSL reserved characters
// & | ! ( ) { } [ ] ^ " ~ * ? : \ ' + - with a backslash.
func EscapeSOSL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ { // bytes: the reserved characters are ASCII
		if strings.IndexByte(`&|!(){}[]^"~*?:\'+-`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// EscapeSOQL escapes a value for a single-quoted SOQL string literal.
func EscapeSOQL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch r := s[i]; r {
		case '\\', '\'', '"':
			b.WriteByte('\\')
			b.WriteByte(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(r)
		}
	}
	return b.String()
}

func validName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '.')) {
			return false
		}
	}
	return true
}

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", crm.ErrRejected, fmt.Sprintf(format, args...))
}

// sfTypes maps the query's types onto Salesforce objects (Company →
// Account), deduplicated, default DefaultTypes.
func sfTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return DefaultTypes, nil
	}
	var out []string
	for _, t := range types {
		if t == crm.TypeCompany {
			t = crm.TypeAccount
		}
		if !validName(t) {
			return nil, rejected("invalid record type %q", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func fieldsOf(typ string) []string {
	if f, ok := searchFields[typ]; ok {
		return f
	}
	return []string{"Id", "Name"}
}

// queryResult is a SOQL answer page.
type queryResult struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

// Query runs a SOQL query and follows nextRecordsUrl until done or max rows
// (max ≤ 0: all).
func (c *Connector) Query(ctx context.Context, soql string, max int) ([]map[string]any, error) {
	var all []map[string]any
	path := "/query?q=" + url.QueryEscape(soql)
	for {
		var page queryResult
		if _, err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Records...)
		if max > 0 && len(all) >= max {
			return all[:max], nil
		}
		if page.Done || page.NextRecordsURL == "" {
			return all, nil
		}
		if !strings.HasPrefix(page.NextRecordsURL, "/services/data/") {
			return nil, fmt.Errorf("%w: unexpected nextRecordsUrl %q", crm.ErrUnavailable, page.NextRecordsURL)
		}
		path = page.NextRecordsURL
	}
}

// toRecord maps a Salesforce row onto a crm.Record.
func (c *Connector) toRecord(row map[string]any, typ string) crm.Record {
	rec := crm.Record{Type: typ, Fields: map[string]string{}}
	if a, ok := row["attributes"].(map[string]any); ok {
		if t, _ := a["type"].(string); t != "" {
			rec.Type = t
		}
	}
	for k, v := range row {
		switch x := v.(type) {
		case string:
			rec.Fields[k] = x
		case float64:
			rec.Fields[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			rec.Fields[k] = strconv.FormatBool(x)
		}
	}
	rec.ID = rec.Fields["Id"]
	rec.Name = rec.Fields["Name"]
	if rec.Name == "" {
		rec.Name = rec.Fields["Subject"]
	}
	for _, f := range []string{"Phone", "MobilePhone", "HomePhone", "OtherPhone"} {
		if p := rec.Fields[f]; p != "" {
			rec.Phones = append(rec.Phones, p)
		}
	}
	c.mu.Lock()
	inst := c.instance
	c.mu.Unlock()
	if inst != "" && rec.ID != "" {
		rec.URL = inst + "/lightning/r/" + rec.Type + "/" + rec.ID + "/view"
	}
	return rec
}

// Search finds records by phone (SOSL or parameterized search in PHONE
// FIELDS) or by a field's exact value (SOQL per type; types lacking the
// field are skipped).
func (c *Connector) Search(ctx context.Context, q crm.Query) ([]crm.Record, error) {
	types, err := sfTypes(q.Types)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 2000 {
		limit = 2000
	}
	if q.Field == "" {
		return c.searchPhone(ctx, q.Phone, types, limit)
	}
	if !validName(q.Field) {
		return nil, rejected("invalid field name %q", q.Field)
	}
	var out []crm.Record
	var firstErr error
	skipped := 0
	for _, typ := range types {
		fields := fieldsOf(typ)
		if !slices.Contains(fields, q.Field) && q.Field != "Id" {
			fields = append(slices.Clone(fields), q.Field)
		}
		soql := fmt.Sprintf("SELECT %s FROM %s WHERE %s = '%s' LIMIT %d",
			strings.Join(fields, ", "), typ, q.Field, EscapeSOQL(q.Value), limit-len(out))
		rows, err := c.Query(ctx, soql, limit-len(out))
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && errors.Is(err, crm.ErrRejected) && len(types) > 1 &&
				(ae.Code == "INVALID_FIELD" || ae.Code == "INVALID_TYPE" || ae.Code == "INVALID_QUERY_FILTER_OPERATOR") {
				skipped++
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return nil, err
		}
		for _, row := range rows {
			out = append(out, c.toRecord(row, typ))
		}
		if len(out) >= limit {
			break
		}
	}
	if skipped == len(types) {
		return nil, firstErr
	}
	return out, nil
}

func (c *Connector) searchPhone(ctx context.Context, phone string, types []string, limit int) ([]crm.Record, error) {
	d := digits(phone)
	if d == "" {
		return nil, rejected("search needs a field or a phone number")
	}
	var res struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	if c.cfg.PhoneSearch == "parameterized" {
		type sobj struct {
			Name   string   `json:"name"`
			Fields []string `json:"fields"`
		}
		body := map[string]any{"q": d, "in": "PHONE", "overallLimit": limit}
		var so []sobj
		for _, t := range types {
			so = append(so, sobj{t, fieldsOf(t)})
		}
		body["sobjects"] = so
		if _, err := c.do(ctx, http.MethodPost, "/parameterizedSearch/", body, &res); err != nil {
			return nil, err
		}
	} else {
		if _, err := c.do(ctx, http.MethodGet, "/search/?q="+url.QueryEscape(SOSLPhone(d, types, limit)), nil, &res); err != nil {
			return nil, err
		}
	}
	out := make([]crm.Record, 0, len(res.SearchRecords))
	for _, row := range res.SearchRecords {
		out = append(out, c.toRecord(row, ""))
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SOSLPhone is the phone search the connector sends:
// FIND {term} IN PHONE FIELDS RETURNING Contact(Id,Name,Phone,MobilePhone), ... LIMIT n.
func SOSLPhone(term string, types []string, limit int) string {
	var ret []string
	for _, t := range types {
		ret = append(ret, t+"("+strings.Join(fieldsOf(t), ",")+")")
	}
	return fmt.Sprintf("FIND {%s} IN PHONE FIELDS RETURNING %s LIMIT %d", EscapeSOSL(term), strings.Join(ret, ", "), limit)
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (c *Connector) checkRef(typ, id string) error {
	if !validName(typ) {
		return rejected("invalid record type %q", typ)
	}
	if id == "" || strings.ContainsAny(id, "/?#% ") {
		return fmt.Errorf("%w: invalid id %q", crm.ErrNotFound, id)
	}
	return nil
}

// Get reads one record (every field).
func (c *Connector) Get(ctx context.Context, typ, id string) (crm.Record, error) {
	if err := c.checkRef(typ, id); err != nil {
		return crm.Record{}, err
	}
	var row map[string]any
	if _, err := c.do(ctx, http.MethodGet, "/sobjects/"+typ+"/"+id, nil, &row); err != nil {
		return crm.Record{}, err
	}
	return c.toRecord(row, typ), nil
}

func body(fields map[string]string) map[string]any {
	m := make(map[string]any, len(fields))
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// Create adds a record.
func (c *Connector) Create(ctx context.Context, typ string, fields map[string]string) (string, error) {
	return c.create(ctx, typ, body(fields))
}

func (c *Connector) create(ctx context.Context, typ string, b map[string]any) (string, error) {
	if !validName(typ) {
		return "", rejected("invalid record type %q", typ)
	}
	var res struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/sobjects/"+typ, b, &res); err != nil {
		return "", err
	}
	return res.ID, nil
}

// Update changes fields of a record.
func (c *Connector) Update(ctx context.Context, typ, id string, fields map[string]string) error {
	if err := c.checkRef(typ, id); err != nil {
		return err
	}
	_, err := c.do(ctx, http.MethodPatch, "/sobjects/"+typ+"/"+id, body(fields), nil)
	return err
}

// Upsert creates or updates the record whose extField is extValue: 201
// created, 200/204 updated, 300 several → crm.ErrMultiple.
func (c *Connector) Upsert(ctx context.Context, typ, extField, extValue string, fields map[string]string) (string, bool, error) {
	b := body(fields)
	delete(b, extField) // the value is in the URL
	return c.upsert(ctx, typ, extField, extValue, b)
}

func (c *Connector) upsert(ctx context.Context, typ, extField, extValue string, b map[string]any) (string, bool, error) {
	if !validName(typ) || !validName(extField) {
		return "", false, rejected("invalid type or external-id field %q/%q", typ, extField)
	}
	if extValue == "" {
		return "", false, rejected("empty external id for %s.%s", typ, extField)
	}
	path := "/sobjects/" + typ + "/" + extField + "/" + url.PathEscape(extValue)
	var res struct {
		ID      string `json:"id"`
		Created *bool  `json:"created"`
	}
	status, err := c.do(ctx, http.MethodPatch, path, b, &res)
	if err != nil {
		return "", false, err
	}
	created := status == http.StatusCreated
	if res.Created != nil {
		created = *res.Created
	}
	if res.ID == "" { // 204 (older versions): read the id back
		var row map[string]any
		if _, err := c.do(ctx, http.MethodGet, path+"?fields=Id", nil, &row); err != nil {
			return "", created, err
		}
		res.ID, _ = row["Id"].(string)
	}
	return res.ID, created, nil
}

func callType(direction string) string {
	switch strings.ToLower(direction) {
	case "outbound":
		return "Outbound"
	case "internal":
		return "Internal"
	default:
		return "Inbound"
	}
}

// isWho reports a person (Contact or Lead): the Task's WhoId.
func isWho(typ, id string) bool {
	switch typ {
	case crm.TypeContact, crm.TypeLead:
		return true
	case "":
		return strings.HasPrefix(id, "003") || strings.HasPrefix(id, "00Q")
	}
	return false
}

// LogActivity upserts the Task whose TaskCallIDField is a.CallID.
// TaskSubtype "Call" is sent only when the Task is created: if the Task
// already exists Salesforce refuses the create-only field and the update is
// sent again without it.
func (c *Connector) LogActivity(ctx context.Context, a crm.Activity) (string, error) {
	if a.CallID == "" {
		return "", rejected("activity without a call id")
	}
	t := taskBody(a)
	withSubtype := maps(t)
	withSubtype["TaskSubtype"] = "Call"
	id, _, err := c.upsert(ctx, "Task", c.cfg.TaskCallIDField, a.CallID, withSubtype)
	if subtypeRefused(err) {
		id, _, err = c.upsert(ctx, "Task", c.cfg.TaskCallIDField, a.CallID, t)
	}
	return id, err
}

// subtypeRefused reports Salesforce refusing the create-only TaskSubtype on
// an update.
func subtypeRefused(err error) bool {
	var ae *APIError
	return err != nil && errors.As(err, &ae) && ae.Code == "INVALID_FIELD_FOR_INSERT_UPDATE" &&
		(slices.Contains(ae.Fields, "TaskSubtype") || strings.Contains(ae.Message, "TaskSubtype"))
}

// taskBody is the call's Task without TaskSubtype (and without the call-id
// field, which is in the upsert URL).
func taskBody(a crm.Activity) map[string]any {
	t := map[string]any{
		"Subject":               a.Subject,
		"Status":                "Completed",
		"CallType":              callType(a.Direction),
		"CallDurationInSeconds": a.DurationSeconds,
		"CallObject":            a.CallID,
	}
	if a.Subject == "" {
		t["Subject"] = "Call"
	}
	if a.Disposition != "" {
		t["CallDisposition"] = truncateRunes(a.Disposition, 255)
	}
	if a.Description != "" {
		t["Description"] = a.Description
	}
	if a.RecordID != "" {
		if isWho(a.RecordType, a.RecordID) {
			t["WhoId"] = a.RecordID
		} else {
			t["WhatId"] = a.RecordID
		}
	}
	day := a.Start
	if day.IsZero() {
		day = time.Now()
	}
	t["ActivityDate"] = day.UTC().Format("2006-01-02")
	if a.OwnerID != "" {
		t["OwnerId"] = a.OwnerID
	}
	return t
}

func maps(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// CreateVoiceCall upserts the VoiceCall whose VendorCallKey is v.CallID.
func (c *Connector) CreateVoiceCall(ctx context.Context, v crm.VoiceCall) (string, error) {
	if v.CallID == "" {
		return "", rejected("voice call without a call id")
	}
	b := map[string]any{
		"CallType":              strings.ToLower(callType(v.Direction)),
		"CallDurationInSeconds": v.DurationSeconds,
	}
	if v.From != "" {
		b["FromPhoneNumber"] = v.From
	}
	if v.To != "" {
		b["ToPhoneNumber"] = v.To
	}
	if !v.Start.IsZero() {
		b["CallStartDateTime"] = v.Start.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if !v.End.IsZero() {
		b["CallEndDateTime"] = v.End.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if v.Disposition != "" {
		b["CallDisposition"] = v.Disposition
	}
	if v.RelatedRecordID != "" {
		b["RelatedRecordId"] = v.RelatedRecordID
	}
	id, _, err := c.upsert(ctx, "VoiceCall", "VendorCallKey", v.CallID, b)
	return id, err
}

// Users lists the active users.
func (c *Connector) Users(ctx context.Context) ([]crm.User, error) {
	rows, err := c.Query(ctx, "SELECT Id, Name, Email FROM User WHERE IsActive = true ORDER BY Name", 0)
	if err != nil {
		return nil, err
	}
	out := make([]crm.User, 0, len(rows))
	for _, r := range rows {
		id, _ := r["Id"].(string)
		name, _ := r["Name"].(string)
		email, _ := r["Email"].(string)
		out = append(out, crm.User{ID: id, Name: name, Email: email})
	}
	return out, nil
}
