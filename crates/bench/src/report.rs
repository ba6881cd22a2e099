//! What a run measured: the report (printed as a table, written as JSON), the targets of the
//! issue it is judged against, and the sweep's chart.

use serde::Serialize;

use crate::hub::Backend;
use crate::ingest::{IngestStats, LookupStats, PullStats};
use crate::options::Sizes;
use crate::svg::{line_charts, Chart};

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_total_mib: u64,
}

impl Machine {
    pub(crate) fn probe() -> Self {
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

/// Statement files of one account streamed from the hub: its memory while it writes them.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub transactions: u64,
    /// `(format, bytes, seconds)` per file downloaded.
    pub files: Vec<(String, u64, f64)>,
    /// The hub's RSS just before the downloads, after the pushes had settled.
    pub idle_rss_mib: Option<f64>,
    /// Its peak RSS during the downloads (`VmHWM`, reset first).
    pub peak_rss_mib: Option<f64>,
}

impl Export {
    pub fn growth_mib(&self) -> Option<f64> {
        Some(self.peak_rss_mib? - self.idle_rss_mib?)
    }
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
    pub export: Option<Export>,
    /// Ingest beside misbehaving webhook receivers (`webhooks.rs`).
    pub webhooks: Option<crate::webhooks::Webhooks>,
    pub targets: Vec<Target>,
    pub total_seconds: f64,
}

pub(crate) fn targets(r: &Report, backend: Backend) -> Vec<Target> {
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
    // Eight clients each waiting for its own 1000-row batch, on SQLite's one writer: even a
    // store writing at the ceiling's rate would keep each batch waiting for the other seven's
    // rows. (PostgreSQL's writers run side by side, and its ceiling is measured so.)
    let floor_at_8 = (matches!(backend, Backend::Sqlite) && r.ceiling.rows_per_s > 0.0)
        .then(|| 8.0 * 1000.0 / r.ceiling.rows_per_s * 1e3);
    t.push(Target {
        name: "batch p99 at C=8".into(),
        goal: "≤ 25 ms (SQLite)".into(),
        measured: p99_at_8.map_or_else(
            || "not run at C=8".into(),
            |v| match floor_at_8 {
                Some(floor) => {
                    format!("{v:.1} ms; 8 batches at the ceiling's rate alone take {floor:.1} ms")
                }
                None => format!("{v:.1} ms"),
            },
        ),
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
    if let Some(e) = &r.export {
        let growth = e.growth_mib();
        t.push(Target {
            name: format!("export of {} tx: peak RSS over idle", e.transactions),
            goal: "≤ 20 MiB".into(),
            measured: growth.map_or_else(|| "unknown".into(), |g| format!("{g:.1} MiB")),
            met: growth.map(|g| g <= 20.0),
        });
    }
    if let Some(w) = &r.webhooks {
        t.push(crate::webhooks::target(w));
    }
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

pub(crate) fn print_report(r: &Report) {
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
        if let Some(e) = &r.export {
            for (format, bytes, secs) in &e.files {
                row(
                    "export",
                    &format!("{format} of {} tx", e.transactions),
                    format!("{:.1} MiB in {secs:.2} s", *bytes as f64 / 1048576.0),
                );
            }
            row(
                "export",
                "hub RSS idle / peak",
                format!(
                    "{} / {}",
                    e.idle_rss_mib
                        .map_or("unknown".into(), |m| format!("{m:.1} MiB")),
                    e.peak_rss_mib
                        .map_or("unknown".into(), |m| format!("{m:.1} MiB"))
                ),
            );
        }
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
        if let Some(w) = &r.webhooks {
            crate::webhooks::rows(w, &mut row);
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

pub(crate) fn sweep_svg(report: &Report, points: &[SweepPoint]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.0), "999");
    }
}
