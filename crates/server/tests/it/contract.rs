//! The served OpenAPI document is the contract: what it does not declare, the server refuses.

use crate::helpers::{err, items, ok, refuses, Hub};

/// Issue 12 (item 13, and schemathesis' negative phase): an undeclared query parameter used to be
/// ignored, so a misspelt `limt` or a filter the hub does not implement answered 200 with every
/// row. Now each operation takes exactly the query parameters its document declares (seed 002's
/// deprecated `updated_at_min` is declared and filters: `seeds.rs`).
#[tokio::test]
async fn undeclared_query_parameters_are_refused() {
    let hub = Hub::sqlite("query_contract").await;
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
        let body = refuses(hub.get(&creds, &url), 400, "UNKNOWN_QUERY_PARAMETER").await;
        let message = body["error_message"].as_str().unwrap();
        assert!(message.contains(&format!("`{name}`")), "{url}: {message}");
    }
    // The refusal lists what the operation does take.
    let body = refuses(
        hub.get(&creds, &format!("{accounts}?access_token={token}&limt=5")),
        400,
        "UNKNOWN_QUERY_PARAMETER",
    )
    .await;
    assert!(
        body["error_message"].as_str().unwrap().contains("limit"),
        "{body}"
    );
    // Write operations too: a body field sent as a query parameter is not silently dropped.
    refuses(
        hub.post(
            &creds,
            "/versioned/connections/create?platform=XERO",
            &serde_json::json!({"platform": "XERO"}),
        ),
        400,
        "UNKNOWN_QUERY_PARAMETER",
    )
    .await;
}

/// An access token that is present but empty is missing, and the document says it must not be
/// empty (`minLength: 1`), so a client generator and the server agree.
#[tokio::test]
async fn the_document_says_an_access_token_is_not_empty() {
    let hub = Hub::sqlite("token_doc").await;
    let creds = hub.org("Doc Bank").await;
    let doc = hub.open_json("/openapi.json").await;
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
    refuses(
        hub.get(&creds, "/versioned/connections/status?access_token="),
        400,
        "MISSING_ACCESS_TOKEN",
    )
    .await;
}

/// Every refusal the server can give before a handler runs is in the document (issue 20: a
/// generated client fails on an answer its operation does not declare): 429 for every operation
/// behind authentication, 413 and 415 for every operation that takes a body, each the error
/// body; and the server does answer them so.
#[tokio::test]
async fn the_document_declares_the_refusals_any_request_may_get() {
    let hub = Hub::sqlite("refusal_doc").await;
    let creds = hub.org("Doc Bank").await;
    let doc = hub.open_json("/openapi.json").await;
    let mut with_body = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let answers = &op["responses"];
            let error_body = |status: &str| {
                answers[status]["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorOut"
            };
            if op.get("security").is_some() {
                assert!(error_body("429"), "{method} {path} declares 429");
            }
            if op.get("requestBody").is_some() {
                assert!(error_body("413") && error_body("415"), "{method} {path}");
                with_body += 1;
            }
        }
    }
    assert!(with_body >= 5, "{with_body} operations take a body");
    let form = hub
        .request(
            reqwest::Method::POST,
            &creds,
            "/versioned/connections/create",
        )
        .header("content-type", "text/plain")
        .body("platform=XERO");
    refuses(form, 415, "UNSUPPORTED_CONTENT_TYPE").await;
}

/// A PATCH body is documented field by field with `additionalProperties: false` at both levels,
/// and the server refuses what the document refuses: an unknown field beside `bank_feed_account`
/// used to be dropped silently.
#[tokio::test]
async fn a_patch_body_takes_only_documented_fields() {
    let hub = Hub::sqlite("patch_doc").await;
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
        refuses(hub.patch(&creds, &path, &body), 400, "UNKNOWN_FIELD").await;
    }
    let doc = hub.open_json("/openapi.json").await;
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

/// Which alternative of the documented 200 answer of `method path` the body is, by the
/// alternatives' required properties (and, where closed, their only properties); fails unless
/// exactly one fits (what a generated client
/// dispatches on).
pub(crate) fn documented_alternative(
    doc: &serde_json::Value,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> String {
    let schema =
        &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
    let resolve = |s: &serde_json::Value| -> (String, serde_json::Value) {
        let name = s["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("{method} {path}: not a component: {s}"));
        (name.to_owned(), doc["components"]["schemas"][name].clone())
    };
    let (_, answer) = resolve(schema);
    let alternatives = answer["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path}: 200 is not oneOf: {answer}"));
    let fits: Vec<String> = alternatives
        .iter()
        .map(resolve)
        .filter(|(_, s)| {
            let required = items(&s["required"])
                .iter()
                .all(|p| body.get(p.as_str().unwrap()).is_some());
            let closed = s["additionalProperties"] == false;
            let only_declared = body
                .as_object()
                .unwrap()
                .keys()
                .all(|k| s["properties"].get(k).is_some());
            required && (!closed || only_declared)
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(fits.len(), 1, "{method} {path}: {body} fits {fits:?}");
    fits[0].clone()
}

/// A NUL character in any JSON string is refused up front on every backend (PostgreSQL text
/// cannot hold one), as the README says; schemathesis is told not to generate it
/// (`allow-x00 = false` in conformance/openapi/schemathesis.toml), so this test is what holds it.
#[tokio::test]
async fn a_nul_in_a_json_string_is_refused() {
    let hub = Hub::sqlite("json_nul").await;
    let creds = hub.org("Nul Bank").await;
    for body in [
        r#"{"platform": "XERO", "name": "Acme\u0000Ltd"}"#,
        r#"{"platform": "XERO", "name": "\u0000"}"#,
    ] {
        let resp = hub
            .http
            .post(hub.url("/versioned/connections/create"))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        err(resp, 400, "INVALID_FIELD_VALUE").await;
    }
    let listed = hub.get_ok(&creds, "/versioned/connections").await;
    assert_eq!(
        listed["connections"],
        serde_json::json!([]),
        "nothing stored"
    );
}

/// Lengths count the text as sent, as the document's `maxLength` does: a name padded past the
/// limit used to pass because it was trimmed first, so the server accepted what the document
/// calls invalid (schemathesis' negative phase).
#[tokio::test]
async fn documented_lengths_count_the_text_as_sent() {
    let hub = Hub::sqlite("raw_lengths").await;
    let creds = hub.org("Length Bank").await;
    let create = |name: String| {
        hub.post(
            &creds,
            "/versioned/connections/create",
            &serde_json::json!({"platform": "XERO", "name": name}),
        )
        .send()
    };
    ok(create("n".repeat(200)).await).await;
    err(
        create(format!(" {}", "n".repeat(200))).await,
        400,
        "INVALID_FIELD_VALUE",
    )
    .await;
    let (_, token) = hub.connection(&creds, "XERO").await;
    let path = crate::helpers::with_token("/versioned/accounting/bank_feeds/accounts", &token);
    let account = |id: String| {
        serde_json::json!({"bank_feed_account": {"internal_bank_account_id": id,
            "bank_account_type": "bank", "currency_code": "USD"}})
    };
    refuses(
        hub.post(&creds, &path, &account(format!(" {}", "i".repeat(255)))),
        400,
        "INVALID_FIELD_VALUE",
    )
    .await;
    let made = ok(hub
        .post(&creds, &path, &account("i".repeat(255)))
        .send()
        .await)
    .await;
    let id = made["bank_feed_account"]["id"].as_str().unwrap();
    let patch_path = crate::helpers::with_token(
        &format!("/versioned/accounting/bank_feeds/accounts/{id}"),
        &token,
    );
    refuses(hub.patch(
            &creds,
            &patch_path,
            &serde_json::json!({"bank_feed_account": {"internal_bank_account_id": format!(" {}", "j".repeat(255))}}),
        ), 400, "INVALID_FIELD_VALUE")
    .await;
    let doc = hub.open_json("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ConnectionIn"]["properties"]["name"]["maxLength"],
        200
    );
    assert_eq!(
        schemas["AccountIn"]["properties"]["internal_bank_account_id"]["maxLength"],
        255
    );
}
