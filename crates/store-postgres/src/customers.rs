//! The FI's customers (the Codat door's companies) on PostgreSQL, and their connections.

use async_trait::async_trait;

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::{
    BankFeedAccountId, Connection, ConnectionId, NewConnection, OrgId, SecretHash, Timestamp,
};
use bankfeeds_store::decode::{count, json};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::accounts::{self, Key};
use crate::connections::{self, ConnectionRow};
use crate::PostgresStore;
use crate::{db, map_err};

#[derive(FromRow)]
struct CustomerRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    description: Option<String>,
    tags: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> StoreResult<Self> {
        Ok(Customer {
            id: r.id.into(),
            org_id: r.org_id.into(),
            name: r.name,
            description: r.description,
            tags: json::<BTreeMap<String, String>>(&r.tags, "customers.tags")?,
            created_at: r.created_at,
            updated_at: r.updated_at,
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
    customer_id: Uuid,
    unlinked_at: Option<Timestamp>,
    active_feeds: i64,
    last_synced_at: Option<Timestamp>,
}

impl TryFrom<CustomerConnectionRow> for CustomerConnection {
    type Error = StoreError;
    fn try_from(r: CustomerConnectionRow) -> StoreResult<Self> {
        Ok(CustomerConnection {
            connection: Connection::try_from(r.connection)?,
            customer_id: r.customer_id.into(),
            unlinked_at: r.unlinked_at,
            active_feeds: count(r.active_feeds, "active_feeds")?,
            last_synced_at: r.last_synced_at,
        })
    }
}

/// The customer's live connections (one of them when `only` is given).
async fn select_connections(
    conn: &mut PgConnection,
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
         WHERE cc.customer_id = $1 AND c.org_id = $2 AND c.deleted_at IS NULL
           AND ($3::uuid IS NULL OR c.id = $3)
         ORDER BY c.id"
    );
    let query = sqlx::query_as::<_, CustomerConnectionRow>(&sql)
        .bind(customer.as_uuid())
        .bind(org.as_uuid())
        .bind(only.map(|c| c.as_uuid()));
    db::all(query, &mut *conn).await
}

#[async_trait]
impl bankfeeds_store::CustomerStore for PostgresStore {
    async fn create_customer(&self, c: &Customer) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO customers (id, org_id, name, description, tags, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(&c.name)
        .bind(&c.description)
        .bind(tags(c))
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let query = sqlx::query_as::<_, CustomerRow>(&sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid());
        db::optional(query, &self.pool).await
    }

    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = $1 AND deleted_at IS NULL
         ORDER BY created_at, id"
        );
        let query = sqlx::query_as::<_, CustomerRow>(&sql).bind(org.as_uuid());
        db::all(query, &self.pool).await
    }

    async fn update_customer(&self, c: &Customer) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        db::execute_found(
            sqlx::query(
                "UPDATE customers SET name = $1, description = $2, tags = $3, updated_at = $4
         WHERE org_id = $5 AND id = $6 AND deleted_at IS NULL",
            )
            .bind(&c.name)
            .bind(&c.description)
            .bind(tags(c))
            .bind(c.updated_at)
            .bind(c.org_id.as_uuid())
            .bind(c.id.as_uuid()),
            &mut *tx,
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        db::execute_found(
            sqlx::query(
                "UPDATE customers SET deleted_at = $1, updated_at = $2
         WHERE org_id = $3 AND id = $4 AND deleted_at IS NULL",
            )
            .bind(at)
            .bind(at)
            .bind(org.as_uuid())
            .bind(id.as_uuid()),
            &mut *tx,
        )
        .await?;
        sqlx::query(
            "UPDATE connections SET deleted_at = $1, updated_at = $2
         WHERE deleted_at IS NULL
           AND id IN (SELECT connection_id FROM customer_connections WHERE customer_id = $3)",
        )
        .bind(at)
        .bind(at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_customer_token(&self, t: &CustomerToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_tokens (hash, org_id, customer_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.hash.to_hex())
        .bind(t.org_id.as_uuid())
        .bind(t.customer_id.as_uuid())
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>> {
        let row: Option<(Uuid, Uuid, Timestamp, Timestamp)> = sqlx::query_as(
        "SELECT org_id, customer_id, created_at, expires_at FROM customer_tokens WHERE hash = $1",
    )
    .bind(hash.to_hex())
    .fetch_optional(&self.pool)
    .await
    .map_err(map_err)?;
        Ok(
            row.map(|(org, customer, created_at, expires_at)| CustomerToken {
                hash: *hash,
                org_id: org.into(),
                customer_id: customer.into(),
                created_at,
                expires_at,
            }),
        )
    }

    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let live: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM customers WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL FOR SHARE",
    )
    .bind(customer.as_uuid())
    .bind(new.connection.org_id.as_uuid())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        connections::insert(&mut tx, new).await?;
        sqlx::query(
            "INSERT INTO customer_connections (connection_id, customer_id) VALUES ($1, $2)",
        )
        .bind(new.connection.id.as_uuid())
        .bind(customer.as_uuid())
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
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        select_connections(&mut conn, org, customer, None).await
    }

    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        id: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // The connection's row first: a concurrent delete or unlink waits its turn.
        let live: Option<Uuid> = sqlx::query_scalar(
            "SELECT c.id FROM connections c
         JOIN customer_connections cc ON cc.connection_id = c.id
         WHERE c.id = $1 AND c.org_id = $2 AND cc.customer_id = $3 AND c.deleted_at IS NULL
         FOR UPDATE OF c",
        )
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .bind(customer.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE customer_connections SET unlinked_at = $1
         WHERE connection_id = $2 AND unlinked_at IS NULL",
        )
        .bind(at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let active: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM bank_feed_accounts
         WHERE connection_id = $1 AND deleted_at IS NULL AND feed_status = 'active'
         ORDER BY id FOR UPDATE",
        )
        .bind(id.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for account in active {
            let account: BankFeedAccountId = account.into();
            let current = accounts::find_live(&mut tx, id, Key::Id(account), true)
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
