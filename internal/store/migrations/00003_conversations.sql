-- +goose Up
-- Agent sessions: the station an agent is logged into, the chosen presence
-- and the derived routing status. A station serves one agent at a time (the
-- unique index; several NULLs are allowed by both engines).
CREATE TABLE agent_sessions (
    user_id              TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    station_id           TEXT UNIQUE,
    station_name         TEXT NOT NULL DEFAULT '',
    station_since        BIGINT NOT NULL DEFAULT 0,
    presence_id          TEXT NOT NULL,
    presence_message     TEXT NOT NULL DEFAULT '',
    presence_modified    BIGINT NOT NULL,
    not_responding       BOOLEAN NOT NULL DEFAULT FALSE,
    routing_status       TEXT NOT NULL DEFAULT 'OFF_QUEUE',
    routing_status_start BIGINT NOT NULL
);

-- Conversations are stored as a JSON document (participants, segments,
-- attributes, wrap-up) with the columns needed to find them: the live ones,
-- the ones waiting in a queue (rebuilt into the ACD on restart).
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    media_type  TEXT NOT NULL DEFAULT 'call',
    state       TEXT NOT NULL,
    queue_id    TEXT NOT NULL DEFAULT '',
    enqueued_at BIGINT NOT NULL DEFAULT 0,
    start_time  BIGINT NOT NULL,
    end_time    BIGINT,
    version     INTEGER NOT NULL,
    data        TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX conversations_state ON conversations (state, start_time);

-- Which users take part in which conversation; active while the user still
-- has something to do in it (a live call or a pending wrap-up).
CREATE TABLE conversation_users (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_users_user ON conversation_users (user_id, active);

-- +goose Down
DROP TABLE conversation_users;
DROP TABLE conversations;
DROP TABLE agent_sessions;
