//! Job queue and transaction cases: claiming, applying batches exactly once, refusals, listing.

use std::collections::HashSet;
use std::sync::Mutex;

use bankfeeds_domain::account::{BankAccountType, FeedState, FeedStatus};
use bankfeeds_domain::batch::codes;
use bankfeeds_domain::batch::{BatchItem, BatchRefusal, BatchRequest};
use bankfeeds_domain::job::{JobRequest, RawJson};
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::transaction::{
    DebitCreditMemo, Transaction, TransactionData, TransactionQuery, TransactionType,
};
use bankfeeds_domain::{
    Amount, BankFeedAccount, Clock, Connection, Currency, Job, JobId, JobStatus, NewConnection,
    NewOrg, OrgId, Platform, SystemClock, Timestamp, TransactionId,
};
use bankfeeds_store::{DynStore, Event, Idem, IdempotencyKey, Outcome, StoreError, StoredResponse};
use chrono::{DateTime, TimeDelta};
use serde_json::{json, Value};

/// The fixed "now" of these cases; transactions are posted before it.
pub(crate) fn t0() -> Timestamp {
    DateTime::parse_from_rfc3339("2024-06-15T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

fn amount(s: &str) -> Amount {
    s.parse().unwrap()
}

pub(crate) async fn org(store: &DynStore) -> OrgId {
    let (org, _) = NewOrg::generate("Demo Bank", SystemClock.now()).unwrap();
    store.create_org(&org).await.unwrap();
    org.org.id
}

pub(crate) async fn connection(store: &DynStore, org: OrgId, platform: Platform) -> Connection {
    let (c, _) = NewConnection::generate(org, platform, None, SystemClock.now()).unwrap();
    store.create_connection(&c, None).await.unwrap();
    c.connection
}

fn profile(c: &Connection) -> PlatformProfile {
    PlatformProfile::for_platform(c.platform, Door::Rutter)
}

pub(crate) async fn account(
    store: &DynStore,
    c: &Connection,
    internal_id: &str,
) -> BankFeedAccount {
    let mut a = BankFeedAccount::new(
        c.org_id,
        c.id,
        &profile(c),
        internal_id.to_owned(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        t0() - days(30),
    );
    a.current_balance = Some(amount("100"));
    match store.create_account(&a, false, None).await.unwrap() {
        Outcome::Done((stored, true)) => stored,
        other => panic!("expected a fresh create, got {other:?}"),
    }
}

/// A job for a batch on `account` (of connection `c`), accepted at `at`.
fn job(c: &Connection, account: Option<&BankFeedAccount>, at: Timestamp) -> Job {
    Job::new(
bankfeeds_domain::job::JobKind::TransactionBatch,
        c.org_id,
        c.id,
        account.map(|a| a.id),
        JobRequest {
            method: "POST".into(),
            url: "/versioned/accounting/bank_feeds/transactions".into(),
            // Kept as sent: spacing, key order and every digit survive the round trip.
            body: RawJson::parse(
                "{\"bank_feed_transactions\": {\"transactions\": [], \"current_balance\": 1.230},\n \"a\":0.1}",
            )
            .unwrap(),
            idempotency_key: None,
        },
        at,
    )
}

/// A finished job's answer, as JSON.
fn response(job: &Job) -> Option<(u16, Value)> {
    job.response.as_ref().map(|(s, b)| (*s, b.to_value()))
}

async fn submit(store: &DynStore, job: &Job) -> Job {
    match store.submit_job(job, None).await.unwrap() {
        Outcome::Done(j) => j,
        other => panic!("expected the job accepted, got {other:?}"),
    }
}

/// A bare transaction: only the required fields.
pub(crate) fn tx(id: &str, posted_at: Timestamp, amt: &str) -> TransactionData {
    TransactionData {
        transaction_id: id.to_owned(),
        posted_at,
        transaction_date: None,
        amount: amount(amt),
        description: None,
        memo: None,
        payee: None,
        transaction_type: None,
        debit_credit_memo: None,
        interest_amount: None,
        principal_amount: None,
    }
}

/// A transaction with every optional field set.
fn full_tx(id: &str, posted_at: Timestamp, amt: &str) -> TransactionData {
    TransactionData {
        transaction_date: Some(posted_at - TimeDelta::microseconds(1_234_567)),
        description: Some("Loan repayment — café «Zürich»".into()),
        memo: Some("Ref 0042".into()),
        payee: Some("Acme Lending".into()),
        transaction_type: Some(TransactionType::Payment),
        debit_credit_memo: Some(DebitCreditMemo::Debit),
        interest_amount: Some(amount("-12.5")),
        principal_amount: Some(amount("-287.5")),
        ..tx(id, posted_at, amt)
    }
}

pub(crate) fn batch(
    account: &BankFeedAccount,
    balance: Option<&str>,
    transactions: Vec<TransactionData>,
) -> BatchRequest {
    BatchRequest {
        bank_feed_account_id: account.id,
        current_balance: balance.map(amount),
        transactions,
    }
}

/// The render callback: records what it was given, and answers as the API would in spirit.
#[derive(Default)]
struct Recorder(Mutex<Vec<Result<Vec<BatchItem>, BatchRefusal>>>);

impl Recorder {
    fn render(&self, outcome: &Result<Vec<BatchItem>, BatchRefusal>) -> (u16, RawJson) {
        self.0.lock().unwrap().push(outcome.clone());
        let (status, body) = Self::answer(outcome);
        (status, RawJson::from_value(&body))
    }

    fn answer(outcome: &Result<Vec<BatchItem>, BatchRefusal>) -> (u16, Value) {
        match outcome {
            Ok(items) => {
                let created = items.iter().filter(|i| !i.duplicate).count();
                (
                    200,
                    json!({"created": created, "duplicates": items.len() - created}),
                )
            }
            Err(BatchRefusal::Conflict { transaction_ids }) => (
                409,
                json!({"refusal": "conflict", "transaction_ids": transaction_ids}),
            ),
            Err(BatchRefusal::Invalid(v)) => {
                let codes: Vec<_> = v.iter().map(|v| v.code).collect();
                (400, json!({"refusal": "invalid", "codes": codes}))
            }
            Err(BatchRefusal::AccountNotFound) => (410, json!({"refusal": "account_not_found"})),
        }
    }

    fn take(&self) -> Vec<Result<Vec<BatchItem>, BatchRefusal>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Applies `batch` as job `id`; returns the job and what `render` saw (nothing when the job was
/// already finished).
async fn apply(
    store: &DynStore,
    id: JobId,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
) -> (Job, Vec<Result<Vec<BatchItem>, BatchRefusal>>) {
    let rec = Recorder::default();
    let render = |o: &Result<Vec<BatchItem>, BatchRefusal>| rec.render(o);
    let job = store
        .apply_batch(id, batch, profile, now, &render)
        .await
        .unwrap();
    (job, rec.take())
}

/// Submits, claims and applies one batch on `c`; returns the finished job and the outcome.
pub(crate) async fn run_batch(
    store: &DynStore,
    c: &Connection,
    account: &BankFeedAccount,
    b: &BatchRequest,
    now: Timestamp,
) -> (Job, Result<Vec<BatchItem>, BatchRefusal>) {
    let j = submit(store, &job(c, Some(account), now)).await;
    let claimed = store
        .claim_job(Some(j.id), now + secs(60), now)
        .await
        .unwrap()
        .expect("the account's only job is claimable");
    assert_eq!(claimed.id, j.id);
    let (done, mut seen) = apply(store, j.id, b, &profile(c), now).await;
    assert_eq!(seen.len(), 1, "render runs once");
    (done, seen.pop().unwrap())
}

async fn all_transactions(store: &DynStore, c: &Connection) -> Vec<Transaction> {
    let q = TransactionQuery {
        limit: 1000,
        ..TransactionQuery::default()
    };
    let page = store.list_transactions(c.id, &q).await.unwrap();
    assert!(!page.has_more);
    page.items
}

async fn events(store: &DynStore, org: OrgId) -> Vec<Event> {
    store.list_events(org, 0, 1000).await.unwrap()
}

async fn events_after(store: &DynStore, org: OrgId, seq: i64) -> Vec<Event> {
    store.list_events(org, seq, 1000).await.unwrap()
}

fn last_seq(events: &[Event]) -> i64 {
    events.last().map_or(0, |e| e.seq)
}

fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn claim(store: &DynStore, only: Option<JobId>, now: Timestamp) -> Option<Job> {
    store.claim_job(only, now + secs(60), now).await.unwrap()
}

async fn status(store: &DynStore, j: &Job) -> JobStatus {
    store.get_job(j.org_id, j.id).await.unwrap().unwrap().status
}

pub async fn jobs_run_one_at_a_time_per_account_in_arrival_order(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let b = account(&store, &c, "B").await;
    let now = t0();
    let a1 = submit(&store, &job(&c, Some(&a), now)).await;
    let a2 = submit(&store, &job(&c, Some(&a), now + secs(1))).await;
    let b1 = submit(&store, &job(&c, Some(&b), now + secs(2))).await;
    let a3 = submit(&store, &job(&c, Some(&a), now + secs(3))).await;
    let got = store.get_job(o, a1.id).await.unwrap().unwrap();
    assert_eq!(got, a1, "every field survives the round trip");
    assert_eq!(got.status, JobStatus::Prequeued);
    assert_eq!(
        (got.attempts, response(&got), got.finished_at),
        (0, None, None)
    );

    let t = now + secs(10);
    let first = claim(&store, None, t).await.expect("A1 is runnable");
    assert_eq!(first.id, a1.id, "oldest first");
    assert_eq!(first.status, JobStatus::Pending);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.updated_at, t);
    assert_eq!(first.created_at, a1.created_at);
    assert_eq!(store.get_job(o, a1.id).await.unwrap().unwrap(), first);
    let second = claim(&store, None, t).await.expect("B1 is runnable");
    assert_eq!(second.id, b1.id, "A2 waits for A1; B1 is next");
    assert_eq!((second.status, second.attempts), (JobStatus::Pending, 1));
    assert_eq!(claim(&store, None, t).await, None, "A2 and A3 wait");
    assert_eq!(claim(&store, Some(a2.id), t).await, None);
    assert_eq!(claim(&store, Some(a3.id), t).await, None);
    assert_eq!(status(&store, &a2).await, JobStatus::Prequeued);

    let p = profile(&c);
    let (done, _) = apply(
        &store,
        a1.id,
        &batch(&a, None, vec![tx("A1-T", now - days(3), "-1")]),
        &p,
        t,
    )
    .await;
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(done.attempts, 1, "applying is not a claim");
    assert_eq!(done.finished_at, Some(t));
    assert_eq!(
        response(&done),
        Some((200, json!({"created": 1, "duplicates": 0})))
    );
    assert_eq!(store.get_job(o, a1.id).await.unwrap().unwrap(), done);

    assert_eq!(
        claim(&store, Some(a3.id), t).await,
        None,
        "A3 waits for A2 still"
    );
    let third = claim(&store, None, t)
        .await
        .expect("A2 now heads A's queue");
    assert_eq!((third.id, third.attempts), (a2.id, 1));
    assert_eq!(claim(&store, None, t).await, None, "B1 is leased, A3 waits");
    apply(
        &store,
        a2.id,
        &batch(&a, None, vec![tx("A2-T", now - days(2), "-2")]),
        &p,
        t,
    )
    .await;
    assert_eq!(status(&store, &a2).await, JobStatus::Success);
    let fourth = claim(&store, Some(a3.id), t).await.expect("A3's turn");
    assert_eq!(
        (fourth.id, fourth.status, fourth.attempts),
        (a3.id, JobStatus::Pending, 1)
    );
    assert_eq!(claim(&store, None, t).await, None);
    for (j, acct, id, at) in [(b1.id, &b, "B1-T", 3), (a3.id, &a, "A3-T", 1)] {
        let (done, _) = apply(
            &store,
            j,
            &batch(acct, None, vec![tx(id, now - days(at), "-3")]),
            &p,
            t,
        )
        .await;
        assert_eq!((done.status, done.attempts), (JobStatus::Success, 1));
    }
    assert_eq!(claim(&store, None, t + days(1)).await, None, "all finished");
    let ids: Vec<_> = all_transactions(&store, &c)
        .await
        .into_iter()
        .map(|t| t.data.transaction_id)
        .collect();
    assert_eq!(ids.len(), 4);
}

pub async fn expired_leases_are_claimed_again(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let now = t0();
    let first = submit(&store, &job(&c, Some(&a), now)).await;
    let next = submit(&store, &job(&c, Some(&a), now)).await;
    let held = store
        .claim_job(None, now + secs(1), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((held.id, held.attempts), (first.id, 1));
    let half = now + TimeDelta::milliseconds(500);
    assert_eq!(
        store.claim_job(None, half + secs(60), half).await.unwrap(),
        None,
        "the lease holds, and the account's next job waits behind it"
    );
    assert_eq!(
        store
            .claim_job(Some(first.id), half + secs(60), half)
            .await
            .unwrap(),
        None
    );
    let later = now + secs(2);
    let again = store
        .claim_job(None, later + secs(60), later)
        .await
        .unwrap()
        .expect("the lease expired");
    assert_eq!(again.id, first.id, "the same job, not the one behind it");
    assert_eq!(again.attempts, 2);
    assert_eq!(again.status, JobStatus::Pending);
    assert_eq!(again.updated_at, later);
    assert_eq!(store.get_job(o, first.id).await.unwrap().unwrap(), again);
    assert_eq!(
        store
            .claim_job(None, later + secs(60), later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(status(&store, &next).await, JobStatus::Prequeued);
}

pub async fn applying_a_batch_stores_it_once(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    assert!(a.transaction_ready, "Intuit feeds are ready at creation");
    let now = t0();
    let sent = vec![
        full_tx("T1", now - days(3), "-300"),
        TransactionData {
            debit_credit_memo: Some(DebitCreditMemo::Credit),
            transaction_type: Some(TransactionType::Deposit),
            ..tx("T2", now - days(2), "1250.5")
        },
        tx("T3", now - days(2), "0.01"),
    ];
    let b = batch(&a, Some("934.56"), sent.clone());
    let before = events(&store, o).await;
    let (job1, outcome) = run_batch(&store, &c, &a, &b, now).await;
    assert_eq!(job1.status, JobStatus::Success);
    assert_eq!(
        response(&job1),
        Some((200, json!({"created": 3, "duplicates": 0})))
    );
    assert_eq!((job1.finished_at, job1.updated_at), (Some(now), now));
    let items = outcome.expect("a good batch is accepted");
    assert_eq!(items.len(), 3);
    for (item, data) in items.iter().zip(&sent) {
        assert!(!item.duplicate);
        let want = Transaction {
            id: item.transaction.id,
            org_id: o,
            connection_id: c.id,
            bank_feed_account_id: a.id,
            data: data.clone(),
            platform_ingested: false,
            created_at: now,
            ingested_at: None,
        };
        assert_eq!(item.transaction, want);
        assert_eq!(
            store.get_transaction(c.id, want.id).await.unwrap().as_ref(),
            Some(&want),
            "every field survives the round trip"
        );
    }
    let mut by_id: Vec<_> = items.iter().map(|i| i.transaction.clone()).collect();
    by_id.sort_by_key(|t| t.id);
    let stored = all_transactions(&store, &c).await;
    assert_eq!(stored, by_id);
    let amounts: Vec<_> = stored.iter().map(|t| t.data.amount.to_string()).collect();
    let mut amounts_sorted = amounts.clone();
    amounts_sorted.sort();
    assert_eq!(amounts_sorted, ["-300", "0.01", "1250.5"]);
    let t1 = stored
        .iter()
        .find(|t| t.data.transaction_id == "T1")
        .unwrap();
    assert_eq!(t1.data.interest_amount.unwrap().to_string(), "-12.5");
    assert_eq!(t1.data.principal_amount.unwrap().to_string(), "-287.5");

    let acct = store.get_account(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(acct.current_balance.unwrap().to_string(), "934.56");
    assert_eq!(acct.updated_at, now);
    assert_eq!(acct.last_synced_at, None);

    let new_events = events_after(&store, o, last_seq(&before)).await;
    assert_eq!(
        types(&new_events),
        ["bank_feed_transactions.created", "job.finished"]
    );
    let created = &new_events[0];
    assert_eq!(created.resource_id, a.id.to_string());
    assert_eq!(created.connection_id, Some(c.id));
    assert_eq!(created.created_at, now);
    assert_eq!(
        created.payload,
        json!({"bank_feed_account_id": a.id, "job_id": job1.id, "created": 3, "duplicates": 0})
    );
    let finished = &new_events[1];
    assert_eq!(finished.resource_id, job1.id.to_string());
    assert_eq!(
        finished.payload,
        json!({"job_id": job1.id, "status": "success", "http_status": 200})
    );

    // The same job again (delivery is at least once): its first outcome, nothing written.
    let count = events(&store, o).await.len();
    let (replayed, seen) = apply(&store, job1.id, &b, &profile(&c), now + secs(5)).await;
    assert!(seen.is_empty(), "render is not called for a finished job");
    assert_eq!(replayed, job1);
    assert_eq!(all_transactions(&store, &c).await, by_id);
    assert_eq!(events(&store, o).await.len(), count);
    assert_eq!(store.get_account(c.id, a.id).await.unwrap().unwrap(), acct);

    // A pure re-send (no balance) as a new job: all duplicates, nothing written but the job.
    let later = now + secs(10);
    let resend = batch(&a, None, sent.clone());
    let mark = last_seq(&events(&store, o).await);
    let (job2, outcome) = run_batch(&store, &c, &a, &resend, later).await;
    assert_eq!(
        response(&job2),
        Some((200, json!({"created": 0, "duplicates": 3})))
    );
    let items2 = outcome.unwrap();
    assert!(items2.iter().all(|i| i.duplicate));
    assert_eq!(
        items2
            .iter()
            .map(|i| i.transaction.clone())
            .collect::<Vec<_>>(),
        items
            .iter()
            .map(|i| i.transaction.clone())
            .collect::<Vec<_>>(),
        "duplicates answer with the stored rows"
    );
    assert_eq!(all_transactions(&store, &c).await, by_id);
    assert_eq!(store.get_account(c.id, a.id).await.unwrap().unwrap(), acct);
    assert_eq!(
        types(&events_after(&store, o, mark).await),
        ["job.finished"]
    );

    // The identical batch (with its balance) as a new job: all duplicates, no new rows. The
    // balance is written again, and so is the batch's event, counting no created rows (the
    // server's HTTP tests count this event too).
    let latest = now + secs(20);
    let mark = last_seq(&events(&store, o).await);
    let (job3, outcome) = run_batch(&store, &c, &a, &b, latest).await;
    assert_eq!(job3.status, JobStatus::Success);
    assert!(outcome.unwrap().iter().all(|i| i.duplicate));
    assert_eq!(all_transactions(&store, &c).await, by_id);
    let acct3 = store.get_account(c.id, a.id).await.unwrap().unwrap();
    assert_eq!(acct3.current_balance.unwrap().to_string(), "934.56");
    let e = events_after(&store, o, mark).await;
    assert_eq!(
        types(&e),
        ["bank_feed_transactions.created", "job.finished"]
    );
    assert_eq!(e[0].payload["created"], json!(0));
    assert_eq!(e[0].payload["duplicates"], json!(3));
}

pub async fn refused_batches_write_only_the_job_outcome(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let now = t0();
    let good = batch(
        &a,
        Some("100"),
        vec![
            tx("T1", now - days(2), "-300"),
            tx("T2", now - days(1), "50"),
        ],
    );
    let (_, ok) = run_batch(&store, &c, &a, &good, now).await;
    assert_eq!(ok.unwrap().len(), 2);
    let stored = all_transactions(&store, &c).await;
    let acct = store.get_account(c.id, a.id).await.unwrap().unwrap();

    // Refusals, each as its own job; none may touch rows, balance or the account.
    let refused = |job: &Job, want_status: u16| {
        assert_eq!(job.status, JobStatus::Failure);
        assert_eq!(job.response.as_ref().map(|r| r.0), Some(want_status));
        assert!(job.finished_at.is_some());
    };
    let check_nothing_written = |mark: i64| {
        let store = store.clone();
        let stored = stored.clone();
        let acct = acct.clone();
        let c = c.clone();
        async move {
            assert_eq!(all_transactions(&store, &c).await, stored, "no new rows");
            assert_eq!(
                store.get_account(c.id, acct.id).await.unwrap().unwrap(),
                acct,
                "balance and account unchanged"
            );
            let e = events_after(&store, o, mark).await;
            assert_eq!(types(&e), ["job.finished"], "only the job's outcome");
            e
        }
    };

    // A conflicting re-send: T1 with another amount, alongside a new T3.
    let mark = last_seq(&events(&store, o).await);
    let conflict = batch(
        &a,
        Some("999"),
        vec![
            tx("T1", now - days(2), "-301"),
            tx("T3", now - days(1), "7"),
        ],
    );
    let (j, outcome) = run_batch(&store, &c, &a, &conflict, now + secs(1)).await;
    assert_eq!(
        outcome,
        Err(BatchRefusal::Conflict {
            transaction_ids: vec!["T1".into()]
        })
    );
    refused(&j, 409);
    assert_eq!(
        response(&j).unwrap().1,
        json!({"refusal": "conflict", "transaction_ids": ["T1"]})
    );
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), j);
    let e = check_nothing_written(mark).await;
    assert_eq!(
        e[0].payload,
        json!({"job_id": j.id, "status": "failure", "http_status": 409})
    );

    // A new transaction older than the newest stored one.
    let mark = last_seq(&events(&store, o).await);
    let older = batch(&a, Some("999"), vec![tx("T0", now - days(3), "-5")]);
    let (j, outcome) = run_batch(&store, &c, &a, &older, now + secs(2)).await;
    let Err(BatchRefusal::Invalid(v)) = outcome else {
        panic!("expected an invalid batch, got {outcome:?}")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].code, v[0].index, v[0].transaction_id.as_deref()),
        (codes::OLDER_THAN_STORED, Some(0), Some("T0"))
    );
    refused(&j, 400);
    check_nothing_written(mark).await;

    // An account of another connection (same organisation) is not found through this one.
    let other = connection(&store, o, Platform::IntuitBankFeeds).await;
    let foreign = account(&store, &other, "F").await;
    let mark = last_seq(&events(&store, o).await);
    let j = submit(&store, &job(&c, Some(&foreign), now + secs(3))).await;
    let (j, seen) = apply(
        &store,
        j.id,
        &batch(&foreign, Some("1"), vec![tx("F1", now - days(1), "1")]),
        &profile(&c),
        now + secs(3),
    )
    .await;
    assert_eq!(seen, vec![Err(BatchRefusal::AccountNotFound)]);
    refused(&j, 410);
    check_nothing_written(mark).await;
    assert!(all_transactions(&store, &other).await.is_empty());
    assert_eq!(
        store
            .get_account(other.id, foreign.id)
            .await
            .unwrap()
            .unwrap()
            .current_balance,
        foreign.current_balance
    );

    // A deleted account is not found either.
    let gone = account(&store, &c, "GONE").await;
    store.delete_account(c.id, gone.id, now).await.unwrap();
    let mark = last_seq(&events(&store, o).await);
    let (j, outcome) = run_batch(
        &store,
        &c,
        &gone,
        &batch(&gone, None, vec![tx("G1", now - days(1), "1")]),
        now + secs(4),
    )
    .await;
    assert_eq!(outcome, Err(BatchRefusal::AccountNotFound));
    refused(&j, 410);
    check_nothing_written(mark).await;

    // A feed the customer has not linked yet (Xero needs linking).
    let xc = connection(&store, o, Platform::Xero).await;
    let xa = account(&store, &xc, "X").await;
    assert!(!xa.transaction_ready);
    let xb = batch(&xa, Some("5"), vec![tx("X1", now - days(1), "5")]);
    let mark = last_seq(&events(&store, o).await);
    let (j, outcome) = run_batch(&store, &xc, &xa, &xb, now + secs(5)).await;
    let Err(BatchRefusal::Invalid(v)) = outcome else {
        panic!("expected an invalid batch, got {outcome:?}")
    };
    assert_eq!(
        v.iter().map(|v| (v.code, v.index)).collect::<Vec<_>>(),
        [(codes::FEED_NOT_READY, None)]
    );
    refused(&j, 400);
    assert!(all_transactions(&store, &xc).await.is_empty());
    assert_eq!(store.get_account(xc.id, xa.id).await.unwrap().unwrap(), xa);
    assert_eq!(
        types(&events_after(&store, o, mark).await),
        ["job.finished"]
    );
    // Once linked, the same batch goes through.
    store
        .set_feed_state(
            xa.id,
            &FeedState {
                feed_status: FeedStatus::Active,
                transaction_ready: true,
                transaction_start_date: None,
            },
            now,
        )
        .await
        .unwrap();
    let (j, outcome) = run_batch(&store, &xc, &xa, &xb, now + secs(6)).await;
    assert_eq!(j.status, JobStatus::Success);
    assert_eq!(outcome.unwrap().len(), 1);
    assert_eq!(all_transactions(&store, &xc).await.len(), 1);
}

pub async fn fail_job_finishes_once(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let now = t0();
    let j = submit(&store, &job(&c, Some(&a), now)).await;
    let next = submit(&store, &job(&c, Some(&a), now)).await;
    claim(&store, None, now).await.expect("claimable");
    let body = json!({"error_code": "INTERNAL_ERROR", "detail": [1, 2.5, "x"]});
    let at = now + secs(3);
    let mark = last_seq(&events(&store, o).await);
    // A success status is not a failure: refused, the job untouched.
    assert!(matches!(
        store.fail_job(j.id, 200, &body, at).await,
        Err(StoreError::Invalid {
            code: "INVALID_JOB_OUTCOME",
            ..
        })
    ));
    let failed = store.fail_job(j.id, 500, &body, at).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failure);
    assert_eq!(response(&failed), Some((500, body.clone())));
    assert_eq!((failed.finished_at, failed.updated_at), (Some(at), at));
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.created_at, j.created_at);
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), failed);
    let e = events_after(&store, o, mark).await;
    assert_eq!(types(&e), ["job.finished"]);
    assert_eq!(
        e[0].payload,
        json!({"job_id": j.id, "status": "failure", "http_status": 500})
    );

    // Finished once: a second failure or a late batch changes nothing.
    let count = events(&store, o).await.len();
    let again = store
        .fail_job(j.id, 400, &json!({"other": true}), at + secs(1))
        .await
        .unwrap();
    assert_eq!(again, failed);
    let (applied, seen) = apply(
        &store,
        j.id,
        &batch(&a, Some("5"), vec![tx("T1", now - days(1), "5")]),
        &profile(&c),
        at + secs(2),
    )
    .await;
    assert!(seen.is_empty(), "render is not called for a finished job");
    assert_eq!(applied, failed);
    assert_eq!(store.get_job(o, j.id).await.unwrap().unwrap(), failed);
    assert!(all_transactions(&store, &c).await.is_empty());
    assert_eq!(events(&store, o).await.len(), count);
    assert_eq!(
        store
            .get_account(c.id, a.id)
            .await
            .unwrap()
            .unwrap()
            .current_balance,
        a.current_balance
    );
    assert_eq!(
        claim(&store, Some(j.id), at + days(1)).await,
        None,
        "a finished job is never claimed"
    );
    // The account's queue moves on.
    let n = claim(&store, None, at).await.expect("the next job's turn");
    assert_eq!(n.id, next.id);

    // Failing an unclaimed job works too; unknown jobs are not found.
    let unclaimed = submit(&store, &job(&c, None, now)).await;
    let f = store.fail_job(unclaimed.id, 400, &body, at).await.unwrap();
    assert_eq!((f.status, f.attempts), (JobStatus::Failure, 0));
    assert!(matches!(
        store.fail_job(JobId::new(), 500, &body, at).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn transaction_lists_filter_and_page(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let x = account(&store, &c, "X").await;
    let y = account(&store, &c, "Y").await;
    let other = connection(&store, o, Platform::IntuitBankFeeds).await;
    let z = account(&store, &other, "Z").await;
    let now = t0();
    let p = |i: i64| now - days(10) + TimeDelta::hours(i);
    let xs: Vec<_> = (0..5)
        .map(|i| tx(&format!("X{i}"), p(i), &format!("-{}.25", i + 1)))
        .collect();
    run_batch(&store, &c, &x, &batch(&x, None, xs), now)
        .await
        .1
        .unwrap();
    // Another connection's rows are interleaved in time and id order.
    run_batch(
        &store,
        &other,
        &z,
        &batch(&z, None, vec![tx("Z0", p(1), "3")]),
        now,
    )
    .await
    .1
    .unwrap();
    let ys: Vec<_> = (0..3).map(|i| tx(&format!("Y{i}"), p(i), "1")).collect();
    run_batch(&store, &c, &y, &batch(&y, None, ys), now)
        .await
        .1
        .unwrap();

    let all = all_transactions(&store, &c).await;
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "id order");
    assert!(all.iter().all(|t| t.connection_id == c.id));

    let list = |q: TransactionQuery| {
        let store = store.clone();
        async move {
            let page = store.list_transactions(c.id, &q).await.unwrap();
            page.items
                .into_iter()
                .map(|t| t.data.transaction_id)
                .collect::<Vec<_>>()
        }
    };
    let ids_where = |f: &dyn Fn(&Transaction) -> bool| {
        all.iter()
            .filter(|t| f(t))
            .map(|t| t.data.transaction_id.clone())
            .collect::<Vec<_>>()
    };
    let q = |limit| TransactionQuery {
        limit,
        ..TransactionQuery::default()
    };

    let only_x = list(TransactionQuery {
        bank_feed_account_id: Some(x.id),
        ..q(100)
    })
    .await;
    assert_eq!(only_x, ["X0", "X1", "X2", "X3", "X4"]);
    assert!(list(TransactionQuery {
        bank_feed_account_id: Some(z.id),
        ..q(100)
    })
    .await
    .is_empty());
    // Inclusive bounds, on both ends.
    let window = list(TransactionQuery {
        posted_at_min: Some(p(1)),
        posted_at_max: Some(p(3)),
        ..q(100)
    })
    .await;
    assert_eq!(
        window,
        ids_where(&|t| t.data.posted_at >= p(1) && t.data.posted_at <= p(3))
    );
    assert_eq!(window.len(), 5);
    let exact = list(TransactionQuery {
        bank_feed_account_id: Some(x.id),
        posted_at_min: Some(p(2)),
        posted_at_max: Some(p(2)),
        ..q(100)
    })
    .await;
    assert_eq!(exact, ["X2"]);
    let just_after = list(TransactionQuery {
        posted_at_min: Some(p(4) + TimeDelta::microseconds(1)),
        ..q(100)
    })
    .await;
    assert!(just_after.is_empty());
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(false),
            ..q(100)
        })
        .await
        .len(),
        8
    );
    assert!(list(TransactionQuery {
        platform_ingested: Some(true),
        ..q(100)
    })
    .await
    .is_empty());

    // Paging walks every row once, in id order.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_transactions(
                c.id,
                &TransactionQuery {
                    after,
                    limit: 3,
                    ..TransactionQuery::default()
                },
            )
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|t| t.id));
        if !page.has_more {
            break;
        }
        after = page.items.last().map(|t| t.id);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all.iter().map(|t| t.id).collect::<Vec<_>>());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 8);
    let exact_fit = store.list_transactions(c.id, &q(8)).await.unwrap();
    assert_eq!((exact_fit.items.len(), exact_fit.has_more), (8, false));
    let z0 = all_transactions(&store, &other).await;
    assert_eq!(z0.len(), 1);
    assert_eq!(store.get_transaction(c.id, z0[0].id).await.unwrap(), None);
    assert_eq!(
        store
            .get_transaction(c.id, TransactionId::new())
            .await
            .unwrap(),
        None
    );

    // The platform ingests X.
    let at = now + secs(30);
    assert_eq!(store.mark_ingested(x.id, at).await.unwrap(), 5);
    let xa = store.get_account(c.id, x.id).await.unwrap().unwrap();
    assert_eq!(xa.last_synced_at, Some(at));
    assert_eq!(
        store
            .get_account(c.id, y.id)
            .await
            .unwrap()
            .unwrap()
            .last_synced_at,
        None
    );
    let after_ingest = all_transactions(&store, &c).await;
    for t in &after_ingest {
        let before = all.iter().find(|b| b.id == t.id).unwrap();
        if t.bank_feed_account_id == x.id {
            assert!(t.platform_ingested);
            assert_eq!(t.ingested_at, Some(at));
            let back = Transaction {
                platform_ingested: false,
                ingested_at: None,
                ..t.clone()
            };
            assert_eq!(&back, before, "nothing else changes");
        } else {
            assert_eq!(t, before);
        }
    }
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(true),
            ..q(100)
        })
        .await,
        ["X0", "X1", "X2", "X3", "X4"]
    );
    assert_eq!(
        list(TransactionQuery {
            platform_ingested: Some(false),
            ..q(100)
        })
        .await,
        ["Y0", "Y1", "Y2"]
    );
    assert!(!all_transactions(&store, &other).await[0].platform_ingested);
    // Nothing new: 0, the rows keep their first ingestion time, the sync time moves.
    let later = at + secs(30);
    assert_eq!(store.mark_ingested(x.id, later).await.unwrap(), 0);
    assert_eq!(
        store
            .get_account(c.id, x.id)
            .await
            .unwrap()
            .unwrap()
            .last_synced_at,
        Some(later)
    );
    assert!(all_transactions(&store, &c)
        .await
        .iter()
        .filter(|t| t.bank_feed_account_id == x.id)
        .all(|t| t.ingested_at == Some(at)));
    // A later batch is not ingested until the next sync.
    run_batch(
        &store,
        &c,
        &x,
        &batch(&x, None, vec![tx("X5", p(5), "1")]),
        later,
    )
    .await
    .1
    .unwrap();
    assert_eq!(
        list(TransactionQuery {
            bank_feed_account_id: Some(x.id),
            platform_ingested: Some(false),
            ..q(100)
        })
        .await,
        ["X5"]
    );
    assert_eq!(store.mark_ingested(x.id, later + secs(1)).await.unwrap(), 1);
}

pub async fn idempotent_job_submission_replays(store: DynStore) {
    let o = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let now = t0();
    let key = IdempotencyKey {
        org_id: o,
        key: "batch-1".into(),
        fingerprint: "fp-a".into(),
    };
    let render = |j: &Job| StoredResponse {
        status: 202,
        body: format!("{{\"job\":\"{}\"}}", j.id),
    };
    let idem = Idem {
        key: &key,
        render: &render,
    };
    let first = job(&c, Some(&a), now);
    assert_eq!(
        store.submit_job(&first, Some(idem)).await.unwrap(),
        Outcome::Done(first.clone())
    );
    let second = job(&c, Some(&a), now + secs(1));
    assert_eq!(
        store.submit_job(&second, Some(idem)).await.unwrap(),
        Outcome::Replayed(StoredResponse {
            status: 202,
            body: format!("{{\"job\":\"{}\"}}", first.id),
        })
    );
    let reused = IdempotencyKey {
        fingerprint: "fp-b".into(),
        ..key.clone()
    };
    let third = job(&c, Some(&a), now + secs(2));
    assert!(matches!(
        store
            .submit_job(
                &third,
                Some(Idem {
                    key: &reused,
                    render: &render
                })
            )
            .await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    assert_eq!(
        store.get_job(o, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_job(o, second.id).await.unwrap(), None);
    assert_eq!(store.get_job(o, third.id).await.unwrap(), None);
    // Only the first job is queued.
    let claimed = claim(&store, None, now).await.unwrap();
    assert_eq!(claimed.id, first.id);
    assert_eq!(
        claim(&store, None, now).await,
        None,
        "no second job was queued"
    );
}

pub async fn get_job_is_scoped_to_the_organisation(store: DynStore) {
    let o = org(&store).await;
    let theirs = org(&store).await;
    let c = connection(&store, o, Platform::IntuitBankFeeds).await;
    let a = account(&store, &c, "A").await;
    let j = submit(&store, &job(&c, Some(&a), t0())).await;
    assert_eq!(store.get_job(o, j.id).await.unwrap(), Some(j.clone()));
    assert_eq!(store.get_job(theirs, j.id).await.unwrap(), None);
    assert_eq!(store.get_job(o, JobId::new()).await.unwrap(), None);
}
