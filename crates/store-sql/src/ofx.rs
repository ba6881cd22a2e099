//! OFX Direct Connect credentials and what a download marks as ingested.

use std::collections::HashMap;

use bankfeeds_domain::ofx::{OfxCredentials, SignonOutcome};
use bankfeeds_domain::ofx_trnuid::{judge_trnuids, TrnuidUse, TrnuidVerdict};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, OrgId, SecretHash, Timestamp, TransactionId,
};
use bankfeeds_store::decode::known;
use bankfeeds_store::{OfxStore, StoreError, StoreResult};

use crate::exec::placeholders;
use crate::{Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct OfxRow {
    connection_id: DbId,
    org_id: DbId,
    user_id: String,
    password_hash: String,
    created_at: DbTime,
    failed_signons: DbInt,
    locked_until: Option<DbTime>,
}

impl TryFrom<OfxRow> for OfxCredentials {
    type Error = StoreError;

    fn try_from(r: OfxRow) -> StoreResult<Self> {
        Ok(OfxCredentials {
            connection_id: r.connection_id.0.into(),
            org_id: r.org_id.0.into(),
            user_id: r.user_id,
            password_hash: known(
                SecretHash::from_hex(&r.password_hash),
                "ofx_credentials.password_hash",
            )?,
            created_at: r.created_at.0,
            failed_signons: u32::try_from(r.failed_signons.0).unwrap_or(u32::MAX),
            locked_until: r.locked_until.map(|t| t.0),
        })
    }
}

const SELECT: &str = "SELECT connection_id, org_id, user_id, password_hash, created_at,
        failed_signons, locked_until FROM ofx_credentials WHERE org_id = $1 AND user_id = $2";

#[derive(sqlx::FromRow)]
struct TrnuidRow {
    trnuid: String,
    fingerprint: String,
}

/// A stored count as the schema's `int4`.
fn int4(n: u32) -> i64 {
    i64::from(n.min(i32::MAX as u32))
}

#[async_trait::async_trait]
impl<B: Backend> OfxStore for SqlStore<B> {
    async fn replace_ofx_credentials(&self, c: &OfxCredentials) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        tx.execute(
            Sql::new("DELETE FROM ofx_credentials WHERE connection_id = $1")
                .bind(c.connection_id.as_uuid()),
        )
        .await?;
        tx.execute(
            Sql::new(
                "INSERT INTO ofx_credentials (connection_id, org_id, user_id, password_hash,
                 created_at, failed_signons, locked_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(c.connection_id.as_uuid())
            .bind(c.org_id.as_uuid())
            .bind(&c.user_id)
            .bind(c.password_hash.to_hex())
            .bind(c.created_at)
            .bind(int4(c.failed_signons))
            .bind(c.locked_until),
        )
        .await?;
        tx.commit().await
    }

    async fn revoke_ofx_credentials(&self, connection: ConnectionId) -> StoreResult<bool> {
        let db = &self.0;
        let deleted = db
            .write_one(
                Sql::new("DELETE FROM ofx_credentials WHERE connection_id = $1")
                    .bind(connection.as_uuid()),
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn find_ofx_credentials(
        &self,
        org: OrgId,
        user_id: &str,
    ) -> StoreResult<Option<OfxCredentials>> {
        let db = &self.0;
        db.reader()
            .optional::<OfxRow, _>(Sql::new(SELECT).bind(org.as_uuid()).bind(user_id))
            .await
    }

    /// Counts a sign-on against the user's lock (`OfxCredentials::after` decides), the row locked
    /// so concurrent sign-ons count one after another.
    async fn record_ofx_signon(
        &self,
        org: OrgId,
        user_id: &str,
        outcome: SignonOutcome,
        now: Timestamp,
    ) -> StoreResult<Option<OfxCredentials>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let sql = format!("{SELECT}{}", B::DIALECT.for_update());
        let found: Option<OfxCredentials> = tx
            .optional::<OfxRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(user_id))
            .await?;
        let Some(mut c) = found else {
            return Ok(None);
        };
        let (failed, locked) = c.after(outcome, now);
        if (failed, locked) != (c.failed_signons, c.locked_until) {
            tx.execute(
                Sql::new(
                    "UPDATE ofx_credentials SET failed_signons = $1, locked_until = $2
                 WHERE connection_id = $3",
                )
                .bind(int4(failed))
                .bind(locked)
                .bind(c.connection_id.as_uuid()),
            )
            .await?;
        }
        tx.commit().await?;
        (c.failed_signons, c.locked_until) = (failed, locked);
        Ok(Some(c))
    }

    async fn record_ofx_trnuids(
        &self,
        org: OrgId,
        user_id: &str,
        uses: &[TrnuidUse],
        now: Timestamp,
    ) -> StoreResult<Vec<TrnuidVerdict>> {
        if uses.is_empty() {
            return Ok(Vec::new());
        }
        let db = &self.0;
        let mut tx = db.write().await?;
        let mut seen = HashMap::new();
        for chunk in uses.chunks(500) {
            let mut q = Sql::new(format!(
                "SELECT trnuid, fingerprint FROM ofx_trnuids
                 WHERE org_id = $1 AND user_id = $2 AND trnuid IN ({})",
                placeholders(3, chunk.len())
            ))
            .bind(org.as_uuid())
            .bind(user_id);
            for u in chunk {
                q.push(&u.trnuid);
            }
            for r in tx.fetch_all::<TrnuidRow>(q).await? {
                seen.insert(r.trnuid, r.fingerprint);
            }
        }
        let verdicts = judge_trnuids(&seen, uses);
        for (u, v) in uses.iter().zip(&verdicts) {
            if *v == TrnuidVerdict::New {
                // A concurrent request of the same user with the same new TRNUID wrote it first:
                // both are answered, the first fingerprint stays.
                tx.execute(
                    Sql::new(
                        "INSERT INTO ofx_trnuids (org_id, user_id, trnuid, fingerprint, seen_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(org.as_uuid())
                    .bind(user_id)
                    .bind(&u.trnuid)
                    .bind(&u.fingerprint)
                    .bind(now),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(verdicts)
    }

    async fn mark_downloaded(
        &self,
        account: BankFeedAccountId,
        transactions: &[TransactionId],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let db = &self.0;
        let mut tx = db.write().await?;
        // The account row first, as `mark_ingested` does: it orders this after a batch being
        // applied to the account.
        tx.execute(
            Sql::new("UPDATE bank_feed_accounts SET last_synced_at = $1 WHERE id = $2")
                .bind(now)
                .bind(account.as_uuid()),
        )
        .await?;
        let mut marked = 0;
        for chunk in transactions.chunks(500) {
            let mut q = Sql::new(format!(
                "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $1
             WHERE account_id = $2 AND NOT platform_ingested AND id IN ({})",
                placeholders(3, chunk.len())
            ))
            .bind(now)
            .bind(account.as_uuid());
            for id in chunk {
                q.push(id.as_uuid());
            }
            marked += tx.execute(q).await?;
        }
        tx.commit().await?;
        Ok(marked)
    }
}
