package conversation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// save writes the conversation and its events in one transaction: the
// conversation on v2.conversations.{id}, and for every user and queue in it
// on v2.users.{id}.conversations and v2.routing.queues.{id}.conversations,
// each also with its ".calls" (per media) variant.
func (s *Service) save(ctx context.Context, c *Conversation) error {
	c.Version++
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	state, queueID, enqueued := "active", "", int64(0)
	if c.Ended {
		state = "ended"
	}
	if a := c.waitingACD(); a != nil {
		queueID, enqueued = a.QueueID, store.Millis(a.Enqueued)
	}
	var end any
	if !c.EndTime.IsZero() {
		end = store.Millis(c.EndTime)
	}
	view := c.View(s.queueNames(ctx, c))
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, media_type, state, queue_id, enqueued_at, start_time, end_time, version, data, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET state = $3, queue_id = $4, enqueued_at = $5, end_time = $7, version = $8, data = $9, modified_at = $10`,
			c.ID, c.MediaType, state, queueID, enqueued, store.Millis(c.StartTime), end, c.Version, string(data), store.Millis(s.clock.Now()))
		if err != nil {
			return err
		}
		for _, u := range c.users() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_users (conversation_id, user_id, active) VALUES ($1, $2, $3)
				ON CONFLICT (conversation_id, user_id) DO UPDATE SET active = $3`, c.ID, u, c.activeFor(u)); err != nil {
				return err
			}
		}
		// Each topic also has its per-media variant (calls), as the platform's.
		topics := []string{"v2.conversations." + c.ID, "v2.conversations.calls." + c.ID}
		for _, u := range c.users() {
			topics = append(topics, "v2.users."+u+".conversations", "v2.users."+u+".conversations.calls")
		}
		for _, q := range c.queues() {
			topics = append(topics, "v2.routing.queues."+q+".conversations", "v2.routing.queues."+q+".conversations.calls")
		}
		for _, t := range topics {
			if err := s.events.Add(ctx, tx, t, view); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads a stored conversation.
func (s *Service) load(ctx context.Context, id string) (*Conversation, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT data FROM conversations WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, problem.NotFoundf("conversation %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	c := &Conversation{}
	if err := json.Unmarshal([]byte(data), c); err != nil {
		return nil, err
	}
	return c, nil
}

// loadActive reads every conversation not ended.
func (s *Service) loadActive(ctx context.Context) ([]*Conversation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM conversations WHERE state = 'active' ORDER BY start_time, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Conversation
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		c := &Conversation{}
		if err := json.Unmarshal([]byte(data), c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// IsParticipant reports whether a user is or was in a conversation (the
// notification hub's participant rule).
func (s *Service) IsParticipant(ctx context.Context, conversationID, userID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversation_users WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID).Scan(&n)
	return n > 0, err
}
