package contact

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Field types.
const (
	TypeText   = "text"
	TypeNumber = "number"
	TypeDate   = "date" // YYYY-MM-DD
	TypeEmail  = "email"
	TypePhone  = "phone"
	TypeKey    = "Clave_1" // the key: for Salesforce, the record id
)

// How find-or-create looks contacts up.
const (
	MatchByKey   = "key"
	MatchByPhone = "phone"
)

// Disposition outcomes: what follows a subcategory.
const (
	OutcomeFinal    = "final"
	OutcomeRetry    = "retry"
	OutcomeCallback = "callback"
	OutcomeDNC      = "dnc"
)

// MaxFields bounds a schema's fields.
const MaxFields = 100

var fieldNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// reserved are the export's own columns (lower case): no field may be
// named or labeled so, or an exported file would not import again.
var reserved = map[string]bool{"id": true, "status": true, "attempts": true, "lastoutcome": true,
	"category": true, "subcategory": true, "timezone": true}

// Field is one column of a schema.
type Field struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Type  string `json:"type"`
}

// Subcategory is a leaf of the disposition tree.
type Subcategory struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
}

// Disposition is a category with its subcategories.
type Disposition struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	Subcategories []Subcategory `json:"subcategories"`
}

// Schema describes the contacts of its lists: fields (one of them the
// Clave_1 key, at least one phone), how find-or-create matches and the
// disposition tree agents categorize with.
type Schema struct {
	ID           string
	Name         string
	Fields       []Field
	MatchBy      string
	Dispositions []Disposition
	Created      time.Time
	Modified     time.Time
}

// KeyField returns the schema's Clave_1 field.
func (sc Schema) KeyField() Field {
	for _, f := range sc.Fields {
		if f.Type == TypeKey {
			return f
		}
	}
	return Field{}
}

// PhoneFields returns the phone fields in schema order.
func (sc Schema) PhoneFields() []Field {
	var out []Field
	for _, f := range sc.Fields {
		if f.Type == TypePhone {
			out = append(out, f)
		}
	}
	return out
}

// Field returns the field named name (case-insensitively).
func (sc Schema) Field(name string) (Field, bool) {
	for _, f := range sc.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// header returns the field a CSV header cell names, by name or label,
// case-insensitively.
func (sc Schema) header(h string) (Field, bool) {
	h = strings.TrimSpace(h)
	if f, ok := sc.Field(h); ok {
		return f, true
	}
	for _, f := range sc.Fields {
		if f.Label != "" && strings.EqualFold(f.Label, h) {
			return f, true
		}
	}
	return Field{}, false
}

// Subcategory finds a subcategory by id, with its category.
func (sc Schema) Subcategory(id string) (Disposition, Subcategory, bool) {
	for _, d := range sc.Dispositions {
		for _, s := range d.Subcategories {
			if s.ID == id {
				return d, s, true
			}
		}
	}
	return Disposition{}, Subcategory{}, false
}

// SchemaInput creates or replaces a schema.
type SchemaInput struct {
	Name         string
	Fields       []Field
	MatchBy      string
	Dispositions []Disposition
}

func (in *SchemaInput) validate() error {
	var c problem.Collector
	in.Name = strings.TrimSpace(in.Name)
	if m := checkName("name", in.Name, 200); m != "" {
		c.Add("name", "%s", m)
	}
	if in.MatchBy == "" {
		in.MatchBy = MatchByKey
	}
	if in.MatchBy != MatchByKey && in.MatchBy != MatchByPhone {
		c.Add("matchBy", "must be key or phone, got %q", in.MatchBy)
	}
	if len(in.Fields) > MaxFields {
		c.Add("fields", "at most %d fields, got %d", MaxFields, len(in.Fields))
	}
	keys, phones := 0, 0
	seen := map[string]int{} // lower-cased names and labels → field index
	for i, f := range in.Fields {
		f.Name, f.Label = strings.TrimSpace(f.Name), strings.TrimSpace(f.Label)
		in.Fields[i] = f
		path := fmt.Sprintf("fields[%d]", i)
		if !fieldNameRE.MatchString(f.Name) {
			c.Add(path+".name", "must start with a letter and hold only letters, digits and '_' (at most 64), got %q", f.Name)
		} else if reserved[strings.ToLower(f.Name)] {
			c.Add(path+".name", "%q is reserved: exports add a column of that name", f.Name)
		} else if j, dup := seen[strings.ToLower(f.Name)]; dup {
			c.Add(path+".name", "%q is already the name or label of fields[%d] (names are unique, case-insensitively)", f.Name, j)
		} else {
			seen[strings.ToLower(f.Name)] = i
		}
		switch f.Type {
		case TypeText, TypeNumber, TypeDate, TypeEmail:
		case TypePhone:
			phones++
		case TypeKey:
			keys++
			if keys > 1 {
				c.Add(path+".type", "a schema has exactly one Clave_1 field")
			}
		default:
			c.Add(path+".type", "must be text, number, date, email, phone or Clave_1, got %q", f.Type)
		}
	}
	// Labels name columns of imported files too: they may not be another
	// field's name or label.
	for i, f := range in.Fields {
		if f.Label == "" || strings.EqualFold(f.Label, f.Name) {
			continue
		}
		path := fmt.Sprintf("fields[%d].label", i)
		if m := checkName(path, f.Label, 200); m != "" {
			c.Add(path, "%s", m)
			continue
		}
		if reserved[strings.ToLower(f.Label)] {
			c.Add(path, "%q is reserved: exports add a column of that name", f.Label)
			continue
		}
		if j, dup := seen[strings.ToLower(f.Label)]; dup && j != i {
			c.Add(path, "%q is already the name or label of fields[%d]: CSV headers would be ambiguous", f.Label, j)
			continue
		}
		seen[strings.ToLower(f.Label)] = i
	}
	if keys == 0 {
		c.Add("fields", "a schema needs exactly one field of type Clave_1 (the key)")
	}
	if phones == 0 {
		c.Add("fields", "a schema needs at least one field of type phone")
	}
	ids := map[string]string{}
	useID := func(path, id string) string {
		if id == "" {
			return uuid.NewString()
		}
		if !isUUID(id) {
			c.Add(path+".id", "%q is not a valid id: ids are lowercase UUIDs", id)
		} else if other, dup := ids[id]; dup {
			c.Add(path+".id", "id %s is already used by %s", id, other)
		}
		ids[id] = path
		return id
	}
	if in.Dispositions == nil {
		in.Dispositions = []Disposition{}
	}
	cats := map[string]int{}
	for i := range in.Dispositions {
		d := &in.Dispositions[i]
		path := fmt.Sprintf("dispositions[%d]", i)
		d.Name = strings.TrimSpace(d.Name)
		d.ID = useID(path, d.ID)
		if m := checkName(path+".name", d.Name, 200); m != "" {
			c.Add(path+".name", "%s", m)
		} else if j, dup := cats[strings.ToLower(d.Name)]; dup {
			c.Add(path+".name", "%q is already the name of dispositions[%d]", d.Name, j)
		} else {
			cats[strings.ToLower(d.Name)] = i
		}
		if d.Subcategories == nil {
			d.Subcategories = []Subcategory{}
		}
		subs := map[string]int{}
		for k := range d.Subcategories {
			sub := &d.Subcategories[k]
			sp := fmt.Sprintf("%s.subcategories[%d]", path, k)
			sub.Name = strings.TrimSpace(sub.Name)
			sub.ID = useID(sp, sub.ID)
			if m := checkName(sp+".name", sub.Name, 200); m != "" {
				c.Add(sp+".name", "%s", m)
			} else if j, dup := subs[strings.ToLower(sub.Name)]; dup {
				c.Add(sp+".name", "%q is already the name of %s.subcategories[%d]", sub.Name, path, j)
			} else {
				subs[strings.ToLower(sub.Name)] = k
			}
			switch sub.Outcome {
			case OutcomeFinal, OutcomeRetry, OutcomeCallback, OutcomeDNC:
			default:
				c.Add(sp+".outcome", "must be final, retry, callback or dnc, got %q", sub.Outcome)
			}
		}
	}
	return c.Err()
}

const schemaColumns = `id, name, fields, match_by, dispositions, created_at, modified_at`

func scanSchema(row interface{ Scan(...any) error }) (Schema, error) {
	var sc Schema
	var fields, disp string
	var created, modified int64
	if err := row.Scan(&sc.ID, &sc.Name, &fields, &sc.MatchBy, &disp, &created, &modified); err != nil {
		return Schema{}, err
	}
	if err := json.Unmarshal([]byte(fields), &sc.Fields); err != nil {
		return Schema{}, fmt.Errorf("schema %s fields: %w", sc.ID, err)
	}
	if err := json.Unmarshal([]byte(disp), &sc.Dispositions); err != nil {
		return Schema{}, fmt.Errorf("schema %s dispositions: %w", sc.ID, err)
	}
	sc.Created, sc.Modified = store.Time(created), store.Time(modified)
	return sc, nil
}

// GetSchema returns a schema by id.
func (s *Service) GetSchema(ctx context.Context, id string) (Schema, error) {
	return s.getSchema(ctx, s.db, id)
}

func (s *Service) getSchema(ctx context.Context, q store.Querier, id string) (Schema, error) {
	sc, err := scanSchema(q.QueryRowContext(ctx, `SELECT `+schemaColumns+` FROM contact_schemas WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Schema{}, problem.NotFoundf("schema %s not found", id)
	}
	return sc, err
}

// ListSchemas returns a page of schemas sorted by name, and the total. name
// filters exactly or with * wildcards.
func (s *Service) ListSchemas(ctx context.Context, name string, p Page) ([]Schema, int, error) {
	cond, args := "", []any{}
	if name != "" {
		cond, args = ` WHERE name LIKE $1 ESCAPE '\'`, append(args, likePattern(name))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_schemas`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+schemaColumns+` FROM contact_schemas`+cond+
		fmt.Sprintf(` ORDER BY name, id LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Schema
	for rows.Next() {
		sc, err := scanSchema(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, sc)
	}
	return out, total, rows.Err()
}

// CreateSchema adds a schema.
func (s *Service) CreateSchema(ctx context.Context, in SchemaInput) (Schema, error) {
	if err := in.validate(); err != nil {
		return Schema{}, err
	}
	id := uuid.NewString()
	fields, _ := json.Marshal(in.Fields)
	disp, _ := json.Marshal(in.Dispositions)
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_schemas (id, name, fields, match_by, dispositions, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			id, in.Name, string(fields), in.MatchBy, string(disp), now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a schema named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, schemaTopic(id), Change{Action: "created", Entity: "schema", ID: id, Name: in.Name})
	})
	if err != nil {
		return Schema{}, err
	}
	return s.GetSchema(ctx, id)
}

// UpdateSchema replaces a schema. While its lists hold contacts, the fields
// they hold values for must stay (same name and type): fields may be added
// and relabeled, not removed or retyped.
func (s *Service) UpdateSchema(ctx context.Context, id string, in SchemaInput) (Schema, error) {
	if _, err := s.GetSchema(ctx, id); err != nil {
		return Schema{}, err
	}
	if err := in.validate(); err != nil {
		return Schema{}, err
	}
	fields, _ := json.Marshal(in.Fields)
	disp, _ := json.Marshal(in.Dispositions)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.getSchema(ctx, tx, id)
		if err != nil {
			return err
		}
		var used bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts c JOIN contact_lists l ON l.id = c.list_id WHERE l.schema_id = $1)`, id).Scan(&used); err != nil {
			return err
		}
		if used {
			next := Schema{Fields: in.Fields}
			for _, f := range old.Fields {
				nf, ok := next.Field(f.Name)
				if !ok || nf.Name != f.Name || nf.Type != f.Type {
					return problem.Coded(problem.Conflict, "schema.in.use", "fields",
						"field %q (%s) is held by contacts of this schema's lists: fields may be added or relabeled, not removed, renamed or retyped", f.Name, f.Type)
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE contact_schemas SET name = $1, fields = $2, match_by = $3, dispositions = $4, modified_at = $5 WHERE id = $6`,
			in.Name, string(fields), in.MatchBy, string(disp), store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a schema named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, schemaTopic(id), Change{Action: "updated", Entity: "schema", ID: id, Name: in.Name})
	})
	if err != nil {
		return Schema{}, err
	}
	return s.GetSchema(ctx, id)
}

// DeleteSchema removes a schema no list uses (409 schema.in.use otherwise).
func (s *Service) DeleteSchema(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		sc, err := s.getSchema(ctx, tx, id)
		if err != nil {
			return err
		}
		var list string
		err = tx.QueryRowContext(ctx, `SELECT name FROM contact_lists WHERE schema_id = $1 ORDER BY name LIMIT 1`, id).Scan(&list)
		if err == nil {
			return problem.Coded(problem.Conflict, "schema.in.use", "", "schema %q is used by contact list %q", sc.Name, list)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM contact_schemas WHERE id = $1`, id)
		if store.IsForeignKeyViolation(err) {
			return problem.Coded(problem.Conflict, "schema.in.use", "", "schema %q is used by a contact list", sc.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, schemaTopic(id), Change{Action: "deleted", Entity: "schema", ID: id, Name: sc.Name})
	})
}
