-- Webhooks (issue 15).
--
-- The events feed pages by (tx, seq): `tx` is the id of the transaction that wrote the event.
-- A sequence hands out `seq` before commit, so a later `seq` can commit first; paging by `seq`
-- alone could step past an event still in flight. The feed lists only events whose transaction
-- is older than the oldest one still running (`pg_snapshot_xmin`), and every transaction from
-- then on gets a larger id, so nothing can appear behind a cursor. Rows from before this
-- migration get 0: they were all committed long ago.
ALTER TABLE events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_feed ON events (org_id, tx, seq);

-- An organisation's webhook endpoints. `secret` is the signing key itself (`whsec_` + base64):
-- the hub must sign with it, so it cannot be hashed (see ARCHITECTURE.md).
CREATE TABLE webhook_endpoints (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs (id),
    url         TEXT NOT NULL,
    -- Wire names separated by spaces; empty means every kind.
    event_types TEXT NOT NULL,
    description TEXT,
    status      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (org_id, id);
