package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Queue is an ACD queue and its routing settings.
type Queue struct {
	ID                     string
	Name                   string
	Description            string
	AlertingTimeoutSeconds int
	ServiceLevelPercentage float64 // 0..1
	ServiceLevelDurationMs int
	ACWPrompt              string // MANDATORY, OPTIONAL, MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT, AGENT_REQUESTED
	ACWTimeoutMs           int
	SkillEvaluation        string // NONE, BEST, ALL
	RoutingStrategy        string
	CallingPartyName       string
	CallingPartyNumber     string
	// ACD settings (Centralita extensions of the platform's queue).
	OverflowAfterMs      int            // with OverflowQueueID: a call still waiting this long moves there
	OverflowQueueID      string         // "" = no overflow
	Bullseye             []BullseyeRing // sorted by AfterMs, thresholds non-increasing; used by the bullseye strategy
	PreferredAgentWaitMs int            // preferred_agent: how long a call waits for its preferred agents
	SkillIDs             []string       // skills every interaction entering the queue requires
	MemberCount          int
	JoinedMemberCount    int
	Created, Modified    time.Time

	// Waiting audio (queueaudio.go): prompt names, "" = the defaults.
	WaitPrompt, HoldMusic string
}

// BullseyeRing is one ring of the bullseye strategy: from AfterMs in the
// queue on, agents whose proficiency in every required skill is at least
// MinProficiency may take the call. The first ring starts at 0.
type BullseyeRing struct {
	AfterMs        int     `json:"afterMs"`
	MinProficiency float64 `json:"minProficiency"`
}

// Bounds of the ACD settings of a queue.
const (
	MaxQueueWaitMs   = 86400000 // overflow, bullseye ring and preferred-agent times: at most a day
	MaxBullseyeRings = 6
	MaxQueueSkills   = 20
)

// Routing strategies the ACD implements.
var RoutingStrategies = []string{"longest_idle", "least_occupied", "round_robin", "skills_best_match", "preferred_agent", "bullseye"}

var acwPrompts = []string{"MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"}

// QueueDefaults are the settings of a queue created with only a name.
func QueueDefaults() Queue {
	return Queue{AlertingTimeoutSeconds: 8, ServiceLevelPercentage: 0.8, ServiceLevelDurationMs: 20000,
		ACWPrompt: "OPTIONAL", SkillEvaluation: "ALL", RoutingStrategy: "longest_idle"}
}

func (q *Queue) validate(c *problem.Collector) {
	q.Name = strings.TrimSpace(q.Name)
	checkText(c, "name", q.Name, true)
	if len(q.Description) > 1000 {
		c.Add("description", "must be at most 1000 characters")
	}
	if q.AlertingTimeoutSeconds < 7 || q.AlertingTimeoutSeconds > 900 {
		c.Add("mediaSettings.call.alertingTimeoutSeconds", "must be between 7 and 900 seconds, got %d", q.AlertingTimeoutSeconds)
	}
	if q.ServiceLevelPercentage < 0 || q.ServiceLevelPercentage > 1 {
		c.Add("mediaSettings.call.serviceLevel.percentage", "must be between 0 and 1, got %v", q.ServiceLevelPercentage)
	}
	if q.ServiceLevelDurationMs < 1000 || q.ServiceLevelDurationMs > 86400000 {
		c.Add("mediaSettings.call.serviceLevel.durationMs", "must be between 1000 and 86400000, got %d", q.ServiceLevelDurationMs)
	}
	if !slices.Contains(acwPrompts, q.ACWPrompt) {
		c.Add("acwSettings.wrapupPrompt", "must be one of %v, got %q", acwPrompts, q.ACWPrompt)
	}
	if q.ACWTimeoutMs < 0 || q.ACWTimeoutMs > 86400000 {
		c.Add("acwSettings.timeoutMs", "must be between 0 and 86400000, got %d", q.ACWTimeoutMs)
	}
	if (q.ACWPrompt == "MANDATORY_TIMEOUT" || q.ACWPrompt == "MANDATORY_FORCED_TIMEOUT") && q.ACWTimeoutMs == 0 {
		c.Add("acwSettings.timeoutMs", "is required when wrapupPrompt is %s", q.ACWPrompt)
	}
	if !slices.Contains([]string{"NONE", "BEST", "ALL"}, q.SkillEvaluation) {
		c.Add("skillEvaluationMethod", "must be NONE, BEST or ALL, got %q", q.SkillEvaluation)
	}
	if !slices.Contains(RoutingStrategies, q.RoutingStrategy) {
		c.Add("routingStrategy", "must be one of %v, got %q", RoutingStrategies, q.RoutingStrategy)
	}
	checkText(c, "callingPartyName", q.CallingPartyName, false)
	checkText(c, "callingPartyNumber", q.CallingPartyNumber, false)
	q.validateRouting(c)
	q.validateAudio(c)
}

// validateRouting checks the ACD settings that need no lookup; field names
// are the API's (times in seconds there).
func (q *Queue) validateRouting(c *problem.Collector) {
	switch {
	case q.OverflowQueueID == "" && q.OverflowAfterMs != 0:
		c.Add("overflow.queueId", "is required when overflow.afterSeconds is set")
	case q.OverflowQueueID != "" && (q.OverflowAfterMs < 1000 || q.OverflowAfterMs > MaxQueueWaitMs):
		c.Add("overflow.afterSeconds", "must be between 1 and %d seconds when overflow.queueId is set, got %s", MaxQueueWaitMs/1000, seconds(q.OverflowAfterMs))
	}
	if q.OverflowQueueID != "" && q.OverflowQueueID == q.ID {
		c.Add("overflow.queueId", "a queue cannot overflow into itself")
	}
	if len(q.Bullseye) > MaxBullseyeRings {
		c.Add("bullseye.rings", "at most %d rings, got %d", MaxBullseyeRings, len(q.Bullseye))
	}
	for i, r := range q.Bullseye {
		f := "bullseye.rings[" + strconv.Itoa(i) + "]."
		switch {
		case i == 0 && r.AfterMs != 0:
			c.Add(f+"afterSeconds", "the first ring starts at 0 seconds, got %s", seconds(r.AfterMs))
		case i > 0 && (r.AfterMs <= q.Bullseye[i-1].AfterMs || r.AfterMs > MaxQueueWaitMs):
			c.Add(f+"afterSeconds", "must be after the previous ring's (%s) and at most %d seconds, got %s",
				seconds(q.Bullseye[i-1].AfterMs), MaxQueueWaitMs/1000, seconds(r.AfterMs))
		}
		switch {
		case math.IsNaN(r.MinProficiency) || r.MinProficiency < 0 || r.MinProficiency > 5:
			c.Add(f+"minProficiency", "must be between 0 and 5, got %v", r.MinProficiency)
		case i > 0 && r.MinProficiency > q.Bullseye[i-1].MinProficiency:
			c.Add(f+"minProficiency", "must not be above the previous ring's (%v): rings only widen, got %v", q.Bullseye[i-1].MinProficiency, r.MinProficiency)
		}
	}
	if q.PreferredAgentWaitMs < 0 || q.PreferredAgentWaitMs > MaxQueueWaitMs {
		c.Add("preferredAgentWaitSeconds", "must be between 0 and %d seconds, got %s", MaxQueueWaitMs/1000, seconds(q.PreferredAgentWaitMs))
	}
	// Repeated skills count once.
	var ids []string
	for _, id := range q.SkillIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	q.SkillIDs = ids
	if len(q.SkillIDs) > MaxQueueSkills {
		c.Add("skillIds", "at most %d skills, got %d", MaxQueueSkills, len(q.SkillIDs))
	}
}

// checkReferences checks, inside the writing transaction, that the overflow
// queue and the skills exist.
func (q *Queue) checkReferences(ctx context.Context, tx *store.Tx, c *problem.Collector) error {
	if id := q.OverflowQueueID; id != "" && id != q.ID {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM queues WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			c.Add("overflow.queueId", "queue %s does not exist", id)
		}
	}
	if len(q.SkillIDs) > MaxQueueSkills {
		return nil // reported already
	}
	for i, id := range q.SkillIDs {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM skills WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			c.Add("skillIds["+strconv.Itoa(i)+"]", "skill %s does not exist", id)
		}
	}
	return nil
}

// seconds renders milliseconds as seconds for messages.
func seconds(ms int) string { return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + " s" }

// CreateQueue adds a queue with the settings in q, which are all validated
// (a zero setting is not replaced by its default): start from QueueDefaults.
func (s *Service) CreateQueue(ctx context.Context, q Queue) (Queue, error) {
	q.ID = ""
	var c problem.Collector
	q.validate(&c)
	if err := s.checkAudio(ctx, &q, &c); err != nil {
		return Queue{}, err
	}
	id := uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := q.checkReferences(ctx, tx, &c); err != nil {
			return err
		}
		if err := c.Err(); err != nil {
			return err
		}
		q.ID = id
		rings, skills := marshalRouting(q)
		_, err := tx.ExecContext(ctx, `INSERT INTO queues (id, name, description, alerting_timeout_s, sl_percentage, sl_duration_ms, acw_prompt, acw_timeout_ms,
			skill_evaluation, routing_strategy, calling_party_name, calling_party_number, overflow_after_ms, overflow_queue_id, bullseye_rings,
			preferred_agent_wait_ms, skill_ids, created_at, modified_at, wait_prompt, hold_music)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19, $20)`,
			q.ID, q.Name, q.Description, q.AlertingTimeoutSeconds, q.ServiceLevelPercentage, q.ServiceLevelDurationMs, q.ACWPrompt, q.ACWTimeoutMs,
			q.SkillEvaluation, q.RoutingStrategy, q.CallingPartyName, q.CallingPartyNumber, q.OverflowAfterMs, q.OverflowQueueID, rings,
			q.PreferredAgentWaitMs, skills, now, q.WaitPrompt, q.HoldMusic)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a queue named %q already exists", q.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.queues."+q.ID, Change{Action: "created", Entity: "queue", ID: q.ID, Name: q.Name})
	})
	if err != nil {
		return Queue{}, err
	}
	return s.GetQueue(ctx, id)
}

// UpdateQueue replaces a queue's settings.
func (s *Service) UpdateQueue(ctx context.Context, id string, q Queue) (Queue, error) {
	if _, err := s.GetQueue(ctx, id); err != nil {
		return Queue{}, err
	}
	q.ID = id
	var c problem.Collector
	q.validate(&c)
	if err := s.checkAudio(ctx, &q, &c); err != nil {
		return Queue{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := q.checkReferences(ctx, tx, &c); err != nil {
			return err
		}
		if err := c.Err(); err != nil {
			return err
		}
		rings, skills := marshalRouting(q)
		_, err := tx.ExecContext(ctx, `UPDATE queues SET name = $1, description = $2, alerting_timeout_s = $3, sl_percentage = $4, sl_duration_ms = $5,
			acw_prompt = $6, acw_timeout_ms = $7, skill_evaluation = $8, routing_strategy = $9, calling_party_name = $10, calling_party_number = $11,
			overflow_after_ms = $12, overflow_queue_id = $13, bullseye_rings = $14, preferred_agent_wait_ms = $15, skill_ids = $16, modified_at = $17,
			wait_prompt = $19, hold_music = $20
			WHERE id = $18`,
			q.Name, q.Description, q.AlertingTimeoutSeconds, q.ServiceLevelPercentage, q.ServiceLevelDurationMs, q.ACWPrompt, q.ACWTimeoutMs,
			q.SkillEvaluation, q.RoutingStrategy, q.CallingPartyName, q.CallingPartyNumber,
			q.OverflowAfterMs, q.OverflowQueueID, rings, q.PreferredAgentWaitMs, skills, store.Millis(s.clock.Now()), id, q.WaitPrompt, q.HoldMusic)
		if store.IsUniqueViolation(err) {
			return problem.Duplicatef("name", "a queue named %q already exists", q.Name)
		}
		if err != nil {
			return err
		}
		return s.change(ctx, tx, "v2.directory.queues."+id, Change{Action: "updated", Entity: "queue", ID: id, Name: q.Name})
	})
	if err != nil {
		return Queue{}, err
	}
	return s.GetQueue(ctx, id)
}

// marshalRouting encodes the JSON columns of the ACD settings.
func marshalRouting(q Queue) (rings, skills string) {
	r, _ := json.Marshal(append([]BullseyeRing{}, q.Bullseye...))
	k, _ := json.Marshal(append([]string{}, q.SkillIDs...))
	return string(r), string(k)
}

// DeleteQueue removes a queue and its memberships; queues that overflowed
// into it no longer overflow (each gets its change event).
func (s *Service) DeleteQueue(ctx context.Context, id string) error {
	q, err := s.GetQueue(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		type ref struct{ id, name string }
		var refs []ref
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM queues WHERE overflow_queue_id = $1 AND id <> $1 ORDER BY name`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.id, &r.name); err != nil {
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
			if _, err := tx.ExecContext(ctx, `UPDATE queues SET overflow_queue_id = '', overflow_after_ms = 0, modified_at = $1 WHERE id = $2`,
				store.Millis(s.clock.Now()), r.id); err != nil {
				return err
			}
		}
		for _, stmt := range []string{`DELETE FROM queue_members WHERE queue_id = $1`, `DELETE FROM queue_wrapup_codes WHERE queue_id = $1`, `DELETE FROM queues WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, stmt, id); err != nil {
				return err
			}
		}
		if err := s.change(ctx, tx, "v2.directory.queues."+id, Change{Action: "deleted", Entity: "queue", ID: id, Name: q.Name}); err != nil {
			return err
		}
		for _, r := range refs {
			if err := s.change(ctx, tx, "v2.directory.queues."+r.id, Change{Action: "updated", Entity: "queue", ID: r.id, Name: r.name}); err != nil {
				return err
			}
		}
		return nil
	})
}

const queueColumns = `q.id, q.name, q.description, q.alerting_timeout_s, q.sl_percentage, q.sl_duration_ms, q.acw_prompt, q.acw_timeout_ms,
	q.skill_evaluation, q.routing_strategy, q.calling_party_name, q.calling_party_number, q.created_at, q.modified_at,
	q.overflow_after_ms, q.overflow_queue_id, q.bullseye_rings, q.preferred_agent_wait_ms, q.skill_ids, q.wait_prompt, q.hold_music,
	(SELECT COUNT(*) FROM queue_members m WHERE m.queue_id = q.id),
	(SELECT COUNT(*) FROM queue_members m WHERE m.queue_id = q.id AND m.joined)`

func scanQueue(row interface{ Scan(...any) error }) (Queue, error) {
	var q Queue
	var created, modified int64
	var rings, skills string
	err := row.Scan(&q.ID, &q.Name, &q.Description, &q.AlertingTimeoutSeconds, &q.ServiceLevelPercentage, &q.ServiceLevelDurationMs,
		&q.ACWPrompt, &q.ACWTimeoutMs, &q.SkillEvaluation, &q.RoutingStrategy, &q.CallingPartyName, &q.CallingPartyNumber,
		&created, &modified, &q.OverflowAfterMs, &q.OverflowQueueID, &rings, &q.PreferredAgentWaitMs, &skills, &q.WaitPrompt, &q.HoldMusic,
		&q.MemberCount, &q.JoinedMemberCount)
	if err != nil {
		return Queue{}, err
	}
	q.Created, q.Modified = store.Time(created), store.Time(modified)
	if err := json.Unmarshal([]byte(rings), &q.Bullseye); err != nil {
		return Queue{}, fmt.Errorf("queue %s: bullseye rings: %w", q.ID, err)
	}
	if err := json.Unmarshal([]byte(skills), &q.SkillIDs); err != nil {
		return Queue{}, fmt.Errorf("queue %s: skill ids: %w", q.ID, err)
	}
	if len(q.Bullseye) == 0 {
		q.Bullseye = nil
	}
	if len(q.SkillIDs) == 0 {
		q.SkillIDs = nil
	}
	return q, nil
}

// GetQueue returns a queue by id.
func (s *Service) GetQueue(ctx context.Context, id string) (Queue, error) {
	q, err := scanQueue(s.db.QueryRowContext(ctx, `SELECT `+queueColumns+` FROM queues q WHERE q.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Queue{}, problem.NotFoundf("queue %s not found", id)
	}
	return q, err
}

// QueueFilter narrows ListQueues.
type QueueFilter struct {
	Name       string // * wildcards allowed
	IDs        []string
	Descending bool
}

// ListQueues returns a page of queues sorted by name, and the total.
func (s *Service) ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, int, error) {
	cond, args := "", []any{}
	add := func(w string) {
		if cond == "" {
			cond = " WHERE " + w
		} else {
			cond += " AND " + w
		}
	}
	if f.Name != "" {
		args = append(args, likePattern(f.Name))
		add(`q.name LIKE $1 ESCAPE '\'`)
	}
	if len(f.IDs) > 0 {
		add("q.id IN (" + placeholders(len(args)+1, len(f.IDs)) + ")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM queues q`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := " ORDER BY q.name"
	if f.Descending {
		order = " ORDER BY q.name DESC"
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT `+queueColumns+` FROM queues q`+cond+order+` LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Queue
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, q)
	}
	return out, total, rows.Err()
}

// Member is a user's membership in a queue.
type Member struct {
	UserID     string
	Name       string
	Joined     bool
	RingNumber int
}

// MaxMembersPerRequest bounds one add/remove/patch call, as the platform API does.
const MaxMembersPerRequest = 100

// ListMembers returns a page of a queue's members sorted by name.
func (s *Service) ListMembers(ctx context.Context, queueID string, joined *bool, p Page) ([]Member, int, error) {
	if _, err := s.GetQueue(ctx, queueID); err != nil {
		return nil, 0, err
	}
	cond, args := " WHERE m.queue_id = $1", []any{queueID}
	if joined != nil {
		cond, args = cond+" AND m.joined = $2", append(args, *joined)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue_members m`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	rows, err := s.db.QueryContext(ctx, `SELECT m.user_id, u.name, m.joined, m.ring_number FROM queue_members m JOIN users u ON u.id = m.user_id`+cond+
		` ORDER BY u.name, u.id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.UserID, &m.Name, &m.Joined, &m.RingNumber); err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

func (s *Service) checkMemberIDs(ctx context.Context, userIDs []string) error {
	var c problem.Collector
	if len(userIDs) == 0 {
		c.Add("body", "at least one member is required")
	}
	if len(userIDs) > MaxMembersPerRequest {
		c.Add("body", "at most %d members per request, got %d", MaxMembersPerRequest, len(userIDs))
	}
	if err := c.Err(); err != nil {
		return err
	}
	for i, id := range userIDs {
		u, err := s.GetUser(ctx, id)
		if err != nil || u.State == "deleted" {
			c.Add("["+strconv.Itoa(i)+"].id", "user %s does not exist", id)
		}
	}
	return c.Err()
}

// AddMembers adds users to a queue (joined); existing members are kept.
func (s *Service) AddMembers(ctx context.Context, queueID string, userIDs []string) error {
	if _, err := s.GetQueue(ctx, queueID); err != nil {
		return err
	}
	if err := s.checkMemberIDs(ctx, userIDs); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range userIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO queue_members (queue_id, user_id, joined, ring_number) VALUES ($1, $2, TRUE, 1) ON CONFLICT DO NOTHING`, queueID, id); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, "v2.routing.queues."+queueID+".users", Change{Action: "updated", Entity: "queuemembers", ID: queueID})
	})
}

// RemoveMembers takes users out of a queue.
func (s *Service) RemoveMembers(ctx context.Context, queueID string, userIDs []string) error {
	if _, err := s.GetQueue(ctx, queueID); err != nil {
		return err
	}
	if len(userIDs) == 0 || len(userIDs) > MaxMembersPerRequest {
		return problem.Invalidf("body", "give 1 to %d members", MaxMembersPerRequest)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range userIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM queue_members WHERE queue_id = $1 AND user_id = $2`, queueID, id); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, "v2.routing.queues."+queueID+".users", Change{Action: "updated", Entity: "queuemembers", ID: queueID})
	})
}

// SetJoined sets whether members take calls from the queue.
func (s *Service) SetJoined(ctx context.Context, queueID string, joined map[string]bool) error {
	if _, err := s.GetQueue(ctx, queueID); err != nil {
		return err
	}
	if len(joined) == 0 || len(joined) > MaxMembersPerRequest {
		return problem.Invalidf("body", "give 1 to %d members", MaxMembersPerRequest)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for id, j := range joined {
			res, err := tx.ExecContext(ctx, `UPDATE queue_members SET joined = $1 WHERE queue_id = $2 AND user_id = $3`, j, queueID, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return problem.Invalidf("id", "user %s is not a member of queue %s", id, queueID)
			}
		}
		return s.change(ctx, tx, "v2.routing.queues."+queueID+".users", Change{Action: "updated", Entity: "queuemembers", ID: queueID})
	})
}

// UserQueues lists the queues a user belongs to.
func (s *Service) UserQueues(ctx context.Context, userID string, p Page) ([]Queue, int, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM queue_members WHERE user_id = $1`, userID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+queueColumns+` FROM queues q JOIN queue_members um ON um.queue_id = q.id AND um.user_id = $1 ORDER BY q.name LIMIT $2 OFFSET $3`,
		userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Queue
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, q)
	}
	return out, total, rows.Err()
}
