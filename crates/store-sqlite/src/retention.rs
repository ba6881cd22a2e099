//! Retention on SQLite: each call deletes one bounded chunk in one short write transaction.

use async_trait::async_trait;
use bankfeeds_domain::retention::Purge;
use bankfeeds_domain::Timestamp;
use bankfeeds_store::StoreResult;

use crate::{db, map_err, time, SqliteStore};

/// The jobs, oldest finished first, whose bodies a `JobBodies` purge drops: as a JSON array of
/// `seq`, so the three statements that drop them act on the same jobs.
const JOBS_WITH_BODIES: &str = "SELECT json_group_array(seq) FROM (
    SELECT seq FROM jobs
    WHERE finished_at IS NOT NULL AND bodies_deleted_at IS NULL AND finished_at < ?
    ORDER BY finished_at, seq LIMIT ?)";

#[async_trait]
impl bankfeeds_store::RetentionStore for SqliteStore {
    async fn purge(&self, purge: Purge, limit: u32, now: Timestamp) -> StoreResult<u64> {
        let limit = i64::from(limit);
        let mut tx = self.write_tx().await?;
        let deleted = match purge {
            Purge::Otps { expired_before } => {
                let query = sqlx::query(
                    "DELETE FROM otps WHERE hash IN (
                        SELECT hash FROM otps WHERE expires_at < ? ORDER BY expires_at LIMIT ?)",
                )
                .bind(time::to_db(expired_before))
                .bind(limit);
                db::execute(query, &mut *tx).await?
            }
            Purge::Challenges {
                expired_before,
                bound_before,
            } => {
                let query = sqlx::query(
                    "DELETE FROM challenges WHERE hash IN (
                        SELECT hash FROM challenges
                        WHERE completed_at IS NULL AND expires_at < ?
                          AND (bound_at IS NULL OR bound_at < ?)
                        ORDER BY expires_at LIMIT ?)",
                )
                .bind(time::to_db(expired_before))
                .bind(time::to_db(bound_before))
                .bind(limit);
                db::execute(query, &mut *tx).await?
            }
            Purge::CustomerTokens { expired_before } => {
                let query = sqlx::query(
                    "DELETE FROM customer_tokens WHERE hash IN (
                        SELECT hash FROM customer_tokens WHERE expires_at < ?
                        ORDER BY expires_at LIMIT ?)",
                )
                .bind(time::to_db(expired_before))
                .bind(limit);
                db::execute(query, &mut *tx).await?
            }
            Purge::IdempotencyKeys { created_before } => {
                let query = sqlx::query(
                    "DELETE FROM idempotency_keys WHERE rowid IN (
                        SELECT k.rowid FROM idempotency_keys k
                        WHERE k.created_at < ?
                          AND NOT EXISTS (
                              SELECT 1 FROM jobs j
                              WHERE j.org_id = k.org_id AND j.status IN ('prequeued', 'pending')
                                AND j.created_at <= k.created_at)
                        ORDER BY k.created_at LIMIT ?)",
                )
                .bind(time::to_db(created_before))
                .bind(limit);
                db::execute(query, &mut *tx).await?
            }
            Purge::JobBodies { finished_before } => {
                let seqs: String = sqlx::query_scalar(JOBS_WITH_BODIES)
                    .bind(time::to_db(finished_before))
                    .bind(limit)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for table in ["job_request_bodies", "job_response_bodies"] {
                    let sql = format!(
                        "DELETE FROM {table} WHERE job_id IN (
                            SELECT id FROM jobs WHERE seq IN (SELECT value FROM json_each(?)))"
                    );
                    db::execute(sqlx::query(&sql).bind(&seqs), &mut *tx).await?;
                }
                // Rows written before the bodies had tables of their own keep them in `jobs`.
                let query = sqlx::query(
                    "UPDATE jobs SET bodies_deleted_at = ?, response_body = NULL,
                        request = json_remove(request, '$.body')
                     WHERE seq IN (SELECT value FROM json_each(?))",
                )
                .bind(time::to_db(now))
                .bind(&seqs);
                db::execute(query, &mut *tx).await?
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
