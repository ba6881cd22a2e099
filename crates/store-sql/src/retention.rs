//! Retention: each call deletes one bounded chunk in one short write transaction. On PostgreSQL
//! rows another instance's purge has locked are skipped, so several hubs on one database can
//! purge at once.

use bankfeeds_domain::retention::Purge;
use bankfeeds_domain::Timestamp;
use bankfeeds_store::RetentionStore;
use bankfeeds_store::StoreResult;

use crate::{Backend, Dialect, Exec, Sql, SqlStore, Tx};

/// Drops the bodies of the oldest finished jobs. Rows written before the bodies had tables of
/// their own keep them in `jobs` (`response_body`, `request.body`), cleared as well. One
/// statement on PostgreSQL; on SQLite the jobs are picked once (as a JSON array of `seq`) so
/// the three statements act on the same jobs.
async fn job_bodies<B: Backend>(
    tx: &mut B::Tx,
    finished_before: Timestamp,
    limit: u32,
    now: Timestamp,
) -> StoreResult<u64> {
    const PICK: &str = "SELECT seq FROM jobs
        WHERE finished_at IS NOT NULL AND bodies_deleted_at IS NULL AND finished_at < $1
        ORDER BY finished_at, seq LIMIT $2";
    match B::DIALECT {
        Dialect::Postgres => {
            let sql = format!(
                "WITH picked AS (SELECT id FROM jobs WHERE seq IN ({PICK} FOR UPDATE SKIP LOCKED)),
                requests AS (
                    DELETE FROM job_request_bodies WHERE job_id IN (SELECT id FROM picked)),
                responses AS (
                    DELETE FROM job_response_bodies WHERE job_id IN (SELECT id FROM picked))
                UPDATE jobs SET bodies_deleted_at = $3, response_body = NULL,
                    request = (request::jsonb - 'body')::text
                WHERE id IN (SELECT id FROM picked)"
            );
            let q = Sql::new(sql).bind(finished_before).bind(limit).bind(now);
            tx.execute(q).await
        }
        Dialect::Sqlite => {
            let picked: Picked = tx
                .fetch_one(
                    Sql::new(format!(
                        "SELECT json_group_array(seq) AS seqs FROM ({PICK})"
                    ))
                    .bind(finished_before)
                    .bind(limit),
                )
                .await?;
            for table in ["job_request_bodies", "job_response_bodies"] {
                let sql = format!(
                    "DELETE FROM {table} WHERE job_id IN (
                        SELECT id FROM jobs WHERE seq IN (SELECT value FROM json_each($1)))"
                );
                tx.execute(Sql::new(sql).bind(&picked.seqs)).await?;
            }
            tx.execute(
                Sql::new(
                    "UPDATE jobs SET bodies_deleted_at = $1, response_body = NULL,
                        request = json_remove(request, '$.body')
                     WHERE seq IN (SELECT value FROM json_each($2))",
                )
                .bind(now)
                .bind(&picked.seqs),
            )
            .await
        }
    }
}

/// The statement most purges are: delete the first `$2` rows of `table` that `filter` picks
/// (`$1` its horizon), in `order`, by their `key` (one column or several, comma-separated).
/// On PostgreSQL rows another instance's purge has locked are skipped.
fn oldest<B: Backend>(table: &str, key: &str, filter: &str, order: &str) -> String {
    format!(
        "DELETE FROM {table} WHERE ({key}) IN (
            SELECT {key} FROM {table} WHERE {filter}
            ORDER BY {order} LIMIT $2{})",
        B::DIALECT.skip_locked(None)
    )
}

#[derive(sqlx::FromRow)]
struct Picked {
    seqs: String,
}

#[async_trait::async_trait]
impl<B: Backend> RetentionStore for SqlStore<B> {
    async fn purge(&self, purge: Purge, limit: u32, now: Timestamp) -> StoreResult<u64> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let deleted = match purge {
            Purge::Otps { expired_before } => {
                let sql = oldest::<B>("otps", "hash", "expires_at < $1", "expires_at");
                tx.execute(Sql::new(sql).bind(expired_before).bind(limit))
                    .await?
            }
            Purge::Challenges {
                expired_before,
                bound_before,
            } => {
                let sql = oldest::<B>(
                    "challenges",
                    "hash",
                    "completed_at IS NULL AND expires_at < $1
                     AND (bound_at IS NULL OR bound_at < $3)",
                    "expires_at",
                );
                let q = Sql::new(sql)
                    .bind(expired_before)
                    .bind(limit)
                    .bind(bound_before);
                tx.execute(q).await?
            }
            Purge::CustomerTokens { expired_before } => {
                let sql = oldest::<B>("customer_tokens", "hash", "expires_at < $1", "expires_at");
                tx.execute(Sql::new(sql).bind(expired_before).bind(limit))
                    .await?
            }
            Purge::LiveConsents { created_before } => {
                let sql = oldest::<B>(
                    "live_consents",
                    "state_hash",
                    "created_at < $1",
                    "created_at",
                );
                tx.execute(Sql::new(sql).bind(created_before).bind(limit))
                    .await?
            }
            // A key whose request may still be waiting in the queue is kept: its retry must find it.
            Purge::IdempotencyKeys { created_before } => {
                let sql = format!(
                    "DELETE FROM idempotency_keys WHERE (org_id, key) IN (
                    SELECT k.org_id, k.key FROM idempotency_keys k
                    WHERE k.created_at < $1
                      AND NOT EXISTS (
                          SELECT 1 FROM jobs j
                          WHERE j.org_id = k.org_id AND j.status IN ('prequeued', 'pending')
                            AND j.created_at <= k.created_at)
                    ORDER BY k.created_at LIMIT $2{})",
                    B::DIALECT.skip_locked(Some("k"))
                );
                tx.execute(Sql::new(sql).bind(created_before).bind(limit))
                    .await?
            }
            Purge::OfxTrnuids { seen_before } => {
                let key = "org_id, user_id, trnuid";
                let sql = oldest::<B>("ofx_trnuids", key, "seen_at < $1", "seen_at");
                tx.execute(Sql::new(sql).bind(seen_before).bind(limit))
                    .await?
            }
            Purge::JobBodies { finished_before } => {
                job_bodies::<B>(&mut tx, finished_before, limit, now).await?
            }
            // Oldest first by `seq` (the primary key, in the order tries were made), so the
            // scan stops at the first rows past the horizon.
            Purge::WebhookAttempts { attempted_before } => {
                let sql = oldest::<B>("webhook_attempts", "seq", "attempted_at < $1", "seq");
                tx.execute(Sql::new(sql).bind(attempted_before).bind(limit))
                    .await?
            }
            // A pending delivery is work still to do: never purged.
            Purge::WebhookDeliveries { finished_before } => {
                let sql = oldest::<B>(
                    "webhook_deliveries",
                    "seq",
                    "status <> 'pending' AND updated_at < $1",
                    "seq",
                );
                tx.execute(Sql::new(sql).bind(finished_before).bind(limit))
                    .await?
            }
        };
        tx.commit().await?;
        Ok(deleted)
    }
}
