//! FI configurations on SQLite.

use async_trait::async_trait;

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{OrgId, Platform};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::FromRow;

use crate::error::DbUuid;
use crate::{db, map_err, time, SqliteStore};

#[derive(FromRow)]
struct ConfigRow {
    org_id: DbUuid,
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
        Ok(FiConfig {
            org_id: r.org_id.into_uuid().into(),
            platform: parse(&r.platform, "fi_configs.platform")?,
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

#[async_trait]
impl bankfeeds_store::FiConfigStore for SqliteStore {
    async fn put_fi_config(&self, c: &FiConfig) -> StoreResult<FiConfig> {
        let mut tx = self.write_tx().await?;
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

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>> {
        let sql = format!("SELECT {COLUMNS} FROM fi_configs WHERE org_id = ? AND platform = ?");
        let query = sqlx::query_as::<_, ConfigRow>(&sql)
            .bind(org.to_string())
            .bind(platform.as_str());
        db::optional(query, &self.reader).await
    }

    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>> {
        let sql = format!("SELECT {COLUMNS} FROM fi_configs WHERE org_id = ? ORDER BY platform");
        let query = sqlx::query_as::<_, ConfigRow>(&sql).bind(org.to_string());
        db::all(query, &self.reader).await
    }

    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM fi_configs WHERE platform = ? ORDER BY display_name, org_id"
        );
        let query = sqlx::query_as::<_, ConfigRow>(&sql).bind(platform.as_str());
        db::all(query, &self.reader).await
    }

    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        db::execute_found(
            sqlx::query("DELETE FROM fi_configs WHERE org_id = ? AND platform = ?")
                .bind(org.to_string())
                .bind(platform.as_str()),
            &mut *tx,
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }
}
