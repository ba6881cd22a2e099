//! What a run was asked for, and the sizes in force (the defaults, the `--quick` ones, or the
//! flags).

use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;

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
    pub export: Option<u64>,
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
    /// Transactions of the one account whose statement files are downloaded (0 skips).
    pub export: u64,
}

impl Sizes {
    pub fn resolve(o: &Options) -> anyhow::Result<Self> {
        let (accounts, transactions, clients, preload, preload_accounts, samples) = if o.quick {
            (4, 20_000, 4, 20_000, 20, 200)
        } else {
            (100, 1_000_000, 8, 10_000_000, 10_000, 1000)
        };
        let export = if o.quick { 10_000 } else { 100_000 };
        let s = Sizes {
            accounts: o.accounts.unwrap_or(accounts),
            transactions: o.transactions.unwrap_or(transactions),
            clients: o.clients.unwrap_or(clients),
            preload: o.preload.unwrap_or(preload),
            preload_accounts: o.preload_accounts.unwrap_or(preload_accounts),
            sweep: o.sweep,
            lookup_samples: samples,
            export: o.export.unwrap_or(export),
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
}
