//! Prometheus metrics: request counts and latency by route and status, database pool figures.
//! One registry per app (no global recorder), so tests can run several hubs in one process.
//! What the hub did with the feeds (batches, jobs, ingestion) is `business.rs`.

mod business;

pub use business::{seconds_between, BatchTally, Tally};

use bankfeeds_store::PoolStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

/// Which kind of row a retention purge deleted.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RetentionLabels {
    kind: &'static str,
}

/// How a webhook delivery try ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: HistogramFamily,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    pub rate_limited: Counter,
    retention_deleted: Family<RetentionLabels, Counter>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    webhook_latency: Histogram,
    webhook_queue_depth: Gauge,
    business: business::Business,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bankfeeds");
        let requests = Family::<HttpLabels, Counter>::default();
        // 1 ms .. ~16 s
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15)));
        let pool_connections = Gauge::default();
        let pool_idle = Gauge::default();
        let pool_max = Gauge::default();
        let rate_limited = Counter::default();
        let retention_deleted = Family::<RetentionLabels, Counter>::default();
        registry.register(
            "retention_deleted",
            "Rows deleted by retention (for job_bodies: jobs whose bodies were deleted), by kind",
            retention_deleted.clone(),
        );
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        let webhook_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        let webhook_queue_depth = Gauge::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery tries, by outcome (succeeded, failed)",
            webhook_deliveries.clone(),
        );
        registry.register(
            "webhook_delivery_duration_seconds",
            "Time a webhook delivery try took",
            webhook_latency.clone(),
        );
        registry.register(
            "webhook_queue_depth",
            "Webhook deliveries waiting (as the delivery worker last counted)",
            webhook_queue_depth.clone(),
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Database pool size limit",
            pool_max.clone(),
        );
        registry.register(
            "rate_limited_requests",
            "Requests refused by the per-organisation rate limit",
            rate_limited.clone(),
        );
        let business = business::Business::register(&mut registry);
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
            rate_limited,
            retention_deleted,
            webhook_deliveries,
            webhook_latency,
            webhook_queue_depth,
            business,
        }
    }

    /// Counts a batch its door applied or refused, once the store committed it.
    pub fn record_batch(&self, door: bankfeeds_domain::profile::Door, tally: &Tally) {
        self.business.batch(door, tally);
    }

    /// Counts a job this instance finished.
    pub fn record_job(&self, job: &bankfeeds_domain::Job) {
        self.business.job(job);
    }

    /// Counts transactions a platform took, and how long the oldest of them waited.
    pub fn record_ingested(
        &self,
        platform: bankfeeds_domain::Platform,
        count: u64,
        waited_seconds: Option<f64>,
    ) {
        self.business.ingested(platform, count, waited_seconds);
    }

    /// Counts one answered request and its latency under its route template.
    pub fn record(&self, method: String, route: String, status: u16, seconds: f64) {
        let labels = HttpLabels {
            method,
            route,
            status,
        };
        self.latency.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    /// Counts rows a retention purge deleted (`kind` is a fixed name, never client input).
    pub fn record_retention(&self, kind: &'static str, deleted: u64) {
        self.retention_deleted
            .get_or_create(&RetentionLabels { kind })
            .inc_by(deleted);
    }

    /// Counts a webhook delivery try (`outcome` is a fixed name) and its duration.
    pub fn record_webhook_delivery(&self, outcome: &'static str, seconds: f64) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.webhook_latency.observe(seconds);
    }

    pub fn set_webhook_queue_depth(&self, depth: u64) {
        self.webhook_queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition, with pool gauges read now.
    pub fn render(&self, pool: PoolStats) -> String {
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
