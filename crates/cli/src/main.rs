//! `bankfeeds`: one binary for the hub. Thin over the libraries: parse, load config, set up
//! logging, call in.

// Printing results to stdout is this binary's job, and notes for the operator (which database
// a command used) to stderr, so that stdout stays machine-readable.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod config_check;
mod database;
mod demo;
mod export;
mod hub_args;
mod operator;
mod org;
mod push;
mod push_summary;
mod status;

use std::path::PathBuf;

use anyhow::Context;
use bankfeeds_server::config::{Config, LogFormat, Overrides};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "bankfeeds", version, about = "A self-hosted bank feeds hub")]
struct Cli {
    /// A TOML config file (keys as in the README's configuration table).
    #[arg(long, global = true, env = "BANKFEEDS_CONFIG")]
    config: Option<PathBuf>,
    /// `sqlite://path` or `postgres://…` (overrides file and BANKFEEDS_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// `human` or `json` (overrides file and BANKFEEDS_LOG_FORMAT).
    #[arg(long, global = true)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (applies migrations first).
    Serve {
        /// Address to listen on (overrides file and BANKFEEDS_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// The URL browsers reach this hub at (overrides file and BANKFEEDS_PUBLIC_URL).
        #[arg(long)]
        public_url: Option<String>,
        /// Speak HTTPS: a PEM certificate chain, leaf first (overrides file and
        /// BANKFEEDS_TLS_CERT; needs --tls-key).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert (overrides file and BANKFEEDS_TLS_KEY).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organisations (the FIs using the hub) and their API credentials.
    Org {
        #[command(subcommand)]
        command: org::OrgCommand,
    },
    /// Manage the operators who sign in to an organisation's console (`/console`).
    Operator {
        #[command(subcommand)]
        command: operator::OperatorCommand,
    },
    /// Print the OpenAPI document of the Rutter-shaped API (`/openapi.json`), or with
    /// `--codat` that of the Codat door (`/codat/openapi.json`).
    Openapi {
        #[arg(long)]
        codat: bool,
    },
    /// Print a new random key for `secrets_key` (base64 of 32 bytes). To rotate, put the new
    /// key first and keep the old ones after it, comma-separated.
    SecretsKey,
    /// Try the whole story locally: a hub on a temporary database, a demo FI, a linked
    /// sandbox company and a month of transactions ingested; serves until Ctrl-C.
    Demo(demo::DemoArgs),
    /// Benchmark ingest, reads and scale against hubs it starts itself on fresh databases.
    Bench(bench::BenchArgs),
    /// Download a statement file (qbo, qfx, ofx, csv, bai2, mt940, camt053) from a running hub.
    Export(export::ExportArgs),
    /// Push a file of transactions (CSV or JSON lines) to a running hub, in batches of up to
    /// 1000, idempotently (a rerun pushes nothing twice); prints what was stored, duplicated
    /// or refused and why.
    Push(push::PushArgs),
    /// Report the database (migrations), the job queue, webhook deliveries and feeds; exits
    /// non-zero when the database does not answer or lacks migrations.
    Status(status::StatusArgs),
    /// Back the database up: SQLite, a consistent copy while the hub serves; PostgreSQL,
    /// prints the `pg_dump` command to run.
    Backup(status::BackupArgs),
    /// Check the settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check everything `serve` needs before starting it: the settings, TLS files, the key
    /// ring, the database (reachable, migrated, durable), the listen address; and warn about
    /// settings not meant for production. Exits 1 on an error.
    Check(config_check::CheckArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Bench(args) = &cli.command {
        return bench::run(args, cli.database_url.as_deref());
    }
    if let Command::Export(args) = cli.command {
        // A client of a running hub: it needs no config and opens no database.
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(export::run(args));
    }
    if let Command::Push(args) = cli.command {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(push::run(args));
    }
    let mut overrides = Overrides {
        database_url: cli.database_url.clone(),
        log_format: cli.log_format,
        ..Overrides::default()
    };
    if let Command::Serve {
        listen,
        public_url,
        tls_cert,
        tls_key,
    } = &cli.command
    {
        overrides.listen = *listen;
        overrides.public_url = public_url.clone();
        overrides.tls_cert = tls_cert.clone();
        overrides.tls_key = tls_key.clone();
    }
    if let Command::Openapi { codat } = cli.command {
        if codat {
            print!("{}", bankfeeds_server::codat::openapi::document());
        } else {
            print!("{}", bankfeeds_server::openapi::document());
        }
        return Ok(());
    }
    if let Command::SecretsKey = cli.command {
        println!("{}", bankfeeds_server::sealed::Keyring::generate_key());
        return Ok(());
    }
    if let Command::Config {
        command: ConfigCommand::Check(args),
    } = cli.command
    {
        // Reports a settings error as a finding instead of failing on it.
        return tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(config_check::run(args, cli.config.as_deref(), &overrides));
    }
    let mut config = Config::load(cli.config.as_deref(), &overrides)?;
    if matches!(cli.command, Command::Demo(_)) && std::env::var_os("BANKFEEDS_LOG_LEVEL").is_none()
    {
        // The demo's summary is the point; request logs would bury it.
        config.log_level = "warn".into();
    }
    bankfeeds_server::telemetry::init(config.log_format, &config.log_level);
    match cli.command {
        Command::Migrate | Command::Org { .. } | Command::Operator { .. } => {
            database::announce(&config, true)
        }
        Command::Status(_) | Command::Backup(_) => database::announce(&config, false),
        _ => {}
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(dispatch(cli.command, config))
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let store = bankfeeds_server::open_store(&config).await?;
            store.migrate().await?;
            tracing::info!(database = store.backend(), "migrations applied");
            Ok(())
        }
        Command::Org { command } => org::run(command, &config).await,
        Command::Operator { command } => operator::run(command, &config).await,
        Command::Demo(args) => demo::run(args, config).await,
        Command::Status(args) => status::status(args, &config).await,
        Command::Backup(args) => status::backup(args, &config).await,
        Command::Openapi { .. }
        | Command::SecretsKey
        | Command::Bench(_)
        | Command::Export(_)
        | Command::Push(_)
        | Command::Config { .. } => {
            unreachable!("handled before config is loaded")
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    bankfeeds_server::run(config, listener, shutdown).await
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
pub(crate) async fn stop_on_signal(shutdown: CancellationToken) {
    bankfeeds_server::signal::stop_requested().await;
    tracing::info!("shutdown requested; finishing in-flight requests");
    shutdown.cancel();
}
