//! Bank feed accounts through the real router: create, list, fetch, patch, delete, every error.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{err, err_in, items, ok, refuses, with_token, Creds, Hub, ACCOUNTS};

crate::on_both_backends!(
    account_lifecycle,
    account_validation_refuses_each_bad_input,
    account_lists_filter_sort_and_page,
    idempotency_keys_replay_the_first_answer,
    accounts_of_other_connections_and_organisations_are_invisible,
);

fn accounts(token: &str) -> String {
    with_token(ACCOUNTS, token)
}

fn account_url(id: &str, token: &str) -> String {
    with_token(&format!("{ACCOUNTS}/{id}"), token)
}

fn seed_account(internal_id: &str) -> Value {
    json!({"bank_feed_account": {
        "internal_bank_account_id": internal_id,
        "bank_account_type": "bank",
        "currency_code": "USD",
        "name": "Regan's Bank Account",
        "available_balance": 1546.23,
        "current_balance": 1833.21,
        "bank_account_number": "182237382",
        "line_of_business": "small business",
        "routing_number": "123456789",
        "transaction_start_date": "2023-02-02T00:00:00.000Z"
    }})
}

async fn create(hub: &Hub, creds: &Creds, token: &str, internal_id: &str) -> Value {
    let body = hub
        .post_ok(creds, &accounts(token), &seed_account(internal_id))
        .await;
    body["bank_feed_account"].clone()
}

async fn account_lifecycle(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    let a = create(&hub, &bank, &token, "0674101002388").await;
    let id = a["id"].as_str().unwrap();
    assert_eq!(a["internal_bank_account_id"], "0674101002388");
    assert_eq!(
        a["current_balance"],
        json!(1833.21),
        "amounts come back exactly"
    );
    assert_eq!(a["available_balance"].to_string(), "1546.23");
    assert_eq!(
        a["feed_status"], "inactive",
        "the FI cannot activate a feed; the platform does"
    );
    let mut activating = seed_account("another");
    activating["bank_feed_account"]["feed_status"] = json!("active");
    refuses(
        hub.post(&bank, &accounts(&token), &activating),
        400,
        "READ_ONLY_FIELD",
    )
    .await;
    assert_eq!(
        a["transaction_ready"], true,
        "Intuit accepts transactions from creation"
    );
    assert_eq!(a["transaction_start_date"], "2023-02-02T00:00:00Z");
    assert!(a["last_synced_at"].is_null());
    assert!(
        a.get("platform_data").is_none(),
        "only with expand=platform_data"
    );

    let got = hub.get_ok(&bank, &account_url(id, &token)).await;
    assert_eq!(got["bank_feed_account"], a);
    assert_eq!(got["connection"]["platform"], "INTUIT_BANK_FEEDS");
    let expanded = hub
        .get_ok(
            &bank,
            &format!("{}&expand=platform_data", account_url(id, &token)),
        )
        .await;
    assert!(expanded["bank_feed_account"]["platform_data"].is_null());

    let changes = json!({"bank_feed_account": {"name": "Renamed", "credit_limit": 5000, "routing_number": null, "current_balance": "10.5"}});
    let patched = ok(hub
        .patch(&bank, &account_url(id, &token), &changes)
        .send()
        .await)
    .await;
    let p = &patched["bank_feed_account"];
    assert_eq!(p["name"], "Renamed");
    assert_eq!(p["credit_limit"].to_string(), "5000.00");
    assert!(p["routing_number"].is_null());
    assert_eq!(p["current_balance"].to_string(), "10.50");
    assert_eq!(
        p["bank_account_number"], "182237382",
        "fields not sent stay"
    );

    // Override updates the same account instead of refusing.
    let mut again = seed_account("0674101002388");
    again["bank_feed_account"]["additional_fields"] = json!({"override_existing": true});
    again["bank_feed_account"]["name"] = json!("Overridden");
    let over = hub.post_ok(&bank, &accounts(&token), &again).await;
    assert_eq!(over["bank_feed_account"]["id"], id);
    assert_eq!(over["bank_feed_account"]["name"], "Overridden");

    let deleted = ok(hub.delete(&bank, &account_url(id, &token)).send().await).await;
    assert_eq!(deleted, json!({"code": "deleted", "success": true}));
    refuses(
        hub.get(&bank, &account_url(id, &token)),
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;
    refuses(
        hub.delete(&bank, &account_url(id, &token)),
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;

    let xero_token = hub.connection(&bank, "XERO").await.1;
    let x = create(&hub, &bank, &xero_token, "X-1").await;
    assert_eq!(
        x["transaction_ready"], false,
        "Xero feeds wait for the customer to link"
    );

    let events = hub.store.list_events(bank.org.id, 0, 100).await.unwrap();
    let types: Vec<_> = events
        .iter()
        .map(|e| e.kind.as_str())
        .filter(|t| *t != "connection.created")
        .collect();
    assert_eq!(
        types,
        [
            "bank_feed_account.created",
            "bank_feed_account.updated",
            "bank_feed_account.updated",
            "bank_feed_account.deleted",
            "bank_feed_account.created"
        ]
    );
}

async fn account_validation_refuses_each_bad_input(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "SAGE_INTACCT").await;
    let url = accounts(&token);
    let with = |field: &str, value: Value| {
        let mut body = seed_account("ACC-1");
        body["bank_feed_account"][field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = seed_account("ACC-1");
        body["bank_feed_account"]
            .as_object_mut()
            .unwrap()
            .remove(field);
        body
    };
    // JPY has no minor units.
    let mut jpy = with("currency_code", json!("JPY"));
    jpy["bank_feed_account"]["current_balance"] = json!(100.5);
    jpy["bank_feed_account"]["available_balance"] = json!(100);
    let refused = [
        (
            "unknown currency",
            with("currency_code", json!("XYZ")),
            "INVALID_ENUM_VALUE",
        ),
        (
            "lower-case currency",
            with("currency_code", json!("usd")),
            "INVALID_ENUM_VALUE",
        ),
        (
            "unknown account type",
            with("bank_account_type", json!("savings")),
            "INVALID_ENUM_VALUE",
        ),
        ("no currency", without("currency_code"), "MISSING_FIELD"),
        (
            "no internal id",
            without("internal_bank_account_id"),
            "MISSING_FIELD",
        ),
        (
            "blank internal id",
            with("internal_bank_account_id", json!("  ")),
            "INVALID_FIELD_VALUE",
        ),
        (
            "a tenth of a cent",
            with("current_balance", json!(1.234)),
            "TOO_MANY_DECIMALS",
        ),
        (
            "a balance that is no number",
            with("current_balance", json!("abc")),
            "INVALID_FIELD_VALUE",
        ),
        (
            "a boolean balance",
            with("current_balance", json!(true)),
            "INVALID_FIELD_TYPE",
        ),
        (
            "a US date",
            with("transaction_start_date", json!("02/02/2023")),
            "INVALID_FIELD_VALUE",
        ),
        (
            "a long name",
            with("name", json!("x".repeat(1001))),
            "FIELD_TOO_LONG",
        ),
        (
            "an unknown parent",
            with(
                "parent_bank_feed_account_id",
                json!("01a1fc9a-af8c-76a4-87f1-65c8c73af427"),
            ),
            "PARENT_ACCOUNT_NOT_FOUND",
        ),
        ("cents in JPY", jpy, "TOO_MANY_DECIMALS"),
    ];
    for (case, body, code) in refused {
        err_in(case, hub.post(&bank, &url, &body).send().await, 400, code).await;
    }
    // Nothing above was stored.
    let listed = hub.get_ok(&bank, &url).await;
    assert!(listed["bank_feed_accounts"].as_array().unwrap().is_empty());

    let a = create(&hub, &bank, &token, "ACC-1").await;
    refuses(
        hub.post(&bank, &url, &seed_account("ACC-1")),
        409,
        "BANK_FEED_ACCOUNT_EXISTS",
    )
    .await;
    let id = a["id"].as_str().unwrap();
    let refused = [
        (json!({"feed_status": "active"}), "READ_ONLY_FIELD"),
        (json!({"colour": "blue"}), "UNKNOWN_FIELD"),
        (json!({"credit_limit": "lots"}), "INVALID_FIELD_VALUE"),
        (json!({"current_balance": 1.001}), "TOO_MANY_DECIMALS"),
        (json!({"currency_code": "JPY"}), "TOO_MANY_DECIMALS"),
        (json!({"currency_code": "ABC"}), "INVALID_ENUM_VALUE"),
        (
            json!({"parent_bank_feed_account_id": id}),
            "PARENT_ACCOUNT_NOT_FOUND",
        ),
        (
            json!({"internal_bank_account_id": ""}),
            "INVALID_FIELD_VALUE",
        ),
    ];
    for (fields, code) in refused {
        let body = json!({ "bank_feed_account": fields });
        let resp = hub
            .patch(&bank, &account_url(id, &token), &body)
            .send()
            .await;
        err_in(&format!("PATCH {fields}"), resp, 400, code).await;
    }
    let unchanged = hub.get_ok(&bank, &account_url(id, &token)).await;
    assert_eq!(
        unchanged["bank_feed_account"], a,
        "no refused PATCH changed anything"
    );
    refuses(
        hub.get(&bank, &account_url("nope", &token)),
        400,
        "INVALID_ID",
    )
    .await;
    refuses(
        hub.get(
            &bank,
            &format!("{}&expand=everything", account_url(id, &token)),
        ),
        400,
        "INVALID_QUERY_PARAMETER",
    )
    .await;
}

async fn account_lists_filter_sort_and_page(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "XERO").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(&hub, &bank, &token, &format!("ACC-{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let walk = |query: &'static str| {
        let hub = &hub;
        let bank = &bank;
        let token = token.clone();
        async move {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut url = format!("{}&limit=2{query}", accounts(&token));
                if let Some(c) = &cursor {
                    url.push_str(&format!("&cursor={c}"));
                }
                let page = hub.get_ok(bank, &url).await;
                seen.extend(
                    items(&page["bank_feed_accounts"])
                        .iter()
                        .map(|a| a["id"].as_str().unwrap().to_owned()),
                );
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => return seen,
                }
            }
        }
    };
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(
        walk("").await,
        newest_first,
        "default sort is updated_at DESC"
    );
    assert_eq!(walk("&sort=updated_at%20ASC").await, ids);
    assert_eq!(
        walk("&sort=updated_at").await,
        ids,
        "direction defaults to ASC"
    );
    assert_eq!(
        walk("&sort=last_synced_at")
            .await
            .iter()
            .collect::<HashSet<_>>()
            .len(),
        5
    );
    assert_eq!(walk("&filter=updated_at%20%3E%202000-01-01").await.len(), 5);
    assert!(walk("&filter=updated_at%20%3C%202000-01-01")
        .await
        .is_empty());
    assert!(
        walk("&filter=last_synced_at%20%3E%3D%202000-01-01")
            .await
            .is_empty(),
        "never synced"
    );

    let base = accounts(&token);
    let refused = [
        ("&filter=name%20%3D%20x", "INVALID_FILTER"),
        ("&filter=updated_at%20%3E%20soon", "INVALID_FILTER"),
        ("&sort=name", "INVALID_SORT"),
        ("&limit=501", "INVALID_LIMIT"),
        ("&cursor=garbage", "INVALID_CURSOR"),
    ];
    for (query, code) in refused {
        let resp = hub.get(&bank, &format!("{base}{query}")).send().await;
        err_in(query, resp, 400, code).await;
    }
    // A cursor from one sort is refused under another.
    let page = hub.get_ok(&bank, &format!("{base}&limit=2")).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    refuses(
        hub.get(
            &bank,
            &format!("{base}&limit=2&sort=updated_at%20ASC&cursor={cursor}"),
        ),
        400,
        "INVALID_CURSOR",
    )
    .await;
}

async fn idempotency_keys_replay_the_first_answer(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "NETSUITE").await;
    let url = accounts(&token);
    let first = hub
        .post(&bank, &url, &seed_account("ACC-1"))
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    // Same key, same request (whitespace and key order aside): the first answer again, not a 409.
    let raw = serde_json::to_string_pretty(&seed_account("ACC-1")).unwrap();
    let again = hub
        .http
        .post(hub.url(&url))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .header("content-type", "application/json")
        .header("Idempotency-Key", "key-1")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let keyed = |internal_id: &str, key: &str| {
        hub.post(&bank, &url, &seed_account(internal_id))
            .header("Idempotency-Key", key)
            .send()
    };
    // Same key, different request.
    let reused = keyed("ACC-2", "key-1").await;
    err(reused, 409, "IDEMPOTENCY_KEY_REUSED").await;
    err(keyed("ACC-2", "").await, 400, "INVALID_IDEMPOTENCY_KEY").await;
    // A refused request does not burn its key.
    let refused = keyed("ACC-1", "key-2").await;
    err(refused, 409, "BANK_FEED_ACCOUNT_EXISTS").await;
    ok(keyed("ACC-3", "key-2").await).await;
    // Keys belong to one organisation.
    let other = hub.org("Other Bank").await;
    let (_, other_token) = hub.connection(&other, "NETSUITE").await;
    let theirs = ok(hub
        .post(&other, &accounts(&other_token), &seed_account("ACC-1"))
        .header("Idempotency-Key", "key-1")
        .send()
        .await)
    .await;
    assert_ne!(
        theirs["bank_feed_account"]["id"],
        first["bank_feed_account"]["id"]
    );
    let listed = hub.get_ok(&bank, &url).await;
    assert_eq!(
        listed["bank_feed_accounts"].as_array().unwrap().len(),
        2,
        "ACC-1 once, ACC-3"
    );
}

async fn accounts_of_other_connections_and_organisations_are_invisible(hub: Hub) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (_, a_token) = hub.connection(&a, "XERO").await;
    let (_, a_token2) = hub.connection(&a, "XERO").await;
    let (_, b_token) = hub.connection(&b, "XERO").await;
    let acc = create(&hub, &a, &a_token, "ACC-1").await;
    let id = acc["id"].as_str().unwrap();
    let refused = [
        (
            "another connection of A",
            hub.get(&a, &account_url(id, &a_token2)),
            410,
            "BANK_FEED_ACCOUNT_NOT_FOUND",
        ),
        (
            "B with its own token",
            hub.get(&b, &account_url(id, &b_token)),
            410,
            "BANK_FEED_ACCOUNT_NOT_FOUND",
        ),
        (
            "B with A's token",
            hub.get(&b, &account_url(id, &a_token)),
            401,
            "INVALID_ACCESS_TOKEN",
        ),
        (
            "B deleting",
            hub.delete(&b, &account_url(id, &b_token)),
            410,
            "BANK_FEED_ACCOUNT_NOT_FOUND",
        ),
    ];
    for (case, request, status, code) in refused {
        err_in(case, request.send().await, status, code).await;
    }
    let b_list = hub.get_ok(&b, &accounts(&b_token)).await;
    assert!(b_list["bank_feed_accounts"].as_array().unwrap().is_empty());
    hub.get_ok(&a, &account_url(id, &a_token)).await;
}
