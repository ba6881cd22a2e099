//! What anonymous callers can do to the hub itself: made-up input must not grow its state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bankfeeds_domain::account::MAX_DETAIL_CHARS;
use bankfeeds_domain::link::MAX_ACCOUNTS_PER_LINK;
use bankfeeds_server::client_limit::{AuthFailures, ClientLimiter};
use bankfeeds_server::listener::Limits;
use bankfeeds_server::AppState;
use bankfeeds_store_tests::TestDb;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::codat::{error, error_in, Codat};
use crate::helpers::{
    err, items, ok, refuses, sqlite_db, test_state, with_token, Creds, Hub, Sandbox,
};
use crate::link_flow::{fi_login, list_bank};
use crate::pages::{field, Browser};

crate::on_both_backends!(
    made_up_methods_share_one_metrics_label,
    a_feed_choice_is_bounded_and_names_each_account_once,
    codat_source_accounts_keep_the_rutter_doors_length_limits,
    a_nul_in_a_form_field_is_refused,
    misspelt_fields_are_refused_not_dropped,
    json_bodies_must_say_they_are_json,
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
    let metrics = hub.open_text("/metrics").await;
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

/// A hub on SQLite with these socket limits; the token stops it.
async fn hub_with_limits(
    header_timeout: Duration,
    max_connections: usize,
) -> (String, CancellationToken, TestDb) {
    let limits = Limits {
        header_timeout,
        max_connections,
    };
    let db = sqlite_db("limits").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = test_state(db.store.clone(), format!("http://{addr}"), 0);
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
    // Headers must arrive within a second; the connection cap is not reached.
    let (addr, shutdown, _db) = hub_with_limits(Duration::from_secs(1), 100).await;

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
    // Two connections at most; headers have all the time they need.
    let (addr, shutdown, _db) = hub_with_limits(Duration::from_secs(30), 2).await;
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

/// A hub with the per-client limits on: `failures` failed authentications a minute, `anonymous`
/// requests to the anonymous routes per 10 s.
async fn hub_with_client_limits(db: TestDb, failures: u32, anonymous: u32) -> Hub {
    let store = db.store.clone();
    Hub::start_with(
        store,
        Some(db),
        |s| {
            s.auth_failures = AuthFailures::per_minute(failures).map(Arc::new);
            s.anonymous_limiter =
                ClientLimiter::new(anonymous, Duration::from_secs(10)).map(Arc::new);
        },
        0,
    )
    .await
}

crate::on_both_backends!(
    with_db:
    failed_authentication_is_limited_per_client,
    anonymous_routes_are_limited_per_client
);

async fn assert_rate_limited(resp: reqwest::Response) {
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error_code"], "RATE_LIMITED", "{body}");
    assert!(body["error_message"].is_string(), "{body}");
}

/// Issue 12, item 4: 1,500 wrong secrets in a row never met a 429. Now a client's failures
/// (wrong or malformed secrets, unknown access tokens) are counted, and once its budget is spent
/// it is refused, even with the right secret, on both doors.
async fn failed_authentication_is_limited_per_client(db: TestDb) {
    let hub = hub_with_client_limits(db, 5, 0).await;
    let bank = hub.org("Bank").await;
    let wrong = Creds {
        client_id: bank.client_id.clone(),
        client_secret: "not-the-secret".into(),
        org: bank.org.clone(),
    };
    let ok = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for _ in 0..3 {
        let resp = hub
            .get(
                &bank,
                &with_token("/versioned/connections/status", "guessed"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    for _ in 0..2 {
        let resp = hub
            .get(&wrong, "/versioned/connections")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let malformed = hub
        .http
        .get(hub.url("/versioned/connections"))
        .header("authorization", "Basic !!!")
        .send()
        .await
        .unwrap();
    assert_rate_limited(malformed).await;
    // The right secret no longer helps, on either door, until the budget refills.
    assert_rate_limited(
        hub.get(&bank, "/versioned/connections")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let codat = hub.get(&bank, "/codat/companies").send().await.unwrap();
    assert_eq!(codat.status(), 429);
    assert!(codat.headers().contains_key("retry-after"));
    let health = hub.get_anonymously("/healthz").await;
    assert_eq!(health.status(), 200);
}

/// Issue 12, item 4: the routes that need no credentials have a budget per client too; the API
/// and the health checks are not charged for it.
async fn anonymous_routes_are_limited_per_client(db: TestDb) {
    let hub = hub_with_client_limits(db, 0, 4).await;
    let bank = hub.org("Bank").await;
    for path in [
        "/sandbox/signin",
        "/demo-bank/",
        "/sandbox/signin",
        "/demo-bank/",
    ] {
        let resp = hub.get_anonymously(path).await;
        assert_eq!(resp.status(), 200, "{path}");
    }
    for path in ["/sandbox/intuit/api/companies", "/demo-bank/login"] {
        assert_rate_limited(hub.get_anonymously(path).await).await;
    }
    let api = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let health = hub.get_anonymously("/healthz").await;
    assert_eq!(health.status(), 200);
}

/// Issue 12, item 5: one 8 MiB list of account ids held SQLite's writer for 43 s. A choice longer
/// than any connection's accounts is refused before the store, changing nothing, and repeated
/// ids reach the store once.
async fn a_feed_choice_is_bounded_and_names_each_account_once(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    list_bank(&hub, &bank, "XERO").await;
    let xero = Sandbox::of(&hub, "XERO");
    let company = xero.company("Acme Ltd").await;
    let challenge = xero.challenge(&company, &bank).await;
    let (_, accounts, otp) = fi_login(&hub, &bank, "XERO").await;
    ok(xero.redirect(&challenge, &otp).await).await;

    let too_many: Vec<String> = (0..=MAX_ACCOUNTS_PER_LINK)
        .map(|i| accounts[i % 2].clone())
        .collect();
    let body = json!({"challenge": challenge, "bank_feed_account_ids": too_many});
    err(
        xero.post("/link/complete", body).await,
        400,
        "TOO_MANY_ACCOUNTS",
    )
    .await;

    // Nothing was used up: the same challenge completes, each account once.
    let repeated = [&accounts[0], &accounts[1], &accounts[0], &accounts[0]];
    let body = json!({"challenge": challenge, "bank_feed_account_ids": repeated});
    let done = ok(xero.post("/link/complete", body).await).await;
    let linked: Vec<&str> = items(&done["bank_feed_accounts"])
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(linked, [accounts[0].as_str(), accounts[1].as_str()]);
    let feeds = xero.get(&format!("/companies/{company}/feeds")).await;
    assert_eq!(feeds["bank_feed_accounts"].as_array().unwrap().len(), 2);
}

/// Issue 12, item 6: the Codat door skipped the Rutter door's length limits on names and
/// numbers. Now a create, a batch item and an update are refused at once, and nothing is
/// stored.
async fn codat_source_accounts_keep_the_rutter_doors_length_limits(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (co, conn) = codat.company_with_connection("Bank of Dave", "gbol").await;
    let (company, connection) = (co["id"].as_str().unwrap(), conn["id"].as_str().unwrap());
    let base =
        format!("/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts");
    let long = "9".repeat(MAX_DETAIL_CHARS + 1);
    let account = |field: &str, value: Value| {
        let mut a = json!({"id": "ac-1", "accountName": "Operating", "accountType": "checking",
            "accountNumber": "12345670", "currency": "USD", "balance": 10});
        a[field] = value;
        a
    };
    for field in ["accountName", "accountNumber", "sortCode"] {
        let refused = error_in(
            field,
            codat.post(&base, account(field, json!(long))).await,
            400,
            "FIELD_TOO_LONG",
        );
        assert_eq!(refused["validation"]["errors"][0]["itemId"], field);
    }
    let refused = codat
        .post(
            &format!("{base}/batch"),
            json!([account("accountName", json!(long))]),
        )
        .await;
    assert_eq!(refused.0, 207, "{}", refused.1);
    let (s, listed) = codat.get(&base).await;
    assert_eq!((s, listed), (200, json!([])), "nothing was stored");

    // At the limit it is taken; an update past it is refused and changes nothing.
    let fits = "9".repeat(MAX_DETAIL_CHARS);
    let (s, created) = codat.post(&base, account("accountName", json!(fits))).await;
    assert_eq!(s, 200, "{created}");
    let update = account("accountName", json!(long));
    error(
        codat.patch(&format!("{base}/ac-1"), update).await,
        400,
        "FIELD_TOO_LONG",
    );
    let (_, listed) = codat.get(&base).await;
    assert_eq!(listed[0]["accountName"], json!(fits));
}

/// Issue 12, item 14: behind https the hub tells browsers to keep to https (HSTS), on pages
/// and API answers alike; over plain http it says nothing.
#[tokio::test]
async fn hsts_is_sent_when_the_hub_is_reached_over_https() {
    let https = |s: &mut AppState| s.public_base = "https://feeds.example-bank.com".into();
    let hub = Hub::sqlite_with("hsts", https).await;
    for path in ["/healthz", "/sandbox/", "/versioned/connections"] {
        let resp = hub.get_anonymously(path).await;
        assert_eq!(
            resp.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let plain = Hub::sqlite("no_hsts").await;
    let resp = plain.get_anonymously("/healthz").await;
    assert!(!resp.headers().contains_key("strict-transport-security"));
}

/// Issue 12, item 14: a NUL in a form field reached PostgreSQL and came back a 500. Every
/// page form now refuses it (raw or percent-encoded) as a 400, storing nothing.
async fn a_nul_in_a_form_field_is_refused(hub: Hub) {
    let mut b = Browser::new(&hub);
    let index = b.get("/sandbox/xero/").await;
    let csrf = field(&index, "csrf");
    for name in ["Acme\0Ltd", "\0"] {
        let page = b
            .post(
                "/sandbox/xero/companies",
                &[("csrf", &csrf), ("name", name)],
            )
            .await;
        assert_eq!(page.status, 400, "{name:?}: {}", page.body);
    }
    let companies = Sandbox::of(&hub, "XERO").get("/companies").await;
    assert!(!companies.to_string().contains("Acme"), "{companies}");
    let fine = b
        .post(
            "/sandbox/xero/companies",
            &[("csrf", &csrf), ("name", "Acme Ltd")],
        )
        .await;
    assert_eq!(fine.status, 303, "{}", fine.body);
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
    let refused = refuses(hub.post(&creds, &accounts, &account), 400, "UNKNOWN_FIELD").await;
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
        let refused = refuses(hub.post(&creds, &txns, &body), 400, "UNKNOWN_FIELD").await;
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
    let hub = Hub::sqlite("limits_doc").await;
    let creds = hub.org("Doc Bank").await;
    let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
    let hook = serde_json::json!({"url": "https://hooks.example.com/limits"});
    let hook = hub
        .post(&creds, "/versioned/webhooks", &hook)
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
    let hook: serde_json::Value = hook.json().await.unwrap();
    let hook_id = hook["webhook"]["id"].as_str().unwrap().to_owned();
    let doc = hub.open_json("/openapi.json").await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        // The one list under a path parameter: a webhook's attempts.
        let path = path.replace("{id}", &hook_id);
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
        // Only what the operation declares: anything else is refused (UNKNOWN_QUERY_PARAMETER).
        let token = if params.iter().any(|p| p["name"] == "access_token") {
            format!("access_token={token}&")
        } else {
            String::new()
        };
        let url = |n: u64| format!("{path}?{token}limit={n}");
        ok(hub.get(&creds, &url(max)).send().await).await;
        refuses(hub.get(&creds, &url(max + 1)), 400, "INVALID_LIMIT").await;
        refuses(hub.get(&creds, &url(0)), 400, "INVALID_LIMIT").await;
        checked += 1;
    }
    assert_eq!(
        checked, 5,
        "connections, accounts, transactions, events and webhook attempts are listed"
    );
}

/// Issue 12, item 14: a body another site's page can make a browser send without asking (a form,
/// `text/plain`, or no type at all) is not taken as JSON, on either door.
async fn json_bodies_must_say_they_are_json(hub: Hub) {
    let creds = hub.org("Typed Bank").await;
    let body = r#"{"platform": "XERO", "name": "Acme"}"#;
    for path in ["/versioned/connections/create", "/codat/companies"] {
        for content_type in [
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let mut request = hub
                .http
                .post(hub.url(path))
                .basic_auth(&creds.client_id, Some(&creds.client_secret))
                .body(body);
            if let Some(ct) = content_type {
                request = request.header("content-type", ct);
            }
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), 415, "{path} with {content_type:?}");
            let answer: Value = resp.json().await.unwrap();
            // Each door in its own error shape, with the same stable code.
            let code = if path.starts_with("/codat") {
                assert_eq!(answer["statusCode"], 415, "{answer}");
                &answer["errorCode"]
            } else {
                &answer["error_code"]
            };
            assert_eq!(
                code, "UNSUPPORTED_CONTENT_TYPE",
                "{path} with {content_type:?}"
            );
        }
    }
    let created = hub
        .http
        .post(hub.url("/versioned/connections/create"))
        .basic_auth(&creds.client_id, Some(&creds.client_secret))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "declared JSON is taken");
}

/// Issue 12, item 14: over https the CSRF cookie is `__Host-` prefixed (Secure, Path=/, no
/// Domain), and a token under the plain name, as a sibling subdomain could plant, is not taken.
#[tokio::test]
async fn the_csrf_cookie_is_host_only_over_https() {
    let https = |s: &mut AppState| s.public_base = "https://feeds.example-bank.com".into();
    let hub = Hub::sqlite_with("host_cookie", https).await;
    let session = hub
        .state
        .sandbox
        .as_ref()
        .unwrap()
        .open_session(bankfeeds_domain::Clock::now(&bankfeeds_domain::SystemClock));
    let session = format!("__Host-bf_sandbox={}", session.expose());
    let page = hub
        .http
        .get(hub.url("/sandbox/xero/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let set = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let (pair, attributes) = set.split_once(';').unwrap();
    let (name, token) = pair.split_once('=').unwrap();
    assert_eq!(name, "__Host-bf_csrf", "{set}");
    assert!(
        attributes.contains("Secure") && attributes.contains("Path=/"),
        "{set}"
    );
    assert!(!attributes.to_ascii_lowercase().contains("domain"), "{set}");

    let post = |cookie: String| {
        hub.http
            .post(hub.url("/sandbox/xero/companies"))
            .header("cookie", cookie)
            .form(&[("csrf", token), ("name", "Acme Ltd")])
            .send()
    };
    let planted = post(format!("bf_csrf={token}; {session}")).await.unwrap();
    assert_eq!(
        planted.status(),
        403,
        "a token under the plain name is not taken"
    );
    let ours = post(format!("__Host-bf_csrf={token}; {session}"))
        .await
        .unwrap();
    // Created: the 303 to the new company's page, followed.
    assert_eq!(ours.status(), 200);
    assert!(
        ours.url().path().starts_with("/sandbox/xero/companies/"),
        "{}",
        ours.url()
    );
}
