-- +goose Up
-- Operators' own prompts (internal/prompt, docs/telephony.md "Prompts and
-- music"): audio the switch plays by name — queue waiting messages, music
-- on hold, a campaign's abandon message. A prompt named like a built-in one
-- (moh, queue-wait, abandon, echo) replaces it. audio is the WAV file as
-- uploaded (8 kHz mono 16-bit PCM, at most 10 MB), NULL until uploaded;
-- samples is its length in samples. Names are unique.
CREATE TABLE prompts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    audio       BYTEA,
    samples     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX prompts_name ON prompts (name);

-- A queue's waiting audio (internal/conversation/queueaudio.go): the prompt
-- a waiting caller hears once, then the music looped until an agent takes
-- the call. '' = the built-in defaults (queue-wait, moh).
ALTER TABLE queues ADD COLUMN wait_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN hold_music TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE queues DROP COLUMN hold_music;
ALTER TABLE queues DROP COLUMN wait_prompt;
DROP TABLE prompts;
