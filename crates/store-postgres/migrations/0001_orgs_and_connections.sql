-- Organisations (the FIs using the hub) and their connections (one per business customer and
-- platform). Same version numbers as the SQLite migrations; ids are UUIDv7, so id order is
-- creation order.

CREATE TABLE orgs (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    client_secret_hash TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT orgs_client_id_key UNIQUE (client_id)
);

CREATE TABLE connections (
    id                UUID PRIMARY KEY,
    org_id            UUID NOT NULL REFERENCES orgs (id),
    platform          TEXT NOT NULL,
    name              TEXT,
    access_token_hash TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    deleted_at        TIMESTAMPTZ,
    CONSTRAINT connections_access_token_hash_key UNIQUE (access_token_hash)
);

CREATE INDEX connections_org_live ON connections (org_id, id) WHERE deleted_at IS NULL;
