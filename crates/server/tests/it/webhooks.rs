//! `/versioned/webhooks` and `/versioned/events` through the real router (issue 15): endpoint
//! CRUD with its refusals, and the events feed paged by its cursor, on both backends.

use serde_json::{json, Value};

use crate::helpers::{err, ok, refusals, refuses, with_token, Creds, Hub, ACCOUNTS};

const HOOKS: &str = "/versioned/webhooks";
const EVENTS: &str = "/versioned/events";

/// Creates a webhook endpoint from `body`; asserts a 201 and returns it.
pub(crate) async fn create(hub: &Hub, creds: &Creds, body: Value) -> Value {
    let resp = hub.post(creds, HOOKS, &body).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["webhook"].clone()
}

/// The organisation's feed from the start, once it holds at least `n` events (on PostgreSQL
/// another transaction on the server may hold the newest back for a moment).
async fn feed(hub: &Hub, creds: &Creds, query: &str, n: usize) -> Vec<Value> {
    let path = format!("{EVENTS}?limit=500{query}");
    hub.list_with_at_least(creds, &path, "events", n).await
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn endpoints_are_created_listed_changed_rotated_and_deleted(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let hook = create(
        &hub,
        &bank,
        json!({"url": "https://hooks.example.com/bankfeeds", "event_types": ["job.failed"],
               "description": " ops pager "}),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(hook["status"], "enabled");
    assert_eq!(hook["event_types"], json!(["job.failed"]));
    assert_eq!(hook["description"], "ops pager");
    let path = format!("{HOOKS}/{id}");

    // Read back: never with the secret.
    let got = hub.get_ok(&bank, &path).await["webhook"].clone();
    assert!(got.get("secret").is_none(), "{got}");
    assert_eq!(got["url"], "https://hooks.example.com/bankfeeds");
    let list = hub.get_ok(&bank, HOOKS).await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
    assert!(list["webhooks"][0].get("secret").is_none());

    // Another organisation neither sees nor touches it.
    assert!(hub.get_ok(&other, HOOKS).await["webhooks"]
        .as_array()
        .unwrap()
        .is_empty());
    err(
        hub.get(&other, &path).send().await,
        410,
        "WEBHOOK_NOT_FOUND",
    )
    .await;
    err(
        hub.delete(&other, &path).send().await,
        410,
        "WEBHOOK_NOT_FOUND",
    )
    .await;

    let patched = ok(hub
        .patch(
            &bank,
            &path,
            &json!({"enabled": false, "event_types": null, "description": null}),
        )
        .send()
        .await)
    .await["webhook"]
        .clone();
    assert_eq!(patched["status"], "disabled");
    assert_eq!(patched["event_types"], json!([]));
    assert_eq!(patched["description"], Value::Null);

    let rotated = hub
        .post_ok(&bank, &format!("{path}/rotate_secret"), &json!({}))
        .await["webhook"]
        .clone();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    ok(hub.delete(&bank, &path).send().await).await;
    err(hub.get(&bank, &path).send().await, 410, "WEBHOOK_NOT_FOUND").await;
    err(
        hub.delete(&bank, &path).send().await,
        410,
        "WEBHOOK_NOT_FOUND",
    )
    .await;
}

async fn bad_endpoints_are_refused_with_stable_codes(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let refused = [
        (
            json!({"url": "http://hooks.example.com/"}),
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        (
            json!({"url": "https://127.0.0.1/"}),
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        (
            json!({"url": "https://169.254.169.254/"}),
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        (
            json!({"url": "https://[::1]:8443/"}),
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        (json!({"url": "not a url"}), "INVALID_WEBHOOK_URL"),
        (
            json!({"url": "https://a.example/", "event_types": ["job.exploded"]}),
            "UNKNOWN_EVENT_TYPE",
        ),
        (
            json!({"url": "https://a.example/", "event_types": "job.failed"}),
            "INVALID_FIELD_TYPE",
        ),
        (
            json!({"url": "https://a.example/", "secret": "whsec_mine"}),
            "UNKNOWN_FIELD",
        ),
        (json!({}), "MISSING_FIELD"),
    ];
    let cases = refused.map(|(body, code)| (hub.post(&bank, HOOKS, &body), 400, code));
    refusals(&hub.http, cases).await;
    let not_an_id = hub.get(&bank, &format!("{HOOKS}/not-an-id"));
    refuses(not_an_id, 400, "INVALID_ID").await;
    assert!(hub.get_ok(&bank, HOOKS).await["webhooks"]
        .as_array()
        .unwrap()
        .is_empty());
    // A refused PATCH changes nothing.
    let hook = create(&hub, &bank, json!({"url": "https://a.example/"})).await;
    let path = format!("{HOOKS}/{}", hook["id"].as_str().unwrap());
    err(
        hub.patch(&bank, &path, &json!({"url": "https://10.0.0.1/"}))
            .send()
            .await,
        400,
        "WEBHOOK_URL_NOT_ALLOWED",
    )
    .await;
    assert_eq!(
        hub.get_ok(&bank, &path).await["webhook"]["url"],
        "https://a.example/"
    );
    // The twenty-first endpoint is one too many.
    for i in 1..20 {
        create(
            &hub,
            &bank,
            json!({"url": format!("https://a.example/{i}")}),
        )
        .await;
    }
    let one_more = json!({"url": "https://a.example/21"});
    refuses(
        hub.post(&bank, HOOKS, &one_more),
        409,
        "WEBHOOK_LIMIT_REACHED",
    )
    .await;
}

async fn a_creation_retried_with_its_key_is_replayed_without_the_secret(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let body = json!({"url": "https://a.example/"});
    let send = || {
        hub.post(&bank, HOOKS, &body)
            .header("idempotency-key", "hook-1")
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["webhook"]["id"], first["webhook"]["id"]);
    assert!(first["webhook"]["secret"].is_string());
    assert!(again["webhook"].get("secret").is_none());
    assert_eq!(
        hub.get_ok(&bank, HOOKS).await["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn the_events_feed_pages_the_organisations_events_in_order(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let (connection, token) = hub.connection(&bank, "XERO").await;
    hub.connection(&other, "XERO").await;
    let fields = json!({"internal_bank_account_id": "ACC-1", "bank_account_type": "bank",
                        "currency_code": "USD", "name": "Operating"});
    let account = hub.create_account(&bank, &token, fields).await;
    let account_path = with_token(
        &format!("{ACCOUNTS}/{}", account["id"].as_str().unwrap()),
        &token,
    );
    ok(hub.delete(&bank, &account_path).send().await).await;

    let all = feed(&hub, &bank, "", 3).await;
    assert_eq!(
        types(&all),
        [
            "connection.created",
            "bank_feed_account.created",
            "bank_feed_account.deleted"
        ]
    );
    let created = &all[0];
    assert_eq!(created["connection_id"], connection.as_str());
    assert_eq!(created["resource_id"], connection.as_str());
    assert_eq!(created["data"]["platform"], "XERO");
    assert!(created["id"].as_str().unwrap().starts_with("evt_"));
    assert!(created["timestamp"].is_string());
    assert_eq!(all[1]["data"]["internal_bank_account_id"], "ACC-1");

    // One at a time, each page's cursor leads to the next event; the last page says no more.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let page = hub
            .get_ok(&bank, &format!("{EVENTS}?limit=1&after={after}"))
            .await;
        after = page["next_cursor"].as_str().unwrap().to_owned();
        let events = page["events"].as_array().unwrap();
        paged.extend(events.iter().cloned());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(paged, all);
    // From the last cursor: nothing yet, and the same cursor back.
    let tail = hub.get_ok(&bank, &format!("{EVENTS}?after={after}")).await;
    assert_eq!(tail["events"], json!([]));
    assert_eq!(tail["next_cursor"], after.as_str());

    // A type filter, with several types.
    let some = feed(
        &hub,
        &bank,
        "&type=bank_feed_account.deleted,connection.created",
        2,
    )
    .await;
    assert_eq!(
        types(&some),
        ["connection.created", "bank_feed_account.deleted"]
    );

    // The other organisation sees only its own.
    assert_eq!(
        types(&feed(&hub, &other, "", 1).await),
        ["connection.created"]
    );

    let refused = [
        ("after=12", "INVALID_CURSOR"),
        ("after=-1.2", "INVALID_CURSOR"),
        ("type=job.exploded", "UNKNOWN_EVENT_TYPE"),
        ("limit=0", "INVALID_LIMIT"),
        ("limit=501", "INVALID_LIMIT"),
        ("since=1", "UNKNOWN_QUERY_PARAMETER"),
    ];
    let cases =
        refused.map(|(query, code)| (hub.get(&bank, &format!("{EVENTS}?{query}")), 400, code));
    refusals(&hub.http, cases).await;
}

crate::on_both_backends!(
    endpoints_are_created_listed_changed_rotated_and_deleted,
    bad_endpoints_are_refused_with_stable_codes,
    a_creation_retried_with_its_key_is_replayed_without_the_secret,
    the_events_feed_pages_the_organisations_events_in_order,
);
