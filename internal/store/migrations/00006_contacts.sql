-- +goose Up
-- Outbound contact data (internal/contact). Schemas keep their fields and
-- disposition tree as JSON; a list names one schema (no cascade: a schema
-- in use cannot be deleted). Contacts keep the schema's values as a JSON
-- object (data) and their normalized phones both as JSON (phones) and one
-- row per number in contact_phones (find-or-create by the caller's number).
-- search is the lowercased values joined by newlines, for the q filter.
-- next_attempt_at 0 = none; ord orders contacts created in the same
-- millisecond (an import keeps the file's order).
CREATE TABLE contact_schemas (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    fields       TEXT NOT NULL,
    match_by     TEXT NOT NULL DEFAULT 'key',
    dispositions TEXT NOT NULL DEFAULT '[]',
    created_at   BIGINT NOT NULL,
    modified_at  BIGINT NOT NULL
);

CREATE TABLE contact_lists (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    schema_id       TEXT NOT NULL REFERENCES contact_schemas (id),
    default_country TEXT NOT NULL DEFAULT 'ES',
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
CREATE INDEX contact_lists_schema ON contact_lists (schema_id);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    list_id         TEXT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    contact_key     TEXT NOT NULL DEFAULT '',
    phones          TEXT NOT NULL DEFAULT '{}',
    data            TEXT NOT NULL DEFAULT '{}',
    search          TEXT NOT NULL DEFAULT '',
    time_zone       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'new',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_outcome    TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',
    subcategory     TEXT NOT NULL DEFAULT '',
    campaign_id     TEXT NOT NULL DEFAULT '',
    ord             BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
-- Keys are unique in a list; contacts without a key (find-or-create with a
-- hidden number and no data) may be many.
CREATE UNIQUE INDEX contacts_key ON contacts (list_id, contact_key) WHERE contact_key <> '';
-- What Due reads: a list's dialable contacts by next attempt, then order.
CREATE INDEX contacts_due ON contacts (list_id, status, next_attempt_at, ord);
CREATE INDEX contacts_order ON contacts (list_id, ord);

CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    list_id    TEXT NOT NULL,
    phone      TEXT NOT NULL,
    PRIMARY KEY (contact_id, phone)
);
CREATE INDEX contact_phones_lookup ON contact_phones (list_id, phone);

CREATE TABLE contact_attempts (
    id              TEXT PRIMARY KEY,
    contact_id      TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id     TEXT NOT NULL DEFAULT '',
    conversation_id TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL,
    agent_id        TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',
    subcategory     TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    started_at      BIGINT NOT NULL DEFAULT 0,
    answered_at     BIGINT NOT NULL DEFAULT 0,
    ended_at        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX contact_attempts_contact ON contact_attempts (contact_id, started_at);

CREATE TABLE dnc_lists (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE dnc_numbers (
    list_id    TEXT NOT NULL REFERENCES dnc_lists (id) ON DELETE CASCADE,
    phone      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, phone)
);
CREATE INDEX dnc_numbers_phone ON dnc_numbers (phone);

-- +goose Down
DROP TABLE dnc_numbers;
DROP TABLE dnc_lists;
DROP TABLE contact_attempts;
DROP TABLE contact_phones;
DROP TABLE contacts;
DROP TABLE contact_lists;
DROP TABLE contact_schemas;
