// Package builtin is the built-in contact store (internal/contact) as a
// CRM, the demo's default connector.
//
// Records are contacts (crm.TypeContact only; other types are not searched
// and crm.ErrRejected elsewhere). Record.ID is the contact id, Fields are
// the contact's values by schema field name (plus "listId"), Phones its
// E.164 numbers, Name the first of the fields name/fullName/displayName/
// nombre (or firstName + lastName, nombre + apellidos), else the key.
//
// The scope is the lists of the configured schema (Config.SchemaID) or,
// without one, every list. Search by phone reads contact_phones (numbers
// are normalized to E.164 with Spain as the default country); search by the
// key (the schema's Clave_1 field, or "key", "Clave_1", "neoSyncId") reads
// the contact key; search by another field matches its value exactly. Create
// adds to Config.ListID (a missing key gets a generated one); Update merges
// the given values into the contact's; Upsert matches the key (extField
// being the key field, "key", "Clave_1", "neoSyncId" or any name that is no
// schema field) or another schema field's value.
//
// Activities and voice calls are rows of crm_builtin_activities keyed by
// call id (and kind), upserted, so they survive restarts and logging again
// rewrites. Users: the contact store has no users; Users returns none (the
// directory's users are not reachable from here).
package builtin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/contact"
	"github.com/centralita/centralita/internal/crm"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Config scopes the connector.
type Config struct {
	ListID   string // where Create and Upsert add contacts
	SchemaID string // search the lists of this schema ("" = every list)
}

// FromSettings reads a Config from a call center's settings (listId,
// schemaId).
func FromSettings(settings map[string]string) Config {
	return Config{ListID: strings.TrimSpace(settings["listId"]), SchemaID: strings.TrimSpace(settings["schemaId"])}
}

// Connector is a crm.Connector over the contact store.
type Connector struct {
	db       *store.DB
	contacts *contact.Service
	cfg      Config
	now      func() time.Time
}

var _ crm.Connector = (*Connector)(nil)

// New returns the connector. db is the database of contacts (the activity
// table lives there too).
func New(db *store.DB, contacts *contact.Service, cfg Config) *Connector {
	return &Connector{db: db, contacts: contacts, cfg: cfg, now: time.Now}
}

// mapErr turns contact-store errors into crm ones.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, crm.ErrNotFound) || errors.Is(err, crm.ErrRejected) || errors.Is(err, crm.ErrMultiple) || errors.Is(err, crm.ErrUnavailable) {
		return err
	}
	if ps := problem.All(err); len(ps) > 0 {
		if ps[0].Kind == problem.NotFound {
			return fmt.Errorf("%w: builtin %s: %v", crm.ErrNotFound, op, err)
		}
		return fmt.Errorf("%w: builtin %s: %v", crm.ErrRejected, op, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: builtin %s: %v", crm.ErrUnavailable, op, err)
	}
	return fmt.Errorf("%w: builtin %s: %v", crm.ErrUnavailable, op, err)
}

func checkType(typ string) error {
	if typ != crm.TypeContact {
		return fmt.Errorf("%w: builtin: record type %q is not supported (only Contact)", crm.ErrRejected, typ)
	}
	return nil
}

// scope is the SQL condition (on contacts c) limiting to the scope's lists.
func (c *Connector) inScope(ctx context.Context, ct contact.Contact) (bool, error) {
	if c.cfg.SchemaID == "" {
		return true, nil
	}
	sid, err := c.contacts.ListSchema(ctx, ct.ListID)
	if err != nil {
		return false, err
	}
	return sid == c.cfg.SchemaID, nil
}

var nameFields = []string{"name", "fullname", "displayname", "nombre_completo", "nombrecompleto", "nombre", "razonsocial", "company"}

func lookup(data map[string]string, name string) string {
	for k, v := range data {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (c *Connector) record(ct contact.Contact) crm.Record {
	r := crm.Record{Type: crm.TypeContact, ID: ct.ID, Fields: map[string]string{"listId": ct.ListID}}
	for k, v := range ct.Data {
		r.Fields[k] = v
	}
	for _, p := range ct.Phones {
		r.Phones = append(r.Phones, p.Number)
	}
	for _, n := range nameFields {
		if v := lookup(ct.Data, n); v != "" {
			r.Name = v
			break
		}
	}
	if r.Name == "" {
		for _, pair := range [][2]string{{"firstName", "lastName"}, {"nombre", "apellidos"}, {"first_name", "last_name"}} {
			if n := strings.TrimSpace(lookup(ct.Data, pair[0]) + " " + lookup(ct.Data, pair[1])); n != "" {
				r.Name = n
				break
			}
		}
	}
	if r.Name == "" {
		r.Name = ct.Key
	}
	return r
}

// keyAlias reports whether a field name means the contact key.
func keyAlias(field string) bool {
	switch strings.ToLower(field) {
	case "key", "clave_1", "neosyncid", "contactkey":
		return true
	}
	return false
}

// isKeyField reports whether field names the key in the scope's schema(s).
func (c *Connector) isKeyField(ctx context.Context, field string) (bool, error) {
	if keyAlias(field) {
		return true, nil
	}
	schemas, err := c.schemas(ctx)
	if err != nil {
		return false, err
	}
	known := false
	for _, sc := range schemas {
		if f, ok := sc.Field(field); ok {
			known = true
			if f.Type == contact.TypeKey {
				return true, nil
			}
		}
	}
	// A name no schema knows is taken as the external id: the key.
	return !known, nil
}

func (c *Connector) schemas(ctx context.Context) ([]contact.Schema, error) {
	if c.cfg.SchemaID != "" {
		sc, err := c.contacts.GetSchema(ctx, c.cfg.SchemaID)
		if err != nil {
			return nil, err
		}
		return []contact.Schema{sc}, nil
	}
	out, _, err := c.contacts.ListSchemas(ctx, "", contact.Page{Limit: 1000})
	return out, err
}

// load finds the contacts l selects and turns them into records.
func (c *Connector) load(ctx context.Context, l contact.Lookup) ([]crm.Record, error) {
	l.SchemaID = c.cfg.SchemaID
	ids, err := c.contacts.FindIDs(ctx, l)
	if err != nil {
		return nil, err
	}
	var out []crm.Record
	for _, id := range ids {
		ct, err := c.contacts.GetContact(ctx, id)
		if err != nil {
			if ps := problem.All(err); len(ps) > 0 && ps[0].Kind == problem.NotFound {
				continue // deleted meanwhile
			}
			return nil, err
		}
		out = append(out, c.record(ct))
	}
	return out, nil
}

// Search implements crm.Connector.
func (c *Connector) Search(ctx context.Context, q crm.Query) ([]crm.Record, error) {
	if len(q.Types) > 0 && !slices.Contains(q.Types, crm.TypeContact) {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	out, err := c.search(ctx, q, limit)
	return out, mapErr("search", err)
}

func (c *Connector) search(ctx context.Context, q crm.Query, limit int) ([]crm.Record, error) {
	switch {
	case q.Phone != "":
		p, err := contact.NormalizePhone(q.Phone, contact.DefaultCountry)
		if err != nil {
			p = strings.TrimSpace(q.Phone)
		}
		return c.load(ctx, contact.Lookup{Phone: p, Limit: limit})
	case strings.EqualFold(q.Field, "Id"):
		ct, err := c.contacts.GetContact(ctx, q.Value)
		if err != nil {
			if ps := problem.All(err); len(ps) > 0 && ps[0].Kind == problem.NotFound {
				return nil, nil
			}
			return nil, err
		}
		if ok, err := c.inScope(ctx, ct); err != nil || !ok {
			return nil, err
		}
		return []crm.Record{c.record(ct)}, nil
	case q.Field != "":
		isKey, err := c.isKeyField(ctx, q.Field)
		if err != nil {
			return nil, err
		}
		if isKey {
			return c.load(ctx, contact.Lookup{Key: q.Value, Limit: limit})
		}
		// Another field: narrow by the search column, then compare exactly.
		recs, err := c.load(ctx, contact.Lookup{Contains: q.Value})
		if err != nil {
			return nil, err
		}
		var out []crm.Record
		for _, r := range recs {
			if len(out) < limit && lookup(r.Fields, q.Field) == q.Value {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: builtin: a search needs a field or a phone", crm.ErrRejected)
}

// Get implements crm.Connector.
func (c *Connector) Get(ctx context.Context, typ, id string) (crm.Record, error) {
	if err := checkType(typ); err != nil {
		return crm.Record{}, err
	}
	ct, err := c.contacts.GetContact(ctx, id)
	if err != nil {
		return crm.Record{}, mapErr("get", err)
	}
	if ok, err := c.inScope(ctx, ct); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: builtin: contact %s is not in the configured schema's lists", crm.ErrNotFound, id)
		}
		return crm.Record{}, mapErr("get", err)
	}
	return c.record(ct), nil
}

// Create implements crm.Connector: a contact of Config.ListID.
func (c *Connector) Create(ctx context.Context, typ string, fields map[string]string) (string, error) {
	if err := checkType(typ); err != nil {
		return "", err
	}
	if c.cfg.ListID == "" {
		return "", fmt.Errorf("%w: builtin: no list to create contacts in (setting listId)", crm.ErrRejected)
	}
	_, sc, err := c.listSchema(ctx, c.cfg.ListID)
	if err != nil {
		return "", mapErr("create", err)
	}
	in := contact.ContactInput{Data: fields}
	if lookup(fields, sc.KeyField().Name) == "" {
		in.Key = uuid.NewString()
	}
	ct, err := c.contacts.CreateContact(ctx, c.cfg.ListID, in)
	if err != nil {
		return "", mapErr("create", err)
	}
	return ct.ID, nil
}

func (c *Connector) listSchema(ctx context.Context, listID string) (contact.List, contact.Schema, error) {
	l, err := c.contacts.GetList(ctx, listID)
	if err != nil {
		return l, contact.Schema{}, err
	}
	sc, err := c.contacts.GetSchema(ctx, l.SchemaID)
	return l, sc, err
}

// Update implements crm.Connector: the values given replace those fields,
// the others stay.
func (c *Connector) Update(ctx context.Context, typ, id string, fields map[string]string) error {
	if err := checkType(typ); err != nil {
		return err
	}
	ct, err := c.Get(ctx, typ, id)
	if err != nil {
		return err
	}
	return mapErr("update", c.merge(ctx, ct, fields))
}

func (c *Connector) merge(ctx context.Context, r crm.Record, fields map[string]string) error {
	ct, err := c.contacts.GetContact(ctx, r.ID)
	if err != nil {
		return err
	}
	data := map[string]string{}
	for k, v := range ct.Data {
		data[k] = v
	}
	for k, v := range fields {
		for dk := range data {
			if strings.EqualFold(dk, k) && dk != k {
				delete(data, dk)
			}
		}
		data[k] = v
	}
	_, err = c.contacts.UpdateContact(ctx, ct.ListID, ct.ID, contact.ContactInput{Data: data, TimeZone: ct.TimeZone})
	return err
}

// Upsert implements crm.Connector (see the package comment for extField).
func (c *Connector) Upsert(ctx context.Context, typ, extField, extValue string, fields map[string]string) (string, bool, error) {
	if err := checkType(typ); err != nil {
		return "", false, err
	}
	if strings.TrimSpace(extValue) == "" {
		return "", false, fmt.Errorf("%w: builtin: upsert without an external id value", crm.ErrRejected)
	}
	isKey, err := c.isKeyField(ctx, extField)
	if err != nil {
		return "", false, mapErr("upsert", err)
	}
	found, err := c.search(ctx, crm.Query{Field: extField, Value: extValue}, 3)
	if err != nil {
		return "", false, mapErr("upsert", err)
	}
	switch len(found) {
	case 0:
		if c.cfg.ListID == "" {
			return "", false, fmt.Errorf("%w: builtin: no list to create contacts in (setting listId)", crm.ErrRejected)
		}
		in := contact.ContactInput{Data: map[string]string{}}
		for k, v := range fields {
			in.Data[k] = v
		}
		if isKey {
			_, sc, err := c.listSchema(ctx, c.cfg.ListID)
			if err != nil {
				return "", false, mapErr("upsert", err)
			}
			for k := range in.Data {
				if strings.EqualFold(k, sc.KeyField().Name) || keyAlias(k) {
					delete(in.Data, k)
				}
			}
			in.Key = extValue
		} else {
			in.Data[extField] = extValue
			in.Key = uuid.NewString()
		}
		ct, err := c.contacts.CreateContact(ctx, c.cfg.ListID, in)
		if err != nil {
			return "", false, mapErr("upsert", err)
		}
		return ct.ID, true, nil
	case 1:
		f := map[string]string{}
		for k, v := range fields {
			if !keyAlias(k) {
				f[k] = v
			}
		}
		return found[0].ID, false, mapErr("upsert", c.merge(ctx, found[0], f))
	}
	return "", false, fmt.Errorf("%w: builtin: %d contacts have %s %q", crm.ErrMultiple, len(found), extField, extValue)
}

const (
	kindTask      = "task"
	kindVoiceCall = "voicecall"
)

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Millis(t)
}

// LogActivity implements crm.Connector: the row (call id, task), upserted.
// It returns the call id.
func (c *Connector) LogActivity(ctx context.Context, a crm.Activity) (string, error) {
	if a.CallID == "" {
		return "", fmt.Errorf("%w: builtin: activity without a call id", crm.ErrRejected)
	}
	if a.RecordID != "" {
		if err := checkType(orContact(a.RecordType)); err != nil {
			return "", err
		}
	}
	return a.CallID, mapErr("log activity", c.upsert(ctx, kindTask, a))
}

func orContact(t string) string {
	if t == "" {
		return crm.TypeContact
	}
	return t
}

// CreateVoiceCall implements crm.Connector: the row (call id, voicecall).
func (c *Connector) CreateVoiceCall(ctx context.Context, v crm.VoiceCall) (string, error) {
	if v.CallID == "" {
		return "", fmt.Errorf("%w: builtin: voice call without a call id", crm.ErrRejected)
	}
	number := v.From
	if v.Direction == "outbound" {
		number = v.To
	}
	a := crm.Activity{CallID: v.CallID, RecordID: v.RelatedRecordID, Subject: "Call " + v.Direction + " " + number, Direction: v.Direction,
		Disposition: v.Disposition, DurationSeconds: v.DurationSeconds, Start: v.Start, End: v.End, Phone: number}
	return v.CallID, mapErr("voice call", c.upsert(ctx, kindVoiceCall, a))
}

func (c *Connector) upsert(ctx context.Context, kind string, a crm.Activity) error {
	now := store.Millis(c.now())
	_, err := c.db.ExecContext(ctx, `INSERT INTO crm_builtin_activities (call_id, kind, contact_id, subject, description, disposition, direction,
			duration_seconds, phone, owner_id, started_at, ended_at, created_at, modified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
		ON CONFLICT (call_id, kind) DO UPDATE SET contact_id = excluded.contact_id, subject = excluded.subject,
			description = excluded.description, disposition = excluded.disposition, direction = excluded.direction,
			duration_seconds = excluded.duration_seconds, phone = excluded.phone, owner_id = excluded.owner_id,
			started_at = excluded.started_at, ended_at = excluded.ended_at, modified_at = excluded.modified_at`,
		a.CallID, kind, a.RecordID, a.Subject, a.Description, a.Disposition, a.Direction, a.DurationSeconds, a.Phone, a.OwnerID,
		millis(a.Start), millis(a.End), now)
	return err
}

// Activities returns the logged activities (LogActivity's, not the voice
// calls) of a contact, or of every contact when contactID is "", oldest
// call first.
func (c *Connector) Activities(ctx context.Context, contactID string) ([]crm.Activity, error) {
	return c.read(ctx, kindTask, contactID)
}

// VoiceCalls returns the voice-call records, as activities, like Activities.
func (c *Connector) VoiceCalls(ctx context.Context, contactID string) ([]crm.Activity, error) {
	return c.read(ctx, kindVoiceCall, contactID)
}

func (c *Connector) read(ctx context.Context, kind, contactID string) ([]crm.Activity, error) {
	q := `SELECT call_id, contact_id, subject, description, disposition, direction, duration_seconds, phone, owner_id, started_at, ended_at
		FROM crm_builtin_activities WHERE kind = $1`
	args := []any{kind}
	if contactID != "" {
		q += ` AND contact_id = $2`
		args = append(args, contactID)
	}
	rows, err := c.db.QueryContext(ctx, q+` ORDER BY started_at, call_id`, args...)
	if err != nil {
		return nil, mapErr("activities", err)
	}
	defer rows.Close()
	var out []crm.Activity
	for rows.Next() {
		var a crm.Activity
		var start, end int64
		if err := rows.Scan(&a.CallID, &a.RecordID, &a.Subject, &a.Description, &a.Disposition, &a.Direction, &a.DurationSeconds,
			&a.Phone, &a.OwnerID, &start, &end); err != nil {
			return nil, mapErr("activities", err)
		}
		if a.RecordID != "" {
			a.RecordType = crm.TypeContact
		}
		if start != 0 {
			a.Start = store.Time(start)
		}
		if end != 0 {
			a.End = store.Time(end)
		}
		out = append(out, a)
	}
	return out, mapErr("activities", rows.Err())
}

// Users implements crm.Connector: the contact store has no users.
func (c *Connector) Users(ctx context.Context) ([]crm.User, error) { return []crm.User{}, nil }
