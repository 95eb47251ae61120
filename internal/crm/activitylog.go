package crm

// The activity log that is never lost (SPEC 3.5, docs/crm.md "The activity
// log"): every ended call with an agent gets one row in crm_activity_logs,
// enqueued from the durable conversation event stream (outbox.Once), and a
// single writer goroutine writes due rows to the call center's CRM with
// exponential backoff while the CRM is unavailable. Restarts resume from
// the table; LogActivity / CreateVoiceCall are idempotent by CallID, so a
// write repeated after a crash, or a later edit of the disposition, updates
// the same CRM record.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/centralita/centralita/internal/bus"
	"github.com/centralita/centralita/internal/outbox"
	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// LogGrace is how long after a call's end its log waits for the agent's
// disposition and notes before it is first written.
const LogGrace = 60 * time.Second

// States of a log.
const (
	LogPending = "pending"
	LogWritten = "written"
	LogFailed  = "failed"
)

// ConsumerActivityLog is the durable consumer (and outbox.Once consumer
// name) of the activity log's intake.
const ConsumerActivityLog = "crm-activity-log"

const (
	logBatch      = 20
	logBackoffMin = 5 * time.Second
	logBackoffMax = 15 * time.Minute
	// logLease is how long a writer owns a row it is writing; a writer that
	// dies mid-write leaves the row to be taken again after it.
	logLease = 2 * time.Minute
	// logCallTimeout bounds one CRM call.
	logCallTimeout = 30 * time.Second
	// logDBRetry is when the writer looks again after a database error.
	logDBRetry = 5 * time.Second
)

// LogBackoff is the wait after the n-th failed attempt (n ≥ 1): 5 s
// doubling, at most 15 min.
func LogBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 20 {
		return logBackoffMax
	}
	d := logBackoffMin * time.Duration(math.Pow(2, float64(n-1)))
	return min(d, logBackoffMax)
}

// LogStatus is the state of one conversation's log.
type LogStatus struct {
	ConversationID string
	CallCenterID   string
	Mode           string
	State          string // LogPending, LogWritten, LogFailed
	Attempts       int
	LastError      string
	ActivityID     string    // the CRM's id, once written
	NextAttempt    time.Time // when pending; zero otherwise
	DateWritten    time.Time // zero until written
	Created        time.Time
	Modified       time.Time
	Activity       Activity
}

// EndedCall is an ended conversation with an agent, as read from its event:
// what CallCenterFor decides on.
type EndedCall struct {
	ConversationID string
	Direction      string
	UserIDs        []string          // the agents (users) who connected
	QueueIDs       []string          // the queues it went through
	Attributes     map[string]string // every participant's attributes, first value wins
	Activity       Activity
}

// Subscriber is what the intake needs of the bus (bus.Bus has it).
type Subscriber interface {
	Subscribe(ctx context.Context, durable, filter string, h bus.Handler) (func(), error)
}

var _ Subscriber = (*bus.Bus)(nil)

// logState is the activity log's writer state.
type logState struct {
	mu            sync.Mutex
	busy          bool          // the writer has work to look at (woken, or in a pass)
	wake          chan struct{} // capacity 1
	callCenterFor func(ctx context.Context, call EndedCall) (string, bool)
	modeFor       func(ctx context.Context, callCenterID string) string
}

func newLogState() *logState { return &logState{wake: make(chan struct{}, 1), busy: true} }

func (s *Service) logs() *logState { return s.log }

// signal wakes the writer.
func (st *logState) signal() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.busy = true
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// idle reports whether the writer is waiting with nothing to do (tests).
func (st *logState) idle() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return !st.busy
}

// SetCallCenterFor sets how the intake finds the call center of an ended
// call: ok only when that call center saves activity logs
// (SaveActivityLog). Without it nothing is enqueued.
func (s *Service) SetCallCenterFor(f func(ctx context.Context, call EndedCall) (callCenterID string, ok bool)) {
	st := s.logs()
	st.mu.Lock()
	st.callCenterFor = f
	st.mu.Unlock()
}

// SetActivityModeFor overrides how EnqueueLog finds a call center's
// ActivityMode (ActivityTask or ActivityVoiceCall); without it, or when it
// answers "", the call center's stored ActivityMode is used (ActivityTask
// for an unknown call center).
func (s *Service) SetActivityModeFor(f func(ctx context.Context, callCenterID string) string) {
	st := s.logs()
	st.mu.Lock()
	st.modeFor = f
	st.mu.Unlock()
}

func (s *Service) hooks() (func(context.Context, EndedCall) (string, bool), func(context.Context, string) string) {
	st := s.logs()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.callCenterFor, st.modeFor
}

// EnqueueLog records (or rewrites) the log of a.CallID for callCenterID, to
// be written at due, inside tx. When the conversation already has a log
// with a different payload, the new payload replaces it and the log is
// pending again (written to the same CRM record: the same CallID); the
// same payload again changes nothing. The writer wakes once tx commits.
func (s *Service) EnqueueLog(ctx context.Context, tx *store.Tx, a Activity, callCenterID string, due time.Time) error {
	if a.CallID == "" {
		return errors.New("crm: activity log without a call id")
	}
	mode := ""
	if _, modeFor := s.hooks(); modeFor != nil {
		mode = modeFor(ctx, callCenterID)
	}
	if mode == "" {
		cc, _, err := getCallCenter(ctx, tx, `id = $1`, callCenterID)
		switch {
		case err == nil:
			mode = cc.ActivityMode
		case !isNotFound(err):
			return fmt.Errorf("crm: enqueue log %s: %w", a.CallID, err)
		}
	}
	if mode == "" {
		mode = ActivityTask
	}
	payload, err := json.Marshal(a)
	if err != nil {
		return err
	}
	now := store.Millis(s.clock.Now())
	_, err = tx.ExecContext(ctx, `INSERT INTO crm_activity_logs (conversation_id, call_center_id, mode, state, attempts, next_attempt_at,
			last_error, activity_id, payload, version, created_at, written_at, modified_at)
		VALUES ($1, $2, $3, 'pending', 0, $4, '', '', $5, 1, $6, 0, $6)
		ON CONFLICT (conversation_id) DO UPDATE SET
			call_center_id = excluded.call_center_id, mode = excluded.mode, payload = excluded.payload,
			version = crm_activity_logs.version + 1,
			attempts = CASE WHEN crm_activity_logs.state = 'pending' THEN crm_activity_logs.attempts ELSE 0 END,
			next_attempt_at = CASE WHEN crm_activity_logs.state = 'pending' AND crm_activity_logs.next_attempt_at > excluded.next_attempt_at
				THEN crm_activity_logs.next_attempt_at ELSE excluded.next_attempt_at END,
			state = 'pending', modified_at = excluded.modified_at
		WHERE crm_activity_logs.payload <> excluded.payload OR crm_activity_logs.mode <> excluded.mode
			OR crm_activity_logs.call_center_id <> excluded.call_center_id`,
		a.CallID, callCenterID, mode, store.Millis(due), string(payload), now)
	if err != nil {
		return fmt.Errorf("crm: enqueue log %s: %w", a.CallID, err)
	}
	tx.AfterCommit(s.logs().signal)
	return nil
}

// ConsumeConversations attaches the durable intake: every ended
// conversation with an agent whose call center saves activity logs (see
// SetCallCenterFor) is enqueued once per event (outbox.Once), due LogGrace
// after its end. A redelivered event changes nothing.
func (s *Service) ConsumeConversations(ctx context.Context, sub Subscriber) (stop func(), err error) {
	return sub.Subscribe(ctx, ConsumerActivityLog, "v2.conversations.*", s.handleConversationEvent)
}

func (s *Service) handleConversationEvent(ctx context.Context, ev bus.Event) error {
	call, ok := endedCall(ev.Body)
	if !ok {
		return nil
	}
	ccFor, _ := s.hooks()
	if ccFor == nil {
		return nil
	}
	cc, ok := ccFor(ctx, call)
	if !ok {
		return nil
	}
	_, err := outbox.Once(ctx, s.db, ConsumerActivityLog, ev.ID, s.clock.Now(), func(tx *store.Tx) error {
		return s.EnqueueLog(ctx, tx, call.Activity, cc, call.Activity.End.Add(LogGrace))
	})
	return err
}

// The conversation event body: the fields of conversation.CallConversation
// the log needs (its times are the platform's date-times, or null).
type convEvent struct {
	ID           string    `json:"id"`
	EndTime      time.Time `json:"endTime"`
	Direction    string    `json:"direction"`
	State        string    `json:"state"`
	Participants []struct {
		Purpose       string    `json:"purpose"`
		State         string    `json:"state"`
		Address       string    `json:"address"`
		Ani           string    `json:"ani"`
		Dnis          string    `json:"dnis"`
		ConnectedTime time.Time `json:"connectedTime"`
		EndTime       time.Time `json:"endTime"`
		User          *struct {
			ID string `json:"id"`
		} `json:"user"`
		Queue *struct {
			ID string `json:"id"`
		} `json:"queue"`
		Attributes map[string]string `json:"attributes"`
		Wrapup     *struct {
			Code  string `json:"code"`
			Name  string `json:"name"`
			Notes string `json:"notes"`
		} `json:"wrapup"`
	} `json:"participants"`
}

// ActivityFromConversation reads a v2.conversations.{id} event body and,
// when the conversation has ended and an agent (or user) connected to it,
// returns the activity to log.
func ActivityFromConversation(body []byte) (Activity, bool) {
	c, ok := endedCall(body)
	return c.Activity, ok
}

func endedCall(body []byte) (EndedCall, bool) {
	var c convEvent
	if err := json.Unmarshal(body, &c); err != nil || c.ID == "" || c.State != "disconnected" {
		return EndedCall{}, false
	}
	call := EndedCall{ConversationID: c.ID, Attributes: map[string]string{}}
	var start, end time.Time
	end = c.EndTime
	var wrapCode, wrapName, wrapNotes string
	custIdx, extIdx := -1, -1
	for i, p := range c.Participants {
		switch p.State {
		case "connected", "alerting", "dialing", "contacting":
			if p.Purpose != "acd" {
				return EndedCall{}, false // someone is still on the call
			}
		}
		if c.EndTime.IsZero() && p.EndTime.After(end) {
			end = p.EndTime
		}
		for k, v := range p.Attributes {
			if _, seen := call.Attributes[k]; !seen && v != "" {
				call.Attributes[k] = v
			}
		}
		if p.Queue != nil && p.Queue.ID != "" && !contains(call.QueueIDs, p.Queue.ID) {
			call.QueueIDs = append(call.QueueIDs, p.Queue.ID)
		}
		switch p.Purpose {
		case "customer":
			if custIdx < 0 {
				custIdx = i
			}
		case "external":
			if extIdx < 0 {
				extIdx = i
			}
		case "agent", "user":
			if p.User == nil || p.User.ID == "" || p.ConnectedTime.IsZero() {
				continue
			}
			if !contains(call.UserIDs, p.User.ID) {
				call.UserIDs = append(call.UserIDs, p.User.ID)
			}
			if start.IsZero() || p.ConnectedTime.Before(start) {
				start = p.ConnectedTime
			}
			if w := p.Wrapup; w != nil { // the last agent's wrap-up wins
				wrapCode, wrapName, wrapNotes = w.Code, w.Name, w.Notes
			}
		}
	}
	if len(call.UserIDs) == 0 || end.IsZero() {
		return EndedCall{}, false
	}
	if end.Before(start) {
		end = start
	}
	dir := c.Direction
	if custIdx < 0 && extIdx < 0 && dir == "" {
		dir = "internal"
	}
	party := custIdx
	if party < 0 {
		party = extIdx
	}
	phone := ""
	if party >= 0 {
		p := c.Participants[party]
		if dir == "outbound" {
			phone = first(p.Dnis, p.Address, p.Ani)
		} else {
			phone = first(p.Ani, p.Address, p.Dnis)
		}
	}
	phone = first(bareNumber(phone), call.Attributes["phoneNumber"])

	a := Activity{
		CallID:          c.ID,
		RecordType:      call.Attributes["crmRecordType"],
		RecordID:        call.Attributes["crmRecordId"],
		Direction:       dir,
		Disposition:     first(wrapName, wrapCode),
		DurationSeconds: int(end.Sub(start).Round(time.Second) / time.Second),
		Start:           start.UTC(),
		End:             end.UTC(),
		Phone:           phone,
	}
	a.Subject = planSubject(dir, phone) // as the screen-pop plan words it
	a.Description = wrapNotes
	if dir == "outbound" && call.Attributes["callDialer"] == "" {
		manual := strings.TrimSpace("Manual call to " + phone)
		if a.Description != "" {
			manual += "\n" + a.Description
		}
		a.Description = manual
	}
	call.Direction = dir
	call.Activity = a
	return call, true
}

// bareNumber strips a tel: or sip: scheme (and a sip host).
func bareNumber(addr string) string {
	for _, p := range []string{"tel:", "sip:"} {
		if strings.HasPrefix(addr, p) {
			addr = strings.TrimPrefix(addr, p)
			if p == "sip:" {
				addr, _, _ = strings.Cut(addr, "@")
			}
		}
	}
	return addr
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// RunActivityLog writes due logs until ctx ends: one goroutine that wakes
// when a log is enqueued and when the next pending log falls due (read
// from the table, on the service's clock). connectorFor gives the CRM of a
// call center. ErrRejected (from the connector or connectorFor) fails a log
// for good; any other error retries it with LogBackoff.
func (s *Service) RunActivityLog(ctx context.Context, connectorFor func(callCenterID string) (Connector, error)) {
	st := s.logs()
	for {
		next, err := s.writeDueLogs(ctx, connectorFor)
		if ctx.Err() != nil {
			return
		}
		now := s.clock.Now()
		if err != nil {
			next = now.Add(logDBRetry)
		}
		var timer interface{ Stop() bool }
		if !next.IsZero() {
			d := max(next.Sub(now), 10*time.Millisecond)
			timer = s.clock.AfterFunc(d, st.signal)
		}
		st.mu.Lock()
		st.busy = len(st.wake) > 0
		st.mu.Unlock()
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-st.wake:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

type logRow struct {
	id, callCenter, mode, payload string
	attempts                      int
	version, nextAt               int64
}

// writeDueLogs writes every due log and returns when the next one falls due
// (zero: none pending).
func (s *Service) writeDueLogs(ctx context.Context, connectorFor func(string) (Connector, error)) (time.Time, error) {
	for {
		rows, err := s.dueLogs(ctx)
		if err != nil {
			return time.Time{}, err
		}
		for _, r := range rows {
			if err := s.writeLog(ctx, r, connectorFor); err != nil {
				return time.Time{}, err
			}
		}
		if len(rows) < logBatch {
			break
		}
	}
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM crm_activity_logs WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, err
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return store.Time(next.Int64), nil
}

func (s *Service) dueLogs(ctx context.Context) ([]logRow, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT conversation_id, call_center_id, mode, payload, attempts, version, next_attempt_at
		FROM crm_activity_logs WHERE state = 'pending' AND next_attempt_at <= $1
		ORDER BY next_attempt_at, conversation_id LIMIT $2`, store.Millis(s.clock.Now()), logBatch)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []logRow
	for rs.Next() {
		var r logRow
		if err := rs.Scan(&r.id, &r.callCenter, &r.mode, &r.payload, &r.attempts, &r.version, &r.nextAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// writeLog takes one due row (a lease: another writer skips it meanwhile),
// writes it and records the outcome, unless the payload changed meanwhile
// (then the new payload is written when it falls due).
func (s *Service) writeLog(ctx context.Context, r logRow, connectorFor func(string) (Connector, error)) error {
	now := s.clock.Now()
	res, err := s.db.ExecContext(ctx, `UPDATE crm_activity_logs SET next_attempt_at = $1, modified_at = $2
		WHERE conversation_id = $3 AND state = 'pending' AND version = $4 AND next_attempt_at = $5`,
		store.Millis(now.Add(logLease)), store.Millis(now), r.id, r.version, r.nextAt)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}

	var id string
	var a Activity
	if err := json.Unmarshal([]byte(r.payload), &a); err != nil {
		err = fmt.Errorf("%w: stored payload: %v", ErrRejected, err)
		return s.logOutcome(ctx, r, "", err)
	}
	conn, err := connectorFor(r.callCenter)
	if err == nil && conn == nil {
		err = fmt.Errorf("%w: no connector for call center %q", ErrUnavailable, r.callCenter)
	}
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, logCallTimeout)
		if r.mode == ActivityVoiceCall {
			id, err = conn.CreateVoiceCall(cctx, voiceCallOf(a))
		} else {
			id, err = conn.LogActivity(cctx, a)
		}
		cancel()
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: leave the row to the lease (taken again after a restart).
		return ctx.Err()
	}
	return s.logOutcome(ctx, r, id, err)
}

func (s *Service) logOutcome(ctx context.Context, r logRow, id string, werr error) error {
	now := s.clock.Now()
	var err error
	switch {
	case werr == nil:
		_, err = s.db.ExecContext(ctx, `UPDATE crm_activity_logs SET state = 'written', attempts = attempts + 1, activity_id = $1,
			last_error = '', written_at = $2, next_attempt_at = 0, modified_at = $2 WHERE conversation_id = $3 AND version = $4`,
			id, store.Millis(now), r.id, r.version)
	case errors.Is(werr, ErrRejected):
		_, err = s.db.ExecContext(ctx, `UPDATE crm_activity_logs SET state = 'failed', attempts = attempts + 1, last_error = $1,
			next_attempt_at = 0, modified_at = $2 WHERE conversation_id = $3 AND version = $4`,
			truncate(werr.Error(), 2000), store.Millis(now), r.id, r.version)
	default:
		_, err = s.db.ExecContext(ctx, `UPDATE crm_activity_logs SET attempts = attempts + 1, last_error = $1,
			next_attempt_at = $2, modified_at = $3 WHERE conversation_id = $4 AND version = $5`,
			truncate(werr.Error(), 2000), store.Millis(now.Add(LogBackoff(r.attempts+1))), store.Millis(now), r.id, r.version)
	}
	return err
}

func isNotFound(err error) bool {
	var p *problem.Problem
	return errors.As(err, &p) && p.Kind == problem.NotFound
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func voiceCallOf(a Activity) VoiceCall {
	v := VoiceCall{CallID: a.CallID, RelatedRecordID: a.RecordID, Direction: a.Direction, Start: a.Start, End: a.End,
		DurationSeconds: a.DurationSeconds, Disposition: a.Disposition}
	if a.Direction == "outbound" {
		v.To = a.Phone
	} else {
		v.From = a.Phone
	}
	return v
}

// ActivityLog returns the log of a conversation (a not-found problem when
// it has none).
func (s *Service) ActivityLog(ctx context.Context, conversationID string) (LogStatus, error) {
	var st LogStatus
	var payload string
	var next, written, created, modified int64
	err := s.db.QueryRowContext(ctx, `SELECT conversation_id, call_center_id, mode, state, attempts, next_attempt_at, last_error,
			activity_id, payload, created_at, written_at, modified_at FROM crm_activity_logs WHERE conversation_id = $1`, conversationID).
		Scan(&st.ConversationID, &st.CallCenterID, &st.Mode, &st.State, &st.Attempts, &next, &st.LastError,
			&st.ActivityID, &payload, &created, &written, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return LogStatus{}, problem.NotFoundf("conversation %s has no activity log", conversationID)
	}
	if err != nil {
		return LogStatus{}, err
	}
	if st.State == LogPending {
		st.NextAttempt = store.Time(next)
	}
	if written != 0 {
		st.DateWritten = store.Time(written)
	}
	st.Created, st.Modified = store.Time(created), store.Time(modified)
	if err := json.Unmarshal([]byte(payload), &st.Activity); err != nil {
		return LogStatus{}, fmt.Errorf("crm: log %s payload: %w", conversationID, err)
	}
	return st, nil
}

// PendingLogs counts the logs not yet written (a gauge: a growing number
// means the CRM is not taking them).
func (s *Service) PendingLogs(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_activity_logs WHERE state = 'pending'`).Scan(&n)
	return n, err
}

// WriterIdle reports whether the activity-log writer is waiting with
// nothing to do: with a fake clock, tests wait for it after each Advance.
func (s *Service) WriterIdle() bool { return s.logs().idle() }
