//! OFX Direct Connect credentials on PostgreSQL.

use async_trait::async_trait;

use bankfeeds_domain::ofx::{OfxCredentials, SignonOutcome};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, OrgId, SecretHash, Timestamp, TransactionId,
};
use bankfeeds_store::decode::known;
use bankfeeds_store::StoreResult;
use uuid::Uuid;

use crate::map_err;
use crate::PostgresStore;

type Row = (
    Uuid,
    Uuid,
    String,
    String,
    Timestamp,
    i32,
    Option<Timestamp>,
);

const SELECT: &str = "SELECT connection_id, org_id, user_id, password_hash, created_at,
        failed_signons, locked_until FROM ofx_credentials WHERE org_id = $1 AND user_id = $2";

fn decode(r: Row) -> StoreResult<OfxCredentials> {
    let (connection, org, user_id, hash, created_at, failed, locked_until) = r;
    Ok(OfxCredentials {
        connection_id: connection.into(),
        org_id: org.into(),
        user_id,
        password_hash: known(SecretHash::from_hex(&hash), "ofx_credentials.password_hash")?,
        created_at,
        failed_signons: u32::try_from(failed).unwrap_or(0),
        locked_until,
    })
}

#[async_trait]
impl bankfeeds_store::OfxStore for PostgresStore {
    async fn replace_ofx_credentials(&self, c: &OfxCredentials) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("DELETE FROM ofx_credentials WHERE connection_id = $1")
            .bind(c.connection_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO ofx_credentials (connection_id, org_id, user_id, password_hash,
                 created_at, failed_signons, locked_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.connection_id.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(&c.user_id)
        .bind(c.password_hash.to_hex())
        .bind(c.created_at)
        .bind(i32::try_from(c.failed_signons).unwrap_or(i32::MAX))
        .bind(c.locked_until)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn revoke_ofx_credentials(&self, connection: ConnectionId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM ofx_credentials WHERE connection_id = $1")
            .bind(connection.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn find_ofx_credentials(
        &self,
        org: OrgId,
        user_id: &str,
    ) -> StoreResult<Option<OfxCredentials>> {
        let row: Option<Row> = sqlx::query_as(SELECT)
            .bind(org.as_uuid())
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(decode).transpose()
    }

    async fn record_ofx_signon(
        &self,
        org: OrgId,
        user_id: &str,
        outcome: SignonOutcome,
        now: Timestamp,
    ) -> StoreResult<Option<OfxCredentials>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let row: Option<Row> = sqlx::query_as(&format!("{SELECT} FOR UPDATE"))
            .bind(org.as_uuid())
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let Some(mut c) = row.map(decode).transpose()? else {
            return Ok(None);
        };
        let (failed, locked) = c.after(outcome, now);
        if (failed, locked) != (c.failed_signons, c.locked_until) {
            sqlx::query(
                "UPDATE ofx_credentials SET failed_signons = $1, locked_until = $2
                 WHERE connection_id = $3",
            )
            .bind(i32::try_from(failed).unwrap_or(i32::MAX))
            .bind(locked)
            .bind(c.connection_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        (c.failed_signons, c.locked_until) = (failed, locked);
        Ok(Some(c))
    }

    async fn mark_downloaded(
        &self,
        account: BankFeedAccountId,
        transactions: &[TransactionId],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // The account row first, as `mark_ingested` does: it orders this after a batch being
        // applied to the account.
        sqlx::query("UPDATE bank_feed_accounts SET last_synced_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let ids: Vec<Uuid> = transactions.iter().map(TransactionId::as_uuid).collect();
        let done = sqlx::query(
            "UPDATE transactions SET platform_ingested = TRUE, ingested_at = $1
             WHERE account_id = $2 AND NOT platform_ingested AND id = ANY($3)",
        )
        .bind(now)
        .bind(account.as_uuid())
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
