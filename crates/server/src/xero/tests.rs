//! The client against a scripted Xero stand-in on 127.0.0.1: each request is recorded and
//! answered with the next scripted answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use rust_decimal::Decimal;

use super::model::{Balance, StatementLine, StatementOut};
use super::*;

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// A scripted answer: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Script {
    fn answer(&self, status: u16, headers: &[(&'static str, &str)], body: &str) -> &Self {
        let headers = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.answers
            .lock()
            .unwrap()
            .push_back((status, headers, body.to_owned()));
        self
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn stand_in() -> (Script, XeroEndpoints) {
    let script = Script::default();
    let s = script.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                s.seen.lock().unwrap().push(Seen {
                    method,
                    path: uri.path().to_owned(),
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let (status, extra, body) =
                    s.answers
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or((500, vec![], "{}".into()));
                let mut response = (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
                    .into_response();
                for (k, v) in extra {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoints = XeroEndpoints {
        identity: format!("{base}/identity"),
        api: format!("{base}/bankfeeds.xro/1.0"),
        connections: base,
    };
    (script, endpoints)
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_inline_wait: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    }
}

fn client(endpoints: XeroEndpoints) -> XeroClient {
    XeroClient::new(endpoints, Arc::new(TenantLimiter::default()), fast())
}

const AUTH: TenantAuth<'static> = TenantAuth {
    tenant_id: "tenant-1",
    access_token: "access-1",
};

fn statement() -> StatementOut {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    StatementOut {
        feed_connection_id: "6a4b9ff5-3a5f-4321-936b-4796163550f6".into(),
        start_date: "2026-11-30".into(),
        end_date: "2026-12-01".into(),
        start_balance: Balance::signed(d("100.00")),
        end_balance: Balance::signed(d("90.00")),
        statement_lines: vec![StatementLine {
            posted_date: "2026-12-01".into(),
            description: Some("Coffee".into()),
            amount: d("10.00"),
            credit_debit_indicator: model::CreditDebit::Debit,
            transaction_id: "tx-1".into(),
            payee_name: None,
            reference: None,
            cheque_number: None,
            transaction_type: None,
        }],
    }
}

const ACCEPTED: &str = r#"{"items":[{"id":"d69b02b7-a30c-464a-99cf-ba9770373c61","feedConnectionId":"6a4b9ff5-3a5f-4321-936b-4796163550f6","status":"PENDING"}]}"#;

#[tokio::test]
async fn a_statement_goes_with_tenant_token_and_idempotency_key() {
    let (script, endpoints) = stand_in().await;
    script.answer(202, &[], ACCEPTED);
    let answer = client(endpoints)
        .create_statement(AUTH, "stmt-key-1", &statement())
        .await
        .unwrap();
    assert_eq!(answer.status, Some(model::StatementStatus::Pending));
    let seen = script.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, "/bankfeeds.xro/1.0/Statements");
    assert_eq!(req.headers["xero-tenant-id"], "tenant-1");
    assert_eq!(req.headers["authorization"], "Bearer access-1");
    assert_eq!(req.headers["idempotency-key"], "stmt-key-1");
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    let line = &body["items"][0]["statementLines"][0];
    assert_eq!(line["amount"].to_string(), "10.00", "exact, unsigned");
    assert_eq!(line["creditDebitIndicator"], "DEBIT");
    assert_eq!(
        body["items"][0]["startBalance"]["amount"].to_string(),
        "100.00"
    );
}

#[tokio::test]
async fn a_429_is_waited_out_for_its_retry_after_then_the_same_request_goes_again() {
    let (script, endpoints) = stand_in().await;
    script
        .answer(429, &[("retry-after", "1")], "{}")
        .answer(202, &[], ACCEPTED);
    let started = Instant::now();
    let answer = client(endpoints)
        .create_statement(AUTH, "k", &statement())
        .await
        .unwrap();
    assert!(answer.id.is_some());
    assert!(started.elapsed() >= Duration::from_millis(900), "waited");
    let seen = script.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(seen[1].headers["idempotency-key"], "k");
}

#[tokio::test]
async fn a_long_retry_after_is_handed_back_and_holds_the_tenant() {
    let (script, endpoints) = stand_in().await;
    script.answer(429, &[("retry-after", "120")], "{}");
    let client = client(endpoints);
    match client.create_statement(AUTH, "k", &statement()).await {
        Err(XeroError::RateLimited(wait)) => assert_eq!(wait, Duration::from_secs(120)),
        other => panic!("{other:?}"),
    }
    // The tenant is held: the next call does not reach Xero at all.
    assert!(matches!(
        client.get_statement(AUTH, "x").await,
        Err(XeroError::RateLimited(_))
    ));
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test]
async fn a_server_error_is_retried_with_back_off_then_succeeds() {
    let (script, endpoints) = stand_in().await;
    script
        .answer(500, &[], r#"{"type":"internal-error"}"#)
        .answer(202, &[], ACCEPTED);
    let answer = client(endpoints)
        .create_statement(AUTH, "k", &statement())
        .await
        .unwrap();
    assert!(answer.id.is_some());
    assert_eq!(script.seen().len(), 2);
}

#[tokio::test]
async fn server_errors_on_every_try_are_unavailable() {
    let (script, endpoints) = stand_in().await;
    for _ in 0..3 {
        script.answer(503, &[], "{}");
    }
    let err = client(endpoints)
        .create_statement(AUTH, "k", &statement())
        .await
        .unwrap_err();
    assert!(matches!(err, XeroError::Unavailable(_)), "{err:?}");
    assert_eq!(script.seen().len(), 3);
}

#[tokio::test]
async fn refusals_carry_xero_problem_type() {
    let (script, endpoints) = stand_in().await;
    script
        .answer(
            409,
            &[],
            r#"{"items":[{"status":"REJECTED","errors":[{"type":"duplicate-statement","status":409}]}],"type":"duplicate-statement","status":409}"#,
        )
        .answer(
            422,
            &[],
            r#"{"type":"invalid-end-balance","title":"Invalid End Balance","status":422,"detail":"The end balance does not match"}"#,
        )
        .answer(401, &[], "{}");
    let client = client(endpoints);
    match client.create_statement(AUTH, "k", &statement()).await {
        Err(XeroError::Refused {
            status, problem, ..
        }) => {
            assert_eq!(status, 409);
            assert_eq!(problem.kind.as_deref(), Some("duplicate-statement"));
        }
        other => panic!("{other:?}"),
    }
    match client.create_statement(AUTH, "k2", &statement()).await {
        Err(XeroError::Refused {
            status, problem, ..
        }) => {
            assert_eq!(status, 422);
            assert_eq!(problem.kind.as_deref(), Some("invalid-end-balance"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.get_statement(AUTH, "x").await,
        Err(XeroError::Unauthorized)
    ));
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let (script, endpoints) = stand_in().await;
    script.answer(
        200,
        &[],
        r#"{"access_token":"access-2","refresh_token":"refresh-2","expires_in":1800,"token_type":"Bearer"}"#,
    );
    let app = AppCredentials {
        client_id: "client".into(),
        client_secret: "shh".into(),
    };
    let now: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
    let tokens = client(endpoints)
        .refresh(&app, "refresh-1", now)
        .await
        .unwrap();
    assert_eq!(tokens.access_token, "access-2");
    assert_eq!(tokens.refresh_token, "refresh-2", "rotated");
    assert_eq!(
        tokens.access_expires_at,
        "2026-12-04T10:30:00Z".parse::<Timestamp>().unwrap()
    );
    assert!(!tokens.stale(now));
    assert!(tokens.stale("2026-12-04T10:29:30Z".parse().unwrap()));
    assert!(!format!("{tokens:?}").contains("refresh-2"));
    let seen = script.seen();
    assert_eq!(seen[0].path, "/identity/connect/token");
    assert!(seen[0].body.contains("grant_type=refresh_token"));
    assert!(seen[0].body.contains("refresh_token=refresh-1"));
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("client:shh");
    assert_eq!(seen[0].headers["authorization"], format!("Basic {basic}"));
}

#[tokio::test]
async fn a_refused_refresh_token_is_a_revoked_consent() {
    let (script, endpoints) = stand_in().await;
    script.answer(400, &[], r#"{"error":"invalid_grant"}"#);
    let app = AppCredentials {
        client_id: "client".into(),
        client_secret: "shh".into(),
    };
    let err = client(endpoints)
        .refresh(&app, "refresh-1", "2026-12-04T10:00:00Z".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, XeroError::ConsentRevoked), "{err:?}");
}

#[tokio::test]
async fn feed_connections_answer_per_item_even_on_400() {
    let (script, endpoints) = stand_in().await;
    script.answer(
        400,
        &[],
        r#"{"items":[{"accountToken":"acc-1","status":"REJECTED","error":{"type":"feed-already-connected-in-current-organisation","status":409}}]}"#,
    );
    let items = client(endpoints)
        .create_feed_connections(
            AUTH,
            "key-1",
            &[model::FeedConnectionOut {
                account_token: "acc-1".into(),
                account_number: "1234".into(),
                account_name: "Card".into(),
                account_type: model::AccountType::Creditcard,
                currency: "GBP".into(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(items[0].status.as_deref(), Some("REJECTED"));
    assert_eq!(
        items[0].error.as_ref().unwrap().kind.as_deref(),
        Some("feed-already-connected-in-current-organisation")
    );
    let body: serde_json::Value = serde_json::from_str(&script.seen()[0].body).unwrap();
    assert_eq!(body["items"][0]["accountType"], "CREDITCARD");
}

#[test]
fn the_workers_back_off_scales_from_its_configured_base() {
    let secs = |s: &worker::LiveSettings, n| s.retry_delay(n).num_milliseconds();
    let default = worker::LiveSettings::default();
    // The domain's schedule as it is: 30 s doubling to an hour.
    assert_eq!(secs(&default, 1), 30_000);
    assert_eq!(secs(&default, 2), 60_000);
    assert_eq!(secs(&default, 20), 3_600_000);
    let fast = worker::LiveSettings {
        retry_base: Duration::from_secs(1),
        ..default
    };
    assert_eq!(secs(&fast, 1), 1_000);
    assert_eq!(secs(&fast, 3), 4_000);
    assert_eq!(secs(&fast, 20), 120_000, "the cap scales with the base");
}
