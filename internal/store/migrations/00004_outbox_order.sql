-- +goose Up
-- Events written in the same millisecond must still be relayed in the order
-- they were written (a conversation's updates follow each other closely):
-- seq numbers the rows as they are inserted and breaks created_at ties.
ALTER TABLE outbox ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_seq ON outbox (seq);

-- +goose Down
DROP INDEX outbox_seq;
ALTER TABLE outbox DROP COLUMN seq;
