-- Organisations (the FIs using the hub) and their connections (one per business customer and
-- platform). Timestamps are microseconds since the Unix epoch, UTC; ids are UUIDv7 text, so text
-- order is creation order.

CREATE TABLE orgs (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    client_secret_hash TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    CONSTRAINT orgs_client_id_key UNIQUE (client_id)
);

CREATE TABLE connections (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    platform          TEXT NOT NULL,
    name              TEXT,
    access_token_hash TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER,
    CONSTRAINT connections_access_token_hash_key UNIQUE (access_token_hash)
);

CREATE INDEX connections_org_live ON connections (org_id, id) WHERE deleted_at IS NULL;
