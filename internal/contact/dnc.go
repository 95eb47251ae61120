package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// DNCList is a do-not-call list: numbers campaigns never dial.
type DNCList struct {
	ID       string
	Name     string
	Size     int
	Created  time.Time
	Modified time.Time
}

// DNCNumber is one number of a do-not-call list.
type DNCNumber struct {
	Phone   string // E.164
	Created time.Time
}

const dncColumns = `d.id, d.name, (SELECT COUNT(*) FROM dnc_numbers n WHERE n.list_id = d.id), d.created_at, d.modified_at`

func scanDNC(row interface{ Scan(...any) error }) (DNCList, error) {
	var d DNCList
	var created, modified int64
	err := row.Scan(&d.ID, &d.Name, &d.Size, &created, &modified)
	d.Created, d.Modified = store.Time(created), store.Time(modified)
	return d, err
}

// GetDNCList returns a do-not-call list by id.
func (s *Service) GetDNCList(ctx context.Context, id string) (DNCList, error) {
	d, err := scanDNC(s.db.QueryRowContext(ctx, `SELECT `+dncColumns+` FROM dnc_lists d WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return DNCList{}, problem.NotFoundf("do-not-call list %s not found", id)
	}
	return d, err
}

// DNCListExists returns nil when the do-not-call list exists, else a
// NotFound problem (campaign validation).
func (s *Service) DNCListExists(ctx context.Context, id string) error {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM dnc_lists WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return problem.NotFoundf("do-not-call list %s not found", id)
	}
	return err
}

// ListDNCLists returns a page of do-not-call lists sorted by name, and the
// total. name filters exactly or with * wildcards.
func (s *Service) ListDNCLists(ctx context.Context, name string, p Page) ([]DNCList, int, error) {
	cond, args := "", []any{}
	if name != "" {
		cond, args = ` WHERE d.name LIKE $1 ESCAPE '\'`, append(args, likePattern(name))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dnc_lists d`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+dncColumns+` FROM dnc_lists d`+cond+
		fmt.Sprintf(` ORDER BY d.name, d.id LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []DNCList
	for rows.Next() {
		d, err := scanDNC(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

func checkDNCName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if m := checkName("name", name, 200); m != "" {
		return "", problem.Invalidf("name", "%s", m)
	}
	return name, nil
}

// CreateDNCList adds an empty do-not-call list.
func (s *Service) CreateDNCList(ctx context.Context, name string) (DNCList, error) {
	name, err := checkDNCName(name)
	if err != nil {
		return DNCList{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dnc_lists (id, name, created_at, modified_at) VALUES ($1, $2, $3, $3)`, id, name, now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a do-not-call list named %q already exists", name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, dncTopic(id), Change{Action: "created", Entity: "dnclist", ID: id, Name: name})
	})
	if err != nil {
		return DNCList{}, err
	}
	return s.GetDNCList(ctx, id)
}

// UpdateDNCList renames a do-not-call list.
func (s *Service) UpdateDNCList(ctx context.Context, id, name string) (DNCList, error) {
	if _, err := s.GetDNCList(ctx, id); err != nil {
		return DNCList{}, err
	}
	name, err := checkDNCName(name)
	if err != nil {
		return DNCList{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE dnc_lists SET name = $1, modified_at = $2 WHERE id = $3`, name, store.Millis(s.clock.Now()), id)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a do-not-call list named %q already exists", name)
		}
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, dncTopic(id), Change{Action: "updated", Entity: "dnclist", ID: id, Name: name})
	})
	if err != nil {
		return DNCList{}, err
	}
	return s.GetDNCList(ctx, id)
}

// DeleteDNCList removes a do-not-call list and its numbers.
func (s *Service) DeleteDNCList(ctx context.Context, id string) error {
	d, err := s.GetDNCList(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dnc_numbers WHERE list_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dnc_lists WHERE id = $1`, id); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, dncTopic(id), Change{Action: "deleted", Entity: "dnclist", ID: id, Name: d.Name})
	})
}

// DNCNumbers returns a page of a do-not-call list's numbers (sorted), and
// the total.
func (s *Service) DNCNumbers(ctx context.Context, id string, p Page) ([]DNCNumber, int, error) {
	d, err := s.GetDNCList(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT phone, created_at FROM dnc_numbers WHERE list_id = $1 ORDER BY phone LIMIT $2 OFFSET $3`, id, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []DNCNumber
	for rows.Next() {
		var n DNCNumber
		var created int64
		if err := rows.Scan(&n.Phone, &created); err != nil {
			return nil, 0, err
		}
		n.Created = store.Time(created)
		out = append(out, n)
	}
	return out, d.Size, rows.Err()
}

// normalizeAll normalizes numbers, all or nothing: each bad one is a
// problem naming phoneNumbers[i].
func normalizeAll(numbers []string, country string) ([]string, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		country = DefaultCountry
	}
	if !validCountry(country) {
		return nil, problem.Invalidf("defaultCountry", "%q is not an ISO 3166 alpha-2 country with a telephone numbering plan", country)
	}
	if len(numbers) == 0 {
		return nil, problem.Invalidf("phoneNumbers", "give at least one number")
	}
	if len(numbers) > 10000 {
		return nil, problem.Invalidf("phoneNumbers", "at most 10000 numbers per request (import a file for more)")
	}
	var c problem.Collector
	out := make([]string, 0, len(numbers))
	for i, n := range numbers {
		p, err := NormalizePhone(n, country)
		if err != nil {
			c.Add(fmt.Sprintf("phoneNumbers[%d]", i), "%q %s", n, err)
			continue
		}
		out = append(out, p)
	}
	return out, c.Err()
}

// AddDNCNumbers adds numbers (read with country) to a do-not-call list, all
// or nothing, and returns how many were new.
func (s *Service) AddDNCNumbers(ctx context.Context, id string, numbers []string, country string) (int, error) {
	d, err := s.GetDNCList(ctx, id)
	if err != nil {
		return 0, err
	}
	phones, err := normalizeAll(numbers, country)
	if err != nil {
		return 0, err
	}
	var added int
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		added, err = insertDNC(ctx, tx, id, phones, store.Millis(s.clock.Now()))
		if err != nil {
			return err
		}
		return s.touchDNC(ctx, tx, d)
	})
	return added, err
}

func (s *Service) touchDNC(ctx context.Context, tx *store.Tx, d DNCList) error {
	if _, err := tx.ExecContext(ctx, `UPDATE dnc_lists SET modified_at = $1 WHERE id = $2`, store.Millis(s.clock.Now()), d.ID); err != nil {
		return err
	}
	return s.events.Add(ctx, tx, dncTopic(d.ID), Change{Action: "updated", Entity: "dnclist", ID: d.ID, Name: d.Name})
}

// insertDNC inserts numbers in batches, ignoring those already listed, and
// returns how many were new.
func insertDNC(ctx context.Context, tx *store.Tx, id string, phones []string, now int64) (int, error) {
	const per = 1000
	added := 0
	for start := 0; start < len(phones); start += per {
		batch := phones[start:min(start+per, len(phones))]
		args := make([]any, 0, 2+len(batch))
		args = append(args, id, now)
		seen := map[string]bool{}
		var vals []string
		for _, p := range batch {
			if seen[p] {
				continue
			}
			seen[p] = true
			args = append(args, p)
			vals = append(vals, fmt.Sprintf("($1, $%d, $2)", len(args)))
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO dnc_numbers (list_id, phone, created_at) VALUES `+strings.Join(vals, ", ")+
			` ON CONFLICT (list_id, phone) DO NOTHING`, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += int(n)
	}
	return added, nil
}

// RemoveDNCNumbers removes numbers (read with country) from a do-not-call
// list, all or nothing, and returns how many were there.
func (s *Service) RemoveDNCNumbers(ctx context.Context, id string, numbers []string, country string) (int, error) {
	d, err := s.GetDNCList(ctx, id)
	if err != nil {
		return 0, err
	}
	phones, err := normalizeAll(numbers, country)
	if err != nil {
		return 0, err
	}
	removed := 0
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, p := range phones {
			res, err := tx.ExecContext(ctx, `DELETE FROM dnc_numbers WHERE list_id = $1 AND phone = $2`, id, p)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			removed += int(n)
		}
		return s.touchDNC(ctx, tx, d)
	})
	return removed, err
}

// ImportDNC reads a CSV file whose first column is a number (read with
// country). A first row whose first cell is not a number is a header. The
// report rules are the contacts' (see Import); numbers already listed, or
// repeated in the file, count as updated.
func (s *Service) ImportDNC(ctx context.Context, id string, r io.Reader, country string, skipInvalid bool) (ImportReport, error) {
	d, err := s.GetDNCList(ctx, id)
	if err != nil {
		return ImportReport{}, err
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		country = DefaultCountry
	}
	if !validCountry(country) {
		return ImportReport{}, problem.Invalidf("defaultCountry", "%q is not an ISO 3166 alpha-2 country with a telephone numbering plan", country)
	}
	cr := csvReader(r)
	var rep ImportReport
	var phones []string
	column := "phoneNumber"
	rows := 0
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// No record, so no FieldPos: a CSV error knows its line.
			return readErr(err, 0)
		}
		line, _ := cr.FieldPos(0)
		cell := strings.TrimSpace(rec[0])
		p, perr := NormalizePhone(cell, country)
		if first && perr != nil && line == 1 {
			if cell != "" {
				column = cell
			}
			continue // a header
		}
		rows++
		if rows > MaxImportRows {
			return fileError(line, "", "the file has more than %d rows", MaxImportRows)
		}
		if perr != nil {
			rep.add(RowError{Row: line, Column: column, Reason: fmt.Sprintf("%q %s (default country %s)", cell, perr, country)})
			rep.Skipped++
			continue
		}
		phones = append(phones, p)
	}
	if rep.ErrorCount > 0 && !skipInvalid {
		return rep, rep.Err()
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		added, err := insertDNC(ctx, tx, id, phones, store.Millis(s.clock.Now()))
		if err != nil {
			return err
		}
		rep.Imported, rep.Updated = added, len(phones)-added
		return s.touchDNC(ctx, tx, d)
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// Blocked reports whether e164 is on any of the do-not-call lists.
func (s *Service) Blocked(ctx context.Context, dncListIDs []string, e164 string) (bool, error) {
	if len(dncListIDs) == 0 || e164 == "" {
		return false, nil
	}
	args := []any{e164}
	for _, id := range dncListIDs {
		args = append(args, id)
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM dnc_numbers WHERE phone = $1 AND list_id IN (`+placeholders(2, len(dncListIDs))+`) LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
