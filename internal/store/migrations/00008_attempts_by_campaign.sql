-- +goose Up
-- A restarted dialer reads back each campaign's live answers and abandons
-- of the last 30 days (the abandonment caps survive restarts).
CREATE INDEX contact_attempts_campaign ON contact_attempts (campaign_id, answered_at);

-- +goose Down
DROP INDEX contact_attempts_campaign;
