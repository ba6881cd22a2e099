//! How long one retention chunk holds the database (issue 12, item 11): `JOBS` finished jobs with
//! bodies the size of a 1,000-transaction batch (~160 KB request, ~480 KB answer), then their
//! bodies purged `JOB_BODY_CHUNK` jobs per transaction; prints each chunk's time. A measurement,
//! not a check: `cargo test -p bankfeeds-store-tests --test retention_cost -- --ignored --nocapture`
//! (set `BANKFEEDS_TEST_POSTGRES_URL` for PostgreSQL).

use std::io::Write;
use std::time::Instant;

use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
use bankfeeds_domain::retention::{Purge, JOB_BODY_CHUNK};
use bankfeeds_domain::{Clock, Job, NewConnection, NewOrg, Platform, SystemClock};
use bankfeeds_store_tests::TestDb;
use chrono::TimeDelta;

const JOBS: usize = 250;

/// A JSON document of about `bytes`, varied enough not to compress to nothing.
fn body(bytes: usize, seed: usize) -> serde_json::Value {
    let items: Vec<_> = (0..bytes / 160)
        .map(|i| {
            serde_json::json!({
                "transaction_id": format!("tx-{seed}-{i}"),
                "posted_at": "2026-11-30T10:00:00.000Z",
                "amount": format!("-{}.{:02}", (i * 7919 + seed) % 100_000, i % 100),
                "description": format!("Card payment {} ref {:x}", i * 31 + seed, i * 2_654_435_761usize),
            })
        })
        .collect();
    serde_json::json!({ "bank_feed_transactions": items })
}

async fn measure(db: Option<TestDb>, backend: &str) {
    let Some(db) = db else { return };
    let store = db.store.clone();
    let now = SystemClock.now();
    let (org, _) = NewOrg::generate("Demo Bank", now).unwrap();
    store.create_org(&org).await.unwrap();
    let (c, _) = NewConnection::generate(org.org.id, Platform::Xero, None, now).unwrap();
    store.create_connection(&c, None).await.unwrap();
    let finished = now - TimeDelta::days(40);
    for n in 0..JOBS {
        let job = Job::new(
            JobKind::TransactionBatch,
            c.connection.org_id,
            c.connection.id,
            None,
            JobRequest {
                method: "POST".into(),
                url: "/versioned/accounting/bank_feeds/transactions".into(),
                body: RawJson::from_value(&body(160_000, n)),
                idempotency_key: None,
            },
            finished,
        );
        store.submit_job(&job, None).await.unwrap();
        store
            .fail_job(job.id, 409, &body(480_000, n + JOBS), finished)
            .await
            .unwrap();
    }
    let purge = Purge::JobBodies {
        finished_before: now - TimeDelta::days(30),
    };
    let mut chunks = Vec::new();
    loop {
        let t = Instant::now();
        let n = store.purge(purge, JOB_BODY_CHUNK, now).await.unwrap();
        chunks.push((n, t.elapsed().as_secs_f64() * 1e3));
        if n < u64::from(JOB_BODY_CHUNK) {
            break;
        }
    }
    let shown: Vec<String> = chunks
        .iter()
        .map(|(n, ms)| format!("{n} jobs in {ms:.0} ms"))
        .collect();
    // Straight to the stderr handle, past libtest's capture.
    let _ = writeln!(
        std::io::stderr(),
        "RETENTION COST {backend}: {JOBS} jobs' bodies (~650 KB each), chunks: {}",
        shown.join(", ")
    );
}

bankfeeds_store_tests::measured_on_both_backends!("retention_cost": retention_cost_sqlite, retention_cost_postgres);
