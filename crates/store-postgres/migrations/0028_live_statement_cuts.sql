-- Cutting statements for live delivery (issue 16): each transaction records the live statement
-- it went into, so none is ever in two (and one pushed late, whatever its id, is still cut);
-- an account's statements are numbered so they go in order whatever their ids.
ALTER TABLE transactions ADD COLUMN live_statement_id UUID;
CREATE INDEX transactions_not_sent_live ON transactions (account_id, id)
    WHERE live_statement_id IS NULL;
ALTER TABLE live_statements ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX live_statements_in_order ON live_statements (account_id, position);
