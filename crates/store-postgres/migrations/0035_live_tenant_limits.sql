-- Xero's per-tenant allowances shared by every hub instance (issue 16): per tenant, the
-- generic cell rate algorithm's arrival time of each allowance (RFC 3339 times separated by
-- spaces, `-` for none, in the order the hub passes its allowances) and the end of a 429's
-- hold. Not an organisation's row: Xero counts per tenant.
CREATE TABLE live_tenant_limits (
    tenant_id   TEXT PRIMARY KEY,
    arrivals    TEXT NOT NULL,
    held_until  TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);
