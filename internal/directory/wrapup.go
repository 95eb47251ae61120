package directory

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// WrapupCode is a call outcome. Codes are organized as category and
// subcategory (the seed's disposition tree); the name is what agents see.
type WrapupCode struct {
	ID          string
	Name        string
	Category    string
	Subcategory string
	Description string
	Created     time.Time
	Modified    time.Time
}

func (w *WrapupCode) validate() error {
	var c problem.Collector
	w.Name, w.Category, w.Subcategory = strings.TrimSpace(w.Name), strings.TrimSpace(w.Category), strings.TrimSpace(w.Subcategory)
	if w.Name == "" && w.Category != "" {
		w.Name = w.Category
		if w.Subcategory != "" {
			w.Name += " - " + w.Subcategory
		}
	}
	checkText(&c, "name", w.Name, true)
	checkText(&c, "category", w.Category, false)
	checkText(&c, "subcategory", w.Subcategory, false)
	if w.Subcategory != "" && w.Category == "" {
		c.Add("subcategory", "needs a category")
	}
	if len(w.Description) > 1000 {
		c.Add("description", "must be at most 1000 characters")
	}
	return c.Err()
}

// CreateWrapupCode adds a code; without a name it is named "Category - Subcategory".
func (s *Service) CreateWrapupCode(ctx context.Context, w WrapupCode) (WrapupCode, error) {
	if err := w.validate(); err != nil {
		return WrapupCode{}, err
	}
	w.ID = uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO wrapup_codes (id, name, category, subcategory, description, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			w.ID, w.Name, w.Category, w.Subcategory, w.Description, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a wrap-up code named %q already exists", w.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.wrapupcodes."+w.ID, Change{Action: "created", Entity: "wrapupcode", ID: w.ID, Name: w.Name})
	})
	if err != nil {
		return WrapupCode{}, err
	}
	return s.GetWrapupCode(ctx, w.ID)
}

// UpdateWrapupCode replaces a code.
func (s *Service) UpdateWrapupCode(ctx context.Context, id string, w WrapupCode) (WrapupCode, error) {
	if _, err := s.GetWrapupCode(ctx, id); err != nil {
		return WrapupCode{}, err
	}
	if err := w.validate(); err != nil {
		return WrapupCode{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE wrapup_codes SET name = $1, category = $2, subcategory = $3, description = $4, modified_at = $5 WHERE id = $6`,
			w.Name, w.Category, w.Subcategory, w.Description, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a wrap-up code named %q already exists", w.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.wrapupcodes."+id, Change{Action: "updated", Entity: "wrapupcode", ID: id, Name: w.Name})
	})
	if err != nil {
		return WrapupCode{}, err
	}
	return s.GetWrapupCode(ctx, id)
}

// DeleteWrapupCode removes a code.
func (s *Service) DeleteWrapupCode(ctx context.Context, id string) error {
	w, err := s.GetWrapupCode(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_wrapup_codes WHERE code_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM wrapup_codes WHERE id = $1`, id); err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.wrapupcodes."+id, Change{Action: "deleted", Entity: "wrapupcode", ID: id, Name: w.Name})
	})
}

const wrapupColumns = `id, name, category, subcategory, description, created_at, modified_at`

func scanWrapup(row interface{ Scan(...any) error }) (WrapupCode, error) {
	var w WrapupCode
	var created, modified int64
	err := row.Scan(&w.ID, &w.Name, &w.Category, &w.Subcategory, &w.Description, &created, &modified)
	w.Created, w.Modified = store.Time(created), store.Time(modified)
	return w, err
}

// GetWrapupCode returns a code by id.
func (s *Service) GetWrapupCode(ctx context.Context, id string) (WrapupCode, error) {
	w, err := scanWrapup(s.db.QueryRowContext(ctx, `SELECT `+wrapupColumns+` FROM wrapup_codes WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return WrapupCode{}, problem.NotFoundf("wrap-up code %s not found", id)
	}
	return w, err
}

// WrapupFilter narrows ListWrapupCodes.
type WrapupFilter struct {
	Name       string
	IDs        []string
	Category   string
	SortByID   bool
	Descending bool
	QueueID    string // only codes assigned to this queue
}

// ListWrapupCodes returns a page of codes, and the total.
func (s *Service) ListWrapupCodes(ctx context.Context, f WrapupFilter, p Page) ([]WrapupCode, int, error) {
	cond, args := "", []any{}
	add := func(w string, v ...any) {
		if cond == "" {
			cond = " WHERE " + w
		} else {
			cond += " AND " + w
		}
		args = append(args, v...)
	}
	if f.Name != "" {
		add(`name LIKE $`+strconv.Itoa(len(args)+1)+` ESCAPE '\'`, likePattern(f.Name))
	}
	if f.Category != "" {
		add(`category = $`+strconv.Itoa(len(args)+1), f.Category)
	}
	if f.QueueID != "" {
		add(`id IN (SELECT code_id FROM queue_wrapup_codes WHERE queue_id = $`+strconv.Itoa(len(args)+1)+`)`, f.QueueID)
	}
	if len(f.IDs) > 0 {
		ids := make([]any, len(f.IDs))
		for i, id := range f.IDs {
			ids[i] = id
		}
		add("id IN ("+placeholders(len(args)+1, len(ids))+")", ids...)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM wrapup_codes`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := " ORDER BY category, subcategory, name"
	if f.SortByID {
		order = " ORDER BY id"
	}
	if f.Descending {
		order = " ORDER BY name DESC"
		if f.SortByID {
			order = " ORDER BY id DESC"
		}
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+wrapupColumns+` FROM wrapup_codes`+cond+order+` LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []WrapupCode
	for rows.Next() {
		w, err := scanWrapup(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, w)
	}
	return out, total, rows.Err()
}

// AssignWrapupCodes makes codes available on a queue.
func (s *Service) AssignWrapupCodes(ctx context.Context, queueID string, codeIDs []string) error {
	if _, err := s.GetQueue(ctx, queueID); err != nil {
		return err
	}
	var c problem.Collector
	if len(codeIDs) == 0 || len(codeIDs) > 100 {
		c.Add("body", "give 1 to 100 wrap-up codes")
	}
	for i, id := range codeIDs {
		if _, err := s.GetWrapupCode(ctx, id); err != nil {
			c.Add("["+strconv.Itoa(i)+"].id", "wrap-up code %s does not exist", id)
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range codeIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO queue_wrapup_codes (queue_id, code_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, queueID, id); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, "v2.directory.queues."+queueID, Change{Action: "updated", Entity: "queue", ID: queueID})
	})
}

// UnassignWrapupCode removes a code from a queue.
func (s *Service) UnassignWrapupCode(ctx context.Context, queueID, codeID string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM queue_wrapup_codes WHERE queue_id = $1 AND code_id = $2`, queueID, codeID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("wrap-up code %s is not assigned to queue %s", codeID, queueID)
		}
		return s.change(ctx, tx, "v2.directory.queues."+queueID, Change{Action: "updated", Entity: "queue", ID: queueID})
	})
}
