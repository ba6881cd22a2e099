//! Pushing batches over HTTP from C concurrent clients, checking that every pushed transaction
//! is stored exactly once, and timing reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use serde::Serialize;

use crate::api::{Api, PushError};
use crate::data::{self, Kind};
use crate::stats::{self, Latency};

/// One ingest run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct IngestStats {
    pub clients: usize,
    pub accounts: usize,
    pub transactions: u64,
    pub batches: usize,
    pub seconds: f64,
    pub transactions_per_s: f64,
    pub batch_latency: Latency,
    /// Batches sent again after a transport error, a 5xx or a 429.
    pub retries: u64,
    /// The job behind every batch (`x-rutter-job-id`), for the read phase's job lookups.
    #[serde(skip)]
    pub job_ids: Vec<String>,
}

/// Pushes `counts[a]` transactions to account `accounts[a]`, for every account, in batches of
/// 1000 from `clients` concurrent clients (account `a` belongs to client `a % clients`).
pub async fn ingest(
    api: &Api,
    accounts: &[String],
    counts: &[u64],
    clients: usize,
    base: i64,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<IngestStats> {
    let clients = clients.max(1);
    let accounts: Arc<Vec<String>> = Arc::new(accounts.to_vec());
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for c in 0..clients {
        let specs = data::schedule(counts, clients, c);
        let api = api.clone();
        let accounts = accounts.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let mut latencies = Vec::with_capacity(specs.len());
            let mut job_ids = Vec::with_capacity(specs.len());
            let mut retries = 0u64;
            for spec in specs {
                let body = Api::batch_body(&accounts[spec.account], spec.account, spec, base);
                let t0 = Instant::now();
                let mut attempt = 0;
                let job = loop {
                    match api.push(body.clone()).await {
                        Ok(job) => break job,
                        Err(PushError::Retry(e)) if attempt < 5 => {
                            attempt += 1;
                            retries += 1;
                            progress.println(format!("retrying a batch: {e:#}"));
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        Err(PushError::Retry(e) | PushError::Fatal(e)) => {
                            return Err(e.context(format!(
                                "batch of account {} from {}",
                                spec.account, spec.start
                            )))
                        }
                    }
                };
                latencies.push(t0.elapsed());
                job_ids.push(job);
                progress.inc(spec.len);
            }
            anyhow::Ok((latencies, job_ids, retries))
        });
    }
    let mut latencies = Vec::new();
    let mut job_ids = Vec::new();
    let mut retries = 0;
    while let Some(r) = set.join_next().await {
        let (l, j, n) = r??;
        latencies.extend(l);
        job_ids.extend(j);
        retries += n;
    }
    let seconds = started.elapsed().as_secs_f64();
    let transactions: u64 = counts.iter().sum();
    Ok(IngestStats {
        clients,
        accounts: accounts.len(),
        transactions,
        batches: latencies.len(),
        seconds,
        transactions_per_s: transactions as f64 / seconds,
        batch_latency: stats::summarize(&latencies),
        retries,
        job_ids,
    })
}

/// What a feed pull found: every pushed transaction stored once, and how fast it read.
#[derive(Debug, Clone, Serialize)]
pub struct PullStats {
    pub accounts: usize,
    pub rows: u64,
    pub pages: usize,
    pub seconds: f64,
    pub rows_per_s: f64,
    pub page_latency: Latency,
}

/// Pulls every account's feed as a platform would (pages of 1000, following `next_cursor`, one
/// account after the other) and checks that it holds each pushed transaction exactly once, with
/// the posted_at and amount sent, plus exactly `preloaded[a]` preloaded rows.
pub async fn pull_and_verify(
    api: &Api,
    accounts: &[String],
    pushed: &[u64],
    preloaded: &[u64],
    base: i64,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<PullStats> {
    let mut problems: Vec<String> = Vec::new();
    let mut page_latencies = Vec::new();
    let mut rows = 0u64;
    let started = Instant::now();
    for (a, id) in accounts.iter().enumerate() {
        let mut seen = vec![0u32; pushed[a] as usize];
        let mut preload_seen = 0u64;
        let mut cursor: Option<String> = None;
        loop {
            let t0 = Instant::now();
            let (items, next) = api.list_page(id, cursor.as_deref()).await?;
            page_latencies.push(t0.elapsed());
            rows += items.len() as u64;
            progress.inc(items.len() as u64);
            for t in items {
                match data::parse_transaction_id(&t.transaction_id) {
                    Some((Kind::Ingest, seq)) if seq < pushed[a] => {
                        seen[seq as usize] += 1;
                        let want = data::row(Kind::Ingest, a, seq, 0, base);
                        let posted = chrono::DateTime::parse_from_rfc3339(&t.posted_at)
                            .map(|d| d.timestamp());
                        let amount = t.amount.to_string().trim_matches('"').to_owned();
                        if posted.ok() != Some(want.posted_at)
                            || normalize_decimal(&amount) != normalize_decimal(&want.amount)
                        {
                            problems.push(format!(
                                "account {a} {}: stored posted_at {} amount {amount}, pushed {} {}",
                                t.transaction_id,
                                t.posted_at,
                                data::rfc3339(want.posted_at),
                                want.amount
                            ));
                        }
                    }
                    Some((Kind::Preload, _)) => preload_seen += 1,
                    _ => problems.push(format!(
                        "account {a}: unexpected transaction {}",
                        t.transaction_id
                    )),
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        for (seq, n) in seen.iter().enumerate() {
            if *n != 1 {
                problems.push(format!("account {a}: t{seq:09} stored {n} times"));
            }
        }
        if preload_seen != preloaded[a] {
            problems.push(format!(
                "account {a}: {preload_seen} preloaded rows listed, {} preloaded",
                preloaded[a]
            ));
        }
        if problems.len() > 20 {
            break;
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(20);
        bail!(
            "verification failed: not every pushed transaction is stored exactly once ({n} problems, first ones):\n  {}",
            problems.join("\n  ")
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(PullStats {
        accounts: accounts.len(),
        rows,
        pages: page_latencies.len(),
        seconds,
        rows_per_s: rows as f64 / seconds,
        page_latency: stats::summarize(&page_latencies),
    })
}

/// A decimal's text without trailing fractional zeros (the hub may normalise `12.30` to `12.3`).
fn normalize_decimal(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Latency of fetching one account and one job, `samples` of each, one at a time.
#[derive(Debug, Clone, Serialize)]
pub struct LookupStats {
    pub account_get: Latency,
    pub job_get: Latency,
}

pub async fn lookups(
    api: &Api,
    accounts: &[String],
    job_ids: &[String],
    samples: usize,
) -> anyhow::Result<LookupStats> {
    if accounts.is_empty() || job_ids.is_empty() {
        return Err(anyhow!("no account or job to fetch"));
    }
    let mut account_lat = Vec::with_capacity(samples);
    let mut job_lat = Vec::with_capacity(samples);
    for i in 0..samples {
        // Spread over all accounts and jobs (a stride coprime with most sizes).
        let a = &accounts[(i * 7919) % accounts.len()];
        let t0 = Instant::now();
        api.get_account(a).await?;
        account_lat.push(t0.elapsed());
        let j = &job_ids[(i * 7919) % job_ids.len()];
        let t0 = Instant::now();
        api.get_job(j).await?;
        job_lat.push(t0.elapsed());
    }
    Ok(LookupStats {
        account_get: stats::summarize(&account_lat),
        job_get: stats::summarize(&job_lat),
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_decimal;

    #[test]
    fn decimals_compare_by_value() {
        assert_eq!(normalize_decimal("-12.30"), normalize_decimal("-12.3"));
        assert_eq!(normalize_decimal("5.00"), "5");
        assert_eq!(normalize_decimal("100"), "100");
        assert_ne!(normalize_decimal("1.10"), normalize_decimal("1.01"));
    }
}
