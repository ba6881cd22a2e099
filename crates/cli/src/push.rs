//! `bankfeeds push`: a file of posted transactions (CSV or JSON lines) pushed to a running hub
//! through `bankfeeds-client`, in batches of at most 1000, idempotently: each batch's
//! `Idempotency-Key` is derived from the account, its position in the file and its content, so
//! a rerun is answered with the first run's outcome (and a batch that changed is still judged
//! by transaction id: what was stored is reported as duplicated, never stored twice).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use bankfeeds_client::wire::accounts::ResponseMode;
use bankfeeds_client::wire::transactions::{BatchIn, TransactionIn};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::hub_args::HubArgs;
use crate::push_summary::Summary;

/// The most transactions the hub takes in one batch.
const MAX_BATCH: usize = 1000;

#[derive(clap::Args)]
pub struct PushArgs {
    /// The connection's access token (it selects the connection).
    #[arg(
        long = "connection",
        env = "BANKFEEDS_ACCESS_TOKEN",
        hide_env_values = true
    )]
    access_token: String,
    /// The bank feed account's id (the hub's, as `create` answered it).
    #[arg(long)]
    account: String,
    /// The transactions: CSV with a header row (`transaction_id,posted_at,amount,…`, the
    /// API's field names) or JSON lines (one API transaction object per line).
    #[arg(long)]
    file: PathBuf,
    /// `csv` or `jsonl`; default from the file's extension (`.csv`; `.jsonl`, `.ndjson`).
    #[arg(long)]
    format: Option<Format>,
    /// Transactions per batch, 1 to 1000.
    #[arg(long, default_value_t = MAX_BATCH)]
    batch_size: usize,
    #[command(flatten)]
    hub: HubArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    fn of(path: &Path) -> anyhow::Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "csv" => Ok(Format::Csv),
            Some(e) if e == "jsonl" || e == "ndjson" => Ok(Format::Jsonl),
            _ => bail!(
                "cannot tell the format of {} from its extension; give --format csv or jsonl",
                path.display()
            ),
        }
    }
}

pub async fn run(args: PushArgs) -> anyhow::Result<()> {
    if !(1..=MAX_BATCH).contains(&args.batch_size) {
        bail!("--batch-size must be between 1 and {MAX_BATCH}");
    }
    let format = match args.format {
        Some(f) => f,
        None => Format::of(&args.file)?,
    };
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let transactions = match format {
        Format::Csv => read_csv(&text)?,
        Format::Jsonl => read_jsonl(&text)?,
    };
    if transactions.is_empty() {
        bail!("{} holds no transactions", args.file.display());
    }
    let client = args.hub.client()?;
    let conn = client.connection(&args.access_token);
    let account_id = args.account.parse().map_err(|_| {
        anyhow::anyhow!("--account {:?} is not a bank feed account id", args.account)
    })?;

    let bar = ProgressBar::with_draw_target(
        Some(transactions.len() as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} transactions {msg}")
            .expect("a valid template"),
    );
    let mut summary = Summary::default();
    for (index, chunk) in transactions.chunks(args.batch_size).enumerate() {
        let batch = BatchIn {
            bank_feed_account_id: account_id,
            current_balance: None,
            transactions: chunk.to_vec(),
        };
        let key = batch_key(&args.account, index, &batch);
        let pushed = conn
            .push_with(&batch, ResponseMode::PreferSync, Some(key))
            .await;
        let outcome = match pushed {
            Ok(pushed) => {
                let replayed = pushed.replayed();
                pushed.stored().await.map(|stored| (stored, replayed))
            }
            Err(e) => Err(e),
        };
        summary.record(index, chunk, outcome)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    #[allow(clippy::print_stdout)]
    {
        print!("{summary}");
    }
    if summary.refused() > 0 {
        bail!("{} transactions were refused", summary.refused());
    }
    Ok(())
}

/// The batch's `Idempotency-Key`: the same account, position and content give the same key.
fn batch_key(account: &str, index: usize, batch: &BatchIn) -> String {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update(index.to_be_bytes());
    h.update(serde_json::to_vec(batch).expect("batches serialise"));
    format!("push-{}", &hex::encode(h.finalize())[..40])
}

/// CSV with a header row of API field names; empty cells are absent fields; `amount` and the
/// other money columns are read as exact decimals.
fn read_csv(text: &str) -> anyhow::Result<Vec<TransactionIn>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .context("the CSV has no header row")?
        .clone();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("CSV line {line}"))?;
        let mut fields = Map::new();
        for (name, cell) in headers.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = if MONEY.contains(&name) {
                let n: serde_json::Number = cell.parse().map_err(|_| {
                    anyhow::anyhow!("CSV line {line}: {name} {cell:?} is not a number")
                })?;
                Value::Number(n)
            } else {
                Value::String(cell.to_owned())
            };
            fields.insert(name.to_owned(), value);
        }
        out.push(
            serde_json::from_value(Value::Object(fields))
                .with_context(|| format!("CSV line {line}"))?,
        );
    }
    Ok(out)
}

const MONEY: [&str; 3] = ["amount", "interest_amount", "principal_amount"];

/// One API transaction object per line; blank lines are skipped.
fn read_jsonl(text: &str) -> anyhow::Result<Vec<TransactionIn>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_exactly_and_keys_batches_by_position_and_content() {
        let csv = "transaction_id,posted_at,amount,description,payee\n\
                   a-1,2024-03-01,-12.30,Coffee,\n\
                   a-2,2024-03-02T09:00:00Z,1000.05,Deposit,ACME\n";
        let t = read_csv(csv).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].amount.to_string(), "-12.3");
        assert_eq!(t[0].payee, None);
        assert_eq!(t[1].payee.as_deref(), Some("ACME"));
        let e = read_csv("transaction_id,posted_at,amount,colour\na,2024-01-01,1,red\n");
        assert!(format!("{:#}", e.unwrap_err()).contains("line 2"));

        let batch = |t: Vec<TransactionIn>| BatchIn {
            bank_feed_account_id: "0191b3c4-0000-7000-8000-000000000001".parse().unwrap(),
            current_balance: None,
            transactions: t,
        };
        let b = batch(t.clone());
        assert_eq!(batch_key("x", 0, &b), batch_key("x", 0, &batch(t.clone())));
        assert_ne!(batch_key("x", 0, &b), batch_key("x", 1, &b));
        assert_ne!(
            batch_key("x", 0, &b),
            batch_key("x", 0, &batch(t[..1].to_vec()))
        );
    }

    #[test]
    fn reads_json_lines() {
        let text = "{\"transaction_id\":\"a\",\"posted_at\":\"2024-03-01\",\"amount\":-1.5}\n\n\
                    {\"transaction_id\":\"b\",\"posted_at\":\"2024-03-02\",\"amount\":2}\n";
        assert_eq!(read_jsonl(text).unwrap().len(), 2);
        assert!(read_jsonl("{\"transaction_id\":1}").is_err());
    }
}
