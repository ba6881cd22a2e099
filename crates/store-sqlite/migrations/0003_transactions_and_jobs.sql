-- Transactions (immutable facts keyed by account and the FI's transaction_id) and jobs (the
-- durable queue of batches, one at a time per account, in arrival order).

CREATE TABLE transactions (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL,
    connection_id     TEXT NOT NULL,
    account_id        TEXT NOT NULL REFERENCES bank_feed_accounts (id),
    transaction_id    TEXT NOT NULL,
    posted_at         INTEGER NOT NULL,
    transaction_date  INTEGER,
    amount            TEXT NOT NULL,
    description       TEXT,
    memo              TEXT,
    payee             TEXT,
    transaction_type  TEXT,
    debit_credit_memo TEXT,
    interest_amount   TEXT,
    principal_amount  TEXT,
    platform_ingested INTEGER NOT NULL DEFAULT 0,
    ingested_at       INTEGER,
    job_id            TEXT,
    created_at        INTEGER NOT NULL,
    CONSTRAINT transactions_account_transaction_id_key UNIQUE (account_id, transaction_id)
);
CREATE INDEX transactions_by_connection ON transactions (connection_id, id);
CREATE INDEX transactions_by_account ON transactions (account_id, id);

CREATE TABLE jobs (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    org_id            TEXT NOT NULL,
    connection_id     TEXT NOT NULL,
    account_id        TEXT,
    status            TEXT NOT NULL,
    request           TEXT NOT NULL,
    response_status   INTEGER,
    response_body     TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    locked_until      INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
-- The queue: unfinished jobs in arrival order, per account.
CREATE INDEX jobs_unfinished ON jobs (account_id, seq) WHERE status IN ('prequeued', 'pending');
