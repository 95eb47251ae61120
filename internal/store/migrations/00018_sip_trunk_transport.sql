-- +goose Up
-- A trunk's SIP transport (internal/trunk, docs/telephony.md): 'udp' (what
-- every trunk spoke before) or 'tls' (RFC 3261 section 26, port 5061 by
-- default; needs the switch's sip_tls_listen).
ALTER TABLE sip_trunks ADD COLUMN transport TEXT NOT NULL DEFAULT 'udp';

-- +goose Down
ALTER TABLE sip_trunks DROP COLUMN transport;
