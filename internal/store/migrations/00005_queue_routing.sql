-- +goose Up
-- The ACD settings of a queue beyond its strategy: overflow to another queue
-- after a wait (0 / '' = none), bullseye rings (JSON [{"afterMs","minProficiency"}],
-- sorted by afterMs), how long a call waits for its preferred agents, and the
-- skills every interaction entering the queue requires (JSON [skill id]).
-- overflow_queue_id has no foreign key (SQLite cannot add one with a default):
-- deleting a queue clears the overflow of the queues that pointed at it.
ALTER TABLE queues ADD COLUMN overflow_after_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN overflow_queue_id TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN bullseye_rings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE queues ADD COLUMN preferred_agent_wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN skill_ids TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE queues DROP COLUMN skill_ids;
ALTER TABLE queues DROP COLUMN preferred_agent_wait_ms;
ALTER TABLE queues DROP COLUMN bullseye_rings;
ALTER TABLE queues DROP COLUMN overflow_queue_id;
ALTER TABLE queues DROP COLUMN overflow_after_ms;
