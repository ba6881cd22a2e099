-- Live Xero, the customer's side (issue 16): consents on their way, and the feed connections
-- to delete at the platform.

-- A consent on its way through Xero's authorization-code flow with PKCE, keyed by the digest of
-- its OAuth `state`: bound to the browser that asked (the link binding's digest), accepted
-- once on the way back (`called_back_at`), then holding the tokens (sealed) and the Xero
-- organisations they cover while the customer chooses, until completed.
CREATE TABLE live_consents (
    state_hash      TEXT PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES orgs (id),
    connection_id   UUID NOT NULL REFERENCES connections (id),
    platform        TEXT NOT NULL,
    browser_hash    TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    tokens_sealed   TEXT,
    tenants         TEXT NOT NULL,
    tenant_id       TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    called_back_at  TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ
);
CREATE INDEX live_consents_by_connection ON live_consents (connection_id);

-- The outbox of `POST /FeedConnections/DeleteRequests`: written in the transaction that
-- deletes or unlinks an account (or deletes its connection) and removes its live feed, drained
-- by the live worker under a lease, so a crash between the two loses no request.
CREATE TABLE live_feed_deletions (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs (id),
    connection_id UUID NOT NULL REFERENCES connections (id),
    account_id    UUID NOT NULL REFERENCES bank_feed_accounts (id),
    attempts      INTEGER NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    lease_holder  TEXT,
    lease_until   TIMESTAMPTZ,
    done_at       TIMESTAMPTZ,
    outcome       TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX live_feed_deletions_due ON live_feed_deletions (due_at) WHERE done_at IS NULL;
