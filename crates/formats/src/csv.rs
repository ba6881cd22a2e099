//! CSV statements: one header row, one row per transaction, RFC 4180 quoting (by the `csv`
//! crate), UTF-8.
//!
//! Columns, in order:
//!
//! | column | content |
//! |---|---|
//! | `date` | the transaction date (`YYYY-MM-DD`): the customer's date when the bank sent one, else the posting date |
//! | `posted_at` | when the bank posted it, RFC 3339 in UTC |
//! | `amount` | signed, `.` radix, exactly the currency's decimals; positive is money in |
//! | `currency` | ISO 4217 code |
//! | `description`, `payee`, `memo` | as the bank sent them; empty when absent |
//! | `type` | the transaction type as the bank sent it; empty when absent |
//! | `transaction_id` | the stable id (FITID) |
//! | `running_balance` | the balance after this transaction when the bank reported it; **empty otherwise** (never computed) |
//!
//! Cells are written exactly as the bank sent them, with no spreadsheet "formula injection"
//! guard (a leading `'` would change the data an importer reads); a description starting with
//! `=` stays as it is.

use std::io::Write;

use chrono::SecondsFormat;

use crate::model::{StatementCurrency, StatementHeader, StatementLine, Totals};
use crate::FormatError;

/// The header row.
pub const COLUMNS: [&str; 10] = [
    "date",
    "posted_at",
    "amount",
    "currency",
    "description",
    "payee",
    "memo",
    "type",
    "transaction_id",
    "running_balance",
];

/// Streams a CSV statement, one row per [`CsvWriter::line`].
pub struct CsvWriter<W: Write> {
    out: ::csv::Writer<W>,
    currency: StatementCurrency,
    totals: Totals,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header row.
    pub fn new(out: W, header: &StatementHeader) -> Result<Self, FormatError> {
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(out);
        out.write_record(COLUMNS)?;
        Ok(CsvWriter {
            out,
            currency: header.account.currency.clone(),
            totals: Totals::default(),
        })
    }

    pub fn line(&mut self, l: &StatementLine) -> Result<(), FormatError> {
        let date = l
            .transaction_date
            .unwrap_or_else(|| l.posted_at.date_naive());
        let balance = match l.running_balance {
            Some(b) => self.currency.format(b)?,
            None => String::new(),
        };
        self.out.write_record([
            date.format("%Y-%m-%d").to_string().as_str(),
            &l.posted_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            &self.currency.format(l.amount)?,
            &self.currency.code,
            &l.description,
            l.payee.as_deref().unwrap_or(""),
            l.memo.as_deref().unwrap_or(""),
            l.kind.as_deref().unwrap_or(""),
            &l.transaction_id,
            &balance,
        ])?;
        self.totals.add(l.amount);
        Ok(())
    }

    /// Flushes and returns the output with the totals written.
    pub fn finish(self) -> Result<(W, Totals), FormatError> {
        let out = self
            .out
            .into_inner()
            .map_err(|e| FormatError::Io(std::io::Error::other(e.to_string())))?;
        Ok((out, self.totals))
    }
}

/// Writes a whole CSV statement from `lines`.
pub fn write_csv<W: Write>(
    out: W,
    header: &StatementHeader,
    lines: impl IntoIterator<Item = StatementLine>,
) -> Result<(W, Totals), FormatError> {
    let mut w = CsvWriter::new(out, header)?;
    for l in lines {
        w.line(&l)?;
    }
    w.finish()
}
