-- +goose Up
-- Small facts about the installation itself, e.g. that the demo data was seeded.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE settings;
