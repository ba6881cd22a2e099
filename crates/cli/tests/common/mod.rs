//! What the CLI's test files share: the binary, a command on a database, and a hub served on
//! a port, killed when dropped. Each file uses part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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
pub fn ok_json(out: &Output) -> serde_json::Value {
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
