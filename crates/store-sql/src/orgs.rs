//! Organisations: the FIs the hub serves, with the digest of each one's client secret.

use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{NewOrg, Org, OrgId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{NewEvent, OrgCredential, OrgStore, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: DbId,
    name: String,
    client_id: String,
    client_secret_hash: String,
    created_at: DbTime,
    disabled_at: Option<DbTime>,
}

impl TryFrom<OrgRow> for OrgCredential {
    type Error = bankfeeds_store::StoreError;

    fn try_from(r: OrgRow) -> StoreResult<Self> {
        Ok(OrgCredential {
            client_secret_hash: known(
                SecretHash::from_hex(&r.client_secret_hash),
                "orgs.client_secret_hash",
            )?,
            org: Org {
                id: r.id.0.into(),
                name: r.name,
                client_id: r.client_id,
                created_at: r.created_at.0,
                disabled_at: r.disabled_at.map(|t| t.0),
            },
        })
    }
}

const SELECT: &str =
    "SELECT id, name, client_id, client_secret_hash, created_at, disabled_at FROM orgs";

/// The organisation with this id, read where `e` runs (a transaction, to decide under it).
pub(crate) async fn load(e: &mut impl Exec, id: OrgId) -> StoreResult<Option<Org>> {
    let found: Option<OrgCredential> = e
        .optional::<OrgRow, _>(Sql::new(format!("{SELECT} WHERE id = $1")).bind(id.as_uuid()))
        .await?;
    Ok(found.map(|c| c.org))
}

#[async_trait::async_trait]
impl<B: Backend> OrgStore for SqlStore<B> {
    async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "INSERT INTO orgs (id, name, client_id, client_secret_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.org.id.as_uuid())
            .bind(&new.org.name)
            .bind(&new.org.client_id)
            .bind(new.client_secret_hash.to_hex())
            .bind(new.org.created_at),
        )
        .await?;
        Ok(())
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let db = &self.0;
        let all: Vec<OrgCredential> = db
            .reader()
            .all::<OrgRow, _>(Sql::new(format!("{SELECT} ORDER BY id")))
            .await?;
        Ok(all.into_iter().map(|c| c.org).collect())
    }

    async fn get_org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        load(&mut self.0.reader(), id).await
    }

    async fn find_org_credential(&self, client_id: &str) -> StoreResult<Option<OrgCredential>> {
        let db = &self.0;
        db.reader()
            .optional::<OrgRow, _>(
                Sql::new(format!("{SELECT} WHERE client_id = $1")).bind(client_id),
            )
            .await
    }

    async fn rotate_client_secret_by(
        &self,
        id: OrgId,
        hash: &SecretHash,
        by: Option<OperatorId>,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        tx.execute_found(
            Sql::new("UPDATE orgs SET client_secret_hash = $1 WHERE id = $2")
                .bind(hash.to_hex())
                .bind(id.as_uuid()),
        )
        .await?;
        let event = NewEvent::client_secret_rotated(id, by);
        crate::events::append(&mut tx, &event, at).await?;
        tx.commit().await
    }

    async fn set_org_disabled(&self, id: OrgId, at: Option<Timestamp>) -> StoreResult<Org> {
        let mut tx = self.0.write().await?;
        tx.execute_found(
            Sql::new("UPDATE orgs SET disabled_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id.as_uuid()),
        )
        .await?;
        let found: OrgCredential = tx
            .one::<OrgRow, _>(Sql::new(format!("{SELECT} WHERE id = $1")).bind(id.as_uuid()))
            .await?;
        tx.commit().await?;
        Ok(found.org)
    }

    async fn delete_org(&self, id: OrgId) -> StoreResult<Vec<(&'static str, u64)>> {
        self.erase_org(id).await
    }
}
