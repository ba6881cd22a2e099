-- Statement balances per day (issue 17): how many of the account's transactions were posted on
-- a balance report's `posted_through` day when the FI reported, so a sync can tell whether the
-- report is still the bank's closing of that day (`domain::statement_close`): it is when no
-- line of that day was stored after it. NULL for reports made before this migration. The index
-- serves that count, a range of one day of one account.
ALTER TABLE balance_reports ADD COLUMN lines_on_day INTEGER;
CREATE INDEX transactions_by_account_posted ON transactions (account_id, posted_at);
