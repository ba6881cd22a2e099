-- Codat's company access tokens: short-lived, stored hashed, opening a customer's link page.
CREATE TABLE customer_tokens (
    hash        TEXT PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs (id),
    customer_id UUID NOT NULL REFERENCES customers (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
