-- The operator's console (issue 18): operators of an organisation, their one-time setup links,
-- their sessions, and the throttle of failed sign-ins. Every token is stored as its SHA-256
-- digest; passwords as Argon2id PHC strings (NULL until chosen through the setup link).
CREATE TABLE operators (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs (id),
    email         TEXT NOT NULL,
    password_hash TEXT,
    status        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT operators_org_email_key UNIQUE (org_id, email)
);
CREATE INDEX operators_by_email ON operators (email);

CREATE TABLE operator_setup_tokens (
    hash        TEXT PRIMARY KEY,
    operator_id UUID NOT NULL REFERENCES operators (id),
    org_id      UUID NOT NULL REFERENCES orgs (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX operator_setup_tokens_by_operator ON operator_setup_tokens (operator_id);

CREATE TABLE operator_sessions (
    hash        TEXT PRIMARY KEY,
    operator_id UUID NOT NULL REFERENCES operators (id),
    org_id      UUID NOT NULL REFERENCES orgs (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

-- `subject` is `email:<email>` or `peer:<address>`.
CREATE TABLE console_login_throttle (
    subject      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- The console's overview and feed pages: transactions per day, failed jobs, an account's jobs.
CREATE INDEX transactions_by_org_created ON transactions (org_id, created_at);
CREATE INDEX transactions_by_org_ingested ON transactions (org_id, ingested_at);
CREATE INDEX jobs_failed_by_org ON jobs (org_id, finished_at) WHERE status = 'failure';
CREATE INDEX jobs_by_account ON jobs (account_id, seq);
