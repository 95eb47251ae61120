-- +goose Up
-- Times are BIGINT epoch milliseconds (UTC) so one SQL text serves SQLite and
-- PostgreSQL; ids are lowercase UUID text.

CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,
    topic          TEXT NOT NULL,
    version        TEXT NOT NULL,
    body           TEXT NOT NULL,
    correlation_id TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    published_at   BIGINT
);
CREATE INDEX outbox_pending ON outbox (published_at, created_at);

CREATE TABLE inbox (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    department    TEXT NOT NULL DEFAULT '',
    title         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'active',
    roles         TEXT NOT NULL DEFAULT 'agent',
    password_hash TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    modified_at   BIGINT NOT NULL
);

CREATE TABLE oauth_clients (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    description          TEXT NOT NULL DEFAULT '',
    secret_hash          TEXT NOT NULL DEFAULT '',
    grant_type           TEXT NOT NULL,
    redirect_uris        TEXT NOT NULL DEFAULT '',
    roles                TEXT NOT NULL DEFAULT '',
    token_lifetime_s     INTEGER NOT NULL,
    state                TEXT NOT NULL DEFAULT 'active',
    builtin              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT NOT NULL,
    modified_at          BIGINT NOT NULL
);

-- Tokens are stored as SHA-256 of the bearer value, never the value itself.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    roles      TEXT NOT NULL,
    family     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tokens_expiry ON tokens (expires_at);
CREATE INDEX tokens_family ON tokens (family);

CREATE TABLE auth_codes (
    hash           TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    challenge      TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE stations (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    type          TEXT NOT NULL,
    secret        TEXT NOT NULL DEFAULT '',
    remote_number TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    modified_at   BIGINT NOT NULL
);

CREATE TABLE skills (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL DEFAULT 'active',
    version     INTEGER NOT NULL DEFAULT 1,
    modified_at BIGINT NOT NULL
);

CREATE TABLE user_skills (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id    TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    proficiency DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, skill_id)
);

CREATE TABLE queues (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL UNIQUE,
    description            TEXT NOT NULL DEFAULT '',
    alerting_timeout_s     INTEGER NOT NULL DEFAULT 8,
    sl_percentage          DOUBLE PRECISION NOT NULL DEFAULT 0.8,
    sl_duration_ms         INTEGER NOT NULL DEFAULT 20000,
    acw_prompt             TEXT NOT NULL DEFAULT 'OPTIONAL',
    acw_timeout_ms         INTEGER NOT NULL DEFAULT 0,
    skill_evaluation       TEXT NOT NULL DEFAULT 'ALL',
    routing_strategy       TEXT NOT NULL DEFAULT 'longest_idle',
    calling_party_name     TEXT NOT NULL DEFAULT '',
    calling_party_number   TEXT NOT NULL DEFAULT '',
    created_at             BIGINT NOT NULL,
    modified_at            BIGINT NOT NULL
);

CREATE TABLE queue_members (
    queue_id    TEXT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined      BOOLEAN NOT NULL DEFAULT TRUE,
    ring_number INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (queue_id, user_id)
);

CREATE TABLE wrapup_codes (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL DEFAULT '',
    subcategory TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE queue_wrapup_codes (
    queue_id TEXT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    code_id  TEXT NOT NULL REFERENCES wrapup_codes (id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, code_id)
);

-- System presences use the well-known ids every Genesys org shares; custom
-- break states carry a number and a label ("1 - Descanso").
CREATE TABLE presence_definitions (
    id              TEXT PRIMARY KEY,
    system_presence TEXT NOT NULL,
    label_en        TEXT NOT NULL,
    label_es        TEXT NOT NULL,
    break_number    INTEGER UNIQUE,
    is_primary      BOOLEAN NOT NULL DEFAULT FALSE,
    deactivated     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);

INSERT INTO presence_definitions (id, system_presence, label_en, label_es, is_primary, created_at, modified_at) VALUES
 ('6a3af858-942f-489d-9700-5f9bcdcdae9b', 'Available', 'Available', 'Disponible', TRUE, 0, 0),
 ('e08eaf1b-ee47-4fa9-a231-1200e284798f', 'On Queue', 'On Queue', 'En cola', TRUE, 0, 0),
 ('ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5', 'Offline', 'Offline', 'Desconectado', TRUE, 0, 0),
 ('31fe3bac-dea6-44b7-bed7-47f91660a1a0', 'Busy', 'Busy', 'Ocupado', TRUE, 0, 0),
 ('5e5c5c66-ea97-4e7f-ac41-6424784829f2', 'Away', 'Away', 'Ausente', TRUE, 0, 0),
 ('227b37e2-f1d0-4dd0-8f50-badd7cf6d158', 'Break', 'Break', 'Descanso', TRUE, 0, 0),
 ('3fd96123-badb-4f69-bc03-1b1ccc6d8014', 'Meal', 'Meal', 'Comida', TRUE, 0, 0),
 ('bbdff279-7ae1-48ea-bade-7831d7234c64', 'Meeting', 'Meeting', 'Reunión', TRUE, 0, 0),
 ('d2390a99-8546-bad9-8f0a-219548e8aeb0', 'Training', 'Training', 'Formación', TRUE, 0, 0),
 ('7ffa01cd-7866-4ad7-8faa-31e11b42f51f', 'Idle', 'Idle', 'Inactivo', TRUE, 0, 0);

-- +goose Down
DROP TABLE presence_definitions;
DROP TABLE queue_wrapup_codes;
DROP TABLE wrapup_codes;
DROP TABLE queue_members;
DROP TABLE queues;
DROP TABLE user_skills;
DROP TABLE skills;
DROP TABLE stations;
DROP TABLE auth_codes;
DROP TABLE tokens;
DROP TABLE oauth_clients;
DROP TABLE users;
DROP TABLE inbox;
DROP TABLE outbox;
