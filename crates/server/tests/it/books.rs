//! Integrity of the books (issue 17) through the real router: money answered with its
//! currency's scale on the Rutter door; closed days declared, and stale spans reported, by the
//! continuity report; the sandbox statements' balances per posting day, each closed by the
//! balance the FI reported with that day's batches.

use chrono::SecondsFormat;
use serde_json::{json, Value};

use crate::helpers::{
    days_ago, err, items, ok, with_token, Creds, Feed, Hub, Sandbox, ACCOUNTS, TRANSACTIONS,
};
use crate::sync::linked;

crate::on_both_backends!(
    money_is_answered_with_its_currencys_scale,
    closed_days_are_declared_and_stale_spans_reported,
    every_day_sent_with_a_balance_ties_out,
    a_wrong_fi_balance_is_a_difference_on_its_day_only,
);

fn day_ago(n: i64) -> String {
    days_ago(n).date_naive().to_string()
}

/// A feed on Intuit in `currency`, its account reporting `balance`, linked from 90 days ago.
async fn feed(hub: &Hub, currency: &str, balance: &str) -> Feed {
    let f = Feed::new(hub, "INTUIT_BANK_FEEDS", currency, Some(balance)).await;
    f.link(hub, Some(days_ago(90))).await;
    f
}

/// Pushes `(id, days ago, amount)`, oldest first; asserts they are taken.
async fn push(hub: &Hub, f: &Feed, txns: &[(&str, i64, &str)]) -> Value {
    ok(f.push_card_payments(hub, txns, None).await).await
}

/// Declares the days of `body` closed.
async fn declare(hub: &Hub, f: &Feed, body: Value) -> reqwest::Result<reqwest::Response> {
    hub.post(&f.creds, &f.path("/closed_days"), &body)
        .send()
        .await
}

/// An amount pushed as `1250.5` in GBP is answered `1250.50` wherever the door shows it; in
/// JPY `1000` stays `1000`.
async fn money_is_answered_with_its_currencys_scale(hub: Hub) {
    for (currency, balance, amount, want_balance, want_amount) in [
        ("GBP", "1250.5", "1250.5", "1250.50", "1250.50"),
        ("JPY", "1000", "-1000.000", "1000", "-1000"),
        ("BHD", "2.5", "0.1", "2.500", "0.100"),
    ] {
        let f = feed(&hub, currency, balance).await;
        let account = f.account(&hub).await;
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
        let pushed = push(&hub, &f, &[("T1", 1, amount)]).await;
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
    let f = feed(&hub, "USD", "100").await;
    // Daily from 40 to 31 days ago, then from 20 to 12 days ago; nothing since.
    let mut txns: Vec<(String, i64)> = (31..=40).rev().map(|d| (format!("A{d}"), d)).collect();
    txns.extend((12..=20).rev().map(|d| (format!("B{d}"), d)));
    let txns: Vec<(&str, i64, &str)> = txns.iter().map(|(id, d)| (id.as_str(), *d, "-1")).collect();
    push(&hub, &f, &txns).await;

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
        err(declare(&hub, &f, body).await, status, code).await;
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
    let declared =
        ok(declare(&hub, &f, json!({"from": day_ago(30), "to": day_ago(24)})).await).await;
    let range = &declared["closed_days"];
    assert_eq!(
        (range["from"].as_str(), range["to"].as_str()),
        (Some(day_ago(30).as_str()), Some(day_ago(24).as_str()))
    );
    let again = ok(declare(&hub, &f, json!({"from": day_ago(30), "to": day_ago(24)})).await).await;
    assert_eq!(
        again, declared,
        "the same range again is the same declaration"
    );
    // Up to today: the ongoing silence is declared too.
    ok(declare(&hub, &f, json!({"from": day_ago(11), "to": day_ago(0)})).await).await;
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
    let g = feed(&hub, "USD", "100").await;
    push(&hub, &g, &txns).await;
    ok(declare(&hub, &g, json!({"from": day_ago(30), "to": day_ago(27)})).await).await;
    let c = g.continuity(&hub).await;
    assert_eq!(c["stale_spans"][0]["open_days"], 6, "{c}");
    assert_eq!(c["stale_spans"][0]["closed_days"], 4, "{c}");
}

/// `n` days ago at `hour`:00 UTC, as the API takes it.
fn posted(n: i64, hour: u32) -> String {
    let day = days_ago(n).date_naive().and_hms_opt(hour, 0, 0).unwrap();
    day.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A NetSuite feed (it takes any history and accepts a break) the FI pushes to by day.
struct Books {
    bank: Creds,
    token: String,
    company: String,
    account: String,
}

impl Books {
    async fn new(hub: &Hub) -> Books {
        let bank = hub.org("Demo Bank").await;
        let (company, token, account) = linked(hub, &bank, "NETSUITE").await;
        Books {
            bank,
            token,
            company,
            account,
        }
    }

    /// One batch of `(id, days ago, hour, amount)` with the FI's balance after it.
    async fn push(&self, hub: &Hub, txns: &[(&str, i64, u32, &str)], balance: &str) {
        let transactions: Vec<Value> = txns
            .iter()
            .map(|(id, ago, hour, amount)| {
                json!({"transaction_id": id, "posted_at": posted(*ago, *hour),
                       "amount": amount.parse::<Value>().unwrap()})
            })
            .collect();
        let body = json!({"bank_feed_transactions": {"bank_feed_account_id": self.account,
            "current_balance": balance.parse::<Value>().unwrap(), "transactions": transactions}});
        hub.post_ok(&self.bank, &with_token(TRANSACTIONS, &self.token), &body)
            .await;
    }

    /// Sync now, then the feed's statements oldest first as
    /// `(day, late, opening, reported closing, status, difference)`.
    async fn sync(&self, hub: &Hub) -> Vec<[String; 6]> {
        let sandbox = Sandbox::of(hub, "NETSUITE");
        let path = format!("/companies/{}/feeds/{}", self.company, self.account);
        ok(sandbox.post(&format!("{path}/sync"), json!({})).await).await;
        let feed = sandbox.get(&path).await;
        let mut statements: Vec<[String; 6]> = items(&feed["statements"])
            .iter()
            .map(|s| {
                [
                    s["date"].as_str().unwrap().to_owned(),
                    s["late"].to_string(),
                    s["opening_balance"].to_string(),
                    s["reported_closing_balance"].to_string(),
                    s["reconcile"]["status"].as_str().unwrap().to_owned(),
                    s["reconcile"]["difference"].to_string(),
                ]
            })
            .collect();
        statements.reverse();
        statements
    }
}

fn row(ago: i64, late: bool, open: &str, bank: &str, status: &str, diff: &str) -> [String; 6] {
    [
        day_ago(ago),
        late.to_string(),
        open.into(),
        bank.into(),
        status.into(),
        diff.into(),
    ]
}

/// A batch a day, two batches on one day, and a late posting on a day already shown, each with
/// the FI's balance after it: every statement is closed by the bank's figure for its day and
/// ties out, and the statements shown before the late posting are as they were.
async fn every_day_sent_with_a_balance_ties_out(hub: Hub) {
    let b = Books::new(&hub).await;
    b.push(
        &hub,
        &[("D6A", 6, 9, "100.00"), ("D6B", 6, 15, "-20.00")],
        "1080.00",
    )
    .await;
    b.push(&hub, &[("D5A", 5, 10, "-30.50")], "1049.50").await;
    b.push(&hub, &[("D4A", 4, 8, "5.25")], "1054.75").await;
    b.push(&hub, &[("D4B", 4, 17, "7")], "1061.75").await;
    let first = b.sync(&hub).await;
    assert_eq!(
        first,
        vec![
            row(6, false, "1000.00", "1080.00", "ties_out", "null"),
            row(5, false, "1080.00", "1049.50", "ties_out", "null"),
            row(4, false, "1049.50", "1061.75", "ties_out", "null"),
        ],
        "each day closed by the last balance sent with its lines"
    );

    // A late posting on the 4th, then the 3rd, each batch with its balance.
    b.push(&hub, &[("D4C", 4, 20, "-1.75")], "1060.00").await;
    b.push(&hub, &[("D3A", 3, 9, "40")], "1100.00").await;
    let second = b.sync(&hub).await;
    assert_eq!(second[..3], first[..], "what was shown is never rewritten");
    assert_eq!(
        second[3..],
        [
            row(4, true, "1061.75", "1060.00", "ties_out", "null"),
            row(3, false, "1060.00", "1100.00", "ties_out", "null"),
        ]
    );
}

/// Days sent with balances, the 3rd day's 4.70 off (continuity records a break, NetSuite takes
/// it): exactly that day shows the difference, the next opens at the bank's figure and ties
/// out. A batch spanning two days with one balance closes only its last day: the day before
/// has no figure from the bank (`not_reported`), and a batch without a balance none either.
async fn a_wrong_fi_balance_is_a_difference_on_its_day_only(hub: Hub) {
    let b = Books::new(&hub).await;
    b.push(&hub, &[("D9", 9, 12, "10")], "510.00").await;
    b.push(&hub, &[("D8", 8, 12, "-10")], "500.00").await;
    b.push(&hub, &[("D7", 7, 12, "-50")], "454.70").await;
    b.push(&hub, &[("D6", 6, 12, "25")], "479.70").await;
    b.push(&hub, &[("D5", 5, 12, "1"), ("D4", 4, 12, "2")], "482.70")
        .await;
    b.push(&hub, &[("D3", 3, 12, "3")], "485.70").await;
    let body = json!({"bank_feed_transactions": {"bank_feed_account_id": b.account,
        "transactions": [{"transaction_id": "D2", "posted_at": posted(2, 12), "amount": 4}]}});
    hub.post_ok(&b.bank, &with_token(TRANSACTIONS, &b.token), &body)
        .await;
    let continuity = hub
        .get_ok(
            &b.bank,
            &with_token(&format!("{ACCOUNTS}/{}/continuity", b.account), &b.token),
        )
        .await;
    assert_eq!(
        continuity["breaks"].as_array().unwrap().len(),
        1,
        "{continuity}"
    );
    assert_eq!(
        b.sync(&hub).await,
        vec![
            row(9, false, "500.00", "510.00", "ties_out", "null"),
            row(8, false, "510.00", "500.00", "ties_out", "null"),
            row(7, false, "500.00", "454.70", "difference", "4.70"),
            row(6, false, "454.70", "479.70", "ties_out", "null"),
            row(5, false, "479.70", "null", "not_reported", "null"),
            row(4, false, "480.70", "482.70", "ties_out", "null"),
            row(3, false, "482.70", "485.70", "ties_out", "null"),
            row(2, false, "485.70", "null", "not_reported", "null"),
        ]
    );
}
