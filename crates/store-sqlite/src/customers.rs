//! The FI's customers (the Codat door's companies) on SQLite, and their connections.

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerId};
use bankfeeds_domain::{Connection, NewConnection, OrgId, Timestamp};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, SqlitePool};

use crate::connections::{self, ConnectionRow};
use crate::{map_err, time, SqliteStore};

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt customer row: {what}").into())
}

#[derive(FromRow)]
struct CustomerRow {
    id: String,
    org_id: String,
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
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            org_id: r.org_id.parse().map_err(|_| corrupt("org id"))?,
            name: r.name,
            description: r.description,
            tags: serde_json::from_str::<BTreeMap<String, String>>(&r.tags)
                .map_err(|_| corrupt("tags"))?,
            created_at: time::from_db(r.created_at)?,
            updated_at: time::from_db(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, org_id, name, description, tags, created_at, updated_at";

fn tags(c: &Customer) -> String {
    serde_json::to_string(&c.tags).expect("a string map serializes")
}

pub async fn create(store: &SqliteStore, c: &Customer) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
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

pub async fn get(pool: &SqlitePool, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
    let row: Option<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers WHERE org_id = ? AND id = ? AND deleted_at IS NULL"
    ))
    .bind(org.to_string())
    .bind(id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.map(Customer::try_from).transpose()
}

pub async fn list(pool: &SqlitePool, org: OrgId) -> StoreResult<Vec<Customer>> {
    let rows: Vec<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers WHERE org_id = ? AND deleted_at IS NULL
         ORDER BY created_at, id"
    ))
    .bind(org.to_string())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(Customer::try_from).collect()
}

pub async fn update(store: &SqliteStore, c: &Customer) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let done = sqlx::query(
        "UPDATE customers SET name = ?, description = ?, tags = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
    )
    .bind(&c.name)
    .bind(&c.description)
    .bind(tags(c))
    .bind(time::to_db(c.updated_at))
    .bind(c.org_id.to_string())
    .bind(c.id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(map_err)
}

pub async fn delete(
    store: &SqliteStore,
    org: OrgId,
    id: CustomerId,
    at: Timestamp,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let done = sqlx::query(
        "UPDATE customers SET deleted_at = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
    )
    .bind(time::to_db(at))
    .bind(time::to_db(at))
    .bind(org.to_string())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
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

pub async fn create_connection(
    store: &SqliteStore,
    customer: CustomerId,
    new: &NewConnection,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
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

pub async fn list_connections(
    pool: &SqlitePool,
    org: OrgId,
    customer: CustomerId,
) -> StoreResult<Vec<Connection>> {
    let columns = connections::COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<ConnectionRow> = sqlx::query_as(&format!(
        "SELECT {columns} FROM customer_connections cc
         JOIN connections c ON c.id = cc.connection_id
         WHERE cc.customer_id = ? AND c.org_id = ? AND c.deleted_at IS NULL
         ORDER BY c.id"
    ))
    .bind(customer.to_string())
    .bind(org.to_string())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(Connection::try_from).collect()
}
