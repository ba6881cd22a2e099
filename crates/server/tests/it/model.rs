//! Model-based test of exactly-once: random sequences of batches per account — new batches,
//! retries of acknowledged ones, conflicting re-sends, idempotency-key replays and reuses,
//! refused batches, async jobs, and racing duplicate submissions — run concurrently over several
//! accounts. Afterwards the store must hold exactly the acknowledged transactions, each once,
//! in the order they were acknowledged.

use std::collections::HashMap;

use bankfeeds_domain::{Amount, Clock, SystemClock};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{items, Creds, Hub};

crate::on_both_backends!(random_batch_sequences_store_each_acknowledged_transaction_once);

const ACCOUNTS: usize = 3;
const STEPS: usize = 30;
const TXNS: &str = "/versioned/accounting/bank_feeds/transactions";

#[derive(Clone)]
struct Ctx {
    hub_base: String,
    state: bankfeeds_server::AppState,
    http: reqwest::Client,
    client_id: String,
    secret: String,
    token: String,
}

impl Ctx {
    fn post(&self, body: &Value, key: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .post(format!(
                "{}{TXNS}?access_token={}",
                self.hub_base, self.token
            ))
            .basic_auth(&self.client_id, Some(&self.secret))
            .json(body);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        r
    }

    async fn send(&self, body: &Value, key: Option<&str>) -> (u16, Value) {
        let resp = self.post(body, key).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn job_outcome(&self, id: &str) -> (u16, Value) {
        bankfeeds_server::jobs::drain(&self.state).await.unwrap();
        let job: Value = self
            .http
            .get(format!("{}/versioned/jobs/{id}", self.hub_base))
            .basic_auth(&self.client_id, Some(&self.secret))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = job["job"]["response"]["http_status"].as_u64();
        let status = status.unwrap_or_else(|| panic!("job {id} never finished: {job}"));
        (status as u16, job["job"]["response"]["body"].clone())
    }
}

/// What the model expects one account to hold, in acknowledgement order.
struct Model {
    /// All timestamps are whole minutes after this instant.
    base: DateTime<Utc>,
    acknowledged: Vec<Value>,
    by_id: HashMap<String, Value>,
    batches: Vec<Value>,
    clock: i64,
    next_id: u64,
}

impl Model {
    fn fresh(&mut self, rng: &mut StdRng, n: usize, tag: &str) -> Vec<Value> {
        (0..n)
            .map(|_| {
                // Equal timestamps are allowed, so the clock sometimes stands still.
                self.clock += rng.gen_range(0..3);
                self.next_id += 1;
                let cents: i64 = rng.gen_range(-500_000..500_000);
                let amount: Value =
                    serde_json::from_str(&format!("{}.{:02}", cents / 100, (cents % 100).abs()))
                        .unwrap_or(json!(0));
                let at = self.base + TimeDelta::minutes(self.clock);
                json!({
                    "transaction_id": format!("{tag}-{}", self.next_id),
                    "posted_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
                    "amount": amount,
                    "description": format!("txn {}", self.next_id),
                })
            })
            .collect()
    }

    /// The newest posting time the account holds. Not the model's clock: that also moved for
    /// transactions never stored (a refused key reuse), and a day before it can be the stored
    /// newest's own day when the clock has just passed midnight UTC.
    fn newest_stored(&self) -> Option<DateTime<Utc>> {
        self.acknowledged
            .iter()
            .map(|t| {
                let at = t["posted_at"].as_str().unwrap();
                DateTime::parse_from_rfc3339(at)
                    .unwrap()
                    .with_timezone(&Utc)
            })
            .max()
    }

    fn acknowledge(&mut self, txns: &[Value]) {
        for t in txns {
            let id = t["transaction_id"].as_str().unwrap().to_owned();
            if let std::collections::hash_map::Entry::Vacant(slot) = self.by_id.entry(id) {
                slot.insert(t.clone());
                self.acknowledged.push(t.clone());
            }
        }
    }
}

fn body(account: &str, txns: &[Value]) -> Value {
    json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": txns}})
}

fn flags(answer: &Value) -> Vec<bool> {
    answer["bank_feed_transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("not a batch answer: {answer}"))
        .iter()
        .map(|t| t["duplicate"].as_bool().unwrap())
        .collect()
}

async fn drive(ctx: Ctx, account: String, seed: u64) -> Model {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut m = Model {
        base: SystemClock.now() - TimeDelta::days(30),
        acknowledged: Vec::new(),
        by_id: HashMap::new(),
        batches: Vec::new(),
        clock: 0,
        next_id: 0,
    };
    let tag = &account[account.len() - 6..];
    for step in 0..STEPS {
        match rng.gen_range(0..8) {
            // A new batch, synchronously.
            0 | 1 => {
                let n = rng.gen_range(1..20);
                let txns = m.fresh(&mut rng, n, tag);
                let (status, answer) = ctx.send(&body(&account, &txns), None).await;
                assert_eq!(status, 200, "step {step}: {answer}");
                assert!(flags(&answer).iter().all(|d| !d));
                m.acknowledge(&txns);
                m.batches.push(json!(txns));
            }
            // A retry of an acknowledged batch: all duplicates, nothing new.
            2 if !m.batches.is_empty() => {
                let old = m.batches[rng.gen_range(0..m.batches.len())]
                    .as_array()
                    .unwrap()
                    .clone();
                let (status, answer) = ctx.send(&body(&account, &old), None).await;
                assert_eq!(status, 200, "step {step}: {answer}");
                assert!(
                    flags(&answer).iter().all(|d| *d),
                    "step {step}: a retry is all duplicates"
                );
            }
            // A conflicting re-send: refused whole, the fresh transaction with it not applied.
            3 if !m.acknowledged.is_empty() => {
                let mut changed = m.acknowledged[rng.gen_range(0..m.acknowledged.len())].clone();
                changed["amount"] = json!(999_999.99);
                let txns = vec![changed];
                let (status, answer) = ctx.send(&body(&account, &txns), None).await;
                assert_eq!(
                    (status, answer["error_code"].as_str()),
                    (409, Some("TRANSACTION_ID_CONFLICT")),
                    "step {step}"
                );
            }
            // An idempotent batch, replayed: one application, the same answer twice; then the
            // key reused for something else is refused.
            4 => {
                let n = rng.gen_range(1..10);
                let txns = m.fresh(&mut rng, n, tag);
                let key = format!("{account}-{step}");
                let (s1, a1) = ctx.send(&body(&account, &txns), Some(&key)).await;
                let (s2, a2) = ctx.send(&body(&account, &txns), Some(&key)).await;
                assert_eq!((s1, s2), (200, 200), "step {step}: {a1} {a2}");
                assert_eq!(
                    a1, a2,
                    "step {step}: a replay answers exactly as the first time"
                );
                m.acknowledge(&txns);
                m.batches.push(json!(txns));
                let other = m.fresh(&mut rng, 1, "unused");
                let (s3, a3) = ctx.send(&body(&account, &other), Some(&key)).await;
                assert_eq!(
                    (s3, a3["error_code"].as_str()),
                    (409, Some("IDEMPOTENCY_KEY_REUSED"))
                );
                m.next_id -= 1; // that transaction was never stored
            }
            // A new transaction on a day before the newest stored's: refused, nothing applied.
            5 if m.newest_stored().is_some() => {
                m.next_id += 1;
                let at = m.newest_stored().unwrap() - TimeDelta::days(1);
                let txns = vec![
                    json!({"transaction_id": format!("{tag}-old-{}", m.next_id), "posted_at": at.to_rfc3339(), "amount": -1}),
                ];
                let (status, answer) = ctx.send(&body(&account, &txns), None).await;
                assert_eq!(
                    (status, answer["error_code"].as_str()),
                    (400, Some("OLDER_THAN_STORED")),
                    "step {step}"
                );
            }
            // Async: the job holds the outcome.
            6 => {
                let n = rng.gen_range(1..10);
                let txns = m.fresh(&mut rng, n, tag);
                let mut b = body(&account, &txns);
                b["response_mode"] = json!("async");
                let (status, envelope) = ctx.send(&b, None).await;
                assert_eq!(status, 200);
                let (status, answer) = ctx
                    .job_outcome(envelope["async_response"]["id"].as_str().unwrap())
                    .await;
                assert_eq!(status, 200, "step {step}: {answer}");
                assert!(flags(&answer).iter().all(|d| !d));
                m.acknowledge(&txns);
                m.batches.push(json!(txns));
            }
            // The same new batch sent twice at once (a client retrying before the first answer):
            // each transaction is created by exactly one of the two.
            _ => {
                let n = rng.gen_range(1..10);
                let txns = m.fresh(&mut rng, n, tag);
                let b = body(&account, &txns);
                let (r1, r2) = tokio::join!(ctx.send(&b, None), ctx.send(&b, None));
                assert_eq!((r1.0, r2.0), (200, 200), "step {step}: {} {}", r1.1, r2.1);
                for (d1, d2) in flags(&r1.1).into_iter().zip(flags(&r2.1)) {
                    assert!(d1 != d2, "step {step}: created exactly once");
                }
                m.acknowledge(&txns);
                m.batches.push(json!(txns));
            }
        }
    }
    m
}

async fn stored(hub: &Hub, creds: &Creds, token: &str, account: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url =
            format!("{TXNS}?access_token={token}&bank_feed_account_id={account}&limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = hub.get_ok(creds, &url).await;
        all.extend(items(&page["bank_feed_transactions"]).iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

async fn random_batch_sequences_store_each_acknowledged_transaction_once(hub: Hub) {
    for seed in [7_u64, 42] {
        let creds = hub.org(&format!("Model Bank {seed}")).await;
        let (_, token) = hub.connection(&creds, "INTUIT_BANK_FEEDS").await;
        let ctx = Ctx {
            hub_base: hub.base.clone(),
            state: hub.state.clone(),
            http: hub.http.clone(),
            client_id: creds.client_id.clone(),
            secret: creds.client_secret.clone(),
            token: token.clone(),
        };
        let mut accounts = Vec::new();
        for i in 0..ACCOUNTS {
            let fields = json!({"internal_bank_account_id": format!("ACC-{i}"), "bank_account_type": "bank", "currency_code": "USD"});
            let created = hub.create_account(&creds, &token, fields).await;
            accounts.push(created["id"].as_str().unwrap().to_owned());
        }
        // Every account is driven concurrently with the others.
        let runs: Vec<_> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| tokio::spawn(drive(ctx.clone(), a.clone(), seed * 100 + i as u64)))
            .collect();
        for (account, run) in accounts.iter().zip(runs) {
            let model = run.await.unwrap();
            let rows = stored(&hub, &creds, &token, account).await;
            // Amounts compare as exact decimals (the API answers 1.50 as 1.5).
            let amount = |v: &Value| v.to_string().parse::<Amount>().unwrap();
            let got: Vec<(&str, Amount, &str)> = rows
                .iter()
                .map(|t| {
                    (
                        t["transaction_id"].as_str().unwrap(),
                        amount(&t["amount"]),
                        t["posted_at"].as_str().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(&str, Amount)> = model
                .acknowledged
                .iter()
                .map(|t| (t["transaction_id"].as_str().unwrap(), amount(&t["amount"])))
                .collect();
            let got_ids: Vec<(&str, Amount)> = got.iter().map(|(id, a, _)| (*id, *a)).collect();
            assert_eq!(
                got_ids, want,
                "seed {seed}: exactly the acknowledged transactions, once each, in order"
            );
            let times: Vec<DateTime<Utc>> =
                got.iter().map(|(_, _, at)| at.parse().unwrap()).collect();
            assert!(
                times.windows(2).all(|w| w[0] <= w[1]),
                "stored in posted order"
            );
        }
    }
}
