//! What anonymous callers can do to the hub itself: made-up input must not grow its state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bankfeeds_domain::SystemClock;
use bankfeeds_server::listener::Limits;
use bankfeeds_server::AppState;
use bankfeeds_store_tests::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::helpers::{err, ok, Hub};

crate::on_both_backends!(
    made_up_methods_share_one_metrics_label,
    misspelt_fields_are_refused_not_dropped,
);

/// Issue 12, item 3: the raw method used to be a Prometheus label, so every made-up method was a
/// new time series kept for ever.
async fn made_up_methods_share_one_metrics_label(hub: Hub) {
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let resp = hub
            .http
            .request(method, hub.url("/versioned/connections"))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let metrics = hub
        .http
        .get(hub.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("MADEUP"), "{metrics}");
    let other: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("bankfeeds_http_requests_total{method=\"OTHER\""))
        .collect();
    let counted: u64 = other
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 20, "{other:?}");
}

/// A hub on SQLite with the given socket limits; the token stops it.
async fn hub_with_limits(limits: Limits) -> (String, CancellationToken, TestDb) {
    let db = bankfeeds_store_tests::backends::sqlite("limits")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut state = AppState::new(
        db.store.clone(),
        Arc::new(SystemClock),
        format!("http://{addr}"),
        0,
    );
    state.sandbox_sync_tick = None;
    let shutdown = CancellationToken::new();
    tokio::spawn(bankfeeds_server::serve_with(
        listener,
        state,
        shutdown.clone(),
        Duration::from_secs(1),
        limits,
    ));
    (addr, shutdown, db)
}

/// Reads until the server closes the connection; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue, // hyper may answer 408 before closing
            Err(_) => panic!("the connection was still open after {limit:?}"),
        }
    }
}

/// Issue 12, item 2: half a header, or nothing at all, no longer holds a socket for ever.
#[tokio::test]
async fn slow_and_idle_clients_are_closed() {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        max_connections: 100,
    };
    let (addr, shutdown, _db) = hub_with_limits(limits).await;

    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    assert!(closed_within(&mut half, Duration::from_secs(5)).await >= Duration::from_millis(900));
    closed_within(&mut idle, Duration::from_secs(5)).await;

    // A kept-alive connection is closed once idle for the same time, after a full answer.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    kept.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    closed_within(&mut kept, Duration::from_secs(5)).await;
    shutdown.cancel();
}

/// Issue 12, item 2: past the cap, new clients wait instead of exhausting descriptors; a freed
/// slot serves them.
#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let limits = Limits {
        header_timeout: Duration::from_secs(30),
        max_connections: 2,
    };
    let (addr, shutdown, _db) = hub_with_limits(limits).await;
    let first = TcpStream::connect(&addr).await.unwrap();
    let _second = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/healthz");
    let waited = client
        .get(&url)
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waited.is_err(),
        "a third connection was served past the cap"
    );

    drop(first);
    let served = client
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    shutdown.cancel();
}

/// Issue 12, item 12: `"descripton"` used to be dropped silently (200, `description: null`), and
/// anything at all could ride along in an unknown field.
async fn misspelt_fields_are_refused_not_dropped(hub: Hub) {
    let creds = hub.org("Typo Bank").await;
    let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
    let accounts = format!("/versioned/accounting/bank_feeds/accounts?access_token={token}");
    let account = serde_json::json!({"bank_feed_account": {
        "internal_bank_account_id": "1", "bank_account_type": "bank", "currency_code": "USD",
        "nmae": "Operating"}});
    let refused = err(
        hub.post(&creds, &accounts, &account).send().await,
        400,
        "UNKNOWN_FIELD",
    )
    .await;
    assert!(
        refused["error_message"].as_str().unwrap().contains("nmae"),
        "{refused}"
    );
    let created = hub
        .create_account(
            &creds,
            &token,
            serde_json::json!({"internal_bank_account_id": "1", "bank_account_type": "bank",
                               "currency_code": "USD"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();

    let txns = format!("/versioned/accounting/bank_feeds/transactions?access_token={token}");
    let push = |extra: (&str, serde_json::Value)| {
        let mut txn = serde_json::json!({"transaction_id": "T1", "posted_at": "2026-01-02T00:00:00Z",
                                         "amount": "-1.00", "debit_credit_memo": "DEBIT"});
        txn[extra.0] = extra.1;
        serde_json::json!({"bank_feed_transactions": {"bank_feed_account_id": id, "transactions": [txn]}})
    };
    for (field, value) in [
        ("descripton", serde_json::json!("Office supplies")),
        (
            "x",
            serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap(),
        ),
    ] {
        let body = push((field, value));
        let refused = err(
            hub.post(&creds, &txns, &body).send().await,
            400,
            "UNKNOWN_FIELD",
        )
        .await;
        assert!(
            refused["error_message"].as_str().unwrap().contains(field),
            "{refused}"
        );
    }
    let listed = ok(hub
        .get(&creds, &format!("{txns}&bank_feed_account_id={id}"))
        .send()
        .await)
    .await;
    assert_eq!(
        listed["bank_feed_transactions"],
        serde_json::json!([]),
        "nothing stored"
    );
}

/// Issue 12, item 13: what the document says of `limit` is what the server does, on every list
/// that declares bounds.
#[tokio::test]
async fn documented_limits_are_the_served_ones() {
    let hub = Hub::start(
        bankfeeds_store_tests::backends::sqlite("limits_doc")
            .await
            .unwrap(),
    )
    .await;
    let creds = hub.org("Doc Bank").await;
    let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
    let doc = ok(hub.http.get(hub.url("/openapi.json")).send().await).await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(params) = ops["get"]["parameters"].as_array() else {
            continue;
        };
        let Some(limit) = params.iter().find(|p| p["name"] == "limit") else {
            continue;
        };
        let max = limit["schema"]["maximum"]
            .as_u64()
            .unwrap_or_else(|| panic!("{path}: limit has no documented maximum"));
        assert_eq!(limit["schema"]["minimum"], 1, "{path}");
        let url = |n: u64| format!("{path}?access_token={token}&limit={n}");
        ok(hub.get(&creds, &url(max)).send().await).await;
        err(
            hub.get(&creds, &url(max + 1)).send().await,
            400,
            "INVALID_LIMIT",
        )
        .await;
        err(hub.get(&creds, &url(0)).send().await, 400, "INVALID_LIMIT").await;
        checked += 1;
    }
    assert_eq!(
        checked, 3,
        "connections, accounts and transactions are listed"
    );
}
