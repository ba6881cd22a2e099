//! Generated bank feed credentials on PostgreSQL.

use async_trait::async_trait;

use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{ConnectionId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::StoreResult;
use uuid::Uuid;

use crate::map_err;
use crate::PostgresStore;

#[async_trait]
impl bankfeeds_store::CredentialStore for PostgresStore {
    async fn create_credentials(&self, c: &BankFeedCredentials) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO bank_feed_credentials
             (username, org_id, connection_id, password_hash, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.username)
        .bind(c.org_id.as_uuid())
        .bind(c.connection_id.as_uuid())
        .bind(c.password_hash.to_hex())
        .bind(c.created_at)
        .bind(c.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
        let row: Option<(String, Uuid, Uuid, String, Timestamp, Option<Timestamp>)> =
            sqlx::query_as(
                "SELECT username, org_id, connection_id, password_hash, created_at, revoked_at
         FROM bank_feed_credentials WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(
            |(username, org, connection, hash, created_at, revoked_at)| {
                Ok(BankFeedCredentials {
                    username,
                    org_id: org.into(),
                    connection_id: connection.into(),
                    password_hash: known(
                        SecretHash::from_hex(&hash),
                        "bank_feed_credentials.password_hash",
                    )?,
                    created_at,
                    revoked_at,
                })
            },
        )
        .transpose()
    }

    async fn revoke_credentials(
        &self,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
        "UPDATE bank_feed_credentials SET revoked_at = $1 WHERE connection_id = $2 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(connection.as_uuid())
    .execute(&self.pool)
    .await
    .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
