//! FI configurations: what a customer's link page shows for each platform.

use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{OrgId, Platform};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{FiConfigStore, NewEvent, StoreError, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct ConfigRow {
    org_id: DbId,
    platform: String,
    display_name: String,
    logo_url: Option<String>,
    country_code: String,
    login_url: String,
    otp_instructions: Option<String>,
    ofx_fid: Option<String>,
    ofx_bank_id: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<ConfigRow> for FiConfig {
    type Error = StoreError;

    fn try_from(r: ConfigRow) -> StoreResult<Self> {
        Ok(FiConfig {
            org_id: r.org_id.0.into(),
            platform: parse(&r.platform, "fi_configs.platform")?,
            display_name: r.display_name,
            logo_url: r.logo_url,
            country_code: r.country_code,
            login_url: r.login_url,
            otp_instructions: r.otp_instructions,
            ofx_fid: r.ofx_fid,
            ofx_bank_id: r.ofx_bank_id,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const COLUMNS: &str = "org_id, platform, display_name, logo_url, country_code, login_url,
    otp_instructions, ofx_fid, ofx_bank_id, created_at, updated_at";

#[async_trait::async_trait]
impl<B: Backend> FiConfigStore for SqlStore<B> {
    async fn put_fi_config_by(
        &self,
        c: &FiConfig,
        by: Option<OperatorId>,
    ) -> StoreResult<FiConfig> {
        let db = &self.0;
        // One statement: concurrent puts of one (org, platform) take turns on the primary key.
        let mut tx = db.write().await?;
        let saved = tx
            .one::<ConfigRow, _>(
                Sql::new(format!(
                    "INSERT INTO fi_configs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (org_id, platform) DO UPDATE SET
                     display_name = excluded.display_name, logo_url = excluded.logo_url,
                     country_code = excluded.country_code, login_url = excluded.login_url,
                     otp_instructions = excluded.otp_instructions, ofx_fid = excluded.ofx_fid,
                     ofx_bank_id = excluded.ofx_bank_id, updated_at = excluded.updated_at
                 RETURNING {COLUMNS}"
                ))
                .bind(c.org_id.as_uuid())
                .bind(c.platform.as_str())
                .bind(&c.display_name)
                .bind(c.logo_url.as_deref())
                .bind(&c.country_code)
                .bind(&c.login_url)
                .bind(c.otp_instructions.as_deref())
                .bind(c.ofx_fid.as_deref())
                .bind(c.ofx_bank_id.as_deref())
                .bind(c.created_at)
                .bind(c.updated_at),
            )
            .await?;
        let event = NewEvent::fi_config_updated(&saved, by);
        crate::events::append(&mut tx, &event, saved.updated_at).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn get_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<Option<FiConfig>> {
        let db = &self.0;
        db.reader()
            .optional::<ConfigRow, _>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 AND platform = $2"
                ))
                .bind(org.as_uuid())
                .bind(platform.as_str()),
            )
            .await
    }

    async fn list_fi_configs(&self, org: OrgId) -> StoreResult<Vec<FiConfig>> {
        let db = &self.0;
        let order = B::DIALECT.bytewise();
        db.reader()
            .all::<ConfigRow, _>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM fi_configs WHERE org_id = $1 ORDER BY platform{order}"
                ))
                .bind(org.as_uuid()),
            )
            .await
    }

    async fn list_fis_for_platform(&self, platform: Platform) -> StoreResult<Vec<FiConfig>> {
        let db = &self.0;
        // UUIDs sort as their bytes on PostgreSQL, i.e. as SQLite sorts their lower-case text.
        let order = B::DIALECT.bytewise();
        db.reader()
            .all::<ConfigRow, _>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM fi_configs WHERE platform = $1
                 ORDER BY display_name{order}, org_id"
                ))
                .bind(platform.as_str()),
            )
            .await
    }

    async fn delete_fi_config(&self, org: OrgId, platform: Platform) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        tx.execute_found(
            Sql::new("DELETE FROM fi_configs WHERE org_id = $1 AND platform = $2")
                .bind(org.as_uuid())
                .bind(platform.as_str()),
        )
        .await?;
        tx.commit().await
    }
}
