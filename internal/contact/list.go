package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// List is a contact list (the seed's "base"): contacts of one schema.
type List struct {
	ID             string
	Name           string
	SchemaID       string
	DefaultCountry string // ISO 3166 alpha-2: how national numbers are read
	Size           int
	Created        time.Time
	Modified       time.Time
}

// ListInput creates or replaces a list.
type ListInput struct {
	Name, SchemaID, DefaultCountry string
}

func (in *ListInput) validate() error {
	var c problem.Collector
	in.Name = strings.TrimSpace(in.Name)
	if m := checkName("name", in.Name, 200); m != "" {
		c.Add("name", "%s", m)
	}
	if !isUUID(in.SchemaID) {
		c.Add("schemaId", "%q is not a valid id: ids are lowercase UUIDs", in.SchemaID)
	}
	in.DefaultCountry = strings.ToUpper(strings.TrimSpace(in.DefaultCountry))
	if in.DefaultCountry == "" {
		in.DefaultCountry = DefaultCountry
	}
	if !validCountry(in.DefaultCountry) {
		c.Add("defaultCountry", "%q is not an ISO 3166 alpha-2 country with a telephone numbering plan", in.DefaultCountry)
	}
	return c.Err()
}

const listColumns = `l.id, l.name, l.schema_id, l.default_country, (SELECT COUNT(*) FROM contacts c WHERE c.list_id = l.id), l.created_at, l.modified_at`

func scanList(row interface{ Scan(...any) error }) (List, error) {
	var l List
	var created, modified int64
	err := row.Scan(&l.ID, &l.Name, &l.SchemaID, &l.DefaultCountry, &l.Size, &created, &modified)
	l.Created, l.Modified = store.Time(created), store.Time(modified)
	return l, err
}

// GetList returns a contact list by id.
func (s *Service) GetList(ctx context.Context, id string) (List, error) {
	return s.getList(ctx, s.db, id)
}

func (s *Service) getList(ctx context.Context, q store.Querier, id string) (List, error) {
	l, err := scanList(q.QueryRowContext(ctx, `SELECT `+listColumns+` FROM contact_lists l WHERE l.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return List{}, problem.NotFoundf("contact list %s not found", id)
	}
	return l, err
}

// ListSchema returns the id of a list's schema.
func (s *Service) ListSchema(ctx context.Context, listID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT schema_id FROM contact_lists WHERE id = $1`, listID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.NotFoundf("contact list %s not found", listID)
	}
	return id, err
}

// ListLists returns a page of contact lists sorted by name, and the total.
// name filters exactly or with * wildcards; schemaID, when set, keeps the
// lists of that schema.
func (s *Service) ListLists(ctx context.Context, name, schemaID string, p Page) ([]List, int, error) {
	var conds []string
	var args []any
	if name != "" {
		args = append(args, likePattern(name))
		conds = append(conds, fmt.Sprintf(`l.name LIKE $%d ESCAPE '\'`, len(args)))
	}
	if schemaID != "" {
		args = append(args, schemaID)
		conds = append(conds, fmt.Sprintf(`l.schema_id = $%d`, len(args)))
	}
	cond := ""
	if len(conds) > 0 {
		cond = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_lists l`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+listColumns+` FROM contact_lists l`+cond+
		fmt.Sprintf(` ORDER BY l.name, l.id LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []List
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, l)
	}
	return out, total, rows.Err()
}

// CreateList adds an empty contact list.
func (s *Service) CreateList(ctx context.Context, in ListInput) (List, error) {
	if err := in.validate(); err != nil {
		return List{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := s.getSchema(ctx, tx, in.SchemaID); err != nil {
			return problem.Invalidf("schemaId", "schema %s does not exist", in.SchemaID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_lists (id, name, schema_id, default_country, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			id, in.Name, in.SchemaID, in.DefaultCountry, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a contact list named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, listTopic(id), Change{Action: "created", Entity: "contactlist", ID: id, Name: in.Name})
	})
	if err != nil {
		return List{}, err
	}
	return s.GetList(ctx, id)
}

// UpdateList replaces a list's name, schema and default country. The schema
// cannot change once the list holds contacts (409 list.not.empty).
func (s *Service) UpdateList(ctx context.Context, id string, in ListInput) (List, error) {
	if _, err := s.GetList(ctx, id); err != nil {
		return List{}, err
	}
	if err := in.validate(); err != nil {
		return List{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.getList(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.SchemaID != in.SchemaID {
			if _, err := s.getSchema(ctx, tx, in.SchemaID); err != nil {
				return problem.Invalidf("schemaId", "schema %s does not exist", in.SchemaID)
			}
			if old.Size > 0 {
				return problem.Coded(problem.Conflict, "list.not.empty", "schemaId", "the list holds %d contacts: its schema cannot change", old.Size)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE contact_lists SET name = $1, schema_id = $2, default_country = $3, modified_at = $4 WHERE id = $5`,
			in.Name, in.SchemaID, in.DefaultCountry, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a contact list named %q already exists", in.Name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, listTopic(id), Change{Action: "updated", Entity: "contactlist", ID: id, Name: in.Name})
	})
	if err != nil {
		return List{}, err
	}
	return s.GetList(ctx, id)
}

// DeleteList removes a list and its contacts, after the list guard (see
// SetListGuard) agreed.
func (s *Service) DeleteList(ctx context.Context, id string) error {
	l, err := s.GetList(ctx, id)
	if err != nil {
		return err
	}
	s.mu.RLock()
	guard := s.listGuard
	s.mu.RUnlock()
	if guard != nil {
		if err := guard(ctx, id); err != nil {
			return err
		}
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		// contact_phones and contact_attempts go with their contacts.
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE list_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contact_lists WHERE id = $1`, id); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, listTopic(id), Change{Action: "deleted", Entity: "contactlist", ID: id, Name: l.Name})
	})
}
