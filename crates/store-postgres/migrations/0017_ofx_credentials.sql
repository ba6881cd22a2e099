-- OFX Direct Connect credentials: one set per connection (a new set replaces it, revoking
-- deletes it), the password stored hashed, and the sign-on lock state of its user.
CREATE TABLE ofx_credentials (
    connection_id  UUID PRIMARY KEY REFERENCES connections (id),
    org_id         UUID NOT NULL REFERENCES orgs (id),
    user_id        TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    failed_signons INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ
);
