//! Connector settings: sandbox or live per organisation and platform, with sealed credentials.

use bankfeeds_domain::live::{ConnectorMode, ConnectorSettings};
use bankfeeds_domain::{OrgId, Platform};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{ConnectorStore, StoreError, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct ConnectorRow {
    org_id: DbId,
    platform: String,
    mode: String,
    client_id_sealed: Option<String>,
    client_secret_sealed: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<ConnectorRow> for ConnectorSettings {
    type Error = StoreError;

    fn try_from(r: ConnectorRow) -> StoreResult<Self> {
        Ok(ConnectorSettings {
            org_id: r.org_id.0.into(),
            platform: parse(&r.platform, "platform_connectors.platform")?,
            mode: known(ConnectorMode::parse(&r.mode), "platform_connectors.mode")?,
            client_id_sealed: r.client_id_sealed,
            client_secret_sealed: r.client_secret_sealed,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const COLUMNS: &str = "org_id, platform, mode, client_id_sealed, client_secret_sealed,
    created_at, updated_at";

#[async_trait::async_trait]
impl<B: Backend> ConnectorStore for SqlStore<B> {
    async fn put_connector(&self, c: &ConnectorSettings) -> StoreResult<ConnectorSettings> {
        let mut tx = self.0.write().await?;
        let saved = tx
            .one::<ConnectorRow, _>(
                Sql::new(format!(
                    "INSERT INTO platform_connectors ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (org_id, platform) DO UPDATE SET
                     mode = excluded.mode, client_id_sealed = excluded.client_id_sealed,
                     client_secret_sealed = excluded.client_secret_sealed,
                     updated_at = excluded.updated_at
                 RETURNING {COLUMNS}"
                ))
                .bind(c.org_id.as_uuid())
                .bind(c.platform.as_str())
                .bind(c.mode.as_str())
                .bind(c.client_id_sealed.as_deref())
                .bind(c.client_secret_sealed.as_deref())
                .bind(c.created_at)
                .bind(c.updated_at),
            )
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn get_connector(
        &self,
        org: OrgId,
        platform: Platform,
    ) -> StoreResult<Option<ConnectorSettings>> {
        self.0
            .reader()
            .optional::<ConnectorRow, _>(
                Sql::new(format!(
                    "SELECT {COLUMNS} FROM platform_connectors WHERE org_id = $1 AND platform = $2"
                ))
                .bind(org.as_uuid())
                .bind(platform.as_str()),
            )
            .await
    }
}
