-- Transactions (immutable facts keyed by account and the FI's transaction_id) and jobs (the
-- durable queue of batches, one at a time per account, in arrival order).

CREATE TABLE transactions (
    id                UUID PRIMARY KEY,
    org_id            UUID NOT NULL,
    connection_id     UUID NOT NULL,
    account_id        UUID NOT NULL REFERENCES bank_feed_accounts (id),
    transaction_id    TEXT NOT NULL,
    posted_at         TIMESTAMPTZ NOT NULL,
    transaction_date  TIMESTAMPTZ,
    amount            NUMERIC NOT NULL,
    description       TEXT,
    memo              TEXT,
    payee             TEXT,
    transaction_type  TEXT,
    debit_credit_memo TEXT,
    interest_amount   NUMERIC,
    principal_amount  NUMERIC,
    platform_ingested BOOLEAN NOT NULL DEFAULT FALSE,
    ingested_at       TIMESTAMPTZ,
    job_id            UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT transactions_account_transaction_id_key UNIQUE (account_id, transaction_id)
);
CREATE INDEX transactions_by_connection ON transactions (connection_id, id);
CREATE INDEX transactions_by_account ON transactions (account_id, id);

CREATE TABLE jobs (
    seq               BIGSERIAL PRIMARY KEY,
    id                UUID NOT NULL UNIQUE,
    org_id            UUID NOT NULL,
    connection_id     UUID NOT NULL,
    account_id        UUID,
    status            TEXT NOT NULL,
    request           TEXT NOT NULL,
    response_status   INTEGER,
    response_body     TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    locked_until      TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ
);
CREATE INDEX jobs_unfinished ON jobs (account_id, seq) WHERE status IN ('prequeued', 'pending');
