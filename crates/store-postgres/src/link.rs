//! FI configurations and link OTPs on PostgreSQL.
//!
//! Several hub instances may issue and use OTPs at once. Issuing locks the connection's row
//! first, so issuers of one connection take turns and at most one OTP per connection is ever
//! active; using an OTP locks its row (`SELECT ... FOR UPDATE`), so of concurrent users exactly
//! one succeeds and the rest see it used, as on SQLite's single writer.
//!
//! Text is ordered with `COLLATE "C"` (byte order), as SQLite orders it, whatever the
//! database's default collation.

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, Platform, SecretHash, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::map_err;

#[derive(FromRow)]
struct ConfigRow {
    org_id: Uuid,
    platform: String,
    display_name: String,
    logo_url: Option<String>,
    country_code: String,
    login_url: String,
    otp_instructions: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<ConfigRow> for FiConfig {
    type Error = StoreError;
    fn try_from(r: ConfigRow) -> StoreResult<Self> {
        Ok(FiConfig {
            org_id: r.org_id.into(),
            platform: r
                .platform
                .parse()
                .map_err(|_| StoreError::Backend("corrupt fi_configs row: platform".into()))?,
            display_name: r.display_name,
            logo_url: r.logo_url,
            country_code: r.country_code,
            login_url: r.login_url,
            otp_instructions: r.otp_instructions,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "org_id, platform, display_name, logo_url, country_code, login_url,
    otp_instructions, created_at, updated_at";

pub async fn put_config(pool: &PgPool, c: &FiConfig) -> StoreResult<FiConfig> {
    // One statement: concurrent puts of one (org, platform) take turns on the primary key.
    let row: ConfigRow = sqlx::query_as(&format!(
        "INSERT INTO fi_configs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id, platform) DO UPDATE SET
             display_name = excluded.display_name, logo_url = excluded.logo_url,
             country_code = excluded.country_code, login_url = excluded.login_url,
             otp_instructions = excluded.otp_instructions, updated_at = excluded.updated_at
         RETURNING {COLUMNS}"
    ))
    .bind(c.org_id.as_uuid())
    .bind(c.platform.as_str())
    .bind(&c.display_name)
    .bind(&c.logo_url)
    .bind(&c.country_code)
    .bind(&c.login_url)
    .bind(&c.otp_instructions)
    .bind(c.created_at)
    .bind(c.updated_at)
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    FiConfig::try_from(row)
}

pub async fn get_config(
    pool: &PgPool,
    org: OrgId,
    platform: Platform,
) -> StoreResult<Option<FiConfig>> {
    let row: Option<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 AND platform = $2"
    ))
    .bind(org.as_uuid())
    .bind(platform.as_str())
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.map(FiConfig::try_from).transpose()
}

pub async fn list_configs(pool: &PgPool, org: OrgId) -> StoreResult<Vec<FiConfig>> {
    let rows: Vec<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 ORDER BY platform COLLATE \"C\""
    ))
    .bind(org.as_uuid())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(FiConfig::try_from).collect()
}

pub async fn list_for_platform(pool: &PgPool, platform: Platform) -> StoreResult<Vec<FiConfig>> {
    // UUIDs sort as their bytes, i.e. as SQLite sorts their lower-case text.
    let rows: Vec<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE platform = $1
         ORDER BY display_name COLLATE \"C\", org_id"
    ))
    .bind(platform.as_str())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(FiConfig::try_from).collect()
}

pub async fn delete_config(pool: &PgPool, org: OrgId, platform: Platform) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM fi_configs WHERE org_id = $1 AND platform = $2")
        .bind(org.as_uuid())
        .bind(platform.as_str())
        .execute(pool)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn issue_otp(pool: &PgPool, otp: &NewOtp) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(map_err)?;
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

#[derive(FromRow)]
struct OtpRow {
    org_id: Uuid,
    connection_id: Uuid,
    expires_at: Timestamp,
    used_at: Option<Timestamp>,
    cancelled_at: Option<Timestamp>,
}

pub async fn consume_otp(
    pool: &PgPool,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let result = consume_otp_in(&mut tx, hash, now).await?;
    if result.is_ok() {
        tx.commit().await.map_err(map_err)?;
    } else {
        // Nothing changes; the row lock is released now rather than when the pool reuses the
        // connection.
        tx.rollback().await.map_err(map_err)?;
    }
    Ok(result)
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
