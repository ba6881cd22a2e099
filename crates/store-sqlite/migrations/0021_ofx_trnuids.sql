-- OFX Direct Connect TRNUIDs each user has sent (issue 13): a TRNUID reused for a different
-- request is answered with status 2019. Kept for retention_ofx_trnuid_days after first use.
CREATE TABLE ofx_trnuids (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    user_id     TEXT NOT NULL,
    trnuid      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, trnuid)
);
CREATE INDEX ofx_trnuids_by_seen ON ofx_trnuids (seen_at);
