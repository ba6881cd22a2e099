//! The delivery worker `serve_with` starts beside the job workers: one loop fans new events out
//! to deliveries (reading the events feed from each endpoint's cursor, so the transactions that
//! write events never wait on webhooks), a few loops claim due deliveries under a lease, send
//! them signed through the safe client and record each try. Several hub instances on one
//! PostgreSQL share the work through the leases; each delivery is claimed by one at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bankfeeds_domain::webhook::delivery::{
    self, kept_response, parse_retry_after, Delivery, TryRecord, TryResult,
};
use bankfeeds_domain::Clock;
use bankfeeds_store::{DynStore, StoreResult};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::signal::{drain, pause};

use super::client::SafeClient;
use super::WebhookSettings;
use crate::metrics::Metrics;
use crate::sealed::Keyring;

/// Loops sending at once: one endpoint's deliveries go one at a time, so these serve different
/// endpoints, and one that hangs for its 15 s holds only one loop.
pub const SENDERS: usize = 4;
/// How long a claimed delivery is this instance's: the try's timeout and room to record it.
const LEASE: Duration = Duration::from_secs(60);
/// Events read per endpoint per fan-out transaction.
const FAN_OUT_PAGE: u32 = 200;
/// How long a delivery this instance cannot sign waits before any instance claims it again:
/// long enough not to spin on it, short enough that a hub holding the key soon takes it.
const HAND_BACK: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Worker {
    pub store: DynStore,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub settings: WebhookSettings,
    /// This instance's name, the holder of its leases.
    pub holder: String,
    /// Opens the endpoints' sealed signing secrets (`secret.rs`).
    pub keyring: Option<Arc<Keyring>>,
    client: SafeClient,
}

impl Worker {
    pub fn new(
        store: DynStore,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        settings: WebhookSettings,
        holder: String,
        keyring: Option<Arc<Keyring>>,
    ) -> anyhow::Result<Self> {
        let client = SafeClient::new(settings.allow_private)?;
        Ok(Worker {
            store,
            clock,
            metrics,
            settings,
            holder,
            keyring,
            client,
        })
    }

    /// Fans out every new event, one page per endpoint per transaction, until none is left.
    pub async fn fan_out(&self) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let n = self
                .store
                .fan_out_events(FAN_OUT_PAGE, self.clock.now())
                .await?;
            total += n;
            if n == 0 {
                let depth = self.store.delivery_queue_depth().await?;
                self.metrics.set_webhook_queue_depth(depth);
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Claims and sends one due delivery; false when none is due.
    pub async fn deliver_one(&self) -> StoreResult<bool> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX);
        let Some(d) = self
            .store
            .claim_delivery(&self.holder, now + lease, now)
            .await?
        else {
            return Ok(false);
        };
        let started = Instant::now();
        let Some(record) = self.send(&d).await else {
            return self.hand_back(&d).await;
        };
        let seconds = started.elapsed().as_secs_f64();
        let outcome = if record.result.succeeded() {
            "succeeded"
        } else {
            "failed"
        };
        self.metrics.record_webhook_delivery(outcome, seconds);
        tracing::info!(
            webhook_id = %d.endpoint.id,
            event_seq = d.event.seq,
            try_number = d.tries_before + 1,
            outcome,
            status = ?match record.result { TryResult::Answered { status, .. } => Some(status), TryResult::NoAnswer => None },
            "webhook delivery tried"
        );
        let jitter: f64 = rand::thread_rng().gen();
        self.store
            .finish_delivery(
                d.id,
                &self.holder,
                &record,
                &self.settings.policy,
                jitter,
                self.clock.now(),
            )
            .await?;
        Ok(true)
    }

    /// A delivery this hub cannot sign (its key ring lacks the key the endpoint's secret is
    /// sealed under: a rolling key rotation, or no key ring) is no failed try of the endpoint's:
    /// it goes back to the queue for a hub that can, and the operator hears of it here.
    async fn hand_back(&self, d: &Delivery) -> StoreResult<bool> {
        tracing::error!(
            webhook_id = %d.endpoint.id,
            event_seq = d.event.seq,
            "this hub cannot open the webhook's signing secret (is secrets_key the key it was sealed under?); delivery handed back"
        );
        let now = self.clock.now();
        let retry_at = now + chrono::Duration::from_std(HAND_BACK).unwrap_or(chrono::Duration::MAX);
        self.store
            .hand_back_delivery(d.id, &self.holder, retry_at, now)
            .await?;
        self.metrics.record_webhook_delivery("unsigned", 0.0);
        Ok(true)
    }

    /// Signs and posts one try; `None` when this hub cannot open the endpoint's secret.
    async fn send(&self, d: &Delivery) -> Option<TryRecord> {
        let msg_id = format!("evt_{}", d.event.seq);
        let body = delivery::body(d.event.kind, d.event.created_at, &d.event.payload);
        let timestamp = self.clock.now().timestamp();
        let started = Instant::now();
        let secret = super::secret::open(self.keyring.as_deref(), &d.endpoint);
        let signature = secret.and_then(|s| delivery::sign(&s, &msg_id, timestamp, &body))?;
        let headers = [
            ("webhook-id", msg_id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let answer = self.client.post(&d.endpoint.url, &headers, body).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Some(match answer {
            Ok(a) => TryRecord {
                result: TryResult::Answered {
                    status: a.status,
                    retry_after: a
                        .retry_after
                        .as_deref()
                        .and_then(|v| parse_retry_after(v, self.clock.now())),
                },
                latency_ms,
                response: kept_response(&a.body),
                error: None,
            },
            Err(why) => no_answer(latency_ms, why),
        })
    }

    /// Until nothing is left to fan out and nothing is due: what tests call to run deliveries
    /// deterministically.
    pub async fn drain(&self) -> StoreResult<usize> {
        let mut sent = 0;
        loop {
            self.fan_out().await?;
            if !self.deliver_one().await? {
                return Ok(sent);
            }
            sent += 1;
        }
    }

    /// Frees this instance's leases (it starts again after a crash), then runs the fan-out loop
    /// and `SENDERS` sending loops until `stop`.
    pub async fn spawn(self, stop: CancellationToken) -> tokio::task::JoinSet<()> {
        match self.store.release_delivery_leases(&self.holder).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                released = n,
                "webhook delivery leases of this instance freed"
            ),
            Err(e) => tracing::warn!(error = %e, "could not free this instance's delivery leases"),
        }
        let mut set = tokio::task::JoinSet::new();
        let w = self.clone();
        let s = stop.clone();
        set.spawn(async move {
            loop {
                if let Err(e) = w.fan_out().await {
                    tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                }
                if pause(&s, w.settings.poll).await {
                    break;
                }
            }
        });
        for _ in 0..SENDERS {
            let w = self.clone();
            let s = stop.clone();
            let idle = w.settings.poll;
            set.spawn(drain(s, idle, "webhook delivery", async move || {
                w.deliver_one().await
            }));
        }
        set
    }
}

fn no_answer(latency_ms: u64, why: String) -> TryRecord {
    TryRecord {
        result: TryResult::NoAnswer,
        latency_ms,
        response: String::new(),
        error: Some(why),
    }
}
