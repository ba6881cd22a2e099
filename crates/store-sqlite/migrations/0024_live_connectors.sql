-- Live delivery to platforms' own APIs (issue 16, Xero first).
--
-- Every secret here (app credentials, OAuth tokens) is sealed by the server's key ring
-- (`secrets_key`): base64 text of an AEAD ciphertext bound to its row and purpose.

-- Per organisation and platform: the built-in sandbox (default, no row) or live, with the
-- platform app's credentials.
CREATE TABLE platform_connectors (
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    platform             TEXT NOT NULL,
    mode                 TEXT NOT NULL,
    client_id_sealed     TEXT,
    client_secret_sealed TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (org_id, platform)
);

-- A connection's consent on the platform: the tenant (Xero organisation) chosen and its tokens.
-- `token_version` grows with each refresh, so two instances refreshing at once cannot both
-- store (the refresh token rotates: the loser's is already spent).
CREATE TABLE live_tenants (
    connection_id     TEXT PRIMARY KEY REFERENCES connections (id),
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    platform          TEXT NOT NULL,
    tenant_id         TEXT NOT NULL,
    tokens_sealed     TEXT NOT NULL,
    access_expires_at INTEGER NOT NULL,
    token_version     INTEGER NOT NULL,
    state             TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- A bank feed account delivered live: its feed connection on the platform and the state the
-- FI sees (pending, active, rejected, stopped, reauthorization_required) with an error code.
CREATE TABLE live_feeds (
    account_id         TEXT PRIMARY KEY REFERENCES bank_feed_accounts (id),
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    connection_id      TEXT NOT NULL REFERENCES connections (id),
    feed_connection_id TEXT,
    state              TEXT NOT NULL,
    error_code         TEXT,
    error_detail       TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX live_feeds_by_connection ON live_feeds (connection_id);

-- Statements cut from a live feed's new transactions, delivered in the background: queued,
-- sent (Xero has it, PENDING), delivered or rejected. A claim leases one to an instance by
-- name until `lease_until`; only the oldest unfinished statement of an account is claimable,
-- so an account's statements go in order. `body` is the JSON sent (no secrets); the row's id
-- is the Idempotency-Key, so a retry is never a second statement.
CREATE TABLE live_statements (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    account_id           TEXT NOT NULL REFERENCES bank_feed_accounts (id),
    connection_id        TEXT NOT NULL REFERENCES connections (id),
    status               TEXT NOT NULL,
    body                 TEXT NOT NULL,
    line_count           INTEGER NOT NULL,
    first_transaction_id TEXT NOT NULL,
    last_transaction_id  TEXT NOT NULL,
    start_balance        TEXT NOT NULL,
    end_balance          TEXT NOT NULL,
    platform_statement_id TEXT,
    error_code           TEXT,
    attempts             INTEGER NOT NULL,
    due_at               INTEGER NOT NULL,
    lease_holder         TEXT,
    lease_until          INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX live_statements_by_account ON live_statements (account_id, id);
CREATE INDEX live_statements_due ON live_statements (status, due_at);
