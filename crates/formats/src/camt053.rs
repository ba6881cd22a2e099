//! ISO 20022 CAMT.053 bank-to-customer statements (versions .001.02 and .001.08), written with
//! quick-xml.
//!
//! One `Document` / `BkToCstmrStmt` holds one `Stmt` per account, so a connection's accounts
//! can share a file. Each `Stmt` has the account (`Othr/Id` = account number), the balances the
//! FI reported (`OPBD` opening booked, `CLBD` closing booked, `CLAV` closing available) and one
//! `Ntry` per line: unsigned `Amt Ccy`, `CdtDbtInd`, `Sts BOOK`, `BookgDt`, `ValDt`, `AcctSvcrRef`
//! (our transaction id; the schema allows 35 characters, longer ids are cut), a proprietary
//! `BkTxCd` (the OFX transaction type), payee and memo in `NtryDtls`, and the description in
//! `AddtlNtryInf`.
//!
//! The schema puts balances before entries, so a closing balance the FI did not report cannot
//! be derived while streaming: `CLBD` is then omitted. With neither opening nor closing
//! balance the writer refuses, as the schema needs at least one `Bal`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use rust_decimal::Decimal;

use crate::model::{Balance, StatementCurrency, StatementHeader, StatementLine, Totals};
use crate::ofx::statement::trntype;
use crate::text::split_chars;
use crate::FormatError;

/// The two schema versions NetSuite's statement parsers accept. What this writer uses of them
/// differs in two places only: 08 wraps the entry status (`Sts/Cd`) and a party's name
/// (`Cdtr/Pty/Nm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CamtVersion {
    #[default]
    V02,
    V08,
}

impl CamtVersion {
    pub fn namespace(self) -> &'static str {
        match self {
            CamtVersion::V02 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            CamtVersion::V08 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        }
    }
}

/// Streams one CAMT.053 document.
pub struct Camt053Writer<W: Write> {
    xml: quick_xml::Writer<W>,
    version: CamtVersion,
    created_at: DateTime<Utc>,
    current: Option<(StatementCurrency, Totals)>,
}

fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<W: Write> Camt053Writer<W> {
    /// Writes the document start and `GrpHdr`; `message_id` is cut to the schema's 35
    /// characters.
    pub fn new(
        out: W,
        version: CamtVersion,
        message_id: &str,
        created_at: DateTime<Utc>,
    ) -> Result<Self, FormatError> {
        let mut xml = quick_xml::Writer::new_with_indent(out, b' ', 2);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut doc = BytesStart::new("Document");
        doc.push_attribute(("xmlns", version.namespace()));
        xml.write_event(Event::Start(doc))?;
        let mut w = Camt053Writer {
            xml,
            version,
            created_at,
            current: None,
        };
        w.open("BkToCstmrStmt")?;
        w.open("GrpHdr")?;
        w.leaf("MsgId", split_chars(message_id, 35).0)?;
        w.leaf("CreDtTm", &iso(&created_at))?;
        w.close("GrpHdr")?;
        Ok(w)
    }

    fn open(&mut self, tag: &str) -> Result<(), FormatError> {
        self.xml.write_event(Event::Start(BytesStart::new(tag)))?;
        Ok(())
    }

    fn close(&mut self, tag: &str) -> Result<(), FormatError> {
        self.xml.write_event(Event::End(BytesEnd::new(tag)))?;
        Ok(())
    }

    fn leaf(&mut self, tag: &str, text: &str) -> Result<(), FormatError> {
        self.open(tag)?;
        self.xml.write_event(Event::Text(BytesText::new(text)))?;
        self.close(tag)
    }

    fn amount(&mut self, cur: &StatementCurrency, amount: Decimal) -> Result<(), FormatError> {
        let mut amt = BytesStart::new("Amt");
        amt.push_attribute(("Ccy", cur.code.as_str()));
        self.xml.write_event(Event::Start(amt))?;
        let text = cur.format(amount.abs())?;
        self.xml.write_event(Event::Text(BytesText::new(&text)))?;
        self.close("Amt")?;
        let ind = if amount < Decimal::ZERO {
            "DBIT"
        } else {
            "CRDT"
        };
        self.leaf("CdtDbtInd", ind)
    }

    fn balance(
        &mut self,
        cur: &StatementCurrency,
        code: &str,
        b: &Balance,
    ) -> Result<(), FormatError> {
        self.open("Bal")?;
        self.open("Tp")?;
        self.open("CdOrPrtry")?;
        self.leaf("Cd", code)?;
        self.close("CdOrPrtry")?;
        self.close("Tp")?;
        self.amount(cur, b.amount)?;
        self.open("Dt")?;
        self.leaf("Dt", &b.as_of.format("%Y-%m-%d").to_string())?;
        self.close("Dt")?;
        self.close("Bal")
    }

    /// Starts a `Stmt` with its account and balances. `statement_id` is cut to 35 characters.
    pub fn begin_statement(
        &mut self,
        header: &StatementHeader,
        statement_id: &str,
    ) -> Result<(), FormatError> {
        if self.current.is_some() {
            return Err(FormatError::Usage(
                "CAMT.053: end_statement before the next",
            ));
        }
        let b = header.balances;
        if b.opening.is_none() && b.closing.is_none() {
            return Err(FormatError::MissingBalance {
                format: "CAMT.053",
                which: "opening or closing",
            });
        }
        let cur = header.account.currency.clone();
        self.open("Stmt")?;
        self.leaf("Id", split_chars(statement_id, 35).0)?;
        let created = iso(&self.created_at);
        self.leaf("CreDtTm", &created)?;
        self.open("FrToDt")?;
        self.leaf("FrDtTm", &iso(&header.period.from))?;
        self.leaf("ToDtTm", &iso(&header.period.to))?;
        self.close("FrToDt")?;
        self.open("Acct")?;
        self.open("Id")?;
        self.open("Othr")?;
        self.leaf("Id", split_chars(&header.account.account_number, 34).0)?;
        self.close("Othr")?;
        self.close("Id")?;
        self.leaf("Ccy", &cur.code)?;
        if let Some(n) = &header.account.name {
            self.leaf("Nm", split_chars(n, 70).0)?;
        }
        self.close("Acct")?;
        for (code, bal) in [
            ("OPBD", b.opening),
            ("CLBD", b.closing),
            ("CLAV", b.available),
        ] {
            if let Some(bal) = bal {
                self.balance(&cur, code, &bal)?;
            }
        }
        self.current = Some((cur, Totals::default()));
        Ok(())
    }

    /// Writes one `Ntry`.
    pub fn line(&mut self, l: &StatementLine) -> Result<(), FormatError> {
        let Some((cur, totals)) = &mut self.current else {
            return Err(FormatError::Usage("CAMT.053: begin_statement before lines"));
        };
        totals.add(l.amount);
        let cur = cur.clone();
        self.open("Ntry")?;
        self.amount(&cur, l.amount)?;
        match self.version {
            CamtVersion::V02 => self.leaf("Sts", "BOOK")?,
            CamtVersion::V08 => {
                self.open("Sts")?;
                self.leaf("Cd", "BOOK")?;
                self.close("Sts")?;
            }
        }
        self.open("BookgDt")?;
        self.leaf("Dt", &l.posted_at.format("%Y-%m-%d").to_string())?;
        self.close("BookgDt")?;
        if let Some(d) = l.transaction_date {
            self.open("ValDt")?;
            self.leaf("Dt", &d.format("%Y-%m-%d").to_string())?;
            self.close("ValDt")?;
        }
        self.leaf("AcctSvcrRef", split_chars(&l.transaction_id, 35).0)?;
        self.open("BkTxCd")?;
        self.open("Prtry")?;
        self.leaf("Cd", trntype(l))?;
        self.close("Prtry")?;
        self.close("BkTxCd")?;
        if l.payee.is_some() || l.memo.is_some() {
            self.open("NtryDtls")?;
            self.open("TxDtls")?;
            if let Some(p) = &l.payee {
                // The other party: the creditor when money went out, the debtor when it came in.
                let party = if l.amount < Decimal::ZERO {
                    "Cdtr"
                } else {
                    "Dbtr"
                };
                self.open("RltdPties")?;
                self.open(party)?;
                if self.version == CamtVersion::V08 {
                    self.open("Pty")?;
                }
                self.leaf("Nm", split_chars(p, 70).0)?;
                if self.version == CamtVersion::V08 {
                    self.close("Pty")?;
                }
                self.close(party)?;
                self.close("RltdPties")?;
            }
            if let Some(m) = &l.memo {
                self.open("RmtInf")?;
                self.leaf("Ustrd", split_chars(m, 140).0)?;
                self.close("RmtInf")?;
            }
            self.close("TxDtls")?;
            self.close("NtryDtls")?;
        }
        if !l.description.is_empty() {
            self.leaf("AddtlNtryInf", split_chars(&l.description, 500).0)?;
        }
        self.close("Ntry")
    }

    /// Closes the `Stmt` and returns its totals.
    pub fn end_statement(&mut self) -> Result<Totals, FormatError> {
        let Some((_, totals)) = self.current.take() else {
            return Err(FormatError::Usage("CAMT.053: no statement to end"));
        };
        self.close("Stmt")?;
        Ok(totals)
    }

    /// Closes the document, flushes and returns the output.
    pub fn finish(mut self) -> Result<W, FormatError> {
        if self.current.is_some() {
            self.end_statement()?;
        }
        self.close("BkToCstmrStmt")?;
        self.close("Document")?;
        let mut out = self.xml.into_inner();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(out)
    }
}
