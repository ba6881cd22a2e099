//! The retention task: once at start-up and then every interval, deletes what is past its
//! horizon (see `bankfeeds_domain::retention`), one bounded chunk per transaction, logging the
//! counts and adding them to `/metrics`. Several instances on one database may run it at once:
//! each chunk deletes what is still there.

use std::time::Duration;

use bankfeeds_domain::retention::RetentionPolicy;
use bankfeeds_domain::{Clock, Timestamp};
use bankfeeds_store::{DynStore, StoreResult};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// What one pass deleted: `(kind, rows)` for each kind the policy purges.
pub type Counts = Vec<(&'static str, u64)>;

/// One pass as of `now`: every kind the policy purges, chunk after chunk (each purge's own
/// [`Purge::chunk`](bankfeeds_domain::retention::Purge::chunk) rows per transaction, or `chunk` when given) until one comes back short or
/// `stop` is cancelled.
pub async fn run_once(
    store: &DynStore,
    metrics: &Metrics,
    policy: &RetentionPolicy,
    now: Timestamp,
    chunk: Option<u32>,
    stop: &CancellationToken,
) -> StoreResult<Counts> {
    let mut counts = Vec::new();
    for purge in policy.purges(now) {
        let chunk = chunk.unwrap_or(purge.chunk());
        let mut total = 0;
        loop {
            let deleted = store.purge(purge, chunk, now).await?;
            total += deleted;
            metrics.record_retention(purge.kind(), deleted);
            if deleted < u64::from(chunk) || stop.is_cancelled() {
                break;
            }
            // Let other writers in between chunks.
            tokio::task::yield_now().await;
        }
        counts.push((purge.kind(), total));
    }
    Ok(counts)
}

/// Runs a pass now and then every `every` until `stop`.
pub fn spawn(
    store: DynStore,
    metrics: std::sync::Arc<Metrics>,
    clock: std::sync::Arc<dyn Clock>,
    policy: RetentionPolicy,
    every: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => break,
            }
            match run_once(&store, &metrics, &policy, clock.now(), None, &stop).await {
                Ok(counts) => {
                    let deleted: u64 = counts.iter().map(|(_, n)| n).sum();
                    let summary = counts
                        .iter()
                        .map(|(kind, n)| format!("{kind}={n}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    tracing::info!(deleted, counts = %summary, "retention pass finished");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention pass failed; retrying at the next interval")
                }
            }
        }
    })
}
