//! The HTTP client of Xero's identity server and Bank Feeds API. Every call to a tenant takes a
//! permit from the per-tenant limiter; a 429 holds the tenant for its `Retry-After` (waited out
//! here when short, handed back as [`XeroError::RateLimited`] when long); 5xx answers, time-outs
//! and broken connections are retried with exponential back-off and jitter, then handed back as
//! [`XeroError::Unavailable`] for the delivery queue to try later. Nothing here touches the
//! database: the caller keeps the tokens (sealed) and decides what an answer means.

use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::Timestamp;
use rand::Rng as _;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use super::model::{
    DeleteRequest, FeedConnectionIn, FeedConnectionOut, Items, Problem, StatementIn, StatementOut,
    Tenant, TokenResponse,
};
use super::{AppCredentials, TenantLimiter, Tokens, XeroEndpoints};

/// How calls are retried: as data, so tests run it fast.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries of one call in all (5xx, time-outs, short 429s).
    pub attempts: u32,
    /// First back-off; doubled each try, with up to half again of jitter.
    pub base: Duration,
    /// Longest back-off between two tries.
    pub max_backoff: Duration,
    /// A `Retry-After` (or limiter wait) up to this is waited out in the call; longer ones end
    /// the call with `RateLimited`.
    pub max_inline_wait: Duration,
    /// Time-out of one request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_inline_wait: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` (0-based `attempt` is the one that failed).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(self.max_backoff);
        let jitter = rand::thread_rng().gen_range(0..=capped.as_millis() as u64 / 2);
        capped + Duration::from_millis(jitter)
    }
}

/// Why a call to Xero did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum XeroError {
    /// Over the tenant's limit (ours or Xero's 429): try again after this.
    #[error("rate limited for {0:?}")]
    RateLimited(Duration),
    /// 5xx, time-outs or connection failures on every try: try again later.
    #[error("Xero did not answer usably: {0}")]
    Unavailable(String),
    /// 401: the access token is not (or no longer) accepted; refresh it.
    #[error("the access token was refused")]
    Unauthorized,
    /// The identity server refused the refresh token (`invalid_grant`): the customer revoked
    /// the consent or it expired; only a new consent helps.
    #[error("the consent was revoked or has expired")]
    ConsentRevoked,
    /// A 4xx with Xero's problem (`type` such as `duplicate-statement`) and the raw body.
    #[error("Xero refused with {status}: {}", problem.kind.as_deref().unwrap_or("?"))]
    Refused {
        status: u16,
        problem: Problem,
        body: serde_json::Value,
    },
    /// A 2xx whose body is not what the spec says.
    #[error("unexpected answer from Xero: {0}")]
    Protocol(String),
}

/// Who a Bank Feeds call is for.
#[derive(Clone, Copy)]
pub struct TenantAuth<'a> {
    pub tenant_id: &'a str,
    pub access_token: &'a str,
}

pub struct XeroClient {
    http: reqwest::Client,
    endpoints: XeroEndpoints,
    limiter: Arc<TenantLimiter>,
    retry: RetryPolicy,
}

impl XeroClient {
    pub fn new(endpoints: XeroEndpoints, limiter: Arc<TenantLimiter>, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(retry.timeout)
            .connect_timeout(retry.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("bankfeeds/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client");
        Self {
            http,
            endpoints,
            limiter,
            retry,
        }
    }

    pub fn endpoints(&self) -> &XeroEndpoints {
        &self.endpoints
    }

    /// Trades a refresh token for new tokens. Xero rotates refresh tokens: the answer's
    /// refresh token replaces the old one, which must be stored before the access token is used.
    pub async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &str,
        now: Timestamp,
    ) -> Result<Tokens, XeroError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token_call(app, &form, now).await
    }

    /// Trades an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        now: Timestamp,
    ) -> Result<Tokens, XeroError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        self.token_call(app, &form, now).await
    }

    async fn token_call(
        &self,
        app: &AppCredentials,
        form: &[(&str, &str)],
        now: Timestamp,
    ) -> Result<Tokens, XeroError> {
        let url = format!("{}/connect/token", self.endpoints.identity);
        let answer = self
            .send(None, || {
                self.http
                    .post(&url)
                    .basic_auth(&app.client_id, Some(&app.client_secret))
                    .form(form)
            })
            .await;
        let token: TokenResponse = match answer {
            Ok(body) => parse(&body)?,
            // `invalid_grant` (400) or a refused client (401): only a new consent helps.
            Err(XeroError::Refused { status: 400, .. }) | Err(XeroError::Unauthorized) => {
                return Err(XeroError::ConsentRevoked)
            }
            Err(e) => return Err(e),
        };
        Ok(Tokens {
            access_token: token.access_token,
            refresh_token: token.refresh_token,
            access_expires_at: now + chrono::TimeDelta::seconds(token.expires_in.clamp(0, 86_400)),
        })
    }

    /// The Xero organisations the consent behind `access_token` covers.
    pub async fn connections(&self, access_token: &str) -> Result<Vec<Tenant>, XeroError> {
        let url = format!("{}/connections", self.endpoints.connections);
        let body = self
            .send(None, || self.http.get(&url).bearer_auth(access_token))
            .await?;
        parse(&body)
    }

    /// `POST /FeedConnections`: one answer per item, `PENDING` with Xero's id or `REJECTED`
    /// with its error (a 400 with per-item errors is answered as items too).
    pub async fn create_feed_connections(
        &self,
        auth: TenantAuth<'_>,
        idempotency_key: &str,
        items: &[FeedConnectionOut],
    ) -> Result<Vec<FeedConnectionIn>, XeroError> {
        let body = Items {
            items: items.to_vec(),
        };
        let key = Some(idempotency_key);
        match self
            .bank_feeds(auth, Method::POST, "/FeedConnections", key, Some(&body))
            .await
        {
            Ok(answer) => Ok(parse::<Items<FeedConnectionIn>>(&answer)?.items),
            Err(XeroError::Refused {
                status: 400, body, ..
            }) if body.get("items").is_some() => {
                Ok(serde_json::from_value::<Items<FeedConnectionIn>>(body)
                    .map_err(|e| XeroError::Protocol(e.to_string()))?
                    .items)
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /FeedConnections/{id}`.
    pub async fn get_feed_connection(
        &self,
        auth: TenantAuth<'_>,
        id: &str,
    ) -> Result<FeedConnectionIn, XeroError> {
        let path = format!("/FeedConnections/{}", urlencode(id));
        let body = self
            .bank_feeds::<()>(auth, Method::GET, &path, None, None)
            .await?;
        parse(&body)
    }

    /// `POST /FeedConnections/DeleteRequests`.
    pub async fn delete_feed_connections(
        &self,
        auth: TenantAuth<'_>,
        idempotency_key: &str,
        items: &[DeleteRequest],
    ) -> Result<Vec<FeedConnectionIn>, XeroError> {
        let body = Items {
            items: items.to_vec(),
        };
        let answer = self
            .bank_feeds(
                auth,
                Method::POST,
                "/FeedConnections/DeleteRequests",
                Some(idempotency_key),
                Some(&body),
            )
            .await?;
        Ok(parse::<Items<FeedConnectionIn>>(&answer)?.items)
    }

    /// `POST /Statements` with one statement and its `Idempotency-Key`: Xero's answer for it.
    pub async fn create_statement(
        &self,
        auth: TenantAuth<'_>,
        idempotency_key: &str,
        statement: &StatementOut,
    ) -> Result<StatementIn, XeroError> {
        let body = Items {
            items: vec![statement.clone()],
        };
        let answer = self
            .bank_feeds(
                auth,
                Method::POST,
                "/Statements",
                Some(idempotency_key),
                Some(&body),
            )
            .await?;
        parse::<Items<StatementIn>>(&answer)?
            .items
            .into_iter()
            .next()
            .ok_or_else(|| XeroError::Protocol("no statement in the answer".into()))
    }

    /// `GET /Statements/{id}`.
    pub async fn get_statement(
        &self,
        auth: TenantAuth<'_>,
        id: &str,
    ) -> Result<StatementIn, XeroError> {
        let path = format!("/Statements/{}", urlencode(id));
        let body = self
            .bank_feeds::<()>(auth, Method::GET, &path, None, None)
            .await?;
        parse(&body)
    }

    async fn bank_feeds<T: serde::Serialize>(
        &self,
        auth: TenantAuth<'_>,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        body: Option<&T>,
    ) -> Result<Vec<u8>, XeroError> {
        let url = format!("{}{path}", self.endpoints.api);
        self.send(Some(auth.tenant_id), || {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(auth.access_token)
                .header("Xero-Tenant-Id", auth.tenant_id)
                .header("Accept", "application/json,application/problem+json");
            if let Some(key) = idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            req
        })
        .await
    }

    /// One call with the limiter and the retry policy; the body of a 2xx.
    async fn send(
        &self,
        tenant: Option<&str>,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Vec<u8>, XeroError> {
        let mut last = String::new();
        for attempt in 0..self.retry.attempts.max(1) {
            if let Some(tenant) = tenant {
                self.limiter
                    .acquire(tenant, self.retry.max_inline_wait)
                    .await
                    .map_err(XeroError::RateLimited)?;
            }
            let response = match build().send().await {
                Ok(response) => response,
                Err(e) => {
                    // Time-outs and broken connections: the request may or may not have
                    // arrived; every write carries an Idempotency-Key, so retrying is safe.
                    last = if e.is_timeout() {
                        "time-out".into()
                    } else {
                        "connection failed".into()
                    };
                    tracing::warn!(attempt, error = %last, "Xero call failed; backing off");
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = retry_after(response.headers()).unwrap_or(Duration::from_secs(60));
                if let Some(tenant) = tenant {
                    self.limiter.hold(tenant, wait).await;
                }
                if wait > self.retry.max_inline_wait {
                    return Err(XeroError::RateLimited(wait));
                }
                tracing::info!(attempt, wait_ms = wait.as_millis() as u64, "Xero said 429");
                if tenant.is_none() {
                    tokio::time::sleep(wait).await;
                }
                last = "429".into();
                continue;
            }
            let body = response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|_| XeroError::Unavailable("the answer broke off".into()));
            if status.is_server_error() {
                last = format!("{status}");
                tracing::warn!(attempt, %status, "Xero answered a server error; backing off");
                tokio::time::sleep(self.retry.backoff(attempt)).await;
                continue;
            }
            let body = body?;
            if status.is_success() {
                return Ok(body);
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(XeroError::Unauthorized);
            }
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let problem = serde_json::from_value::<Problem>(json.clone()).unwrap_or(Problem {
                kind: None,
                title: None,
                status: Some(status.as_u16()),
                detail: None,
            });
            return Err(XeroError::Refused {
                status: status.as_u16(),
                problem,
                body: json,
            });
        }
        Err(XeroError::Unavailable(last))
    }
}

/// `Retry-After` in seconds (Xero sends seconds), at least a second.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.clamp(1, 86_400)))
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, XeroError> {
    serde_json::from_slice(body).map_err(|e| XeroError::Protocol(e.to_string()))
}

fn urlencode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
