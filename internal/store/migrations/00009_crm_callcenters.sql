-- +goose Up
-- CRM call centers (internal/crm, SPEC 3.7): the options of a softphone on
-- one CRM connector. The options (general info, the seed's
-- neotelConfigOptions, layout, connector settings, extra XML sections) are
-- one JSON document; secrets are a JSON map of name to a value sealed with
-- the master key (secret.Box), never plaintext. Names are unique ignoring case.
CREATE TABLE crm_callcenters (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    connector   TEXT NOT NULL,
    options     TEXT NOT NULL DEFAULT '{}',
    secrets     TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX crm_callcenters_name ON crm_callcenters (lower(name));

-- +goose Down
DROP TABLE crm_callcenters;
