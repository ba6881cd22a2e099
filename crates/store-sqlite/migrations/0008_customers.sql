-- The FI's business customers as an entity (Codat's "companies"), and which connections
-- belong to which customer. A connection made through the Rutter-shaped door has none.

CREATE TABLE customers (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX customers_by_org ON customers (org_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE customer_connections (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections (id),
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    -- Set when the connection is unlinked through the Codat door (PATCH status Unlinked).
    unlinked_at   INTEGER
);
CREATE INDEX customer_connections_by_customer ON customer_connections (customer_id, connection_id);
