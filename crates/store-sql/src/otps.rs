//! Link OTPs: one-time, short-lived, and superseded by the next one issued unless the issuer
//! keeps earlier ones (the Codat door's QuickBooks links).
//!
//! Several hub instances may issue and use OTPs at once on PostgreSQL. Issuing locks the
//! connection's row first, so issuers of one connection take turns and at most one OTP per
//! connection is ever active; using an OTP locks its row, so of concurrent users exactly one
//! succeeds and the rest see it used, as on SQLite's single writer.

use bankfeeds_domain::otp::{NewOtp, OtpRecord, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, SecretHash, Timestamp};
use bankfeeds_store::{OtpStore, StoreError, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct OtpRow {
    org_id: DbId,
    connection_id: DbId,
    expires_at: DbTime,
    used_at: Option<DbTime>,
    cancelled_at: Option<DbTime>,
}

impl TryFrom<OtpRow> for OtpRecord {
    type Error = StoreError;

    fn try_from(r: OtpRow) -> StoreResult<Self> {
        Ok(OtpRecord {
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            expires_at: r.expires_at.0,
            used_at: r.used_at.map(|t| t.0),
            cancelled_at: r.cancelled_at.map(|t| t.0),
        })
    }
}

/// The OTP with this hash, its row locked until the caller's transaction ends: concurrent users
/// of one OTP wait here for the first to finish, then read its `used_at`.
pub async fn load_for_update<B: Backend>(
    tx: &mut impl Exec,
    hash: &SecretHash,
) -> StoreResult<Option<OtpRecord>> {
    let sql = format!(
        "SELECT org_id, connection_id, expires_at, used_at, cancelled_at
         FROM otps WHERE hash = $1{}",
        B::DIALECT.for_update()
    );
    tx.optional::<OtpRow, _>(Sql::new(sql).bind(hash.to_hex()))
        .await
}

/// Uses the OTP up; the caller has checked it with [`OtpRecord::usable`].
pub async fn mark_used(tx: &mut impl Exec, hash: &SecretHash, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        Sql::new("UPDATE otps SET used_at = $1 WHERE hash = $2")
            .bind(now)
            .bind(hash.to_hex()),
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<B: Backend> OtpStore for SqlStore<B> {
    async fn issue_otp(&self, otp: &NewOtp) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        // Issuers of one connection take turns here: without the lock, two could each cancel the
        // other's (not yet visible) OTP and both insert, leaving two active. An unknown connection
        // locks nothing and the insert below fails on its foreign key.
        let lock = format!(
            "SELECT id FROM connections WHERE id = $1{}",
            B::DIALECT.for_update()
        );
        tx.execute(Sql::new(lock).bind(otp.connection_id.as_uuid()))
            .await?;
        if !otp.keeps_earlier {
            tx.execute(
                Sql::new(
                    "UPDATE otps SET cancelled_at = $1
                 WHERE connection_id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
                )
                .bind(otp.created_at)
                .bind(otp.connection_id.as_uuid()),
            )
            .await?;
        }
        tx.execute(
            Sql::new(
                "INSERT INTO otps (hash, org_id, connection_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(otp.hash.to_hex())
            .bind(otp.org_id.as_uuid())
            .bind(otp.connection_id.as_uuid())
            .bind(otp.created_at)
            .bind(otp.expires_at),
        )
        .await?;
        tx.commit().await
    }

    async fn consume_otp(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let found = load_for_update::<B>(&mut tx, hash).await?;
        match OtpRecord::usable(found.as_ref(), now) {
            Ok(otp) => {
                let used = (otp.org_id, otp.connection_id);
                mark_used(&mut tx, hash, now).await?;
                tx.commit().await?;
                Ok(Ok(used))
            }
            Err(refusal) => {
                tx.rollback().await?;
                Ok(Err(refusal))
            }
        }
    }
}
