-- Sandbox statements are periods by posting date (issue 17, `domain::statement`): each
-- statement covers one posting day (`YYYY-MM-DD` text, as closed days; NULL for statements cut
-- by sync before this migration), may be a later sync's lines for a day already shown (`late`),
-- and keeps the closing balance the FI reported for it, when it reported one. A statement's
-- lines are no longer a run of ids, so each ingested transaction records its statement; the
-- statements cut before this migration get theirs from their id range.
ALTER TABLE statements ADD COLUMN period_day TEXT;
ALTER TABLE statements ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE statements ADD COLUMN reported_closing TEXT;
ALTER TABLE transactions ADD COLUMN platform_statement_id TEXT;
UPDATE transactions SET platform_statement_id = (
    SELECT s.id FROM statements s
    WHERE s.account_id = transactions.account_id
      AND transactions.id >= s.first_transaction_id AND transactions.id <= s.last_transaction_id
) WHERE platform_ingested;
CREATE INDEX transactions_by_platform_statement ON transactions (platform_statement_id, id)
    WHERE platform_statement_id IS NOT NULL;
