//! Link OTPs on PostgreSQL.
//!
//! Several hub instances may issue and use OTPs at once. Issuing locks the connection's row
//! first, so issuers of one connection take turns and at most one OTP per connection is ever
//! active; using an OTP locks its row (`SELECT ... FOR UPDATE`), so of concurrent users exactly
//! one succeeds and the rest see it used, as on SQLite's single writer.

use async_trait::async_trait;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, SecretHash, Timestamp};
use bankfeeds_store::StoreResult;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::{map_err, PostgresStore};

#[derive(FromRow)]
struct OtpRow {
    org_id: Uuid,
    connection_id: Uuid,
    expires_at: Timestamp,
    used_at: Option<Timestamp>,
    cancelled_at: Option<Timestamp>,
}

/// Uses an OTP inside the caller's transaction, locking its row until that transaction ends.
/// A refusal writes nothing; the caller rolls back (or commits nothing) to release the lock.
pub(crate) async fn consume_otp_in(
    tx: &mut PgConnection,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
    // Concurrent users of one OTP wait here for the first to finish, then read its `used_at`.
    let row: Option<OtpRow> = sqlx::query_as(
        "SELECT org_id, connection_id, expires_at, used_at, cancelled_at
         FROM otps WHERE hash = $1 FOR UPDATE",
    )
    .bind(hash.to_hex())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    let Some(otp) = row else {
        return Ok(Err(OtpRefusal::Unknown));
    };
    // Checked in SQLite's order: used, then superseded, then expired.
    if otp.used_at.is_some() {
        return Ok(Err(OtpRefusal::AlreadyUsed));
    }
    if otp.cancelled_at.is_some() {
        return Ok(Err(OtpRefusal::Superseded));
    }
    if otp.expires_at <= now {
        return Ok(Err(OtpRefusal::Expired));
    }
    sqlx::query("UPDATE otps SET used_at = $1 WHERE hash = $2")
        .bind(now)
        .bind(hash.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(Ok((otp.org_id.into(), otp.connection_id.into())))
}

#[async_trait]
impl bankfeeds_store::OtpStore for PostgresStore {
    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Issuers of one connection take turns here: without the lock, two could each cancel the
        // other's (not yet visible) OTP and both insert, leaving two active. An unknown connection
        // locks nothing and the insert below fails on its foreign key, as on SQLite.
        sqlx::query("SELECT id FROM connections WHERE id = $1 FOR UPDATE")
            .bind(otp.connection_id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if !otp.keeps_earlier {
            sqlx::query(
                "UPDATE otps SET cancelled_at = $1
             WHERE connection_id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(otp.created_at)
            .bind(otp.connection_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        sqlx::query(
            "INSERT INTO otps (hash, org_id, connection_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(otp.hash.to_hex())
        .bind(otp.org_id.as_uuid())
        .bind(otp.connection_id.as_uuid())
        .bind(otp.created_at)
        .bind(otp.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let result = consume_otp_in(&mut tx, hash, now).await?;
        if result.is_ok() {
            tx.commit().await.map_err(map_err)?;
        } else {
            // Nothing changes; the row lock is released now rather than when the &self.pool reuses the
            // connection.
            tx.rollback().await.map_err(map_err)?;
        }
        Ok(result)
    }
}
