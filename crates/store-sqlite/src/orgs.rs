use async_trait::async_trait;
use bankfeeds_domain::{NewOrg, Org, OrgId, SecretHash};
use bankfeeds_store::decode::known;
use bankfeeds_store::{OrgCredential, StoreResult};
use sqlx::FromRow;

use crate::error::DbUuid;
use crate::{map_err, time, SqliteStore};

#[derive(FromRow)]
struct OrgRow {
    id: DbUuid,
    name: String,
    client_id: String,
    client_secret_hash: String,
    created_at: i64,
}

impl OrgRow {
    fn into_credential(self) -> StoreResult<OrgCredential> {
        let client_secret_hash = known(
            SecretHash::from_hex(&self.client_secret_hash),
            "orgs.client_secret_hash",
        )?;
        Ok(OrgCredential {
            org: Org {
                id: self.id.into_uuid().into(),
                name: self.name,
                client_id: self.client_id,
                created_at: time::from_db(self.created_at)?,
            },
            client_secret_hash,
        })
    }
}

const COLUMNS: &str = "id, name, client_id, client_secret_hash, created_at";

#[async_trait]
impl bankfeeds_store::OrgStore for SqliteStore {
    async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO orgs (id, name, client_id, client_secret_hash, created_at)
         VALUES (?, ?, ?, ?, ?)",
        )
        .bind(new.org.id.to_string())
        .bind(&new.org.name)
        .bind(&new.org.client_id)
        .bind(new.client_secret_hash.to_hex())
        .bind(time::to_db(new.org.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let rows: Vec<OrgRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs ORDER BY id"))
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| r.into_credential().map(|c| c.org))
            .collect()
    }

    async fn get_org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        let row: Option<OrgRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        row.map(|r| r.into_credential().map(|c| c.org)).transpose()
    }

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>> {
        let row: Option<OrgRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs WHERE client_id = ?"))
                .bind(client_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        row.map(OrgRow::into_credential).transpose()
    }
}
