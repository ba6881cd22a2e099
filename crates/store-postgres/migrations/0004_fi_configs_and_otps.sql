-- How each FI appears in each platform (and where its login page is), and link-flow OTPs
-- (stored hashed; one active per connection).

CREATE TABLE fi_configs (
    org_id           UUID NOT NULL REFERENCES orgs (id),
    platform         TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    logo_url         TEXT,
    country_code     TEXT NOT NULL,
    login_url        TEXT NOT NULL,
    otp_instructions TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, platform)
);
CREATE INDEX fi_configs_by_platform ON fi_configs (platform, display_name);

CREATE TABLE otps (
    hash          TEXT PRIMARY KEY,
    org_id        UUID NOT NULL,
    connection_id UUID NOT NULL REFERENCES connections (id),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    cancelled_at  TIMESTAMPTZ
);
CREATE INDEX otps_by_connection ON otps (connection_id) WHERE used_at IS NULL AND cancelled_at IS NULL;
