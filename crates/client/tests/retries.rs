//! The client against a scripted stand-in: answers 429 and 5xx (or drops the connection)
//! before the real answer, and records what each attempt sent.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bankfeeds_client::wire::accounts::ResponseMode;
use bankfeeds_client::wire::transactions::BatchIn;
use bankfeeds_client::{Client, RetryPolicy};
use futures_util::TryStreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted answer: a status, extra header lines, a body; `None` drops the connection.
type Answer = Option<(u16, &'static str, String)>;

/// What one request carried.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    idempotency_key: Option<String>,
    authorization: Option<String>,
}

/// Serves `script` in order, one answer per connection, and records each request.
async fn stand_in(script: Vec<Answer>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for answer in script {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            let head_end = loop {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let header = |name: &str| {
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                    .map(|l| l.split_once(':').unwrap().1.trim().to_owned())
            };
            let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
            while buf.len() < head_end + length {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            log.lock().unwrap().push(Seen {
                request_line: head.lines().next().unwrap().to_owned(),
                idempotency_key: header("idempotency-key"),
                authorization: header("authorization"),
            });
            let Some((status, headers, body)) = answer else {
                drop(sock);
                continue;
            };
            let text = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
            sock.write_all(text.as_bytes()).await.unwrap();
            sock.shutdown().await.ok();
        }
    });
    (base, seen)
}

fn error(code: &str) -> String {
    json!({"error_type": "X", "error_code": code, "error_message": "scripted"}).to_string()
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    }
}

fn stored_answer() -> String {
    json!({"bank_feed_transactions": [], "async_response": null}).to_string()
}

fn batch() -> BatchIn {
    serde_json::from_value(json!({
        "bank_feed_account_id": "0191b3c4-0000-7000-8000-000000000001",
        "transactions": [{"transaction_id": "a", "posted_at": "2024-01-02T00:00:00Z", "amount": 1.5}],
    }))
    .unwrap()
}

#[tokio::test]
async fn retries_429_and_5xx_with_one_idempotency_key_honouring_retry_after() {
    let (base, seen) = stand_in(vec![
        Some((429, "retry-after: 1\r\n", error("RATE_LIMITED"))),
        Some((503, "", error("UNAVAILABLE"))),
        None,
        Some((200, "", stored_answer())),
    ])
    .await;
    let client = Client::builder(&base, "id", "secret")
        .retry(quick())
        .build()
        .unwrap();
    let started = Instant::now();
    let pushed = client
        .connection("tok")
        .push_with(&batch(), ResponseMode::PreferSync, None)
        .await
        .unwrap();
    let stored = pushed.stored().await.unwrap();
    assert!(stored.bank_feed_transactions.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let key = seen[0]
        .idempotency_key
        .clone()
        .expect("a write carries a key");
    assert!(
        seen.iter()
            .all(|s| s.idempotency_key.as_ref() == Some(&key)),
        "{seen:?}"
    );
    assert!(seen[0]
        .request_line
        .starts_with("POST /versioned/accounting/bank_feeds/transactions?access_token=tok"));
    assert!(seen[0]
        .authorization
        .as_deref()
        .unwrap()
        .starts_with("Basic "));
}

#[tokio::test]
async fn gives_up_after_the_last_attempt_with_the_hubs_code() {
    let script = (0..4)
        .map(|_| Some((503, "", error("UNAVAILABLE"))))
        .collect();
    let (base, seen) = stand_in(script).await;
    let client = Client::builder(&base, "id", "secret")
        .retry(quick())
        .build()
        .unwrap();
    let e = client.list_fi_configs().await.unwrap_err();
    assert_eq!(e.code(), Some("UNAVAILABLE"));
    assert_eq!(e.status(), Some(503));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert!(
        seen.iter().all(|s| s.idempotency_key.is_none()),
        "reads carry no key"
    );
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_each_call_gets_its_own_key() {
    let (base, seen) = stand_in(vec![
        Some((400, "", error("INVALID_FIELD_VALUE"))),
        Some((400, "", error("INVALID_FIELD_VALUE"))),
    ])
    .await;
    let client = Client::builder(&base, "id", "secret")
        .retry(quick())
        .build()
        .unwrap();
    let conn = client.connection("tok");
    for _ in 0..2 {
        let e = conn.push(&batch()).await.unwrap_err();
        assert_eq!(e.code(), Some("INVALID_FIELD_VALUE"));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].idempotency_key, seen[1].idempotency_key);
}

#[tokio::test]
async fn pages_follow_next_cursor_and_a_queued_push_polls_its_job() {
    let page = |ids: &[&str], next: Option<&str>| {
        let conns: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "platform": "XERO", "name": null, "link_url": "x", "disabled": false, "needs_update": false, "unavailable_objects": [], "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}))
            .collect();
        json!({"connections": conns, "next_cursor": next}).to_string()
    };
    let job = |status: &str, response: serde_json::Value| {
        json!({"job": {"id": "0191b3c4-0000-7000-8000-00000000000a", "status": status,
            "request": {"method": "POST", "url": "/x", "body": null, "idempotency_key": null},
            "response": response, "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z", "finished_at": null}})
        .to_string()
    };
    let (base, seen) = stand_in(vec![
        Some((200, "", page(&["0191b3c4-0000-7000-8000-000000000001"], Some("c1")))),
        Some((200, "", page(&["0191b3c4-0000-7000-8000-000000000002"], None))),
        Some((200, "", json!({"async_response": {"id": "0191b3c4-0000-7000-8000-00000000000a", "response_url": "x", "status": "prequeued"}}).to_string())),
        Some((200, "", job("pending", serde_json::Value::Null))),
        Some((200, "", job("success", json!({"http_status": 200, "body": {"bank_feed_transactions": []}})))),
    ])
    .await;
    let client = Client::builder(&base, "id", "secret")
        .retry(quick())
        .build()
        .unwrap();
    let all: Vec<_> = client.list_connections().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    let pushed = client
        .connection("tok")
        .push_with(&batch(), ResponseMode::Async, None)
        .await
        .unwrap();
    let stored = pushed.stored().await.unwrap();
    assert!(stored.bank_feed_transactions.is_empty());
    let seen = seen.lock().unwrap();
    assert!(seen[1].request_line.contains("cursor=c1"), "{seen:?}");
    assert!(seen[3]
        .request_line
        .starts_with("GET /versioned/jobs/0191b3c4-0000-7000-8000-00000000000a"));
}
