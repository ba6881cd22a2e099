//! FI configurations on PostgreSQL.
//!
//! Text is ordered with `COLLATE "C"` (byte order), as SQLite orders it, whatever the
//! database's default collation.

use async_trait::async_trait;

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{OrgId, Platform, Timestamp};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::FromRow;
use uuid::Uuid;

use crate::PostgresStore;
use crate::{db, map_err};

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
            platform: parse(&r.platform, "fi_configs.platform")?,
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

#[async_trait]
impl bankfeeds_store::FiConfigStore for PostgresStore {
    async fn put_fi_config(&self, c: &FiConfig) -> StoreResult<FiConfig> {
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
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        FiConfig::try_from(row)
    }

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>> {
        let sql = format!("SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 AND platform = $2");
        let query = sqlx::query_as::<_, ConfigRow>(&sql)
            .bind(org.as_uuid())
            .bind(platform.as_str());
        db::optional(query, &self.pool).await
    }

    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 ORDER BY platform COLLATE \"C\""
        );
        let query = sqlx::query_as::<_, ConfigRow>(&sql).bind(org.as_uuid());
        db::all(query, &self.pool).await
    }

    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>> {
        // UUIDs sort as their bytes, i.e. as SQLite sorts their lower-case text.
        let sql = format!(
            "SELECT {COLUMNS} FROM fi_configs WHERE platform = $1
         ORDER BY display_name COLLATE \"C\", org_id"
        );
        let query = sqlx::query_as::<_, ConfigRow>(&sql).bind(platform.as_str());
        db::all(query, &self.pool).await
    }

    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()> {
        db::execute_found(
            sqlx::query("DELETE FROM fi_configs WHERE org_id = $1 AND platform = $2")
                .bind(org.as_uuid())
                .bind(platform.as_str()),
            &self.pool,
        )
        .await
    }
}
