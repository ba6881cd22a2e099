//! The served OpenAPI document is the contract: what it does not declare, the server refuses.

use crate::helpers::{err, ok, Hub};

/// Issue 12 (item 13, and schemathesis' negative phase): an undeclared query parameter used to be
/// ignored, so a misspelt `limt` or a filter the hub does not implement answered 200 with every
/// row. Now each operation takes exactly the query parameters its document declares (seed 002's
/// deprecated `updated_at_min` is declared and filters: `seeds.rs`).
#[tokio::test]
async fn undeclared_query_parameters_are_refused() {
    let hub = Hub::start(
        bankfeeds_store_tests::backends::sqlite("query_contract")
            .await
            .unwrap(),
    )
    .await;
    let creds = hub.org("Contract Bank").await;
    let (_, token) = hub.connection(&creds, "XERO").await;
    let accounts = "/versioned/accounting/bank_feeds/accounts";
    ok(hub
        .get(
            &creds,
            &format!("{accounts}?access_token={token}&limit=5&cursor=&sort=updated_at"),
        )
        .send()
        .await)
    .await;
    for (url, name) in [
        (format!("{accounts}?access_token={token}&limt=5"), "limt"),
        (
            format!("{accounts}?access_token={token}&updated_since=1700000000000"),
            "updated_since",
        ),
        // The connections list selects no connection: it takes no access token.
        (
            format!("/versioned/connections?access_token={token}"),
            "access_token",
        ),
        ("/versioned/bank_feeds/configs?x=1".to_owned(), "x"),
    ] {
        let body = err(
            hub.get(&creds, &url).send().await,
            400,
            "UNKNOWN_QUERY_PARAMETER",
        )
        .await;
        let message = body["error_message"].as_str().unwrap();
        assert!(message.contains(&format!("`{name}`")), "{url}: {message}");
    }
    // The refusal lists what the operation does take.
    let body = err(
        hub.get(&creds, &format!("{accounts}?access_token={token}&limt=5"))
            .send()
            .await,
        400,
        "UNKNOWN_QUERY_PARAMETER",
    )
    .await;
    assert!(
        body["error_message"].as_str().unwrap().contains("limit"),
        "{body}"
    );
    // Write operations too: a body field sent as a query parameter is not silently dropped.
    err(
        hub.post(
            &creds,
            "/versioned/connections/create?platform=XERO",
            &serde_json::json!({"platform": "XERO"}),
        )
        .send()
        .await,
        400,
        "UNKNOWN_QUERY_PARAMETER",
    )
    .await;
}

/// An access token that is present but empty is missing, and the document says it must not be
/// empty (`minLength: 1`), so a client generator and the server agree.
#[tokio::test]
async fn the_document_says_an_access_token_is_not_empty() {
    let hub = Hub::start(
        bankfeeds_store_tests::backends::sqlite("token_doc")
            .await
            .unwrap(),
    )
    .await;
    let creds = hub.org("Doc Bank").await;
    let doc = ok(hub.http.get(hub.url("/openapi.json")).send().await).await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "access_token" {
                    assert_eq!(p["schema"]["minLength"], 1, "{method} {path}");
                    assert_eq!(p["required"], true, "{method} {path}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "{checked} operations take an access token");
    err(
        hub.get(&creds, "/versioned/connections/status?access_token=")
            .send()
            .await,
        400,
        "MISSING_ACCESS_TOKEN",
    )
    .await;
}

/// A PATCH body is documented field by field with `additionalProperties: false` at both levels,
/// and the server refuses what the document refuses: an unknown field beside `bank_feed_account`
/// used to be dropped silently.
#[tokio::test]
async fn a_patch_body_takes_only_documented_fields() {
    let hub = Hub::start(
        bankfeeds_store_tests::backends::sqlite("patch_doc")
            .await
            .unwrap(),
    )
    .await;
    let creds = hub.org("Patch Bank").await;
    let (_, token) = hub.connection(&creds, "XERO").await;
    let account = hub
        .create_account(
            &creds,
            &token,
            serde_json::json!({"internal_bank_account_id": "chk-1", "bank_account_type": "bank",
                               "currency_code": "USD", "name": "Checking"}),
        )
        .await;
    let path = crate::helpers::with_token(
        &format!(
            "/versioned/accounting/bank_feeds/accounts/{}",
            account["id"].as_str().unwrap()
        ),
        &token,
    );
    for body in [
        serde_json::json!({"bank_feed_account": {"name": "Savings"}, "nmae": "x"}),
        serde_json::json!({"bank_feed_account": {"nmae": "Savings"}}),
    ] {
        err(
            hub.patch(&creds, &path, &body).send().await,
            400,
            "UNKNOWN_FIELD",
        )
        .await;
    }
    let doc = ok(hub.http.get(hub.url("/openapi.json")).send().await).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["AccountPatchIn"]["additionalProperties"], false);
    assert_eq!(schemas["AccountPatchFields"]["additionalProperties"], false);
    assert!(schemas["AccountPatchFields"]["required"].is_null());
    let patched = ok(hub
        .patch(
            &creds,
            &path,
            &serde_json::json!({"bank_feed_account": {"name": "Savings"}}),
        )
        .send()
        .await)
    .await;
    assert_eq!(patched["bank_feed_account"]["name"], "Savings");
}
