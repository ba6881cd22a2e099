//! Link OTPs on SQLite: one-time, short-lived, and superseded by the next one issued unless the
//! issuer keeps earlier ones (the Codat door's QuickBooks links).

use async_trait::async_trait;
use bankfeeds_domain::otp::{NewOtp, OtpRecord, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, SecretHash, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{db, map_err, time, SqliteStore};

#[derive(FromRow)]
struct OtpRow {
    org_id: DbUuid,
    connection_id: DbUuid,
    expires_at: i64,
    used_at: Option<i64>,
    cancelled_at: Option<i64>,
}

impl TryFrom<OtpRow> for OtpRecord {
    type Error = StoreError;
    fn try_from(r: OtpRow) -> StoreResult<Self> {
        Ok(OtpRecord {
            org_id: r.org_id.into_uuid().into(),
            connection_id: r.connection_id.into_uuid().into(),
            expires_at: time::from_db(r.expires_at)?,
            used_at: time::opt_from_db(r.used_at)?,
            cancelled_at: time::opt_from_db(r.cancelled_at)?,
        })
    }
}

/// The OTP with this hash, read inside the caller's write transaction.
pub(crate) async fn load(
    tx: &mut SqliteConnection,
    hash: &SecretHash,
) -> StoreResult<Option<OtpRecord>> {
    let query = sqlx::query_as::<_, OtpRow>(
        "SELECT org_id, connection_id, expires_at, used_at, cancelled_at FROM otps WHERE hash = ?",
    )
    .bind(hash.to_hex());
    db::optional(query, &mut *tx).await
}

/// Uses the OTP up; the caller has checked it with [`OtpRecord::usable`].
pub(crate) async fn mark_used(
    tx: &mut SqliteConnection,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE otps SET used_at = ? WHERE hash = ?")
        .bind(time::to_db(now))
        .bind(hash.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(())
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
        let found = load(&mut tx, hash).await?;
        let otp = match OtpRecord::usable(found.as_ref(), now) {
            Ok(otp) => (otp.org_id, otp.connection_id),
            Err(refusal) => return Ok(Err(refusal)),
        };
        mark_used(&mut tx, hash, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Ok(otp))
    }
}
