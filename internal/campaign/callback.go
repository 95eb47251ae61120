package campaign

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Callback states.
const (
	Scheduled = "scheduled" // waiting for its time
	Placing   = "placing"   // the dialer took it
	Done      = "done"
	Missed    = "missed" // the owner was not available in time
	Cancelled = "cancelled"
)

// CallbackStates are every callback state.
var CallbackStates = []string{Scheduled, Placing, Done, Missed, Cancelled}

// MaxCallbackAhead bounds how far ahead a callback may be scheduled.
const MaxCallbackAhead = 366 * 24 * time.Hour

// Callback is a scheduled call back to a contact ("agenda"). Its JSON form
// is the body of v2.outbound.callbacks.{id}.
type Callback struct {
	ID             string    `json:"id"`
	CampaignID     string    `json:"campaignId"`
	ContactID      string    `json:"contactId"`
	Phone          string    `json:"phone"`
	At             time.Time `json:"at"`
	UserID         string    `json:"userId"` // "" = owned by the campaign (any of its agents)
	State          string    `json:"state"`
	ConversationID string    `json:"conversationId"`
	CreatedBy      string    `json:"createdBy"`
	Created        time.Time `json:"dateCreated"`
	Modified       time.Time `json:"dateModified"`
}

// Actor is who asks for a callback operation: the user the token acts for
// ("" for an application) and whether they are a supervisor (or admin).
// Agents handle their own callbacks and campaign-owned ones; supervisors
// any. The dialer acts as a supervisor.
type Actor struct {
	UserID     string
	Supervisor bool
}

// may reports whether a sees cb: supervisors all; others their personal
// callbacks, those they created, and campaign-owned ones of the campaign
// they are logged into (applications: every campaign-owned one).
func (a Actor) may(cb Callback, campaign string) bool {
	switch {
	case a.Supervisor:
		return true
	case a.UserID != "" && (cb.UserID == a.UserID || cb.CreatedBy == a.UserID):
		return true
	case cb.UserID == "":
		return a.UserID == "" || cb.CampaignID == campaign
	}
	return false
}

// checkOwner refuses an agent giving a callback to someone else.
func (a Actor) checkOwner(userID string) error {
	if a.Supervisor || userID == "" || userID == a.UserID {
		return nil
	}
	return problem.Forbiddenf("agents schedule callbacks for themselves or for the campaign (userId empty); a supervisor may give them to another agent")
}

// ScheduleCallback schedules a callback: at in the future (at most 366
// days), the campaign outbound, the contact in one of its lists, the phone
// defaulting to the contact's first one, userId empty (campaign-owned) or an
// existing user. The contact's status becomes "callback" in the same
// transaction.
func (s *Service) ScheduleCallback(ctx context.Context, a Actor, cb Callback) (Callback, error) {
	contacts, _, users, err := s.deps()
	if err != nil {
		return Callback{}, err
	}
	cb.CampaignID, cb.ContactID, cb.UserID = strings.TrimSpace(cb.CampaignID), strings.TrimSpace(cb.ContactID), strings.TrimSpace(cb.UserID)
	cb.Phone = strings.TrimSpace(cb.Phone)
	if err := a.checkOwner(cb.UserID); err != nil {
		return Callback{}, err
	}
	now := s.now()
	var col problem.Collector
	s.checkAt(&col, cb.At, now)
	var c Campaign
	switch {
	case cb.CampaignID == "":
		col.Add("campaignId", "is required")
	default:
		c, err = s.Get(ctx, cb.CampaignID)
		switch {
		case isNotFound(err):
			col.Add("campaignId", "campaign %s does not exist", cb.CampaignID)
		case err != nil:
			return Callback{}, err
		case c.Direction != Outbound:
			col.Add("campaignId", "campaign %d - %s is inbound: callbacks are placed by outbound campaigns", c.Number, c.Name)
		}
	}
	if cb.ContactID == "" {
		col.Add("contactId", "is required")
	} else {
		list, err := contacts.ContactList(ctx, cb.ContactID)
		switch {
		case isNotFound(err):
			col.Add("contactId", "contact %s does not exist", cb.ContactID)
		case err != nil:
			return Callback{}, err
		case c.ID != "" && c.Direction == Outbound && !slices.Contains(c.ContactListIDs, list):
			col.Add("contactId", "contact %s is in list %s, which campaign %d - %s does not dial", cb.ContactID, list, c.Number, c.Name)
		case cb.Phone == "":
			phone, err := contacts.ContactPhone(ctx, cb.ContactID)
			if err != nil {
				return Callback{}, err
			}
			if phone == "" {
				col.Add("phone", "the contact has no phone number: give one")
			}
			cb.Phone = phone
		}
	}
	if cb.Phone != "" && !IsPhone(cb.Phone) {
		col.Add("phone", "%q is not a phone number: digits with an optional leading +, 3 to 20 digits", cb.Phone)
	}
	if cb.UserID != "" {
		if err := users.UserExists(ctx, cb.UserID); isNotFound(err) {
			col.Add("userId", "user %s does not exist", cb.UserID)
		} else if err != nil {
			return Callback{}, err
		}
	}
	if err := col.Err(); err != nil {
		return Callback{}, err
	}
	cb.ID = uuid.NewString()
	cb.At = store.Time(store.Millis(cb.At))
	cb.State, cb.ConversationID, cb.CreatedBy = Scheduled, "", a.UserID
	cb.Created, cb.Modified = now, now
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO callbacks (id, campaign_id, contact_id, phone, at, user_id, state, conversation_id,
			created_by, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $9)`,
			cb.ID, cb.CampaignID, cb.ContactID, cb.Phone, store.Millis(cb.At), cb.UserID, cb.State, cb.CreatedBy, store.Millis(now))
		if store.IsForeignKeyViolation(err) {
			return problem.Invalidf("campaignId", "campaign %s does not exist", cb.CampaignID)
		}
		if err != nil {
			return err
		}
		if err := contacts.SetStatus(ctx, tx, cb.ContactID, "callback"); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, callbackTopic(cb.ID), cb)
	})
	if err != nil {
		return Callback{}, err
	}
	return cb, nil
}

func (s *Service) checkAt(col *problem.Collector, at, now time.Time) {
	switch {
	case at.IsZero():
		col.Add("at", "is required")
	case !at.After(now):
		col.Add("at", "a callback in the past: %s is not after now (%s)", at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case at.Sub(now) > MaxCallbackAhead:
		col.Add("at", "at most 366 days ahead")
	}
}

// CallbackChange moves (At) or reassigns (UserID, "" = to the campaign) a
// callback; nil fields stay.
type CallbackChange struct {
	At     *time.Time
	UserID *string
}

// MoveCallback changes a scheduled (or missed: it is scheduled again)
// callback's time or owner. Agents may change their own and campaign-owned
// callbacks they see, and only give them to themselves or the campaign.
func (s *Service) MoveCallback(ctx context.Context, a Actor, id string, ch CallbackChange) (Callback, error) {
	contacts, _, users, err := s.deps()
	if err != nil {
		return Callback{}, err
	}
	cb, err := s.visibleCallback(ctx, a, id)
	if err != nil {
		return Callback{}, err
	}
	if !a.Supervisor && cb.UserID != "" && cb.UserID != a.UserID {
		return Callback{}, problem.Forbiddenf("this callback belongs to another agent: a supervisor may move it")
	}
	now := s.now()
	var col problem.Collector
	if ch.At != nil {
		s.checkAt(&col, *ch.At, now)
	}
	if ch.UserID != nil {
		u := strings.TrimSpace(*ch.UserID)
		ch.UserID = &u
		if err := a.checkOwner(u); err != nil {
			return Callback{}, err
		}
		if u != "" {
			if err := users.UserExists(ctx, u); isNotFound(err) {
				col.Add("userId", "user %s does not exist", u)
			} else if err != nil {
				return Callback{}, err
			}
		}
	}
	if cb.State == Missed && ch.At == nil {
		col.Add("at", "a missed callback needs a new time to be scheduled again")
	}
	if err := col.Err(); err != nil {
		return Callback{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		cur, err := getCallback(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.State != Scheduled && cur.State != Missed {
			return problem.Coded(problem.Conflict, "callback.not.scheduled", "", "the callback is %s: only scheduled or missed callbacks move", cur.State)
		}
		was := cur.State
		if ch.At != nil {
			cur.At = store.Time(store.Millis(*ch.At))
		}
		if ch.UserID != nil {
			cur.UserID = *ch.UserID
		}
		cur.State, cur.Modified = Scheduled, now
		if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET at = $1, user_id = $2, state = $3, modified_at = $4 WHERE id = $5`,
			store.Millis(cur.At), cur.UserID, cur.State, store.Millis(now), id); err != nil {
			return err
		}
		if was == Missed {
			if err := contacts.SetStatus(ctx, tx, cur.ContactID, "callback"); err != nil {
				return err
			}
		}
		cb = cur
		return s.events.Add(ctx, tx, callbackTopic(id), cur)
	})
	if err != nil {
		return Callback{}, err
	}
	return cb, nil
}

// CancelCallback cancels a scheduled or missed callback; its contact goes
// back to "retry" unless another callback of it is still scheduled.
// Cancelling a cancelled callback changes nothing.
func (s *Service) CancelCallback(ctx context.Context, a Actor, id string) (Callback, error) {
	if _, _, _, err := s.deps(); err != nil {
		return Callback{}, err
	}
	cb, err := s.visibleCallback(ctx, a, id)
	if err != nil {
		return Callback{}, err
	}
	if !a.Supervisor && cb.UserID != "" && cb.UserID != a.UserID {
		return Callback{}, problem.Forbiddenf("this callback belongs to another agent: a supervisor may cancel it")
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		cur, err := getCallback(ctx, tx, id)
		if err != nil {
			return err
		}
		switch cur.State {
		case Cancelled:
			cb = cur
			return nil
		case Scheduled, Missed:
		default:
			return problem.Coded(problem.Conflict, "callback.not.scheduled", "", "the callback is %s: only scheduled or missed callbacks are cancelled", cur.State)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET state = 'cancelled', modified_at = $1 WHERE id = $2`, store.Millis(now), id); err != nil {
			return err
		}
		if err := s.releaseContact(ctx, tx, cur.ContactID); err != nil {
			return err
		}
		cur.State, cur.Modified = Cancelled, now
		cb = cur
		return s.events.Add(ctx, tx, callbackTopic(id), cur)
	})
	if err != nil {
		return Callback{}, err
	}
	return cb, nil
}

// releaseContact puts a contact whose callback was cancelled back to
// "retry", unless another callback of it is still scheduled.
func (s *Service) releaseContact(ctx context.Context, tx *store.Tx, contactID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM callbacks WHERE contact_id = $1 AND state = 'scheduled'`, contactID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	contacts, _, _, err := s.deps()
	if err != nil {
		return err
	}
	return contacts.SetStatus(ctx, tx, contactID, "retry")
}

// visibleCallback returns a callback a may see: NotFound when absent,
// Forbidden when it is someone else's.
func (s *Service) visibleCallback(ctx context.Context, a Actor, id string) (Callback, error) {
	cb, err := getCallback(ctx, s.db, id)
	if err != nil {
		return Callback{}, err
	}
	mine := ""
	if !a.Supervisor && a.UserID != "" && cb.UserID == "" {
		if mine, err = s.AgentCampaign(ctx, a.UserID); err != nil {
			return Callback{}, err
		}
	}
	if !a.may(cb, mine) {
		return Callback{}, problem.Forbiddenf("this callback belongs to another agent or to a campaign you are not logged into")
	}
	return cb, nil
}

// GetCallback returns a callback a may see.
func (s *Service) GetCallback(ctx context.Context, a Actor, id string) (Callback, error) {
	return s.visibleCallback(ctx, a, id)
}

// CallbackFilter narrows ListCallbacks; zero values do not filter.
type CallbackFilter struct {
	CampaignID, UserID, State string
	From, To                  time.Time // at >= From, at < To
}

// ListCallbacks returns a page of the callbacks a may see, by time, and the
// total.
func (s *Service) ListCallbacks(ctx context.Context, a Actor, f CallbackFilter, p Page) ([]Callback, int, error) {
	cond, args := "", []any{}
	add := func(w string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			w = strings.Replace(w, "$?", "$"+strconv.Itoa(len(args)), 1)
		}
		if cond == "" {
			cond = " WHERE " + w
		} else {
			cond += " AND " + w
		}
	}
	if f.State != "" && !slices.Contains(CallbackStates, f.State) {
		return nil, 0, problem.Invalidf("state", "must be one of %v, got %q", CallbackStates, f.State)
	}
	if f.CampaignID != "" {
		add(`campaign_id = $?`, f.CampaignID)
	}
	if f.UserID != "" {
		add(`user_id = $?`, f.UserID)
	}
	if f.State != "" {
		add(`state = $?`, f.State)
	}
	if !f.From.IsZero() {
		add(`at >= $?`, store.Millis(f.From))
	}
	if !f.To.IsZero() {
		add(`at < $?`, store.Millis(f.To))
	}
	if !a.Supervisor {
		if a.UserID == "" {
			add(`user_id = ''`)
		} else {
			mine, err := s.AgentCampaign(ctx, a.UserID)
			if err != nil {
				return nil, 0, err
			}
			add(`(user_id = $? OR created_by = $? OR (user_id = '' AND campaign_id = $?))`, a.UserID, a.UserID, mine)
		}
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM callbacks`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if p.Limit <= 0 {
		p.Limit = 25
	}
	n := len(args)
	out, err := queryCallbacks(ctx, s.db, cond+` ORDER BY at, id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	return out, total, err
}

// DueCallbacks returns scheduled callbacks whose time has come (at <= now),
// earliest first.
func (s *Service) DueCallbacks(ctx context.Context, now time.Time, limit int) ([]Callback, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryCallbacks(ctx, s.db, ` WHERE state = 'scheduled' AND at <= $1 ORDER BY at, id LIMIT $2`, store.Millis(now), limit)
}

// NextCallback returns the time of the earliest scheduled callback, zero
// when none: the dialer sets its timer with it.
func (s *Service) NextCallback(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(at) FROM callbacks WHERE state = 'scheduled'`).Scan(&at); err != nil {
		return time.Time{}, err
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return store.Time(at.Int64), nil
}

// TakeCallback moves a scheduled callback to placing and reports whether
// this caller got it: a conditional update, so of two takers (two nodes)
// exactly one wins.
func (s *Service) TakeCallback(ctx context.Context, id string) (bool, error) {
	took := false
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE callbacks SET state = 'placing', modified_at = $1 WHERE id = $2 AND state = 'scheduled'`,
			store.Millis(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		took = true
		cb, err := getCallback(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.events.Add(ctx, tx, callbackTopic(id), cb)
	})
	return took && err == nil, err
}

// FinishCallback ends a callback the dialer handled: state done or missed
// (from scheduled or placing), or scheduled again (from placing: the dialer
// gives it back). conversationID, when given, is recorded.
func (s *Service) FinishCallback(ctx context.Context, id, state, conversationID string) error {
	var from []string
	switch state {
	case Done, Missed:
		from = []string{Scheduled, Placing}
	case Scheduled:
		from = []string{Placing}
	default:
		return problem.Invalidf("state", "must be done, missed or scheduled, got %q", state)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.now()
		q := `UPDATE callbacks SET state = $1, modified_at = $2 WHERE id = $3 AND state IN ($4, $5)`
		args := []any{state, store.Millis(now), id, from[0], from[len(from)-1]}
		if conversationID != "" {
			q = `UPDATE callbacks SET state = $1, modified_at = $2, conversation_id = $6 WHERE id = $3 AND state IN ($4, $5)`
			args = append(args, conversationID)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		cb, err := getCallback(ctx, tx, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.Coded(problem.Conflict, "callback.state", "state", "the callback is %s: it cannot become %s", cb.State, state)
		}
		return s.events.Add(ctx, tx, callbackTopic(id), cb)
	})
}

const callbackColumns = `id, campaign_id, contact_id, phone, at, user_id, state, conversation_id, created_by, created_at, modified_at`

func scanCallback(row interface{ Scan(...any) error }) (Callback, error) {
	var cb Callback
	var at, created, modified int64
	if err := row.Scan(&cb.ID, &cb.CampaignID, &cb.ContactID, &cb.Phone, &at, &cb.UserID, &cb.State, &cb.ConversationID, &cb.CreatedBy,
		&created, &modified); err != nil {
		return Callback{}, err
	}
	cb.At, cb.Created, cb.Modified = store.Time(at), store.Time(created), store.Time(modified)
	return cb, nil
}

func getCallback(ctx context.Context, q store.Querier, id string) (Callback, error) {
	cb, err := scanCallback(q.QueryRowContext(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Callback{}, problem.NotFoundf("callback %s not found", id)
	}
	return cb, err
}

func queryCallbacks(ctx context.Context, q store.Querier, tail string, args ...any) ([]Callback, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+callbackColumns+` FROM callbacks`+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Callback
	for rows.Next() {
		cb, err := scanCallback(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cb)
	}
	return out, rows.Err()
}
