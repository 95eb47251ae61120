package campaign

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// AgentLogin is an agent logged into an outbound campaign.
type AgentLogin struct {
	UserID     string    `json:"userId"`
	CampaignID string    `json:"campaignId"`
	LoggedIn   time.Time `json:"dateLoggedIn"`
}

// AgentChange is the body of v2.outbound.campaigns.{id}.agents.
type AgentChange struct {
	UserID   string `json:"userId"`
	LoggedIn bool   `json:"loggedIn"`
}

// UserCampaign is the body of v2.users.{userId}.outboundcampaign: the
// campaign the user is logged into, "" when none.
type UserCampaign struct {
	CampaignID string `json:"campaignId"`
}

// Login logs userID into an outbound campaign (Login_Campaign), moving them
// out of the one they were in; logging into the same campaign again changes
// nothing. An unknown campaign is NotFound, an inbound one Invalid
// (campaignId), an unknown user NotFound.
func (s *Service) Login(ctx context.Context, campaignID, userID string) (AgentLogin, error) {
	_, _, users, err := s.deps()
	if err != nil {
		return AgentLogin{}, err
	}
	c, err := s.Get(ctx, campaignID)
	if err != nil {
		return AgentLogin{}, err
	}
	if c.Direction != Outbound {
		return AgentLogin{}, problem.Coded(problem.Invalid, "campaign.not.outbound", "campaignId",
			"campaign %d - %s is inbound: agents log into outbound campaigns only", c.Number, c.Name)
	}
	if err := users.UserExists(ctx, userID); err != nil {
		return AgentLogin{}, err
	}
	var out AgentLogin
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The campaign may have gone since it was read.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = $1 AND direction = 'outbound'`, campaignID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return problem.NotFoundf("campaign %s not found", campaignID)
		}
		cur, ok, err := s.loginOf(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		if ok && cur.CampaignID == campaignID {
			out = cur
			return nil
		}
		out = AgentLogin{UserID: userID, CampaignID: campaignID, LoggedIn: s.now()}
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_agents (user_id, campaign_id, logged_in_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET campaign_id = excluded.campaign_id, logged_in_at = excluded.logged_in_at`,
			userID, campaignID, store.Millis(out.LoggedIn)); err != nil {
			return err
		}
		if ok {
			if err := s.events.Add(ctx, tx, agentsTopic(cur.CampaignID), AgentChange{UserID: userID, LoggedIn: false}); err != nil {
				return err
			}
		}
		if err := s.events.Add(ctx, tx, agentsTopic(campaignID), AgentChange{UserID: userID, LoggedIn: true}); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, userTopic(userID), UserCampaign{CampaignID: campaignID})
	})
	if err != nil {
		return AgentLogin{}, err
	}
	return out, nil
}

// Logout logs userID out of the campaign (Logout_Campaign). Not being
// logged into it is no error; an unknown campaign is NotFound.
func (s *Service) Logout(ctx context.Context, campaignID, userID string) error {
	if _, err := s.Get(ctx, campaignID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM campaign_agents WHERE user_id = $1 AND campaign_id = $2`, userID, campaignID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.loggedOut(ctx, tx, campaignID, userID)
	})
}

func (s *Service) loggedOut(ctx context.Context, tx *store.Tx, campaignID, userID string) error {
	if err := s.events.Add(ctx, tx, agentsTopic(campaignID), AgentChange{UserID: userID, LoggedIn: false}); err != nil {
		return err
	}
	return s.events.Add(ctx, tx, userTopic(userID), UserCampaign{CampaignID: ""})
}

// logoutAll logs every agent out of a campaign, with the events.
func (s *Service) logoutAll(ctx context.Context, tx *store.Tx, campaignID string) error {
	logins, err := agentLogins(ctx, tx, campaignID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_agents WHERE campaign_id = $1`, campaignID); err != nil {
		return err
	}
	for _, l := range logins {
		if err := s.loggedOut(ctx, tx, campaignID, l.UserID); err != nil {
			return err
		}
	}
	return nil
}

// loginOf returns the campaign login of a user; lock takes the row on
// PostgreSQL so two logins of one user queue (SQLite writers queue anyway).
func (s *Service) loginOf(ctx context.Context, q store.Querier, userID string, lock bool) (AgentLogin, bool, error) {
	query := `SELECT user_id, campaign_id, logged_in_at FROM campaign_agents WHERE user_id = $1`
	if lock && s.db.Dialect == store.Postgres {
		query += ` FOR UPDATE`
	}
	var l AgentLogin
	var at int64
	err := q.QueryRowContext(ctx, query, userID).Scan(&l.UserID, &l.CampaignID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentLogin{}, false, nil
	}
	if err != nil {
		return AgentLogin{}, false, err
	}
	l.LoggedIn = store.Time(at)
	return l, true, nil
}

func agentLogins(ctx context.Context, q store.Querier, campaignID string) ([]AgentLogin, error) {
	rows, err := q.QueryContext(ctx, `SELECT user_id, campaign_id, logged_in_at FROM campaign_agents WHERE campaign_id = $1
		ORDER BY logged_in_at, user_id`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AgentLogin
	for rows.Next() {
		var l AgentLogin
		var at int64
		if err := rows.Scan(&l.UserID, &l.CampaignID, &at); err != nil {
			return nil, err
		}
		l.LoggedIn = store.Time(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// AgentLogins returns who is logged into a campaign, first logged in first.
func (s *Service) AgentLogins(ctx context.Context, campaignID string) ([]AgentLogin, error) {
	if _, err := s.Get(ctx, campaignID); err != nil {
		return nil, err
	}
	return agentLogins(ctx, s.db, campaignID)
}

// Agents returns the ids of the users logged into a campaign.
func (s *Service) Agents(ctx context.Context, campaignID string) ([]string, error) {
	logins, err := agentLogins(ctx, s.db, campaignID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = l.UserID
	}
	return out, nil
}

// AgentCampaign returns the campaign a user is logged into, "" when none.
func (s *Service) AgentCampaign(ctx context.Context, userID string) (string, error) {
	l, _, err := s.loginOf(ctx, s.db, userID, false)
	return l.CampaignID, err
}

// AgentLogin returns a user's campaign login and whether there is one.
func (s *Service) AgentLogin(ctx context.Context, userID string) (AgentLogin, bool, error) {
	return s.loginOf(ctx, s.db, userID, false)
}
