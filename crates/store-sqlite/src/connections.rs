use async_trait::async_trait;
use bankfeeds_domain::{
    Connection, ConnectionId, NewConnection, OrgId, Page, PageRequest, SecretHash, Timestamp,
};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{Idem, Outcome, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{accounts, db, idempotency, map_err, time, SqliteStore};

#[derive(FromRow)]
pub(crate) struct ConnectionRow {
    id: DbUuid,
    org_id: DbUuid,
    platform: String,
    name: Option<String>,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> StoreResult<Self> {
        Ok(Connection {
            id: r.id.into_uuid().into(),
            org_id: r.org_id.into_uuid().into(),
            platform: parse(&r.platform, "connections.platform")?,
            name: r.name,
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
            deleted_at: time::opt_from_db(r.deleted_at)?,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, org_id, platform, name, created_at, updated_at, deleted_at";

/// Inserts a connection inside the caller's write transaction.
pub(crate) async fn insert(tx: &mut SqliteConnection, new: &NewConnection) -> StoreResult<()> {
    let c = &new.connection;
    sqlx::query(
        "INSERT INTO connections
             (id, org_id, platform, name, access_token_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.id.to_string())
    .bind(c.org_id.to_string())
    .bind(c.platform.as_str())
    .bind(&c.name)
    .bind(new.access_token_hash.to_hex())
    .bind(time::to_db(c.created_at))
    .bind(time::to_db(c.updated_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl bankfeeds_store::ConnectionStore for SqliteStore {
    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>> {
        let c = &new.connection;
        let mut tx = self.write_tx().await?;
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
         WHERE org_id = ? AND deleted_at IS NULL AND id > ?
         ORDER BY id LIMIT ?"
        );
        let query = sqlx::query_as::<_, ConnectionRow>(&sql)
            .bind(org.to_string())
            .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
            .bind(i64::from(page.limit) + 1);
        db::page(query, &self.reader, page.limit).await
    }

    async fn find_connection_by_token(
        &self,
        token: &SecretHash,
    ) -> StoreResult<Option<Connection>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE access_token_hash = ?");
        let query = sqlx::query_as::<_, ConnectionRow>(&sql).bind(token.to_hex());
        db::optional(query, &self.reader).await
    }

    async fn get_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE org_id = ? AND id = ? AND deleted_at IS NULL"
        );
        let query = sqlx::query_as::<_, ConnectionRow>(&sql)
            .bind(org.to_string())
            .bind(id.to_string());
        db::optional(query, &self.reader).await
    }

    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = ? AND deleted_at IS NULL");
        let query = sqlx::query_as::<_, ConnectionRow>(&sql).bind(id.to_string());
        db::optional(query, &self.reader).await
    }

    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection> {
        let mut tx = self.write_tx().await?;
        db::execute_found(sqlx::query("UPDATE connections SET access_token_hash = ?, updated_at = ? WHERE org_id = ? AND id = ? AND deleted_at IS NULL")
        .bind(token.to_hex())
        .bind(time::to_db(at))
        .bind(org.to_string())
        .bind(id.to_string()),
&mut *tx,
)
.await?;
        let row: ConnectionRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?"))
                .bind(id.to_string())
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
        let mut tx = self.write_tx().await?;
        db::execute_found(
            sqlx::query(
                "UPDATE connections SET deleted_at = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
            )
            .bind(time::to_db(at))
            .bind(time::to_db(at))
            .bind(org.to_string())
            .bind(id.to_string()),
            &mut *tx,
        )
        .await?;
        accounts::delete_all_of_connection(&mut tx, id, at).await?;
        tx.commit().await.map_err(map_err)
    }
}
