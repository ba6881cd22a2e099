//! Streaming `STMTRS` / `CCSTMTRS`: the header elements, then one `STMTTRN` per line as the
//! caller hands them over, then the balances.
//!
//! `STMTTRN` children follow the order libofx's DTD (OFX 1.6) demands: TRNTYPE, DTPOSTED, DTUSER,
//! TRNAMT, FITID, CHECKNUM, NAME, MEMO. Amounts keep their sign: OFX signs both bank and card
//! amounts from the account holder's side, which is how [`StatementLine::amount`] is signed.

use std::io::Write;

use chrono::{NaiveTime, TimeZone, Utc};

use super::date::format_ofx_datetime;
use super::response::{account_from, ResponseWriter, Status, TrnEcho, TrnKind};
use crate::model::{derive_closing, AccountKind, StatementHeader, StatementLine, Totals};
use crate::text::split_chars;
use crate::FormatError;

/// OFX `TRNTYPE` values; a line whose `kind` is one of these (any case) keeps it.
const TRNTYPES: [&str; 17] = [
    "CREDIT",
    "DEBIT",
    "INT",
    "DIV",
    "FEE",
    "SRVCHG",
    "DEP",
    "ATM",
    "POS",
    "XFER",
    "CHECK",
    "PAYMENT",
    "CASH",
    "DIRECTDEP",
    "DIRECTDEBIT",
    "REPEATPMT",
    "OTHER",
];

/// The OFX `TRNTYPE` of a line: its `kind` when that is an OFX type, else CREDIT or DEBIT by
/// sign (the two types every client understands).
pub fn trntype(line: &StatementLine) -> &'static str {
    if let Some(k) = &line.kind {
        let k = k.trim().to_ascii_uppercase();
        if let Some(t) = TRNTYPES.iter().find(|t| **t == k) {
            return t;
        }
    }
    if line.amount < rust_decimal::Decimal::ZERO {
        "DEBIT"
    } else {
        "CREDIT"
    }
}

/// `NAME` (at most 32 characters) and `MEMO` (at most 255) for a line. NAME is the payee when
/// known, else the description; what does not fit in NAME starts MEMO, followed by the memo (or,
/// when NAME came from the payee, the description), so no text the bank sent is lost.
pub fn name_and_memo(line: &StatementLine) -> (String, Option<String>) {
    let (source, other) = match &line.payee {
        Some(p) if !p.trim().is_empty() => (
            p.trim(),
            line.memo
                .as_deref()
                .or(Some(line.description.as_str()).filter(|d| d.trim() != p.trim())),
        ),
        _ => (line.description.trim(), line.memo.as_deref()),
    };
    let (name, rest) = split_chars(source, 32);
    let parts: Vec<&str> = [rest.trim(), other.unwrap_or("").trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let memo = (!parts.is_empty()).then(|| split_chars(&parts.join(" "), 255).0.to_string());
    (name.trim_end().to_string(), memo)
}

/// A statement being written; get one from [`ResponseWriter::begin_statement`].
pub struct StatementWriter<'a, W: Write> {
    parent: &'a mut ResponseWriter<W>,
    header: StatementHeader,
    include: bool,
    totals: Totals,
    trn_tag: String,
}

impl<W: Write> ResponseWriter<W> {
    /// Starts a statement answer for `header.account` (`STMTTRNRS` for bank accounts,
    /// `CCSTMTTRNRS` for cards). With `include_transactions` false (`INCLUDE=N`) there is no
    /// `BANKTRANLIST`: lines passed to [`StatementWriter::line`] only count towards a derived
    /// balance.
    ///
    /// `LEDGERBAL` is required by OFX; when the FI reported no closing balance it is derived as
    /// opening + the net movement of the lines passed in, dated at the end of the period. So
    /// with `INCLUDE=N` and no reported closing balance, pass the period's lines anyway (they
    /// are counted, not written) or the derived figure is the opening one. With neither balance
    /// this refuses before writing anything.
    pub fn begin_statement(
        &mut self,
        echo: &TrnEcho,
        header: &StatementHeader,
        include_transactions: bool,
    ) -> Result<StatementWriter<'_, W>, FormatError> {
        self.begin_statement_with(echo, header, include_transactions, &Status::OK)
    }

    /// [`Self::begin_statement`] with a success `status` of the caller's (code 0, with a
    /// `MESSAGE` the client shows, e.g. that a balance is a placeholder).
    pub fn begin_statement_with(
        &mut self,
        echo: &TrnEcho,
        header: &StatementHeader,
        include_transactions: bool,
        status: &Status,
    ) -> Result<StatementWriter<'_, W>, FormatError> {
        if !status.is_ok() {
            return Err(FormatError::Usage(
                "a statement is answered with a success status",
            ));
        }
        let b = &header.balances;
        if b.closing.is_none() && b.opening.is_none() {
            return Err(FormatError::MissingBalance {
                format: "OFX",
                which: "closing (or opening)",
            });
        }
        let (kind, rs) = match header.account.kind {
            AccountKind::Bank { .. } => (TrnKind::BankStatement, "STMTRS"),
            AccountKind::Card => (TrnKind::CardStatement, "CCSTMTRS"),
        };
        let trn_tag = self.open_trn(&kind, echo, status)?;
        let w = &mut self.w;
        w.open(rs)?;
        w.leaf("CURDEF", &header.account.currency.code)?;
        account_from(w, &header.account)?;
        if include_transactions {
            w.open("BANKTRANLIST")?;
            w.leaf("DTSTART", &format_ofx_datetime(&header.period.from))?;
            w.leaf("DTEND", &format_ofx_datetime(&header.period.to))?;
        }
        Ok(StatementWriter {
            parent: self,
            header: header.clone(),
            include: include_transactions,
            totals: Totals::default(),
            trn_tag,
        })
    }
}

impl<W: Write> StatementWriter<'_, W> {
    /// Writes one `STMTTRN`.
    pub fn line(&mut self, line: &StatementLine) -> Result<(), FormatError> {
        let amount = self.header.account.currency.format(line.amount)?;
        self.totals.add(line.amount);
        if !self.include {
            return Ok(());
        }
        let w = &mut self.parent.w;
        w.open("STMTTRN")?;
        w.leaf("TRNTYPE", trntype(line))?;
        w.leaf("DTPOSTED", &format_ofx_datetime(&line.posted_at))?;
        if let Some(d) = line.transaction_date {
            let t = Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN));
            w.leaf("DTUSER", &format_ofx_datetime(&t))?;
        }
        w.leaf("TRNAMT", &amount)?;
        w.leaf("FITID", split_chars(&line.transaction_id, 255).0)?;
        if let Some(c) = &line.check_number {
            w.leaf("CHECKNUM", split_chars(c, 12).0)?;
        }
        let (name, memo) = name_and_memo(line);
        if !name.is_empty() {
            w.leaf("NAME", &name)?;
        }
        w.opt_leaf("MEMO", memo.as_deref())?;
        w.close("STMTTRN")?;
        Ok(())
    }

    /// Writes `LEDGERBAL` (reported, else derived) and `AVAILBAL` (when reported), closes the
    /// statement, and returns the running totals.
    pub fn finish(self) -> Result<Totals, FormatError> {
        let ledger = derive_closing(&self.header.balances, &self.totals, &self.header.period)
            .ok_or(FormatError::MissingBalance {
                format: "OFX",
                which: "closing",
            })?;
        let cur = &self.header.account.currency;
        let w = &mut self.parent.w;
        if self.include {
            w.close("BANKTRANLIST")?;
        }
        w.open("LEDGERBAL")?;
        w.leaf("BALAMT", &cur.format(ledger.amount)?)?;
        w.leaf("DTASOF", &format_ofx_datetime(&ledger.as_of))?;
        w.close("LEDGERBAL")?;
        if let Some(a) = self.header.balances.available {
            w.open("AVAILBAL")?;
            w.leaf("BALAMT", &cur.format(a.amount)?)?;
            w.leaf("DTASOF", &format_ofx_datetime(&a.as_of))?;
            w.close("AVAILBAL")?;
        }
        let rs = match self.header.account.kind {
            AccountKind::Bank { .. } => "STMTRS",
            AccountKind::Card => "CCSTMTRS",
        };
        w.close(rs)?;
        w.close(&self.trn_tag)?;
        Ok(self.totals)
    }
}
