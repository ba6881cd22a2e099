//! Ingest while webhook receivers misbehave (issue 15: "a receiver that answers 500 or hangs
//! never slows ingest").
//!
//! Two hubs of the same build on fresh databases run the same ingest in alternation: one with
//! no webhook endpoint, one whose organisation has endpoints that all point at a local receiver
//! which never answers (`/hang/…`: it accepts, reads nothing and holds the socket until the hub's
//! 15 s timeout) or answers 500 (`/fail/…`). There are more hanging endpoints than the hub has
//! sending loops, so every sender is stuck on a hanging try while the pushes run. The figure is
//! the ratio of the two rates, and the spread between the rounds of the quiet hub says how much
//! of a difference is noise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::api::{self, Api};
use crate::hub::{Env, Hub};
use crate::ingest::{self, IngestStats};
use crate::options::Sizes;
use crate::report::Target;
use crate::{bar, say};

/// Endpoints whose receiver never answers: more than the hub's sending loops (4).
const HANGING: usize = 6;
/// Endpoints whose receiver answers 500.
const FAILING: usize = 2;
/// Rounds of each hub, alternating, so drift on the machine touches both alike.
const ROUNDS: usize = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Webhooks {
    pub hanging_endpoints: usize,
    pub failing_endpoints: usize,
    /// Transactions per second of each round without webhooks, then with.
    pub quiet_rates: Vec<f64>,
    pub noisy_rates: Vec<f64>,
    pub quiet_p99_ms: Vec<f64>,
    pub noisy_p99_ms: Vec<f64>,
    /// Mean rate with the misbehaving receivers ÷ mean rate without.
    pub ratio: f64,
    /// The spread of the quiet rounds (max − min) ÷ their mean: the run's own noise.
    pub quiet_spread: f64,
    /// Connections the receiver accepted: proof the hub was trying to deliver.
    pub receiver_connections: u64,
}

/// The receiver: counts connections; `/hang/…` requests are held open unanswered, others get
/// a 500 once their request is read.
struct Receiver {
    base: String,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receiver() -> anyhow::Result<Receiver> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let connections = Arc::new(AtomicU64::new(0));
    let counted = connections.clone();
    let task = tokio::spawn(async move {
        let mut held = tokio::task::JoinSet::new();
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::Relaxed);
            held.spawn(serve(socket));
        }
    });
    Ok(Receiver {
        base,
        connections,
        task,
    })
}

/// Reads the request head; holds a `/hang/` request forever, answers any other 500.
async fn serve(mut socket: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 64 * 1024 {
            return;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if text
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .starts_with("/hang/")
    {
        // Never answer; the hub gives up after its timeout and closes the socket.
        let _ = socket.read_to_end(&mut Vec::new()).await;
        return;
    }
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut read = head.len() - end;
    while read < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => read += n,
        }
    }
    let _ = socket
        .write_all(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
}

/// A hub on a fresh database; endpoints registered when `receiver` is given.
async fn hub(
    env: &mut Env,
    label: &str,
    receiver: Option<&Receiver>,
) -> anyhow::Result<(Hub, Api)> {
    let url = env.fresh_db(label).await?;
    // The receiver is on loopback, which the hub refuses unless told this is a test bed.
    let hub = env
        .start_hub_with(
            &url,
            label,
            &[
                ("BANKFEEDS_WEBHOOKS_ALLOW_PRIVATE", "true"),
                ("BANKFEEDS_WEBHOOKS_POLL_MS", "100"),
            ],
        )
        .await?;
    let org = env.create_org(&url).await?;
    let api = Api::connect(api::http_client()?, &hub.base, &org).await?;
    if let Some(r) = receiver {
        for i in 0..HANGING {
            api.create_webhook(&format!("{}/hang/{i}", r.base)).await?;
        }
        for i in 0..FAILING {
            api.create_webhook(&format!("{}/fail/{i}", r.base)).await?;
        }
    }
    Ok((hub, api))
}

/// One round on `hub`: fresh accounts (the rows' ids repeat from round to round), the ingest,
/// and, when `verify`, the check that every row is stored once.
async fn round(
    hub: &mut Hub,
    api: &Api,
    sizes: &Sizes,
    base: i64,
    label: &str,
    verify: bool,
) -> anyhow::Result<IngestStats> {
    let counts = crate::data::split(sizes.transactions, sizes.accounts);
    let pb = bar(sizes.accounts as u64, "accounts");
    let accounts = api.create_accounts(label, sizes.accounts, 8, &pb).await?;
    pb.finish_and_clear();
    let pb = bar(sizes.transactions, label);
    let stats = ingest::ingest(api, &accounts, &counts, sizes.clients, base, &pb).await?;
    pb.finish_and_clear();
    hub.check_alive()?;
    if verify {
        let pb = bar(sizes.transactions, "verify");
        let none = vec![0; accounts.len()];
        ingest::pull_and_verify(api, &accounts, &counts, &none, base, &pb)
            .await
            .context("verify the ingest beside misbehaving webhooks")?;
        pb.finish_and_clear();
    }
    Ok(stats)
}

/// Runs the rounds, alternating the quiet hub and the noisy one.
pub async fn run(env: &mut Env, sizes: &Sizes, base: i64) -> anyhow::Result<Webhooks> {
    let receiver = receiver().await?;
    let (mut quiet, quiet_api) = hub(env, "webhooks-off", None).await?;
    let (mut noisy, noisy_api) = hub(env, "webhooks-on", Some(&receiver)).await?;
    // An event for the new endpoints' feed, so the senders are busy before the first round.
    noisy_api.create_account("warm-up").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut quiet_stats, mut noisy_stats) = (Vec::new(), Vec::new());
    for r in 0..ROUNDS {
        let label = format!("quiet{r}");
        quiet_stats.push(round(&mut quiet, &quiet_api, sizes, base, &label, false).await?);
        let label = format!("noisy{r}");
        noisy_stats.push(round(&mut noisy, &noisy_api, sizes, base, &label, true).await?);
    }
    let receiver_connections = receiver.connections.load(Ordering::Relaxed);
    if receiver_connections == 0 {
        bail!("the webhook receiver was never contacted: the measurement would mean nothing");
    }

    let rates = |s: &[IngestStats]| s.iter().map(|i| i.transactions_per_s).collect::<Vec<_>>();
    let p99 = |s: &[IngestStats]| s.iter().map(|i| i.batch_latency.p99_ms).collect::<Vec<_>>();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (quiet_rates, noisy_rates) = (rates(&quiet_stats), rates(&noisy_stats));
    let spread = quiet_rates.iter().copied().fold(f64::MIN, f64::max)
        - quiet_rates.iter().copied().fold(f64::MAX, f64::min);
    let w = Webhooks {
        hanging_endpoints: HANGING,
        failing_endpoints: FAILING,
        quiet_p99_ms: p99(&quiet_stats),
        noisy_p99_ms: p99(&noisy_stats),
        quiet_spread: spread / mean(&quiet_rates),
        ratio: mean(&noisy_rates) / mean(&quiet_rates),
        quiet_rates,
        noisy_rates,
        receiver_connections,
    };
    say(&format!(
        "webhooks: ingest beside {HANGING} hanging and {FAILING} failing endpoints at {:.2}× \
         the rate without (quiet rounds spread {:.0}%; {} receiver connections)",
        w.ratio,
        w.quiet_spread * 100.0,
        w.receiver_connections
    ));
    Ok(w)
}

/// The target: within noise of ingest without webhooks, taken as no more than the
/// larger of 10% and the quiet rounds' own spread below.
pub fn target(w: &Webhooks) -> Target {
    let allowed = w.quiet_spread.max(0.10);
    Target {
        name: "ingest beside hanging webhooks".into(),
        goal: "within noise of none (≥ 0.90×, or the quiet spread)".into(),
        measured: format!(
            "{:.2}× (quiet spread {:.0}%)",
            w.ratio,
            w.quiet_spread * 100.0
        ),
        met: Some(w.ratio >= 1.0 - allowed),
    }
}

/// The report's rows for this mode.
pub fn rows(w: &Webhooks, row: &mut impl FnMut(&str, &str, String)) {
    let list = |v: &[f64], unit: &str| {
        v.iter()
            .map(|x| format!("{x:.0}{unit}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    row(
        "webhooks",
        "endpoints",
        format!(
            "{} hanging, {} answering 500 ({} connections to them)",
            w.hanging_endpoints, w.failing_endpoints, w.receiver_connections
        ),
    );
    row(
        "webhooks",
        "tx/s without, per round",
        list(&w.quiet_rates, ""),
    );
    row("webhooks", "tx/s with, per round", list(&w.noisy_rates, ""));
    row(
        "webhooks",
        "batch p99 without / with",
        format!(
            "{} / {}",
            list(&w.quiet_p99_ms, " ms"),
            list(&w.noisy_p99_ms, " ms")
        ),
    );
    row("webhooks", "with ÷ without", format!("{:.2}×", w.ratio));
}
