-- Codat's company access tokens: short-lived, stored hashed, opening a customer's link page.
CREATE TABLE customer_tokens (
    hash        TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
