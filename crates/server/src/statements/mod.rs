//! Statement files (Web Connect `.qbo`/`.qfx`/`.ofx`, CSV, BAI2, MT940, CAMT.053) for one
//! account or a whole connection, streamed from the store page by page through
//! `bankfeeds_formats`' writers. Door-neutral: the Rutter door serves them over HTTP.
//!
//! [`plan`] does everything that can refuse (the balances a format needs) before the first byte,
//! so a refusal is still a clean JSON error; [`write`] then sends the file in chunks, one per
//! page of rows, so a year of transactions never sits in memory.

pub mod balances;
pub mod mapping;
mod write;

use bankfeeds_domain::ofx::OfxInstitution;
use bankfeeds_domain::{BankFeedAccount, Org, Platform, Timestamp, TransactionId};
use bankfeeds_formats::{Period, StatementHeader};
use bankfeeds_store::{DynStore, StoreError};
use chrono::{NaiveDate, NaiveTime, TimeDelta};

pub use write::{write, Chunks};

/// The file formats, by their `format=` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementFormat {
    Qbo,
    Qfx,
    Ofx,
    Csv,
    Bai2,
    Mt940,
    Camt053,
}

impl StatementFormat {
    pub const ALL: [StatementFormat; 7] = [
        StatementFormat::Qbo,
        StatementFormat::Qfx,
        StatementFormat::Ofx,
        StatementFormat::Csv,
        StatementFormat::Bai2,
        StatementFormat::Mt940,
        StatementFormat::Camt053,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StatementFormat::Qbo => "qbo",
            StatementFormat::Qfx => "qfx",
            StatementFormat::Ofx => "ofx",
            StatementFormat::Csv => "csv",
            StatementFormat::Bai2 => "bai2",
            StatementFormat::Mt940 => "mt940",
            StatementFormat::Camt053 => "camt053",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            StatementFormat::Qbo => "application/vnd.intu.qbo",
            StatementFormat::Qfx => "application/vnd.intu.qfx",
            StatementFormat::Ofx => "application/x-ofx",
            StatementFormat::Csv => "text/csv; charset=utf-8",
            StatementFormat::Bai2 | StatementFormat::Mt940 => "text/plain; charset=utf-8",
            StatementFormat::Camt053 => "application/xml",
        }
    }

    /// The file name's extension, as importers look for it.
    pub fn extension(self) -> &'static str {
        match self {
            StatementFormat::Qbo => "qbo",
            StatementFormat::Qfx => "qfx",
            StatementFormat::Ofx => "ofx",
            StatementFormat::Csv => "csv",
            StatementFormat::Bai2 => "bai",
            StatementFormat::Mt940 => "sta",
            StatementFormat::Camt053 => "xml",
        }
    }

    /// Whether one file can hold several accounts (a whole connection).
    pub fn multi_account(self) -> bool {
        matches!(self, StatementFormat::Bai2 | StatementFormat::Camt053)
    }

    /// Whether the format cannot be written without an opening or closing balance.
    pub fn needs_balance(self) -> bool {
        !matches!(self, StatementFormat::Csv | StatementFormat::Bai2)
    }
}

/// The days a statement covers, both ends inclusive and either open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    /// Midnight UTC at the start of `from`.
    pub fn start(&self) -> Option<Timestamp> {
        self.from.map(|d| d.and_time(NaiveTime::MIN).and_utc())
    }

    /// The last microsecond (the store's precision) of `to`, UTC.
    pub fn end(&self) -> Option<Timestamp> {
        self.to.map(|d| {
            d.and_time(NaiveTime::MIN).and_utc() + TimeDelta::days(1) - TimeDelta::microseconds(1)
        })
    }
}

/// Why a statement cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{format} needs the account's balance and the FI has reported none for account {account} (send current_balance with the account or a batch)")]
    BalanceNotReported {
        format: &'static str,
        account: String,
    },
    #[error(transparent)]
    Format(#[from] bankfeeds_formats::FormatError),
    /// Batches kept changing the account while its balances were worked out.
    #[error("account {account} kept changing while its statement was prepared; try again")]
    AccountChanging { account: String },
    /// The reader went away mid-file.
    #[error("the reader went away")]
    Gone,
}

/// Settings that are the hub's, not the request's.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// `INTU.BID` of `.qbo` and `.qfx` files.
    pub intu_bid: String,
}

/// One account of a statement file, with everything decided.
#[derive(Debug, Clone)]
pub struct PlannedAccount {
    pub account: BankFeedAccount,
    pub header: StatementHeader,
    /// The newest row the balances counted: the file stops there.
    pub last_id: Option<TransactionId>,
}

/// A statement file ready to be written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub format: StatementFormat,
    pub range: DateRange,
    pub fi: OfxInstitution,
    pub intu_bid: String,
    pub created_at: Timestamp,
    pub accounts: Vec<PlannedAccount>,
}

/// Works out the accounts' balances and refuses a format that needs one the FI never reported.
pub async fn plan(
    store: &DynStore,
    org: &Org,
    accounts: Vec<BankFeedAccount>,
    format: StatementFormat,
    range: DateRange,
    settings: &FileSettings,
    now: Timestamp,
) -> Result<Plan, StatementError> {
    let config = store
        .get_fi_config(org.id, Platform::OfxDirectConnect)
        .await?;
    let fi = OfxInstitution::of(&org.name, config.as_ref());
    let (start, end) = (range.start(), range.end());
    let mut planned = Vec::with_capacity(accounts.len());
    for account in accounts {
        let (account, m) = settled(store, account, start, end).await?;
        if format.needs_balance() && account.current_balance.is_none() {
            return Err(StatementError::BalanceNotReported {
                format: format.name(),
                account: account.id.to_string(),
            });
        }
        let to = end.map_or(now, |e| e.min(now));
        let from = start.or(m.earliest).unwrap_or(account.created_at).min(to);
        let period = Period { from, to };
        let header = StatementHeader {
            account: mapping::statement_account(&account, &fi),
            period,
            balances: balances::balances(&account, &m, &period),
        };
        planned.push(PlannedAccount {
            account,
            header,
            last_id: m.last_id,
        });
    }
    Ok(Plan {
        format,
        range,
        fi,
        intu_bid: settings.intu_bid.clone(),
        created_at: now,
        accounts: planned,
    })
}

/// How many times an account that keeps changing is read again before the file is refused.
const SETTLE_ATTEMPTS: usize = 10;

/// The account and its rows' movements as of one moment: the sums are read after the account,
/// in several reads, so a batch committing in between would add rows its balance does not yet
/// include. Every batch that writes moves the account's `updated_at`, so the account is read
/// again after the sums; while it changed, both are read again.
async fn settled(
    store: &DynStore,
    mut account: BankFeedAccount,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
) -> Result<(BankFeedAccount, balances::Movements), StatementError> {
    for _ in 0..SETTLE_ATTEMPTS {
        let m = balances::movements(store, &account, start, end).await?;
        let Some(now) = store.get_account(account.connection_id, account.id).await? else {
            // Deleted meanwhile: the sums match the account as it was read.
            return Ok((account, m));
        };
        if now.updated_at == account.updated_at && now.current_balance == account.current_balance {
            return Ok((account, m));
        }
        account = now;
    }
    Err(StatementError::AccountChanging {
        account: account.id.to_string(),
    })
}

/// A file name importers accept (NetSuite: at most 50 characters): `stem` reduced to letters,
/// digits, `-` and `_`, the dates when given, and the format's extension.
pub fn file_name(stem: &str, range: &DateRange, format: StatementFormat) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    if name.is_empty() {
        name.push_str("statement");
    }
    for d in [range.from, range.to].into_iter().flatten() {
        name.push_str(&d.format("_%Y%m%d").to_string());
    }
    format!("{name}.{}", format.extension())
}
