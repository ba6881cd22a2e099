//! What the CLI's test files share: the binary, a command on a database, and a hub served on
//! a port, killed when dropped. Each file uses part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_bankfeeds");

/// `bankfeeds` on `db_url`, quiet, with no configuration file from the environment.
pub fn bankfeeds(db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("BANKFEEDS_DATABASE_URL", db_url)
        .env("BANKFEEDS_LOG_LEVEL", "warn")
        .env_remove("BANKFEEDS_CONFIG");
    cmd
}

/// `sqlite://<dir>/hub.db`: a test's database in its temporary directory.
pub fn hub_db(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("hub.db").display())
}

/// `bankfeeds <args>` on `db_url`, run to its end.
pub fn run(db_url: &str, args: &[&str]) -> Output {
    bankfeeds(db_url).args(args).output().unwrap()
}

/// Asserts the command succeeded; the one JSON object it printed.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// Creates an organisation with the CLI; answers (id, client_id, secret).
pub fn create_org(db_url: &str, name: &str) -> (String, String, String) {
    let org = ok_json(&run(db_url, &["org", "create", "--name", name]));
    let s = |k: &str| org[k].as_str().unwrap().to_owned();
    (s("id"), s("client_id"), s("client_secret"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `bankfeeds serve` child; killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bankfeeds serve` on `db_url` and `port`, with `env` set, once `/healthz` answers (within
/// `wait`).
pub async fn serve_on(db_url: &str, port: u16, env: &[(&str, &str)], wait: Duration) -> Server {
    let server = Server(
        bankfeeds(db_url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("bankfeeds serve did not answer /healthz");
}

/// A hub's API as one organisation.
pub struct Api {
    pub http: reqwest::Client,
    pub port: u16,
    pub client_id: String,
    pub secret: String,
}

impl Api {
    /// The API of the hub on `port`, as the organisation of `client_id`.
    pub fn new(port: u16, client_id: String, secret: String) -> Api {
        Api {
            http: reqwest::Client::new(),
            port,
            client_id,
            secret,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req
            .basic_auth(&self.client_id, Some(&self.secret))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(self.http.get(self.url(path))).await
    }

    /// Creates a connection on `platform`; answers its access token.
    pub async fn connection(&self, platform: &str) -> String {
        let body = serde_json::json!({ "platform": platform });
        let created = self.post("/versioned/connections/create", body).await;
        created["connection"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// POSTs `body`; asserts a 2xx and answers the body.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.call(self.http.post(self.url(path)).json(&body)).await;
        assert!((200..300).contains(&status), "{status} {body}");
        body
    }
}
