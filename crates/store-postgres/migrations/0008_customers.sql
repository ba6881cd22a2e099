-- The FI's business customers as an entity (Codat's "companies"), and which connections
-- belong to which customer. A connection made through the Rutter-shaped door has none.

CREATE TABLE customers (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX customers_by_org ON customers (org_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE customer_connections (
    connection_id UUID PRIMARY KEY REFERENCES connections (id),
    customer_id   UUID NOT NULL REFERENCES customers (id),
    -- Set when the connection is unlinked through the Codat door (PATCH status Unlinked).
    unlinked_at   TIMESTAMPTZ
);
CREATE INDEX customer_connections_by_customer ON customer_connections (customer_id, connection_id);
