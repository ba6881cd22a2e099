//! What every handler can reach: the store, the clock, metrics, and the per-organisation limiter.

use std::num::NonZeroU32;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::profile::Door;
use bankfeeds_domain::{Clock, Job, OrgId};
use bankfeeds_store::{BatchCall, DynStore, StoreResult};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Notify;

use crate::client_limit::{AuthFailures, ClientLimiter};
use crate::jobs::{JobContext, Runners};
use crate::metrics::{BatchTally, Metrics};
use crate::sandbox_access::SandboxAccess;

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub limiter: Option<Arc<DefaultKeyedRateLimiter<OrgId>>>,
    /// Failed authentication per client address; `None` is off (the default of `new`).
    pub auth_failures: Option<Arc<AuthFailures>>,
    /// Requests per client address to the anonymous routes; `None` is off (the default of `new`).
    pub anonymous_limiter: Option<Arc<ClientLimiter>>,
    /// Base of the links the hub hands out, without a trailing slash.
    pub public_base: Arc<str>,
    /// The runner of each kind of job, registered by the doors.
    pub job_runners: Runners<AppState>,
    /// Wakes a worker when a job is submitted on this instance.
    pub job_notify: Arc<Notify>,
    /// Wakes `prefer_sync` requests when a job finishes on this instance.
    pub job_done: Arc<Notify>,
    /// Job claims being tried or run on this instance, so `jobs::drain` knows when it is done.
    pub jobs_in_hand: Arc<AtomicUsize>,
    /// How long a `prefer_sync` write waits for its job before answering with the job.
    pub sync_wait: Duration,
    /// How often the sandbox platforms ingest linked feeds on their own.
    pub sandbox_sync: crate::config::SandboxSchedule,
    /// How often this instance looks for feeds due for a scheduled sync; `None` runs no
    /// scheduler (tests drive `sync::run_due` themselves).
    pub sandbox_sync_tick: Option<Duration>,
    /// This hub instance's name, the holder of the job leases it takes. Stable across restarts
    /// (`instance_id` in the config), so a restarted instance frees what it held at once.
    pub instance: Arc<str>,
    /// What retention deletes and how often this instance runs it; `None` runs no retention
    /// task (the default of `new`; tests call `retention::run_once` themselves).
    pub retention: Option<(bankfeeds_domain::retention::RetentionPolicy, Duration)>,
    /// The sandbox platforms and the demo bank, and who may use them: `None` (the default of
    /// `new`, as of `serve`) mounts neither.
    pub sandbox: Option<Arc<SandboxAccess>>,
    /// `INTU.BID` written into `.qbo` and `.qfx` statement files (`web_connect_intu_bid`).
    pub web_connect_intu_bid: Arc<str>,
    /// How webhook targets are treated (`webhooks_*` in the config).
    pub webhooks: Arc<crate::webhooks::WebhookSettings>,
    /// The keys sealing secrets at rest (`secrets_key`); `None`: nothing can go live.
    pub keyring: Option<Arc<crate::sealed::Keyring>>,
    /// The live Xero connector's client (endpoints from `xero_*` in the config).
    pub xero: Arc<crate::xero::XeroClient>,
    /// How the live delivery worker paces itself (`xero/worker.rs`).
    pub live: Arc<crate::xero::worker::LiveSettings>,
}

impl AppState {
    /// Applies a batch job through the store, then counts under `door` what the committed
    /// outcome came to (`BatchTally`: the store may render twice, the last one is committed).
    pub async fn apply_counted_batch(&self, door: Door, call: BatchCall<'_>) -> StoreResult<Job> {
        let tally = BatchTally::default();
        let render = call.render;
        let counted = |currency, o: &_| {
            tally.see(o);
            render(currency, o)
        };
        let done = self
            .store
            .apply_batch(BatchCall {
                render: &counted,
                ..call
            })
            .await?;
        if let Some(t) = tally.take() {
            self.metrics.record_batch(door, &t);
        }
        Ok(done)
    }

    /// Whether browsers reach the hub over HTTPS, so its cookies may be marked `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_base.starts_with("https://")
    }

    pub fn new(
        store: DynStore,
        clock: Arc<dyn Clock>,
        public_base: String,
        rate_limit_per_10s: u32,
    ) -> Self {
        let limiter = NonZeroU32::new(rate_limit_per_10s).map(|per_10s| {
            // Refill evenly over the window, allow the whole window as a burst.
            let period = Duration::from_secs(10) / per_10s.get();
            let quota = Quota::with_period(period)
                .expect("non-zero period")
                .allow_burst(per_10s);
            Arc::new(RateLimiter::keyed(quota))
        });
        Self {
            metrics: Arc::new(Metrics::new()),
            store,
            clock,
            limiter,
            auth_failures: None,
            anonymous_limiter: None,
            public_base: public_base.into(),
            job_runners: crate::job_runners(),
            job_notify: Arc::new(Notify::new()),
            job_done: Arc::new(Notify::new()),
            jobs_in_hand: Arc::new(AtomicUsize::new(0)),
            sync_wait: Duration::from_secs(10),
            sandbox_sync: Default::default(),
            sandbox_sync_tick: Some(Duration::from_secs(30)),
            instance: format!("hub-{}", uuid::Uuid::new_v4()).into(),
            retention: None,
            sandbox: None,
            web_connect_intu_bid: crate::config::DEFAULT_INTU_BID.into(),
            webhooks: Default::default(),
            keyring: None,
            xero: Arc::new(crate::xero::XeroClient::new(
                Default::default(),
                Default::default(),
                Default::default(),
            )),
            live: Default::default(),
        }
    }
}

impl JobContext for AppState {
    fn store(&self) -> &DynStore {
        &self.store
    }

    fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn runners(&self) -> &Runners<Self> {
        &self.job_runners
    }

    fn job_submitted(&self) -> &Notify {
        &self.job_notify
    }

    fn job_finished(&self) -> &Notify {
        &self.job_done
    }

    fn jobs_in_hand(&self) -> &AtomicUsize {
        &self.jobs_in_hand
    }

    fn instance(&self) -> &str {
        &self.instance
    }

    fn job_done(&self, job: &Job) {
        self.metrics.record_job(job);
    }
}
