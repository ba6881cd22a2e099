//! Integrity of the books (issue 17) through the real router: money answered with its
//! currency's scale on the Rutter door; closed days declared, and stale spans reported, by the
//! continuity report.

use bankfeeds_domain::account::{FeedState, FeedStatus};
use bankfeeds_domain::{Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::{err, ok, with_token, Creds, Hub, ACCOUNTS, TRANSACTIONS};

crate::on_both_backends!(
    money_is_answered_with_its_currencys_scale,
    closed_days_are_declared_and_stale_spans_reported,
);

fn days_ago(n: i64) -> DateTime<Utc> {
    SystemClock.now() - TimeDelta::days(n)
}

fn day_ago(n: i64) -> String {
    days_ago(n).date_naive().to_string()
}

struct Feed {
    creds: Creds,
    token: String,
    account: String,
}

impl Feed {
    async fn new(hub: &Hub, currency: &str, balance: &str) -> Feed {
        let creds = hub.org("Demo Bank").await;
        let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
        let fields = json!({
            "internal_bank_account_id": "0674101002388",
            "bank_account_type": "bank",
            "currency_code": currency,
            "name": "Operating",
            "current_balance": balance.parse::<Value>().unwrap(),
        });
        let created = hub.create_account(&creds, &token, fields).await;
        let account = created["id"].as_str().unwrap().to_owned();
        let state = FeedState {
            feed_status: FeedStatus::Active,
            transaction_ready: true,
            transaction_start_date: Some(days_ago(90)),
        };
        hub.store
            .set_feed_state(account.parse().unwrap(), &state, SystemClock.now())
            .await
            .unwrap();
        Feed {
            creds,
            token,
            account,
        }
    }

    /// Pushes `(id, days ago, amount)`, oldest first.
    async fn push(&self, hub: &Hub, txns: &[(&str, i64, &str)]) -> Value {
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
        let body = json!({"bank_feed_transactions": {
            "bank_feed_account_id": self.account, "transactions": transactions}});
        ok(hub
            .post(&self.creds, &with_token(TRANSACTIONS, &self.token), &body)
            .send()
            .await)
        .await
    }

    fn path(&self, tail: &str) -> String {
        with_token(&format!("{ACCOUNTS}/{}{tail}", self.account), &self.token)
    }

    async fn continuity(&self, hub: &Hub) -> Value {
        hub.get_ok(&self.creds, &self.path("/continuity")).await
    }

    async fn declare(&self, hub: &Hub, body: Value) -> reqwest::Result<reqwest::Response> {
        hub.post(&self.creds, &self.path("/closed_days"), &body)
            .send()
            .await
    }
}

/// An amount pushed as `1250.5` in GBP is answered `1250.50` wherever the door shows it; in
/// JPY `1000` stays `1000`.
async fn money_is_answered_with_its_currencys_scale(hub: Hub) {
    for (currency, balance, amount, want_balance, want_amount) in [
        ("GBP", "1250.5", "1250.5", "1250.50", "1250.50"),
        ("JPY", "1000", "-1000.000", "1000", "-1000"),
        ("BHD", "2.5", "0.1", "2.500", "0.100"),
    ] {
        let f = Feed::new(&hub, currency, balance).await;
        let account = hub.account(&f.creds, &f.token, &f.account).await;
        assert_eq!(
            account["current_balance"].to_string(),
            want_balance,
            "{currency}"
        );
        let list = hub.get_ok(&f.creds, &with_token(ACCOUNTS, &f.token)).await;
        assert_eq!(
            list["bank_feed_accounts"][0]["current_balance"].to_string(),
            want_balance
        );
        let pushed = f.push(&hub, &[("T1", 1, amount)]).await;
        let row = &pushed["bank_feed_transactions"][0];
        assert_eq!(
            row["amount"].to_string(),
            want_amount,
            "{currency}: {pushed}"
        );
        let list = hub
            .get_ok(&f.creds, &with_token(TRANSACTIONS, &f.token))
            .await;
        let listed = &list["bank_feed_transactions"][0];
        assert_eq!(listed["amount"].to_string(), want_amount, "{currency}");
        let one = hub
            .get_ok(
                &f.creds,
                &with_token(
                    &format!("{TRANSACTIONS}/{}", listed["id"].as_str().unwrap()),
                    &f.token,
                ),
            )
            .await;
        assert_eq!(
            one["bank_feed_transaction"]["amount"].to_string(),
            want_amount
        );
    }
}

async fn closed_days_are_declared_and_stale_spans_reported(hub: Hub) {
    let f = Feed::new(&hub, "USD", "100").await;
    // Daily from 40 to 31 days ago, then from 20 to 12 days ago; nothing since.
    let mut txns: Vec<(String, i64)> = (31..=40).rev().map(|d| (format!("A{d}"), d)).collect();
    txns.extend((12..=20).rev().map(|d| (format!("B{d}"), d)));
    let txns: Vec<(&str, i64, &str)> = txns.iter().map(|(id, d)| (id.as_str(), *d, "-1")).collect();
    f.push(&hub, &txns).await;

    let c = f.continuity(&hub).await;
    assert_eq!(
        (c["rhythm_days"].as_u64(), c["stale_after_days"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(c["stale"], true, "{c}");
    assert_eq!(
        c["stale_spans"],
        json!([
            {"from": day_ago(30), "to": day_ago(21), "open_days": 10, "closed_days": 0, "ongoing": false},
            {"from": day_ago(11), "to": day_ago(0), "open_days": 12, "closed_days": 0, "ongoing": true},
        ]),
        "{c}"
    );
    assert_eq!(c["closed_days"], json!([]));

    // Refusals, each with its stable code; nothing declared by any of them.
    let refused = [
        (json!({"from": day_ago(5)}), 400, "MISSING_FIELD"),
        (
            json!({"from": "yesterday", "to": day_ago(5)}),
            400,
            "INVALID_DATE",
        ),
        (
            json!({"from": day_ago(5), "to": "2026-02-30"}),
            400,
            "INVALID_DATE",
        ),
        (
            json!({"from": day_ago(3), "to": day_ago(5)}),
            400,
            "INVALID_DATE_RANGE",
        ),
        (
            json!({"from": "2024-01-01", "to": "2025-01-01"}),
            400,
            "DATE_RANGE_TOO_LONG",
        ),
        (
            json!({"from": day_ago(5), "to": day_ago(3), "why": "x"}),
            400,
            "UNKNOWN_FIELD",
        ),
        (
            json!({"from": day_ago(22), "to": day_ago(19)}),
            409,
            "CLOSED_DAY_HAS_TRANSACTIONS",
        ),
    ];
    for (body, status, code) in refused {
        err(f.declare(&hub, body).await, status, code).await;
    }
    // Another connection of the organisation does not see the account.
    let (_, other) = hub.connection(&f.creds, "INTUIT_BANK_FEEDS").await;
    let path = with_token(&format!("{ACCOUNTS}/{}/closed_days", f.account), &other);
    err(
        hub.post(
            &f.creds,
            &path,
            &json!({"from": day_ago(5), "to": day_ago(3)}),
        )
        .send()
        .await,
        410,
        "BANK_FEED_ACCOUNT_NOT_FOUND",
    )
    .await;
    assert_eq!(f.continuity(&hub).await["closed_days"], json!([]));

    // The silence in the middle, declared closed but for three days: those three are what is
    // left of it, within the rhythm, so it is no longer stale.
    let declared = ok(f
        .declare(&hub, json!({"from": day_ago(30), "to": day_ago(24)}))
        .await)
    .await;
    let range = &declared["closed_days"];
    assert_eq!(
        (range["from"].as_str(), range["to"].as_str()),
        (Some(day_ago(30).as_str()), Some(day_ago(24).as_str()))
    );
    let again = ok(f
        .declare(&hub, json!({"from": day_ago(30), "to": day_ago(24)}))
        .await)
    .await;
    assert_eq!(
        again, declared,
        "the same range again is the same declaration"
    );
    // Up to today: the ongoing silence is declared too.
    ok(
        f.declare(&hub, json!({"from": day_ago(11), "to": day_ago(0)}))
            .await,
    )
    .await;
    let c = f.continuity(&hub).await;
    assert_eq!(c["stale"], false, "{c}");
    assert_eq!(c["stale_spans"], json!([]), "{c}");
    let closed: Vec<(&str, &str)> = c["closed_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from"].as_str().unwrap(), r["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        closed,
        vec![
            (day_ago(30).as_str(), day_ago(24).as_str()),
            (day_ago(11).as_str(), day_ago(0).as_str())
        ]
    );

    // Only the first four days of the middle silence declared on another feed: the six open
    // days left are stale, and the span says which were closed.
    let g = Feed::new(&hub, "USD", "100").await;
    g.push(&hub, &txns).await;
    ok(
        g.declare(&hub, json!({"from": day_ago(30), "to": day_ago(27)}))
            .await,
    )
    .await;
    let c = g.continuity(&hub).await;
    assert_eq!(c["stale_spans"][0]["open_days"], 6, "{c}");
    assert_eq!(c["stale_spans"][0]["closed_days"], 4, "{c}");
}
