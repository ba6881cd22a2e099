//! `bankfeeds export`: a statement file downloaded from a running hub, as an FI's back office
//! would fetch it, through the same API and credentials (`GET …/accounts/:id/statement`, or
//! `GET …/bank_feeds/statement` for the whole connection), through `bankfeeds-client` (its
//! retries and error codes). Streams to `--out` or stdout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::hub_args::HubArgs;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The bank feed account's id; without it, one file for every account of the connection
    /// (bai2 or camt053 only).
    #[arg(long)]
    account: Option<String>,
    /// qbo, qfx, ofx, csv, bai2, mt940 or camt053.
    #[arg(long)]
    format: String,
    /// First day covered, YYYY-MM-DD (UTC, inclusive).
    #[arg(long)]
    from: Option<String>,
    /// Last day covered, YYYY-MM-DD (UTC, inclusive).
    #[arg(long)]
    to: Option<String>,
    /// Write the file here (replaced only once it arrived whole); default stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    hub: HubArgs,
    /// The connection's access token.
    #[arg(long, env = "BANKFEEDS_ACCESS_TOKEN", hide_env_values = true)]
    access_token: String,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let client = args.hub.client()?;
    let mut resp = client
        .connection(&args.access_token)
        .statement(
            args.account.as_deref(),
            &args.format,
            args.from.as_deref(),
            args.to.as_deref(),
        )
        .await
        .map_err(|e| match e {
            bankfeeds_client::Error::Api { status, body } => anyhow::anyhow!(
                "the hub refused the export: {} {}: {}",
                reqwest::StatusCode::from_u16(status).map_or(status.to_string(), |s| s.to_string()),
                body.error_code,
                body.error_message
            ),
            other => anyhow::Error::new(other)
                .context(format!("cannot reach the hub at {}", args.hub.hub)),
        })?;
    // A cut transfer must not leave a file that looks whole: write beside the target, then
    // rename.
    let (mut sink, partial): (Box<dyn Write>, Option<tempfile::NamedTempFile>) = match &args.out {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            (Box::new(tmp.reopen()?), Some(tmp))
        }
        None => (Box::new(std::io::stdout().lock()), None),
    };
    while let Some(chunk) = resp
        .chunk()
        .await
        .context("the transfer was cut short; no file written")?
    {
        sink.write_all(&chunk)?;
    }
    sink.flush()?;
    drop(sink);
    if let (Some(tmp), Some(path)) = (partial, &args.out) {
        tmp.persist(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
