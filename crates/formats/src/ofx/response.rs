//! OFX response writers: the envelope, sign-on, profile, account list and per-transaction errors.
//! Statements are written by [`super::statement`] through [`ResponseWriter::begin_statement`].
//!
//! OFX fixes the order of message sets in a response (sign-on, sign-up, bank, credit card, …,
//! profile). The writer opens and closes message-set wrappers itself and refuses to go back to
//! an earlier set, so answer transactions sorted by [`TrnKind::message_set`] (see
//! [`super::request::OfxRequest::in_response_order`]).

use std::io::Write;

use chrono::{DateTime, Utc};

use super::date::format_ofx_datetime;
use super::request::{RequestBody, TrnRequest};
use super::writer::{OfxWriter, SgmlCharset};
use super::OfxVersion;
use crate::model::{AccountKind, StatementAccount};
use crate::FormatError;

/// An OFX `STATUS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u32,
    pub message: Option<String>,
}

impl Status {
    pub const OK: Status = Status {
        code: 0,
        message: None,
    };

    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Status {
            code,
            message: Some(message.into()),
        }
    }

    /// OFX severity: 0 and 1 (profile up to date) are INFO, the rest ERROR.
    pub fn severity(&self) -> &'static str {
        match self.code {
            0 | 1 => "INFO",
            _ => "ERROR",
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

/// What goes into `SONRS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignonResponse {
    /// 0, or 15500 (bad credentials), 15502 (locked), 15506, …: with an error, write nothing but
    /// sign-on and call [`ResponseWriter::finish`].
    pub status: Status,
    pub dtserver: DateTime<Utc>,
    pub language: String,
    /// `FI{ORG, FID}` echoed when the client sent them.
    pub org: Option<String>,
    pub fid: Option<String>,
    /// Intuit's bank id, for Web Connect files (`INTU.BID`).
    pub intu_bid: Option<String>,
    pub intu_userid: Option<String>,
}

/// The ids a transaction's answer echoes: `TRNUID` always, `CLTCOOKIE` when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrnEcho {
    pub trnuid: String,
    pub cltcookie: Option<String>,
}

impl From<&TrnRequest> for TrnEcho {
    fn from(r: &TrnRequest) -> Self {
        TrnEcho {
            trnuid: r.trnuid.clone(),
            cltcookie: r.cltcookie.clone(),
        }
    }
}

/// Response message sets in the order OFX requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MessageSet {
    Signup,
    Bank,
    CreditCard,
    /// Any set this crate does not type; answered only with errors.
    Other,
    Prof,
}

/// What kind of transaction is answered: decides the `xxxTRNRS` and its message set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrnKind {
    Profile,
    AccountInfo,
    BankStatement,
    CardStatement,
    /// An untyped request, answered with an error: `message_set` is e.g. `INVSTMTMSGSRQV1`,
    /// `transaction` e.g. `INVSTMTTRNRQ`.
    Other {
        message_set: String,
        transaction: String,
    },
}

impl TrnKind {
    pub fn of(body: &RequestBody) -> TrnKind {
        match body {
            RequestBody::Profile { .. } => TrnKind::Profile,
            RequestBody::AccountInfo { .. } => TrnKind::AccountInfo,
            RequestBody::BankStatement { .. } => TrnKind::BankStatement,
            RequestBody::CardStatement { .. } => TrnKind::CardStatement,
            RequestBody::Unsupported {
                message_set,
                transaction,
                ..
            } => TrnKind::Other {
                message_set: message_set.clone(),
                transaction: transaction.clone(),
            },
        }
    }

    pub fn message_set(&self) -> MessageSet {
        match self {
            TrnKind::Profile => MessageSet::Prof,
            TrnKind::AccountInfo => MessageSet::Signup,
            TrnKind::BankStatement => MessageSet::Bank,
            TrnKind::CardStatement => MessageSet::CreditCard,
            // An unsupported request in a set we do answer goes into that set's wrapper.
            TrnKind::Other { message_set, .. } => match message_set.as_str() {
                "SIGNUPMSGSRQV1" => MessageSet::Signup,
                "BANKMSGSRQV1" => MessageSet::Bank,
                "CREDITCARDMSGSRQV1" => MessageSet::CreditCard,
                "PROFMSGSRQV1" => MessageSet::Prof,
                _ => MessageSet::Other,
            },
        }
    }

    /// (message-set wrapper, transaction wrapper) element names of the answer.
    pub(super) fn wrappers(&self) -> (String, String) {
        let fixed = |a: &str, b: &str| (a.to_string(), b.to_string());
        match self {
            TrnKind::Profile => fixed("PROFMSGSRSV1", "PROFTRNRS"),
            TrnKind::AccountInfo => fixed("SIGNUPMSGSRSV1", "ACCTINFOTRNRS"),
            TrnKind::BankStatement => fixed("BANKMSGSRSV1", "STMTTRNRS"),
            TrnKind::CardStatement => fixed("CREDITCARDMSGSRSV1", "CCSTMTTRNRS"),
            TrnKind::Other {
                message_set,
                transaction,
            } => (
                message_set.replace("MSGSRQV", "MSGSRSV"),
                format!(
                    "{}RS",
                    transaction.strip_suffix("RQ").unwrap_or(transaction)
                ),
            ),
        }
    }
}

/// The FI's profile (`PROFRS`). Every message set gets the same `url`: ofxget refuses a profile
/// with more than one service URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub url: String,
    pub fi_name: String,
    pub addr1: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    /// ISO 3166 alpha-3, e.g. `USA`.
    pub country: String,
    pub dtprofup: DateTime<Utc>,
}

/// One account in `ACCTINFORS`. It is always `SVCSTATUS ACTIVE`: the hub lists only accounts a
/// client can download (and `ofxget stmt --all` skips anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo<'a> {
    pub account: &'a StatementAccount,
}

/// Writes one OFX response file: header, sign-on, then each transaction's answer.
pub struct ResponseWriter<W: Write> {
    pub(super) w: OfxWriter<W>,
    open_set: Option<(MessageSet, String)>,
}

impl<W: Write> ResponseWriter<W> {
    /// Writes the header, `<OFX>` and the sign-on answer.
    pub fn start(
        out: W,
        version: OfxVersion,
        charset: SgmlCharset,
        signon: &SignonResponse,
    ) -> Result<Self, FormatError> {
        let mut w = OfxWriter::start(out, version, charset, "NONE")?;
        w.open("OFX")?;
        w.open("SIGNONMSGSRSV1")?;
        w.open("SONRS")?;
        status(&mut w, &signon.status)?;
        w.leaf("DTSERVER", &format_ofx_datetime(&signon.dtserver))?;
        w.leaf("LANGUAGE", &signon.language)?;
        if signon.org.is_some() || signon.fid.is_some() {
            w.open("FI")?;
            w.opt_leaf("ORG", signon.org.as_deref())?;
            w.opt_leaf("FID", signon.fid.as_deref())?;
            w.close("FI")?;
        }
        w.opt_leaf("INTU.BID", signon.intu_bid.as_deref())?;
        w.opt_leaf("INTU.USERID", signon.intu_userid.as_deref())?;
        w.close("SONRS")?;
        w.close("SIGNONMSGSRSV1")?;
        Ok(ResponseWriter { w, open_set: None })
    }

    /// Opens `kind`'s message set (closing the previous one) and `xxxTRNRS` with its ids and
    /// status.
    pub(super) fn open_trn(
        &mut self,
        kind: &TrnKind,
        echo: &TrnEcho,
        st: &Status,
    ) -> Result<String, FormatError> {
        let set = kind.message_set();
        let (set_tag, trn_tag) = kind.wrappers();
        match &self.open_set {
            Some((_, tag)) if *tag == set_tag => {}
            Some((open, _)) if *open > set => {
                return Err(FormatError::Usage(
                    "OFX message sets must be answered in OFX order",
                ))
            }
            _ => {
                if let Some((_, tag)) = self.open_set.take() {
                    self.w.close(&tag)?;
                }
                self.w.open(&set_tag)?;
                self.open_set = Some((set, set_tag));
            }
        }
        self.w.open(&trn_tag)?;
        self.w.leaf("TRNUID", &echo.trnuid)?;
        status(&mut self.w, st)?;
        self.w.opt_leaf("CLTCOOKIE", echo.cltcookie.as_deref())?;
        Ok(trn_tag)
    }

    /// Answers a transaction with an error status and no body (e.g. 2003 account not found,
    /// 15508 not authorised, 2000 for an unsupported request).
    pub fn error(
        &mut self,
        kind: &TrnKind,
        echo: &TrnEcho,
        st: &Status,
    ) -> Result<(), FormatError> {
        let tag = self.open_trn(kind, echo, st)?;
        self.w.close(&tag)?;
        Ok(())
    }

    /// `PROFRS` with all message sets on `profile.url`.
    pub fn profile(&mut self, echo: &TrnEcho, profile: &Profile) -> Result<(), FormatError> {
        let tag = self.open_trn(&TrnKind::Profile, echo, &Status::OK)?;
        let w = &mut self.w;
        w.open("PROFRS")?;
        w.open("MSGSETLIST")?;
        for (set, v1) in [
            ("SIGNONMSGSET", "SIGNONMSGSETV1"),
            ("SIGNUPMSGSET", "SIGNUPMSGSETV1"),
            ("BANKMSGSET", "BANKMSGSETV1"),
            ("CREDITCARDMSGSET", "CREDITCARDMSGSETV1"),
            ("PROFMSGSET", "PROFMSGSETV1"),
        ] {
            w.open(set)?;
            w.open(v1)?;
            msgset_core(w, &profile.url)?;
            match v1 {
                "SIGNUPMSGSETV1" => {
                    w.open("OTHERENROLL")?;
                    w.leaf("MESSAGE", "Ask your bank for OFX credentials")?;
                    w.close("OTHERENROLL")?;
                    w.leaf("CHGUSERINFO", "N")?;
                    w.leaf("AVAILACCTS", "Y")?;
                    w.leaf("CLIENTACTREQ", "N")?;
                }
                "BANKMSGSETV1" => {
                    w.leaf("CLOSINGAVAIL", "N")?;
                    w.open("EMAILPROF")?;
                    w.leaf("CANEMAIL", "N")?;
                    w.leaf("CANNOTIFY", "N")?;
                    w.close("EMAILPROF")?;
                }
                "CREDITCARDMSGSETV1" => w.leaf("CLOSINGAVAIL", "N")?,
                _ => {}
            }
            w.close(v1)?;
            w.close(set)?;
        }
        w.close("MSGSETLIST")?;
        w.open("SIGNONINFOLIST")?;
        w.open("SIGNONINFO")?;
        for (k, v) in [
            ("SIGNONREALM", "DEFAULT"),
            ("MIN", "1"),
            ("MAX", "32"),
            ("CHARTYPE", "ALPHAORNUMERIC"),
            ("CASESEN", "Y"),
            ("SPECIAL", "Y"),
            ("SPACES", "N"),
            ("PINCH", "N"),
            ("CHGPINFIRST", "N"),
        ] {
            w.leaf(k, v)?;
        }
        w.close("SIGNONINFO")?;
        w.close("SIGNONINFOLIST")?;
        w.leaf("DTPROFUP", &format_ofx_datetime(&profile.dtprofup))?;
        w.leaf("FINAME", &profile.fi_name)?;
        w.leaf("ADDR1", &profile.addr1)?;
        w.leaf("CITY", &profile.city)?;
        w.leaf("STATE", &profile.state)?;
        w.leaf("POSTALCODE", &profile.postal_code)?;
        w.leaf("COUNTRY", &profile.country)?;
        w.close("PROFRS")?;
        w.close(&tag)?;
        Ok(())
    }

    /// `ACCTINFORS` listing `accounts`, each `ACTIVE`.
    pub fn account_info<'a>(
        &mut self,
        echo: &TrnEcho,
        dtacctup: DateTime<Utc>,
        accounts: impl IntoIterator<Item = AccountInfo<'a>>,
    ) -> Result<(), FormatError> {
        let tag = self.open_trn(&TrnKind::AccountInfo, echo, &Status::OK)?;
        let w = &mut self.w;
        w.open("ACCTINFORS")?;
        w.leaf("DTACCTUP", &format_ofx_datetime(&dtacctup))?;
        for info in accounts {
            let a = info.account;
            w.open("ACCTINFO")?;
            w.opt_leaf(
                "DESC",
                a.name.as_deref().map(|n| crate::text::split_chars(n, 80).0),
            )?;
            let agg = match a.kind {
                AccountKind::Bank { .. } => "BANKACCTINFO",
                AccountKind::Card => "CCACCTINFO",
            };
            w.open(agg)?;
            account_from(w, a)?;
            for k in ["SUPTXDL", "XFERSRC", "XFERDEST"] {
                w.leaf(k, if k == "SUPTXDL" { "Y" } else { "N" })?;
            }
            w.leaf("SVCSTATUS", "ACTIVE")?;
            w.close(agg)?;
            w.close("ACCTINFO")?;
        }
        w.close("ACCTINFORS")?;
        w.close(&tag)?;
        Ok(())
    }

    /// Closes the last message set and `</OFX>`, flushes, and returns the output.
    pub fn finish(mut self) -> Result<W, FormatError> {
        if let Some((_, tag)) = self.open_set.take() {
            self.w.close(&tag)?;
        }
        self.w.close("OFX")?;
        Ok(self.w.finish()?)
    }
}

fn status<W: Write>(w: &mut OfxWriter<W>, st: &Status) -> std::io::Result<()> {
    w.open("STATUS")?;
    w.leaf("CODE", &st.code.to_string())?;
    w.leaf("SEVERITY", st.severity())?;
    w.opt_leaf("MESSAGE", st.message.as_deref())?;
    w.close("STATUS")
}

fn msgset_core<W: Write>(w: &mut OfxWriter<W>, url: &str) -> std::io::Result<()> {
    w.open("MSGSETCORE")?;
    w.leaf("VER", "1")?;
    w.leaf("URL", url)?;
    w.leaf("OFXSEC", "NONE")?;
    let tls = url.to_ascii_lowercase().starts_with("https:");
    w.leaf("TRANSPSEC", if tls { "Y" } else { "N" })?;
    w.leaf("SIGNONREALM", "DEFAULT")?;
    w.leaf("LANGUAGE", "ENG")?;
    w.leaf("SYNCMODE", "LITE")?;
    w.leaf("RESPFILEER", "N")?;
    w.close("MSGSETCORE")
}

/// `BANKACCTFROM` or `CCACCTFROM` for `a`.
pub(super) fn account_from<W: Write>(
    w: &mut OfxWriter<W>,
    a: &StatementAccount,
) -> std::io::Result<()> {
    match &a.kind {
        AccountKind::Bank {
            routing,
            account_type,
        } => {
            w.open("BANKACCTFROM")?;
            w.leaf("BANKID", routing)?;
            w.leaf("ACCTID", &a.account_number)?;
            w.leaf("ACCTTYPE", account_type.ofx_name())?;
            w.close("BANKACCTFROM")
        }
        AccountKind::Card => {
            w.open("CCACCTFROM")?;
            w.leaf("ACCTID", &a.account_number)?;
            w.close("CCACCTFROM")
        }
    }
}
