//! FI configurations and link OTPs on SQLite.

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::otp::{NewOtp, OtpRefusal};
use bankfeeds_domain::{ConnectionId, OrgId, Platform, SecretHash, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, SqlitePool};

use crate::{map_err, time, SqliteStore};

#[derive(FromRow)]
struct ConfigRow {
    org_id: String,
    platform: String,
    display_name: String,
    logo_url: Option<String>,
    country_code: String,
    login_url: String,
    otp_instructions: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ConfigRow> for FiConfig {
    type Error = StoreError;
    fn try_from(r: ConfigRow) -> StoreResult<Self> {
        let corrupt =
            |what: &str| StoreError::Backend(format!("corrupt fi_configs row: {what}").into());
        Ok(FiConfig {
            org_id: r.org_id.parse().map_err(|_| corrupt("org_id"))?,
            platform: r.platform.parse().map_err(|_| corrupt("platform"))?,
            display_name: r.display_name,
            logo_url: r.logo_url,
            country_code: r.country_code,
            login_url: r.login_url,
            otp_instructions: r.otp_instructions,
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "org_id, platform, display_name, logo_url, country_code, login_url,
    otp_instructions, created_at, updated_at";

pub async fn put_config(store: &SqliteStore, c: &FiConfig) -> StoreResult<FiConfig> {
    let mut tx = store.write_tx().await?;
    let row: ConfigRow = sqlx::query_as(&format!(
        "INSERT INTO fi_configs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (org_id, platform) DO UPDATE SET
             display_name = excluded.display_name, logo_url = excluded.logo_url,
             country_code = excluded.country_code, login_url = excluded.login_url,
             otp_instructions = excluded.otp_instructions, updated_at = excluded.updated_at
         RETURNING {COLUMNS}"
    ))
    .bind(c.org_id.to_string())
    .bind(c.platform.as_str())
    .bind(&c.display_name)
    .bind(&c.logo_url)
    .bind(&c.country_code)
    .bind(&c.login_url)
    .bind(&c.otp_instructions)
    .bind(time::to_db(c.created_at))
    .bind(time::to_db(c.updated_at))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    FiConfig::try_from(row)
}

pub async fn get_config(
    pool: &SqlitePool,
    org: OrgId,
    platform: Platform,
) -> StoreResult<Option<FiConfig>> {
    let row: Option<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE org_id = ? AND platform = ?"
    ))
    .bind(org.to_string())
    .bind(platform.as_str())
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.map(FiConfig::try_from).transpose()
}

pub async fn list_configs(pool: &SqlitePool, org: OrgId) -> StoreResult<Vec<FiConfig>> {
    let rows: Vec<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE org_id = ? ORDER BY platform"
    ))
    .bind(org.to_string())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(FiConfig::try_from).collect()
}

pub async fn list_for_platform(
    pool: &SqlitePool,
    platform: Platform,
) -> StoreResult<Vec<FiConfig>> {
    let rows: Vec<ConfigRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fi_configs WHERE platform = ? ORDER BY display_name, org_id"
    ))
    .bind(platform.as_str())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(FiConfig::try_from).collect()
}

pub async fn delete_config(store: &SqliteStore, org: OrgId, platform: Platform) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let done = sqlx::query("DELETE FROM fi_configs WHERE org_id = ? AND platform = ?")
        .bind(org.to_string())
        .bind(platform.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(map_err)
}

pub async fn issue_otp(store: &SqliteStore, otp: &NewOtp) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
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

#[derive(FromRow)]
struct OtpRow {
    org_id: String,
    connection_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    cancelled_at: Option<i64>,
}

pub async fn consume_otp(
    store: &SqliteStore,
    hash: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<(OrgId, ConnectionId), OtpRefusal>> {
    let mut tx = store.write_tx().await?;
    let result = consume_otp_in(&mut tx, hash, now).await?;
    if result.is_ok() {
        tx.commit().await.map_err(map_err)?;
    }
    Ok(result)
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
