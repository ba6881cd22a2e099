//! Webhook delivery through a running hub (issue 15): a real receiver on 127.0.0.1 (so the hub
//! runs with `allow_private`) verifies every signature in Rust; retries after a 500, honours
//! `Retry-After`, disables an endpoint that keeps failing, refuses internal targets by their
//! resolved address, recovers, lists attempts; on both backends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bankfeeds_domain::webhook::delivery::{verify, RetryPolicy};
use bankfeeds_domain::webhook::WebhookSecret;
use bankfeeds_server::sealed::Keyring;
use bankfeeds_server::webhooks::WebhookSettings;
use serde_json::{json, Value};

use crate::helpers::{err, header, poll, wait_until, Creds, Hub};
use crate::webhooks::create;

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
    at: Instant,
}

/// A status to answer with, and a `Retry-After` to send with it.
type Answer = (u16, Option<&'static str>);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answers to give, in order; then 200.
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let h = |name: &str| header(&headers, name);
    r.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(0),
        signature: h("webhook-signature"),
        body: body.to_vec(),
        at: Instant::now(),
    });
    let (status, retry_after) = r.answers.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut out = HeaderMap::new();
    if let Some(ra) = retry_after {
        out.insert("retry-after", ra.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), out, "thanks")
}

impl Receiver {
    async fn start(answers: &[Answer]) -> (Receiver, String) {
        let r = Receiver::default();
        r.answers.lock().unwrap().extend(answers.iter().copied());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    /// The deliveries received once there are at least `n` (or after 20 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let read = || async { self.got.lock().unwrap().clone() };
        poll(Duration::from_millis(25), read, |got| got.len() >= n).await
    }
}

fn settings(schedule_secs: &[u64], disable_after: Duration) -> WebhookSettings {
    WebhookSettings {
        allow_private: true,
        policy: RetryPolicy {
            schedule: schedule_secs
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            jitter: 0.0,
            disable_after,
            max_retry_after: Duration::from_secs(60),
        },
        poll: Duration::from_millis(50),
    }
}

async fn hub_with(db: bankfeeds_store_tests::TestDb, s: WebhookSettings) -> Hub {
    let store = db.store.clone();
    Hub::start_with(store, Some(db), move |st| st.webhooks = Arc::new(s), 0).await
}

async fn create_hook(
    hub: &Hub,
    creds: &Creds,
    url: &str,
    types: &[&str],
) -> (String, WebhookSecret) {
    let hook = create(hub, creds, json!({"url": url, "event_types": types})).await;
    let secret = WebhookSecret::from_stored(hook["secret"].as_str().unwrap().into()).unwrap();
    (hook["id"].as_str().unwrap().to_owned(), secret)
}

/// The endpoint's attempts once there are at least `n` (the receiver answers before the hub
/// records the try).
async fn attempts(hub: &Hub, creds: &Creds, id: &str, n: usize) -> Vec<Value> {
    let path = format!("/versioned/webhooks/{id}/attempts");
    hub.list_with_at_least(creds, &path, "attempts", n).await
}

fn verified(secret: &WebhookSecret, r: &Received) -> Value {
    assert!(
        verify(secret, &r.id, r.timestamp, &r.body, &r.signature),
        "signature of {} verifies",
        r.id
    );
    assert!((chrono::Utc::now().timestamp() - r.timestamp).abs() < 300);
    serde_json::from_slice(&r.body).unwrap()
}

async fn deliveries_are_signed_in_order_and_listed_as_attempts(db: bankfeeds_store_tests::TestDb) {
    let hub = hub_with(db, settings(&[1], Duration::from_secs(3600))).await;
    let (rx, url) = Receiver::start(&[]).await;
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let (id, secret) = create_hook(&hub, &bank, &url, &["connection.created"]).await;
    hub.connection(&bank, "XERO").await;
    hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    hub.connection(&other, "XERO").await;
    let got = rx.wait_for(2).await;
    assert_eq!(
        got.len(),
        2,
        "only the organisation's own, of the types asked for"
    );
    let bodies: Vec<Value> = got.iter().map(|r| verified(&secret, r)).collect();
    assert!(bodies.iter().all(|b| b["type"] == "connection.created"));
    assert_eq!(
        bodies[0]["data"]["platform"], "XERO",
        "in order: {bodies:?}"
    );
    // The webhook-id is the event's id in the feed.
    let feed = hub
        .get_ok(&bank, "/versioned/events?type=connection.created")
        .await;
    let ids: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, got.iter().map(|r| r.id.as_str()).collect::<Vec<_>>());

    let path = format!("/versioned/webhooks/{id}/attempts");
    let list = attempts(&hub, &bank, &id, 2).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["event_id"], got[1].id, "newest first");
    assert_eq!(list[0]["status_code"], 200);
    assert_eq!(list[0]["outcome"], "succeeded");
    assert_eq!(list[0]["response"], "thanks");
    let page = hub.get_ok(&bank, &format!("{path}?limit=1")).await;
    let next = page["next_cursor"].as_str().unwrap();
    let rest = hub
        .get_ok(&bank, &format!("{path}?limit=1&cursor={next}"))
        .await;
    assert_eq!(rest["attempts"][0]["event_id"], got[0].id);
    // Another organisation sees nothing of it.
    err(
        hub.get(&other, &path).send().await,
        410,
        "WEBHOOK_NOT_FOUND",
    )
    .await;
    let metrics = hub.open_text("/metrics").await;
    assert!(
        metrics.contains("bankfeeds_webhook_deliveries_total{outcome=\"succeeded\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("bankfeeds_webhook_queue_depth"));
}

async fn a_failed_delivery_is_retried_honouring_retry_after(db: bankfeeds_store_tests::TestDb) {
    let hub = hub_with(db, settings(&[1, 1, 1], Duration::from_secs(3600))).await;
    let (rx, url) = Receiver::start(&[(500, None), (503, Some("2"))]).await;
    let bank = hub.org("Demo Bank").await;
    let (id, secret) = create_hook(&hub, &bank, &url, &["connection.created"]).await;
    hub.connection(&bank, "XERO").await;
    let got = rx.wait_for(3).await;
    assert!(got.len() >= 3, "retried until it succeeded: {}", got.len());
    assert!(
        got[..3].iter().all(|r| r.id == got[0].id),
        "the same webhook-id each time"
    );
    for r in &got {
        verified(&secret, r);
    }
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(900),
        "the schedule's wait"
    );
    assert!(
        got[2].at - got[1].at >= Duration::from_millis(1900),
        "Retry-After: 2"
    );
    let list = attempts(&hub, &bank, &id, 3).await;
    let codes: Vec<&Value> = list.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(200), &json!(503), &json!(500)]);
}

async fn an_endpoint_that_keeps_failing_is_disabled_with_an_event(
    db: bankfeeds_store_tests::TestDb,
) {
    let hub = hub_with(db, settings(&[1, 1, 1, 1, 1], Duration::from_secs(1))).await;
    let (rx, url) = Receiver::start(&[(500, None); 10]).await;
    let bank = hub.org("Demo Bank").await;
    let (id, _) = create_hook(&hub, &bank, &url, &["connection.created"]).await;
    hub.connection(&bank, "XERO").await;
    let every = Duration::from_millis(100);
    let path = &format!("/versioned/webhooks/{id}");
    let hook = || hub.get_ok(&bank, path);
    wait_until("never disabled", every, hook, |h| {
        h["webhook"]["status"] == "disabled"
    })
    .await;
    assert!(rx.got.lock().unwrap().len() >= 2);
    // On PostgreSQL the feed lists an event once every transaction older than it has ended,
    // anywhere on the server (ARCHITECTURE.md, "Events, the feed and webhooks"): another test's
    // open transaction on a shared server may hold it back for a moment, never lose it.
    let listed = || hub.get_ok(&bank, "/versioned/events?type=webhook.disabled");
    let feed = wait_until("webhook.disabled never listed", every, listed, |f| {
        !f["events"][0].is_null()
    })
    .await;
    let disabled = &feed["events"][0];
    assert_eq!(disabled["data"]["webhook_id"], id.as_str());
}

async fn internal_targets_are_refused_by_their_resolved_address(db: bankfeeds_store_tests::TestDb) {
    let strict = WebhookSettings {
        allow_private: false,
        ..settings(&[], Duration::from_secs(3600))
    };
    let hub = hub_with(db, strict).await;
    let bank = hub.org("Demo Bank").await;
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest",
    ] {
        let resp = hub
            .post(&bank, "/versioned/webhooks", &json!({"url": url}))
            .send()
            .await;
        err(resp, 400, "WEBHOOK_URL_NOT_ALLOWED").await;
    }
    // A name is accepted, and refused once it resolves to loopback: no request leaves.
    let (id, _) = create_hook(
        &hub,
        &bank,
        "https://localhost:9/hook",
        &["connection.created"],
    )
    .await;
    hub.connection(&bank, "XERO").await;
    let path = &format!("/versioned/webhooks/{id}/attempts");
    let tried = || hub.get_ok(&bank, path);
    let every = Duration::from_millis(100);
    let a = wait_until("never tried", every, tried, |a| {
        a["attempts"][0].is_object()
    })
    .await;
    let first = &a["attempts"][0];
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["status_code"], Value::Null);
    let why = first["error"].as_str().unwrap();
    assert!(why.contains("internal addresses"), "{why}");
}

async fn recover_sends_again_with_the_same_ids(db: bankfeeds_store_tests::TestDb) {
    let hub = hub_with(db, settings(&[1], Duration::from_secs(3600))).await;
    let (rx, url) = Receiver::start(&[]).await;
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let (id, secret) = create_hook(&hub, &bank, &url, &["connection.created"]).await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    hub.connection(&bank, "XERO").await;
    let first = rx.wait_for(1).await;
    assert_eq!(first.len(), 1);
    let path = format!("/versioned/webhooks/{id}/recover");
    let body = json!({"since": since.to_rfc3339()});
    let resp = hub.post(&other, &path, &body).send().await;
    err(resp, 410, "WEBHOOK_NOT_FOUND").await;
    let resp = hub
        .post(&bank, &path, &json!({"since": "yesterday"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let keyed = || {
        hub.post(&bank, &path, &body)
            .header("idempotency-key", "recover-once")
    };
    let resp = keyed().send().await.unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap()["queued"], 1);
    let again = rx.wait_for(2).await;
    assert_eq!(again.len(), 2);
    assert_eq!(again[1].id, again[0].id, "a repeat the receiver can drop");
    verified(&secret, &again[1]);
    // A retry under the same key is answered as before and sends nothing more.
    let retried = keyed().send().await.unwrap();
    assert_eq!(retried.status(), 202);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(retried.json::<Value>().await.unwrap()["queued"], 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.wait_for(2).await.len(), 2, "nothing queued again");
}

crate::on_both_backends!(with_db:
    deliveries_are_signed_in_order_and_listed_as_attempts,
    a_failed_delivery_is_retried_honouring_retry_after,
    an_endpoint_that_keeps_failing_is_disabled_with_an_event,
    internal_targets_are_refused_by_their_resolved_address,
    recover_sends_again_with_the_same_ids,
    signing_secrets_are_sealed_at_rest_and_still_sign,
    a_key_ring_configured_later_seals_existing_secrets_at_start_up,
    a_hub_that_cannot_open_a_secret_hands_the_delivery_back,
);

/// With a `secrets_key`, an endpoint's signing secret is stored sealed (the database alone
/// yields no key that signs), and deliveries are still signed with it, before and after a
/// rotation.
async fn signing_secrets_are_sealed_at_rest_and_still_sign(db: bankfeeds_store_tests::TestDb) {
    let keys = Arc::new(
        Keyring::from_config(&Keyring::generate_key())
            .unwrap()
            .unwrap(),
    );
    let s = settings(&[1], Duration::from_secs(3600));
    let store = db.store.clone();
    let hub = Hub::start_with(
        store,
        Some(db),
        move |st| {
            st.webhooks = Arc::new(s);
            st.keyring = Some(keys);
        },
        0,
    )
    .await;
    let (rx, url) = Receiver::start(&[]).await;
    let bank = hub.org("Sealed Bank").await;
    let (id, secret) = create_hook(&hub, &bank, &url, &["connection.created"]).await;
    let stored_secret = |hub: &Hub| {
        let (store, org, id) = (hub.store.clone(), bank.org.id, id.parse().unwrap());
        async move {
            let e = store.get_webhook(org, id).await.unwrap().unwrap();
            e.secret.as_stored().to_owned()
        }
    };
    let at_rest = stored_secret(&hub).await;
    assert!(!at_rest.starts_with("whsec_") && !at_rest.contains(secret.expose()));

    hub.connection(&bank, "XERO").await;
    let got = rx.wait_for(1).await;
    assert!(!got.is_empty(), "delivered");
    verified(&secret, &got[0]);

    let resp = hub
        .post(
            &bank,
            &format!("/versioned/webhooks/{id}/rotate_secret"),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let shown = resp.json::<Value>().await.unwrap()["webhook"]["secret"].clone();
    let rotated = WebhookSecret::from_stored(shown.as_str().unwrap().into()).unwrap();
    assert_ne!(rotated, secret);
    let again = stored_secret(&hub).await;
    assert!(again != at_rest && !again.contains(rotated.expose()));
    hub.connection(&bank, "XERO").await;
    let got = rx.wait_for(2).await;
    assert_eq!(got.len(), 2);
    verified(&rotated, &got[1]);
    assert!(!verify(
        &secret,
        &got[1].id,
        got[1].timestamp,
        &got[1].body,
        &got[1].signature
    ));
}

/// Secrets stored before a `secrets_key` was configured are sealed by what a hub with one runs at start-up,
/// and secrets sealed under a key rotated out of first place are sealed again under the new
/// one, so the old key can be dropped; deliveries sign with the same secret throughout.
async fn a_key_ring_configured_later_seals_existing_secrets_at_start_up(
    db: bankfeeds_store_tests::TestDb,
) {
    let (old_key, new_key) = (Keyring::generate_key(), Keyring::generate_key());
    let ring = |config: &str| Arc::new(Keyring::from_config(config).unwrap().unwrap());
    let store = db.store.clone();
    let start = |keys: Option<Arc<Keyring>>, db: Option<bankfeeds_store_tests::TestDb>| {
        let s = settings(&[1; 10], Duration::from_secs(3600));
        Hub::start_with(
            store.clone(),
            db,
            move |st| {
                st.webhooks = Arc::new(s);
                st.keyring = keys;
            },
            0,
        )
    };
    let plain = start(None, None).await;
    let (rx, url) = Receiver::start(&[]).await;
    let bank = plain.org("Later Bank").await;
    let (id, secret) = create_hook(&plain, &bank, &url, &["connection.created"]).await;
    let id: bankfeeds_domain::webhook::WebhookId = id.parse().unwrap();
    let stored = || {
        let store = store.clone();
        async move { store.get_webhook(bank.org.id, id).await.unwrap().unwrap() }
    };
    assert!(
        stored().await.secret.clear().is_some(),
        "kept as is, no key"
    );
    // A dropped hub finishes stopping in the background (up to its 5 s grace); until then its
    // worker could claim a delivery its key ring cannot sign. Each hub here runs alone.
    let stop = |hub: Hub| async move {
        drop(hub);
        tokio::time::sleep(Duration::from_secs(6)).await;
    };
    stop(plain).await;

    // What a hub with a key ring runs at start-up, before its workers (`serve_with`).
    let reseal = |keys: Arc<Keyring>| {
        let store = store.clone();
        async move {
            bankfeeds_server::webhooks::secret::reseal_all(&store, &keys)
                .await
                .unwrap()
        }
    };
    // Until the hub has started, the secret may still be as it was.
    let changed = |from: bankfeeds_domain::webhook::SecretAtRest| async move {
        let every = Duration::from_millis(25);
        wait_until("start-up did not seal the secret", every, stored, |now| {
            now.secret != from
        })
        .await
    };
    let plain_secret = stored().await.secret;
    let sealing = start(Some(ring(&old_key)), None).await;
    let sealed = changed(plain_secret).await;
    assert_eq!(reseal(ring(&old_key)).await, 0, "start-up sealed it; once");
    assert!(sealed.secret.clear().is_none());
    assert!(!sealed.secret.as_stored().contains(secret.expose()));
    let opened = bankfeeds_server::webhooks::secret::open(Some(&ring(&old_key)), &sealed);
    assert_eq!(opened.as_ref(), Some(&secret), "the same secret, sealed");
    sealing.connection(&bank, "XERO").await;
    let got = rx.wait_for(1).await;
    assert!(!got.is_empty(), "delivered");
    verified(&secret, &got[0]);
    // The receiver has it, but the hub may not have recorded the answer yet: stopped before
    // that, its lease would hold the endpoint's queue (in order) until the lease ends.
    let recorded = || async {
        store
            .list_attempts(bank.org.id, id, None, 10)
            .await
            .unwrap()
    };
    let every = Duration::from_millis(25);
    wait_until("the delivery was not recorded", every, recorded, |a| {
        !a.is_empty()
    })
    .await;
    stop(sealing).await;

    // Rotation: the new key first, the old after it; the secret moves to the new key.
    let both = ring(&format!("{new_key},{old_key}"));
    let rotated = start(Some(both.clone()), Some(db)).await;
    let resealed = changed(sealed.secret.clone()).await;
    assert_eq!(
        reseal(both).await,
        0,
        "start-up sealed it again under the new key"
    );
    let only_new = ring(&new_key);
    let opened = bankfeeds_server::webhooks::secret::open(Some(&only_new), &resealed);
    assert_eq!(opened.as_ref(), Some(&secret), "opens without the old key");
    rotated.connection(&bank, "XERO").await;
    let got = rx.wait_for(2).await;
    assert_eq!(got.len(), 2);
    verified(&secret, &got[1]);
}

/// A hub whose key ring cannot open an endpoint's sealed secret (here: none, as mid-way through
/// a rolling key rotation a hub may still have the old ring) sends nothing and records no failed
/// try: it hands the delivery back, counted as `unsigned` on `/metrics`, and a hub holding the
/// key delivers it later as the endpoint's first try.
async fn a_hub_that_cannot_open_a_secret_hands_the_delivery_back(
    db: bankfeeds_store_tests::TestDb,
) {
    use bankfeeds_domain::webhook::{decide_create, WebhookRequest};
    use bankfeeds_domain::{Clock, ManualClock, SystemClock};
    use bankfeeds_server::webhooks::{secret, worker::Worker};

    let key = Arc::new(
        Keyring::from_config(&Keyring::generate_key())
            .unwrap()
            .unwrap(),
    );
    let s = settings(&[1; 10], Duration::from_secs(3600));
    let store = db.store.clone();
    // The database outlives this hub (a hub holding a `TestDb` drops it with itself).
    let hook_settings = Arc::new(s.clone());
    let keyless = Hub::start_with(
        store.clone(),
        None,
        move |st| st.webhooks = hook_settings,
        0,
    )
    .await;
    let (rx, url) = Receiver::start(&[]).await;
    let bank = keyless.org("Rotating Bank").await;
    // The endpoint as a hub holding `key` created it: its secret sealed under that key.
    let req = WebhookRequest {
        url,
        event_types: vec!["connection.created".into()],
        description: None,
    };
    let mut endpoint = decide_create(bank.org.id, &req, true, SystemClock.now()).unwrap();
    let clear = endpoint.secret.clear().unwrap();
    endpoint.secret = secret::at_rest(Some(&key), bank.org.id, endpoint.id, &clear);
    store.create_webhook(&endpoint, None, None).await.unwrap();
    keyless.connection(&bank, "XERO").await;

    let metrics = || keyless.open_text("/metrics");
    let every = Duration::from_millis(50);
    wait_until("never handed back", every, metrics, |m| {
        m.contains(r#"bankfeeds_webhook_deliveries_total{outcome="unsigned"}"#)
    })
    .await;
    drop(keyless);
    let attempts = store
        .list_attempts(bank.org.id, endpoint.id, None, 10)
        .await
        .unwrap();
    assert!(attempts.is_empty(), "no try recorded: {attempts:?}");
    assert!(rx.got.lock().unwrap().is_empty(), "nothing sent unsigned");
    assert_eq!(
        store.delivery_queue_depth().await.unwrap(),
        1,
        "still queued"
    );

    // A hub holding the key, once the hand-back time has passed (the keyless hub's worker
    // may still hand it back again while it stops; each time it is due 30 s later).
    let clock = Arc::new(ManualClock::new(
        SystemClock.now() + chrono::Duration::seconds(40),
    ));
    let holder = Worker::new(
        store.clone(),
        clock.clone() as Arc<dyn Clock>,
        Arc::new(bankfeeds_server::metrics::Metrics::new()),
        s,
        "with-key".into(),
        Some(key),
    )
    .unwrap();
    assert_eq!(holder.drain().await.unwrap(), 1);
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1);
    verified(&clear, &got[0]);
    let attempts = store
        .list_attempts(bank.org.id, endpoint.id, None, 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert!(attempts[0].succeeded);
    drop(db);
}
