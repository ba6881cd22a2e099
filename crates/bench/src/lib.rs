//! The benchmark harness behind `bankfeeds bench`.
//!
//! It starts hubs itself, as child processes of the `bankfeeds` binary (`serve` on a free port,
//! a fresh database each), and measures them over real HTTP:
//!
//! - **ingest**: N accounts, M transactions pushed as 1000-transaction batches from C clients;
//!   transactions/s, batch latency, the hub's peak RSS; then every pushed transaction is checked
//!   to be stored exactly once (the run fails otherwise).
//! - **ceiling**: the same rows inserted straight into a fresh database with the hub's schema by
//!   the fastest plain means; the hub's rate as a ratio of it.
//! - **read**: the feed pull rate (pages of 1000) and the latency of fetching an account and a job.
//! - **scale**: P transactions preloaded straight into the hub's database, then ingest again; the
//!   ratio of that rate to the rate on an empty store.
//! - **sweep**: ingest at C = 1, 2, 4, 8, 16, charted as SVG.

// This crate is a command's body: printing the results table and progress is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod data;
mod direct;
mod hub;
mod ingest;
mod stats;
mod svg;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::api::Api;
use crate::data::Kind;
use crate::hub::{Backend, Env, Hub};
use crate::ingest::{IngestStats, LookupStats, PullStats};
use crate::svg::{line_charts, Chart};

/// What `bankfeeds bench` was asked for; `None` takes the default (or the `--quick` one).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `bankfeeds` binary to start hubs from (the running one).
    pub hub_binary: PathBuf,
    /// A `postgres://` server to create fresh databases on; SQLite when absent.
    pub database_url: Option<String>,
    pub quick: bool,
    pub accounts: Option<usize>,
    pub transactions: Option<u64>,
    pub clients: Option<usize>,
    pub sweep: bool,
    pub preload: Option<u64>,
    pub preload_accounts: Option<usize>,
    pub json: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

/// The sizes in force.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    pub accounts: usize,
    pub transactions: u64,
    pub clients: usize,
    pub preload: u64,
    pub preload_accounts: usize,
    pub sweep: bool,
    pub lookup_samples: usize,
}

impl Sizes {
    pub fn resolve(o: &Options) -> anyhow::Result<Self> {
        let (accounts, transactions, clients, preload, preload_accounts, samples) = if o.quick {
            (4, 20_000, 4, 20_000, 20, 200)
        } else {
            (100, 1_000_000, 8, 10_000_000, 10_000, 1000)
        };
        let s = Sizes {
            accounts: o.accounts.unwrap_or(accounts),
            transactions: o.transactions.unwrap_or(transactions),
            clients: o.clients.unwrap_or(clients),
            preload: o.preload.unwrap_or(preload),
            preload_accounts: o.preload_accounts.unwrap_or(preload_accounts),
            sweep: o.sweep,
            lookup_samples: samples,
        };
        if s.accounts == 0 || s.clients == 0 || s.transactions == 0 {
            bail!("--accounts, --transactions and --clients must be at least 1");
        }
        if s.preload > 0 && s.preload_accounts == 0 {
            bail!("--preload-accounts must be at least 1");
        }
        Ok(s)
    }
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_total_mib: u64,
}

impl Machine {
    fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".into(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_total_mib = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<u64>().ok())
            .map_or(0, |k| k / 1024);
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_total_mib,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub method: String,
    pub connections: usize,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Read {
    /// The feed pull (the same pass that verified the ingest).
    pub feed: PullStats,
    pub lookups: LookupStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scale {
    pub preload: u64,
    pub preload_accounts: usize,
    pub preload_seconds: f64,
    pub preload_rows_per_s: f64,
    /// Transactions in the hub's store when the second ingest began.
    pub store_rows_before: u64,
    pub ingest: IngestStats,
    pub peak_rss_mib: Option<f64>,
    pub ratio_to_empty: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    pub clients: usize,
    pub accounts: usize,
    pub transactions: u64,
    pub transactions_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub goal: String,
    pub measured: String,
    /// `Some(true)` met, `Some(false)` missed, `None` not measured by this run.
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub backend: &'static str,
    pub quick: bool,
    pub command: String,
    pub started_at: String,
    pub machine: Machine,
    pub sizes: Sizes,
    pub ingest: IngestStats,
    pub ingest_peak_rss_mib: Option<f64>,
    pub verified_stored_once: bool,
    pub ceiling: Ceiling,
    pub ingest_to_ceiling: f64,
    pub read: Read,
    pub scale: Option<Scale>,
    pub sweep: Option<Vec<SweepPoint>>,
    pub targets: Vec<Target>,
    pub total_seconds: f64,
}

/// Runs the benchmark as `options` say, prints the table, writes JSON and SVG. An error (and so
/// a non-zero exit) when anything fails, notably when a pushed transaction is not stored exactly
/// once. Missed targets are reported, not errors.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let sizes = Sizes::resolve(&options)?;
    let mut env = Env::new(options.hub_binary.clone(), options.database_url.as_deref())?;
    let backend = env.backend;
    // On Ctrl-C or SIGTERM the run stops, its hubs are killed and its databases dropped.
    let outcome = tokio::select! {
        r = Box::pin(run_all(&mut env, &sizes, &options)) => r,
        () = interrupted() => Err(anyhow::anyhow!("interrupted")),
    };
    env.cleanup().await;
    let report = outcome?;
    print_report(&report);

    let json_path = options.json.clone().or_else(|| {
        (!options.quick).then(|| PathBuf::from(format!("bench/results-{}.json", backend.name())))
    });
    if let Some(path) = json_path {
        write_file(&path, &serde_json::to_string_pretty(&report)?)?;
        println!("results written to {}", path.display());
    }
    if let Some(points) = &report.sweep {
        let path = options
            .svg
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("bench/sweep-{}.svg", backend.name())));
        write_file(&path, &sweep_svg(&report, points))?;
        println!("sweep chart written to {}", path.display());
    }
    Ok(())
}

async fn interrupted() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:32}] {human_pos}/{human_len} {rate:>10} eta {eta}",
        )
        .expect("a valid template")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    pb.set_prefix(what.to_owned());
    pb
}

fn say(msg: &str) {
    eprintln!("bench: {msg}");
}

fn mib(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// A hub on a fresh database, its organisation and connection.
struct Session {
    hub: Hub,
    url: String,
    api: Api,
    org_id: String,
}

async fn start_session(env: &mut Env, label: &str) -> anyhow::Result<Session> {
    let url = env.fresh_db(label).await?;
    let hub = env.start_hub(&url, label).await?;
    let org = env.create_org(&url).await?;
    let api = Api::connect(api::http_client()?, &hub.base, &org).await?;
    Ok(Session {
        hub,
        url,
        api,
        org_id: org.id,
    })
}

/// When ingest begins: 300 days ago (or earlier if an account has more rows than seconds in
/// that), on a whole second, so every row is posted and in the past.
fn ingest_base(per_account: u64) -> i64 {
    let now = chrono::Utc::now().timestamp();
    let back = (300 * 86_400).max(per_account as i64 + 86_400);
    now - back
}

async fn run_all(env: &mut Env, sizes: &Sizes, options: &Options) -> anyhow::Result<Report> {
    let backend = env.backend;
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339();
    say(&format!(
        "{} · {} accounts × {} transactions · C={}{}{}",
        backend.name(),
        sizes.accounts,
        sizes.transactions,
        sizes.clients,
        if sizes.preload > 0 {
            format!(
                " · preload {} over {} accounts",
                sizes.preload, sizes.preload_accounts
            )
        } else {
            String::new()
        },
        if sizes.sweep { " · sweep" } else { "" }
    ));
    let counts = data::split(sizes.transactions, sizes.accounts);
    let base = ingest_base(counts[0]);

    // Ingest on an empty store.
    let mut s = start_session(env, "hub").await?;
    say(&format!("hub pid {} at {}", s.hub.pid, s.hub.base));
    let pb = bar(sizes.accounts as u64, "accounts");
    let accounts = s
        .api
        .create_accounts("ingest", sizes.accounts, 8, &pb)
        .await?;
    pb.finish_and_clear();
    s.hub.reset_peak_rss();
    let pb = bar(sizes.transactions, "ingest");
    let ingest = ingest::ingest(&s.api, &accounts, &counts, sizes.clients, base, &pb).await?;
    pb.finish_and_clear();
    let ingest_peak_rss_mib = mib(s.hub.peak_rss());
    s.hub.check_alive()?;
    say(&format!(
        "ingest: {:.0} transactions/s, p99 {:.1} ms",
        ingest.transactions_per_s, ingest.batch_latency.p99_ms
    ));

    // Read: the verification pass is the feed pull; then single lookups.
    let pb = bar(sizes.transactions, "verify+read");
    let none = vec![0; accounts.len()];
    let feed = ingest::pull_and_verify(&s.api, &accounts, &counts, &none, base, &pb).await?;
    pb.finish_and_clear();
    say(&format!(
        "verified: {} transactions stored exactly once; feed pull {:.0} rows/s",
        feed.rows, feed.rows_per_s
    ));
    let lookups = ingest::lookups(&s.api, &accounts, &ingest.job_ids, sizes.lookup_samples).await?;

    // Ceiling: the same rows straight into a fresh database with the hub's schema.
    let ceiling = ceiling(env, sizes, &counts, base).await?;
    let ingest_to_ceiling = ingest.transactions_per_s / ceiling.rows_per_s;
    say(&format!(
        "ceiling: {:.0} rows/s ({}); the hub ingests at {:.2}× that",
        ceiling.rows_per_s, ceiling.method, ingest_to_ceiling
    ));

    // Scale: preload the hub's own store, ingest again.
    let scale = if sizes.preload > 0 {
        Some(scale(env, &mut s, sizes, &ingest, base).await?)
    } else {
        None
    };
    drop(s);

    let sweep = if sizes.sweep {
        Some(sweep(env, sizes).await?)
    } else {
        None
    };

    let mut report = Report {
        backend: backend.name(),
        quick: options.quick,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        started_at,
        machine: Machine::probe(),
        sizes: sizes.clone(),
        ingest,
        ingest_peak_rss_mib,
        verified_stored_once: true,
        ceiling,
        ingest_to_ceiling,
        read: Read { feed, lookups },
        scale,
        sweep,
        targets: Vec::new(),
        total_seconds: 0.0,
    };
    report.targets = targets(&report, backend);
    report.total_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn ceiling(
    env: &mut Env,
    sizes: &Sizes,
    counts: &[u64],
    base: i64,
) -> anyhow::Result<Ceiling> {
    let backend = env.backend;
    let url = env.fresh_db("ceiling").await?;
    env.migrate(&url).await?;
    let (owner, accounts) = direct::seed(backend, &url, sizes.accounts).await?;
    let connections = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => sizes.clients.min(sizes.accounts),
    };
    let load = direct::Load {
        owner: &owner,
        accounts: &accounts,
        counts,
        kind: Kind::Ingest,
        base,
    };
    let pb = bar(sizes.transactions, "ceiling");
    let took = direct::insert(backend, &url, &load, connections, &pb).await?;
    pb.finish_and_clear();
    let stored = direct::count(backend, &url).await?;
    if stored as u64 != sizes.transactions {
        bail!(
            "the ceiling stored {stored} rows, not {}",
            sizes.transactions
        );
    }
    let method = match backend {
        Backend::Sqlite => "SQLite: prepared 1000-row INSERT, 1000 rows per transaction, WAL, synchronous=NORMAL, 1 connection".to_owned(),
        Backend::Postgres => format!("PostgreSQL: COPY text, 1000 rows per transaction, {connections} connection(s)"),
    };
    Ok(Ceiling {
        method,
        connections,
        rows: sizes.transactions,
        seconds: took.as_secs_f64(),
        rows_per_s: sizes.transactions as f64 / took.as_secs_f64(),
    })
}

async fn scale(
    env: &mut Env,
    s: &mut Session,
    sizes: &Sizes,
    empty: &IngestStats,
    base: i64,
) -> anyhow::Result<Scale> {
    let backend = env.backend;
    // The preloaded accounts are the hub's own (created over the API); ingest then goes to the
    // first N of them, on top of their preloaded history.
    let n = sizes.preload_accounts.max(sizes.accounts);
    let pb = bar(n as u64, "accounts");
    let accounts = s.api.create_accounts("scale", n, 8, &pb).await?;
    pb.finish_and_clear();
    let preload_counts = data::split(sizes.preload, n);
    let owner = direct::Owner {
        org_id: s.org_id.clone(),
        connection_id: s.api.connection_id().to_owned(),
    };
    let load = direct::Load {
        owner: &owner,
        accounts: &accounts,
        counts: &preload_counts,
        kind: Kind::Preload,
        base,
    };
    let pb = bar(sizes.preload, "preload");
    let took = direct::insert(backend, &s.url, &load, sizes.clients.min(4), &pb).await?;
    pb.finish_and_clear();
    direct::set_newest_posted_at(backend, &s.url, &load).await?;
    let store_rows_before = direct::count(backend, &s.url).await? as u64;
    say(&format!(
        "preloaded {} transactions in {:.1} s; the store holds {store_rows_before}",
        sizes.preload,
        took.as_secs_f64()
    ));

    let ingest_accounts = &accounts[..sizes.accounts];
    let counts = data::split(sizes.transactions, sizes.accounts);
    s.hub.reset_peak_rss();
    let pb = bar(sizes.transactions, "ingest@scale");
    let ingest = ingest::ingest(&s.api, ingest_accounts, &counts, sizes.clients, base, &pb).await?;
    pb.finish_and_clear();
    let peak_rss_mib = mib(s.hub.peak_rss());
    s.hub.check_alive()?;
    let pb = bar(sizes.transactions, "verify");
    ingest::pull_and_verify(
        &s.api,
        ingest_accounts,
        &counts,
        &preload_counts[..sizes.accounts],
        base,
        &pb,
    )
    .await?;
    pb.finish_and_clear();
    let ratio_to_empty = ingest.transactions_per_s / empty.transactions_per_s;
    say(&format!(
        "ingest at {store_rows_before} stored: {:.0} transactions/s ({ratio_to_empty:.2}× empty)",
        ingest.transactions_per_s
    ));
    Ok(Scale {
        preload: sizes.preload,
        preload_accounts: n,
        preload_seconds: took.as_secs_f64(),
        preload_rows_per_s: sizes.preload as f64 / took.as_secs_f64(),
        store_rows_before,
        ingest,
        peak_rss_mib,
        ratio_to_empty,
    })
}

/// The concurrency levels of the sweep.
pub const SWEEP: [usize; 5] = [1, 2, 4, 8, 16];

async fn sweep(env: &mut Env, sizes: &Sizes) -> anyhow::Result<Vec<SweepPoint>> {
    // Every point gets enough accounts for 16 clients, so all points push the same rows.
    let n = sizes.accounts.max(*SWEEP.iter().max().unwrap_or(&1));
    let counts = data::split(sizes.transactions, n);
    let base = ingest_base(counts[0]);
    let mut points = Vec::new();
    for &c in &SWEEP {
        let mut s = start_session(env, &format!("sweep{c}")).await?;
        let pb = bar(n as u64, "accounts");
        let accounts = s.api.create_accounts("sweep", n, 8, &pb).await?;
        pb.finish_and_clear();
        s.hub.reset_peak_rss();
        let pb = bar(sizes.transactions, &format!("sweep C={c}"));
        let r = ingest::ingest(&s.api, &accounts, &counts, c, base, &pb).await?;
        pb.finish_and_clear();
        let peak = mib(s.hub.peak_rss());
        s.hub.check_alive()?;
        let pb = bar(sizes.transactions, "verify");
        let none = vec![0; n];
        ingest::pull_and_verify(&s.api, &accounts, &counts, &none, base, &pb).await?;
        pb.finish_and_clear();
        say(&format!(
            "sweep C={c}: {:.0} transactions/s, p99 {:.1} ms",
            r.transactions_per_s, r.batch_latency.p99_ms
        ));
        points.push(SweepPoint {
            clients: c,
            accounts: n,
            transactions: r.transactions,
            transactions_per_s: r.transactions_per_s,
            p50_ms: r.batch_latency.p50_ms,
            p95_ms: r.batch_latency.p95_ms,
            p99_ms: r.batch_latency.p99_ms,
            max_ms: r.batch_latency.max_ms,
            peak_rss_mib: peak,
        });
    }
    Ok(points)
}

fn sweep_svg(report: &Report, points: &[SweepPoint]) -> String {
    let xs: Vec<u32> = points.iter().map(|p| p.clients as u32).collect();
    let rate: Vec<f64> = points.iter().map(|p| p.transactions_per_s).collect();
    let p99: Vec<f64> = points.iter().map(|p| p.p99_ms).collect();
    let first = points.first();
    line_charts(
        &format!("bankfeeds ingest on {} against concurrency", report.backend),
        &format!(
            "{} transactions over {} accounts, 1000-transaction batches · {} × {}",
            first.map_or(0, |p| p.transactions),
            first.map_or(0, |p| p.accounts),
            report.machine.cpus,
            report.machine.cpu_model
        ),
        "concurrent clients (C)",
        &xs,
        &[
            Chart {
                title: "throughput",
                unit: "transactions/s",
                values: &rate,
                color: "#1f77b4",
            },
            Chart {
                title: "batch latency p99",
                unit: "ms",
                values: &p99,
                color: "#d62728",
            },
        ],
    )
}

fn targets(r: &Report, backend: Backend) -> Vec<Target> {
    let mut t = Vec::new();
    t.push(Target {
        name: "ingest vs ceiling".into(),
        goal: "≥ 0.5×".into(),
        measured: format!("{:.2}×", r.ingest_to_ceiling),
        met: Some(r.ingest_to_ceiling >= 0.5),
    });
    // p99 at C=8: the main run if it ran at 8, else the sweep's point.
    let p99_at_8 = if r.sizes.clients == 8 {
        Some(r.ingest.batch_latency.p99_ms)
    } else {
        r.sweep
            .as_ref()
            .and_then(|s| s.iter().find(|p| p.clients == 8))
            .map(|p| p.p99_ms)
    };
    t.push(Target {
        name: "batch p99 at C=8".into(),
        goal: "≤ 25 ms (SQLite)".into(),
        measured: p99_at_8.map_or_else(|| "not run at C=8".into(), |v| format!("{v:.1} ms")),
        met: match backend {
            Backend::Sqlite => p99_at_8.map(|v| v <= 25.0),
            Backend::Postgres => None,
        },
    });
    t.push(Target {
        name: "rate at scale vs empty".into(),
        goal: "≥ 0.8×".into(),
        measured: r.scale.as_ref().map_or_else(
            || "not run".into(),
            |s| format!("{:.2}× at {} stored", s.ratio_to_empty, s.store_rows_before),
        ),
        met: r.scale.as_ref().map(|s| s.ratio_to_empty >= 0.8),
    });
    let peak = [
        r.ingest_peak_rss_mib,
        r.scale.as_ref().and_then(|s| s.peak_rss_mib),
    ]
    .into_iter()
    .flatten()
    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    t.push(Target {
        name: "hub peak RSS during ingest".into(),
        goal: "≤ 150 MiB".into(),
        measured: peak.map_or_else(|| "unknown".into(), |v| format!("{v:.1} MiB")),
        met: peak.map(|v| v <= 150.0),
    });
    t
}

fn fmt_rate(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn print_report(r: &Report) {
    let rows: Vec<(String, String, String)> = {
        let mut v = Vec::new();
        let mut row = |phase: &str, metric: &str, value: String| {
            v.push((phase.to_owned(), metric.to_owned(), value));
        };
        let i = &r.ingest;
        row(
            "ingest",
            "shape",
            format!(
                "{} accounts × {} tx, C={}, {} batches",
                i.accounts, i.transactions, i.clients, i.batches
            ),
        );
        row("ingest", "transactions/s", fmt_rate(i.transactions_per_s));
        row(
            "ingest",
            "batch p50 / p95 / p99 / max",
            format!(
                "{:.1} / {:.1} / {:.1} / {:.1} ms",
                i.batch_latency.p50_ms,
                i.batch_latency.p95_ms,
                i.batch_latency.p99_ms,
                i.batch_latency.max_ms
            ),
        );
        row(
            "ingest",
            "hub peak RSS",
            r.ingest_peak_rss_mib
                .map_or_else(|| "unknown".into(), |m| format!("{m:.1} MiB")),
        );
        row("ingest", "retries", i.retries.to_string());
        row(
            "ingest",
            "stored exactly once",
            format!("yes ({} checked)", r.read.feed.rows),
        );
        row("ceiling", "rows/s", fmt_rate(r.ceiling.rows_per_s));
        row("ceiling", "method", r.ceiling.method.clone());
        row(
            "ceiling",
            "hub / ceiling",
            format!("{:.2}×", r.ingest_to_ceiling),
        );
        let f = &r.read.feed;
        row("read", "feed pull rows/s", fmt_rate(f.rows_per_s));
        row(
            "read",
            "page of 1000 p50 / p99",
            format!(
                "{:.1} / {:.1} ms",
                f.page_latency.p50_ms, f.page_latency.p99_ms
            ),
        );
        let l = &r.read.lookups;
        row(
            "read",
            "GET account p50 / p99",
            format!(
                "{:.2} / {:.2} ms",
                l.account_get.p50_ms, l.account_get.p99_ms
            ),
        );
        row(
            "read",
            "GET job p50 / p99",
            format!("{:.2} / {:.2} ms", l.job_get.p50_ms, l.job_get.p99_ms),
        );
        if let Some(s) = &r.scale {
            row(
                "scale",
                "preload",
                format!(
                    "{} tx over {} accounts in {:.1} s ({} rows/s)",
                    s.preload,
                    s.preload_accounts,
                    s.preload_seconds,
                    fmt_rate(s.preload_rows_per_s)
                ),
            );
            row(
                "scale",
                "store before ingest",
                s.store_rows_before.to_string(),
            );
            row(
                "scale",
                "transactions/s",
                fmt_rate(s.ingest.transactions_per_s),
            );
            row(
                "scale",
                "batch p50 / p99",
                format!(
                    "{:.1} / {:.1} ms",
                    s.ingest.batch_latency.p50_ms, s.ingest.batch_latency.p99_ms
                ),
            );
            row("scale", "rate / empty", format!("{:.2}×", s.ratio_to_empty));
            row(
                "scale",
                "hub peak RSS",
                s.peak_rss_mib
                    .map_or_else(|| "unknown".into(), |m| format!("{m:.1} MiB")),
            );
        }
        if let Some(points) = &r.sweep {
            for p in points {
                row(
                    "sweep",
                    &format!("C={}", p.clients),
                    format!(
                        "{} tx/s, p50 {:.1} p95 {:.1} p99 {:.1} max {:.1} ms",
                        fmt_rate(p.transactions_per_s),
                        p.p50_ms,
                        p.p95_ms,
                        p.p99_ms,
                        p.max_ms
                    ),
                );
            }
        }
        for t in &r.targets {
            let verdict = match t.met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "n/a",
            };
            row(
                "target",
                &t.name,
                format!("{verdict}: {} (goal {})", t.measured, t.goal),
            );
        }
        v
    };
    println!();
    println!(
        "bankfeeds bench · {} · {} × {} · {:.0} s",
        r.backend, r.machine.cpus, r.machine.cpu_model, r.total_seconds
    );
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    println!("{:-<1$}", "", w0 + w1 + 50);
    let mut last = String::new();
    for (phase, metric, value) in &rows {
        let shown = if *phase == last { "" } else { phase.as_str() };
        println!("{shown:<w0$}  {metric:<w1$}  {value}");
        last.clone_from(phase);
    }
    println!("{:-<1$}", "", w0 + w1 + 50);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_sizes_and_overrides() {
        let o = Options {
            quick: true,
            clients: Some(2),
            ..Options::default()
        };
        let s = Sizes::resolve(&o).unwrap();
        assert_eq!((s.accounts, s.transactions, s.clients), (4, 20_000, 2));
        assert_eq!((s.preload, s.preload_accounts), (20_000, 20));
        assert!(!s.sweep);
        let d = Sizes::resolve(&Options::default()).unwrap();
        assert_eq!((d.accounts, d.transactions, d.clients), (100, 1_000_000, 8));
        assert_eq!((d.preload, d.preload_accounts), (10_000_000, 10_000));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.0), "999");
    }
}
