//! The FI's customers (the Codat door's companies), their tokens and their connections.

use std::collections::BTreeMap;

use bankfeeds_domain::customer::{Customer, CustomerConnection, CustomerId, CustomerToken};
use bankfeeds_domain::{Connection, ConnectionId, NewConnection, OrgId, SecretHash, Timestamp};
use bankfeeds_store::decode::{count, json};
use bankfeeds_store::{CustomerStore, NewEvent, StoreError, StoreResult};

use crate::connections::{self, ConnectionRow};
use crate::{accounts, events, Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: DbId,
    org_id: DbId,
    name: String,
    description: Option<String>,
    tags: String,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(r: CustomerRow) -> StoreResult<Self> {
        Ok(Customer {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            name: r.name,
            description: r.description,
            tags: json::<BTreeMap<String, String>>(&r.tags, "customers.tags")?,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

const COLUMNS: &str = "id, org_id, name, description, tags, created_at, updated_at";

fn tags(c: &Customer) -> String {
    serde_json::to_string(&c.tags).expect("a string map serializes")
}

#[derive(sqlx::FromRow)]
struct CustomerConnectionRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    customer_id: DbId,
    unlinked_at: Option<DbTime>,
    active_feeds: DbInt,
    last_synced_at: Option<DbTime>,
}

impl TryFrom<CustomerConnectionRow> for CustomerConnection {
    type Error = StoreError;

    fn try_from(r: CustomerConnectionRow) -> StoreResult<Self> {
        Ok(CustomerConnection {
            connection: Connection::try_from(r.connection)?,
            customer_id: r.customer_id.0.into(),
            unlinked_at: r.unlinked_at.map(|t| t.0),
            active_feeds: count(r.active_feeds.0, "active_feeds")?,
            last_synced_at: r.last_synced_at.map(|t| t.0),
        })
    }
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: DbId,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    org_id: DbId,
    customer_id: DbId,
    created_at: DbTime,
    expires_at: DbTime,
}

/// The customer's live connections (one of them when `only` is given; `customer` `None`:
/// whichever customer holds `only`).
async fn select_connections(
    conn: &mut impl Exec,
    org: OrgId,
    customer: Option<CustomerId>,
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
         WHERE ($1 IS NULL OR cc.customer_id = $1) AND c.org_id = $2 AND c.deleted_at IS NULL
           AND ($3 IS NULL OR c.id = $3)
         ORDER BY c.id"
    );
    let q = Sql::new(sql)
        .bind(customer.map(|c| c.as_uuid()))
        .bind(org.as_uuid())
        .bind(only.map(|c| c.as_uuid()));
    conn.all::<CustomerConnectionRow, _>(q).await
}

#[async_trait::async_trait]
impl<B: Backend> CustomerStore for SqlStore<B> {
    async fn create_customer(&self, c: &Customer) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
        Sql::new(
            "INSERT INTO customers (id, org_id, name, description, tags, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(&c.name)
        .bind(c.description.as_deref())
        .bind(tags(c))
        .bind(c.created_at)
        .bind(c.updated_at),
    )
    .await?;
        Ok(())
    }

    async fn get_customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        let db = &self.0;
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        db.reader()
            .optional::<CustomerRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
            .await
    }

    async fn list_customers(&self, org: OrgId) -> StoreResult<Vec<Customer>> {
        let db = &self.0;
        let sql = format!(
            "SELECT {COLUMNS} FROM customers WHERE org_id = $1 AND deleted_at IS NULL
         ORDER BY created_at, id"
        );
        db.reader()
            .all::<CustomerRow, _>(Sql::new(sql).bind(org.as_uuid()))
            .await
    }

    async fn update_customer(&self, c: &Customer) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        tx.execute_found(
            Sql::new(
                "UPDATE customers SET name = $1, description = $2, tags = $3, updated_at = $4
                 WHERE org_id = $5 AND id = $6 AND deleted_at IS NULL",
            )
            .bind(&c.name)
            .bind(c.description.as_deref())
            .bind(tags(c))
            .bind(c.updated_at)
            .bind(c.org_id.as_uuid())
            .bind(c.id.as_uuid()),
        )
        .await?;
        tx.commit().await
    }

    /// Deletes the customer and its connections.
    async fn delete_customer(&self, org: OrgId, id: CustomerId, at: Timestamp) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        tx.execute_found(
            Sql::new(
                "UPDATE customers SET deleted_at = $1, updated_at = $1
             WHERE org_id = $2 AND id = $3 AND deleted_at IS NULL",
            )
            .bind(at)
            .bind(org.as_uuid())
            .bind(id.as_uuid()),
        )
        .await?;
        tx.execute(
            Sql::new(
                "UPDATE connections SET deleted_at = $1, updated_at = $1
             WHERE deleted_at IS NULL
               AND id IN (SELECT connection_id FROM customer_connections WHERE customer_id = $2)",
            )
            .bind(at)
            .bind(id.as_uuid()),
        )
        .await?;
        tx.commit().await
    }

    async fn create_customer_token(&self, t: &CustomerToken) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "INSERT INTO customer_tokens (hash, org_id, customer_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(t.hash.to_hex())
            .bind(t.org_id.as_uuid())
            .bind(t.customer_id.as_uuid())
            .bind(t.created_at)
            .bind(t.expires_at),
        )
        .await?;
        Ok(())
    }

    async fn find_customer_token(&self, hash: &SecretHash) -> StoreResult<Option<CustomerToken>> {
        let db = &self.0;
        let row: Option<TokenRow> = db
            .reader()
            .fetch_optional(
                Sql::new(
                    "SELECT org_id, customer_id, created_at, expires_at
                 FROM customer_tokens WHERE hash = $1",
                )
                .bind(hash.to_hex()),
            )
            .await?;
        Ok(row.map(|r| CustomerToken {
            hash: *hash,
            org_id: r.org_id.0.into(),
            customer_id: r.customer_id.0.into(),
            created_at: r.created_at.0,
            expires_at: r.expires_at.0,
        }))
    }

    async fn create_customer_connection(
        &self,
        customer: CustomerId,
        new: &NewConnection,
    ) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        // The customer stays until this commits (a concurrent delete waits).
        let sql = format!(
            "SELECT id FROM customers WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL{}",
            B::DIALECT.for_share()
        );
        let live: Option<IdRow> = tx
            .fetch_optional(
                Sql::new(sql)
                    .bind(customer.as_uuid())
                    .bind(new.connection.org_id.as_uuid()),
            )
            .await?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        connections::insert(&mut tx, new).await?;
        tx.execute(
            Sql::new(
                "INSERT INTO customer_connections (connection_id, customer_id) VALUES ($1, $2)",
            )
            .bind(new.connection.id.as_uuid())
            .bind(customer.as_uuid()),
        )
        .await?;
        tx.commit().await
    }

    async fn list_customer_connections(
        &self,
        org: OrgId,
        customer: CustomerId,
    ) -> StoreResult<Vec<CustomerConnection>> {
        let db = &self.0;
        select_connections(&mut db.reader(), org, Some(customer), None).await
    }

    async fn get_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        id: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        let db = &self.0;
        Ok(
            select_connections(&mut db.reader(), org, Some(customer), Some(id))
                .await?
                .pop(),
        )
    }

    async fn find_customer_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<CustomerConnection>> {
        let db = &self.0;
        Ok(select_connections(&mut db.reader(), org, None, Some(id))
            .await?
            .pop())
    }

    /// Ends the customer's link of the connection and takes each active feed of it off every
    /// platform company.
    async fn unlink_customer_connection(
        &self,
        org: OrgId,
        customer: CustomerId,
        id: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<CustomerConnection> {
        let db = &self.0;
        let mut tx = db.write().await?;
        // The connection's row first: a concurrent delete or unlink waits its turn.
        let sql = format!(
            "SELECT c.id FROM connections c
         JOIN customer_connections cc ON cc.connection_id = c.id
         WHERE c.id = $1 AND c.org_id = $2 AND cc.customer_id = $3 AND c.deleted_at IS NULL{}",
            B::DIALECT.for_update_of("c")
        );
        let live: Option<IdRow> = tx
            .fetch_optional(
                Sql::new(sql)
                    .bind(id.as_uuid())
                    .bind(org.as_uuid())
                    .bind(customer.as_uuid()),
            )
            .await?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            Sql::new(
                "UPDATE customer_connections SET unlinked_at = $1
             WHERE connection_id = $2 AND unlinked_at IS NULL",
            )
            .bind(at)
            .bind(id.as_uuid()),
        )
        .await?;
        let sql = format!(
            "SELECT id FROM bank_feed_accounts
         WHERE connection_id = $1 AND deleted_at IS NULL AND feed_status = 'active'
         ORDER BY id{}",
            B::DIALECT.for_update()
        );
        let active: Vec<IdRow> = tx.fetch_all(Sql::new(sql).bind(id.as_uuid())).await?;
        for account in active {
            let key = accounts::Key::Id(account.id.0.into());
            let current = accounts::find_live::<B>(&mut tx, id, key, true)
                .await?
                .ok_or(StoreError::NotFound)?;
            accounts::unlink_everywhere::<B>(&mut tx, &current, at).await?;
        }
        let event = NewEvent::connection_unlinked(org, id, customer);
        events::append(&mut tx, &event, at).await?;
        let done = select_connections(&mut tx, org, Some(customer), Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(done)
    }
}
