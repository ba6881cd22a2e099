//! Connections: one customer's channel to one platform, with its access token's digest.

use bankfeeds_domain::console::{ConnectionCount, ConnectionState, SearchHit};
use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::{
    Connection, ConnectionId, NewConnection, OrgId, Page, PageRequest, SecretHash, Timestamp,
};
use bankfeeds_store::decode::parse;
use bankfeeds_store::{
    ConnectionStore, EventKind, Idem, NewEvent, Outcome, StoreError, StoreResult,
};

use crate::{accounts, events, idempotency, Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
pub struct ConnectionRow {
    id: DbId,
    org_id: DbId,
    platform: String,
    name: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
    deleted_at: Option<DbTime>,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;

    fn try_from(r: ConnectionRow) -> StoreResult<Self> {
        Ok(Connection {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            platform: parse(&r.platform, "connections.platform")?,
            name: r.name,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            deleted_at: r.deleted_at.map(|t| t.0),
        })
    }
}

pub const COLUMNS: &str = "id, org_id, platform, name, created_at, updated_at, deleted_at";

#[derive(sqlx::FromRow)]
struct PlatformRow {
    platform: String,
}

/// The platform of connection `id` (deleted or not), inside the caller's transaction.
pub async fn platform_of(
    tx: &mut impl Exec,
    id: ConnectionId,
) -> StoreResult<bankfeeds_domain::Platform> {
    let row: PlatformRow = tx
        .fetch_one(Sql::new("SELECT platform FROM connections WHERE id = $1").bind(id.as_uuid()))
        .await?;
    parse(&row.platform, "connections.platform")
}

/// Inserts a connection inside the caller's transaction.
pub async fn insert(tx: &mut impl Exec, new: &NewConnection) -> StoreResult<()> {
    let c = &new.connection;
    tx.execute(
        Sql::new(
            "INSERT INTO connections
                 (id, org_id, platform, name, access_token_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(c.platform.as_str())
        .bind(c.name.as_deref())
        .bind(new.access_token_hash.to_hex())
        .bind(c.created_at)
        .bind(c.updated_at),
    )
    .await?;
    let event = NewEvent::connection(EventKind::ConnectionCreated, c);
    events::append(tx, &event, c.created_at).await
}

#[async_trait::async_trait]
impl<B: Backend> ConnectionStore for SqlStore<B> {
    async fn create_connection(
        &self,
        new: &NewConnection,
        idem: Option<Idem<'_, Connection>>,
    ) -> StoreResult<Outcome<()>> {
        let db = &self.0;
        let c = &new.connection;
        let mut tx = db.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, c.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        insert(&mut tx, new).await?;
        idempotency::finish(&mut tx, idem, c).await?;
        tx.commit().await?;
        Ok(Outcome::Done(()))
    }

    async fn list_connections(
        &self,
        org: OrgId,
        page: &PageRequest<ConnectionId>,
    ) -> StoreResult<Page<Connection>> {
        let db = &self.0;
        // One extra row tells whether another page follows.
        let sql = format!(
            "SELECT {COLUMNS} FROM connections
         WHERE org_id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
        );
        let q = Sql::new(sql)
            .bind(org.as_uuid())
            .bind(page.after.map(|a| a.as_uuid()))
            .bind(i64::from(page.limit) + 1);
        db.reader().page::<ConnectionRow, _>(q, page.limit).await
    }

    async fn find_connection_by_token(
        &self,
        token: &SecretHash,
    ) -> StoreResult<Option<Connection>> {
        let db = &self.0;
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE access_token_hash = $1");
        db.reader()
            .optional::<ConnectionRow, _>(Sql::new(sql).bind(token.to_hex()))
            .await
    }

    async fn get_connection(
        &self,
        org: OrgId,
        id: ConnectionId,
    ) -> StoreResult<Option<Connection>> {
        let db = &self.0;
        let sql = format!(
        "SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
        db.reader()
            .optional::<ConnectionRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
            .await
    }

    async fn find_connection(&self, id: ConnectionId) -> StoreResult<Option<Connection>> {
        let db = &self.0;
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1 AND deleted_at IS NULL");
        db.reader()
            .optional::<ConnectionRow, _>(Sql::new(sql).bind(id.as_uuid()))
            .await
    }

    async fn rotate_access_token(
        &self,
        org: OrgId,
        id: ConnectionId,
        token: &SecretHash,
        at: Timestamp,
    ) -> StoreResult<Connection> {
        let db = &self.0;
        let mut tx = db.write().await?;
        tx.execute_found(
            Sql::new(
                "UPDATE connections SET access_token_hash = $1, updated_at = $2
             WHERE org_id = $3 AND id = $4 AND deleted_at IS NULL",
            )
            .bind(token.to_hex())
            .bind(at)
            .bind(org.as_uuid())
            .bind(id.as_uuid()),
        )
        .await?;
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
        let rotated = tx
            .one::<ConnectionRow, _>(Sql::new(sql).bind(id.as_uuid()))
            .await?;
        tx.commit().await?;
        Ok(rotated)
    }

    /// Deletes the connection and, with it, every live account of it.
    async fn delete_connection_by(
        &self,
        org: OrgId,
        id: ConnectionId,
        at: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<()> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let sql = format!(
            "UPDATE connections SET deleted_at = $3, updated_at = $3
             WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING {COLUMNS}"
        );
        let deleted: Connection = tx
            .optional::<ConnectionRow, _>(
                Sql::new(sql)
                    .bind(org.as_uuid())
                    .bind(id.as_uuid())
                    .bind(at),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        accounts::delete_all_of_connection(&mut tx, id, at).await?;
        crate::live::deletions::queue_in::<B>(
            &mut tx,
            crate::live::deletions::Scope::Connection(id),
            at,
        )
        .await?;
        let event = NewEvent::connection(EventKind::ConnectionDeleted, &deleted).by_operator(by);
        events::append(&mut tx, &event, at).await?;
        tx.commit().await
    }

    async fn connection_counts(&self, org: OrgId) -> StoreResult<Vec<ConnectionCount>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            platform: String,
            active: DbInt,
            n: DbInt,
        }
        let rows: Vec<Row> = self
            .0
            .reader()
            .fetch_all(
                Sql::new(
                    "SELECT platform, active, COUNT(*) AS n FROM (
                         SELECT c.platform,
                                CASE WHEN EXISTS (
                                    SELECT 1 FROM bank_feed_accounts a
                                    WHERE a.connection_id = c.id AND a.deleted_at IS NULL
                                      AND a.feed_status = 'active'
                                ) THEN 1 ELSE 0 END AS active
                         FROM connections c WHERE c.org_id = $1 AND c.deleted_at IS NULL
                     ) t GROUP BY platform, active ORDER BY platform, active DESC",
                )
                .bind(org.as_uuid()),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ConnectionCount {
                    platform: parse(&r.platform, "connections.platform")?,
                    state: ConnectionState::of(r.active.count()),
                    count: r.n.count(),
                })
            })
            .collect()
    }

    async fn search_connections(
        &self,
        org: OrgId,
        query: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        // One statement: the connection's columns under `c_` names, the account's under its
        // own (all NULL for a connection with no feed), the customer's name.
        #[derive(sqlx::FromRow)]
        struct Hit {
            c_id: DbId,
            c_org_id: DbId,
            c_platform: String,
            c_name: Option<String>,
            c_created_at: DbTime,
            c_updated_at: DbTime,
            #[sqlx(flatten)]
            account: accounts::JoinedAccountRow,
            customer: Option<String>,
        }
        let d = B::DIALECT;
        // `%` and `_` typed by the operator are matched as themselves.
        let pattern = query.map(|q| {
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        let like = |expr: String| format!("LOWER(COALESCE({expr}, '')) LIKE $2 ESCAPE '\\'");
        let account_columns = accounts::COLUMNS
            .split(',')
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT c.id AS c_id, c.org_id AS c_org_id, c.platform AS c_platform,
                    c.name AS c_name, c.created_at AS c_created_at, c.updated_at AS c_updated_at,
                    {account_columns}, cu.name AS customer
             FROM connections c
             LEFT JOIN bank_feed_accounts a ON a.connection_id = c.id AND a.deleted_at IS NULL
             LEFT JOIN customer_connections cc ON cc.connection_id = c.id
             LEFT JOIN customers cu ON cu.id = cc.customer_id
             WHERE c.org_id = $1 AND c.deleted_at IS NULL
               AND ($2 IS NULL OR {} OR {} OR {} OR {} OR {})
             ORDER BY c.id, a.id LIMIT $3 OFFSET $4",
            like("c.name".into()),
            like("cu.name".into()),
            like(d.json_text("a.details", "name")),
            like(d.json_text("a.details", "bank_account_number")),
            like("a.internal_bank_account_id".into()),
        );
        let hits: Vec<Hit> = self
            .0
            .reader()
            .fetch_all(
                Sql::new(sql)
                    .bind(org.as_uuid())
                    .bind(pattern)
                    .bind(limit)
                    .bind(i64::try_from(offset).unwrap_or(i64::MAX)),
            )
            .await?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let connection = ConnectionRow {
                id: hit.c_id,
                org_id: hit.c_org_id,
                platform: hit.c_platform,
                name: hit.c_name,
                created_at: hit.c_created_at,
                updated_at: hit.c_updated_at,
                deleted_at: None,
            };
            out.push(SearchHit {
                connection: connection.try_into()?,
                customer: hit.customer,
                account: hit.account.account().map(TryInto::try_into).transpose()?,
            });
        }
        Ok(out)
    }
}
