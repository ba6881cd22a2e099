use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::{Clock, NewOrg, Org, SystemClock};
use bankfeeds_server::AppState;
use bankfeeds_store::DynStore;
use bankfeeds_store_tests::TestDb;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// A hub serving on `127.0.0.1:<random port>`; stops when dropped.
pub struct Hub {
    pub base: String,
    pub store: DynStore,
    /// The state the hub serves with, for driving its job queue.
    pub state: AppState,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    _db: Option<TestDb>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct Creds {
    pub org: Org,
    pub client_id: String,
    pub client_secret: String,
}

impl Hub {
    pub async fn start(db: TestDb) -> Hub {
        let store = db.store.clone();
        Self::start_on(store, Some(db), 0).await
    }

    /// A hub on a store someone else owns (a second instance on the same database).
    pub async fn start_on(store: DynStore, db: Option<TestDb>, rate_limit_per_10s: u32) -> Hub {
        Self::start_with(store, db, |_| {}, rate_limit_per_10s).await
    }

    /// A hub whose state `tune` may adjust before it serves.
    pub async fn start_with(
        store: DynStore,
        db: Option<TestDb>,
        tune: impl FnOnce(&mut AppState),
        rate_limit_per_10s: u32,
    ) -> Hub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut state = AppState::new(
            store.clone(),
            Arc::new(SystemClock),
            base.clone(),
            rate_limit_per_10s,
        );
        // Tests sync the sandbox feeds themselves, when they mean to.
        state.sandbox_sync_tick = None;
        tune(&mut state);
        let shutdown = CancellationToken::new();
        tokio::spawn(bankfeeds_server::serve(
            listener,
            state.clone(),
            shutdown.clone(),
            Duration::from_secs(5),
        ));
        Hub {
            base,
            store,
            state,
            http: reqwest::Client::new(),
            shutdown,
            _db: db,
        }
    }

    /// A hub whose clock the test moves (challenge, OTP and schedule expiry).
    pub async fn start_with_clock(db: TestDb) -> (Hub, Arc<bankfeeds_domain::ManualClock>) {
        let clock = Arc::new(bankfeeds_domain::ManualClock::new(SystemClock.now()));
        let c = clock.clone();
        let store = db.store.clone();
        let hub =
            Self::start_with(store, Some(db), move |s| s.clock = c as Arc<dyn Clock>, 0).await;
        (hub, clock)
    }

    /// Creates an organisation the way `bankfeeds org create` does.
    pub async fn org(&self, name: &str) -> Creds {
        let (new, secret) = NewOrg::generate(name, SystemClock.now()).unwrap();
        self.store.create_org(&new).await.unwrap();
        Creds {
            client_id: new.org.client_id.clone(),
            client_secret: secret.expose().to_owned(),
            org: new.org,
        }
    }

    /// Runs the hub's queue until no job can be claimed and none is running, so what the
    /// jobs did can be read at once.
    pub async fn drain(&self) {
        bankfeeds_server::jobs::drain(&self.state).await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
    }

    pub fn post(&self, creds: &Creds, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
            .json(body)
    }

    pub fn delete(&self, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.http
            .delete(self.url(path))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
    }

    /// Creates a connection through the API; returns `(id, access_token)`.
    pub async fn connection(&self, creds: &Creds, platform: &str) -> (String, String) {
        let body = ok(self
            .post(
                creds,
                "/versioned/connections/create",
                &json!({"platform": platform, "name": "Acme Ltd"}),
            )
            .send()
            .await)
        .await;
        let c = &body["connection"];
        (
            c["id"].as_str().unwrap().to_owned(),
            c["access_token"].as_str().unwrap().to_owned(),
        )
    }
}

/// Asserts a 200 with a request id and returns the JSON body.
pub async fn ok(resp: reqwest::Result<reqwest::Response>) -> Value {
    let resp = resp.unwrap();
    let status = resp.status();
    assert!(resp.headers().contains_key("x-request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "unexpected answer: {body}");
    body
}

/// Asserts an error answer with this status and code, in the one error shape, with a request id.
pub async fn err(resp: reqwest::Result<reqwest::Response>, status: u16, code: &str) -> Value {
    let resp = resp.unwrap();
    assert!(
        resp.headers().contains_key("x-request-id"),
        "every response carries X-Request-Id"
    );
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.expect("error bodies are JSON");
    assert_eq!(
        (got, body["error_code"].as_str()),
        (status, Some(code)),
        "body: {body}"
    );
    assert!(
        body["error_type"].is_string() && body["error_message"].is_string(),
        "{body}"
    );
    body
}

/// Runs each named async test fn `(Hub)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = bankfeeds_store_tests::backends::sqlite(stringify!($case)).await.unwrap();
                    super::$case($crate::helpers::Hub::start(db).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = bankfeeds_store_tests::backends::postgres(stringify!($case)).await else { return };
                    super::$case($crate::helpers::Hub::start(db).await).await;
                }
            )*
        }
    };
}
