package directory

import (
	"context"
	"database/sql"
	"errors"
	"slices"
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
	MemberCount            int
	JoinedMemberCount      int
	Created, Modified      time.Time
}

// Routing strategies the ACD implements.
var RoutingStrategies = []string{"longest_idle", "least_occupied", "round_robin", "skills_best_match", "preferred_agent", "bullseye"}

var acwPrompts = []string{"MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"}

// QueueDefaults are the settings of a queue created with only a name.
func QueueDefaults() Queue {
	return Queue{AlertingTimeoutSeconds: 8, ServiceLevelPercentage: 0.8, ServiceLevelDurationMs: 20000,
		ACWPrompt: "OPTIONAL", SkillEvaluation: "ALL", RoutingStrategy: "longest_idle"}
}

func (q *Queue) validate() error {
	var c problem.Collector
	q.Name = trimmed(q.Name)
	checkText(&c, "name", q.Name, true)
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
	checkText(&c, "callingPartyName", q.CallingPartyName, false)
	checkText(&c, "callingPartyNumber", q.CallingPartyNumber, false)
	return c.Err()
}

// CreateQueue adds a queue with the settings in q, which are all validated
// (a zero setting is not replaced by its default): start from QueueDefaults.
func (s *Service) CreateQueue(ctx context.Context, q Queue) (Queue, error) {
	if err := q.validate(); err != nil {
		return Queue{}, err
	}
	q.ID = uuid.NewString()
	now := store.Millis(s.clock.Now())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO queues (id, name, description, alerting_timeout_s, sl_percentage, sl_duration_ms, acw_prompt, acw_timeout_ms,
			skill_evaluation, routing_strategy, calling_party_name, calling_party_number, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			q.ID, q.Name, q.Description, q.AlertingTimeoutSeconds, q.ServiceLevelPercentage, q.ServiceLevelDurationMs, q.ACWPrompt, q.ACWTimeoutMs,
			q.SkillEvaluation, q.RoutingStrategy, q.CallingPartyName, q.CallingPartyNumber, now)
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
	return s.GetQueue(ctx, q.ID)
}

// UpdateQueue replaces a queue's settings.
func (s *Service) UpdateQueue(ctx context.Context, id string, q Queue) (Queue, error) {
	if _, err := s.GetQueue(ctx, id); err != nil {
		return Queue{}, err
	}
	if err := q.validate(); err != nil {
		return Queue{}, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE queues SET name = $1, description = $2, alerting_timeout_s = $3, sl_percentage = $4, sl_duration_ms = $5,
			acw_prompt = $6, acw_timeout_ms = $7, skill_evaluation = $8, routing_strategy = $9, calling_party_name = $10, calling_party_number = $11, modified_at = $12
			WHERE id = $13`,
			q.Name, q.Description, q.AlertingTimeoutSeconds, q.ServiceLevelPercentage, q.ServiceLevelDurationMs, q.ACWPrompt, q.ACWTimeoutMs,
			q.SkillEvaluation, q.RoutingStrategy, q.CallingPartyName, q.CallingPartyNumber, store.Millis(s.clock.Now()), id)
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

// DeleteQueue removes a queue and its memberships.
func (s *Service) DeleteQueue(ctx context.Context, id string) error {
	q, err := s.GetQueue(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, stmt := range []string{`DELETE FROM queue_members WHERE queue_id = $1`, `DELETE FROM queue_wrapup_codes WHERE queue_id = $1`, `DELETE FROM queues WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, stmt, id); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, "v2.directory.queues."+id, Change{Action: "deleted", Entity: "queue", ID: id, Name: q.Name})
	})
}

const queueColumns = `q.id, q.name, q.description, q.alerting_timeout_s, q.sl_percentage, q.sl_duration_ms, q.acw_prompt, q.acw_timeout_ms,
	q.skill_evaluation, q.routing_strategy, q.calling_party_name, q.calling_party_number, q.created_at, q.modified_at,
	(SELECT COUNT(*) FROM queue_members m WHERE m.queue_id = q.id),
	(SELECT COUNT(*) FROM queue_members m WHERE m.queue_id = q.id AND m.joined)`

func scanQueue(row interface{ Scan(...any) error }) (Queue, error) {
	var q Queue
	var created, modified int64
	err := row.Scan(&q.ID, &q.Name, &q.Description, &q.AlertingTimeoutSeconds, &q.ServiceLevelPercentage, &q.ServiceLevelDurationMs,
		&q.ACWPrompt, &q.ACWTimeoutMs, &q.SkillEvaluation, &q.RoutingStrategy, &q.CallingPartyName, &q.CallingPartyNumber,
		&created, &modified, &q.MemberCount, &q.JoinedMemberCount)
	q.Created, q.Modified = store.Time(created), store.Time(modified)
	return q, err
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+queueColumns+` FROM queues q`+cond+order+` LIMIT $`+itoa(n+1)+` OFFSET $`+itoa(n+2), append(args, p.Limit, p.Offset)...)
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
		` ORDER BY u.name, u.id LIMIT $`+itoa(n+1)+` OFFSET $`+itoa(n+2), append(args, p.Limit, p.Offset)...)
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
			c.Add("["+itoa(i)+"].id", "user %s does not exist", id)
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
