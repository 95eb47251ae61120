package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Contact statuses.
const (
	StatusNew       = "new"
	StatusRetry     = "retry"    // waiting for NextAttempt
	StatusDialing   = "dialing"  // claimed by a campaign
	StatusCallback  = "callback" // a callback is scheduled
	StatusDone      = "done"
	StatusExhausted = "exhausted" // max attempts
	StatusDNC       = "dnc"
)

// ValidStatus reports whether s is a contact status.
func ValidStatus(s string) bool {
	switch s {
	case StatusNew, StatusRetry, StatusDialing, StatusCallback, StatusDone, StatusExhausted, StatusDNC:
		return true
	}
	return false
}

// MaxValueLen bounds one value of a contact.
const MaxValueLen = 4000

// Phone is one of a contact's numbers: the schema field and the E.164 number.
type Phone struct {
	Field  string `json:"field"`
	Number string `json:"number"`
}

// Contact is one record of a list.
type Contact struct {
	ID     string
	ListID string
	Key    string            // the Clave_1 value ("" only for find-or-create without data)
	Data   map[string]string // every schema field's value (phones normalized)
	Phones []Phone           // the non-empty phone fields, in schema order
	// TimeZone is an IANA name: given, or derived from the first phone.
	TimeZone    string
	Status      string
	Attempts    int
	NextAttempt time.Time // zero: none
	LastOutcome string
	Category    string
	Subcategory string
	CampaignID  string // the campaign that claimed it last
	Created     time.Time
	Modified    time.Time
}

// PhoneMap returns the phones keyed by field.
func (c Contact) PhoneMap() map[string]string {
	m := make(map[string]string, len(c.Phones))
	for _, p := range c.Phones {
		m[p.Field] = p.Number
	}
	return m
}

// FirstPhone returns the first phone number, or "".
func (c Contact) FirstPhone() string {
	if len(c.Phones) == 0 {
		return ""
	}
	return c.Phones[0].Number
}

// ContactInput creates or replaces a contact. Data holds values by field
// name; Phones may give phone fields too; Key, when set, is the Clave_1
// value. An empty Status keeps the current one (new on creation).
type ContactInput struct {
	Key      string
	Data     map[string]string
	Phones   map[string]string
	TimeZone string
	Status   string
}

// valueError is one value that does not fit; Field is the schema field (or
// the input's name for unknown ones).
type valueError struct {
	Field, Reason string
}

// record is a contact's values checked against its schema.
type record struct {
	key    string
	data   map[string]string
	phones []Phone
	zone   string
}

// checkValue normalizes one value of field f; "" stays "".
func checkValue(f Field, v, country string) (string, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", ""
	}
	if len(v) > MaxValueLen {
		return "", fmt.Sprintf("must be at most %d characters", MaxValueLen)
	}
	switch f.Type {
	case TypeNumber:
		n := v
		if !strings.Contains(n, ".") && strings.Count(n, ",") == 1 {
			n = strings.Replace(n, ",", ".", 1) // decimal comma, as Spanish spreadsheets write it
		}
		x, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return "", fmt.Sprintf("%q is not a number", v)
		}
		return n, ""
	case TypeDate:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", v)
		}
	case TypeEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || !strings.Contains(v, "@") {
			return "", fmt.Sprintf("%q is not an email address", v)
		}
	case TypePhone:
		p, err := NormalizePhone(v, country)
		if err != nil {
			return "", fmt.Sprintf("%q %s (default country %s)", v, err, country)
		}
		return p, ""
	}
	return v, ""
}

// checkRecord checks values (by field name, matched case-insensitively)
// against the schema. Missing fields are empty.
func checkRecord(sc Schema, country string, values map[string]string, zone string) (record, []valueError) {
	var errs []valueError
	r := record{data: make(map[string]string, len(sc.Fields))}
	byName := make(map[string]string, len(values))
	for k, v := range values {
		f, ok := sc.Field(k)
		if !ok {
			errs = append(errs, valueError{k, "is not a field of the list's schema"})
			continue
		}
		byName[f.Name] = v
	}
	for _, f := range sc.Fields {
		v, msg := checkValue(f, byName[f.Name], country)
		if msg != "" {
			errs = append(errs, valueError{f.Name, msg})
			continue
		}
		r.data[f.Name] = v
		switch f.Type {
		case TypeKey:
			r.key = v
		case TypePhone:
			if v != "" {
				r.phones = append(r.phones, Phone{Field: f.Name, Number: v})
			}
		}
	}
	zone = strings.TrimSpace(zone)
	if zone != "" {
		if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
			errs = append(errs, valueError{"timeZone", fmt.Sprintf("%q is not an IANA time zone", zone)})
		}
	} else if len(r.phones) > 0 {
		zone = ZoneOf(r.phones[0].Number)
	}
	r.zone = zone
	return r, errs
}

// search is what the q filter matches: the values, lower case.
func (r record) search() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.key))
	for _, k := range sortedKeys(r.data) {
		if v := r.data[k]; v != "" {
			b.WriteString("\n")
			b.WriteString(strings.ToLower(v))
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func (r record) json() (data, phones string) {
	d, _ := json.Marshal(r.data)
	ph := r.phones
	if ph == nil {
		ph = []Phone{}
	}
	p, _ := json.Marshal(ph)
	return string(d), string(p)
}

// input turns a ContactInput into values and their request paths.
func (in ContactInput) values(sc Schema) (map[string]string, map[string]string, []error) {
	values := map[string]string{}
	paths := map[string]string{} // canonical field → request path
	var errs []error
	for k, v := range in.Data {
		values[k] = v
		if f, ok := sc.Field(k); ok {
			paths[f.Name] = "data." + k
		} else {
			paths[k] = "data." + k
		}
	}
	for k, v := range in.Phones {
		f, ok := sc.Field(k)
		if !ok || f.Type != TypePhone {
			errs = append(errs, problem.Invalidf("phones."+k, "is not a phone field of the list's schema"))
			continue
		}
		for dk := range values {
			if strings.EqualFold(dk, f.Name) {
				delete(values, dk)
			}
		}
		values[f.Name] = v
		paths[f.Name] = "phones." + k
	}
	if in.Key != "" {
		kf := sc.KeyField()
		for dk, dv := range values {
			if strings.EqualFold(dk, kf.Name) && strings.TrimSpace(dv) != strings.TrimSpace(in.Key) {
				errs = append(errs, problem.Invalidf("key", "differs from data.%s", dk))
			}
		}
		if _, ok := paths[kf.Name]; !ok {
			values[kf.Name] = in.Key
			paths[kf.Name] = "key"
		}
	}
	return values, paths, errs
}

func (s *Service) checkInput(sc Schema, l List, in ContactInput) (record, error) {
	values, paths, errs := in.values(sc)
	r, verrs := checkRecord(sc, l.DefaultCountry, values, in.TimeZone)
	for _, e := range verrs {
		path := paths[e.Field]
		if path == "" {
			path = "data." + e.Field
		}
		if e.Field == "timeZone" {
			path = "timeZone"
		}
		errs = append(errs, problem.Invalidf(path, "%s", e.Reason))
	}
	if len(errs) == 0 && r.key == "" {
		kf := sc.KeyField()
		errs = append(errs, problem.Invalidf("data."+kf.Name, "the key (field %s, type Clave_1) is required", kf.Name))
	}
	if in.Status != "" && !ValidStatus(in.Status) {
		errs = append(errs, problem.Invalidf("status", "must be new, retry, dialing, callback, done, exhausted or dnc, got %q", in.Status))
	}
	return r, errors.Join(errs...)
}

// listAndSchema reads a list and its schema.
func (s *Service) listAndSchema(ctx context.Context, q store.Querier, listID string) (List, Schema, error) {
	l, err := s.getList(ctx, q, listID)
	if err != nil {
		return List{}, Schema{}, err
	}
	sc, err := s.getSchema(ctx, q, l.SchemaID)
	return l, sc, err
}

const contactColumns = `id, list_id, contact_key, data, phones, time_zone, status, attempts, next_attempt_at, last_outcome, category, subcategory, campaign_id, created_at, modified_at`

// scanContact reads contactColumns, then extra columns into extra.
func scanContact(row interface{ Scan(...any) error }, extra ...any) (Contact, error) {
	var c Contact
	var data, phones string
	var next, created, modified int64
	dest := append([]any{&c.ID, &c.ListID, &c.Key, &data, &phones, &c.TimeZone, &c.Status, &c.Attempts, &next,
		&c.LastOutcome, &c.Category, &c.Subcategory, &c.CampaignID, &created, &modified}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Contact{}, err
	}
	if err := json.Unmarshal([]byte(data), &c.Data); err != nil {
		return Contact{}, fmt.Errorf("contact %s data: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(phones), &c.Phones); err != nil {
		return Contact{}, fmt.Errorf("contact %s phones: %w", c.ID, err)
	}
	if next != 0 {
		c.NextAttempt = store.Time(next)
	}
	c.Created, c.Modified = store.Time(created), store.Time(modified)
	return c, nil
}

// GetContact returns a contact by id, whatever its list.
func (s *Service) GetContact(ctx context.Context, id string) (Contact, error) {
	return s.getContact(ctx, s.db, id)
}

func (s *Service) getContact(ctx context.Context, q store.Querier, id string) (Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, problem.NotFoundf("contact %s not found", id)
	}
	return c, err
}

// GetListContact returns a contact of a list (404 when it is in another).
func (s *Service) GetListContact(ctx context.Context, listID, id string) (Contact, error) {
	c, err := s.GetContact(ctx, id)
	if err == nil && c.ListID != listID {
		return Contact{}, problem.NotFoundf("contact %s not found in list %s", id, listID)
	}
	return c, err
}

// ContactList returns the id of a contact's list.
func (s *Service) ContactList(ctx context.Context, contactID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT list_id FROM contacts WHERE id = $1`, contactID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.NotFoundf("contact %s not found", contactID)
	}
	return id, err
}

// ListContacts returns a page of a list's contacts in list order (import
// order, then creation), and the total. q matches the key, a phone or any
// value as a case-insensitive substring; status filters exactly.
func (s *Service) ListContacts(ctx context.Context, listID, q, status string, p Page) ([]Contact, int, error) {
	if _, err := s.GetList(ctx, listID); err != nil {
		return nil, 0, err
	}
	conds, args := []string{"list_id = $1"}, []any{listID}
	if q = strings.TrimSpace(q); q != "" {
		args = append(args, containsPattern(strings.ToLower(q)))
		conds = append(conds, fmt.Sprintf(`search LIKE $%d ESCAPE '\'`, len(args)))
	}
	if status != "" {
		if !ValidStatus(status) {
			return nil, 0, problem.Invalidf("status", "must be new, retry, dialing, callback, done, exhausted or dnc, got %q", status)
		}
		args = append(args, status)
		conds = append(conds, fmt.Sprintf(`status = $%d`, len(args)))
	}
	cond := " WHERE " + strings.Join(conds, " AND ")
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts`+cond+
		fmt.Sprintf(` ORDER BY ord, id LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// ordOf gives contacts created at now an order; i separates the rows of
// one import (at most MaxImportRows).
func ordOf(now int64, i int) int64 { return now*ordSpan + int64(i) }

const ordSpan = 1_000_000

func insertPhones(ctx context.Context, tx *store.Tx, id, listID string, phones []Phone) error {
	seen := map[string]bool{}
	for _, p := range phones {
		if seen[p.Number] {
			continue
		}
		seen[p.Number] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_phones (contact_id, list_id, phone) VALUES ($1, $2, $3)`, id, listID, p.Number); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) insertContact(ctx context.Context, tx *store.Tx, id, listID string, r record, status string, now int64) error {
	data, phones := r.json()
	_, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, list_id, contact_key, data, phones, search, time_zone, status, ord, created_at, modified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		id, listID, r.key, data, phones, r.search(), r.zone, status, ordOf(now, int(s.seq.Add(1)%ordSpan)), now)
	if store.IsUniqueViolation(err) {
		return problem.Duplicatef("key", "a contact with key %q already exists in this list", r.key)
	}
	if err != nil {
		return err
	}
	return insertPhones(ctx, tx, id, listID, r.phones)
}

// CreateContact adds a contact to a list.
func (s *Service) CreateContact(ctx context.Context, listID string, in ContactInput) (Contact, error) {
	id := uuid.NewString()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		l, sc, err := s.listAndSchema(ctx, tx, listID)
		if err != nil {
			return err
		}
		r, err := s.checkInput(sc, l, in)
		if err != nil {
			return err
		}
		status := in.Status
		if status == "" {
			status = StatusNew
		}
		return s.insertContact(ctx, tx, id, listID, r, status, store.Millis(s.clock.Now()))
	})
	if err != nil {
		return Contact{}, err
	}
	return s.GetContact(ctx, id)
}

// UpdateContact replaces a contact's values (and its status when given).
func (s *Service) UpdateContact(ctx context.Context, listID, id string, in ContactInput) (Contact, error) {
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.getContact(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.ListID != listID {
			return problem.NotFoundf("contact %s not found in list %s", id, listID)
		}
		l, sc, err := s.listAndSchema(ctx, tx, listID)
		if err != nil {
			return err
		}
		r, err := s.checkInput(sc, l, in)
		if err != nil {
			return err
		}
		status := in.Status
		if status == "" {
			status = old.Status
		}
		data, phones := r.json()
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET contact_key = $1, data = $2, phones = $3, search = $4, time_zone = $5, status = $6, modified_at = $7 WHERE id = $8`,
			r.key, data, phones, r.search(), r.zone, status, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("key", "a contact with key %q already exists in this list", r.key)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contact_phones WHERE contact_id = $1`, id); err != nil {
			return err
		}
		return insertPhones(ctx, tx, id, listID, r.phones)
	})
	if err != nil {
		return Contact{}, err
	}
	return s.GetContact(ctx, id)
}

// DeleteContact removes a contact of a list with its history.
func (s *Service) DeleteContact(ctx context.Context, listID, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE id = $1 AND list_id = $2`, id, listID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("contact %s not found in list %s", id, listID)
		}
		return nil
	})
}
