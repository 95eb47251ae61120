package directory

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

// PresenceDefinition is a presence an agent can choose. The ten system
// presences carry the platform's well-known ids; custom break states, added
// by the admin, carry a number and a label ("1 - Descanso") and the Break
// system presence.
type PresenceDefinition struct {
	ID             string
	SystemPresence string // Available, On Queue, Offline, Busy, Away, Break, Meal, Meeting, Training, Idle
	LabelEN        string
	LabelES        string
	BreakNumber    int // 0 for system presences
	Primary        bool
	Deactivated    bool
	Created        time.Time
	Modified       time.Time
}

// Name is the label shown to agents: the admin's label for a break state
// ("1 - Descanso"), the English system name otherwise.
func (p PresenceDefinition) Name() string {
	if p.BreakNumber > 0 {
		return p.LabelES
	}
	return p.LabelEN
}

// BreakInput creates or changes a custom break state.
type BreakInput struct {
	Number      int
	Label       string // Spanish (seed) label, e.g. "Descanso" or "1 - Descanso"
	LabelEN     string // optional English label; defaults to Label
	Deactivated bool
}

// MaxBreakNumber bounds break numbers (agents pick them from a keypad).
const MaxBreakNumber = 99

func (in *BreakInput) labels() (es, en string, err error) {
	var c problem.Collector
	if in.Number < 1 || in.Number > MaxBreakNumber {
		c.Add("breakNumber", "must be between 1 and %d, got %d", MaxBreakNumber, in.Number)
	}
	in.Label, in.LabelEN = strings.TrimSpace(in.Label), strings.TrimSpace(in.LabelEN)
	checkText(&c, "label", in.Label, true)
	checkText(&c, "labelEn", in.LabelEN, false)
	if err := c.Err(); err != nil {
		return "", "", err
	}
	prefix := fmt.Sprintf("%d - ", in.Number)
	es = in.Label
	if !strings.HasPrefix(es, prefix) {
		es = prefix + es
	}
	en = in.LabelEN
	if en == "" {
		en = es
	} else if !strings.HasPrefix(en, prefix) {
		en = prefix + en
	}
	return es, en, nil
}

// CreateBreak adds a custom break state.
func (s *Service) CreateBreak(ctx context.Context, in BreakInput) (PresenceDefinition, error) {
	es, en, err := in.labels()
	if err != nil {
		return PresenceDefinition{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO presence_definitions (id, system_presence, label_en, label_es, break_number, is_primary, deactivated, created_at, modified_at)
			VALUES ($1, 'Break', $2, $3, $4, FALSE, $5, $6, $6)`, id, en, es, in.Number, in.Deactivated, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("breakNumber", "break number %d is already used", in.Number)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.presencedefinitions."+id, Change{Action: "created", Entity: "presencedefinition", ID: id, Name: es})
	})
	if err != nil {
		return PresenceDefinition{}, err
	}
	return s.GetPresence(ctx, id)
}

// UpdateBreak changes a custom break state.
func (s *Service) UpdateBreak(ctx context.Context, id string, in BreakInput) (PresenceDefinition, error) {
	p, err := s.GetPresence(ctx, id)
	if err != nil {
		return PresenceDefinition{}, err
	}
	if p.BreakNumber == 0 {
		return PresenceDefinition{}, problem.Forbiddenf("system presence %q cannot be changed", p.SystemPresence)
	}
	es, en, err := in.labels()
	if err != nil {
		return PresenceDefinition{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE presence_definitions SET label_en = $1, label_es = $2, break_number = $3, deactivated = $4, modified_at = $5 WHERE id = $6`,
			en, es, in.Number, in.Deactivated, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("breakNumber", "break number %d is already used", in.Number)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.presencedefinitions."+id, Change{Action: "updated", Entity: "presencedefinition", ID: id, Name: es})
	})
	if err != nil {
		return PresenceDefinition{}, err
	}
	return s.GetPresence(ctx, id)
}

// DeleteBreak removes a custom break state; system presences stay.
func (s *Service) DeleteBreak(ctx context.Context, id string) error {
	p, err := s.GetPresence(ctx, id)
	if err != nil {
		return err
	}
	if p.BreakNumber == 0 {
		return problem.Forbiddenf("system presence %q cannot be deleted", p.SystemPresence)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM presence_definitions WHERE id = $1`, id); err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.presencedefinitions."+id, Change{Action: "deleted", Entity: "presencedefinition", ID: id, Name: p.LabelES})
	})
}

const presenceColumns = `id, system_presence, label_en, label_es, COALESCE(break_number, 0), is_primary, deactivated, created_at, modified_at`

func scanPresence(row interface{ Scan(...any) error }) (PresenceDefinition, error) {
	var p PresenceDefinition
	var created, modified int64
	err := row.Scan(&p.ID, &p.SystemPresence, &p.LabelEN, &p.LabelES, &p.BreakNumber, &p.Primary, &p.Deactivated, &created, &modified)
	p.Created, p.Modified = store.Time(created), store.Time(modified)
	return p, err
}

// GetPresence returns a presence definition by id.
func (s *Service) GetPresence(ctx context.Context, id string) (PresenceDefinition, error) {
	p, err := scanPresence(s.db.QueryRowContext(ctx, `SELECT `+presenceColumns+` FROM presence_definitions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return PresenceDefinition{}, problem.NotFoundf("presence definition %s not found", id)
	}
	return p, err
}

// ListPresences returns system presences first, then break states by number.
// With deactivated false, deactivated break states are left out.
func (s *Service) ListPresences(ctx context.Context, includeDeactivated bool, p Page) ([]PresenceDefinition, int, error) {
	cond := ""
	if !includeDeactivated {
		cond = " WHERE deactivated = FALSE"
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM presence_definitions`+cond).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+presenceColumns+` FROM presence_definitions`+cond+
		` ORDER BY COALESCE(break_number, 0), created_at, label_en LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []PresenceDefinition
	for rows.Next() {
		d, err := scanPresence(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}
