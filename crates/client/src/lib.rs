//! A typed async client for bankfeeds' Rutter-shaped API (`/versioned`).
//!
//! ```no_run
//! # async fn demo() -> bankfeeds_client::Result<()> {
//! use bankfeeds_client::{wire, Client};
//! let hub = Client::new("https://feeds.example.com", "client_id", "client_secret")?;
//! let conn = hub.connection("access_token");
//! let batch: wire::transactions::BatchIn = serde_json::from_str(r#"{
//!     "bank_feed_account_id": "0191b3c4-…", "transactions": []}"#).unwrap();
//! let stored = conn.push(&batch).await?.stored().await?;
//! # Ok(()) }
//! ```
//!
//! Every call authenticates with HTTP Basic, sends a fresh `Idempotency-Key` with each write
//! (the same one on each retry), and retries 429s, 5xx answers and transport failures as its
//! [`RetryPolicy`] says. Lists are [`futures_util::Stream`]s that follow `next_cursor`; an
//! asynchronous push is a [`PendingJob`] to `.await`. A refusal is [`Error::Api`], carrying
//! the hub's stable `error_code`.

mod connection;
mod error;
mod jobs;
mod paging;
mod retry;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use bankfeeds_wire as wire;
pub use connection::{ConnectionClient, TransactionFilter};
pub use error::{Error, Result};
pub use jobs::{PendingJob, Pushed};
pub use retry::RetryPolicy;

use wire::connections::{ConnectionCreateOut, ConnectionIn, ConnectionOut, DeletedOut};
use wire::fi_configs::{FiConfigDeletedOut, FiConfigEnvelopeOut, FiConfigIn, FiConfigListOut};
use wire::jobs::{JobGetOut, JobOut};

/// The hub, as one organisation (`client_id`/`client_secret`). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: String,
    retry: RetryPolicy,
    job_poll_max: Duration,
}

/// Options for [`Client::builder`].
pub struct ClientBuilder {
    base: String,
    client_id: String,
    client_secret: String,
    retry: RetryPolicy,
    timeout: Duration,
    job_poll_max: Duration,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// How calls are retried (default: 5 attempts, 250 ms doubling, at most 30 s apart).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Each attempt's time-out (default 60 s); a timed-out attempt is retried.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest pause between two polls of a job (default 2 s).
    pub fn job_poll_max(mut self, every: Duration) -> Self {
        self.job_poll_max = every;
        self
    }

    /// A `reqwest::Client` of the caller's (proxies, extra root certificates); `timeout` then
    /// does not apply.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    pub fn build(self) -> Result<Client> {
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .use_rustls_tls()
                .timeout(self.timeout)
                .user_agent(concat!("bankfeeds-client/", env!("CARGO_PKG_VERSION")))
                .build()?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: self.base.trim_end_matches('/').to_owned(),
                client_id: self.client_id,
                client_secret: self.client_secret,
                retry: self.retry,
                job_poll_max: self.job_poll_max,
            }),
        })
    }
}

/// What the hub answered a call with, after the retries.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The hub answered with the saved outcome of an earlier request with the same
    /// `Idempotency-Key` (`Idempotent-Replayed: true`).
    pub(crate) replayed: bool,
}

/// An answer read whole (one that was considered for a retry), or one still to read.
enum Sent {
    Read(Answer),
    Streaming(reqwest::Response),
}

/// A prepared request: what is sent again, unchanged, on each attempt.
pub(crate) struct Call<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<String>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: &'a str) -> Self {
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            idempotency_key: None,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// A JSON body; a write gets a fresh `Idempotency-Key` unless [`Call::key`] sets one.
    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("request bodies serialise"));
        self
    }

    pub(crate) fn key(mut self, key: Option<String>) -> Self {
        self.idempotency_key = key;
        self
    }
}

impl Client {
    /// A client for the hub at `base_url` (e.g. `https://feeds.example.com`) with default options.
    pub fn new(base_url: &str, client_id: &str, client_secret: &str) -> Result<Client> {
        Self::builder(base_url, client_id, client_secret).build()
    }

    pub fn builder(base_url: &str, client_id: &str, client_secret: &str) -> ClientBuilder {
        ClientBuilder {
            base: base_url.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            job_poll_max: Duration::from_secs(2),
            http: None,
        }
    }

    /// The hub's base URL, as given.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The calls on the connection `access_token` selects (accounts, transactions, OTP).
    pub fn connection(&self, access_token: &str) -> ConnectionClient {
        ConnectionClient::new(self.clone(), access_token)
    }

    /// Sends `call`, retrying as the policy says; answers the last answer, read whole.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Answer> {
        match self.send_streaming(call).await? {
            Sent::Read(answer) => Ok(answer),
            Sent::Streaming(resp) => {
                let status = resp.status().as_u16();
                let replayed = resp.headers().contains_key("idempotent-replayed");
                let body = resp.bytes().await?.to_vec();
                Ok(Answer {
                    status,
                    body,
                    replayed,
                })
            }
        }
    }

    /// Sends `call`, retrying as the policy says. An answer that may be retried (429, 5xx,
    /// 409) is read to decide; any other is handed back unread, for the caller to stream.
    async fn send_streaming(&self, call: Call<'_>) -> Result<Sent> {
        let inner = &self.inner;
        let writes = call.method != Method::GET;
        let key = match (&call.idempotency_key, writes) {
            (Some(k), _) => Some(k.clone()),
            (None, true) => Some(uuid::Uuid::new_v4().to_string()),
            (None, false) => None,
        };
        let url = format!("{}{}", inner.base, call.path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= inner.retry.max_attempts.max(1);
            let mut req = inner
                .http
                .request(call.method.clone(), &url)
                .basic_auth(&inner.client_id, Some(&inner.client_secret));
            if !call.query.is_empty() {
                req = req.query(&call.query);
            }
            if let Some(key) = &key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(body) = &call.body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let answer = match req.send().await {
                Ok(resp) if !matches!(resp.status().as_u16(), 409 | 429 | 500..=599) => {
                    return Ok(Sent::Streaming(resp));
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let wait = retry::retry_after(resp.headers());
                    let replayed = resp.headers().contains_key("idempotent-replayed");
                    resp.bytes()
                        .await
                        .map(|b| (status, b.to_vec(), wait, replayed))
                }
                Err(e) => Err(e),
            };
            match answer {
                Ok((status, body, wait, replayed)) => {
                    if last || !retry::retryable_status(status, &body) {
                        return Ok(Sent::Read(Answer {
                            status,
                            body,
                            replayed,
                        }));
                    }
                    tokio::time::sleep(inner.retry.delay(attempt, wait)).await;
                }
                Err(e) => {
                    if last || !retry::retryable_error(&e) {
                        return Err(e.into());
                    }
                    tokio::time::sleep(inner.retry.delay(attempt, None)).await;
                }
            }
        }
    }

    /// Sends `call` and hands back a 2xx answer unread (a statement file, to stream), or the
    /// error any other answer carries.
    pub(crate) async fn stream(&self, call: Call<'_>) -> Result<reqwest::Response> {
        match self.send_streaming(call).await? {
            Sent::Streaming(resp) if resp.status().is_success() => Ok(resp),
            Sent::Streaming(resp) => {
                let status = resp.status().as_u16();
                Err(Error::from_answer(status, &resp.bytes().await?))
            }
            Sent::Read(answer) if (200..300).contains(&answer.status) => Err(Error::Decode {
                status: answer.status,
                message: "read before it could be streamed".into(),
            }),
            Sent::Read(answer) => Err(Error::from_answer(answer.status, &answer.body)),
        }
    }

    /// Sends `call` and reads a 2xx answer as `T`, anything else as an error.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let answer = self.send(call).await?;
        decode(answer.status, &answer.body)
    }

    /// Create a connection for one business customer and platform. The answer holds its
    /// `access_token`, shown this once.
    pub async fn create_connection(
        &self,
        connection: &ConnectionIn,
    ) -> Result<ConnectionCreateOut> {
        let call = Call::new(Method::POST, "/versioned/connections/create").json(connection);
        self.call(call).await
    }

    /// The organisation's connections, oldest first, page after page.
    pub fn list_connections(
        &self,
    ) -> impl futures_util::Stream<Item = Result<ConnectionOut>> + Send + 'static {
        paging::items::<wire::connections::ConnectionListOut>(
            self.clone(),
            "/versioned/connections".to_owned(),
            Vec::new(),
        )
    }

    /// Delete a connection and its bank feed accounts.
    pub async fn delete_connection(&self, id: &str) -> Result<DeletedOut> {
        let path = format!("/versioned/connections/{id}");
        self.call(Call::new(Method::DELETE, &path)).await
    }

    /// Give a connection a new access token (answered once, in the result).
    pub async fn rotate_access_token(&self, id: &str) -> Result<ConnectionCreateOut> {
        let path = format!("/versioned/connections/{id}/rotate_access_token");
        self.call(Call::new(Method::POST, &path)).await
    }

    /// A job of the organisation, as it stands.
    pub async fn get_job(&self, id: &str) -> Result<JobOut> {
        let path = format!("/versioned/jobs/{id}");
        let got: JobGetOut = self.call(Call::new(Method::GET, &path)).await?;
        Ok(got.job)
    }

    /// Set how the FI appears on `platform` (e.g. `XERO`) and where its login page is.
    pub async fn put_fi_config(
        &self,
        platform: &str,
        config: &FiConfigIn,
    ) -> Result<FiConfigEnvelopeOut> {
        let path = format!("/versioned/bank_feeds/configs/{platform}");
        self.call(Call::new(Method::PUT, &path).json(config)).await
    }

    pub async fn list_fi_configs(&self) -> Result<FiConfigListOut> {
        self.call(Call::new(Method::GET, "/versioned/bank_feeds/configs"))
            .await
    }

    pub async fn get_fi_config(&self, platform: &str) -> Result<FiConfigEnvelopeOut> {
        let path = format!("/versioned/bank_feeds/configs/{platform}");
        self.call(Call::new(Method::GET, &path)).await
    }

    pub async fn delete_fi_config(&self, platform: &str) -> Result<FiConfigDeletedOut> {
        let path = format!("/versioned/bank_feeds/configs/{platform}");
        self.call(Call::new(Method::DELETE, &path)).await
    }
}

/// A 2xx answer read as `T`; anything else as the error it carries.
pub(crate) fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T> {
    if StatusCode::from_u16(status).is_ok_and(|s| s.is_success()) {
        serde_json::from_slice(body).map_err(|e| Error::Decode {
            status,
            message: e.to_string(),
        })
    } else {
        Err(Error::from_answer(status, body))
    }
}
