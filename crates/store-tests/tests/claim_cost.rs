//! What a claim costs with a deep backlog, on each backend (issue 12, item 10): organisation A
//! has `CLAIM_COST_BACKLOG` jobs (default 10,000) over `ACCOUNTS` accounts, two workers hold a
//! lease each on A's jobs, organisation B submits one job, and a third worker claims and
//! finishes jobs one after the other. Prints the mean and p95 claim time and which claim took
//! B's job. A measurement, not a check:
//! `cargo test -p bankfeeds-store-tests --test claim_cost -- --ignored --nocapture`
//! (set `BANKFEEDS_TEST_POSTGRES_URL` for PostgreSQL).

use std::io::Write;
use std::time::{Duration, Instant};

use bankfeeds_domain::account::BankAccountType;
use bankfeeds_domain::job::{JobKind, JobRequest, RawJson};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::{
    BankFeedAccount, Clock, Connection, Currency, Job, JobId, NewConnection, NewOrg, Platform,
    SystemClock,
};
use bankfeeds_store::DynStore;
use bankfeeds_store_tests::TestDb;
use chrono::TimeDelta;

const ACCOUNTS: usize = 100;
const CLAIMS: usize = 200;

async fn org_connection(store: &DynStore, name: &str) -> Connection {
    let now = SystemClock.now();
    let (org, _) = NewOrg::generate(name, now).unwrap();
    store.create_org(&org).await.unwrap();
    let (c, _) = NewConnection::generate(org.org.id, Platform::Xero, None, now).unwrap();
    store.create_connection(&c, None).await.unwrap();
    c.connection
}

async fn accounts(store: &DynStore, c: &Connection, n: usize) -> Vec<BankFeedAccount> {
    let profile = PlatformProfile::for_platform(c.platform, Door::Rutter);
    let mut out = Vec::new();
    for i in 0..n {
        let a = BankFeedAccount::new(
            c.org_id,
            c.id,
            &profile,
            format!("acct-{i}"),
            BankAccountType::Bank,
            Currency::from_code("USD").unwrap(),
            SystemClock.now(),
        );
        store.create_account(&a, false, None).await.unwrap();
        out.push(a);
    }
    out
}

async fn submit(store: &DynStore, c: &Connection, a: &BankFeedAccount, n: i64) -> JobId {
    let job = Job::new(
        JobKind::TransactionBatch,
        c.org_id,
        c.id,
        Some(a.id),
        JobRequest {
            method: "POST".into(),
            url: "/versioned/accounting/bank_feeds/transactions".into(),
            body: RawJson::trusted("{}"),
            idempotency_key: None,
        },
        chrono::DateTime::UNIX_EPOCH + TimeDelta::seconds(1_700_000_000 + n),
    );
    store.submit_job(&job, None).await.unwrap();
    job.id
}

async fn measure(db: Option<TestDb>, backend: &str) {
    let Some(db) = db else { return };
    let store = db.store.clone();
    let backlog: usize = std::env::var("CLAIM_COST_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let a = org_connection(&store, "Backlog Bank").await;
    let a_accounts = accounts(&store, &a, ACCOUNTS).await;
    let started = Instant::now();
    for n in 0..backlog {
        submit(&store, &a, &a_accounts[n % ACCOUNTS], n as i64).await;
    }
    let filled = started.elapsed();
    let now = SystemClock.now();
    for holder in ["busy-1", "busy-2"] {
        store
            .claim_job(None, holder, now + TimeDelta::hours(1), now)
            .await
            .unwrap()
            .unwrap();
    }
    let b = org_connection(&store, "Small Bank").await;
    let b_account = accounts(&store, &b, 1).await;
    let b_job = submit(&store, &b, &b_account[0], backlog as i64).await;
    let mut times = Vec::new();
    let mut b_after = None;
    for n in 0..CLAIMS {
        let now = SystemClock.now();
        let t = Instant::now();
        let job = store
            .claim_job(None, "worker", now + TimeDelta::seconds(10), now)
            .await
            .unwrap()
            .expect("a runnable job");
        times.push(t.elapsed());
        if job.id == b_job {
            b_after = Some(n + 1);
        }
        store
            .fail_job(job.id, 500, &serde_json::json!({}), now)
            .await
            .unwrap();
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p95 = times[times.len() * 95 / 100];
    // Straight to the stderr handle, past libtest's capture.
    let _ = writeln!(
        std::io::stderr(),
        "CLAIM COST {backend}: backlog {backlog} jobs over {ACCOUNTS} accounts (filled in {:.1}s); \
         claim mean {:.3} ms, p95 {:.3} ms over {CLAIMS} claims; B's job was claim no. {}",
        filled.as_secs_f64(),
        mean.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        b_after.map_or_else(|| format!("> {CLAIMS}"), |n| n.to_string()),
    );
}

bankfeeds_store_tests::measured_on_both_backends!("claim_cost": claim_cost_sqlite, claim_cost_postgres);
