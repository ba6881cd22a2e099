//! The modes, run in order against hubs on fresh databases: ingest (and its verification and
//! read figures), ceiling, scale and sweep.

use std::time::Instant;

use anyhow::bail;

use crate::api::{self, Api};
use crate::data::{self, Kind};
use crate::direct;
use crate::hub::{Backend, Env, Hub};
use crate::ingest::{self, IngestStats};
use crate::options::{Options, Sizes};
use crate::report::{targets, Ceiling, Export, Machine, Read, Report, Scale, SweepPoint};
use crate::{bar, mib, say};

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

pub(crate) async fn run_all(
    env: &mut Env,
    sizes: &Sizes,
    options: &Options,
) -> anyhow::Result<Report> {
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
    let export = if sizes.export > 0 {
        Some(export(env, sizes.export).await?)
    } else {
        None
    };
    let webhooks = Some(crate::webhooks::run(env, sizes, base).await?);

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
        export,
        webhooks,
        targets: Vec::new(),
        total_seconds: 0.0,
    };
    report.targets = targets(&report, backend);
    report.total_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// One account of `n` transactions on a fresh hub, then its CSV and BAI2 statement files
/// downloaded one after the other: the hub's RSS before, and its peak while it writes them.
async fn export(env: &mut Env, n: u64) -> anyhow::Result<Export> {
    let mut s = start_session(env, "export").await?;
    let pb = bar(1, "accounts");
    let accounts = s.api.create_accounts("export", 1, 1, &pb).await?;
    pb.finish_and_clear();
    let pb = bar(n, "export data");
    ingest::ingest(&s.api, &accounts, &[n], 1, ingest_base(n), &pb).await?;
    pb.finish_and_clear();
    // Let the pushes' buffers go back before taking the idle figure.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let idle_rss_mib = mib(s.hub.rss());
    s.hub.reset_peak_rss();
    let mut files = Vec::new();
    for format in ["csv", "bai2"] {
        let started = Instant::now();
        let (bytes, lines) = s.api.statement(&accounts[0], format).await?;
        // CSV: a header and a row each; BAI2: at least a 16 record each.
        if lines < n + 1 {
            bail!("the {format} export has {lines} lines for {n} transactions");
        }
        files.push((format.to_owned(), bytes, started.elapsed().as_secs_f64()));
    }
    let peak_rss_mib = mib(s.hub.peak_rss());
    s.hub.check_alive()?;
    say(&format!(
        "export: {n} transactions as csv and bai2; hub RSS {} MiB idle, {} MiB peak",
        idle_rss_mib.map_or("?".into(), |m| format!("{m:.1}")),
        peak_rss_mib.map_or("?".into(), |m| format!("{m:.1}"))
    ));
    Ok(Export {
        transactions: n,
        files,
        idle_rss_mib,
        peak_rss_mib,
    })
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
        Backend::Sqlite => format!(
            "SQLite: prepared 1000-row INSERT, 1000 rows per transaction, WAL, synchronous={}, 1 connection",
            direct::sqlite_synchronous()
        ),
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
