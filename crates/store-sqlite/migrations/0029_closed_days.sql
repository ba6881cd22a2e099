-- Closed days (issue 17): day ranges an FI declared closed, with no transactions, for an
-- account (`POST …/accounts/{id}/closed_days`). The continuity report lists them, and the stale
-- rule (`domain::continuity::gaps`) does not count them as silence. Days are `YYYY-MM-DD` text
-- in both engines (they sort as dates); both ends included.
CREATE TABLE closed_days (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    account_id    TEXT NOT NULL REFERENCES bank_feed_accounts (id),
    from_day      TEXT NOT NULL,
    to_day        TEXT NOT NULL,
    declared_at   INTEGER NOT NULL,
    CONSTRAINT closed_days_account_range_key UNIQUE (account_id, from_day, to_day)
);
