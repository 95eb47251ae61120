package contact

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Attempt outcomes.
const (
	AttemptBusy              = "busy"
	AttemptNoAnswer          = "no-answer"
	AttemptFailed            = "failed"
	AttemptMachine           = "machine"
	AttemptAbandoned         = "abandoned" // live answer, no agent within 2 s
	AttemptConnected         = "connected" // talked to an agent
	AttemptAgentDisconnected = "agent-disconnected"
	AttemptSkipped           = "skipped" // preview skipped
	AttemptDNC               = "dnc"     // blocked before dialing
)

// ValidOutcome reports whether o is an attempt outcome.
func ValidOutcome(o string) bool {
	switch o {
	case AttemptBusy, AttemptNoAnswer, AttemptFailed, AttemptMachine, AttemptAbandoned, AttemptConnected,
		AttemptAgentDisconnected, AttemptSkipped, AttemptDNC:
		return true
	}
	return false
}

// Attempt is one row of a contact's history.
type Attempt struct {
	ID             string // assigned by Finish when empty
	ContactID      string
	CampaignID     string
	ConversationID string
	Phone          string
	Outcome        string
	AgentID        string
	Category       string // disposition names, as the agent chose them
	Subcategory    string
	Notes          string
	Started        time.Time
	Answered       time.Time
	Ended          time.Time
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Millis(t)
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return store.Time(ms)
}

// Due returns up to limit contacts of the lists that may be dialed now:
// status new, or retry with NextAttempt <= now; oldest first (by next
// attempt, then list order).
func (s *Service) Due(ctx context.Context, listIDs []string, now time.Time, limit int) ([]Contact, error) {
	if len(listIDs) == 0 || limit <= 0 {
		return nil, nil
	}
	args := []any{store.Millis(now), limit}
	for _, id := range listIDs {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE list_id IN (`+placeholders(3, len(listIDs))+`) AND status IN ('new', 'retry') AND next_attempt_at <= $1
		ORDER BY next_attempt_at, ord, id LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Claim moves a contact from new, retry or callback to dialing for a
// campaign. It reports false when the contact was not in one of those
// statuses (another campaign or dialer node took it first).
func (s *Service) Claim(ctx context.Context, contactID, campaignID string) (bool, error) {
	var ok bool
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET status = 'dialing', campaign_id = $1, modified_at = $2
			WHERE id = $3 AND status IN ('new', 'retry', 'callback')`, campaignID, store.Millis(s.clock.Now()), contactID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// Finish records an attempt and moves its contact on: status, next attempt
// (zero: none), last outcome, category and subcategory; the attempt counter
// grows unless the outcome is skipped or dnc. One transaction.
func (s *Service) Finish(ctx context.Context, a Attempt, status string, next time.Time) error {
	var c problem.Collector
	if !ValidOutcome(a.Outcome) {
		c.Add("outcome", "must be busy, no-answer, failed, machine, abandoned, connected, agent-disconnected, skipped or dnc, got %q", a.Outcome)
	}
	if !ValidStatus(status) {
		c.Add("status", "must be new, retry, dialing, callback, done, exhausted or dnc, got %q", status)
	}
	if a.ContactID == "" {
		c.Add("contactId", "is required")
	}
	if err := c.Err(); err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = uuid.NewString()
	}
	inc := 1
	if a.Outcome == AttemptSkipped || a.Outcome == AttemptDNC {
		inc = 0
	}
	now := store.Millis(s.clock.Now())
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET status = $1, attempts = attempts + $2, next_attempt_at = $3,
			last_outcome = $4, category = $5, subcategory = $6, modified_at = $7 WHERE id = $8`,
			status, inc, millisOrZero(next), a.Outcome, a.Category, a.Subcategory, now, a.ContactID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFoundf("contact %s not found", a.ContactID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO contact_attempts (id, contact_id, campaign_id, conversation_id, phone, outcome, agent_id,
			category, subcategory, notes, started_at, answered_at, ended_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			a.ID, a.ContactID, a.CampaignID, a.ConversationID, a.Phone, a.Outcome, a.AgentID,
			a.Category, a.Subcategory, a.Notes, millisOrZero(a.Started), millisOrZero(a.Answered), millisOrZero(a.Ended), now)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("id", "attempt %s is already recorded", a.ID)
		}
		return err
	})
}

// Attempts returns a page of a contact's history, newest first, and the total.
func (s *Service) Attempts(ctx context.Context, contactID string, p Page) ([]Attempt, int, error) {
	if _, err := s.ContactList(ctx, contactID); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_attempts WHERE contact_id = $1`, contactID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, contact_id, campaign_id, conversation_id, phone, outcome, agent_id, category, subcategory, notes,
		started_at, answered_at, ended_at FROM contact_attempts WHERE contact_id = $1
		ORDER BY started_at DESC, created_at DESC, id DESC LIMIT $2 OFFSET $3`, contactID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var st, an, en int64
		if err := rows.Scan(&a.ID, &a.ContactID, &a.CampaignID, &a.ConversationID, &a.Phone, &a.Outcome, &a.AgentID,
			&a.Category, &a.Subcategory, &a.Notes, &st, &an, &en); err != nil {
			return nil, 0, err
		}
		a.Started, a.Answered, a.Ended = timeOrZero(st), timeOrZero(an), timeOrZero(en)
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// FindOrCreate is the inbound lookup of SPEC 2.6 (the seed's
// CONTACTO_INSERT_SALESFORCE): it finds the list's contact by the key (data)
// when the schema matches by key, by the caller's number (ani, normalized
// with the list's country) when it matches by phone; with no match, or
// nothing to search by, it inserts a contact with key data and first phone
// ani (when it parses). A phone-matching schema also finds a contact whose
// key is data (keys are unique in a list). It returns the contact, whether
// it was created, and clavesf "<contactId>-<data>".
func (s *Service) FindOrCreate(ctx context.Context, listID, data, ani string) (Contact, bool, string, error) {
	var c Contact
	var created bool
	var err error
	for try := 0; try < 3; try++ {
		c, created, err = s.findOrCreate(ctx, listID, data, ani)
		if !errors.Is(err, errDuplicateKey) {
			break
		}
		// Another caller inserted the same key between our lookup and
		// insert (PostgreSQL): look again.
	}
	if err != nil {
		return Contact{}, false, "", err
	}
	return c, created, c.ID + "-" + data, nil
}

func (s *Service) findOrCreate(ctx context.Context, listID, data, ani string) (Contact, bool, error) {
	if len(data) > MaxValueLen {
		return Contact{}, false, problem.Invalidf("data", "must be at most %d characters", MaxValueLen)
	}
	var id string
	var created bool
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		l, sc, err := s.listAndSchema(ctx, tx, listID)
		if err != nil {
			return err
		}
		phone, perr := "", error(nil)
		if ani != "" {
			phone, perr = NormalizePhone(ani, l.DefaultCountry)
			if perr != nil {
				phone = "" // an unreadable number is no number: nothing to search by
			}
		}
		if sc.MatchBy == MatchByPhone && phone != "" {
			err := tx.QueryRowContext(ctx, `SELECT p.contact_id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id
				WHERE p.list_id = $1 AND p.phone = $2 ORDER BY c.ord, c.id LIMIT 1`, listID, phone).Scan(&id)
			if err == nil {
				return nil
			}
			if !isNoRows(err) {
				return err
			}
		}
		if data != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM contacts WHERE list_id = $1 AND contact_key = $2`, listID, data).Scan(&id)
			if err == nil {
				return nil
			}
			if !isNoRows(err) {
				return err
			}
		}
		values := map[string]string{sc.KeyField().Name: data}
		if pf := sc.PhoneFields(); len(pf) > 0 && phone != "" {
			values[pf[0].Name] = phone
		}
		r, errs := checkRecord(sc, l.DefaultCountry, values, "")
		if len(errs) > 0 {
			return problem.Invalidf("data", "%s", errs[0].Reason)
		}
		r.key = data
		id, created = uuid.NewString(), true
		return s.insertContact(ctx, tx, id, listID, r, StatusNew, store.Millis(s.clock.Now()))
	})
	if err != nil {
		if p := problem.All(err); len(p) > 0 && p[0].Kind == problem.Duplicate {
			return Contact{}, false, errDuplicateKey
		}
		return Contact{}, false, err
	}
	c, err := s.GetContact(ctx, id)
	return c, created, err
}

// errDuplicateKey makes FindOrCreate look again after losing an insert race.
var errDuplicateKey = errors.New("contact key inserted concurrently")

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
