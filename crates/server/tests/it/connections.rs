//! Connections: the create → fetch → list → delete story, and isolation between organisations.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{items, ok, refusals, refuses, with_token, Creds, Hub};

crate::on_both_backends!(
    creating_a_connection_is_idempotent_without_repeating_the_token,
    connection_lifecycle,
    organisations_never_see_or_touch_each_others_connections,
    pages_walk_every_connection_once,
);

/// Asserts that `creds` presenting `token` is refused with `code` by every endpoint that takes
/// a token, and that deleting connection `id` as `creds` finds no connection.
async fn token_and_connection_refused(hub: &Hub, creds: &Creds, token: &str, code: &str, id: &str) {
    let by_token = |path: &str| with_token(&format!("/versioned/connections/{path}"), token);
    refusals(
        &hub.http,
        [
            (hub.get(creds, &by_token("access_token")), 401, code),
            (hub.get(creds, &by_token("status")), 401, code),
            (
                hub.delete(creds, &format!("/versioned/connections/{id}")),
                410,
                "CONNECTION_NOT_FOUND",
            ),
        ],
    )
    .await;
}

async fn connection_lifecycle(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let created = ok(hub
        .post(
            &bank,
            "/versioned/connections/create",
            &json!({"platform": "INTUIT_BANK_FEEDS", "name": "Acme Ltd"}),
        )
        .header("X-Rutter-Version", "2024-08-31")
        .send()
        .await)
    .await;
    let c = &created["connection"];
    let id = c["id"].as_str().unwrap();
    let token = c["access_token"].as_str().unwrap();
    assert_eq!(c["platform"], "INTUIT_BANK_FEEDS");
    assert_eq!(c["name"], "Acme Ltd");
    assert!(token.starts_with("bfat_"));
    assert_eq!(c["link_url"], format!("{}/link/connections/{id}", hub.base));

    let fetched = hub.connection_by_token(&bank, token).await;
    assert_eq!(fetched["connection"]["id"], id);
    assert_eq!(fetched["connection"]["platform"], "INTUIT_BANK_FEEDS");
    assert_eq!(fetched["connection"]["disabled"], false);
    assert!(
        fetched["connection"].get("access_token").is_none(),
        "tokens are shown once"
    );

    let status = hub
        .get_ok(&bank, &with_token("/versioned/connections/status", token))
        .await;
    assert_eq!(status["connection"]["id"], id);
    assert_eq!(status["connection"]["orgId"], bank.org.id.to_string());
    assert_eq!(status["status"]["is_ready"], true);
    assert_eq!(status["status"]["disabled_status"]["is_disabled"], false);

    let listed = hub.get_ok(&bank, "/versioned/connections").await;
    assert_eq!(listed["connections"].as_array().unwrap().len(), 1);
    assert_eq!(listed["connections"][0]["id"], id);
    assert!(listed["next_cursor"].is_null());

    let deleted = ok(hub
        .delete(&bank, &format!("/versioned/connections/{id}"))
        .send()
        .await)
    .await;
    assert_eq!(deleted, json!({"success": true}));

    // The token stops working at once, on every endpoint that takes it; the connection is gone.
    token_and_connection_refused(&hub, &bank, token, "CONNECTION_DELETED", id).await;
    let listed = hub.get_ok(&bank, "/versioned/connections").await;
    assert!(listed["connections"].as_array().unwrap().is_empty());

    // A connection without a name is fine; a blank one is stored as none.
    let unnamed = hub
        .create_connection(&bank, json!({"platform": "XERO", "name": "  "}))
        .await;
    assert!(unnamed["connection"]["name"].is_null());
}

async fn organisations_never_see_or_touch_each_others_connections(hub: Hub) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (a_id, a_token) = hub.connection(&a, "XERO").await;
    let (b_id, _) = hub.connection(&b, "NETSUITE").await;

    // B presenting A's token is refused exactly as an unknown token is.
    token_and_connection_refused(&hub, &b, &a_token, "INVALID_ACCESS_TOKEN", &a_id).await;
    let b_list = hub.get_ok(&b, "/versioned/connections").await;
    let ids: Vec<_> = items(&b_list["connections"])
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(b_id)]);

    // A's connection is untouched.
    let fetched = hub.connection_by_token(&a, &a_token).await;
    assert_eq!(fetched["connection"]["id"], a_id);
}

async fn pages_walk_every_connection_once(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    let mut created = Vec::new();
    for platform in [
        "INTUIT_BANK_FEEDS",
        "XERO",
        "SAGE_INTACCT",
        "SAGE_BUSINESS_CLOUD",
        "NETSUITE",
    ] {
        created.push(hub.connection(&bank, platform).await.0);
        hub.connection(&other, platform).await;
    }
    let mut seen = Vec::new();
    let mut path = "/versioned/connections?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = hub.get_ok(&bank, &path).await;
        pages += 1;
        let rows = page["connections"].as_array().unwrap();
        assert!(rows.len() <= 2);
        seen.extend(rows.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/versioned/connections?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "oldest first, each once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5);
}

async fn creating_a_connection_is_idempotent_without_repeating_the_token(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let body = json!({"platform": "XERO", "name": "Acme Ltd"});
    let create = || {
        hub.post(&bank, "/versioned/connections/create", &body)
            .header("Idempotency-Key", "customer-42")
            .send()
    };
    let first = ok(create().await).await;
    assert!(first["connection"]["access_token"]
        .as_str()
        .unwrap()
        .starts_with("bfat_"));
    let again = create().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(
        again["connection"]["id"], first["connection"]["id"],
        "one connection, not two"
    );
    assert!(
        again["connection"]["access_token"].is_null(),
        "tokens are stored hashed, never replayed"
    );
    let listed = hub.get_ok(&bank, "/versioned/connections").await;
    assert_eq!(listed["connections"].as_array().unwrap().len(), 1);
    refuses(
        hub.post(
            &bank,
            "/versioned/connections/create",
            &json!({"platform": "NETSUITE"}),
        )
        .header("Idempotency-Key", "customer-42"),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
}
