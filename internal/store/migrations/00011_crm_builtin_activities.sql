-- +goose Up
-- The activity log of the built-in CRM (internal/crm/builtin): one row per
-- call and kind ('task' = LogActivity, 'voicecall' = CreateVoiceCall),
-- upserted by the call id so that logging a call again rewrites its row.
-- contact_id is the contact the call was about ('' when none); no foreign
-- key: the log outlives a deleted contact. Times are Unix milliseconds.
CREATE TABLE crm_builtin_activities (
    call_id          TEXT NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'task',
    contact_id       TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    disposition      TEXT NOT NULL DEFAULT '',
    direction        TEXT NOT NULL DEFAULT '',
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    phone            TEXT NOT NULL DEFAULT '',
    owner_id         TEXT NOT NULL DEFAULT '',
    started_at       BIGINT NOT NULL DEFAULT 0,
    ended_at         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    modified_at      BIGINT NOT NULL,
    PRIMARY KEY (call_id, kind)
);
CREATE INDEX crm_builtin_activities_contact ON crm_builtin_activities (contact_id, started_at);

-- +goose Down
DROP TABLE crm_builtin_activities;
