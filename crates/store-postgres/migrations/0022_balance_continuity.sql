-- Balance continuity (issue 17): every balance an FI reports with a batch, compared with the
-- previous reported balance plus the new transactions stored since (`domain::continuity`),
-- written in the batch's own transaction; and, on the account, the amounts of the new
-- transactions stored since the last report, which the next report is checked against.
ALTER TABLE bank_feed_accounts ADD COLUMN unreported_amount NUMERIC NOT NULL DEFAULT 0;

CREATE TABLE balance_reports (
    id                  UUID PRIMARY KEY,
    org_id              UUID NOT NULL,
    connection_id       UUID NOT NULL,
    account_id          UUID NOT NULL REFERENCES bank_feed_accounts (id),
    job_id              UUID NOT NULL,
    -- 1, 2, … per account, in the order the batches were applied.
    seq                 BIGINT NOT NULL,
    balance_before      NUMERIC,
    unreported_amount   NUMERIC NOT NULL,
    batch_amount        NUMERIC NOT NULL,
    expected            NUMERIC,
    reported            NUMERIC NOT NULL,
    difference          NUMERIC NOT NULL,
    is_break            BOOLEAN NOT NULL,
    posted_through      TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    acknowledged_at     TIMESTAMPTZ,
    acknowledged_reason TEXT,
    CONSTRAINT balance_reports_account_seq_key UNIQUE (account_id, seq)
);
