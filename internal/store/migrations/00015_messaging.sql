-- +goose Up
-- Outbound text messages (SMS, WhatsApp, Open Messaging) sent through a
-- messaging integration's webhook (internal/messaging). An integration is
-- the Open Messaging shape: a webhook URL, its signing secret (sealed with
-- the master key; never returned), custom headers and the messenger types
-- it carries, as JSON text.
CREATE TABLE messaging_integrations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    webhook_url     TEXT NOT NULL,
    secret          TEXT NOT NULL DEFAULT '',
    headers         TEXT NOT NULL DEFAULT '{}',
    messenger_types TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'Active',
    created_by      TEXT NOT NULL DEFAULT '',
    modified_by     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX messaging_integrations_name ON messaging_integrations (lower(name));

-- One row per message, written with its event; a single writer delivers
-- due rows to the webhook (state pending → delivered | failed), retrying
-- with backoff. payload is the exact webhook body, fixed when the message
-- was accepted, so a retry sends the same bytes (and the same signature).
-- Times are epoch milliseconds; delivered_at 0 = not yet.
CREATE TABLE messaging_messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    integration_id  TEXT NOT NULL,
    from_address    TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    messenger_type  TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    status_code     INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0,
    modified_at     BIGINT NOT NULL
);
CREATE INDEX messaging_messages_due ON messaging_messages (state, next_attempt_at);

-- +goose Down
DROP INDEX messaging_messages_due;
DROP TABLE messaging_messages;
DROP INDEX messaging_integrations_name;
DROP TABLE messaging_integrations;
