//! Statement readers and writers for the bank feeds hub.
//!
//! The hub holds each account's posted transactions and reported balances; accounting software
//! wants them in a handful of file and wire formats. This crate turns the hub's data into those
//! formats and reads the one format clients send to us (OFX Direct Connect requests):
//!
//! - [`ofx`]: OFX 1.x SGML and 2.x XML — the Direct Connect request reader, the response writers
//!   (sign-on, profile, account list, bank and card statements, per-transaction errors) and Web
//!   Connect files (`.qbo`, `.qfx`, `.ofx`).
//! - [`csv`], [`bai2`], [`mt940`], [`camt053`]: statement files for ERPs and accountants.
//!
//! A Direct Connect exchange, as the server strings it together:
//!
//! ```
//! use bankfeeds_formats::ofx::{parse_request, ResponseWriter, SgmlCharset, SignonResponse, Status, TrnEcho, TrnKind};
//!
//! let body = b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX><SIGNONMSGSRQV1><SONRQ>\
//!     <DTCLIENT>20240101<USERID>alice<USERPASS>pw<LANGUAGE>ENG<FI><ORG>HUB<FID>9999</FI>\
//!     <APPID>QWIN<APPVER>2700</SONRQ></SIGNONMSGSRQV1><BANKMSGSRQV1><STMTTRNRQ><TRNUID>1\
//!     <STMTRQ><BANKACCTFROM><BANKID>1<ACCTID>404<ACCTTYPE>CHECKING</BANKACCTFROM>\
//!     <INCTRAN><INCLUDE>Y</INCTRAN></STMTRQ></STMTTRNRQ></BANKMSGSRQV1></OFX>";
//! let req = parse_request(body).expect("a 400 otherwise");
//! let signon = SignonResponse {
//!     status: Status::OK, // or Status::new(15500, "…") after a bad password, and nothing else
//!     dtserver: chrono::Utc::now(),
//!     language: "ENG".into(),
//!     org: req.signon.org.clone(),
//!     fid: req.signon.fid.clone(),
//!     intu_bid: None,
//!     intu_userid: None,
//! };
//! let mut rw = ResponseWriter::start(Vec::new(), req.version, SgmlCharset::Utf8, &signon)?;
//! for t in req.in_response_order() {
//!     // Known account: rw.begin_statement(&t.into(), &header, include)?, .line(..)*, .finish()?
//!     rw.error(&TrnKind::of(&t.body), &TrnEcho::from(t), &Status::new(2003, "Account not found"))?;
//! }
//! let response: Vec<u8> = rw.finish()?;
//! assert!(response.starts_with(b"OFXHEADER:100"));
//! # Ok::<(), bankfeeds_formats::FormatError>(())
//! ```
//!
//! It is pure: no database, no HTTP. Every writer streams to an [`std::io::Write`] one line at a
//! time, keeping only running totals, so a year of transactions never sits in memory. Amounts are
//! [`rust_decimal::Decimal`] end to end.

pub mod bai2;
pub mod camt053;
pub mod csv;
pub mod model;
pub mod mt940;
pub mod ofx;
mod text;

pub use model::{
    derive_closing, AccountKind, Balance, Balances, BankAccountType, Period, StatementAccount,
    StatementCurrency, StatementHeader, StatementLine, Totals,
};

use rust_decimal::Decimal;

/// Why a writer could not produce its format.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("amount {amount} has more decimals than {currency} allows")]
    TooManyDecimals { amount: Decimal, currency: String },
    #[error("amount {amount} in {currency} does not fit the format's integer range")]
    OutOfRange { amount: Decimal, currency: String },
    #[error("{format} needs the {which} balance and the FI reported none")]
    MissingBalance {
        format: &'static str,
        which: &'static str,
    },
    #[error("{0}")]
    Usage(&'static str),
    #[error("csv: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("xml: {0}")]
    Xml(String),
}

impl From<quick_xml::Error> for FormatError {
    fn from(e: quick_xml::Error) -> Self {
        FormatError::Xml(e.to_string())
    }
}
