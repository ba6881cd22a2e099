-- The platform side of the link flow: sandbox companies, the challenges that carry a company's
-- request to connect to an FI (stored hashed), and which feeds each company has linked.

CREATE TABLE companies (
    id         UUID PRIMARY KEY,
    platform   TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE challenges (
    hash          TEXT PRIMARY KEY,
    platform      TEXT NOT NULL,
    company_id    UUID NOT NULL REFERENCES companies (id),
    org_id        UUID NOT NULL REFERENCES orgs (id),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    connection_id UUID REFERENCES connections (id),
    bound_at      TIMESTAMPTZ,
    completed_at  TIMESTAMPTZ
);

CREATE TABLE company_feeds (
    company_id  UUID NOT NULL REFERENCES companies (id),
    account_id  UUID NOT NULL REFERENCES bank_feed_accounts (id),
    linked_at   TIMESTAMPTZ NOT NULL,
    unlinked_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, account_id)
);
