-- Retention (issue 12, item 11): what a purge looks for, found by index instead of by scanning
-- every row, and when a finished job's bodies were deleted.
ALTER TABLE jobs ADD COLUMN bodies_deleted_at TIMESTAMPTZ;
CREATE INDEX jobs_bodies_kept ON jobs (finished_at, seq)
    WHERE finished_at IS NOT NULL AND bodies_deleted_at IS NULL;
-- An idempotency key is kept while its organisation has an unfinished job accepted at or before
-- it (that may be the key's own job).
CREATE INDEX jobs_unfinished_by_org_created ON jobs (org_id, created_at)
    WHERE status IN ('prequeued', 'pending');
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
CREATE INDEX otps_by_expiry ON otps (expires_at);
CREATE INDEX challenges_open_by_expiry ON challenges (expires_at) WHERE completed_at IS NULL;
CREATE INDEX customer_tokens_by_expiry ON customer_tokens (expires_at);
