package directory

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/auth"
	"github.com/centralita/centralita/internal/password"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// User is a person: an agent, supervisor or admin.
type User struct {
	ID         string
	Username   string
	Name       string
	Email      string
	Department string
	Title      string
	Phone      string
	State      string // active, inactive, deleted
	Roles      []auth.Role
	Version    int
	Created    time.Time
	Modified   time.Time
}

// UserInput creates a user.
type UserInput struct {
	Username, Name, Email, Department, Title, Phone string
	Roles                                           []string
	Password                                        string
	State                                           string
}

// UserPatch changes some fields of a user; nil means unchanged. Version must
// be the user's current version (optimistic locking, as the platform API does).
type UserPatch struct {
	Name, Email, Department, Title, Phone, State *string
	Roles                                        *[]string
	Version                                      int
}

const maxField = 200

func checkText(c *problem.Collector, field, v string, required bool) {
	switch {
	case required && v == "":
		c.Add(field, "is required")
	case len(v) > maxField:
		c.Add(field, "must be at most %d characters", maxField)
	}
}

func checkEmail(c *problem.Collector, v string) {
	if v == "" {
		return
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		c.Add("email", "%q is not an email address", v)
	}
}

func checkState(c *problem.Collector, v string) {
	if v != "active" && v != "inactive" {
		c.Add("state", "must be active or inactive, got %q", v)
	}
}

var usernameOK = func(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)) {
			return false
		}
	}
	return s != ""
}

// CreateUser adds a user. The password is stored as an argon2id hash.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	var c problem.Collector
	in.Username, in.Name, in.Email = strings.TrimSpace(in.Username), strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	checkText(&c, "username", in.Username, true)
	if in.Username != "" && !usernameOK(in.Username) {
		c.Add("username", "may only contain letters, digits and . _ - @ +")
	}
	checkText(&c, "name", in.Name, true)
	checkEmail(&c, in.Email)
	checkText(&c, "department", in.Department, false)
	checkText(&c, "title", in.Title, false)
	checkText(&c, "phone", in.Phone, false)
	if in.State == "" {
		in.State = "active"
	}
	checkState(&c, in.State)
	if len(in.Roles) == 0 {
		in.Roles = []string{string(auth.Agent)}
	}
	roles, err := auth.ParseRoles(in.Roles)
	if err != nil {
		c.Add("roles", "%v", err)
	}
	if in.Password != "" && (len(in.Password) < 4 || len(in.Password) > password.MaxLen) {
		c.Add("password", "must be 4 to %d characters", password.MaxLen)
	}
	if err := c.Err(); err != nil {
		return User{}, err
	}
	hash := ""
	if in.Password != "" {
		if hash, err = password.Hash(in.Password); err != nil {
			return User{}, err
		}
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, name, email, department, title, phone, state, roles, password_hash, version, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)`,
			id, in.Username, in.Name, in.Email, in.Department, in.Title, in.Phone, in.State, auth.JoinRoles(roles), hash, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("username", "username %q is already taken", in.Username)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.users."+id, Change{Action: "created", Entity: "user", ID: id, Name: in.Name})
	})
	if err != nil {
		return User{}, err
	}
	return s.GetUser(ctx, id)
}

const userColumns = `id, username, name, email, department, title, phone, state, roles, version, created_at, modified_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var roles string
	var created, modified int64
	err := row.Scan(&u.ID, &u.Username, &u.Name, &u.Email, &u.Department, &u.Title, &u.Phone, &u.State, &roles, &u.Version, &created, &modified)
	u.Roles = auth.SplitRoles(roles)
	u.Created, u.Modified = store.Time(created), store.Time(modified)
	return u, err
}

// GetUser returns a user by id, whatever its state.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, problem.NotFoundf("user %s not found", id)
	}
	return u, err
}

// GetUserByUsername returns a user by username.
func (s *Service) GetUserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, problem.NotFoundf("user %q not found", username)
	}
	return u, err
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	IDs        []string
	State      string // active (default), inactive, deleted, any
	Descending bool
}

// ListUsers returns a page of users sorted by name, and the total.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, int, error) {
	where, args := []string{}, []any{}
	switch f.State {
	case "", "active":
		where, args = append(where, "state = $1"), append(args, "active")
	case "any":
	case "inactive", "deleted":
		where, args = append(where, "state = $1"), append(args, f.State)
	default:
		return nil, 0, problem.Invalidf("state", "must be active, inactive, deleted or any, got %q", f.State)
	}
	if len(f.IDs) > 0 {
		where = append(where, "id IN ("+placeholders(len(args)+1, len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := " ORDER BY name, id"
	if f.Descending {
		order = " ORDER BY name DESC, id DESC"
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+cond+order+` LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// PatchUser changes a user if patch.Version matches the stored version.
func (s *Service) PatchUser(ctx context.Context, id string, patch UserPatch) (User, error) {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.State == "deleted" {
		// As for DeleteUser, a deleted user is gone: a patch must not bring it back.
		return User{}, problem.NotFoundf("user %s not found", id)
	}
	var c problem.Collector
	if patch.Version != u.Version {
		return User{}, problem.Conflictf("version", "user %s is at version %d, the request names version %d: read it again and retry", id, u.Version, patch.Version)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&u.Name, patch.Name)
	set(&u.Email, patch.Email)
	set(&u.Department, patch.Department)
	set(&u.Title, patch.Title)
	set(&u.Phone, patch.Phone)
	set(&u.State, patch.State)
	checkText(&c, "name", u.Name, true)
	checkEmail(&c, u.Email)
	checkText(&c, "department", u.Department, false)
	checkText(&c, "title", u.Title, false)
	checkText(&c, "phone", u.Phone, false)
	if patch.State != nil {
		checkState(&c, u.State)
	}
	if patch.Roles != nil {
		roles, err := auth.ParseRoles(*patch.Roles)
		if err != nil {
			c.Add("roles", "%v", err)
		} else if len(roles) == 0 {
			c.Add("roles", "a user needs at least one role")
		}
		u.Roles = roles
	}
	if err := c.Err(); err != nil {
		return User{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, email = $2, department = $3, title = $4, phone = $5, state = $6, roles = $7,
			version = version + 1, modified_at = $8 WHERE id = $9 AND version = $10`,
			u.Name, u.Email, u.Department, u.Title, u.Phone, u.State, auth.JoinRoles(u.Roles), store.Millis(s.clock.Now()), id, patch.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.Conflictf("version", "user %s changed meanwhile: read it again and retry", id)
		}
		if u.State != "active" {
			// Deactivation ends the user's sessions, so reactivating the
			// user later does not bring old tokens back.
			if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = $1`, id); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, "v2.directory.users."+id, Change{Action: "updated", Entity: "user", ID: id, Name: u.Name})
	})
	if err != nil {
		return User{}, err
	}
	return s.GetUser(ctx, id)
}

// DeleteUser marks a user deleted (the record stays for history), takes it
// out of every queue and ends its sessions.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if u.State == "deleted" {
		return problem.NotFoundf("user %s not found", id)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET state = 'deleted', version = version + 1, modified_at = $1 WHERE id = $2`, store.Millis(s.clock.Now()), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_members WHERE user_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = $1`, id); err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.users."+id, Change{Action: "deleted", Entity: "user", ID: id, Name: u.Name})
	})
}

// SetPassword replaces a user's password and ends the user's sessions.
func (s *Service) SetPassword(ctx context.Context, id, pw string) error {
	if len(pw) < 4 || len(pw) > password.MaxLen {
		return problem.Invalidf("password", "must be 4 to %d characters", password.MaxLen)
	}
	if _, err := s.GetUser(ctx, id); err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, modified_at = $2 WHERE id = $3`, hash, store.Millis(s.clock.Now()), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = $1`, id)
		return err
	})
}

var dummyHash, _ = password.Hash("centralita-dummy")

// VerifyPassword checks an active user's credentials (auth.UserVerifier).
func (s *Service) VerifyPassword(ctx context.Context, username, pw string) (string, []auth.Role, error) {
	var id, hash, state, roles string
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, state, roles FROM users WHERE username = $1`, username).Scan(&id, &hash, &state, &roles)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (hash == "" || state != "active")) {
		password.Check(dummyHash, pw) // same cost either way: no username probing by timing
		return "", nil, auth.ErrBadLogin
	}
	if err != nil {
		return "", nil, err
	}
	ok, err := password.Check(hash, pw)
	if err != nil || !ok {
		return "", nil, auth.ErrBadLogin
	}
	return id, auth.SplitRoles(roles), nil
}
