use async_trait::async_trait;
use bankfeeds_domain::{NewOrg, Org, OrgId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{OrgCredential, StoreResult};
use sqlx::FromRow;
use uuid::Uuid;

use crate::map_err;
use crate::PostgresStore;

#[derive(FromRow)]
struct OrgRow {
    id: Uuid,
    name: String,
    client_id: String,
    client_secret_hash: String,
    created_at: Timestamp,
}

impl OrgRow {
    fn into_credential(self) -> StoreResult<OrgCredential> {
        let client_secret_hash = known(
            SecretHash::from_hex(&self.client_secret_hash),
            "orgs.client_secret_hash",
        )?;
        Ok(OrgCredential {
            org: Org {
                id: self.id.into(),
                name: self.name,
                client_id: self.client_id,
                created_at: self.created_at,
            },
            client_secret_hash,
        })
    }
}

const COLUMNS: &str = "id, name, client_id, client_secret_hash, created_at";

#[async_trait]
impl bankfeeds_store::OrgStore for PostgresStore {
    async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO orgs (id, name, client_id, client_secret_hash, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.org.id.as_uuid())
        .bind(&new.org.name)
        .bind(&new.org.client_id)
        .bind(new.client_secret_hash.to_hex())
        .bind(new.org.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let rows: Vec<OrgRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| r.into_credential().map(|c| c.org))
            .collect()
    }

    async fn get_org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        let row: Option<OrgRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs WHERE id = $1"))
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.map(|r| r.into_credential().map(|c| c.org)).transpose()
    }

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>> {
        let row: Option<OrgRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM orgs WHERE client_id = $1"))
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.map(OrgRow::into_credential).transpose()
    }
}
