-- +goose Up
-- SIP trunks (internal/trunk, docs/telephony.md): where customer calls come
-- from and outbound calls go. The password is sealed with the master key
-- (secret.Box), never stored in clear. Names are unique ignoring case.
CREATE TABLE sip_trunks (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    address         TEXT NOT NULL,
    username        TEXT NOT NULL DEFAULT '',
    password        TEXT NOT NULL DEFAULT '',
    default_country TEXT NOT NULL DEFAULT '',
    caller_id       TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX sip_trunks_name ON sip_trunks (lower(name));

-- A trunk's inbound numbers (DIDs) and the queue each reaches. A number
-- belongs to one trunk at most.
CREATE TABLE sip_trunk_dids (
    number   TEXT PRIMARY KEY,
    trunk_id TEXT NOT NULL REFERENCES sip_trunks (id) ON DELETE CASCADE,
    queue_id TEXT NOT NULL
);
CREATE INDEX sip_trunk_dids_trunk ON sip_trunk_dids (trunk_id);

-- +goose Down
DROP TABLE sip_trunk_dids;
DROP TABLE sip_trunks;
