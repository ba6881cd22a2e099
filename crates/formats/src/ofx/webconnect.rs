//! Web Connect files (`.qbo`, `.qfx`, `.ofx`): what a bank's "Download to QuickBooks" button
//! gives. A Web Connect file is a Direct Connect statement response saved to disk: OFX 1.0.2
//! SGML, a sign-on with `INTU.BID` (Intuit's id for the bank; QuickBooks checks it) and one
//! statement per account.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::response::{ResponseWriter, SignonResponse, Status, TrnEcho};
use super::writer::SgmlCharset;
use super::OfxVersion;
use crate::model::{StatementHeader, StatementLine, Totals};
use crate::FormatError;

/// Settings of a Web Connect file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConnectOptions {
    pub org: String,
    pub fid: String,
    /// `INTU.BID`; `None` for a plain `.ofx` file.
    pub intu_bid: Option<String>,
    pub intu_userid: Option<String>,
    pub dtserver: DateTime<Utc>,
    /// Banks ship `USASCII`/`1252`; UTF-8 keeps every character.
    pub charset: SgmlCharset,
}

/// Starts a Web Connect file; add statements with [`ResponseWriter::begin_statement`] and end
/// with [`ResponseWriter::finish`]. Use this directly for several accounts in one file.
pub fn start_web_connect<W: Write>(
    out: W,
    opts: &WebConnectOptions,
) -> Result<ResponseWriter<W>, FormatError> {
    ResponseWriter::start(
        out,
        OfxVersion::V102,
        opts.charset,
        &SignonResponse {
            status: Status::OK,
            dtserver: opts.dtserver,
            language: "ENG".into(),
            org: Some(opts.org.clone()),
            fid: Some(opts.fid.clone()),
            intu_bid: opts.intu_bid.clone(),
            intu_userid: opts.intu_userid.clone(),
        },
    )
}

/// Writes a one-account Web Connect file, streaming `lines`. The `TRNUID` is the account id,
/// which is stable, so the same download twice gives the same file.
pub fn write_web_connect<W: Write>(
    out: W,
    opts: &WebConnectOptions,
    header: &StatementHeader,
    lines: impl IntoIterator<Item = StatementLine>,
) -> Result<(W, Totals), FormatError> {
    let mut rw = start_web_connect(out, opts)?;
    let echo = TrnEcho {
        trnuid: crate::text::split_chars(&header.account.account_id, 36)
            .0
            .to_string(),
        cltcookie: None,
    };
    let mut st = rw.begin_statement(&echo, header, true)?;
    for line in lines {
        st.line(&line)?;
    }
    let totals = st.finish()?;
    Ok((rw.finish()?, totals))
}
