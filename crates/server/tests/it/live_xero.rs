//! Live delivery to Xero through running hubs (issue 16): a stand-in Xero on 127.0.0.1 that
//! keeps what it accepts (statements by `Idempotency-Key`, duplicates refused as Xero does,
//! balances checked to tie out and chain) and can be told to fail the next call; the hub's own
//! live worker (started by `serve_with`) cuts pushed batches into statements and delivers them.
//! Here the tenant and its tokens are stored directly; `live_xero_consent.rs` drives the
//! consent pages, feed connections, deletions and restarts through the same stand-in.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::account::{FeedState, FeedStatus};
use bankfeeds_domain::live::{LiveFeedState, LiveStatementStatus};
use bankfeeds_domain::{BankFeedAccountId, Clock, ConnectionId, Platform, SystemClock};
use bankfeeds_server::sealed::Keyring;
use bankfeeds_server::xero::model::StatementOut;
use bankfeeds_server::xero::worker::LiveSettings;
use bankfeeds_server::xero::{
    tokens, RetryPolicy, TenantLimiter, Tokens, XeroClient, XeroEndpoints,
};
use bankfeeds_store::{DynStore, LiveFeed, LiveStatement, LiveTenant};
use bankfeeds_store_tests::TestDb;
use chrono::{SecondsFormat, TimeDelta};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{header, ok, wait_until, with_token, Creds, Hub};

crate::on_both_backends!(with_db:
    batches_arrive_as_statements_in_order_with_tying_balances,
    a_429_is_retried_after_its_retry_after,
    a_500_then_success_is_delivered_once,
    a_lost_answer_then_duplicate_statement_counts_as_delivered,
    invalid_end_balance_stops_the_feed_with_its_reason,
    two_instances_never_deliver_one_statement_twice,
);

const TXNS: &str = "/versioned/accounting/bank_feeds/transactions";
const ACCOUNTS: &str = "/versioned/accounting/bank_feeds/accounts";
const XERO: &str = "/versioned/bank_feeds/configs/XERO/connector";

/// What the stand-in does with the next `POST /Statements`.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    Status(u16, Option<&'static str>),
    /// Accepts it, but answers only after the client gave up (a lost answer).
    Slow,
    /// Refuses it with Xero's problem `type`.
    Reject(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) key: String,
    pub(crate) authorization: String,
    pub(crate) tenant: String,
    pub(crate) body: StatementOut,
    pub(crate) at: Instant,
}

#[derive(Default)]
pub(crate) struct Xero {
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) posts: Vec<Post>,
    /// Accepted statements: Xero's id by Idempotency-Key, in order.
    pub(crate) accepted: Vec<(String, String, StatementOut)>,
    /// Each feed connection's last closing balance.
    closing: HashMap<String, Decimal>,
    pub(crate) refreshes: usize,
    /// The identity and feed-connection side (`live_xero_consent.rs`).
    pub(crate) consent: crate::live_xero_consent::XeroConsent,
}

pub(crate) type Shared = Arc<Mutex<Xero>>;

fn signed(b: &bankfeeds_server::xero::model::Balance) -> Decimal {
    b.to_signed()
}

fn problem(status: u16, kind: &str) -> Response {
    let body = json!({"type": kind, "title": kind, "status": status, "detail": format!("stand-in: {kind}")});
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn post_statements(State(x): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| header(&headers, name);
    let items: Value = serde_json::from_slice(&body).unwrap();
    let statement: StatementOut = serde_json::from_value(items["items"][0].clone()).unwrap();
    let key = h("idempotency-key");
    let (fault, accept) = {
        let mut x = x.lock().unwrap();
        x.posts.push(Post {
            key: key.clone(),
            authorization: h("authorization"),
            tenant: h("xero-tenant-id"),
            body: statement.clone(),
            at: Instant::now(),
        });
        let fault = x.faults.pop_front();
        let duplicate = x.accepted.iter().any(|(k, _, _)| *k == key);
        (fault, !duplicate)
    };
    let accept_it = |x: &Shared| {
        let mut x = x.lock().unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        x.closing.insert(
            statement.feed_connection_id.clone(),
            signed(&statement.end_balance),
        );
        x.accepted
            .push((key.clone(), id.clone(), statement.clone()));
        id
    };
    match fault {
        Some(Fault::Status(status, retry_after)) => {
            let mut r = problem(status, "internal-error").into_response();
            if status == 429 {
                r = (StatusCode::TOO_MANY_REQUESTS, "").into_response();
            }
            if let Some(ra) = retry_after {
                r.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            return r;
        }
        Some(Fault::Reject(kind)) => return problem(400, kind),
        Some(Fault::Slow) => {
            accept_it(&x);
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            return problem(500, "internal-error");
        }
        None => {}
    }
    if !accept {
        return problem(409, "duplicate-statement");
    }
    // Xero's own checks: the lines tie the balances out, and the chain goes on.
    let lines: Decimal = statement
        .statement_lines
        .iter()
        .map(|l| {
            bankfeeds_server::xero::model::Balance {
                amount: l.amount,
                credit_debit_indicator: l.credit_debit_indicator,
            }
            .to_signed()
        })
        .sum();
    let start = signed(&statement.start_balance);
    if start + lines != signed(&statement.end_balance) {
        return problem(400, "invalid-end-balance");
    }
    let previous = x
        .lock()
        .unwrap()
        .closing
        .get(&statement.feed_connection_id)
        .copied();
    if previous.is_some_and(|p| p != start) {
        return problem(400, "invalid-start-balance");
    }
    let id = accept_it(&x);
    let answer = json!({"items": [{"id": id, "feedConnectionId": statement.feed_connection_id,
        "status": "PENDING"}]});
    (StatusCode::ACCEPTED, answer.to_string()).into_response()
}

async fn get_statement(State(x): State<Shared>, Path(id): Path<String>) -> Response {
    let known = x.lock().unwrap().accepted.iter().any(|(_, i, _)| *i == id);
    if !known {
        return problem(404, "not-found");
    }
    (
        StatusCode::OK,
        json!({"id": id, "status": "DELIVERED"}).to_string(),
    )
        .into_response()
}

async fn token(State(x): State<Shared>, body: Bytes) -> Response {
    if let Some(answer) = crate::live_xero_consent::token(&x, &body) {
        return answer;
    }
    let n = {
        let mut x = x.lock().unwrap();
        x.refreshes += 1;
        x.refreshes
    };
    let body = json!({"access_token": format!("access-{n}"), "refresh_token": format!("refresh-{n}"),
        "expires_in": 1800, "token_type": "Bearer"});
    (StatusCode::OK, body.to_string()).into_response()
}

pub(crate) async fn stand_in() -> (Shared, XeroEndpoints) {
    let shared = Shared::default();
    let app = crate::live_xero_consent::routes(axum::Router::new())
        .route(
            "/bankfeeds.xro/1.0/Statements",
            axum::routing::post(post_statements),
        )
        .route(
            "/bankfeeds.xro/1.0/Statements/{id}",
            axum::routing::get(get_statement),
        )
        .route("/identity/connect/token", axum::routing::post(token))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoints = XeroEndpoints {
        identity: format!("{base}/identity"),
        api: format!("{base}/bankfeeds.xro/1.0"),
        connections: base,
    };
    (shared, endpoints)
}

pub(crate) fn keyring() -> Arc<Keyring> {
    Arc::new(
        Keyring::from_config(&Keyring::generate_key())
            .unwrap()
            .unwrap(),
    )
}

/// A hub instance `name` on `store` delivering to `endpoints`, fast.
pub(crate) async fn instance(
    store: DynStore,
    db: Option<TestDb>,
    keys: Arc<Keyring>,
    endpoints: XeroEndpoints,
    name: &str,
) -> Hub {
    let name = name.to_owned();
    // As `serve` does: Xero's budget per tenant lives in the database, one for all instances.
    let limiter = TenantLimiter::shared(store.clone(), Arc::new(SystemClock));
    Hub::start_with(
        store,
        db,
        move |s| {
            s.keyring = Some(keys);
            s.instance = name.into();
            s.xero = Arc::new(XeroClient::new(
                endpoints,
                Arc::new(limiter),
                RetryPolicy {
                    attempts: 3,
                    base: Duration::from_millis(20),
                    max_backoff: Duration::from_millis(50),
                    max_inline_wait: Duration::ZERO,
                    timeout: Duration::from_millis(500),
                },
            ));
            s.live = Arc::new(LiveSettings {
                idle: Duration::from_millis(50),
                poll_pending: Duration::ZERO,
                lease: Duration::from_secs(30),
                senders: 2,
                ..LiveSettings::default()
            });
        },
        0,
    )
    .await
}

/// A hub ("one", over its own database) whose live worker delivers to a fresh stand-in Xero.
pub(crate) struct Live {
    /// The stand-in: what it received, and what it is told to do next.
    pub(crate) x: Shared,
    pub(crate) keys: Arc<Keyring>,
    pub(crate) store: DynStore,
    pub(crate) hub: Hub,
}

impl Live {
    pub(crate) async fn start(db: TestDb) -> Live {
        let (x, endpoints) = stand_in().await;
        let keys = keyring();
        let store = db.store.clone();
        let hub = instance(store.clone(), Some(db), keys.clone(), endpoints, "one").await;
        Live {
            x,
            keys,
            store,
            hub,
        }
    }
}

/// One live Xero feed: an organisation gone live, a connection with its consent (stored as
/// the consent pages will), an account with a live feed.
pub(crate) struct Feed {
    pub(crate) creds: Creds,
    pub(crate) token: String,
    pub(crate) connection: ConnectionId,
    pub(crate) account: BankFeedAccountId,
    pub(crate) balance: Decimal,
    pub(crate) pushed: usize,
}

/// "Live Bank", gone live on Xero with the stand-in's app, and a connection of it on Xero:
/// `(creds, connection, access token)`.
pub(crate) async fn live_connection(hub: &Hub) -> (Creds, ConnectionId, String) {
    let creds = hub.org("Live Bank").await;
    let app = json!({"mode": "live", "client_id": "APP-1", "client_secret": "app-secret"});
    ok(hub.put(&creds, XERO, &app).send().await).await;
    let (connection, token) = hub.connection(&creds, "XERO").await;
    (creds, connection.parse().unwrap(), token)
}

/// Creates an account from `fields` on the connection of `token`; returns its id.
pub(crate) async fn account_id(
    hub: &Hub,
    creds: &Creds,
    token: &str,
    fields: Value,
) -> BankFeedAccountId {
    let created = hub.create_account(creds, token, fields).await;
    created["id"].as_str().unwrap().parse().unwrap()
}

pub(crate) async fn live_feed(hub: &Hub, keys: &Keyring, fc: &str, expired_token: bool) -> Feed {
    let (creds, connection, token) = live_connection(hub).await;
    let fields = json!({"internal_bank_account_id": fc, "bank_account_type": "bank",
        "currency_code": "GBP", "name": "Operating", "current_balance": 100});
    let account = account_id(hub, &creds, &token, fields).await;
    let now = SystemClock.now();
    let state = FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: Some(now - TimeDelta::days(60)),
    };
    hub.store
        .set_feed_state(account, &state, now)
        .await
        .unwrap();
    let tokens = Tokens {
        access_token: "access-0".into(),
        refresh_token: "refresh-0".into(),
        access_expires_at: if expired_token {
            now - TimeDelta::minutes(1)
        } else {
            now + TimeDelta::minutes(30)
        },
    };
    hub.store
        .put_live_tenant(&LiveTenant {
            connection_id: connection,
            org_id: creds.org.id,
            platform: Platform::Xero,
            tenant_id: format!("tenant-{fc}"),
            tokens_sealed: tokens::seal(keys, connection, &tokens),
            access_expires_at: tokens.access_expires_at,
            token_version: 1,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    hub.store
        .put_live_feed(&LiveFeed {
            account_id: account,
            org_id: creds.org.id,
            connection_id: connection,
            feed_connection_id: Some(fc.to_owned()),
            state: LiveFeedState::Active,
            error_code: None,
            error_detail: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    Feed::new(creds, token, connection, account)
}

impl Feed {
    /// The feed of `account`, opened with a current balance of 100 and nothing pushed yet.
    pub(crate) fn new(
        creds: Creds,
        token: String,
        connection: ConnectionId,
        account: BankFeedAccountId,
    ) -> Feed {
        Feed {
            creds,
            token,
            connection,
            account,
            balance: "100".parse().unwrap(),
            pushed: 0,
        }
    }

    /// Pushes `amounts` with the balance after them (so the batch ties out).
    pub(crate) async fn push(&mut self, hub: &Hub, amounts: &[&str]) {
        let day = SystemClock.now() - TimeDelta::days(10) + TimeDelta::hours(self.pushed as i64);
        let transactions: Vec<Value> = amounts
            .iter()
            .map(|a| {
                self.pushed += 1;
                self.balance += a.parse::<Decimal>().unwrap();
                json!({"transaction_id": format!("{}-t{}", self.account, self.pushed),
                    "posted_at": day.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "amount": a.parse::<Value>().unwrap(), "description": "Card payment"})
            })
            .collect();
        let body = json!({"bank_feed_transactions": {"bank_feed_account_id": self.account,
            "transactions": transactions,
            "current_balance": self.balance.to_string().parse::<Value>().unwrap()}});
        let path = with_token(TXNS, &self.token);
        ok(hub.post(&self.creds, &path, &body).send().await).await;
        hub.drain().await;
    }

    pub(crate) async fn statements(&self, store: &DynStore) -> Vec<LiveStatement> {
        store.list_live_statements(self.account).await.unwrap()
    }

    /// Waits until every transaction pushed is in a statement and every statement finished.
    pub(crate) async fn settled(&self, store: &DynStore) -> Vec<LiveStatement> {
        let read = || self.statements(store);
        let every = Duration::from_millis(50);
        wait_until("not delivered in time", every, read, |all| {
            let lines: i64 = all.iter().map(|s| s.line_count).sum();
            lines == self.pushed as i64 && all.iter().all(|s| !s.status.unfinished())
        })
        .await
    }
}

pub(crate) fn posts(x: &Shared) -> Vec<Post> {
    x.lock().unwrap().posts.clone()
}

async fn batches_arrive_as_statements_in_order_with_tying_balances(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-1", true).await;
    feed.push(&hub, &["-10.50", "25", "-3.25"]).await;
    feed.settled(&store).await;
    feed.push(&hub, &["-1", "-2"]).await;
    feed.push(&hub, &["7.77"]).await;
    let all = feed.settled(&store).await;
    assert!(all
        .iter()
        .all(|s| s.status == LiveStatementStatus::Delivered));

    let accepted = x.lock().unwrap().accepted.clone();
    assert_eq!(accepted.len(), all.len());
    let mut closing: Option<Decimal> = None;
    let mut lines = Vec::new();
    for ((key, _, statement), row) in accepted.iter().zip(&all) {
        assert_eq!(
            *key,
            row.id.to_string(),
            "the row id is the Idempotency-Key"
        );
        let start = statement.start_balance.to_signed();
        if let Some(c) = closing {
            assert_eq!(c, start, "each statement opens where the last closed");
        }
        closing = Some(statement.end_balance.to_signed());
        lines.extend(
            statement
                .statement_lines
                .iter()
                .map(|l| l.transaction_id.clone()),
        );
    }
    assert_eq!(
        accepted[0].2.start_balance.to_signed(),
        "100".parse().unwrap()
    );
    assert_eq!(closing, Some(feed.balance), "ends at the FI's balance");
    let expected: Vec<String> = (1..=6).map(|i| format!("{}-t{i}", feed.account)).collect();
    assert_eq!(lines, expected, "every transaction once, in order");
    // Every delivered line counts once as ingested by Xero.
    let metrics = hub.open_text("/metrics").await;
    assert!(
        metrics.contains("bankfeeds_transactions_ingested_total{platform=\"XERO\"} 6\n"),
        "{metrics}"
    );

    // The stale access token was refreshed once, stored by compare-and-set, and used.
    let seen = posts(&x);
    assert_eq!(x.lock().unwrap().refreshes, 1);
    assert!(seen.iter().all(|p| p.authorization == "Bearer access-1"));
    assert!(seen.iter().all(|p| p.tenant == "tenant-fc-1"));
    let tenant = store
        .get_live_tenant(feed.connection)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.token_version, 2);
    let opened = tokens::open(&keys, feed.connection, &tenant.tokens_sealed).unwrap();
    assert_eq!(opened.refresh_token, "refresh-1");
    assert!(!tenant.tokens_sealed.contains("refresh-1"));
}

async fn a_429_is_retried_after_its_retry_after(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-429", false).await;
    x.lock()
        .unwrap()
        .faults
        .push_back(Fault::Status(429, Some("1")));
    feed.push(&hub, &["-5"]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[0].status, LiveStatementStatus::Delivered);
    let seen = posts(&x);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].key, seen[1].key);
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(950),
        "sent again only after Retry-After"
    );
}

async fn a_500_then_success_is_delivered_once(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-500", false).await;
    x.lock().unwrap().faults.push_back(Fault::Status(500, None));
    feed.push(&hub, &["-5", "6"]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[0].status, LiveStatementStatus::Delivered);
    let seen = posts(&x);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].key, seen[1].key);
    assert_eq!(x.lock().unwrap().accepted.len(), 1);
}

async fn a_lost_answer_then_duplicate_statement_counts_as_delivered(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-lost", false).await;
    x.lock().unwrap().faults.push_back(Fault::Slow);
    feed.push(&hub, &["-5"]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[0].status, LiveStatementStatus::Delivered);
    let first = all[0].id.to_string();
    // The next batch goes on from it; the first is never sent again.
    feed.push(&hub, &["2"]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[1].status, LiveStatementStatus::Delivered);
    let seen = posts(&x);
    let tries: Vec<&Post> = seen.iter().filter(|p| p.key == first).collect();
    assert_eq!(tries.len(), 2, "{seen:?}");
    assert_eq!(
        tries[0].body, tries[1].body,
        "the same statement, tried again"
    );
    assert_eq!(seen.len(), 3);
    assert_eq!(
        x.lock().unwrap().accepted.len(),
        2,
        "Xero holds each statement once"
    );
}

async fn invalid_end_balance_stops_the_feed_with_its_reason(db: TestDb) {
    let Live {
        x,
        keys,
        store,
        hub,
    } = Live::start(db).await;
    let mut feed = live_feed(&hub, &keys, "fc-bad", false).await;
    x.lock()
        .unwrap()
        .faults
        .push_back(Fault::Reject("invalid-end-balance"));
    feed.push(&hub, &["-5"]).await;
    let all = feed.settled(&store).await;
    assert_eq!(all[0].status, LiveStatementStatus::Rejected);
    assert_eq!(all[0].error_code.as_deref(), Some("invalid-end-balance"));
    let live = store.get_live_feed(feed.account).await.unwrap().unwrap();
    assert_eq!(live.state, LiveFeedState::Stopped);
    assert_eq!(live.error_code.as_deref(), Some("invalid-end-balance"));
    assert_eq!(
        live.error_detail.as_deref(),
        Some("stand-in: invalid-end-balance")
    );
    // The FI sees it on the account (one and listed); an account not delivered live shows none.
    let shown = hub
        .account(&feed.creds, &feed.token, &feed.account.to_string())
        .await;
    assert_eq!(shown["live_feed"]["feed_status"], "stopped");
    assert_eq!(shown["live_feed"]["error_code"], "invalid-end-balance");
    assert_eq!(
        shown["live_feed"]["error_detail"],
        "stand-in: invalid-end-balance"
    );
    let fields = json!({"internal_bank_account_id": "not-live", "bank_account_type": "bank",
        "currency_code": "GBP", "name": "Savings"});
    hub.create_account(&feed.creds, &feed.token, fields).await;
    let listed = hub
        .get_ok(&feed.creds, &with_token(ACCOUNTS, &feed.token))
        .await;
    let listed = listed["bank_feed_accounts"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for a in listed {
        let live = a["id"] == feed.account.to_string();
        assert_eq!(a.get("live_feed").is_some(), live, "{a}");
        if live {
            assert_eq!(a["live_feed"]["feed_status"], "stopped");
        }
    }
    // Nothing more goes while it is stopped, and nothing is skipped: new transactions wait.
    feed.push(&hub, &["3"]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(posts(&x).len(), 1);
    assert_eq!(feed.statements(&store).await.len(), 1);
}

async fn two_instances_never_deliver_one_statement_twice(db: TestDb) {
    let (x, endpoints) = stand_in().await;
    let keys = keyring();
    let store = db.store.clone();
    let one = instance(
        store.clone(),
        Some(db),
        keys.clone(),
        endpoints.clone(),
        "one",
    )
    .await;
    let two = instance(store.clone(), None, keys.clone(), endpoints, "two").await;
    let mut feeds = Vec::new();
    for i in 0..3 {
        feeds.push(live_feed(&one, &keys, &format!("fc-{i}"), false).await);
    }
    for round in 0..3 {
        for (i, feed) in feeds.iter_mut().enumerate() {
            let hub = if (i + round) % 2 == 0 { &one } else { &two };
            feed.push(hub, &["-1", "2"]).await;
        }
    }
    let mut rows = 0;
    for feed in &feeds {
        let all = feed.settled(&store).await;
        assert!(all
            .iter()
            .all(|s| s.status == LiveStatementStatus::Delivered));
        rows += all.len();
    }
    let seen = posts(&x);
    let mut keys_seen = std::collections::HashSet::new();
    for p in &seen {
        assert!(
            keys_seen.insert(p.key.clone()),
            "statement {} sent twice",
            p.key
        );
    }
    assert_eq!(seen.len(), rows);
    let accepted = x.lock().unwrap().accepted.len();
    assert_eq!(accepted, rows);
    drop(two);
}
