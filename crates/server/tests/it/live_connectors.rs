//! `/versioned/bank_feeds/configs/{platform}/connector` (issue 16): sandbox or live per
//! platform, app credentials stored sealed and never returned, stable refusals; both backends.

use std::sync::Arc;

use bankfeeds_domain::live::ConnectorMode;
use bankfeeds_domain::Platform;
use bankfeeds_server::rutter::connectors::{credential_context, CLIENT_SECRET};
use bankfeeds_server::sealed::Keyring;
use bankfeeds_store_tests::TestDb;
use serde_json::json;

use crate::helpers::{err, ok, Hub};

const XERO: &str = "/versioned/bank_feeds/configs/XERO/connector";

async fn hub(db: TestDb, keyring: Option<Arc<Keyring>>) -> Hub {
    let store = db.store.clone();
    Hub::start_with(store, Some(db), move |s| s.keyring = keyring, 0).await
}

fn keyring() -> Arc<Keyring> {
    Arc::new(
        Keyring::from_config(&Keyring::generate_key())
            .unwrap()
            .unwrap(),
    )
}

async fn going_live_stores_credentials_sealed_and_never_shows_them(db: TestDb) {
    let keys = keyring();
    let hub = hub(db, Some(keys.clone())).await;
    let bank = hub.org("Live Bank").await;
    let other = hub.org("Other Bank").await;

    // Never chosen: the sandbox.
    let got = ok(hub.get(&bank, XERO).send().await).await;
    assert_eq!(
        got["connector"],
        json!({"platform": "XERO", "mode": "sandbox", "credentials_set": false,
               "live_available": true, "updated_at": got["connector"]["updated_at"]})
    );

    let put = ok(hub
        .put(
            &bank,
            XERO,
            &json!({"mode": "live", "client_id": "APP-ID-1", "client_secret": "app-secret-1"}),
        )
        .send()
        .await)
    .await;
    assert_eq!(put["connector"]["mode"], "live");
    assert_eq!(put["connector"]["credentials_set"], true);
    let text = put.to_string();
    assert!(
        !text.contains("app-secret-1") && !text.contains("APP-ID-1"),
        "{text}"
    );
    let text = ok(hub.get(&bank, XERO).send().await).await.to_string();
    assert!(!text.contains("app-secret-1"), "{text}");

    // At rest: sealed, bound to this organisation and platform.
    let stored = hub
        .store
        .get_connector(bank.org.id, Platform::Xero)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.mode, ConnectorMode::Live);
    let sealed = stored.client_secret_sealed.unwrap();
    assert!(!sealed.contains("app-secret-1"));
    let here = credential_context(CLIENT_SECRET, bank.org.id, Platform::Xero);
    assert_eq!(keys.open_text(&here, &sealed).unwrap(), b"app-secret-1");
    let elsewhere = credential_context(CLIENT_SECRET, other.org.id, Platform::Xero);
    assert!(keys.open_text(&elsewhere, &sealed).is_err());

    // The other organisation still has the sandbox.
    let theirs = ok(hub.get(&other, XERO).send().await).await;
    assert_eq!(theirs["connector"]["mode"], "sandbox");

    // Back to the sandbox keeps the credentials; live again needs none resent.
    let back = ok(hub
        .put(&bank, XERO, &json!({"mode": "sandbox"}))
        .send()
        .await)
    .await;
    assert_eq!(back["connector"]["mode"], "sandbox");
    assert_eq!(back["connector"]["credentials_set"], true);
    let again = ok(hub.put(&bank, XERO, &json!({"mode": "live"})).send().await).await;
    assert_eq!(again["connector"]["mode"], "live");
}

async fn bad_connector_settings_are_refused_with_stable_codes(db: TestDb) {
    let hub = hub(db, Some(keyring())).await;
    let bank = hub.org("Bank").await;
    let put = |path: &str, body| hub.put(&bank, path, &body).send();
    err(
        put(XERO, json!({"mode": "live"})).await,
        400,
        "LIVE_CREDENTIALS_MISSING",
    )
    .await;
    err(
        put(XERO, json!({"client_id": "only-the-id"})).await,
        400,
        "LIVE_CREDENTIALS_INCOMPLETE",
    )
    .await;
    err(
        put(
            "/versioned/bank_feeds/configs/NETSUITE/connector",
            json!({"mode": "live", "client_id": "a", "client_secret": "b"}),
        )
        .await,
        400,
        "NO_LIVE_CONNECTOR",
    )
    .await;
    err(
        put(
            "/versioned/bank_feeds/configs/NOPE/connector",
            json!({"mode": "sandbox"}),
        )
        .await,
        400,
        "INVALID_ENUM_VALUE",
    )
    .await;
    let long = "x".repeat(501);
    err(
        put(XERO, json!({"client_id": "a", "client_secret": long})).await,
        400,
        "INVALID_FIELD",
    )
    .await;
    // Nothing was half-applied.
    let got = ok(hub.get(&bank, XERO).send().await).await;
    assert_eq!(got["connector"]["mode"], "sandbox");
    assert_eq!(got["connector"]["credentials_set"], false);
}

async fn without_a_secrets_key_nothing_goes_live(db: TestDb) {
    let hub = hub(db, None).await;
    let bank = hub.org("Bank").await;
    err(
        hub.put(
            &bank,
            XERO,
            &json!({"mode": "live", "client_id": "a", "client_secret": "b"}),
        )
        .send()
        .await,
        400,
        "SECRETS_KEY_NOT_CONFIGURED",
    )
    .await;
    let sandbox = ok(hub
        .put(&bank, XERO, &json!({"mode": "sandbox"}))
        .send()
        .await)
    .await;
    assert_eq!(sandbox["connector"]["mode"], "sandbox");
    // A body that is not an object is refused, though every field is optional (serde alone
    // would read `[null, null]` as a struct by position; schemathesis found it).
    for body in [json!([null, null]), json!([]), json!("live"), json!(1)] {
        err(
            hub.put(&bank, XERO, &body).send().await,
            400,
            "INVALID_FIELD_TYPE",
        )
        .await;
    }
}

crate::on_both_backends!(
    with_db: going_live_stores_credentials_sealed_and_never_shows_them,
    bad_connector_settings_are_refused_with_stable_codes,
    without_a_secrets_key_nothing_goes_live,
);
