//! The client against a real hub on a real socket, on SQLite and (with
//! `BANKFEEDS_TEST_POSTGRES_URL`) PostgreSQL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bankfeeds_client::wire::accounts::{AccountIn, ResponseMode};
use bankfeeds_client::wire::connections::ConnectionIn;
use bankfeeds_client::wire::transactions::{BatchIn, TransactionsCreatedOut};
use bankfeeds_client::{Client, ConnectionClient, Pushed, TransactionFilter};
use bankfeeds_domain::{Clock, NewOrg, Platform, SystemClock};
use bankfeeds_server::AppState;
use bankfeeds_store_tests::TestDb;
use futures_util::TryStreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// A hub on `db`, serving on a random local port, and a client of a new organisation on it.
struct Hub {
    client: Client,
    shutdown: CancellationToken,
    _db: TestDb,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn hub(db: TestDb) -> Hub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.store.clone(), Arc::new(SystemClock), base.clone(), 0);
    let shutdown = CancellationToken::new();
    tokio::spawn(bankfeeds_server::serve(
        listener,
        state,
        shutdown.clone(),
        Duration::from_secs(5),
    ));
    let (new, secret) = NewOrg::generate("Client Test Bank", SystemClock.now()).unwrap();
    db.store.create_org(&new).await.unwrap();
    let client = Client::new(&base, &new.org.client_id, secret.expose()).unwrap();
    Hub {
        client,
        shutdown,
        _db: db,
    }
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {$(
            #[tokio::test]
            async fn $case() {
                let db = bankfeeds_store_tests::backends::sqlite(stringify!($case)).await.unwrap();
                super::run(db, super::$case).await;
            }
        )*}
        mod postgres {$(
            #[tokio::test]
            async fn $case() {
                let Some(db) = bankfeeds_store_tests::backends::postgres(stringify!($case)).await else { return };
                super::run(db, super::$case).await;
            }
        )*}
    };
}

async fn run<F: Future<Output = ()>>(db: TestDb, case: impl FnOnce(Hub) -> F) {
    case(hub(db).await).await;
}

on_both_backends!(
    connections_accounts_and_pushes_round_trip,
    an_async_push_is_awaited_as_a_future,
    a_reused_key_replays_and_refusals_carry_their_code,
    lists_stream_every_page,
);

/// A connection on QuickBooks (feeds are transaction-ready at creation) with one account.
async fn account(client: &Client) -> (String, String) {
    let created = client
        .create_connection(&ConnectionIn {
            platform: Platform::IntuitBankFeeds,
            name: Some("Acme Ltd".into()),
        })
        .await
        .unwrap();
    let token = created.connection.access_token.unwrap();
    let account: AccountIn = serde_json::from_value(json!({
        "internal_bank_account_id": "chk-1",
        "bank_account_type": "bank",
        "currency_code": "USD",
        "name": "Operating",
        "transaction_start_date": "2024-01-01",
    }))
    .unwrap();
    let out = client
        .connection(&token)
        .create_account(account)
        .await
        .unwrap();
    (token, out.bank_feed_account.id.to_string())
}

fn batch(account: &str, ids: std::ops::Range<u32>) -> BatchIn {
    let txns: Vec<_> = ids
        .map(|i| {
            json!({
                "transaction_id": format!("t-{i:04}"),
                "posted_at": format!("2024-02-{:02}T12:00:00Z", 1 + i % 28),
                "amount": format!("-{i}.25").parse::<serde_json::Number>().unwrap(),
                "description": format!("Purchase {i}"),
            })
        })
        .collect();
    serde_json::from_value(json!({"bank_feed_account_id": account, "transactions": txns})).unwrap()
}

/// Pushes `batch` and waits for what was stored.
async fn push_stored(conn: &ConnectionClient, batch: &BatchIn) -> TransactionsCreatedOut<'static> {
    conn.push(batch).await.unwrap().stored().await.unwrap()
}

async fn connections_accounts_and_pushes_round_trip(hub: Hub) {
    let (token, account) = account(&hub.client).await;
    let conn = hub.client.connection(&token);
    assert_eq!(
        conn.get().await.unwrap().connection.name.as_deref(),
        Some("Acme Ltd")
    );
    assert!(conn.status().await.unwrap().status.is_ready);

    let stored = push_stored(&conn, &batch(&account, 1..4)).await;
    assert_eq!(stored.bank_feed_transactions.len(), 3);
    let first = &stored.bank_feed_transactions[0];
    assert_eq!(first.transaction_id, "t-0001");
    assert_eq!(first.amount.to_string(), "-1.25");
    assert_eq!(first.duplicate, Some(false));

    // The same transactions again under a new key: stored nothing, reported as duplicates.
    let again = push_stored(&conn, &batch(&account, 1..4)).await;
    assert!(again
        .bank_feed_transactions
        .iter()
        .all(|t| t.duplicate == Some(true)));

    let got = conn.get_transaction(&first.id.to_string()).await.unwrap();
    assert_eq!(
        got.bank_feed_transaction.description.as_deref(),
        Some("Purchase 1")
    );
    let a = conn.get_account(&account).await.unwrap();
    assert_eq!(a.bank_feed_account.internal_bank_account_id, "chk-1");
    let otp = conn.create_otp().await.unwrap();
    assert!(!otp.bank_feed_otp.otp.is_empty());
}

async fn an_async_push_is_awaited_as_a_future(hub: Hub) {
    let (token, account) = account(&hub.client).await;
    let conn = hub.client.connection(&token);
    let pushed = conn
        .push_with(&batch(&account, 1..6), ResponseMode::Async, None)
        .await
        .unwrap();
    let Pushed::Queued { job, .. } = pushed else {
        panic!("an async push answers with its job")
    };
    let job_id = job.id().to_owned();
    let stored = job.await.unwrap();
    assert_eq!(stored.bank_feed_transactions.len(), 5);
    let job = hub.client.get_job(&job_id).await.unwrap();
    assert_eq!(job.response.unwrap().http_status, 200);

    // A refused batch (a transaction id reused with other content) comes back from the job as
    // the refusal, with its code.
    let mut changed = batch(&account, 1..2);
    changed.transactions[0].description = Some("something else".into());
    let Pushed::Queued { job, .. } = conn
        .push_with(&changed, ResponseMode::Async, None)
        .await
        .unwrap()
    else {
        panic!("queued")
    };
    let refused = job.await.unwrap_err();
    assert_eq!(refused.code(), Some("TRANSACTION_ID_CONFLICT"), "{refused}");
}

async fn a_reused_key_replays_and_refusals_carry_their_code(hub: Hub) {
    let (token, account) = account(&hub.client).await;
    let conn = hub.client.connection(&token);
    let key = Some("client-test-key-1".to_owned());
    let b = batch(&account, 1..3);
    let first = conn
        .push_with(&b, ResponseMode::PreferSync, key.clone())
        .await
        .unwrap()
        .stored()
        .await
        .unwrap();
    // The same key again answers the first outcome (nothing is stored twice, and the answer
    // says "new", not "duplicate": it is the first push's answer).
    let replay = conn
        .push_with(&b, ResponseMode::PreferSync, key.clone())
        .await
        .unwrap();
    assert!(replay.replayed());
    let replay = replay.stored().await.unwrap();
    assert_eq!(replay.bank_feed_transactions.len(), 2);
    assert!(replay
        .bank_feed_transactions
        .iter()
        .all(|t| t.duplicate == Some(false)));
    assert_eq!(
        first.bank_feed_transactions[0].id,
        replay.bank_feed_transactions[0].id
    );

    // The key with another body: refused, with the hub's code.
    let other = batch(&account, 5..6);
    let e = conn
        .push_with(&other, ResponseMode::PreferSync, key)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("IDEMPOTENCY_KEY_REUSED"), "{e}");
    assert_eq!(e.status(), Some(409));

    let e = hub
        .client
        .connection("not-a-token")
        .get()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("INVALID_ACCESS_TOKEN"), "{e}");
    assert_eq!(e.status(), Some(401));
    let wrong = Client::new(hub.client.base_url(), "nobody", "nothing").unwrap();
    let e = wrong.list_fi_configs().await.unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");
}

async fn lists_stream_every_page(hub: Hub) {
    let (token, account) = account(&hub.client).await;
    let conn = hub.client.connection(&token);
    push_stored(&conn, &batch(&account, 1..8)).await;
    let filter = TransactionFilter {
        page_size: Some(3),
        ..TransactionFilter::default()
    };
    let all: Vec<_> = conn.list_transactions(&filter).try_collect().await.unwrap();
    let mut ids: Vec<_> = all.iter().map(|t| t.transaction_id.to_string()).collect();
    ids.sort();
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert_eq!(ids[0], "t-0001");

    for _ in 0..2 {
        hub.client
            .create_connection(&ConnectionIn {
                platform: Platform::Xero,
                name: None,
            })
            .await
            .unwrap();
    }
    let connections: Vec<_> = hub.client.list_connections().try_collect().await.unwrap();
    assert_eq!(connections.len(), 3);
    let accounts: Vec<_> = conn.list_accounts().try_collect().await.unwrap();
    assert_eq!(accounts.len(), 1);
}
