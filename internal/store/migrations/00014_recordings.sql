-- +goose Up
-- Call recordings (internal/recording): one row per recorded stretch of a
-- participant's leg. The audio is a stereo WAV file (left: what the party
-- said, right: what it heard) in the recordings directory; file is its
-- name there.
CREATE TABLE recordings (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    participant_id  TEXT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    file            TEXT NOT NULL,
    start_time      BIGINT NOT NULL,
    end_time        BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX recordings_conversation ON recordings (conversation_id, start_time);
CREATE UNIQUE INDEX recordings_file ON recordings (file);

-- +goose Down
DROP TABLE recordings;
