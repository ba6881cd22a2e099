//! Link OTPs on SQLite: one-time, short-lived, and superseded by the next one issued unless the
//! issuer keeps earlier ones (the Codat door's QuickBooks links).

use async_trait::async_trait;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, SecretHash, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::FromRow;

use crate::{map_err, time, SqliteStore};

#[derive(FromRow)]
struct OtpRow {
    org_id: String,
    connection_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    cancelled_at: Option<i64>,
}

/// Uses an OTP inside the caller's write transaction.
pub(crate) async fn consume_otp_in(
    tx: &mut sqlx::SqliteConnection,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
    let row: Option<OtpRow> = sqlx::query_as(
        "SELECT org_id, connection_id, expires_at, used_at, cancelled_at FROM otps WHERE hash = ?",
    )
    .bind(hash.to_hex())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    let Some(OtpRow {
        org_id: org,
        connection_id: connection,
        expires_at,
        used_at,
        cancelled_at,
    }) = row
    else {
        return Ok(Err(OtpRefusal::Unknown));
    };
    let refusal = if used_at.is_some() {
        Some(OtpRefusal::AlreadyUsed)
    } else if cancelled_at.is_some() {
        Some(OtpRefusal::Superseded)
    } else if time::from_db(expires_at)? <= now {
        Some(OtpRefusal::Expired)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Ok(Err(refusal));
    }
    sqlx::query("UPDATE otps SET used_at = ? WHERE hash = ?")
        .bind(time::to_db(now))
        .bind(hash.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let corrupt = |_| StoreError::Backend("corrupt otps row".into());
    Ok(Ok((
        org.parse().map_err(corrupt)?,
        connection.parse().map_err(corrupt)?,
    )))
}

#[async_trait]
impl bankfeeds_store::OtpStore for SqliteStore {
    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        if !otp.keeps_earlier {
            sqlx::query(
                "UPDATE otps SET cancelled_at = ?
             WHERE connection_id = ? AND used_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(time::to_db(otp.created_at))
            .bind(otp.connection_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        sqlx::query(
        "INSERT INTO otps (hash, org_id, connection_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(otp.hash.to_hex())
    .bind(otp.org_id.to_string())
    .bind(otp.connection_id.to_string())
    .bind(time::to_db(otp.created_at))
    .bind(time::to_db(otp.expires_at))
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
        let mut tx = self.write_tx().await?;
        let result = consume_otp_in(&mut tx, hash, now).await?;
        if result.is_ok() {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(result)
    }
}
