//! Every bad input gets its own 4xx code in the one error shape; none is a 500.

use base64::Engine;
use serde_json::json;

use crate::helpers::{err, err_in, refusals, Hub};

crate::on_both_backends!(
    bad_requests_get_precise_codes,
    bad_credentials_get_precise_codes
);

async fn bad_requests_get_precise_codes(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let create = hub.url("/versioned/connections/create");
    let raw = |body: &'static str, content_type: &'static str| {
        hub.http
            .post(&create)
            .basic_auth(&bank.client_id, Some(&bank.client_secret))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let refused_bodies = [
        ("{\"platform\":", "application/json", "MALFORMED_JSON"),
        ("not json", "application/json", "MALFORMED_JSON"),
        ("", "application/json", "MISSING_BODY"),
        ("{}", "application/json", "MISSING_FIELD"),
        (
            "{\"platform\": 3}",
            "application/json",
            "INVALID_FIELD_TYPE",
        ),
        (
            "{\"platform\": \"XERO\", \"name\": 7}",
            "application/json",
            "INVALID_FIELD_TYPE",
        ),
    ];
    for (body, content_type, code) in refused_bodies {
        err_in(body, raw(body, content_type).await, 400, code).await;
    }
    let body = err(
        raw("{\"platform\": \"QUICKBOOKS\"}", "application/json").await,
        400,
        "INVALID_ENUM_VALUE",
    )
    .await;
    assert!(
        body["error_message"].as_str().unwrap().contains("platform"),
        "names the field: {body}"
    );
    let long_name = json!({"platform": "XERO", "name": "x".repeat(201)});
    let huge = format!(
        "{{\"platform\":\"XERO\",\"name\":\"{}\"}}",
        "x".repeat(9 * 1024 * 1024)
    );
    let unknown = "/versioned/connections/01a1fc9a-af8c-76a4-87f1-65c8c73af427";
    let refused_gets = [
        ("/versioned/connections?limit=0", 400, "INVALID_LIMIT"),
        ("/versioned/connections?limit=501", 400, "INVALID_LIMIT"),
        (
            "/versioned/connections?limit=abc",
            400,
            "INVALID_QUERY_PARAMETER",
        ),
        ("/versioned/connections?cursor=%%%", 400, "INVALID_CURSOR"),
        (
            "/versioned/connections?cursor=bm90LWEtdXVpZA",
            400,
            "INVALID_CURSOR",
        ),
        (
            "/versioned/connections/access_token",
            400,
            "MISSING_ACCESS_TOKEN",
        ),
        (
            "/versioned/connections/status?access_token=",
            400,
            "MISSING_ACCESS_TOKEN",
        ),
        (
            "/versioned/connections/access_token?access_token=bfat_nope",
            401,
            "INVALID_ACCESS_TOKEN",
        ),
        ("/versioned/nothing-here", 404, "ROUTE_NOT_FOUND"),
        // An empty id where the operation takes one is a malformed id, not an unknown route.
        (
            "/versioned/accounting/bank_feeds/accounts/",
            400,
            "INVALID_ID",
        ),
        ("/versioned/nothing-here/", 404, "ROUTE_NOT_FOUND"),
    ];
    refusals(
        &hub.http,
        refused_gets.map(|(path, status, code)| (hub.get(&bank, path), status, code)),
    )
    .await;
    refusals(
        &hub.http,
        [
            (
                hub.post(&bank, "/versioned/connections/create", &long_name),
                400,
                "INVALID_FIELD_VALUE",
            ),
            (
                hub.http
                    .post(&create)
                    .basic_auth(&bank.client_id, Some(&bank.client_secret))
                    .header("content-type", "application/json")
                    .body(huge),
                413,
                "PAYLOAD_TOO_LARGE",
            ),
            (
                hub.delete(&bank, "/versioned/connections/not-an-id"),
                400,
                "INVALID_ID",
            ),
            (hub.delete(&bank, unknown), 410, "CONNECTION_NOT_FOUND"),
            (
                hub.delete(&bank, "/versioned/connections/"),
                400,
                "INVALID_ID",
            ),
            (
                hub.get(&bank, "/versioned/connections")
                    .header("X-Rutter-Version", "1999-01-01"),
                400,
                "UNSUPPORTED_API_VERSION",
            ),
            (
                hub.http.put(hub.url("/versioned/connections")),
                405,
                "METHOD_NOT_ALLOWED",
            ),
        ],
    )
    .await;
    // Nothing above created a connection.
    let listed = hub.get_ok(&bank, "/versioned/connections").await;
    assert!(listed["connections"].as_array().unwrap().is_empty());
}

async fn bad_credentials_get_precise_codes(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    // Refused before its body is read, a POST's answer closes the connection, and says so.
    let refused = hub
        .http
        .post(hub.url("/versioned/connections/create"))
        .basic_auth(&bank.client_id, Some("bfsk_wrong"))
        .json(&serde_json::json!({"platform": "XERO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["connection"], "close");
    let list = hub.url("/versioned/connections");
    let read = hub.http.get(&list).send().await.unwrap();
    assert!(
        !read.headers().contains_key("connection"),
        "a refusal without a body keeps the connection"
    );
    let no_colon = base64::engine::general_purpose::STANDARD.encode("just-an-id");
    let get = || hub.http.get(&list);
    refusals(
        &hub.http,
        [
            (get(), 401, "MISSING_CREDENTIALS"),
            (
                get().header("authorization", "Bearer abc"),
                401,
                "MALFORMED_CREDENTIALS",
            ),
            (
                get().header("authorization", "Basic !!!"),
                401,
                "MALFORMED_CREDENTIALS",
            ),
            (
                get().header("authorization", format!("Basic {no_colon}")),
                401,
                "MALFORMED_CREDENTIALS",
            ),
            (
                get().basic_auth(&bank.client_id, Some("bfsk_wrong")),
                401,
                "INVALID_CREDENTIALS",
            ),
            (
                get().basic_auth("bfci_nobody", Some(&bank.client_secret)),
                401,
                "INVALID_CREDENTIALS",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let db = crate::helpers::sqlite_db("rate_limit").await;
    let hub = Hub::start_on(db.store.clone(), Some(db), 3).await;
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    for _ in 0..3 {
        hub.get_ok(&bank, "/versioned/connections").await;
    }
    let resp = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("retry-after").is_some());
    err(Ok(resp), 429, "RATE_LIMITED").await;
    // The limit is per organisation.
    hub.get_ok(&other, "/versioned/connections").await;
}
