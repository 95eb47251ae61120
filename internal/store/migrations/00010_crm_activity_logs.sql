-- +goose Up
-- The CRM activity log (internal/crm/activitylog.go): one row per ended call
-- with an agent, keyed by the conversation. payload is the crm.Activity as
-- JSON; mode is how it is written (the call center's activity mode: task or
-- voicecall). version counts
-- the payload's rewrites: a writer marks the row written only if the payload
-- it wrote is still the current one. next_attempt_at is when the writer
-- takes it next (the grace period, a retry's backoff, or a writer's lease);
-- times are epoch milliseconds, written_at 0 = not yet.
CREATE TABLE crm_activity_logs (
    conversation_id TEXT PRIMARY KEY,
    call_center_id  TEXT NOT NULL DEFAULT '',
    mode            TEXT NOT NULL DEFAULT 'task',
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    activity_id     TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    written_at      BIGINT NOT NULL DEFAULT 0,
    modified_at     BIGINT NOT NULL
);
-- What the writer reads: due pending rows in order.
CREATE INDEX crm_activity_logs_due ON crm_activity_logs (state, next_attempt_at);

-- +goose Down
DROP INDEX crm_activity_logs_due;
DROP TABLE crm_activity_logs;
