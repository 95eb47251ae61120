-- +goose Up
-- A trunk may REGISTER with its carrier (internal/trunk, docs/telephony.md)
-- so that the carrier knows where to send its calls: register_enabled turns
-- it on, register_expires is the binding time asked for, in seconds
-- (60-86400).
ALTER TABLE sip_trunks ADD COLUMN register_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sip_trunks ADD COLUMN register_expires INTEGER NOT NULL DEFAULT 3600;

-- +goose Down
ALTER TABLE sip_trunks DROP COLUMN register_expires;
ALTER TABLE sip_trunks DROP COLUMN register_enabled;
