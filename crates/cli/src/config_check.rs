//! `bankfeeds config check`: everything `serve` would refuse or regret, found before it starts —
//! the layered settings, the TLS files, the key ring, the database (reachable, migrated, durable)
//! and the listen address — plus the settings that work but should not reach production.
//! Each finding is `ok`, `warn` or `error`; any error makes the exit code 1.

use std::path::Path;

use bankfeeds_server::config::{redact_url, Backend, Config, Overrides, SqliteSynchronous};
use bankfeeds_store::Durability;
use serde::Serialize;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Error,
}

#[derive(Serialize)]
struct Finding {
    check: &'static str,
    level: Level,
    detail: String,
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, check: &'static str, level: Level, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            level,
            detail: detail.into(),
        });
    }
}

/// Runs every check and prints the findings; exits 1 when one is an error.
pub async fn run(
    args: CheckArgs,
    file: Option<&Path>,
    overrides: &Overrides,
) -> anyhow::Result<()> {
    let mut f = Findings::default();
    let source = match file {
        Some(p) => format!("file {} and BANKFEEDS_* environment", p.display()),
        None => "defaults and BANKFEEDS_* environment (no --config file)".to_owned(),
    };
    match Config::load(file, overrides) {
        Ok(config) => {
            f.add("settings", Level::Ok, format!("valid, from {source}"));
            check_loaded(&config, &mut f).await;
        }
        Err(e) => f.add("settings", Level::Error, format!("{e:#} (from {source})")),
    }
    let failed = f.0.iter().any(|x| x.level == Level::Error);
    if args.json {
        println!("{}", serde_json::json!({"ok": !failed, "findings": f.0}));
    } else {
        for x in &f.0 {
            let level = match x.level {
                Level::Ok => "ok   ",
                Level::Warn => "warn ",
                Level::Error => "ERROR",
            };
            println!("{level} {:<12} {}", x.check, x.detail);
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

async fn check_loaded(config: &Config, f: &mut Findings) {
    match config.tls_acceptor() {
        Ok(Some(_)) => f.add("tls", Level::Ok, "certificate and key load"),
        Ok(None) => f.add(
            "tls",
            Level::Ok,
            "off: plain HTTP (put a TLS proxy in front, or set tls_cert and tls_key)",
        ),
        Err(e) => f.add("tls", Level::Error, format!("{e:#}")),
    }
    match config.keyring() {
        Ok(Some(_)) => f.add("secrets_key", Level::Ok, "key ring loads"),
        Ok(None) => f.add(
            "secrets_key",
            Level::Warn,
            "not set: webhook signing secrets are stored as they are, and live platforms (Xero) cannot be used; create one with `bankfeeds secrets-key`",
        ),
        Err(e) => f.add("secrets_key", Level::Error, format!("{e:#}")),
    }
    check_public_url(config, f);
    check_database(config, f).await;
    check_listen(config, f).await;
    if config.sandbox_enabled {
        f.add(
            "sandbox",
            Level::Warn,
            "sandbox platforms and the demo bank are served (sandbox_enabled): for trials, not production",
        );
    }
    if config.webhooks_allow_private {
        f.add(
            "webhooks",
            Level::Warn,
            "webhooks_allow_private: webhooks may target private and loopback addresses and plain http",
        );
    }
}

fn check_public_url(config: &Config, f: &mut Findings) {
    let base = config.public_base();
    match &config.public_url {
        Some(url) if url.starts_with("http://") && config.tls_cert.is_none() => f.add(
            "public_url",
            Level::Warn,
            format!("{url}: customers' browsers and OFX clients are sent to plain http"),
        ),
        Some(url) => f.add("public_url", Level::Ok, url.clone()),
        None if config.listen.ip().is_loopback() || config.listen.ip().is_unspecified() => f.add(
            "public_url",
            Level::Warn,
            format!(
                "not set: links handed to browsers use {base}, which only this machine can reach"
            ),
        ),
        None => f.add(
            "public_url",
            Level::Ok,
            format!("not set: links use {base}"),
        ),
    }
}

async fn check_database(config: &Config, f: &mut Findings) {
    let url = redact_url(&config.database_url);
    let Ok(backend) = config.backend() else {
        return; // `Config::load` already refused it.
    };
    if backend == Backend::Sqlite {
        if let Some(path) = crate::database::sqlite_file(config) {
            if !path.exists() {
                f.add(
                    "database",
                    Level::Warn,
                    format!("{url}: no database there yet; `serve` or `migrate` creates a new, empty one"),
                );
                return;
            }
        }
        if config.sqlite_synchronous == SqliteSynchronous::Normal {
            f.add(
                "durability",
                Level::Warn,
                "sqlite_synchronous = normal: a power cut can lose acknowledged batches",
            );
        }
    }
    let store = match bankfeeds_server::open_store(config).await {
        Ok(store) => store,
        Err(e) => return f.add("database", Level::Error, format!("{url}: {e:#}")),
    };
    if let Err(e) = store.ping().await {
        return f.add(
            "database",
            Level::Error,
            format!("{url} does not answer: {e}"),
        );
    }
    f.add(
        "database",
        Level::Ok,
        format!("{url} ({}) answers", store.backend()),
    );
    match store.durability() {
        Durability::Full => f.add(
            "durability",
            Level::Ok,
            "every commit reaches stable storage",
        ),
        Durability::Reduced(why) => f.add("durability", Level::Warn, why),
    }
    let known = store.known_migrations();
    match store.applied_migrations().await {
        Ok(applied) => {
            let missing: Vec<_> = known.iter().filter(|v| !applied.contains(v)).collect();
            if missing.is_empty() {
                f.add(
                    "migrations",
                    Level::Ok,
                    format!("all {} applied", known.len()),
                );
            } else {
                f.add(
                    "migrations",
                    Level::Warn,
                    format!(
                        "{} of {} not applied yet ({missing:?}); `serve` or `migrate` applies them",
                        missing.len(),
                        known.len()
                    ),
                );
            }
        }
        Err(e) => f.add("migrations", Level::Error, e.to_string()),
    }
}

async fn check_listen(config: &Config, f: &mut Findings) {
    match tokio::net::TcpListener::bind(config.listen).await {
        Ok(_) => f.add("listen", Level::Ok, format!("{} is free", config.listen)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => f.add(
            "listen",
            Level::Warn,
            format!(
                "{} is in use (is a hub already running there?)",
                config.listen
            ),
        ),
        Err(e) => f.add(
            "listen",
            Level::Error,
            format!("cannot listen on {}: {e}", config.listen),
        ),
    }
}
