//! Fresh databases and hub child processes.
//!
//! Every measurement runs against a hub this process starts itself (`<binary> serve`) on a
//! database nobody else uses: a new SQLite file in a temporary directory, or a new PostgreSQL
//! database `bfbench_<random>` created on the server `--database-url` names and dropped at the end.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;
use sqlx::migrate::MigrateDatabase;
use sqlx::Postgres;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where the benchmark makes its databases and keeps the hubs' logs.
pub struct Env {
    pub backend: Backend,
    pub binary: PathBuf,
    dir: tempfile::TempDir,
    /// The PostgreSQL server to create databases on (any database of it we may connect to).
    pg_admin: Option<String>,
    pg_created: Vec<String>,
    counter: u32,
}

impl Env {
    pub fn new(binary: PathBuf, database_url: Option<&str>) -> anyhow::Result<Self> {
        let (backend, pg_admin) = match database_url {
            None => (Backend::Sqlite, None),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (Backend::Postgres, Some(u.to_owned()))
            }
            Some(u) => bail!(
                "--database-url {u:?}: the bench takes a postgres:// server to create fresh \
                 databases on; without it, it uses a fresh SQLite file of its own"
            ),
        };
        Ok(Self {
            backend,
            binary,
            dir: tempfile::Builder::new().prefix("bfbench-").tempdir()?,
            pg_admin,
            pg_created: Vec::new(),
            counter: 0,
        })
    }

    /// A new, empty database (not migrated); its URL.
    pub async fn fresh_db(&mut self, label: &str) -> anyhow::Result<String> {
        self.counter += 1;
        match self.backend {
            Backend::Sqlite => {
                let path = self.dir.path().join(format!("{}-{label}.db", self.counter));
                Ok(format!("sqlite://{}", path.display()))
            }
            Backend::Postgres => {
                let admin = self.pg_admin.as_deref().expect("postgres has an admin url");
                let name = format!(
                    "bfbench_{}_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12],
                    label.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                );
                let url = with_database(admin, &name);
                Postgres::create_database(&url).await.with_context(|| {
                    format!(
                        "cannot create database {name} on the PostgreSQL server --database-url \
                         names"
                    )
                })?;
                self.pg_created.push(name);
                Ok(url)
            }
        }
    }

    /// Drops every PostgreSQL database this run created (SQLite files go with the temp dir).
    pub async fn cleanup(&mut self) {
        let Some(admin) = self.pg_admin.as_deref() else {
            return;
        };
        if self.pg_created.is_empty() {
            return;
        }
        for name in self.pg_created.drain(..) {
            if let Err(e) = Postgres::force_drop_database(&with_database(admin, &name)).await {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.env("BANKFEEDS_LOG_LEVEL", "warn")
            .env("BANKFEEDS_RATE_LIMIT_PER_10S", "0")
            .env_remove("BANKFEEDS_CONFIG")
            .env_remove("BANKFEEDS_DATABASE_URL")
            .env_remove("BANKFEEDS_LISTEN");
        c
    }

    /// `bankfeeds <command> --database-url <url>` in a short-lived child: its standard output,
    /// or an error with its standard error when it fails.
    async fn run(&self, command: &[&str], url: &str) -> anyhow::Result<Vec<u8>> {
        let mut c = self.command();
        c.args(command).args(["--database-url", url]);
        let out = tokio::process::Command::from(c)
            .stdin(Stdio::null())
            .output()
            .await
            .context("cannot run the hub binary")?;
        if !out.status.success() {
            bail!(
                "`bankfeeds {}` failed ({}): {}",
                command.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(out.stdout)
    }

    /// `bankfeeds migrate` on `url`, in a short-lived child.
    pub async fn migrate(&self, url: &str) -> anyhow::Result<()> {
        self.run(&["migrate"], url).await?;
        Ok(())
    }

    /// `bankfeeds org create --name Bench` on `url`: the organisation and its credential.
    pub async fn create_org(&self, url: &str) -> anyhow::Result<OrgCreated> {
        let stdout = self.run(&["org", "create", "--name", "Bench"], url).await?;
        serde_json::from_slice(&stdout).with_context(|| {
            format!(
                "`bankfeeds org create` printed no organisation: {}",
                String::from_utf8_lossy(&stdout)
            )
        })
    }

    /// Starts `bankfeeds serve` on `url` and a free port, and waits until `/healthz` answers.
    pub async fn start_hub(&self, url: &str, label: &str) -> anyhow::Result<Hub> {
        self.start_hub_with(url, label, &[]).await
    }

    /// `start_hub` with more settings in the hub's environment.
    pub async fn start_hub_with(
        &self,
        url: &str,
        label: &str,
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Hub> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let log_path = self.dir.path().join(format!("hub-{label}-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut c = self.command();
        c.args(["serve", "--listen", &listen, "--database-url", url])
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = c.spawn().context("cannot start the hub")?;
        let mut hub = Hub {
            pid: child.id(),
            child,
            base: format!("http://{listen}"),
            log_path,
        };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = hub.child.try_wait()? {
                bail!("the hub exited at start-up ({status}):\n{}", hub.log_tail());
            }
            if let Ok(r) = http.get(format!("{}/healthz", hub.base)).send().await {
                if r.status().is_success() {
                    return Ok(hub);
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the hub did not answer /healthz within 60 s:\n{}",
                    hub.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What `bankfeeds org create` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct OrgCreated {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A hub child process; killed when dropped.
pub struct Hub {
    child: Child,
    pub pid: u32,
    pub base: String,
    log_path: PathBuf,
}

impl Hub {
    /// The last lines of the hub's log (stderr).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The hub's peak resident set size so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM:").map(|k| k * 1024)
    }

    /// The hub's resident set size now (`VmRSS`), in bytes.
    pub fn rss(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmRSS:").map(|k| k * 1024)
    }

    /// Resets the peak so the next reading covers only what follows (Linux `clear_refs` 5).
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            return Err(anyhow!("the hub exited ({status}):\n{}", self.log_tail()));
        }
        Ok(())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `url` with its database name replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
