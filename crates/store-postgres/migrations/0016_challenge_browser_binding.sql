-- A link challenge belongs to the browser that started it: the digest of a nonce that browser
-- holds (an HttpOnly cookie; the JSON interface hands it to its client). The redirect back must
-- present it. NULL for challenges stored before this, which no redirect can use.
ALTER TABLE challenges ADD COLUMN browser_hash TEXT;
