package contact

import (
	"context"
	"database/sql"
	"time"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// This file is what the campaigns and the dialer need beyond the contract's
// first draft: a contact's first phone, a status change inside the
// caller's transaction (scheduling a callback), and the reset of contacts
// a stopped program left claimed.

// ContactPhone returns the contact's first phone (E.164) or "".
func (s *Service) ContactPhone(ctx context.Context, contactID string) (string, error) {
	c, err := s.GetContact(ctx, contactID)
	if err != nil {
		return "", err
	}
	return c.FirstPhone(), nil
}

// SetStatus changes a contact's status inside tx: "callback" when a
// callback is scheduled, "retry" (due now) when it is cancelled.
func (s *Service) SetStatus(ctx context.Context, tx *store.Tx, contactID, status string) error {
	switch status {
	case "new", "retry", "callback", "done", "exhausted", "dnc":
	default:
		return problem.Invalidf("status", "%q is not a contact status", status)
	}
	now := store.Millis(s.clock.Now())
	next := int64(0)
	if status == "retry" {
		next = now
	}
	res, err := tx.ExecContext(ctx, `UPDATE contacts SET status = $1, next_attempt_at = $2, modified_at = $3 WHERE id = $4`, status, next, now, contactID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFoundf("contact %s does not exist", contactID)
	}
	return nil
}

// ReleaseClaims puts contacts left "dialing" (claimed by a dialer that
// stopped before their call's outcome was known) back as due now.
func (s *Service) ReleaseClaims(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE contacts SET status = 'retry', next_attempt_at = $1, modified_at = $1 WHERE status = 'dialing'`, store.Millis(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Unclaim gives back a contact a dialer claimed but did not call (a
// preview taken back for a due callback): due again now, no attempt
// counted.
func (s *Service) Unclaim(ctx context.Context, contactID string) error {
	now := store.Millis(s.clock.Now())
	_, err := s.db.ExecContext(ctx, `UPDATE contacts SET status = 'retry', next_attempt_at = $1, modified_at = $1 WHERE id = $2 AND status = 'dialing'`, now, contactID)
	return err
}

// Defer puts off a claimed or due contact until `until` without counting
// an attempt (its calling hours do not allow a call now).
func (s *Service) Defer(ctx context.Context, contactID string, until time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE contacts SET status = 'retry', next_attempt_at = $1, modified_at = $2
		WHERE id = $3 AND status IN ('new', 'retry', 'dialing')`, store.Millis(until), store.Millis(s.clock.Now()), contactID)
	return err
}

// NextDue returns when the earliest contact of the lists waiting for a
// retry comes due (zero when none): the dialer's timer instead of polling.
func (s *Service) NextDue(ctx context.Context, listIDs []string) (time.Time, error) {
	if len(listIDs) == 0 {
		return time.Time{}, nil
	}
	args := make([]any, len(listIDs))
	for i, id := range listIDs {
		args[i] = id
	}
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM contacts WHERE status = 'retry' AND list_id IN (`+placeholders(1, len(listIDs))+`)`, args...).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return store.Time(at.Int64), nil
}

// Answer is a campaign call answered by a person, and whether it was
// abandoned (no agent within 2 s).
type Answer struct {
	At        time.Time
	Abandoned bool
}

// AnsweredSince lists a campaign's live answers since t: the record a
// restarted dialer reads back so the daily and 30-day abandonment caps
// hold across restarts.
func (s *Service) AnsweredSince(ctx context.Context, campaignID string, since time.Time) ([]Answer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT answered_at, outcome FROM contact_attempts
		WHERE campaign_id = $1 AND answered_at >= $2 AND outcome IN ('connected', 'abandoned')`, campaignID, store.Millis(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Answer
	for rows.Next() {
		var at int64
		var outcome string
		if err := rows.Scan(&at, &outcome); err != nil {
			return nil, err
		}
		out = append(out, Answer{At: store.Time(at), Abandoned: outcome == "abandoned"})
	}
	return out, rows.Err()
}
