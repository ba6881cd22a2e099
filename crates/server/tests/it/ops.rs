//! Probes, metrics, request ids, the OpenAPI document, restarts.

use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::SystemClock;
use bankfeeds_server::AppState;
use tokio_util::sync::CancellationToken;

use crate::helpers::{ok, Hub};

crate::on_both_backends!(probes_and_metrics);

async fn probes_and_metrics(hub: Hub) {
    let health = hub.open_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let ready = hub.open_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], hub.store.backend());

    let bank = hub.org("Demo Bank").await;
    hub.connection(&bank, "XERO").await;
    let resp = hub
        .http
        .get(hub.url("/healthz"))
        .header("x-request-id", "caller-chosen-id")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-request-id"],
        "caller-chosen-id",
        "a caller's request id is echoed"
    );

    let metrics = hub.open_text("/metrics").await;
    assert!(
        metrics.contains(r#"bankfeeds_http_requests_total{method="POST",route="/versioned/connections/create",status="200"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("bankfeeds_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("bankfeeds_db_pool_max_connections"));
}

#[tokio::test]
async fn served_openapi_matches_the_committed_copy() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json"))
            .expect("openapi.json is committed at the repository root");
    let generated = bankfeeds_server::openapi::document();
    assert!(
        committed == generated,
        "openapi.json drifted from the code: regenerate it with `cargo run -- openapi > openapi.json`"
    );
    let hub = Hub::sqlite("openapi").await;
    let served = hub.open_text("/openapi.json").await;
    assert_eq!(served, generated);
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/versioned/connections",
        "/versioned/connections/create",
        "/versioned/connections/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "documents {path}");
    }
}

#[tokio::test]
async fn data_survives_a_restart_and_shutdown_is_graceful() {
    let db = crate::helpers::sqlite_db("restart").await;
    let first = Hub::start_on(db.store.clone(), None, 0).await;
    let bank = first.org("Demo Bank").await;
    let (id, token) = first.connection(&bank, "SAGE_INTACCT").await;
    drop(first);

    // A new process on the same file: open the database afresh, as `bankfeeds serve` would.
    let config = bankfeeds_server::Config {
        database_url: db.url.clone(),
        ..bankfeeds_server::Config::default()
    };
    let store = bankfeeds_server::open_store(&config).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(store, Arc::new(SystemClock), base.clone(), 0);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(bankfeeds_server::serve(
        listener,
        state,
        shutdown.clone(),
        Duration::from_secs(5),
    ));
    let body = ok(reqwest::Client::new()
        .get(format!(
            "{base}/versioned/connections/access_token?access_token={token}"
        ))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .send()
        .await)
    .await;
    assert_eq!(body["connection"]["id"], id);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after shutdown")
        .unwrap()
        .unwrap();
}

/// The hub's root is a page saying where everything is, not a JSON 404 (issue 18); the
/// sandboxes appear on it only when they are on.
#[tokio::test]
async fn the_root_says_where_everything_is() {
    let hub = Hub::sqlite("landing").await;
    let resp = hub.get_anonymously("/").await;
    assert_eq!(resp.status(), 200);
    let html_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(html_type.starts_with("text/html"), "{html_type}");
    assert!(resp.headers().contains_key("content-security-policy"));
    let page = resp.text().await.unwrap();
    for link in [
        "/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/codat",
        "/ofx/",
        "/sandbox/",
    ] {
        assert!(page.contains(link), "the page names {link}");
    }
    // The reference viewer is served from the binary (no CDN) and reads the hub's document.
    let docs = hub.open_text("/docs/").await;
    assert!(docs.contains("swagger-ui"), "{docs}");
    assert!(
        !docs.contains("https://"),
        "nothing fetched from another site: {docs}"
    );
    let config = hub.open_text("/docs/swagger-initializer.js").await;
    assert!(config.contains("/openapi.json"), "{config}");
    let bundle = hub
        .http
        .get(hub.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    let db = crate::helpers::sqlite_db("landing_off").await;
    let store = db.store.clone();
    let off = Hub::start_with(store, Some(db), |s| s.sandbox = None, 0).await;
    let page = off.open_text("/").await;
    assert!(
        page.contains("/openapi.json") && !page.contains("/sandbox/"),
        "{page}"
    );
}
