//! Generated bank feed credentials on PostgreSQL.

use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{ConnectionId, SecretHash, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::PgPool;
use uuid::Uuid;

use crate::map_err;

pub async fn create(pool: &PgPool, c: &BankFeedCredentials) -> StoreResult<()> {
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
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn find(pool: &PgPool, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
    let row: Option<(String, Uuid, Uuid, String, Timestamp, Option<Timestamp>)> = sqlx::query_as(
        "SELECT username, org_id, connection_id, password_hash, created_at, revoked_at
         FROM bank_feed_credentials WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.map(
        |(username, org, connection, hash, created_at, revoked_at)| {
            Ok(BankFeedCredentials {
                username,
                org_id: org.into(),
                connection_id: connection.into(),
                password_hash: SecretHash::from_hex(&hash)
                    .ok_or_else(|| StoreError::Backend("corrupt credentials row".into()))?,
                created_at,
                revoked_at,
            })
        },
    )
    .transpose()
}

pub async fn revoke(pool: &PgPool, connection: ConnectionId, at: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE bank_feed_credentials SET revoked_at = $1 WHERE connection_id = $2 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(connection.as_uuid())
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}
