-- Balance continuity (issue 17): every balance an FI reports with a batch, compared with the
-- previous reported balance plus the new transactions stored since (`domain::continuity`),
-- written in the batch's own transaction; and, on the account, the amounts of the new
-- transactions stored since the last report, which the next report is checked against.
-- (Changing `unreported_amount` bumps the account's `version`, migration 0011, as every batch
-- that records a report also moves `newest_posted_at`.)
ALTER TABLE bank_feed_accounts ADD COLUMN unreported_amount TEXT NOT NULL DEFAULT '0';

CREATE TABLE balance_reports (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL,
    connection_id       TEXT NOT NULL,
    account_id          TEXT NOT NULL REFERENCES bank_feed_accounts (id),
    job_id              TEXT NOT NULL,
    -- 1, 2, … per account, in the order the batches were applied.
    seq                 INTEGER NOT NULL,
    balance_before      TEXT,
    unreported_amount   TEXT NOT NULL,
    batch_amount        TEXT NOT NULL,
    expected            TEXT,
    reported            TEXT NOT NULL,
    difference          TEXT NOT NULL,
    is_break            INTEGER NOT NULL,
    posted_through      INTEGER,
    created_at          INTEGER NOT NULL,
    acknowledged_at     INTEGER,
    acknowledged_reason TEXT,
    CONSTRAINT balance_reports_account_seq_key UNIQUE (account_id, seq)
);
