//! The hub's HTTP API as the benchmark uses it: one FI with one connection. Set-up (the
//! connection, the accounts) and a queued push's job polls go through `bankfeeds-client` (one
//! attempt each); the measured calls (pushes, pages, single reads, statements) send pre-built
//! requests and read only what they check, so the figures stay the hub's cost, not the
//! client's decoding.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use bankfeeds_client::wire::accounts::AccountIn;
use bankfeeds_client::wire::connections::ConnectionIn;
use bankfeeds_domain::{JobStatus, Platform};

use crate::data::{self, Kind};
use crate::hub::OrgCreated;

/// A client of one hub, authenticated as the bench's organisation, on one connection.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The typed client, on the same connection pool, for everything but the measured push
    /// and list paths: one attempt per call (the bench counts and retries failures itself).
    client: bankfeeds_client::Client,
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    client_id: String,
    client_secret: String,
    token: String,
    pub connection_id: String,
}

/// A refusal worth retrying (transport error, 5xx, 429), or not.
pub enum PushError {
    Retry(anyhow::Error),
    Fatal(anyhow::Error),
}

#[derive(Serialize)]
struct TxIn<'a> {
    transaction_id: &'a str,
    posted_at: String,
    amount: &'a str,
    description: &'a str,
    debit_credit_memo: &'a str,
}

#[derive(Deserialize)]
pub struct Listed {
    pub transaction_id: String,
    pub posted_at: String,
    pub amount: serde_json::Value,
}

#[derive(Deserialize)]
struct ListPage {
    bank_feed_transactions: Vec<Listed>,
    next_cursor: Option<String>,
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .tcp_nodelay(true)
        .pool_max_idle_per_host(64)
        .build()?)
}

impl Api {
    /// Creates the connection (platform INTUIT_BANK_FEEDS: its feeds take transactions from
    /// creation) and returns a client bound to it.
    pub async fn connect(
        http: reqwest::Client,
        base: &str,
        org: &OrgCreated,
    ) -> anyhow::Result<Self> {
        let client = bankfeeds_client::Client::builder(base, &org.client_id, &org.client_secret)
            .http_client(http.clone())
            .retry(bankfeeds_client::RetryPolicy::none())
            .build()?;
        let created = client
            .create_connection(&ConnectionIn {
                platform: Platform::IntuitBankFeeds,
                name: Some("Bench Ltd".into()),
            })
            .await
            .context("create connection")?
            .connection;
        let token = created
            .access_token
            .ok_or_else(|| anyhow!("no access_token in the new connection"))?;
        Ok(Self {
            http,
            client,
            inner: Arc::new(Inner {
                base: base.to_owned(),
                client_id: org.client_id.clone(),
                client_secret: org.client_secret.clone(),
                token,
                connection_id: created.id.to_string(),
            }),
        })
    }

    pub fn connection_id(&self) -> &str {
        &self.inner.connection_id
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.inner.base))
            .basic_auth(&self.inner.client_id, Some(&self.inner.client_secret))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.inner.base))
            .basic_auth(&self.inner.client_id, Some(&self.inner.client_secret))
            .query(&[("access_token", &self.inner.token)])
    }

    /// Registers a webhook endpoint for every event type of the organisation.
    pub async fn create_webhook(&self, url: &str) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("{}/versioned/webhooks", self.inner.base))
            .basic_auth(&self.inner.client_id, Some(&self.inner.client_secret))
            .json(&json!({ "url": url, "description": "bench: a misbehaving receiver" }))
            .send()
            .await
            .context("create webhook")?;
        if r.status() != StatusCode::CREATED {
            bail!(
                "create webhook {url}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// The typed client on the bench's connection.
    fn connection(&self) -> bankfeeds_client::ConnectionClient {
        self.client.connection(&self.inner.token)
    }

    /// Publishes one USD bank account; its id.
    pub async fn create_account(&self, internal_id: &str) -> anyhow::Result<String> {
        let account: AccountIn = serde_json::from_value(json!({
            "internal_bank_account_id": internal_id,
            "bank_account_type": "bank",
            "currency_code": "USD",
            "name": format!("Bench {internal_id}"),
            "current_balance": "1000.00",
        }))?;
        let created = self
            .connection()
            .create_account(account)
            .await
            .context("create account")?;
        Ok(created.bank_feed_account.id.to_string())
    }

    /// Publishes `n` accounts named `<label>-<i>`, `parallel` at a time; their ids in order.
    pub async fn create_accounts(
        &self,
        label: &str,
        n: usize,
        parallel: usize,
        progress: &indicatif::ProgressBar,
    ) -> anyhow::Result<Vec<String>> {
        let parallel = parallel.clamp(1, n.max(1));
        let mut set = tokio::task::JoinSet::new();
        for w in 0..parallel {
            let api = self.clone();
            let label = label.to_owned();
            let progress = progress.clone();
            set.spawn(async move {
                let mut out = Vec::new();
                for i in (w..n).step_by(parallel) {
                    out.push((i, api.create_account(&format!("{label}-{i:06}")).await?));
                    progress.inc(1);
                }
                anyhow::Ok(out)
            });
        }
        let mut ids = vec![String::new(); n];
        while let Some(r) = set.join_next().await {
            for (i, id) in r?? {
                ids[i] = id;
            }
        }
        Ok(ids)
    }

    /// The JSON body of one batch.
    pub fn batch_body(
        account_id: &str,
        account: usize,
        spec: data::BatchSpec,
        base: i64,
    ) -> Vec<u8> {
        let rows: Vec<data::Row> = (spec.start..spec.start + spec.len)
            .map(|s| data::row(Kind::Ingest, account, s, 0, base))
            .collect();
        let txs: Vec<TxIn<'_>> = rows
            .iter()
            .map(|r| TxIn {
                transaction_id: &r.transaction_id,
                posted_at: data::rfc3339(r.posted_at),
                amount: &r.amount,
                description: &r.description,
                debit_credit_memo: r.debit_credit_memo,
            })
            .collect();
        serde_json::to_vec(&json!({"bank_feed_transactions": {
            "bank_feed_account_id": account_id,
            "current_balance": "1000.00",
            "transactions": txs,
        }}))
        .expect("a batch serialises")
    }

    /// Pushes one batch (response_mode prefer_sync). Returns the job id; when the hub answered
    /// with the job rather than the transactions (not applied within its sync wait), waits for
    /// the job and checks it succeeded.
    pub async fn push(&self, body: Vec<u8>) -> Result<String, PushError> {
        let r = self
            .post("/versioned/accounting/bank_feeds/transactions")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PushError::Retry(e.into()))?;
        let status = r.status();
        let job_id = r
            .headers()
            .get("x-rutter-job-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = r.bytes().await.map_err(|e| PushError::Retry(e.into()))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(PushError::Retry(anyhow!(
                "push: {status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        if status != StatusCode::OK {
            return Err(PushError::Fatal(anyhow!(
                "push refused: {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(2000)])
            )));
        }
        let job_id =
            job_id.ok_or_else(|| PushError::Fatal(anyhow!("no x-rutter-job-id header")))?;
        // The synchronous answer starts with the transactions; the job envelope with this.
        let head = &bytes[..bytes.len().min(40)];
        if head.windows(16).any(|w| w == b"\"async_response\"") {
            self.wait_job(&job_id).await.map_err(PushError::Fatal)?;
        }
        Ok(job_id)
    }

    /// Polls a job until it finishes; an error unless it answered 200.
    pub async fn wait_job(&self, id: &str) -> anyhow::Result<()> {
        for _ in 0..6000 {
            let job = self
                .client
                .get_job(id)
                .await
                .with_context(|| format!("job {id}"))?;
            if matches!(job.status, JobStatus::Success | JobStatus::Failure) {
                let code = job.response.map_or(0, |r| r.http_status);
                if code != 200 {
                    bail!("job {id} finished {} with {code}", job.status.as_str());
                }
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("job {id} did not finish in 5 minutes")
    }

    /// One page (up to 1000) of an account's transactions, oldest first, and the next cursor.
    pub async fn list_page(
        &self,
        account_id: &str,
        cursor: Option<&str>,
    ) -> anyhow::Result<(Vec<Listed>, Option<String>)> {
        let mut q = vec![
            ("access_token", self.inner.token.as_str()),
            ("bank_feed_account_id", account_id),
            ("limit", "1000"),
        ];
        if let Some(c) = cursor {
            q.push(("cursor", c));
        }
        let r = self
            .get("/versioned/accounting/bank_feeds/transactions")
            .query(&q)
            .send()
            .await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        if !status.is_success() {
            bail!(
                "list transactions: {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let page: ListPage = serde_json::from_slice(&bytes).context("list transactions")?;
        Ok((page.bank_feed_transactions, page.next_cursor))
    }

    /// Downloads the account's statement file in `format`, reading it as it streams and keeping
    /// none of it: `(bytes, lines)`.
    pub async fn statement(&self, account_id: &str, format: &str) -> anyhow::Result<(u64, u64)> {
        let mut r = self
            .get(&format!(
                "/versioned/accounting/bank_feeds/accounts/{account_id}/statement"
            ))
            .query(&[
                ("access_token", self.inner.token.as_str()),
                ("format", format),
            ])
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("statement {format}: {}", r.status());
        }
        let (mut bytes, mut lines) = (0u64, 0u64);
        while let Some(chunk) = r.chunk().await? {
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        Ok((bytes, lines))
    }

    /// `GET …/accounts/:id`, checked for 200. Measured: the body is read, not decoded.
    pub async fn get_account(&self, id: &str) -> anyhow::Result<()> {
        let r = self
            .get(&format!("/versioned/accounting/bank_feeds/accounts/{id}"))
            .query(&[("access_token", &self.inner.token)])
            .send()
            .await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        if !status.is_success() {
            bail!("get account: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(())
    }

    /// `GET /versioned/jobs/:id`, checked for 200. Measured: the body (which holds the
    /// batch as sent) is read, not decoded.
    pub async fn get_job(&self, id: &str) -> anyhow::Result<()> {
        let r = self.get(&format!("/versioned/jobs/{id}")).send().await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        if !status.is_success() {
            bail!("get job: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(())
    }
}
