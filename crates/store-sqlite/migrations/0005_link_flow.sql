-- The platform side of the link flow: sandbox companies, the challenges that carry a company's
-- request to connect to an FI (stored hashed), and which feeds each company has linked.

CREATE TABLE companies (
    id         TEXT PRIMARY KEY NOT NULL,
    platform   TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE challenges (
    hash          TEXT PRIMARY KEY NOT NULL,
    platform      TEXT NOT NULL,
    company_id    TEXT NOT NULL REFERENCES companies (id),
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    connection_id TEXT REFERENCES connections (id),
    bound_at      INTEGER,
    completed_at  INTEGER
);

CREATE TABLE company_feeds (
    company_id  TEXT NOT NULL REFERENCES companies (id),
    account_id  TEXT NOT NULL REFERENCES bank_feed_accounts (id),
    linked_at   INTEGER NOT NULL,
    unlinked_at INTEGER,
    PRIMARY KEY (company_id, account_id)
);
