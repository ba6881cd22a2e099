//! Webhook endpoints (`webhook_endpoints`) and the events feed.
//!
//! Writers lock the organisation's row first (`orgs … FOR UPDATE` on PostgreSQL; SQLite's one
//! writer already excludes the rest), so the count a creation checks cannot change before it
//! commits. The rules are the domain's (`domain::webhook`).

mod attempts;
mod deliveries;
mod fanout;
mod feed;
mod health;
mod recover;

pub(crate) use deliveries::pending_deliveries;

use bankfeeds_domain::operator::OperatorId;
use bankfeeds_domain::webhook::{
    check_room, decide_patch, EventCursor, SecretAtRest, WebhookChange, WebhookEndpoint, WebhookId,
    WebhookPatch, WebhookStatus,
};
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::{corrupt, known};
use bankfeeds_store::NewEvent;
use bankfeeds_store::{Event, EventKind, Idem, Outcome, StoreError, StoreResult, WebhookStore};

use crate::{idempotency, Backend, CountRow, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: DbId,
    org_id: DbId,
    url: String,
    event_types: String,
    description: Option<String>,
    status: String,
    secret: String,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;

    fn try_from(r: EndpointRow) -> StoreResult<Self> {
        let event_types = r
            .event_types
            .split_whitespace()
            .map(|name| known(EventKind::parse(name), "webhook_endpoints.event_types"))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(WebhookEndpoint {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            url: r.url,
            event_types,
            description: r.description,
            status: known(WebhookStatus::parse(&r.status), "webhook_endpoints.status")?,
            secret: SecretAtRest::new(r.secret),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// The columns `EndpointRow` reads.
const COLUMNS: &str =
    "id, org_id, url, event_types, description, status, secret, created_at, updated_at";

fn event_types_text(e: &WebhookEndpoint) -> String {
    e.event_types
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Locks the organisation's row until the transaction ends (PostgreSQL; SQLite's writer is
/// alone anyway), so webhook writes of one organisation take turns.
async fn lock_org<B: Backend>(tx: &mut impl Exec, org: OrgId) -> StoreResult<()> {
    let sql = format!(
        "SELECT id FROM orgs WHERE id = $1{}",
        B::DIALECT.for_update()
    );
    let found: Option<IdOnly> = tx.fetch_optional(Sql::new(sql).bind(org.as_uuid())).await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

#[derive(sqlx::FromRow)]
pub(super) struct IdOnly {
    #[allow(dead_code)]
    id: DbId,
}

/// Records the endpoint's `webhook.changed` event, naming the operator who made the change.
async fn changed(
    tx: &mut impl Exec,
    e: &WebhookEndpoint,
    change: WebhookChange,
    since: Option<Timestamp>,
    by: Option<OperatorId>,
    now: Timestamp,
) -> StoreResult<()> {
    let event = NewEvent::webhook_changed(e, change, since).by_operator(by);
    crate::events::append(tx, &event, now).await
}

async fn find<B: Backend>(
    tx: &mut impl Exec,
    org: OrgId,
    id: WebhookId,
    lock: bool,
) -> StoreResult<Option<WebhookEndpoint>> {
    let lock = if lock { B::DIALECT.for_update() } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2{lock}");
    tx.optional::<EndpointRow, _>(Sql::new(sql).bind(org.as_uuid()).bind(id.as_uuid()))
        .await
}

/// An endpoint by id alone (the delivery worker's view; no organisation to scope by).
pub(super) async fn find_by_id(
    tx: &mut impl Exec,
    id: WebhookId,
) -> StoreResult<Option<WebhookEndpoint>> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1");
    tx.optional::<EndpointRow, _>(Sql::new(sql).bind(id.as_uuid()))
        .await
}

async fn save(tx: &mut impl Exec, e: &WebhookEndpoint) -> StoreResult<()> {
    tx.execute_found(
        Sql::new(
            "UPDATE webhook_endpoints SET url = $1, event_types = $2, description = $3,
                 status = $4, secret = $5, updated_at = $6
             WHERE id = $7",
        )
        .bind(&e.url)
        .bind(event_types_text(e))
        .bind(e.description.as_deref())
        .bind(e.status.as_str())
        .bind(e.secret.as_stored())
        .bind(e.updated_at)
        .bind(e.id.as_uuid()),
    )
    .await
}

#[async_trait::async_trait]
impl<B: Backend> WebhookStore for SqlStore<B> {
    async fn webhook_health(
        &self,
        org: OrgId,
        since: Timestamp,
    ) -> StoreResult<bankfeeds_domain::console::WebhookHealth> {
        health::webhook_health(&mut self.0.reader(), org, since).await
    }

    async fn create_webhook(
        &self,
        e: &WebhookEndpoint,
        by: Option<OperatorId>,
        idem: Option<Idem<'_, WebhookEndpoint>>,
    ) -> StoreResult<Outcome<()>> {
        let mut tx = self.0.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, e.created_at).await? {
            return Ok(Outcome::Replayed(saved));
        }
        lock_org::<B>(&mut tx, e.org_id).await?;
        let count: CountRow = tx
            .fetch_one(
                Sql::new("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE org_id = $1")
                    .bind(e.org_id.as_uuid()),
            )
            .await?;
        let existing = usize::try_from(count.n.0).map_err(|_| corrupt("webhook count"))?;
        check_room(existing).map_err(|_| StoreError::Conflict("webhook_limit_reached"))?;
        tx.execute(
            Sql::new(
                "INSERT INTO webhook_endpoints (id, org_id, url, event_types, description,
                     status, secret, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(e.id.as_uuid())
            .bind(e.org_id.as_uuid())
            .bind(&e.url)
            .bind(event_types_text(e))
            .bind(e.description.as_deref())
            .bind(e.status.as_str())
            .bind(e.secret.as_stored())
            .bind(e.created_at)
            .bind(e.updated_at),
        )
        .await?;
        // Deliveries start with the events after this one's creation, its own creation the
        // first: on PostgreSQL a transaction that began after this one may already have
        // committed an event placed after ours in feed order, so the cursor goes before both.
        let head = fanout::head(&mut tx, e.org_id).await?;
        changed(&mut tx, e, WebhookChange::Created, None, by, e.created_at).await?;
        let own = fanout::own_event(&mut tx, e.org_id, &e.id.to_string()).await?;
        let cursor = head.min(EventCursor {
            tx: own.tx,
            seq: own.seq - 1,
        });
        tx.execute(
            Sql::new("UPDATE webhook_endpoints SET cursor_tx = $1, cursor_seq = $2 WHERE id = $3")
                .bind(cursor.tx)
                .bind(cursor.seq)
                .bind(e.id.as_uuid()),
        )
        .await?;
        idempotency::finish(&mut tx, idem, e).await?;
        tx.commit().await?;
        Ok(Outcome::Done(()))
    }

    async fn list_webhooks(&self, org: OrgId) -> StoreResult<Vec<WebhookEndpoint>> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id");
        self.0
            .reader()
            .all::<EndpointRow, _>(Sql::new(sql).bind(org.as_uuid()))
            .await
    }

    async fn get_webhook(&self, org: OrgId, id: WebhookId) -> StoreResult<Option<WebhookEndpoint>> {
        find::<B>(&mut self.0.reader(), org, id, false).await
    }

    async fn update_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        patch: &WebhookPatch,
        allow_private: bool,
        now: Timestamp,
        by: Option<OperatorId>,
        idem: Option<Idem<'_, WebhookEndpoint>>,
    ) -> StoreResult<Outcome<WebhookEndpoint>> {
        let mut tx = self.0.write().await?;
        if let Some(saved) = idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let current = find::<B>(&mut tx, org, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        let next =
            decide_patch(&current, patch, allow_private, now).map_err(|r| StoreError::Invalid {
                code: r.code(),
                message: r.to_string(),
            })?;
        if next != current {
            save(&mut tx, &next).await?;
        }
        if let Some(change) = WebhookChange::of_patch(&current, &next) {
            changed(&mut tx, &next, change, None, by, now).await?;
        }
        idempotency::finish(&mut tx, idem, &next).await?;
        tx.commit().await?;
        Ok(Outcome::Done(next))
    }

    async fn rotate_webhook_secret(
        &self,
        org: OrgId,
        id: WebhookId,
        secret: &SecretAtRest,
        now: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<WebhookEndpoint> {
        let mut tx = self.0.write().await?;
        let mut e = find::<B>(&mut tx, org, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        e.secret = secret.clone();
        e.updated_at = now;
        save(&mut tx, &e).await?;
        changed(&mut tx, &e, WebhookChange::SecretRotated, None, by, now).await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn webhook_secrets(&self) -> StoreResult<Vec<(OrgId, WebhookId, SecretAtRest)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            org_id: DbId,
            id: DbId,
            secret: String,
        }
        let rows: Vec<Row> = self
            .0
            .reader()
            .fetch_all(Sql::new(
                "SELECT org_id, id, secret FROM webhook_endpoints ORDER BY id",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.org_id.0.into(),
                    r.id.0.into(),
                    SecretAtRest::new(r.secret),
                )
            })
            .collect())
    }

    async fn reseal_webhook_secret(
        &self,
        id: WebhookId,
        from: &SecretAtRest,
        to: &SecretAtRest,
    ) -> StoreResult<bool> {
        let mut tx = self.0.write().await?;
        let n = tx
            .execute(
                Sql::new("UPDATE webhook_endpoints SET secret = $1 WHERE id = $2 AND secret = $3")
                    .bind(to.as_stored())
                    .bind(id.as_uuid())
                    .bind(from.as_stored()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn delete_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        now: Timestamp,
        by: Option<OperatorId>,
    ) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        let e = find::<B>(&mut tx, org, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        for table in ["webhook_deliveries", "webhook_attempts"] {
            tx.execute(
                Sql::new(format!(
                    "DELETE FROM {table} WHERE org_id = $1 AND endpoint_id = $2"
                ))
                .bind(org.as_uuid())
                .bind(id.as_uuid()),
            )
            .await?;
        }
        tx.execute_found(
            Sql::new("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
                .bind(org.as_uuid())
                .bind(id.as_uuid()),
        )
        .await?;
        changed(&mut tx, &e, WebhookChange::Deleted, None, by, now).await?;
        tx.commit().await
    }

    async fn events_feed(
        &self,
        org: OrgId,
        after: bankfeeds_domain::webhook::EventCursor,
        kinds: &[EventKind],
        limit: u32,
    ) -> StoreResult<Vec<(bankfeeds_domain::webhook::EventCursor, Event)>> {
        feed::list::<B>(&mut self.0.reader(), org, after, kinds, limit).await
    }
}
