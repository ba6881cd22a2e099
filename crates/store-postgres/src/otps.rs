//! Link OTPs on PostgreSQL.
//!
//! Several hub instances may issue and use OTPs at once. Issuing locks the connection's row
//! first, so issuers of one connection take turns and at most one OTP per connection is ever
//! active; using an OTP locks its row (`SELECT ... FOR UPDATE`), so of concurrent users exactly
//! one succeeds and the rest see it used, as on SQLite's single writer.

use async_trait::async_trait;
use bankfeeds_domain::otp::{NewOtp, OtpRecord, OtpRefusal};
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

impl From<OtpRow> for OtpRecord {
    fn from(r: OtpRow) -> Self {
        OtpRecord {
            org_id: r.org_id.into(),
            connection_id: r.connection_id.into(),
            expires_at: r.expires_at,
            used_at: r.used_at,
            cancelled_at: r.cancelled_at,
        }
    }
}

/// The OTP with this hash, its row locked until the caller's transaction ends: concurrent
/// users of one OTP wait here for the first to finish, then read its `used_at`.
pub(crate) async fn load_for_update(
    tx: &mut PgConnection,
    hash: &SecretHash,
) -> StoreResult<Option<OtpRecord>> {
    let row: Option<OtpRow> = sqlx::query_as(
        "SELECT org_id, connection_id, expires_at, used_at, cancelled_at
         FROM otps WHERE hash = $1 FOR UPDATE",
    )
    .bind(hash.to_hex())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(row.map(OtpRecord::from))
}

/// Uses the OTP up; the caller has checked it with [`OtpRecord::usable`].
pub(crate) async fn mark_used(
    tx: &mut PgConnection,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE otps SET used_at = $1 WHERE hash = $2")
        .bind(now)
        .bind(hash.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(())
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
        let found = load_for_update(&mut tx, hash).await?;
        match OtpRecord::usable(found.as_ref(), now) {
            Ok(otp) => {
                let used = (otp.org_id, otp.connection_id);
                mark_used(&mut tx, hash, now).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(Ok(used))
            }
            Err(refusal) => {
                // Nothing changes; the row lock is released now rather than when the pool
                // reuses the connection.
                tx.rollback().await.map_err(map_err)?;
                Ok(Err(refusal))
            }
        }
    }
}
