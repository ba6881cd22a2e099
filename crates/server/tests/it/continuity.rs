//! Balance continuity through the real router: a break refused on Xero with its figures and
//! nothing applied, recorded elsewhere, reported by `GET …/continuity`, acknowledged with a
//! reason; the late-posting hint of `OLDER_THAN_STORED`.

use bankfeeds_domain::account::{FeedState, FeedStatus};
use bankfeeds_domain::{Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::{err, ok, with_token, Creds, Hub};

crate::on_both_backends!(
    xero_refuses_a_balance_that_does_not_tie_out_and_applies_nothing,
    elsewhere_breaks_are_recorded_reported_and_acknowledged,
);

const TXNS: &str = "/versioned/accounting/bank_feeds/transactions";
const ACCOUNTS: &str = "/versioned/accounting/bank_feeds/accounts";

fn days_ago(n: i64) -> DateTime<Utc> {
    SystemClock.now() - TimeDelta::days(n)
}

struct Feed {
    creds: Creds,
    token: String,
    account: String,
}

impl Feed {
    async fn new(hub: &Hub, platform: &str, currency: &str) -> Feed {
        let creds = hub.org("Demo Bank").await;
        let (_, token) = hub.connection(&creds, platform).await;
        let fields = json!({
            "internal_bank_account_id": "0674101002388",
            "bank_account_type": "bank",
            "currency_code": currency,
            "name": "Operating",
            "current_balance": 1833.21,
        });
        let created = hub.create_account(&creds, &token, fields).await;
        let account = created["id"].as_str().unwrap().to_owned();
        let feed = Feed {
            creds,
            token,
            account,
        };
        let state = FeedState {
            feed_status: FeedStatus::Active,
            transaction_ready: true,
            transaction_start_date: Some(days_ago(60)),
        };
        hub.store
            .set_feed_state(feed.account.parse().unwrap(), &state, SystemClock.now())
            .await
            .unwrap();
        feed
    }

    /// Pushes `(id, days ago, amount)` with `balance`.
    async fn push(
        &self,
        hub: &Hub,
        txns: &[(&str, i64, &str)],
        balance: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let transactions: Vec<Value> = txns
            .iter()
            .map(|(id, ago, amount)| {
                json!({
                    "transaction_id": id,
                    "posted_at": days_ago(*ago).to_rfc3339_opts(SecondsFormat::Secs, true),
                    "amount": amount.parse::<Value>().unwrap(),
                    "description": "Card payment",
                })
            })
            .collect();
        let mut body = json!({"bank_feed_transactions": {
            "bank_feed_account_id": self.account, "transactions": transactions}});
        if let Some(b) = balance {
            body["bank_feed_transactions"]["current_balance"] = b.parse::<Value>().unwrap();
        }
        hub.post(&self.creds, &with_token(TXNS, &self.token), &body)
            .send()
            .await
    }

    fn continuity_path(&self) -> String {
        with_token(
            &format!("{ACCOUNTS}/{}/continuity", self.account),
            &self.token,
        )
    }

    async fn continuity(&self, hub: &Hub) -> Value {
        hub.get_ok(&self.creds, &self.continuity_path()).await
    }

    async fn stored(&self, hub: &Hub) -> usize {
        let list = hub
            .get_ok(&self.creds, &with_token(TXNS, &self.token))
            .await;
        list["bank_feed_transactions"].as_array().unwrap().len()
    }
}

/// The example: 7,445.65, then a batch of −20.00 reporting 1.00.
async fn xero_refuses_a_balance_that_does_not_tie_out_and_applies_nothing(hub: Hub) {
    let f = Feed::new(&hub, "XERO", "USD").await;
    assert_eq!(f.continuity(&hub).await["state"], "unknown");
    ok(f.push(&hub, &[("T1", 5, "-1")], Some("7445.65")).await).await;
    let refused = err(
        f.push(&hub, &[("T2", 4, "-20.00")], Some("1.00")).await,
        400,
        "BALANCE_MISMATCH",
    )
    .await;
    let figures = &refused["errors"][0];
    for (field, want) in [
        ("balance_before", "7445.65"),
        ("batch_amount", "-20.00"),
        ("expected", "7425.65"),
        ("reported", "1.00"),
        ("difference", "-7424.65"),
    ] {
        assert_eq!(figures[field].to_string(), want, "{field}: {refused}");
    }
    let message = refused["error_message"].as_str().unwrap();
    assert!(message.contains("7425.65") && message.contains("nothing was applied"));
    assert_eq!(f.stored(&hub).await, 1, "nothing of the refused batch");
    let account = hub.account(&f.creds, &f.token, &f.account).await;
    assert_eq!(account["current_balance"].to_string(), "7445.65");
    // The FI sends what was missing with the figure it reports: accepted, and it ties out.
    ok(f.push(
        &hub,
        &[("T2", 4, "-20.00"), ("T3", 3, "-7424.65")],
        Some("1.00"),
    )
    .await)
    .await;
    let c = f.continuity(&hub).await;
    assert_eq!(c["state"], "ties_out", "{c}");
    assert_eq!(c["segments"].as_array().unwrap().len(), 1);
    assert_eq!(c["segments"][0]["opening_balance"].to_string(), "7445.65");
    assert_eq!(c["segments"][0]["closing_balance"].to_string(), "1.00");
    assert_eq!(c["breaks"], json!([]));
}

async fn elsewhere_breaks_are_recorded_reported_and_acknowledged(hub: Hub) {
    let f = Feed::new(&hub, "INTUIT_BANK_FEEDS", "USD").await;
    ok(f.push(&hub, &[("T1", 10, "-1")], Some("100")).await).await;
    ok(f.push(&hub, &[("T2", 9, "-10.5")], None).await).await;
    let c = f.continuity(&hub).await;
    assert_eq!(
        (c["state"].as_str(), c["unreported_amount"].to_string()),
        (Some("ties_out"), "-10.50".into())
    );
    // Accepted (Intuit takes the statement), and recorded as a break.
    ok(f.push(&hub, &[("T3", 8, "2")], Some("50")).await).await;
    let c = f.continuity(&hub).await;
    assert_eq!(c["state"], "breaks", "{c}");
    let b = &c["breaks"][0];
    assert_eq!(b["report"], 2);
    assert_eq!(b["expected"].to_string(), "91.50");
    assert_eq!(b["reported"].to_string(), "50.00");
    assert_eq!(b["difference"].to_string(), "-41.50");
    assert_eq!(b["unreported_amount"].to_string(), "-10.50");
    assert!(b["job_id"].is_string() && b["posted_through"].is_string());
    assert_eq!(b["acknowledged"], Value::Null);
    let spans: Vec<(i64, i64)> = c["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["first_report"].as_i64().unwrap(),
                s["last_report"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(spans, vec![(1, 1), (2, 2)]);

    // Acknowledged with a reason; the state then ties out; again is a 409.
    let ack = format!(
        "{ACCOUNTS}/{}/continuity/breaks/{}/acknowledge",
        f.account,
        b["id"].as_str().unwrap()
    );
    let ack = with_token(&ack, &f.token);
    err(
        hub.post(&f.creds, &ack, &json!({"reason": " "}))
            .send()
            .await,
        400,
        "INVALID_REASON",
    )
    .await;
    let send = || {
        hub.post(&f.creds, &ack, &json!({"reason": "interest booked late"}))
            .header("idempotency-key", "ack-1")
            .send()
    };
    let done = ok(send().await).await;
    assert_eq!(
        done["break"]["acknowledged"]["reason"],
        "interest booked late"
    );
    let replayed = send().await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(replayed.json::<Value>().await.unwrap(), done);
    err(
        hub.post(&f.creds, &ack, &json!({"reason": "again"}))
            .send()
            .await,
        409,
        "BREAK_ALREADY_ACKNOWLEDGED",
    )
    .await;
    let c = f.continuity(&hub).await;
    assert_eq!(c["state"], "ties_out");
    assert_eq!(
        c["breaks"][0]["acknowledged"]["reason"],
        "interest booked late"
    );

    // Another connection of the same organisation does not see the account.
    let (_, other) = hub.connection(&f.creds, "INTUIT_BANK_FEEDS").await;
    let path = with_token(&format!("{ACCOUNTS}/{}/continuity", f.account), &other);
    err(
        hub.get(&f.creds, &path).send().await,
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;

    // OLDER_THAN_STORED says what posted_at is and how to send a late posting.
    let late = err(
        f.push(&hub, &[("L1", 20, "-3")], None).await,
        400,
        "OLDER_THAN_STORED",
    )
    .await;
    let message = late["error_message"].as_str().unwrap();
    assert!(
        message.contains("transaction_date") && message.contains("late"),
        "{message}"
    );
}
