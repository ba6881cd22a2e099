//! Webhook deliveries: one per (endpoint, event) its filter takes, fanned out from the events
//! feed by the delivery worker (never by the writer of the event, so ingest does not wait on
//! it), claimed under a lease, in order per endpoint, one attempt row per try.

use async_trait::async_trait;
use bankfeeds_domain::webhook::delivery::{Attempt, Delivery, RetryPolicy, TryRecord};
use bankfeeds_domain::webhook::WebhookId;
use bankfeeds_domain::{OrgId, Timestamp};

use crate::{Idem, Outcome, StoreResult};

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// For each endpoint no other instance is fanning out, reads up to `page` events of its
    /// organisation past its feed cursor, adds a delivery for each its filter takes (none while
    /// the endpoint is disabled) and moves the cursor past them. Returns how many events were
    /// read (0: nothing new).
    async fn fan_out_events(&self, page: u32, now: Timestamp) -> StoreResult<u64>;

    /// Claims the delivery due soonest among the heads of enabled endpoints' queues (an
    /// endpoint's deliveries go one at a time, in event order: a later one waits while an
    /// earlier one is retried), leased to `holder` until `lease_until`.
    async fn claim_delivery(
        &self,
        holder: &str,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Option<Delivery>>;

    /// Records a try of `delivery` and what the domain makes of it (`next_step`,
    /// `streak_after`): delivered, retried later, or given up; the endpoint disabled with a
    /// `webhook.disabled` event when it has failed long enough. A delivery no longer leased
    /// to `holder` keeps its state; the attempt is recorded anyway.
    #[allow(clippy::too_many_arguments)]
    async fn finish_delivery(
        &self,
        delivery: i64,
        holder: &str,
        record: &TryRecord,
        policy: &RetryPolicy,
        jitter_sample: f64,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Gives back a delivery `holder` claimed but could not try (it cannot open the endpoint's
    /// signing secret: a key ring mid-rotation, or none): the claim's try is not counted, the
    /// lease ends and the delivery is due again at `retry_at`, for whichever instance can sign
    /// it. False when it is no longer leased to `holder` (nothing changed).
    async fn hand_back_delivery(
        &self,
        delivery: i64,
        holder: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Ends every lease `holder` has on deliveries (an instance starting again). Returns how many.
    async fn release_delivery_leases(&self, holder: &str) -> StoreResult<u64>;

    /// Sends again every event since `since` the endpoint's filter takes, up to what was
    /// already fanned out to it (at most `max`): new deliveries, after those queued. Returns
    /// how many. `NotFound` when the organisation has no such endpoint. With `idem`, a retry
    /// under the same key is answered as the first call was and queues nothing again. Records a
    /// `webhook.changed` event (`recovered`) naming the console operator `by`.
    #[allow(clippy::too_many_arguments)]
    async fn recover_webhook(
        &self,
        org: OrgId,
        id: WebhookId,
        since: Timestamp,
        max: u32,
        now: Timestamp,
        by: Option<bankfeeds_domain::operator::OperatorId>,
        idem: Option<Idem<'_, u64>>,
    ) -> StoreResult<Outcome<u64>>;

    /// The endpoint's attempts, newest first, those before `before` (an attempt id) when given.
    /// `NotFound` when the organisation has no such endpoint.
    async fn list_attempts(
        &self,
        org: OrgId,
        id: WebhookId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Attempt>>;

    /// Deliveries waiting (pending), for the queue-depth metric.
    async fn delivery_queue_depth(&self) -> StoreResult<u64>;
}
