//! Retention on PostgreSQL: each call deletes one bounded chunk in one statement. Rows another
//! instance's purge has locked are skipped, so several hubs on one database can purge at once.

use async_trait::async_trait;
use bankfeeds_domain::retention::Purge;
use bankfeeds_domain::Timestamp;
use bankfeeds_store::StoreResult;

use crate::{db, PostgresStore};

#[async_trait]
impl bankfeeds_store::RetentionStore for PostgresStore {
    async fn purge(&self, purge: Purge, limit: u32, now: Timestamp) -> StoreResult<u64> {
        let limit = i64::from(limit);
        let query = match purge {
            Purge::Otps { expired_before } => sqlx::query(
                "DELETE FROM otps WHERE hash IN (
                    SELECT hash FROM otps WHERE expires_at < $1
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            )
            .bind(expired_before)
            .bind(limit),
            Purge::Challenges {
                expired_before,
                bound_before,
            } => sqlx::query(
                "DELETE FROM challenges WHERE hash IN (
                    SELECT hash FROM challenges
                    WHERE completed_at IS NULL AND expires_at < $1
                      AND (bound_at IS NULL OR bound_at < $3)
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            )
            .bind(expired_before)
            .bind(limit)
            .bind(bound_before),
            Purge::CustomerTokens { expired_before } => sqlx::query(
                "DELETE FROM customer_tokens WHERE hash IN (
                    SELECT hash FROM customer_tokens WHERE expires_at < $1
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            )
            .bind(expired_before)
            .bind(limit),
            Purge::IdempotencyKeys { created_before } => sqlx::query(
                "DELETE FROM idempotency_keys WHERE (org_id, key) IN (
                    SELECT k.org_id, k.key FROM idempotency_keys k
                    WHERE k.created_at < $1
                      AND NOT EXISTS (
                          SELECT 1 FROM jobs j
                          WHERE j.org_id = k.org_id AND j.status IN ('prequeued', 'pending')
                            AND j.created_at <= k.created_at)
                    ORDER BY k.created_at LIMIT $2 FOR UPDATE OF k SKIP LOCKED)",
            )
            .bind(created_before)
            .bind(limit),
            // Rows written before the bodies had tables of their own keep them in `jobs`.
            Purge::JobBodies { finished_before } => sqlx::query(
                "WITH picked AS (
                    SELECT id FROM jobs
                    WHERE finished_at IS NOT NULL AND bodies_deleted_at IS NULL
                      AND finished_at < $1
                    ORDER BY finished_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED),
                requests AS (
                    DELETE FROM job_request_bodies WHERE job_id IN (SELECT id FROM picked)),
                responses AS (
                    DELETE FROM job_response_bodies WHERE job_id IN (SELECT id FROM picked))
                UPDATE jobs SET bodies_deleted_at = $3, response_body = NULL,
                    request = (request::jsonb - 'body')::text
                WHERE id IN (SELECT id FROM picked)",
            )
            .bind(finished_before)
            .bind(limit)
            .bind(now),
        };
        db::execute(query, &self.pool).await
    }
}
