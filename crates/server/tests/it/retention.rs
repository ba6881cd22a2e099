//! Retention through the real hub (issue 12, item 11): a job whose bodies are past their
//! horizon still answers `GET /versioned/jobs/:id` with how it ended, the counts reach
//! `/metrics`, and the task runs once when an instance starts.

use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::retention::RetentionPolicy;
use bankfeeds_domain::{Clock, ManualClock, SystemClock};
use bankfeeds_server::retention::run_once;
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::codat::{checking_pushes, day, platform_links, Codat};
use crate::helpers::{ok, Creds, Hub};

crate::on_both_backends!(
    a_job_past_the_body_horizon_still_answers_how_it_ended,
    a_codat_push_past_the_body_horizon_keeps_its_status,
    the_retention_task_runs_when_an_instance_starts,
);

fn bodies_after(days: i64) -> RetentionPolicy {
    RetentionPolicy {
        expired_link_secrets: None,
        idempotency_keys: None,
        job_bodies: Some(TimeDelta::days(days)),
        ofx_trnuids: None,
        webhook_history: None,
    }
}

/// Pushes `n` one-transaction batches to a new Intuit feed; their job ids and bodies.
async fn pushed(hub: &Hub, creds: &Creds, n: usize) -> Vec<(String, Value)> {
    let (_, token) = hub.connection(creds, "INTUIT_BANK_FEEDS").await;
    let fields = json!({
        "internal_bank_account_id": "0674101002388",
        "bank_account_type": "bank",
        "currency_code": "USD",
        "name": "Operating",
    });
    let account = hub.create_account(creds, &token, fields).await["id"].clone();
    let posted =
        (SystemClock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut out = Vec::new();
    for i in 0..n {
        let body = json!({"bank_feed_transactions": {
            "bank_feed_account_id": account,
            "transactions": [{"transaction_id": format!("T{i}"), "posted_at": posted, "amount": -12.5}],
        }});
        let path = format!("/versioned/accounting/bank_feeds/transactions?access_token={token}");
        let resp = hub.post(creds, &path, &body).send().await.unwrap();
        let id = resp.headers()["x-rutter-job-id"]
            .to_str()
            .unwrap()
            .to_owned();
        ok(Ok(resp)).await;
        out.push((id, body));
    }
    hub.drain().await;
    out
}

async fn metrics(hub: &Hub) -> String {
    hub.open_text("/metrics").await
}

async fn a_job_past_the_body_horizon_still_answers_how_it_ended(hub: Hub) {
    let creds = hub.org("Demo Bank").await;
    let jobs = pushed(&hub, &creds, 3).await;
    let path = |id: &str| format!("/versioned/jobs/{id}");
    let before = hub.get_ok(&creds, &path(&jobs[0].0)).await["job"].clone();
    assert_eq!(before["status"], "success");
    assert_eq!(before["request"]["body"], jobs[0].1);
    assert!(before.get("bodies_deleted_at").is_none(), "{before}");

    let stop = CancellationToken::new();
    let now = SystemClock.now();
    // A pass with a 30-day horizon, two jobs per chunk, `days` from now.
    let policy = bodies_after(30);
    let pass_at = |days: i64| {
        let at = now + TimeDelta::days(days);
        run_once(&hub.store, &hub.state.metrics, &policy, at, Some(2), &stop)
    };
    let inside = pass_at(29).await.unwrap();
    assert_eq!(inside, [("job_bodies", 0)]);
    assert_eq!(hub.get_ok(&creds, &path(&jobs[0].0)).await["job"], before);

    // Two jobs per chunk: the pass goes on until a chunk comes back short.
    let past = pass_at(31).await.unwrap();
    assert_eq!(past, [("job_bodies", 3)]);
    for (id, _) in &jobs {
        let after = hub.get_ok(&creds, &path(id)).await["job"].clone();
        assert_eq!(after["status"], "success", "{after}");
        assert_eq!(after["response"]["http_status"], 200);
        assert_eq!(after["response"]["body"], Value::Null);
        assert_eq!(after["request"]["body"], Value::Null);
        assert!(after["bodies_deleted_at"].is_string(), "{after}");
        for same in ["id", "created_at", "finished_at"] {
            assert!(after[same].is_string());
        }
        assert_eq!(after["request"]["url"], before["request"]["url"]);
    }
    assert!(
        metrics(&hub)
            .await
            .contains("bankfeeds_retention_deleted_total{kind=\"job_bodies\"} 3"),
        "the counts reach /metrics"
    );
}

async fn the_retention_task_runs_when_an_instance_starts(hub: Hub) {
    let creds = hub.org("Demo Bank").await;
    let jobs = pushed(&hub, &creds, 1).await;
    // A second instance on the same database, its clock 31 days on: its start-up pass drops
    // the bodies.
    let clock = Arc::new(ManualClock::new(SystemClock.now() + TimeDelta::days(31)));
    let later = Hub::start_with(
        hub.store.clone(),
        None,
        move |s| {
            s.clock = clock as Arc<dyn Clock>;
            s.retention = Some((bodies_after(30), Duration::from_secs(3600)));
        },
        0,
    )
    .await;
    let mut seen = String::new();
    for _ in 0..200 {
        seen = metrics(&later).await;
        if seen.contains("bankfeeds_retention_deleted_total{kind=\"job_bodies\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.contains("bankfeeds_retention_deleted_total{kind=\"job_bodies\"} 1"),
        "{seen}"
    );
    let job = later
        .get_ok(&creds, &format!("/versioned/jobs/{}", jobs[0].0))
        .await;
    assert!(job["job"]["bodies_deleted_at"].is_string(), "{job}");
}

async fn a_codat_push_past_the_body_horizon_keeps_its_status(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let codat = Codat::new(&hub, &bank);
    let (company, connection) = codat.quickbooks_checking("Elaborate Events, Inc").await;
    let start = SystemClock.now() - TimeDelta::days(10);
    platform_links(&hub, connection.parse().unwrap(), "ac-001", start).await;
    let push = checking_pushes(&company, &connection);
    let tx = |amount: f64| json!({"id": "t1", "date": day(3), "description": "tx", "amount": amount, "balance": amount, "transactionType": "Credit"});
    let mut ops = Vec::new();
    // The same transaction id twice with different content: a success, then a conflict.
    for amount in [10.0, 11.0] {
        let (s, op) = codat
            .post(
                &push,
                json!({"accountId": "ac-001", "transactions": [tx(amount)]}),
            )
            .await;
        assert_eq!(s, 200, "{op}");
        let key = op["pushOperationKey"].as_str().unwrap().to_owned();
        ops.push(codat.settled(&company, &key).await);
    }
    assert_eq!(
        (ops[1]["status"].as_str(), ops[1]["statusCode"].as_i64()),
        (Some("Failed"), Some(409))
    );

    let stop = CancellationToken::new();
    let later = SystemClock.now() + TimeDelta::days(31);
    let counts = run_once(
        &hub.store,
        &hub.state.metrics,
        &bodies_after(30),
        later,
        None,
        &stop,
    )
    .await
    .unwrap();
    assert_eq!(counts, [("job_bodies", 2)]);
    for (before, status) in ops.iter().zip(["Success", "Failed"]) {
        let key = before["pushOperationKey"].as_str().unwrap();
        let (s, after) = codat.get(&format!("/companies/{company}/push/{key}")).await;
        assert_eq!(s, 200, "{after}");
        assert_eq!(after["status"], status, "{after}");
        assert_eq!(after["statusCode"], before["statusCode"]);
        assert_eq!(after["completedOnUtc"], before["completedOnUtc"]);
    }
}
