//! Each try at a delivery, as it went (`webhook_attempts`): recorded when the try finishes,
//! listed newest first for the console.

use bankfeeds_domain::webhook::delivery::{Attempt, TryRecord, TryResult};
use bankfeeds_domain::webhook::WebhookId;
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{EventKind, StoreError, StoreResult};

use super::IdOnly;
use crate::{DbId, DbInt, DbTime, Exec, Sql};

#[derive(sqlx::FromRow)]
struct KindRow {
    event_type: String,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    seq: DbInt,
    endpoint_id: DbId,
    event_seq: DbInt,
    event_type: String,
    attempted_at: DbTime,
    status_code: Option<DbInt>,
    latency_ms: DbInt,
    response: String,
    error: Option<String>,
    outcome: String,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;

    fn try_from(r: AttemptRow) -> StoreResult<Self> {
        Ok(Attempt {
            id: r.seq.0,
            endpoint_id: r.endpoint_id.0.into(),
            event_seq: r.event_seq.0,
            event_type: known(
                EventKind::parse(&r.event_type),
                "webhook_attempts.event_type",
            )?,
            attempted_at: r.attempted_at.0,
            status_code: r.status_code.and_then(|s| u16::try_from(s.0).ok()),
            latency_ms: u64::try_from(r.latency_ms.0).unwrap_or(0),
            response: r.response,
            error: r.error,
            succeeded: r.outcome == "succeeded",
        })
    }
}

/// Records the try `attempt` of the delivery `delivery` (of the event `event_seq`, to the
/// endpoint `endpoint` of organisation `org`), made at `now`.
pub(super) async fn record(
    tx: &mut impl Exec,
    endpoint: &DbId,
    org: &DbId,
    delivery: i64,
    event_seq: i64,
    attempt: &TryRecord,
    now: Timestamp,
) -> StoreResult<()> {
    let kind: Option<KindRow> = tx
        .fetch_optional(Sql::new("SELECT event_type FROM events WHERE seq = $1").bind(event_seq))
        .await?;
    let status_code = match attempt.result {
        TryResult::Answered { status, .. } => Some(i64::from(status)),
        TryResult::NoAnswer => None,
    };
    tx.execute(
        Sql::new(
            "INSERT INTO webhook_attempts (endpoint_id, org_id, delivery_seq, event_seq,
                 event_type, attempted_at, status_code, latency_ms, response, error, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(endpoint.0)
        .bind(org.0)
        .bind(delivery)
        .bind(event_seq)
        .bind(kind.map(|k| k.event_type).unwrap_or_default())
        .bind(now)
        .bind(status_code)
        .bind(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX))
        .bind(&attempt.response)
        .bind(attempt.error.as_deref())
        .bind(if attempt.result.succeeded() {
            "succeeded"
        } else {
            "failed"
        }),
    )
    .await?;
    Ok(())
}

/// The endpoint's attempts, newest first, those before `before` when given; `NotFound` when
/// the organisation has no such endpoint.
pub(super) async fn list(
    db: &mut impl Exec,
    org: OrgId,
    id: WebhookId,
    before: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<Attempt>> {
    let found: Option<IdOnly> = db
        .fetch_optional(
            Sql::new("SELECT id FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
                .bind(org.as_uuid())
                .bind(id.as_uuid()),
        )
        .await?;
    found.ok_or(StoreError::NotFound)?;
    db.all::<AttemptRow, _>(
        Sql::new(
            "SELECT seq, endpoint_id, event_seq, event_type, attempted_at, status_code,
                 latency_ms, response, error, outcome
             FROM webhook_attempts
             WHERE endpoint_id = $1 AND org_id = $2 AND seq < $3
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(id.as_uuid())
        .bind(org.as_uuid())
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit),
    )
    .await
}
