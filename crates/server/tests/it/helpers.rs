use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::link::Company;
use bankfeeds_domain::{Clock, ManualClock, NewOrg, Org, Platform, Secret, SystemClock};
use bankfeeds_server::sandbox_access::SandboxAccess;
use bankfeeds_server::AppState;
use bankfeeds_store::DynStore;
use bankfeeds_store_tests::TestDb;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

mod feed;
pub use feed::{batch, days_ago, Feed};

mod wait;
pub use wait::{poll, wait_until};

/// The sandbox password of test hubs.
pub const SANDBOX_PASSWORD: &str = "the test sandbox password";

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

    /// A hub on a fresh SQLite database, for a test that is about the HTTP face alone.
    pub async fn sqlite(name: &str) -> Hub {
        Self::start(sqlite_db(name).await).await
    }

    /// [`Hub::sqlite`] with its state adjusted by `tune` before it serves.
    pub async fn sqlite_with(name: &str, tune: impl FnOnce(&mut AppState)) -> Hub {
        let db = sqlite_db(name).await;
        Self::start_with(db.store.clone(), Some(db), tune, 0).await
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
        let mut state = test_state(store.clone(), base.clone(), rate_limit_per_10s);
        // The sandboxes and the demo bank are on in test hubs (off is the default of `serve`;
        // a test that wants them off says so in `tune`).
        state.sandbox = Some(Arc::new(SandboxAccess::new(&Secret::from_presented(
            SANDBOX_PASSWORD,
        ))));
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
    pub async fn start_with_clock(db: TestDb) -> (Hub, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
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

    /// The companies in the sandbox of `platform`.
    pub async fn companies(&self, platform: Platform) -> Vec<Company> {
        self.store.list_companies(platform).await.unwrap()
    }

    /// Runs the hub's queue until no job can be claimed and none is running, so what the
    /// jobs did can be read at once.
    pub async fn drain(&self) {
        bankfeeds_server::jobs::drain(&self.state).await.unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A `method` request to `path` as the organisation.
    pub fn request(&self, method: Method, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
    }

    pub fn get(&self, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.request(Method::GET, creds, path)
    }

    pub fn post(&self, creds: &Creds, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(Method::POST, creds, path).json(body)
    }

    pub fn delete(&self, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.request(Method::DELETE, creds, path)
    }

    pub fn put(&self, creds: &Creds, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(Method::PUT, creds, path).json(body)
    }

    pub fn patch(&self, creds: &Creds, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(Method::PATCH, creds, path).json(body)
    }

    /// GETs `path` (on the hub) with no credentials.
    pub async fn get_anonymously(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// GETs `path` (on the hub) with no credentials; asserts a 200 and returns the body.
    pub async fn open_json(&self, path: &str) -> Value {
        ok(self.http.get(self.url(path)).send().await).await
    }

    /// GETs `path` as the organisation; asserts a 200 and returns the body.
    pub async fn get_ok(&self, creds: &Creds, path: &str) -> Value {
        ok(self.get(creds, path).send().await).await
    }

    /// The list `key` of the page at `path` (as the organisation) once it holds at least `n`
    /// items, read again every 25 ms; what it held when [`poll`] gave up, otherwise.
    pub async fn list_with_at_least(
        &self,
        creds: &Creds,
        path: &str,
        key: &str,
        n: usize,
    ) -> Vec<Value> {
        let read = || async {
            let page = self.get_ok(creds, path).await;
            page[key].as_array().unwrap().clone()
        };
        poll(Duration::from_millis(25), read, |list| list.len() >= n).await
    }

    /// POSTs `body` to `path` as the organisation; asserts a 200 and returns the body.
    pub async fn post_ok(&self, creds: &Creds, path: &str, body: &Value) -> Value {
        ok(self.post(creds, path, body).send().await).await
    }

    /// The text of `url` (absolute, or a path on the hub) fetched with no credentials.
    pub async fn open_text(&self, url: &str) -> String {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            self.url(url)
        };
        let resp = self.http.get(url).send().await.unwrap();
        resp.text().await.unwrap()
    }

    /// Creates a connection through the API from `fields`; returns the answer.
    pub async fn create_connection(&self, creds: &Creds, fields: Value) -> Value {
        self.post_ok(creds, "/versioned/connections/create", &fields)
            .await
    }

    /// Creates a connection through the API; returns `(id, access_token)`.
    pub async fn connection(&self, creds: &Creds, platform: &str) -> (String, String) {
        let fields = json!({"platform": platform, "name": "Acme Ltd"});
        let body = self.create_connection(creds, fields).await;
        let c = &body["connection"];
        (
            c["id"].as_str().unwrap().to_owned(),
            c["access_token"].as_str().unwrap().to_owned(),
        )
    }

    /// `GET /versioned/connections/access_token` for `token` as the organisation; asserts a 200
    /// and returns the body.
    pub async fn connection_by_token(&self, creds: &Creds, token: &str) -> Value {
        let path = with_token("/versioned/connections/access_token", token);
        self.get_ok(creds, &path).await
    }

    /// Lists the organisation as a bank on `platform` (its bank feeds configuration), with
    /// `login_url` as its login page.
    pub async fn list_bank(&self, creds: &Creds, platform: &str, login_url: &str, country: &str) {
        let config =
            json!({"display_name": "Demo Bank", "login_url": login_url, "country_code": country});
        let path = format!("/versioned/bank_feeds/configs/{platform}");
        ok(self.put(creds, &path, &config).send().await).await;
    }

    /// [`Hub::list_bank`] with the hub's demo bank as the login page.
    pub async fn list_demo_bank(&self, creds: &Creds, platform: &str, country: &str) {
        let login = self.url("/demo-bank/login");
        self.list_bank(creds, platform, &login, country).await;
    }

    /// Creates a bank feed account (`fields` as `bank_feed_account`) on the connection of
    /// `token`; returns it as the API answered.
    pub async fn create_account(&self, creds: &Creds, token: &str, fields: Value) -> Value {
        let body = json!({ "bank_feed_account": fields });
        let created = self
            .post_ok(creds, &with_token(ACCOUNTS, token), &body)
            .await;
        created["bank_feed_account"].clone()
    }

    /// The bank feed account `id` as the FI reads it.
    pub async fn account(&self, creds: &Creds, token: &str, id: &str) -> Value {
        let path = with_token(&format!("{ACCOUNTS}/{id}"), token);
        self.get_ok(creds, &path).await["bank_feed_account"].clone()
    }

    /// Issues a link OTP for the connection of `token`.
    pub async fn otp(&self, creds: &Creds, token: &str) -> String {
        let issued = self
            .post_ok(creds, &with_token(OTP, token), &json!({}))
            .await;
        issued["bank_feed_otp"]["otp"].as_str().unwrap().to_owned()
    }
}

pub const ACCOUNTS: &str = "/versioned/accounting/bank_feeds/accounts";
pub const TRANSACTIONS: &str = "/versioned/accounting/bank_feeds/transactions";
pub const OTP: &str = "/versioned/accounting/bank_feeds/otp";

/// What a test hub serves with at `base`: the system clock, `rate_limit_per_10s` per client
/// (0: none), and no sandbox sync of its own.
pub fn test_state(store: DynStore, base: String, rate_limit_per_10s: u32) -> AppState {
    let mut state = AppState::new(store, Arc::new(SystemClock), base, rate_limit_per_10s);
    // Tests sync the sandbox feeds themselves, when they mean to.
    state.sandbox_sync_tick = None;
    state
}

/// A fresh SQLite test database named for `name`.
pub async fn sqlite_db(name: &str) -> TestDb {
    bankfeeds_store_tests::backends::sqlite(name).await.unwrap()
}

/// `path` with a connection's access token in its query.
pub fn with_token(path: &str, token: &str) -> String {
    format!("{path}?access_token={token}")
}

/// A sandbox platform's JSON interface (`/sandbox/<slug>/api/…`), called with the sandbox
/// password. It remembers the browser binding each `connect` answered with and sends it back
/// with that challenge's redirect, as a client of the interface does.
pub struct Sandbox<'a> {
    hub: &'a Hub,
    pub slug: &'static str,
    bindings: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl<'a> Sandbox<'a> {
    pub fn of(hub: &'a Hub, platform: &str) -> Self {
        let slug = match platform {
            "INTUIT_BANK_FEEDS" => "intuit",
            "XERO" => "xero",
            "SAGE_INTACCT" => "sage-intacct",
            "SAGE_BUSINESS_CLOUD" => "sage-business-cloud",
            "NETSUITE" => "netsuite",
            other => panic!("no sandbox for {other}"),
        };
        Self::at(hub, slug)
    }

    /// The interface at `/sandbox/<slug>/api`, whether or not a sandbox serves there.
    pub fn at(hub: &'a Hub, slug: &'static str) -> Self {
        Sandbox {
            hub,
            slug,
            bindings: Default::default(),
        }
    }

    /// POSTs `body` to `/sandbox/<slug>/api<path>`.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Result<reqwest::Response> {
        let url = self.hub.url(&format!("/sandbox/{}/api{path}", self.slug));
        self.hub
            .http
            .post(url)
            .bearer_auth(SANDBOX_PASSWORD)
            .json(&body)
            .send()
            .await
    }

    /// GETs `/sandbox/<slug>/api<path>`; asserts a 200.
    pub async fn get(&self, path: &str) -> Value {
        let url = self.hub.url(&format!("/sandbox/{}/api{path}", self.slug));
        ok(self
            .hub
            .http
            .get(url)
            .bearer_auth(SANDBOX_PASSWORD)
            .send()
            .await)
        .await
    }

    /// Creates a company on the platform; returns its id.
    pub async fn company(&self, name: &str) -> String {
        let created = ok(self.post("/companies", json!({ "name": name })).await).await;
        created["company"]["id"].as_str().unwrap().to_owned()
    }

    /// The company asks to connect the bank `bank`: the answer with its challenge.
    pub async fn connect(&self, company: &str, bank: &Creds) -> Value {
        let path = format!("/companies/{company}/connect");
        let connect = ok(self.post(&path, json!({"org_id": bank.org.id})).await).await;
        let binding = connect["browser_binding"].as_str().unwrap().to_owned();
        let challenge = connect["challenge"].as_str().unwrap().to_owned();
        self.bindings.lock().unwrap().insert(challenge, binding);
        connect
    }

    /// The browser binding `connect` answered with for `challenge`.
    pub fn binding(&self, challenge: &str) -> String {
        self.bindings.lock().unwrap()[challenge].clone()
    }

    /// A fresh link challenge for the company and the bank.
    pub async fn challenge(&self, company: &str, bank: &Creds) -> String {
        let connect = self.connect(company, bank).await;
        connect["challenge"].as_str().unwrap().to_owned()
    }

    /// The bank's login sends the customer back with its OTP.
    pub async fn redirect(&self, challenge: &str, otp: &str) -> reqwest::Result<reqwest::Response> {
        let binding = self.bindings.lock().unwrap().get(challenge).cloned();
        self.redirect_with(challenge, otp, binding.as_deref()).await
    }

    /// The redirect back presenting `binding` (or none).
    pub async fn redirect_with(
        &self,
        challenge: &str,
        otp: &str,
        binding: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let body = json!({"challenge": challenge, "otp": otp, "browser_binding": binding});
        self.post("/link/redirect", body).await
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
    err_in("", resp, status, code).await
}

/// Sends `request` and asserts its error answer, as [`err`] does.
pub async fn refuses(request: reqwest::RequestBuilder, status: u16, code: &str) -> Value {
    err(request.send().await, status, code).await
}

/// Sends each request of a table and asserts its error answer (status, code); a failure names
/// the request by its method, URL and headers.
pub async fn refusals(
    http: &reqwest::Client,
    cases: impl IntoIterator<Item = (reqwest::RequestBuilder, u16, &str)>,
) {
    for (request, status, code) in cases {
        let request = request.build().unwrap();
        let case = format!(
            "{} {} {:?}",
            request.method(),
            request.url(),
            request.headers()
        );
        err_in(&case, http.execute(request).await, status, code).await;
    }
}

/// [`err`] for one case of a table: a failure names `case`.
pub async fn err_in(
    case: &str,
    resp: reqwest::Result<reqwest::Response>,
    status: u16,
    code: &str,
) -> Value {
    let resp = resp.unwrap();
    assert!(
        resp.headers().contains_key("x-request-id"),
        "{case}: every response carries X-Request-Id"
    );
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.expect("error bodies are JSON");
    assert_eq!(
        (got, body["error_code"].as_str()),
        (status, Some(code)),
        "{case}: body: {body}"
    );
    assert!(
        body["error_type"].is_string() && body["error_message"].is_string(),
        "{case}: {body}"
    );
    body
}

/// Runs `case` on a hub over `db`.
pub async fn with_hub<F: Future<Output = ()>>(db: TestDb, case: impl FnOnce(Hub) -> F) {
    case(Hub::start(db).await).await;
}

/// Runs `case` on a hub over `db` whose clock the test moves.
pub async fn with_hub_and_clock<F: Future<Output = ()>>(
    db: TestDb,
    case: impl FnOnce(Hub, Arc<ManualClock>) -> F,
) {
    let (hub, clock) = Hub::start_with_clock(db).await;
    case(hub, clock).await;
}

/// Runs `case` on the database itself, for a test that starts its own hub.
pub async fn with_db<F: Future<Output = ()>>(db: TestDb, case: impl FnOnce(TestDb) -> F) {
    case(db).await;
}

/// Runs each named async test fn `(Hub)` on SQLite and on PostgreSQL; with `with_clock:`, each
/// `(Hub, Arc<ManualClock>)` on a hub whose clock the test moves; with `with_db:`, each
/// `(TestDb)`, for tests that start their hub themselves.
#[macro_export]
macro_rules! on_both_backends {
    (with_clock: $($case:ident),* $(,)?) => {
        $crate::on_both_backends!(@each sqlite_with_clock, postgres_with_clock, with_hub_and_clock: $($case),*);
    };
    (with_db: $($case:ident),* $(,)?) => {
        $crate::on_both_backends!(@each sqlite_with_db, postgres_with_db, with_db: $($case),*);
    };
    (@each $sqlite:ident, $postgres:ident, $run:ident: $($case:ident),*) => {
        mod $sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = bankfeeds_store_tests::backends::sqlite(stringify!($case)).await.unwrap();
                    $crate::helpers::$run(db, super::$case).await;
                }
            )*
        }
        mod $postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = bankfeeds_store_tests::backends::postgres(stringify!($case)).await else { return };
                    $crate::helpers::$run(db, super::$case).await;
                }
            )*
        }
    };
    ($($case:ident),* $(,)?) => {
        $crate::on_both_backends!(@each sqlite, postgres, with_hub: $($case),*);
    };
}

/// The items of the JSON array `list` (a page's results, a link's accounts).
pub fn items(list: &Value) -> &[Value] {
    list.as_array().unwrap()
}

/// The value of the header `name` as text; empty when absent (a stand-in reading what the hub
/// sent it).
pub fn header(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
