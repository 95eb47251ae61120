package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Skill is a routing skill.
type Skill struct {
	ID       string
	Name     string
	State    string
	Version  int
	Modified time.Time
}

// CreateSkill adds a skill.
func (s *Service) CreateSkill(ctx context.Context, name string) (Skill, error) {
	name = strings.TrimSpace(name)
	var c problem.Collector
	checkText(&c, "name", name, true)
	if err := c.Err(); err != nil {
		return Skill{}, err
	}
	id := uuid.NewString()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO skills (id, name, state, version, modified_at) VALUES ($1, $2, 'active', 1, $3)`, id, name, store.Millis(s.clock.Now()))
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a skill named %q already exists", name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.skills."+id, Change{Action: "created", Entity: "skill", ID: id, Name: name})
	})
	if err != nil {
		return Skill{}, err
	}
	return s.GetSkill(ctx, id)
}

// RenameSkill changes a skill's name.
func (s *Service) RenameSkill(ctx context.Context, id, name string) (Skill, error) {
	if _, err := s.GetSkill(ctx, id); err != nil {
		return Skill{}, err
	}
	name = strings.TrimSpace(name)
	var c problem.Collector
	checkText(&c, "name", name, true)
	if err := c.Err(); err != nil {
		return Skill{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE skills SET name = $1, version = version + 1, modified_at = $2 WHERE id = $3`, name, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a skill named %q already exists", name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.skills."+id, Change{Action: "updated", Entity: "skill", ID: id, Name: name})
	})
	if err != nil {
		return Skill{}, err
	}
	return s.GetSkill(ctx, id)
}

// DeleteSkill removes a skill, takes it away from every user and from the
// skills queues require (each such queue gets its change event).
func (s *Service) DeleteSkill(ctx context.Context, id string) error {
	sk, err := s.GetSkill(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_skills WHERE skill_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM skills WHERE id = $1`, id); err != nil {
			return err
		}
		if err := s.change(ctx, tx, "v2.directory.skills."+id, Change{Action: "deleted", Entity: "skill", ID: id, Name: sk.Name}); err != nil {
			return err
		}
		return s.dropQueueSkill(ctx, tx, id)
	})
}

// dropQueueSkill takes a deleted skill out of the skills queues require.
func (s *Service) dropQueueSkill(ctx context.Context, tx *store.Tx, skillID string) error {
	type ref struct{ id, name, skills string }
	var refs []ref
	// Skill ids are UUIDs: no LIKE wildcard can hide in one.
	rows, err := tx.QueryContext(ctx, `SELECT id, name, skill_ids FROM queues WHERE skill_ids LIKE $1 ORDER BY name`, `%"`+skillID+`"%`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.id, &r.name, &r.skills); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range refs {
		var ids []string
		if err := json.Unmarshal([]byte(r.skills), &ids); err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(x string) bool { return x == skillID })
		b, _ := json.Marshal(append([]string{}, ids...))
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET skill_ids = $1, modified_at = $2 WHERE id = $3`, string(b), store.Millis(s.clock.Now()), r.id); err != nil {
			return err
		}
		if err := s.change(ctx, tx, "v2.directory.queues."+r.id, Change{Action: "updated", Entity: "queue", ID: r.id, Name: r.name}); err != nil {
			return err
		}
	}
	return nil
}

// GetSkill returns a skill by id.
func (s *Service) GetSkill(ctx context.Context, id string) (Skill, error) {
	var sk Skill
	var mod int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, state, version, modified_at FROM skills WHERE id = $1`, id).Scan(&sk.ID, &sk.Name, &sk.State, &sk.Version, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return Skill{}, problem.NotFoundf("skill %s not found", id)
	}
	sk.Modified = store.Time(mod)
	return sk, err
}

// ListSkills returns a page of skills sorted by name; name may use * wildcards.
func (s *Service) ListSkills(ctx context.Context, name string, ids []string, p Page) ([]Skill, int, error) {
	where, args := []string{}, []any{}
	if name != "" {
		where, args = append(where, `name LIKE $1 ESCAPE '\'`), append(args, likePattern(name))
	}
	if len(ids) > 0 {
		where = append(where, "id IN ("+placeholders(len(args)+1, len(ids))+")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	cond := ""
	for i, w := range where {
		if i == 0 {
			cond = " WHERE " + w
		} else {
			cond += " AND " + w
		}
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM skills`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, state, version, modified_at FROM skills`+cond+` ORDER BY name LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Skill
	for rows.Next() {
		var sk Skill
		var mod int64
		if err := rows.Scan(&sk.ID, &sk.Name, &sk.State, &sk.Version, &mod); err != nil {
			return nil, 0, err
		}
		sk.Modified = store.Time(mod)
		out = append(out, sk)
	}
	return out, total, rows.Err()
}

// UserSkill is a skill held by a user with a proficiency from 0 to 5.
type UserSkill struct {
	Skill
	Proficiency float64
}

// SetUserSkill gives a user a skill (or changes its proficiency).
func (s *Service) SetUserSkill(ctx context.Context, userID, skillID string, proficiency float64) (UserSkill, error) {
	if math.IsNaN(proficiency) || proficiency < 0 || proficiency > 5 {
		return UserSkill{}, problem.Invalidf("proficiency", "must be between 0 and 5, got %v", proficiency)
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return UserSkill{}, err
	}
	sk, err := s.GetSkill(ctx, skillID)
	if err != nil {
		return UserSkill{}, problem.Invalidf("id", "skill %s does not exist", skillID)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_skills (user_id, skill_id, proficiency) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, skill_id) DO UPDATE SET proficiency = excluded.proficiency`, userID, skillID, proficiency)
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.users."+userID, Change{Action: "updated", Entity: "user", ID: userID, Name: u.Name})
	})
	return UserSkill{Skill: sk, Proficiency: proficiency}, err
}

// RemoveUserSkill takes a skill from a user.
func (s *Service) RemoveUserSkill(ctx context.Context, userID, skillID string) error {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_skills WHERE user_id = $1 AND skill_id = $2`, userID, skillID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("user %s does not have skill %s", userID, skillID)
		}
		return s.change(ctx, tx, "v2.directory.users."+userID, Change{Action: "updated", Entity: "user", ID: userID, Name: u.Name})
	})
}

// UserSkills lists a user's skills sorted by name.
func (s *Service) UserSkills(ctx context.Context, userID string) ([]UserSkill, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.name, s.state, s.version, s.modified_at, us.proficiency
		FROM user_skills us JOIN skills s ON s.id = us.skill_id WHERE us.user_id = $1 ORDER BY s.name`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserSkill
	for rows.Next() {
		var us UserSkill
		var mod int64
		if err := rows.Scan(&us.ID, &us.Name, &us.State, &us.Version, &mod, &us.Proficiency); err != nil {
			return nil, err
		}
		us.Modified = store.Time(mod)
		out = append(out, us)
	}
	return out, rows.Err()
}
