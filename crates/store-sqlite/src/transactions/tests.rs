//! The batch worked out on a reader and committed under the write lock: what happens when the
//! account changes in between (the conformance suite cannot interleave that; it covers the
//! rest on both backends).

use std::sync::Mutex;

use bankfeeds_domain::account::BankAccountType;
use bankfeeds_domain::job::JobRequest;
use bankfeeds_domain::profile::Door;
use bankfeeds_domain::transaction::{TransactionData, TransactionQuery};
use bankfeeds_domain::{Connection, Currency, JobId, NewConnection, NewOrg, Platform};
use bankfeeds_store::prelude::*;
use bankfeeds_store::{BatchRender, Outcome};
use chrono::{DateTime, TimeDelta};

use super::*;

fn t0() -> Timestamp {
    DateTime::parse_from_rfc3339("2024-06-15T12:00:00Z")
        .unwrap()
        .to_utc()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: crate::SqliteStore,
    connection: Connection,
    account: BankFeedAccount,
    profile: PlatformProfile,
    /// Every outcome the renderer was asked to render.
    seen: Seen,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = SqliteDb::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let (org, _) = NewOrg::generate("Demo Bank", t0()).unwrap();
    store.create_org(&org).await.unwrap();
    let (c, _) =
        NewConnection::generate(org.org.id, Platform::IntuitBankFeeds, None, t0()).unwrap();
    store.create_connection(&c, None).await.unwrap();
    let profile = PlatformProfile::for_platform(c.connection.platform, Door::Rutter);
    let a = BankFeedAccount::new(
        c.connection.org_id,
        c.connection.id,
        &profile,
        "chk-1".into(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        t0() - TimeDelta::days(30),
    );
    let Outcome::Done((account, true)) = store.create_account(&a, false, None).await.unwrap()
    else {
        panic!("a fresh account");
    };
    Fixture {
        _dir: dir,
        store,
        connection: c.connection,
        account,
        profile,
        seen: Seen::default(),
    }
}

impl Fixture {
    /// The batch as job `job` of the fixture's platform, at `t0`, rendered by `render`.
    fn call<'a>(
        &'a self,
        job: JobId,
        b: &'a BatchRequest,
        render: BatchRender<'a>,
    ) -> BatchCall<'a> {
        BatchCall {
            job,
            batch: b,
            profile: &self.profile,
            now: t0(),
            render,
        }
    }

    async fn prepare(&self, job: JobId, b: &BatchRequest) -> Option<Prepared> {
        let r = |_, o: &Result<Vec<BatchItem>, BatchRefusal>| render(&self.seen, o);
        prepare(&self.store, self.call(job, b, &r)).await.unwrap()
    }

    async fn commit(&self, job: JobId, prepared: Option<Prepared>, b: &BatchRequest) -> Job {
        let r = |_, o: &Result<Vec<BatchItem>, BatchRefusal>| render(&self.seen, o);
        commit(&self.store, prepared, self.call(job, b, &r))
            .await
            .unwrap()
    }

    /// The whole batch in one call, as the store's `apply_batch` runs it.
    async fn apply(&self, job: JobId, b: &BatchRequest) -> Job {
        let r = |_, o: &Result<Vec<BatchItem>, BatchRefusal>| render(&self.seen, o);
        self.store.apply_batch(self.call(job, b, &r)).await.unwrap()
    }

    fn renders(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn batch(f: &Fixture) -> BatchRequest {
    let tx = |id: &str, amount: &str| TransactionData {
        description: Some("Card purchase".into()),
        ..TransactionData::bare(id, t0() - TimeDelta::days(1), amount.parse().unwrap())
    };

    BatchRequest {
        bank_feed_account_id: f.account.id,
        current_balance: None,
        transactions: vec![tx("t-1", "-12.34"), tx("t-2", "56.78")],
    }
}

/// Submits and claims a job for a batch; returns its id.
async fn claimed_job(f: &Fixture) -> JobId {
    let job = Job::new(
        bankfeeds_domain::job::JobKind::TransactionBatch,
        f.connection.org_id,
        f.connection.id,
        Some(f.account.id),
        JobRequest {
            method: "POST".into(),
            url: "/versioned/accounting/bank_feeds/transactions".into(),
            body: RawJson::trusted("{}"),
            idempotency_key: None,
        },
        t0(),
    );
    f.store.submit_job(&job, None).await.unwrap();
    let claimed = f
        .store
        .claim_job(Some(job.id), "test", t0() + TimeDelta::seconds(60), t0())
        .await
        .unwrap()
        .expect("claimable");
    claimed.id
}

type Seen = Mutex<Vec<Result<Vec<BatchItem>, BatchRefusal>>>;

/// Renders `created/duplicates/ingested` counts, or the refusal's name, and records what it saw.
fn render(seen: &Seen, outcome: &Result<Vec<BatchItem>, BatchRefusal>) -> (u16, RawJson) {
    seen.lock().unwrap().push(outcome.clone());
    match outcome {
        Ok(items) => {
            let created = items.iter().filter(|i| !i.duplicate).count();
            let ingested = items
                .iter()
                .filter(|i| i.transaction.platform_ingested)
                .count();
            let body = serde_json::json!({"created": created, "ingested": ingested});
            (200, RawJson::from_value(&body))
        }
        Err(BatchRefusal::AccountNotFound) => (404, RawJson::trusted("{\"refusal\":\"gone\"}")),
        Err(_) => (400, RawJson::trusted("{\"refusal\":\"other\"}")),
    }
}

async fn stored(f: &Fixture) -> usize {
    let q = TransactionQuery {
        limit: 100,
        ..TransactionQuery::default()
    };
    f.store
        .list_transactions(f.connection.id, &q)
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn an_unchanged_account_commits_the_prepared_answer() {
    let f = fixture().await;
    let b = batch(&f);
    let job = claimed_job(&f).await;
    let prepared = f.prepare(job, &b).await;
    assert!(prepared.is_some());
    let done = f.commit(job, prepared, &b).await;
    assert_eq!(f.renders(), 1, "worked out once, on the reader");
    let (status, body) = done.response.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body.to_value(),
        serde_json::json!({"created": 2, "ingested": 0})
    );
    assert_eq!(stored(&f).await, 2);
}

#[tokio::test]
async fn an_account_deleted_after_preparing_refuses_the_batch() {
    let f = fixture().await;
    let b = batch(&f);
    let job = claimed_job(&f).await;
    let prepared = f.prepare(job, &b).await;
    f.store
        .delete_account(f.connection.id, f.account.id, t0())
        .await
        .unwrap();
    let done = f.commit(job, prepared, &b).await;
    assert_eq!(f.renders(), 2, "worked out again under the lock");
    assert_eq!(done.response.unwrap().0, 404);
    assert_eq!(stored(&f).await, 0, "nothing written for a refused batch");
    // What was stored is what the API answers later.
    let again = f
        .store
        .get_job(f.connection.org_id, job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.response.unwrap().0, 404);
}

#[tokio::test]
async fn rows_ingested_after_preparing_answer_as_ingested() {
    let f = fixture().await;
    let b = batch(&f);
    // The batch is stored once, then sent again; the platform ingests it in between the
    // re-send being worked out and committed.
    let first = claimed_job(&f).await;
    f.apply(first, &b).await;
    let resend = claimed_job(&f).await;
    let prepared = f.prepare(resend, &b).await;
    assert_eq!(
        f.store
            .mark_ingested(f.account.id, t0() + TimeDelta::seconds(1))
            .await
            .unwrap(),
        2
    );
    let done = f.commit(resend, prepared, &b).await;
    let (status, body) = done.response.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body.to_value(),
        serde_json::json!({"created": 0, "ingested": 2}),
        "the answer is that of the state committed against, not of the snapshot"
    );
    assert_eq!(stored(&f).await, 2);
}

#[tokio::test]
async fn a_job_finished_meanwhile_keeps_its_first_outcome() {
    let f = fixture().await;
    let b = batch(&f);
    let job = claimed_job(&f).await;
    let prepared = f.prepare(job, &b).await;
    // Another attempt of the same job (its lease expired) finishes it first.
    let first = f.apply(job, &b).await;
    let second = f.commit(job, prepared, &b).await;
    assert_eq!(second.response, first.response);
    assert_eq!(stored(&f).await, 2, "the batch is stored once");
}
