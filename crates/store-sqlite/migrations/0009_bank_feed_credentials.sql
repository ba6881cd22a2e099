-- Generated bank feed credentials (Codat's generate_credentials): the password is stored hashed.
CREATE TABLE bank_feed_credentials (
    username      TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    connection_id TEXT NOT NULL REFERENCES connections (id),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX bank_feed_credentials_live ON bank_feed_credentials (connection_id) WHERE revoked_at IS NULL;
