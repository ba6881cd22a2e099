//! `bankfeeds status` and `bankfeeds backup`: what an operator asks of the hub's database
//! without reading it by hand.

use std::path::PathBuf;

use bankfeeds_domain::{Clock, SystemClock};
use bankfeeds_server::config::{redact_url, Backend, Config};
use bankfeeds_store::DynStore;
use serde_json::json;

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (SQLite), or the `pg_dump` file to name (PostgreSQL).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// How stale feeds are counted.
const STALE_NOTE: &str =
    "by each feed's continuity rule over the last 90 days, as the console counts them";

/// Prints the status; the exit code is non-zero when migrations are missing (an unreachable
/// database is an error before anything is printed).
pub async fn status(args: StatusArgs, config: &Config) -> anyhow::Result<()> {
    let database = redact_url(&config.database_url);
    sqlite_file_exists(config)?;
    let store = bankfeeds_server::open_store(config).await?;
    store
        .ping()
        .await
        .map_err(|e| anyhow::anyhow!("database {database} does not answer: {e}"))?;
    let known = store.known_migrations();
    let applied = store.applied_migrations().await?;
    let missing: Vec<i64> = known
        .iter()
        .filter(|v| !applied.contains(v))
        .copied()
        .collect();
    let mut out = json!({
        "database": database,
        "backend": store.backend(),
        "migrations": {
            "applied": applied.len(),
            "known": known.len(),
            "latest_applied": applied.last(),
            "latest_known": known.last(),
            "missing": missing,
        },
    });
    if missing.is_empty() {
        add_queue(&store, &mut out).await?;
    }
    if args.json {
        println!("{out}");
    } else {
        print_human(&out);
    }
    if !missing.is_empty() {
        eprintln!("migrations missing: run `bankfeeds migrate` (or start the hub)");
        std::process::exit(3);
    }
    Ok(())
}

async fn add_queue(store: &DynStore, out: &mut serde_json::Value) -> anyhow::Result<()> {
    let q = store.queue_status().await?;
    let now = SystemClock.now();
    let by_status: serde_json::Map<String, serde_json::Value> = q
        .jobs_by_status
        .iter()
        .map(|(k, n)| (k.clone(), json!(n)))
        .collect();
    out["jobs"] = json!({
        "by_status": by_status,
        "oldest_unfinished_at": q.oldest_unfinished_job,
        "oldest_unfinished_age_seconds":
            q.oldest_unfinished_job.map(|t| (now - t).num_seconds().max(0)),
    });
    out["webhook_deliveries_pending"] = json!(q.deliveries_pending);
    out["feeds"] = json!({
        "linked": q.feeds.linked,
        "pending": q.feeds.pending,
        "stale": stale_feeds(store, now).await?,
        "stale_note": STALE_NOTE,
    });
    Ok(())
}

fn print_human(v: &serde_json::Value) {
    let m = &v["migrations"];
    println!(
        "database   {} ({})",
        text(&v["database"]),
        text(&v["backend"])
    );
    println!(
        "migrations {} of {} applied (latest {}, this build knows {})",
        m["applied"],
        m["known"],
        text(&m["latest_applied"]),
        text(&m["latest_known"])
    );
    if m["missing"].as_array().is_some_and(|a| !a.is_empty()) {
        println!("           missing: {}", m["missing"]);
        return;
    }
    let jobs = &v["jobs"];
    let counts: Vec<String> = jobs["by_status"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "jobs       {}",
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    );
    match jobs["oldest_unfinished_age_seconds"].as_i64() {
        Some(age) => println!(
            "           oldest unfinished: {}s old (since {})",
            age,
            text(&jobs["oldest_unfinished_at"])
        ),
        None => println!("           nothing waiting"),
    }
    println!(
        "webhooks   {} deliveries pending",
        v["webhook_deliveries_pending"]
    );
    println!(
        "feeds      {} linked, {} pending, {} stale ({})",
        v["feeds"]["linked"], v["feeds"]["pending"], v["feeds"]["stale"], STALE_NOTE
    );
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Single-quotes a word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub async fn backup(args: BackupArgs, config: &Config) -> anyhow::Result<()> {
    let to = &args.to;
    if config.backend()? == Backend::Postgres {
        // Never print the password: pg_dump reads it from PGPASSWORD or ~/.pgpass.
        let url = url_without_password(&config.database_url);
        if url != config.database_url {
            eprintln!("the password is left out: give it to pg_dump in PGPASSWORD or ~/.pgpass");
        }
        println!(
            "pg_dump --format=custom --no-owner --file={} --dbname={}",
            shell_quote(&to.display().to_string()),
            shell_quote(&url)
        );
        return Ok(());
    }
    if to.exists() && !args.force {
        anyhow::bail!("{} exists; pass --force to replace it", to.display());
    }
    sqlite_file_exists(config)?;
    let store = bankfeeds_server::open_store(config).await?;
    // Written beside the target and renamed over it, so FILE is never half a backup.
    let file = to
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("--to must name a file"))?;
    let partial = to.with_file_name(format!(
        ".{}.partial-{}",
        file.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&partial);
    let path = partial
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("--to must be valid UTF-8"))?;
    if let Err(e) = store.backup_into(path).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    std::fs::rename(&partial, to)?;
    let size = std::fs::metadata(to)?.len();
    println!(
        "{}",
        json!({"backup": to.display().to_string(), "bytes": size, "backend": "sqlite"})
    );
    Ok(())
}

fn url_without_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// Opening a SQLite URL creates the file; `status` and `backup` must not, so a mistyped path
/// is an error rather than a new empty hub.
fn sqlite_file_exists(config: &Config) -> anyhow::Result<()> {
    match crate::database::sqlite_file(config) {
        Some(path) if !path.exists() => anyhow::bail!("no database at {}", path.display()),
        _ => Ok(()),
    }
}

/// Feeds stale today across every organisation, each counted as the console's overview
/// counts them (`console::stale_feeds`).
async fn stale_feeds(store: &DynStore, now: bankfeeds_domain::Timestamp) -> anyhow::Result<usize> {
    let mut stale = 0;
    for org in store.list_orgs().await? {
        stale += bankfeeds_server::console::stale_feeds(store, org.id, now.date_naive()).await?;
    }
    Ok(stale)
}
