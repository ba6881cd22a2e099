//! Generated bank feed credentials on SQLite.

use async_trait::async_trait;

use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{ConnectionId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::StoreResult;

use crate::error::DbUuid;
use crate::{map_err, time, SqliteStore};

#[async_trait]
impl bankfeeds_store::CredentialStore for SqliteStore {
    async fn create_credentials(&self, c: &BankFeedCredentials) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO bank_feed_credentials
             (username, org_id, connection_id, password_hash, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.username)
        .bind(c.org_id.to_string())
        .bind(c.connection_id.to_string())
        .bind(c.password_hash.to_hex())
        .bind(time::to_db(c.created_at))
        .bind(c.revoked_at.map(time::to_db))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
        let row: Option<(String, DbUuid, DbUuid, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT username, org_id, connection_id, password_hash, created_at, revoked_at
         FROM bank_feed_credentials WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.map(|(username, org, connection, hash, created, revoked)| {
            Ok(BankFeedCredentials {
                username,
                org_id: org.into_uuid().into(),
                connection_id: connection.into_uuid().into(),
                password_hash: known(
                    SecretHash::from_hex(&hash),
                    "bank_feed_credentials.password_hash",
                )?,
                created_at: time::from_db(created)?,
                revoked_at: time::opt_from_db(revoked)?,
            })
        })
        .transpose()
    }

    async fn revoke_credentials(
        &self,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
        "UPDATE bank_feed_credentials SET revoked_at = ? WHERE connection_id = ? AND revoked_at IS NULL",
    )
    .bind(time::to_db(at))
    .bind(connection.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
