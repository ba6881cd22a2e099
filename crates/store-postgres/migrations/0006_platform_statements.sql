-- What the sandbox platforms ingested: one row per statement (a run of an account's
-- transactions in storage order, at most the platform's chunk size), with the balances the
-- platform shows. A transaction's statement is the one whose id range holds it.

CREATE TABLE statements (
    id                   UUID PRIMARY KEY,
    company_id           UUID NOT NULL REFERENCES companies (id),
    account_id           UUID NOT NULL REFERENCES bank_feed_accounts (id),
    ingested_at          TIMESTAMPTZ NOT NULL,
    transaction_count    INTEGER NOT NULL,
    first_transaction_id UUID NOT NULL,
    last_transaction_id  UUID NOT NULL,
    opening_balance      NUMERIC NOT NULL,
    closing_balance      NUMERIC NOT NULL
);
CREATE INDEX statements_by_account ON statements (account_id, id);
