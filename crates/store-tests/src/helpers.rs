//! Fixtures and helpers shared by the suite's files: organisations, connections, accounts,
//! jobs and batches, linked feeds, events.

use std::sync::Mutex;

use bankfeeds_domain::account::{BankAccountType, FeedState, FeedStatus};
use bankfeeds_domain::batch::{BatchItem, BatchRefusal, BatchRequest};
use bankfeeds_domain::job::{JobRequest, RawJson};
use bankfeeds_domain::link::{Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::otp::NewOtp;
use bankfeeds_domain::profile::{Door, PlatformProfile};
use bankfeeds_domain::transaction::{Transaction, TransactionData, TransactionQuery};
use bankfeeds_domain::{
    Amount, BankFeedAccount, Clock, Connection, Currency, Job, JobId, JobStatus, NewConnection,
    NewOrg, Org, OrgId, Platform, Secret, SecretHash, SystemClock, Timestamp,
};
use bankfeeds_store::{BatchCall, DynStore, Event, Outcome, StoreError};
use chrono::{DateTime, TimeDelta};
use serde_json::{json, Value};

/// The fixed "now" of these cases; transactions are posted before it.
pub(crate) fn t0() -> Timestamp {
    DateTime::parse_from_rfc3339("2024-06-15T12:00:00Z")
        .unwrap()
        .to_utc()
}

pub(crate) fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

pub(crate) fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

pub(crate) fn amount(s: &str) -> Amount {
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

pub(crate) fn profile(c: &Connection) -> PlatformProfile {
    PlatformProfile::for_platform(c.platform, Door::Rutter)
}

/// A new US-dollar bank account `internal_id` of connection `c`, not yet stored.
pub(crate) fn usd_account(c: &Connection, internal_id: &str, now: Timestamp) -> BankFeedAccount {
    BankFeedAccount::new(
        c.org_id,
        c.id,
        &profile(c),
        internal_id.to_owned(),
        BankAccountType::Bank,
        Currency::from_code("USD").unwrap(),
        now,
    )
}

/// The feed state a platform sets when it links an account, with feeds from `start`.
pub(crate) fn active(start: Option<Timestamp>) -> FeedState {
    FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: start,
    }
}

pub(crate) async fn account(
    store: &DynStore,
    c: &Connection,
    internal_id: &str,
) -> BankFeedAccount {
    let mut a = usd_account(c, internal_id, t0() - days(30));
    a.current_balance = Some(amount("100"));
    create_fresh(store, &a).await
}

/// An organisation with one Intuit connection and one account `internal_id` on it.
pub(crate) async fn intuit_account(
    store: &DynStore,
    internal_id: &str,
) -> (OrgId, Connection, BankFeedAccount) {
    let o = org(store).await;
    let c = connection(store, o, Platform::IntuitBankFeeds).await;
    let a = account(store, &c, internal_id).await;
    (o, c, a)
}

/// The stored account `a` of connection `c`, which must exist.
pub(crate) async fn stored_account(
    store: &DynStore,
    c: &Connection,
    a: &BankFeedAccount,
) -> BankFeedAccount {
    store.get_account(c.id, a.id).await.unwrap().unwrap()
}

/// A job for a batch on `account` (of connection `c`), accepted at `at`.
pub(crate) fn job(c: &Connection, account: Option<&BankFeedAccount>, at: Timestamp) -> Job {
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
pub(crate) fn response(job: &Job) -> Option<(u16, Value)> {
    job.response.as_ref().map(|(s, b)| (*s, b.to_value()))
}

pub(crate) async fn submit(store: &DynStore, job: &Job) -> Job {
    match store.submit_job(job, None).await.unwrap() {
        Outcome::Done(j) => j,
        other => panic!("expected the job accepted, got {other:?}"),
    }
}

/// A bare transaction: only the required fields.
pub(crate) fn tx(id: &str, posted_at: Timestamp, amt: &str) -> TransactionData {
    TransactionData::bare(id, posted_at, amount(amt))
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
            Err(BatchRefusal::BalanceMismatch { check, .. }) => (
                400,
                json!({"refusal": "balance_mismatch", "difference": check.difference.to_string()}),
            ),
        }
    }

    fn take(&self) -> Vec<Result<Vec<BatchItem>, BatchRefusal>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Applies `batch` as job `id`; returns the job and what `render` saw (nothing when the job was
/// already finished).
pub(crate) async fn apply(
    store: &DynStore,
    id: JobId,
    batch: &BatchRequest,
    profile: &PlatformProfile,
    now: Timestamp,
) -> (Job, Vec<Result<Vec<BatchItem>, BatchRefusal>>) {
    let rec = Recorder::default();
    let render = |_, o: &Result<Vec<BatchItem>, BatchRefusal>| rec.render(o);
    let call = BatchCall {
        job: id,
        batch,
        profile,
        now,
        render: &render,
    };
    let job = store.apply_batch(call).await.unwrap();
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
        .claim_job(Some(j.id), "test", now + secs(60), now)
        .await
        .unwrap()
        .expect("the account's only job is claimable");
    assert_eq!(claimed.id, j.id);
    let (done, mut seen) = apply(store, j.id, b, &profile(c), now).await;
    assert_eq!(seen.len(), 1, "render runs once");
    (done, seen.pop().unwrap())
}

pub(crate) async fn all_transactions(store: &DynStore, c: &Connection) -> Vec<Transaction> {
    let q = TransactionQuery {
        limit: 1000,
        ..TransactionQuery::default()
    };
    let page = store.list_transactions(c.id, &q).await.unwrap();
    assert!(!page.has_more);
    page.items
}

pub(crate) async fn events(store: &DynStore, org: OrgId) -> Vec<Event> {
    store.list_events(org, 0, 1000).await.unwrap()
}

/// The organisation's events of one kind, oldest first.
pub(crate) async fn events_of(store: &DynStore, org: OrgId, kind: &str) -> Vec<Event> {
    let all = events(store, org).await;
    all.into_iter()
        .filter(|e| e.kind.as_str() == kind)
        .collect()
}

pub(crate) async fn events_after(store: &DynStore, org: OrgId, seq: i64) -> Vec<Event> {
    store.list_events(org, seq, 1000).await.unwrap()
}

pub(crate) fn last_seq(events: &[Event]) -> i64 {
    events.last().map_or(0, |e| e.seq)
}

pub(crate) fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

pub(crate) async fn claim(store: &DynStore, only: Option<JobId>, now: Timestamp) -> Option<Job> {
    store
        .claim_job(only, "test", now + secs(60), now)
        .await
        .unwrap()
}

pub(crate) async fn status(store: &DynStore, j: &Job) -> JobStatus {
    store.get_job(j.org_id, j.id).await.unwrap().unwrap().status
}

// Organisations by name.

pub(crate) async fn named_org(store: &DynStore, name: &str) -> OrgId {
    let (new, _) = NewOrg::generate(name, SystemClock.now()).unwrap();
    store.create_org(&new).await.unwrap();
    new.org.id
}

pub(crate) async fn org_with_secret(store: &DynStore, name: &str) -> (Org, Secret) {
    let (new, secret) = NewOrg::generate(name, SystemClock.now()).unwrap();
    store.create_org(&new).await.unwrap();
    (new.org, secret)
}

// Accounts built in memory, then created (the `accounts` cases' fixtures).

pub(crate) async fn setup(store: &DynStore, platform: Platform) -> Connection {
    let (org, _) = NewOrg::generate("Demo Bank", SystemClock.now()).unwrap();
    store.create_org(&org).await.unwrap();
    connection(store, org.org.id, platform).await
}

pub(crate) fn draft_account(c: &Connection, internal_id: &str, now: Timestamp) -> BankFeedAccount {
    let mut a = usd_account(c, internal_id, now);
    a.current_balance = Some("1833.21".parse().unwrap());
    a.details.name = Some("Operating account".into());
    a.details.available_balance = Some("1546.23".parse().unwrap());
    a.details.routing_number = Some("123456789".into());
    a
}

pub(crate) async fn create_fresh(store: &DynStore, a: &BankFeedAccount) -> BankFeedAccount {
    match store.create_account(a, false, None).await.unwrap() {
        Outcome::Done((stored, true)) => stored,
        other => panic!("expected a fresh create, got {other:?}"),
    }
}

/// Asserts that the company's platform no longer finds the feed, nor can ingest it.
pub(crate) async fn assert_feed_gone(
    store: &DynStore,
    books: &Company,
    feed: &BankFeedAccount,
    at: Timestamp,
) {
    assert_eq!(
        store.get_company_feed(books.id, feed.id).await.unwrap(),
        None
    );
    assert!(matches!(
        store.ingest_feed(books.id, feed.id, 1000, at).await,
        Err(StoreError::NotFound)
    ));
}

// The link flow.

pub(crate) const MICRO: TimeDelta = TimeDelta::microseconds(1);

pub(crate) async fn link_account(
    store: &DynStore,
    c: &Connection,
    internal_id: &str,
) -> BankFeedAccount {
    let mut a = usd_account(c, internal_id, SystemClock.now());
    a.details.name = Some(format!("Account {internal_id}"));
    create_fresh(store, &a).await
}

pub(crate) async fn company(store: &DynStore, platform: Platform, name: &str) -> Company {
    let company = Company {
        id: CompanyId::new(),
        platform,
        name: name.to_owned(),
        created_at: SystemClock.now(),
    };
    store.create_company(&company).await.unwrap();
    company
}

/// The binding of the browser that starts the link in these tests.
pub(crate) fn browser() -> SecretHash {
    Secret::from_presented("bfbb_the-test-browser").hash()
}

pub(crate) async fn challenge(
    store: &DynStore,
    company: &Company,
    org: OrgId,
    now: Timestamp,
) -> Challenge {
    let (challenge, _) = Challenge::generate(company.platform, company.id, org, &browser(), now);
    store.create_challenge(&challenge).await.unwrap();
    challenge
}

pub(crate) async fn otp(store: &DynStore, c: &Connection, now: Timestamp) -> SecretHash {
    let (otp, secret) = NewOtp::generate(c, now);
    store.issue_otp(&otp).await.unwrap();
    secret.hash()
}

pub(crate) async fn bind(
    store: &DynStore,
    challenge: &Challenge,
    platform: Platform,
    otp: &SecretHash,
    at: Timestamp,
) -> Result<Challenge, LinkRefusal> {
    store
        .bind_challenge(&challenge.hash, platform, Some(&browser()), otp, at)
        .await
        .unwrap()
}

/// Binds, which must succeed, and checks what the bound challenge says.
pub(crate) async fn bind_ok(
    store: &DynStore,
    challenge: &Challenge,
    otp: &SecretHash,
    connection: &Connection,
    at: Timestamp,
) {
    let bound = bind(store, challenge, challenge.platform, otp, at)
        .await
        .unwrap_or_else(|r| panic!("a valid bind was refused: {r:?}"));
    let expected = Challenge {
        connection_id: Some(connection.id),
        bound_at: Some(at),
        ..challenge.clone()
    };
    assert_eq!(bound, expected);
    assert_eq!(
        store.get_challenge(&challenge.hash).await.unwrap(),
        Some(expected)
    );
}

pub(crate) async fn feed_changes(store: &DynStore, org: OrgId) -> usize {
    store
        .list_events(org, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind.as_str() == "bank_feed_account.feed_changed")
        .count()
}

/// A company of `platform` with one linked feed (from 30 days before `t0`) on a fresh FI.
pub(crate) async fn linked_feed(
    store: &DynStore,
    platform: Platform,
    name: &str,
) -> (Company, Connection, BankFeedAccount) {
    let fi = org(store).await;
    let c = connection(store, fi, platform).await;
    let a = account(store, &c, name).await;
    let books = Company {
        id: CompanyId::new(),
        platform,
        name: format!("{name} Books"),
        created_at: t0(),
    };
    store.create_company(&books).await.unwrap();
    let linked = link_to(store, &books, &c, &a).await;
    (books, c, linked)
}

/// The company `books` links account `a` of connection `c` (the whole flow, from t0).
pub(crate) async fn link_to(
    store: &DynStore,
    books: &Company,
    c: &Connection,
    a: &BankFeedAccount,
) -> BankFeedAccount {
    let platform = books.platform;
    let (challenge, _) = Challenge::generate(platform, books.id, c.org_id, &browser(), t0());
    store.create_challenge(&challenge).await.unwrap();
    let (otp, code) = NewOtp::generate(c, t0());
    store.issue_otp(&otp).await.unwrap();
    store
        .bind_challenge(
            &challenge.hash,
            platform,
            Some(&browser()),
            &code.hash(),
            t0(),
        )
        .await
        .unwrap()
        .expect("bind");
    let linked = store
        .complete_link(
            &challenge.hash,
            &[a.id],
            Some(t0() - TimeDelta::days(30)),
            t0(),
        )
        .await
        .unwrap()
        .expect("complete");
    linked.into_iter().next().unwrap()
}
