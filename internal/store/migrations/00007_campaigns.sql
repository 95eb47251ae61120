-- +goose Up
-- Campaigns (internal/campaign). Settings that are lists or trees (contact
-- and do-not-call list ids, transfer numbers, calling hours, retry rules)
-- are JSON; campaign_lists repeats the list ids one per row so the contact
-- store can ask whether a list is in use. Names are unique ignoring case,
-- numbers unique. No foreign keys to other packages' tables: lists, queues
-- and users are checked through their services.
CREATE TABLE campaigns (
    id                              TEXT PRIMARY KEY,
    name                            TEXT NOT NULL,
    number                          INTEGER NOT NULL,
    direction                       TEXT NOT NULL,
    dialing_mode                    TEXT NOT NULL DEFAULT '',
    power_ratio                     DOUBLE PRECISION NOT NULL DEFAULT 0,
    schema_id                       TEXT NOT NULL DEFAULT '',
    queue_id                        TEXT NOT NULL DEFAULT '',
    inbound_list_id                 TEXT NOT NULL DEFAULT '',
    contact_list_ids                TEXT NOT NULL DEFAULT '[]',
    dnc_list_ids                    TEXT NOT NULL DEFAULT '[]',
    transfer_numbers                TEXT NOT NULL DEFAULT '[]',
    calling_hours                   TEXT NOT NULL DEFAULT '{}',
    retry_rules                     TEXT NOT NULL DEFAULT '[]',
    max_attempts                    INTEGER NOT NULL DEFAULT 3,
    caller_id                       TEXT NOT NULL DEFAULT '',
    abandon_cap_percent             DOUBLE PRECISION NOT NULL DEFAULT 3,
    ring_timeout_s                  INTEGER NOT NULL DEFAULT 25,
    abandon_prompt                  TEXT NOT NULL DEFAULT '',
    allow_release_without_category  BOOLEAN NOT NULL DEFAULT TRUE,
    auto_release_s                  INTEGER NOT NULL DEFAULT -1,
    state                           TEXT NOT NULL DEFAULT 'off',
    created_at                      BIGINT NOT NULL,
    modified_at                     BIGINT NOT NULL
);
CREATE UNIQUE INDEX campaigns_name ON campaigns (lower(name));
CREATE UNIQUE INDEX campaigns_number ON campaigns (number);
CREATE INDEX campaigns_running ON campaigns (direction, state);

-- kind: contact (dialed or the inbound list) or dnc.
CREATE TABLE campaign_lists (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    list_id     TEXT NOT NULL,
    PRIMARY KEY (campaign_id, kind, list_id)
);
CREATE INDEX campaign_lists_list ON campaign_lists (kind, list_id);

-- Login_Campaign: one outbound campaign per agent at a time.
CREATE TABLE campaign_agents (
    user_id      TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    logged_in_at BIGINT NOT NULL
);
CREATE INDEX campaign_agents_campaign ON campaign_agents (campaign_id, logged_in_at);

-- The agenda. user_id '' = owned by the campaign. created_by '' = an
-- application. state: scheduled, placing, done, missed, cancelled.
CREATE TABLE callbacks (
    id              TEXT PRIMARY KEY,
    campaign_id     TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id      TEXT NOT NULL,
    phone           TEXT NOT NULL,
    at              BIGINT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
CREATE INDEX callbacks_due ON callbacks (state, at);
CREATE INDEX callbacks_campaign ON callbacks (campaign_id, at);
CREATE INDEX callbacks_user ON callbacks (user_id, at);
CREATE INDEX callbacks_contact ON callbacks (contact_id, state);

-- +goose Down
DROP TABLE callbacks;
DROP TABLE campaign_agents;
DROP TABLE campaign_lists;
DROP TABLE campaigns;
