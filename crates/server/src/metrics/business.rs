//! Business metrics: what the hub did with the FI's feeds (batches, transactions, jobs,
//! platform ingestion), beside the HTTP and pool figures in `mod.rs`. Every label comes from a
//! fixed set — doors, platforms, job kinds and statuses, refusal kinds — never from a request,
//! so no client can grow the registry.

use std::sync::Mutex;

use bankfeeds_domain::batch::{BatchItem, BatchRefusal};
use bankfeeds_domain::profile::Door;
use bankfeeds_domain::{Job, Platform, Timestamp};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BatchLabels {
    door: &'static str,
    /// `applied`, or the refusal's kind (`BatchRefusal::kind`).
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushedLabels {
    door: &'static str,
    /// `created` (new rows) or `duplicate` (identical re-sends, stored once before).
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabels {
    platform: &'static str,
}

type LagFamily = Family<PlatformLabels, Histogram, fn() -> Histogram>;

pub(super) struct Business {
    batches: Family<BatchLabels, Counter>,
    pushed: Family<PushedLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    ingested: Family<PlatformLabels, Counter>,
    lag: LagFamily,
}

impl Business {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let batches = Family::<BatchLabels, Counter>::default();
        registry.register(
            "batches",
            "Transaction batches applied or refused, by door and outcome (applied, or the refusal: invalid, conflict, account_not_found, balance_mismatch)",
            batches.clone(),
        );
        let pushed = Family::<PushedLabels, Counter>::default();
        registry.register(
            "transactions_pushed",
            "Transactions in applied batches, by door and result (created, duplicate)",
            pushed.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs_finished",
            "Jobs finished by this instance, by kind and status (success, failure)",
            jobs.clone(),
        );
        let ingested = Family::<PlatformLabels, Counter>::default();
        registry.register(
            "transactions_ingested",
            "Transactions a platform took (sandbox statements, OFX downloads, live statements), by platform",
            ingested.clone(),
        );
        // 1 s .. ~9 days
        let lag: LagFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(1.0, 2.0, 20)));
        registry.register(
            "feed_ingest_lag_seconds",
            "For each ingestion, how long its oldest transaction waited between push and platform",
            lag.clone(),
        );
        Self {
            batches,
            pushed,
            jobs,
            ingested,
            lag,
        }
    }

    pub(super) fn batch(&self, door: Door, tally: &Tally) {
        let door = door_name(door);
        let outcome = tally.refusal.unwrap_or("applied");
        self.batches
            .get_or_create(&BatchLabels { door, outcome })
            .inc();
        for (result, n) in [("created", tally.created), ("duplicate", tally.duplicates)] {
            if n > 0 {
                self.pushed
                    .get_or_create(&PushedLabels { door, result })
                    .inc_by(n);
            }
        }
    }

    pub(super) fn job(&self, job: &Job) {
        self.jobs
            .get_or_create(&JobLabels {
                kind: job.kind.as_str(),
                status: job.status.as_str(),
            })
            .inc();
    }

    pub(super) fn ingested(&self, platform: Platform, count: u64, waited_seconds: Option<f64>) {
        if count == 0 {
            return;
        }
        let labels = PlatformLabels {
            platform: platform.as_str(),
        };
        self.ingested.get_or_create(&labels).inc_by(count);
        if let Some(waited) = waited_seconds {
            self.lag.get_or_create(&labels).observe(waited.max(0.0));
        }
    }
}

fn door_name(door: Door) -> &'static str {
    match door {
        Door::Rutter => "rutter",
        Door::Codat => "codat",
    }
}

/// What a batch came to, as its door's renderer saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub duplicates: u64,
    pub refusal: Option<&'static str>,
}

/// Remembers the last outcome a batch's renderer was handed. The store renders the outcome it
/// commits last (SQLite may work a batch out twice), so after `apply_batch` this holds what was
/// committed; it is empty when the job had already finished (nothing to count). A job run by
/// two workers at once after a lost lease may be seen by both: a rare double count in a metric,
/// never in the books.
#[derive(Debug, Default)]
pub struct BatchTally(Mutex<Option<Tally>>);

impl BatchTally {
    pub fn see(&self, outcome: &Result<Vec<BatchItem>, BatchRefusal>) {
        let tally = match outcome {
            Ok(items) => {
                let duplicates = items.iter().filter(|i| i.duplicate).count() as u64;
                Tally {
                    created: items.len() as u64 - duplicates,
                    duplicates,
                    refusal: None,
                }
            }
            Err(refusal) => Tally {
                created: 0,
                duplicates: 0,
                refusal: Some(refusal.kind()),
            },
        };
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(tally);
    }

    pub fn take(&self) -> Option<Tally> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Seconds from `since` to `now` (for the lag histogram).
pub fn seconds_between(since: Timestamp, now: Timestamp) -> f64 {
    (now - since).as_seconds_f64()
}
