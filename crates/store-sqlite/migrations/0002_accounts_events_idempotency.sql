-- Bank feed accounts, the event outbox, and idempotency keys.
-- Amounts are exact decimal text; the FI's descriptive fields are one JSON document.

CREATE TABLE bank_feed_accounts (
    id                       TEXT PRIMARY KEY NOT NULL,
    org_id                   TEXT NOT NULL REFERENCES orgs (id),
    connection_id            TEXT NOT NULL REFERENCES connections (id),
    internal_bank_account_id TEXT NOT NULL,
    parent_id                TEXT REFERENCES bank_feed_accounts (id),
    bank_account_type        TEXT NOT NULL,
    currency_code            TEXT NOT NULL,
    feed_status              TEXT NOT NULL,
    transaction_ready        INTEGER NOT NULL,
    transaction_start_date   INTEGER,
    current_balance          TEXT,
    details                  TEXT NOT NULL,
    platform_data            TEXT,
    last_synced_at           INTEGER,
    newest_posted_at         INTEGER,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    deleted_at               INTEGER
);

-- One live account per FI account id on a connection.
CREATE UNIQUE INDEX bank_feed_accounts_internal_id_key
    ON bank_feed_accounts (connection_id, internal_bank_account_id) WHERE deleted_at IS NULL;
CREATE INDEX bank_feed_accounts_by_updated
    ON bank_feed_accounts (connection_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX bank_feed_accounts_by_synced
    ON bank_feed_accounts (connection_id, last_synced_at, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        TEXT NOT NULL,
    connection_id TEXT,
    event_type    TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX events_by_org ON events (org_id, seq);

CREATE TABLE idempotency_keys (
    org_id      TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);
