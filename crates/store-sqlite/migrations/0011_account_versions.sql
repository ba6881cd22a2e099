-- A count of the changes to each bank feed account and to its transactions.
--
-- A batch is worked out (its account and stored rows looked up, checked, its answer rendered)
-- on a read snapshot while other batches write, and written under the write lock only if its
-- account's version is still the one it was worked out from; otherwise it is worked out again
-- under the lock. Every change to an account's row bumps the version (the trigger), and every
-- write to an account's transactions updates the account's row in the same transaction
-- (`newest_posted_at` when a batch inserts, `last_synced_at` when a platform ingests), so the
-- version covers those too. New writes to `transactions` must keep that rule.
ALTER TABLE bank_feed_accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER bank_feed_accounts_version AFTER UPDATE ON bank_feed_accounts
WHEN NEW.version = OLD.version
BEGIN
    UPDATE bank_feed_accounts SET version = OLD.version + 1 WHERE id = NEW.id;
END;
