//! Organisations: the FIs the hub serves, with the digest of each one's client secret.

use bankfeeds_domain::{NewOrg, Org, OrgId, SecretHash};
use bankfeeds_store::decode::known;
use bankfeeds_store::{OrgCredential, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql};

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: DbId,
    name: String,
    client_id: String,
    client_secret_hash: String,
    created_at: DbTime,
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
            },
        })
    }
}

const SELECT: &str = "SELECT id, name, client_id, client_secret_hash, created_at FROM orgs";

pub async fn create_org<B: Backend>(db: &B, new: &NewOrg) -> StoreResult<()> {
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

pub async fn list_orgs<B: Backend>(db: &B) -> StoreResult<Vec<Org>> {
    let all: Vec<OrgCredential> = db
        .reader()
        .all::<OrgRow, _>(Sql::new(format!("{SELECT} ORDER BY id")))
        .await?;
    Ok(all.into_iter().map(|c| c.org).collect())
}

pub async fn get_org<B: Backend>(db: &B, id: OrgId) -> StoreResult<Option<Org>> {
    let found: Option<OrgCredential> = db
        .reader()
        .optional::<OrgRow, _>(Sql::new(format!("{SELECT} WHERE id = $1")).bind(id.as_uuid()))
        .await?;
    Ok(found.map(|c| c.org))
}

pub async fn find_org_credential<B: Backend>(
    db: &B,
    client_id: &str,
) -> StoreResult<Option<OrgCredential>> {
    db.reader()
        .optional::<OrgRow, _>(Sql::new(format!("{SELECT} WHERE client_id = $1")).bind(client_id))
        .await
}

/// Implements `OrgStore` for a backend type with the functions above.
#[macro_export]
macro_rules! impl_org_store {
    ($t:ty) => {
        const _: () = {
            use $crate::reexport::domain::{NewOrg, Org, OrgId};
            use $crate::reexport::store::{OrgCredential, OrgStore, StoreResult};

            #[$crate::reexport::async_trait]
            impl OrgStore for $t {
                async fn create_org(&self, new: &NewOrg) -> StoreResult<()> {
                    $crate::orgs::create_org(self, new).await
                }

                async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
                    $crate::orgs::list_orgs(self).await
                }

                async fn get_org(&self, id: OrgId) -> StoreResult<Option<Org>> {
                    $crate::orgs::get_org(self, id).await
                }

                async fn find_org_credential(
                    &self,
                    client_id: &str,
                ) -> StoreResult<Option<OrgCredential>> {
                    $crate::orgs::find_org_credential(self, client_id).await
                }
            }
        };
    };
}
