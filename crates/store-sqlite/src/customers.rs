//! The FI's customers (the Codat door's companies) on SQLite, and their connections.

use async_trait::async_trait;

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::{
    BankFeedAccountId, Connection, ConnectionId, NewConnection, OrgId, SecretHash, Timestamp,
};
use bankfeeds_store::decode::{count, json};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::connections::{self, ConnectionRow};
use crate::error::DbUuid;
use crate::{accounts, db, map_err, time, SqliteStore};

#[derive(FromRow)]
struct CustomerRow {
    id: DbUuid,
    org_id: DbUuid,
    name: String,
    description: Option<String>,
    tags: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> StoreResult<Self> {
        Ok(Customer {
            id: r.id.into_uuid().into(),
            org_id: r.org_id.into_uuid().into(),
            name: r.name,
            description: r.description,
            tags: json::<BTreeMap<String, String>>(&r.tags, "customers.tags")?,
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, org_id, name, description, tags, created_at, updated_at";

fn tags(c: &Customer) -> String {
    serde_json::to_string(&c.tags).expect("a string map serializes")
}

#[derive(FromRow)]
struct CustomerConnectionRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    customer_id: DbUuid,
    unlinked_at: Option<i64>,
    active_feeds: i64,
    last_synced_at: Option<i64>,
}

impl TryFrom<CustomerConnectionRow> for CustomerConnection {
    type Error = StoreError;
    fn try_from(r: CustomerConnectionRow) -> StoreResult<Self> {
        Ok(CustomerConnection {
            connection: Connection::try_from(r.connection)?,
            customer_id: r.customer_id.into_uuid().into(),
            unlinked_at: time::opt_from_db(r.unlinked_at)?,
            active_feeds: count(r.active_feeds, "active_feeds")?,
            last_synced_at: time::opt_from_db(r.last_synced_at)?,
        })
    }
}

/// The customer's live connections (one of them when `only` is given).
async fn select_connections(
    conn: &mut SqliteConnection,
    org: OrgId,
    customer: CustomerId,
    only: Option<ConnectionId>,
) -> StoreResult<Vec<CustomerConnection>> {
    let columns = connections::COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, cc.customer_id, cc.unlinked_at,
             (SELECT COUNT(*) FROM bank_feed_accounts a WHERE a.connection_id = c.id
                AND a.deleted_at IS NULL AND a.feed_status = 'active') AS active_feeds,
             (SELECT MAX(a.last_synced_at) FROM bank_feed_accounts a WHERE a.connection_id = c.id
                AND a.deleted_at IS NULL) AS last_synced_at
         FROM customer_connections cc
         JOIN connections c ON c.id = cc.connection_id
         WHERE cc.customer_id = ? AND c.org_id = ? AND c.deleted_at IS NULL
           AND (? IS NULL OR c.id = ?)
         ORDER BY c.id"
    );
    let query = sqlx::query_as::<_, CustomerConnectionRow>(&sql)
        .bind(customer.to_string())
        .bind(org.to_string())
        .bind(only.map(|c| c.to_string()))
        .bind(only.map(|c| c.to_string()));
    db::all(query, &mut *conn).await
}

#[async_trait]
impl bankfeeds_store::CustomerStore for SqliteStore {
    async fn create_customer(&self, c: &Customer) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO customers (id, org_id, name, description, tags, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.id.to_string())
        .bind(c.org_id.to_string())
        .bind(&c.name)
        .bind(&c.description)
        .bind(tags(c))
        .bind(time::to_db(c.created_at))
        .bind(time::to_db(c.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = ? AND id = ? AND deleted_at IS NULL"
        );
        let query = sqlx::query_as::<_, CustomerRow>(&sql)
            .bind(org.to_string())
            .bind(id.to_string());
        db::optional(query, &self.reader).await
    }

    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = ? AND deleted_at IS NULL
         ORDER BY created_at, id"
        );
        let query = sqlx::query_as::<_, CustomerRow>(&sql).bind(org.to_string());
        db::all(query, &self.reader).await
    }

    async fn update_customer(&self, c: &Customer) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        db::execute_found(
            sqlx::query(
                "UPDATE customers SET name = ?, description = ?, tags = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
            )
            .bind(&c.name)
            .bind(&c.description)
            .bind(tags(c))
            .bind(time::to_db(c.updated_at))
            .bind(c.org_id.to_string())
            .bind(c.id.to_string()),
            &mut *tx,
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        db::execute_found(
            sqlx::query(
                "UPDATE customers SET deleted_at = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
            )
            .bind(time::to_db(at))
            .bind(time::to_db(at))
            .bind(org.to_string())
            .bind(id.to_string()),
            &mut *tx,
        )
        .await?;
        sqlx::query(
            "UPDATE connections SET deleted_at = ?, updated_at = ?
         WHERE deleted_at IS NULL
           AND id IN (SELECT connection_id FROM customer_connections WHERE customer_id = ?)",
        )
        .bind(time::to_db(at))
        .bind(time::to_db(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_customer_token(&self, t: &CustomerToken) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO customer_tokens (hash, org_id, customer_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
        )
        .bind(t.hash.to_hex())
        .bind(t.org_id.to_string())
        .bind(t.customer_id.to_string())
        .bind(time::to_db(t.created_at))
        .bind(time::to_db(t.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>> {
        let row: Option<(DbUuid, DbUuid, i64, i64)> = sqlx::query_as(
        "SELECT org_id, customer_id, created_at, expires_at FROM customer_tokens WHERE hash = ?",
    )
    .bind(hash.to_hex())
    .fetch_optional(&self.reader)
    .await
    .map_err(map_err)?;
        row.map(|(org, customer, created, expires)| {
            Ok(CustomerToken {
                hash: *hash,
                org_id: org.into_uuid().into(),
                customer_id: customer.into_uuid().into(),
                created_at: time::from_db(created)?,
                expires_at: time::from_db(expires)?,
            })
        })
        .transpose()
    }

    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let live: Option<String> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE id = ? AND org_id = ? AND deleted_at IS NULL",
        )
        .bind(customer.to_string())
        .bind(new.connection.org_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        connections::insert(&mut tx, new).await?;
        sqlx::query("INSERT INTO customer_connections (connection_id, customer_id) VALUES (?, ?)")
            .bind(new.connection.id.to_string())
            .bind(customer.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        select_connections(&mut conn, org, customer, None).await
    }

    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        id: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        Ok(select_connections(&mut conn, org, customer, Some(id))
            .await?
            .pop())
    }

    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection> {
        let mut tx = self.write_tx().await?;
        if select_connections(&mut tx, org, customer, Some(id))
            .await?
            .is_empty()
        {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE customer_connections SET unlinked_at = ?
         WHERE connection_id = ? AND unlinked_at IS NULL",
        )
        .bind(time::to_db(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let active: Vec<DbUuid> = sqlx::query_scalar(
            "SELECT id FROM bank_feed_accounts
         WHERE connection_id = ? AND deleted_at IS NULL AND feed_status = 'active' ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for account in active {
            let account: BankFeedAccountId = account.into_uuid().into();
            let current = accounts::find_live(&mut tx, id, "id", account.to_string())
                .await?
                .ok_or(StoreError::NotFound)?;
            accounts::unlink_everywhere(&mut tx, &current, at).await?;
        }
        let done = select_connections(&mut tx, org, customer, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done)
    }
}
