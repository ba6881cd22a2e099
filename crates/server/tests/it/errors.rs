//! Every bad input gets its own 4xx code in the one error shape; none is a 500.

use base64::Engine;
use serde_json::json;

use crate::helpers::{err, Hub};

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
    err(
        raw("{\"platform\":", "application/json").await,
        400,
        "MALFORMED_JSON",
    )
    .await;
    err(
        raw("not json", "application/json").await,
        400,
        "MALFORMED_JSON",
    )
    .await;
    err(raw("", "application/json").await, 400, "MISSING_BODY").await;
    err(raw("{}", "application/json").await, 400, "MISSING_FIELD").await;
    err(
        raw("{\"platform\": 3}", "application/json").await,
        400,
        "INVALID_FIELD_TYPE",
    )
    .await;
    err(
        raw("{\"platform\": \"XERO\", \"name\": 7}", "application/json").await,
        400,
        "INVALID_FIELD_TYPE",
    )
    .await;
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
    err(
        raw("platform=XERO", "application/x-www-form-urlencoded").await,
        400,
        "UNSUPPORTED_CONTENT_TYPE",
    )
    .await;
    let long_name = json!({"platform": "XERO", "name": "x".repeat(201)});
    err(
        hub.post(&bank, "/versioned/connections/create", &long_name)
            .send()
            .await,
        400,
        "INVALID_FIELD_VALUE",
    )
    .await;
    let huge = format!(
        "{{\"platform\":\"XERO\",\"name\":\"{}\"}}",
        "x".repeat(9 * 1024 * 1024)
    );
    err(
        hub.http
            .post(&create)
            .basic_auth(&bank.client_id, Some(&bank.client_secret))
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;

    err(
        hub.get(&bank, "/versioned/connections?limit=0")
            .send()
            .await,
        400,
        "INVALID_LIMIT",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections?limit=501")
            .send()
            .await,
        400,
        "INVALID_LIMIT",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections?limit=abc")
            .send()
            .await,
        400,
        "INVALID_QUERY_PARAMETER",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections?cursor=%%%")
            .send()
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections?cursor=bm90LWEtdXVpZA")
            .send()
            .await,
        400,
        "INVALID_CURSOR",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections/access_token")
            .send()
            .await,
        400,
        "MISSING_ACCESS_TOKEN",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections/status?access_token=")
            .send()
            .await,
        400,
        "MISSING_ACCESS_TOKEN",
    )
    .await;
    err(
        hub.get(
            &bank,
            "/versioned/connections/access_token?access_token=bfat_nope",
        )
        .send()
        .await,
        401,
        "INVALID_ACCESS_TOKEN",
    )
    .await;
    err(
        hub.delete(&bank, "/versioned/connections/not-an-id")
            .send()
            .await,
        400,
        "INVALID_ID",
    )
    .await;
    err(
        hub.delete(
            &bank,
            "/versioned/connections/01a1fc9a-af8c-76a4-87f1-65c8c73af427",
        )
        .send()
        .await,
        410,
        "CONNECTION_NOT_FOUND",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/connections")
            .header("X-Rutter-Version", "1999-01-01")
            .send()
            .await,
        400,
        "UNSUPPORTED_API_VERSION",
    )
    .await;
    err(
        hub.get(&bank, "/versioned/nothing-here").send().await,
        404,
        "ROUTE_NOT_FOUND",
    )
    .await;
    err(
        hub.http.put(hub.url("/versioned/connections")).send().await,
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    // Nothing above created a connection.
    let listed: serde_json::Value = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    err(hub.http.get(&list).send().await, 401, "MISSING_CREDENTIALS").await;
    err(
        hub.http
            .get(&list)
            .header("authorization", "Bearer abc")
            .send()
            .await,
        401,
        "MALFORMED_CREDENTIALS",
    )
    .await;
    err(
        hub.http
            .get(&list)
            .header("authorization", "Basic !!!")
            .send()
            .await,
        401,
        "MALFORMED_CREDENTIALS",
    )
    .await;
    let no_colon = base64::engine::general_purpose::STANDARD.encode("just-an-id");
    err(
        hub.http
            .get(&list)
            .header("authorization", format!("Basic {no_colon}"))
            .send()
            .await,
        401,
        "MALFORMED_CREDENTIALS",
    )
    .await;
    err(
        hub.http
            .get(&list)
            .basic_auth(&bank.client_id, Some("bfsk_wrong"))
            .send()
            .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    err(
        hub.http
            .get(&list)
            .basic_auth("bfci_nobody", Some(&bank.client_secret))
            .send()
            .await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let db = bankfeeds_store_tests::backends::sqlite("rate_limit")
        .await
        .unwrap();
    let hub = Hub::start_on(db.store.clone(), Some(db), 3).await;
    let bank = hub.org("Demo Bank").await;
    let other = hub.org("Other Bank").await;
    for _ in 0..3 {
        crate::helpers::ok(hub.get(&bank, "/versioned/connections").send().await).await;
    }
    let resp = hub
        .get(&bank, "/versioned/connections")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("retry-after").is_some());
    err(Ok(resp), 429, "RATE_LIMITED").await;
    // The limit is per organisation.
    crate::helpers::ok(hub.get(&other, "/versioned/connections").send().await).await;
}
