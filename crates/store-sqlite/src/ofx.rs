//! OFX Direct Connect credentials on SQLite.

use async_trait::async_trait;

use bankfeeds_domain::ofx::{OfxCredentials, SignonOutcome};
use bankfeeds_domain::{
    BankFeedAccountId, ConnectionId, OrgId, SecretHash, Timestamp, TransactionId,
};
use bankfeeds_store::decode::known;
use bankfeeds_store::StoreResult;
use sqlx::SqliteConnection;

use crate::error::DbUuid;
use crate::{map_err, time, SqliteStore};

type Row = (DbUuid, DbUuid, String, String, i64, i64, Option<i64>);

const SELECT: &str = "SELECT connection_id, org_id, user_id, password_hash, created_at,
        failed_signons, locked_until FROM ofx_credentials WHERE org_id = ? AND user_id = ?";

fn decode(r: Row) -> StoreResult<OfxCredentials> {
    let (connection, org, user_id, hash, created, failed, locked) = r;
    Ok(OfxCredentials {
        connection_id: connection.into_uuid().into(),
        org_id: org.into_uuid().into(),
        user_id,
        password_hash: known(SecretHash::from_hex(&hash), "ofx_credentials.password_hash")?,
        created_at: time::from_db(created)?,
        failed_signons: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: time::opt_from_db(locked)?,
    })
}

async fn find(
    conn: &mut SqliteConnection,
    org: OrgId,
    user_id: &str,
) -> StoreResult<Option<OfxCredentials>> {
    let row: Option<Row> = sqlx::query_as(SELECT)
        .bind(org.to_string())
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    row.map(decode).transpose()
}

#[async_trait]
impl bankfeeds_store::OfxStore for SqliteStore {
    async fn replace_ofx_credentials(&self, c: &OfxCredentials) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM ofx_credentials WHERE connection_id = ?")
            .bind(c.connection_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO ofx_credentials (connection_id, org_id, user_id, password_hash,
                 created_at, failed_signons, locked_until)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.connection_id.to_string())
        .bind(c.org_id.to_string())
        .bind(&c.user_id)
        .bind(c.password_hash.to_hex())
        .bind(time::to_db(c.created_at))
        .bind(i64::from(c.failed_signons))
        .bind(c.locked_until.map(time::to_db))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn revoke_ofx_credentials(&self, connection: ConnectionId) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM ofx_credentials WHERE connection_id = ?")
            .bind(connection.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn find_ofx_credentials(
        &self,
        org: OrgId,
        user_id: &str,
    ) -> StoreResult<Option<OfxCredentials>> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        find(&mut conn, org, user_id).await
    }

    async fn record_ofx_signon(
        &self,
        org: OrgId,
        user_id: &str,
        outcome: SignonOutcome,
        now: Timestamp,
    ) -> StoreResult<Option<OfxCredentials>> {
        let mut tx = self.write_tx().await?;
        let Some(mut c) = find(&mut tx, org, user_id).await? else {
            return Ok(None);
        };
        let (failed, locked) = c.after(outcome, now);
        if (failed, locked) != (c.failed_signons, c.locked_until) {
            sqlx::query(
                "UPDATE ofx_credentials SET failed_signons = ?, locked_until = ?
                 WHERE connection_id = ?",
            )
            .bind(i64::from(failed))
            .bind(locked.map(time::to_db))
            .bind(c.connection_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
        }
        (c.failed_signons, c.locked_until) = (failed, locked);
        Ok(Some(c))
    }

    async fn mark_downloaded(
        &self,
        account: BankFeedAccountId,
        transactions: &[TransactionId],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let mut marked = 0;
        for chunk in transactions.chunks(500) {
            let mut b = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "UPDATE transactions SET platform_ingested = 1, ingested_at = ",
            );
            b.push_bind(time::to_db(now))
                .push(" WHERE account_id = ")
                .push_bind(account.to_string())
                .push(" AND platform_ingested = 0 AND id IN (");
            let mut ids = b.separated(", ");
            for id in chunk {
                ids.push_bind(id.to_string());
            }
            b.push(")");
            let done = b.build().execute(&mut *tx).await.map_err(map_err)?;
            marked += done.rows_affected();
        }
        sqlx::query("UPDATE bank_feed_accounts SET last_synced_at = ? WHERE id = ?")
            .bind(time::to_db(now))
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(marked)
    }
}
