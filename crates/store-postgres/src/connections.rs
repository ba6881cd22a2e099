use async_trait::async_trait;
use bankfeeds_domain::{
    Connection, ConnectionId, NewConnection, OrgId, Page, PageRequest, SecretHash, Timestamp,
};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{Idem, Outcome, StoreError, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::PostgresStore;
use crate::{accounts, db, idempotency, map_err};

#[derive(FromRow)]
pub(crate) struct ConnectionRow {
    id: Uuid,
    org_id: Uuid,
    platform: String,
    name: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Option<Timestamp>,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> StoreResult<Self> {
        Ok(Connection {
            id: r.id.into(),
            org_id: r.org_id.into(),
            platform: parse(&r.platform, "connections.platform")?,
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, org_id, platform, name, created_at, updated_at, deleted_at";

/// Inserts a connection inside the caller's transaction.
pub(crate) async fn insert(tx: &mut PgConnection, new: &NewConnection) -> StoreResult<()> {
    let c = &new.connection;
    sqlx::query(
        "INSERT INTO connections
             (id, org_id, platform, name, access_token_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id.as_uuid())
    .bind(c.org_id.as_uuid())
    .bind(c.platform.as_str())
    .bind(&c.name)
    .bind(new.access_token_hash.to_hex())
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl bankfeeds_store::ConnectionStore for PostgresStore {
    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>> {
        let c = &new.connection;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, c.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        insert(&mut tx, new).await?;
        idempotency::finish(&mut tx, idem, c).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Outcome::Done(()))
    }

    async fn list_connections(
        &self,
        org: OrgId,
        page: &PageRequest<ConnectionId>,
    ) -> StoreResult<Page<Connection>> {
        // One extra row tells whether another page follows.
        let sql = format!(
            "SELECT {COLUMNS} FROM connections
         WHERE org_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
        );
        let query = sqlx::query_as::<_, ConnectionRow>(&sql)
            .bind(org.as_uuid())
            .bind(page.after.map(|a| a.as_uuid()))
            .bind(i64::from(page.limit) + 1);
        db::page(query, &self.pool, page.limit).await
    }

    async fn find_connection_by_token(
        &self,
        token: &SecretHash,
    ) -> StoreResult<Option<Connection>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE access_token_hash = $1");
        let query = sqlx::query_as::<_, ConnectionRow>(&sql).bind(token.to_hex());
        db::optional(query, &self.pool).await
    }

    async fn get_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        let sql = format!(
        "SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
        let query = sqlx::query_as::<_, ConnectionRow>(&sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid());
        db::optional(query, &self.pool).await
    }

    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1 AND deleted_at IS NULL");
        let query = sqlx::query_as::<_, ConnectionRow>(&sql).bind(id.as_uuid());
        db::optional(query, &self.pool).await
    }

    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        db::execute_found(sqlx::query("UPDATE connections SET access_token_hash = $1, updated_at = $2 WHERE org_id = $3 AND id = $4 AND deleted_at IS NULL")
        .bind(token.to_hex())
        .bind(at)
        .bind(org.as_uuid())
        .bind(id.as_uuid()),
&mut *tx,
)
.await?;
        let row: ConnectionRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM connections WHERE id = $1"))
                .bind(id.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Connection::try_from(row)
    }

    async fn delete_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        db::execute_found(
            sqlx::query(
                "UPDATE connections SET deleted_at = $3, updated_at = $3
         WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL",
            )
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .bind(at),
            &mut *tx,
        )
        .await?;
        accounts::delete_all_of_connection(&mut tx, id, at).await?;
        tx.commit().await.map_err(map_err)
    }
}
