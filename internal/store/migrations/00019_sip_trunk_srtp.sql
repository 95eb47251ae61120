-- +goose Up
-- A trunk may encrypt its calls' audio (internal/trunk, docs/telephony.md):
-- with srtp, calls out through it offer SRTP with SDES keys (RFC 4568) and
-- need the carrier to answer SRTP. Only with transport 'tls' (the keys are
-- in the SDP); every trunk so far was plain RTP.
ALTER TABLE sip_trunks ADD COLUMN srtp BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE sip_trunks DROP COLUMN srtp;
