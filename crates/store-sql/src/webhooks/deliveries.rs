//! Deliveries: claimed under a lease (as jobs are), one endpoint's in event order, each try
//! recorded as an attempt; the domain decides the retry and the failure streak
//! (`domain::webhook::delivery`).
//!
//! Order is per endpoint, not per endpoint and account: a receiver sees an organisation's events
//! in the order they happened (an account created before its transactions, a job's success after
//! the batch), at the price that one failing event holds back the endpoint's later ones until it
//! is delivered or given up.

use bankfeeds_domain::webhook::delivery::{
    next_step, streak_after, Attempt, Delivery, NextStep, RetryPolicy, TryRecord,
};
use bankfeeds_domain::webhook::{WebhookChange, WebhookId, WebhookStatus};
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::decode::corrupt;
use bankfeeds_store::{
    DeliveryStore, Event, EventKind, Idem, NewEvent, Outcome, StoreError, StoreResult,
};

use super::{attempts, fanout, find_by_id, recover, IdOnly};
use crate::events::{EventRow, COLUMNS};
use crate::{Backend, CountRow, DbId, DbInt, DbTime, Dialect, Exec, Sql, SqlStore, Tx};

/// The head of each enabled endpoint's queue that is due and not leased, soonest first.
/// `$1` is now.
const DUE: &str = "SELECT d.seq FROM webhook_endpoints w
         JOIN webhook_deliveries d ON d.seq = (
             SELECT min(e.seq) FROM webhook_deliveries e
             WHERE e.endpoint_id = w.id AND e.status = 'pending')
         WHERE w.status = 'enabled' AND d.next_attempt_at <= $1
           AND (d.locked_until IS NULL OR d.locked_until < $1)
         ORDER BY d.next_attempt_at, d.seq LIMIT 1";

/// [`DUE`], locking the row it finds (skipping rows another claim holds).
fn candidate(d: Dialect) -> String {
    format!("{DUE}{}", d.skip_locked(Some("d")))
}

/// Whether some endpoint may have events to fan out: one never fanned out, or one whose
/// organisation has an event past its cursor. A superset of what `fanout::fan_out` finds (it
/// ignores PostgreSQL's feed horizon), read without the writer.
const FAN_OUT_DUE: &str = "SELECT w.id FROM webhook_endpoints w
     WHERE w.cursor_tx IS NULL OR EXISTS (
         SELECT 1 FROM events e WHERE e.org_id = w.org_id
           AND (e.tx > w.cursor_tx OR (e.tx = w.cursor_tx AND e.seq > w.cursor_seq)))
     LIMIT 1";

#[derive(sqlx::FromRow)]
struct SeqOnly {
    #[allow(dead_code)] // read only to learn that a row exists
    seq: DbInt,
}

#[derive(sqlx::FromRow)]
struct Claimed {
    seq: DbInt,
    endpoint_id: DbId,
    event_seq: DbInt,
    tries: DbInt,
}

#[derive(sqlx::FromRow)]
struct DeliveryState {
    endpoint_id: DbId,
    org_id: DbId,
    event_seq: DbInt,
    tries: DbInt,
    status: String,
    locked_by: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StreakRow {
    url: String,
    status: String,
    failing_since: Option<DbTime>,
}

/// How many deliveries are waiting to be made (or made again).
pub(crate) async fn pending_deliveries(db: &mut impl Exec) -> StoreResult<u64> {
    let row: CountRow = db
        .fetch_one(Sql::new(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
        ))
        .await?;
    Ok(row.n.count())
}

fn tries(n: &DbInt) -> StoreResult<u32> {
    u32::try_from(n.0).map_err(|_| corrupt("webhook_deliveries.tries"))
}

async fn load_event(db: &mut impl Exec, seq: i64) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE seq = $1");
    db.optional::<EventRow, _>(Sql::new(sql).bind(seq)).await
}

#[async_trait::async_trait]
impl<B: Backend> DeliveryStore for SqlStore<B> {
    async fn fan_out_events(&self, page: u32, now: Timestamp) -> StoreResult<u64> {
        // The delivery worker asks twice a second: when there is nothing to do, the answer
        // comes from a reader, so an idle hub never takes SQLite's one writer for it.
        let due: Option<IdOnly> = self
            .0
            .reader()
            .fetch_optional(Sql::new(FAN_OUT_DUE))
            .await?;
        if due.is_none() {
            return Ok(0);
        }
        let mut tx = self.0.write().await?;
        let n = fanout::fan_out::<B>(&mut tx, page, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn claim_delivery(
        &self,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Delivery>> {
        // Nothing due (the idle case): answered by a reader, without the writer.
        let due: Option<SeqOnly> = self
            .0
            .reader()
            .fetch_optional(Sql::new(DUE).bind(now))
            .await?;
        if due.is_none() {
            return Ok(None);
        }
        // A delivery whose event retention already purged is given up, and the next one tried.
        for _ in 0..16 {
            let mut tx = self.0.write().await?;
            let sql = format!(
                "UPDATE webhook_deliveries SET tries = tries + 1, locked_until = $2,
                     locked_by = $3, updated_at = $1
                 WHERE seq = ({})
                   AND status = 'pending' AND (locked_until IS NULL OR locked_until < $1)
                 RETURNING seq, endpoint_id, event_seq, tries",
                candidate(B::DIALECT)
            );
            let claimed: Option<Claimed> = tx
                .fetch_optional(Sql::new(sql).bind(now).bind(lease_until).bind(holder))
                .await?;
            let Some(c) = claimed else {
                tx.rollback().await?;
                return Ok(None);
            };
            let endpoint = find_by_id(&mut tx, c.endpoint_id.0.into()).await?;
            let event = load_event(&mut tx, c.event_seq.0).await?;
            let (Some(endpoint), Some(event)) = (endpoint, event) else {
                tx.execute(
                    Sql::new("UPDATE webhook_deliveries SET status = 'failed', locked_until = NULL, locked_by = NULL WHERE seq = $1")
                        .bind(c.seq.0),
                )
                .await?;
                tx.commit().await?;
                continue;
            };
            tx.commit().await?;
            return Ok(Some(Delivery {
                id: c.seq.0,
                endpoint,
                event,
                tries_before: tries(&c.tries)?.saturating_sub(1),
            }));
        }
        Ok(None)
    }

    async fn finish_delivery(
        &self,
        delivery: i64,
        holder: &str,
        record: &TryRecord,
        policy: &RetryPolicy,
        jitter_sample: f64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        let sql = format!(
            "SELECT endpoint_id, org_id, event_seq, tries, status, locked_by
             FROM webhook_deliveries WHERE seq = $1{}",
            B::DIALECT.for_update()
        );
        let d: DeliveryState = tx
            .fetch_optional(Sql::new(sql).bind(delivery))
            .await?
            .ok_or(StoreError::NotFound)?;
        attempts::record(
            &mut tx,
            &d.endpoint_id,
            &d.org_id,
            delivery,
            d.event_seq.0,
            record,
            now,
        )
        .await?;
        if d.status != "pending" || d.locked_by.as_deref() != Some(holder) {
            return tx.commit().await;
        }
        let (status, next_at) =
            match next_step(policy, tries(&d.tries)?, &record.result, now, jitter_sample) {
                NextStep::Delivered => ("delivered", now),
                NextStep::RetryAt(at) => ("pending", at),
                NextStep::GiveUp => ("failed", now),
            };
        tx.execute(
            Sql::new(
                "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2,
                     locked_until = NULL, locked_by = NULL, updated_at = $3
                 WHERE seq = $4",
            )
            .bind(status)
            .bind(next_at)
            .bind(now)
            .bind(delivery),
        )
        .await?;
        self.record_streak(
            &mut tx,
            &d.endpoint_id,
            d.org_id.0.into(),
            record.result.succeeded(),
            policy,
            now,
        )
        .await?;
        tx.commit().await
    }

    async fn hand_back_delivery(
        &self,
        delivery: i64,
        holder: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.0.write().await?;
        // The claim counted a try (`tries + 1`); none happened, so it is taken back.
        let n = tx
            .execute(
                Sql::new(
                    "UPDATE webhook_deliveries SET tries = tries - 1, next_attempt_at = $1,
                         locked_until = NULL, locked_by = NULL, updated_at = $2
                     WHERE seq = $3 AND locked_by = $4 AND status = 'pending' AND tries > 0",
                )
                .bind(retry_at)
                .bind(now)
                .bind(delivery)
                .bind(holder),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn release_delivery_leases(&self, holder: &str) -> StoreResult<u64> {
        let mut tx = self.0.write().await?;
        let n = tx
            .execute(
                Sql::new(
                    "UPDATE webhook_deliveries SET locked_until = NULL, locked_by = NULL
                     WHERE locked_by = $1 AND status = 'pending'",
                )
                .bind(holder),
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn recover_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        since: Timestamp,
        max: u32,
        now: Timestamp,
        by: Option<bankfeeds_domain::operator::OperatorId>,
        idem: Option<Idem<'_, u64>>,
    ) -> StoreResult<Outcome<u64>> {
        let mut tx = self.0.write().await?;
        // A retry under the same key answers as the first did and queues nothing again.
        if let Some(saved) = crate::idempotency::begin(&mut tx, idem, now).await? {
            return Ok(Outcome::Replayed(saved));
        }
        let (endpoint, cursor) = recover::locked_endpoint::<B>(&mut tx, org, id).await?;
        let n = match cursor {
            Some(cursor) => recover::requeue(&mut tx, &endpoint, cursor, since, max, now).await?,
            None => 0,
        };
        let event = NewEvent::webhook_changed(&endpoint, WebhookChange::Recovered, Some(since))
            .by_operator(by)
            .with("events", n);
        crate::events::append(&mut tx, &event, now).await?;
        crate::idempotency::finish(&mut tx, idem, &n).await?;
        tx.commit().await?;
        Ok(Outcome::Done(n))
    }

    async fn list_attempts(
        &self,
        org: OrgId,
        id: WebhookId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Attempt>> {
        attempts::list(&mut self.0.reader(), org, id, before, limit).await
    }

    async fn delivery_queue_depth(&self) -> StoreResult<u64> {
        pending_deliveries(&mut self.0.reader()).await
    }
}

impl<B: Backend> SqlStore<B> {
    async fn record_streak(
        &self,
        tx: &mut B::Tx,
        endpoint: &DbId,
        org: OrgId,
        succeeded: bool,
        policy: &RetryPolicy,
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT url, status, failing_since FROM webhook_endpoints WHERE id = $1{}",
            B::DIALECT.for_update()
        );
        let Some(e): Option<StreakRow> = tx.fetch_optional(Sql::new(sql).bind(endpoint.0)).await?
        else {
            return Ok(()); // deleted meanwhile
        };
        let before = e.failing_since.map(|t| t.0);
        let streak = streak_after(policy, before, succeeded, now);
        let disable = streak.disable && e.status == WebhookStatus::Enabled.as_str();
        if streak.failing_since == before && !disable {
            return Ok(());
        }
        let status = if disable {
            WebhookStatus::Disabled.as_str()
        } else {
            e.status.as_str()
        };
        tx.execute(
            Sql::new("UPDATE webhook_endpoints SET failing_since = $1, status = $2 WHERE id = $3")
                .bind(streak.failing_since)
                .bind(status)
                .bind(endpoint.0),
        )
        .await?;
        if disable {
            let id: WebhookId = endpoint.0.into();
            let event = NewEvent {
                org_id: org,
                connection_id: None,
                kind: EventKind::WebhookDisabled,
                resource_id: id.to_string(),
                payload: serde_json::json!({
                    "webhook_id": id.to_string(),
                    "url": e.url,
                    "failing_since": streak.failing_since,
                }),
            };
            crate::events::append(tx, &event, now).await?;
        }
        Ok(())
    }
}
