//! `bankfeeds bench`: the flags, handed to the harness in the `bankfeeds-bench` crate. The
//! hubs it measures are children of this very binary (`serve`, `migrate`, `org create`).

use std::path::PathBuf;

use clap::Args;

/// Sizes default to the published run (100 accounts, 1,000,000 transactions, C=8, preload
/// 10,000,000 over 10,000 accounts); `--quick` shrinks every mode to seconds. With the global
/// `--database-url postgres://…` it runs on PostgreSQL, creating (and dropping) fresh databases
/// on that server; without it, on fresh SQLite files in a temporary directory.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Every mode in seconds (4 accounts, 20,000 transactions, C=4, preload 20,000 over 20).
    #[arg(long)]
    quick: bool,
    /// Bank feed accounts to push to.
    #[arg(long)]
    accounts: Option<usize>,
    /// Transactions to push (in 1000-transaction batches).
    #[arg(long)]
    transactions: Option<u64>,
    /// Concurrent clients; each account belongs to one.
    #[arg(long)]
    clients: Option<usize>,
    /// Also run ingest at C = 1, 2, 4, 8, 16 and chart it (SVG).
    #[arg(long)]
    sweep: bool,
    /// Transactions preloaded straight into the hub's store before measuring ingest again
    /// (0 skips the scale mode).
    #[arg(long)]
    preload: Option<u64>,
    /// Accounts the preload is spread over.
    #[arg(long)]
    preload_accounts: Option<usize>,
    /// Transactions of the one account whose statement files (CSV, BAI2) are downloaded to
    /// measure the hub's memory while it streams them (default 100,000; 10,000 with --quick;
    /// 0 skips).
    #[arg(long)]
    export: Option<u64>,
    /// Where to write the results as JSON (default bench/results-<backend>.json, none in quick).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where to write the sweep chart (default bench/sweep-<backend>.svg).
    #[arg(long)]
    svg: Option<PathBuf>,
}

pub fn run(args: &BenchArgs, database_url: Option<&str>) -> anyhow::Result<()> {
    let options = bankfeeds_bench::Options {
        hub_binary: std::env::current_exe()?,
        database_url: database_url.map(str::to_owned),
        quick: args.quick,
        accounts: args.accounts,
        transactions: args.transactions,
        clients: args.clients,
        sweep: args.sweep,
        preload: args.preload,
        preload_accounts: args.preload_accounts,
        export: args.export,
        json: args.json.clone(),
        svg: args.svg.clone(),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bankfeeds_bench::run(
            options,
            bankfeeds_server::signal::stop_requested(),
        ))
}
