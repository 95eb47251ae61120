-- +goose Up
-- What each campaign's pacer learnt (hit rate, answer delays, handle
-- time), so a restart or the next shift starts from it, not from nothing.
CREATE TABLE dialer_models (
    campaign_id TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE dialer_models;
