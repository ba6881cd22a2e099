-- OFX Direct Connect credentials: one set per connection (a new set replaces it, revoking
-- deletes it), the password stored hashed, and the sign-on lock state of its user.
CREATE TABLE ofx_credentials (
    connection_id  TEXT PRIMARY KEY NOT NULL REFERENCES connections (id),
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    user_id        TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    failed_signons INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER
);
