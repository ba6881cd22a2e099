-- Webhooks (issue 15).
--
-- The events feed pages by (tx, seq). On PostgreSQL `tx` is the writing transaction's id (see
-- that migration for why); SQLite's one writer commits in `seq` order, so `tx` stays 0 here.
ALTER TABLE events ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_feed ON events (org_id, tx, seq);

-- An organisation's webhook endpoints. `secret` is the signing key itself (`whsec_` + base64):
-- the hub must sign with it, so it cannot be hashed (see ARCHITECTURE.md).
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    url         TEXT NOT NULL,
    -- Wire names separated by spaces; empty means every kind.
    event_types TEXT NOT NULL,
    description TEXT,
    status      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (org_id, id);
