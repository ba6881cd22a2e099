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
//! - **export**: one account of E transactions downloaded as statement files (CSV, BAI2); the
//!   hub's peak RSS while it streams them against its RSS before.
//! - **webhooks**: ingest on a hub whose webhook receivers hang or answer 500, against ingest on
//!   a hub with none, in alternating rounds; the ratio of the rates.

// This crate is a command's body: printing the results table and progress is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]
mod api;
mod data;
mod direct;
mod hub;
mod ingest;
mod modes;
mod options;
mod report;
mod stats;
mod svg;
mod webhooks;

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::hub::Env;
use crate::modes::run_all;
use crate::report::{print_report, sweep_svg};

pub use crate::modes::SWEEP;
pub use crate::options::{Options, Sizes};
pub use crate::report::{Ceiling, Export, Machine, Read, Report, Scale, SweepPoint, Target};

/// Runs the benchmark as `options` say, prints the table, writes JSON and SVG. An error (and so
/// a non-zero exit) when anything fails, notably when a pushed transaction is not stored exactly
/// once. Missed targets are reported, not errors. When `interrupted` resolves (the caller's
/// Ctrl-C or SIGTERM), the run stops, its hubs are killed and its databases dropped.
pub async fn run(
    options: Options,
    interrupted: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let sizes = Sizes::resolve(&options)?;
    let mut env = Env::new(options.hub_binary.clone(), options.database_url.as_deref())?;
    let backend = env.backend;
    let outcome = tokio::select! {
        r = Box::pin(run_all(&mut env, &sizes, &options)) => r,
        () = interrupted => Err(anyhow::anyhow!("interrupted")),
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
