//! BAI2 cash-management files: `01` file header, `02` group header, per account `03` …
//! `16`/`88` … `49`, then `98` group trailer and `99` file trailer.
//!
//! - Amounts are integers in the currency's minor units (cents for USD, yen for JPY). Detail
//!   (`16`) amounts are unsigned: the type code says credit or debit. Balances in `03` carry a
//!   `-` when negative (a card balance owed).
//! - Control totals: an account's is the sum of its `03` balance amounts and its `16` amounts;
//!   a group's is the sum of its accounts'; the file's the sum of its groups'. Record counts
//!   include the header and trailer records themselves and every `88`.
//! - Balances in `03`: `010` opening ledger, `015` closing ledger, `045` closing available, each
//!   only when the FI reported it. `03` comes before the details, so a missing closing balance
//!   is omitted rather than derived (deriving it would need the lines twice).
//! - Text goes at the end of `16` and continues in `88` records so no physical record exceeds
//!   80 characters; it is cut at spaces where possible (readers join continuations with a space).
//! - The bank reference field is the transaction id, with `,` and `/` (BAI2's delimiters)
//!   replaced by `-`.
//! - Text is the description as the bank sent it (UTF-8, as NetSuite reads BAI2). A description
//!   that ends in `/` loses it in readers that take a final `/` as the record delimiter.

use std::io::Write;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::model::{StatementCurrency, StatementHeader, StatementLine};
use crate::text::split_chars;
use crate::FormatError;

/// Longest physical record written; the `01` record declares it.
pub const RECORD_LENGTH: usize = 80;

/// The BAI2 detail type code for a line. Known transaction types map to their BAI code when the
/// direction agrees with the sign; everything else falls back to 399 (miscellaneous credit) or
/// 699 (miscellaneous debit).
pub fn type_code(line: &StatementLine) -> &'static str {
    let credit = line.amount >= Decimal::ZERO;
    let kind = line
        .kind
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let code = match (kind.as_str(), credit) {
        ("DIRECTDEP", true) => "165",
        ("XFER", true) => "195",
        ("DEP", true) => "301",
        ("INT", true) => "354",
        ("DIRECTDEBIT" | "REPEATPMT", false) => "455",
        ("CHECK", false) => "475",
        ("XFER", false) => "495",
        ("FEE" | "SRVCHG", false) => "698",
        _ => "",
    };
    match (code, credit) {
        ("", true) => "399",
        ("", false) => "699",
        (c, _) => c,
    }
}

/// Who sends the file to whom, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bai2Options {
    pub sender_id: String,
    pub receiver_id: String,
    /// Unique per sender and day.
    pub file_id: String,
    pub created_at: DateTime<Utc>,
    /// The day the balances are as of (usually the statement's last day).
    pub as_of: DateTime<Utc>,
    /// The group's default currency; each account also names its own.
    pub group_currency: Option<String>,
}

struct Account {
    currency: StatementCurrency,
    total: i128,
    records: u64,
}

/// Streams one BAI2 file with one group of any number of accounts.
pub struct Bai2Writer<W: Write> {
    out: W,
    file_records: u64,
    group_records: u64,
    group_total: i128,
    accounts: u64,
    account: Option<Account>,
}

fn clean_field(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ',' | '/' => '-',
            '\r' | '\n' => ' ',
            c => c,
        })
        .collect()
}

/// Splits `text` into a first piece of at most `first` characters and further pieces of at most
/// `rest`, cutting at a space (which is dropped) where there is one.
fn chunk_text(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut remaining = text;
    let mut max = first.max(1);
    while remaining.chars().count() > max {
        let (head, _) = split_chars(remaining, max);
        // Cut at the last space (not at the very start) so readers' " " join restores it.
        let cut = head.rfind(' ').filter(|&i| i > 0);
        match cut {
            Some(i) => {
                out.push(remaining[..i].to_string());
                remaining = &remaining[i + 1..];
            }
            None => {
                out.push(head.to_string());
                remaining = &remaining[head.len()..];
            }
        }
        max = rest;
    }
    out.push(remaining.to_string());
    out
}

/// A BAI2 date and time pair of fields: `YYMMDD,HHMM`.
fn date_time(t: &DateTime<Utc>) -> String {
    t.format("%y%m%d,%H%M").to_string()
}

impl<W: Write> Bai2Writer<W> {
    /// Writes the `01` and `02` records.
    pub fn new(mut out: W, o: &Bai2Options) -> Result<Self, FormatError> {
        let (sender, receiver) = (clean_field(&o.sender_id), clean_field(&o.receiver_id));
        let (file_id, created) = (clean_field(&o.file_id), date_time(&o.created_at));
        writeln!(
            out,
            "01,{sender},{receiver},{created},{file_id},{RECORD_LENGTH},,2/"
        )?;
        let as_of = date_time(&o.as_of);
        let currency = o.group_currency.as_deref().map(clean_field);
        let currency = currency.unwrap_or_default();
        writeln!(out, "02,{receiver},{sender},1,{as_of},{currency},2/")?;
        Ok(Bai2Writer {
            out,
            file_records: 2,
            group_records: 1,
            group_total: 0,
            accounts: 0,
            account: None,
        })
    }

    fn record(&mut self, line: &str) -> Result<(), FormatError> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        if let Some(a) = &mut self.account {
            a.records += 1;
        }
        Ok(())
    }

    /// Writes the `03` record of the next account.
    pub fn begin_account(&mut self, header: &StatementHeader) -> Result<(), FormatError> {
        if self.account.is_some() {
            return Err(FormatError::Usage(
                "BAI2: end_account before the next account",
            ));
        }
        let cur = header.account.currency.clone();
        let mut line = format!(
            "03,{},{}",
            clean_field(&header.account.account_number),
            cur.code
        );
        let mut total = 0i128;
        let b = &header.balances;
        for (code, bal) in [("010", b.opening), ("015", b.closing), ("045", b.available)] {
            if let Some(bal) = bal {
                let minor = cur.to_minor(bal.amount)?;
                total += minor;
                line.push_str(&format!(",{code},{minor},,"));
            }
        }
        line.push('/');
        self.account = Some(Account {
            currency: cur,
            total,
            records: 0,
        });
        self.record(&line)
    }

    /// Writes a `16` record and any `88` continuations it needs.
    pub fn line(&mut self, l: &StatementLine) -> Result<(), FormatError> {
        let Some(acct) = &mut self.account else {
            return Err(FormatError::Usage("BAI2: begin_account before lines"));
        };
        let minor = acct.currency.to_minor(l.amount)?.abs();
        acct.total += minor;
        let head = format!(
            "16,{},{},Z,{},,",
            type_code(l),
            minor,
            clean_field(split_chars(&l.transaction_id, 60).0)
        );
        let text: String = l
            .description
            .trim()
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        if text.is_empty() {
            return self.record(&format!("{head}/"));
        }
        let room = RECORD_LENGTH.saturating_sub(head.chars().count()).max(8);
        let mut chunks = chunk_text(&text, room, RECORD_LENGTH - 3).into_iter();
        let first = chunks.next().unwrap_or_default();
        self.record(&format!("{head}{first}"))?;
        for c in chunks {
            self.record(&format!("88,{c}"))?;
        }
        Ok(())
    }

    /// Writes the account's `49` trailer.
    pub fn end_account(&mut self) -> Result<(), FormatError> {
        let Some(mut a) = self.account.take() else {
            return Err(FormatError::Usage("BAI2: no account to end"));
        };
        a.records += 1;
        writeln!(self.out, "49,{},{}/", a.total, a.records)?;
        self.group_total += a.total;
        self.group_records += a.records;
        self.file_records += a.records;
        self.accounts += 1;
        Ok(())
    }

    /// Writes `98` and `99`, flushes and returns the output.
    pub fn finish(mut self) -> Result<W, FormatError> {
        if self.account.is_some() {
            self.end_account()?;
        }
        let group_records = self.group_records + 1;
        writeln!(
            self.out,
            "98,{},{},{}/",
            self.group_total, self.accounts, group_records
        )?;
        let file_records = self.file_records + 2;
        writeln!(self.out, "99,{},1,{}/", self.group_total, file_records)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cut_at_spaces_and_respect_limits() {
        let text = "alpha beta gamma delta epsilon";
        let c = chunk_text(text, 11, 12);
        assert_eq!(c, ["alpha beta", "gamma delta", "epsilon"]);
        assert_eq!(c.join(" "), text);
        let c = chunk_text("abcdefghij", 4, 4);
        assert_eq!(c, ["abcd", "efgh", "ij"]);
    }
}
