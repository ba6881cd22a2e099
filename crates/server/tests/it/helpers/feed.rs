//! One bank feed account set up through the API, as the transaction and continuity tests use
//! it: an organisation, a connection, an account; linked as the platform's link would when a
//! test needs it to be.

use bankfeeds_domain::account::{FeedState, FeedStatus};
use bankfeeds_domain::{Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};

use super::{with_token, Creds, Hub, ACCOUNTS, TRANSACTIONS};

/// `n` days before now.
pub fn days_ago(n: i64) -> DateTime<Utc> {
    SystemClock.now() - TimeDelta::days(n)
}

/// The body of one batch of `transactions` for `account`.
pub fn batch(account: &str, transactions: Vec<Value>) -> Value {
    json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": transactions}})
}

/// `(id, days ago, amount)` as card payments.
fn card_payments(txns: &[(&str, i64, &str)]) -> Vec<Value> {
    txns.iter()
        .map(|(id, ago, amount)| {
            json!({
                "transaction_id": id,
                "posted_at": days_ago(*ago).to_rfc3339_opts(SecondsFormat::Secs, true),
                "amount": amount.parse::<Value>().unwrap(),
                "description": "Card payment",
            })
        })
        .collect()
}

/// "Demo Bank"'s account "Operating" on a connection of its own.
pub struct Feed {
    pub creds: Creds,
    pub token: String,
    pub account: String,
}

impl Feed {
    /// The account in `currency` on a new connection on `platform`, reporting `balance` as its
    /// current balance when given; not linked.
    pub async fn new(hub: &Hub, platform: &str, currency: &str, balance: Option<&str>) -> Feed {
        let creds = hub.org("Demo Bank").await;
        let (_, token) = hub.connection(&creds, platform).await;
        let mut fields = json!({
            "internal_bank_account_id": "0674101002388",
            "bank_account_type": "bank",
            "currency_code": currency,
            "name": "Operating",
        });
        if let Some(balance) = balance {
            fields["current_balance"] = balance.parse::<Value>().unwrap();
        }
        let created = hub.create_account(&creds, &token, fields).await;
        let account = created["id"].as_str().unwrap().to_owned();
        Feed {
            creds,
            token,
            account,
        }
    }

    /// Links the feed as the platform's link does: active, and ready for transactions posted
    /// from `start`.
    pub async fn link(&self, hub: &Hub, start: Option<DateTime<Utc>>) {
        let state = FeedState {
            feed_status: FeedStatus::Active,
            transaction_ready: true,
            transaction_start_date: start,
        };
        hub.store
            .set_feed_state(self.account.parse().unwrap(), &state, SystemClock.now())
            .await
            .unwrap();
    }

    /// The connection's transactions path, with its access token.
    pub fn transactions_path(&self) -> String {
        with_token(TRANSACTIONS, &self.token)
    }

    /// `{ACCOUNTS}/<account><tail>`, with the access token.
    pub fn path(&self, tail: &str) -> String {
        with_token(&format!("{ACCOUNTS}/{}{tail}", self.account), &self.token)
    }

    /// POSTs a batch `body` as the FI.
    pub async fn push(&self, hub: &Hub, body: &Value) -> reqwest::Result<reqwest::Response> {
        hub.post(&self.creds, &self.transactions_path(), body)
            .send()
            .await
    }

    /// Pushes `(id, days ago, amount)` card payments, with `balance` as the account's current
    /// balance when given.
    pub async fn push_card_payments(
        &self,
        hub: &Hub,
        txns: &[(&str, i64, &str)],
        balance: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut body = batch(&self.account, card_payments(txns));
        if let Some(b) = balance {
            body["bank_feed_transactions"]["current_balance"] = b.parse::<Value>().unwrap();
        }
        self.push(hub, &body).await
    }

    /// The account as the FI reads it.
    pub async fn account(&self, hub: &Hub) -> Value {
        hub.account(&self.creds, &self.token, &self.account).await
    }

    /// The account's continuity report.
    pub async fn continuity(&self, hub: &Hub) -> Value {
        hub.get_ok(&self.creds, &self.path("/continuity")).await
    }

    /// The stored transactions, in feed order.
    pub async fn stored(&self, hub: &Hub) -> Vec<Value> {
        let path = format!("{}&limit=1000", self.transactions_path());
        let list = hub.get_ok(&self.creds, &path).await;
        list["bank_feed_transactions"].as_array().unwrap().clone()
    }

    /// The FI's ids of the stored transactions, in feed order.
    pub async fn stored_ids(&self, hub: &Hub) -> Vec<String> {
        let stored = self.stored(hub).await;
        stored
            .iter()
            .map(|t| t["transaction_id"].as_str().unwrap().to_owned())
            .collect()
    }
}
