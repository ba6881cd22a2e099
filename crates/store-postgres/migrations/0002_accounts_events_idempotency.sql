-- Bank feed accounts, the event outbox, and idempotency keys.
-- Amounts are exact NUMERIC; the FI's descriptive fields are one JSON document (kept as text so
-- it reads back exactly as written, as on SQLite).

CREATE TABLE bank_feed_accounts (
    id                       UUID PRIMARY KEY,
    org_id                   UUID NOT NULL REFERENCES orgs (id),
    connection_id            UUID NOT NULL REFERENCES connections (id),
    internal_bank_account_id TEXT NOT NULL,
    parent_id                UUID REFERENCES bank_feed_accounts (id),
    bank_account_type        TEXT NOT NULL,
    currency_code            TEXT NOT NULL,
    feed_status              TEXT NOT NULL,
    transaction_ready        BOOLEAN NOT NULL,
    transaction_start_date   TIMESTAMPTZ,
    current_balance          NUMERIC,
    details                  TEXT NOT NULL,
    platform_data            TEXT,
    last_synced_at           TIMESTAMPTZ,
    newest_posted_at         TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ
);

CREATE UNIQUE INDEX bank_feed_accounts_internal_id_key
    ON bank_feed_accounts (connection_id, internal_bank_account_id) WHERE deleted_at IS NULL;
CREATE INDEX bank_feed_accounts_by_updated
    ON bank_feed_accounts (connection_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX bank_feed_accounts_by_synced
    ON bank_feed_accounts (connection_id, last_synced_at, id) WHERE deleted_at IS NULL;

CREATE TABLE events (
    seq           BIGSERIAL PRIMARY KEY,
    org_id        UUID NOT NULL,
    connection_id UUID,
    event_type    TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_by_org ON events (org_id, seq);

CREATE TABLE idempotency_keys (
    org_id      UUID NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, key)
);
