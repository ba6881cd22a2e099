//! Business metrics on `/metrics`: batches by door and outcome, transactions by result, jobs
//! by kind and status — counted once per committed batch, whatever the door's answer shape;
//! the feed lag of a sandbox platform's sync.

use bankfeeds_domain::account::{FeedState, FeedStatus};
use std::sync::Arc;

use bankfeeds_domain::{Clock, ManualClock, SystemClock};
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};

use crate::helpers::{ok, with_token, Hub, Sandbox};
use crate::sync::linked;

crate::on_both_backends!(batches_transactions_and_jobs_are_counted_once);
crate::on_both_backends!(with_clock: a_sandbox_sync_measures_the_feed_lag);

const TRANSACTIONS: &str = "/versioned/accounting/bank_feeds/transactions";

fn batch(account: &str, txns: &[(&str, &str)]) -> Value {
    let posted =
        (SystemClock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let transactions: Vec<Value> = txns
        .iter()
        .map(|(id, amount)| {
            json!({"transaction_id": id, "posted_at": posted,
                   "amount": amount.parse::<Value>().unwrap(), "description": "Card payment"})
        })
        .collect();
    json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": transactions}})
}

/// The value of one sample line of the exposition, 0 when the series is absent.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn batches_transactions_and_jobs_are_counted_once(hub: Hub) {
    let creds = hub.org("Metrics Bank").await;
    let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
    let fields = json!({"internal_bank_account_id": "0674101002388", "bank_account_type": "bank",
        "currency_code": "USD", "name": "Operating"});
    let account = hub.create_account(&creds, &token, fields).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: Some(SystemClock.now() - TimeDelta::days(30)),
    };
    hub.store
        .set_feed_state(account.parse().unwrap(), &state, SystemClock.now())
        .await
        .unwrap();
    let path = with_token(TRANSACTIONS, &token);
    for body in [
        batch(&account, &[("t-1", "-10.00"), ("t-2", "25.50")]),
        // The same two again: duplicates, stored once.
        batch(&account, &[("t-1", "-10.00"), ("t-2", "25.50")]),
        // t-1 with other content: the batch is refused as a conflict, when its job runs.
        batch(&account, &[("t-1", "-11.00"), ("t-3", "1.00")]),
    ] {
        let resp = hub.post(&creds, &path, &body).send().await.unwrap();
        assert!(resp.status().as_u16() < 500, "{:?}", resp.text().await);
        hub.drain().await;
    }
    let metrics = hub.open_text("/metrics").await;
    let rutter =
        |name: &str, labels: &str| sample(&metrics, &format!("bankfeeds_{name}{{{labels}}} "));
    assert_eq!(
        rutter("batches_total", r#"door="rutter",outcome="applied""#),
        2,
        "{metrics}"
    );
    assert_eq!(
        rutter("batches_total", r#"door="rutter",outcome="conflict""#),
        1
    );
    assert_eq!(
        rutter(
            "transactions_pushed_total",
            r#"door="rutter",result="created""#
        ),
        2
    );
    assert_eq!(
        rutter(
            "transactions_pushed_total",
            r#"door="rutter",result="duplicate""#
        ),
        2
    );
    let jobs = |status: &str| {
        rutter(
            "jobs_finished_total",
            &format!(r#"kind="transaction_batch",status="{status}""#),
        )
    };
    assert_eq!(jobs("success") + jobs("failure"), 3, "{metrics}");
    assert_eq!(jobs("failure"), 1, "the conflict fails its job");
    // The labels are fixed names: nothing a client sent appears in the exposition.
    assert!(!metrics.contains("t-1"), "{metrics}");
}

/// A NetSuite sync three hours after the push: one lag observation of 10,800 s for NETSUITE;
/// a sync with nothing new observes nothing.
async fn a_sandbox_sync_measures_the_feed_lag(hub: Hub, clock: Arc<ManualClock>) {
    let bank = hub.org("Lag Bank").await;
    let (company, token, account) = linked(&hub, &bank, "NETSUITE").await;
    let body = batch(&account, &[("t-1", "-10.00"), ("t-2", "25.50")]);
    hub.post_ok(&bank, &with_token(TRANSACTIONS, &token), &body)
        .await;
    clock.advance(TimeDelta::hours(3));
    let netsuite = Sandbox::of(&hub, "NETSUITE");
    let sync = format!("/companies/{company}/feeds/{account}/sync");
    let synced = ok(netsuite.post(&sync, json!({})).await).await;
    assert_eq!(synced["transactions_ingested"], 2, "{synced}");
    clock.advance(TimeDelta::hours(1));
    ok(netsuite.post(&sync, json!({})).await).await;

    let metrics = hub.open_text("/metrics").await;
    let series =
        |tail: &str| format!("bankfeeds_feed_ingest_lag_seconds_{tail}{{platform=\"NETSUITE\"}} ");
    assert_eq!(sample(&metrics, &series("count")), 1, "{metrics}");
    let sum: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series("sum"))?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lag sum: {metrics}"));
    assert!((sum - 10_800.0).abs() < 1.0, "lag {sum} s: {metrics}");
}
