//! Typed OFX Direct Connect requests, decoded from the element tree.
//!
//! Only what a bank-feeds server answers is typed (sign-on, profile, account list, bank and card
//! statements); any other transaction comes back as [`RequestBody::Unsupported`] so the server
//! can answer it with an error status instead of failing the whole file.

use chrono::{DateTime, Utc};

use super::date::parse_ofx_datetime;
use super::header::parse_document;
use super::tree::Element;
use super::{OfxParseError, OfxVersion};
use crate::model::BankAccountType;

/// A whole request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfxRequest {
    /// The version the client spoke; answer in the same.
    pub version: OfxVersion,
    pub signon: SignonRequest,
    /// Every `xxxTRNRQ` in file order.
    pub transactions: Vec<TrnRequest>,
}

/// `SONRQ`: who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignonRequest {
    pub dtclient: Option<DateTime<Utc>>,
    pub user_id: String,
    pub user_pass: String,
    pub language: Option<String>,
    pub org: Option<String>,
    pub fid: Option<String>,
    pub client_uid: Option<String>,
    pub app_id: Option<String>,
    pub app_ver: Option<String>,
}

impl SignonRequest {
    /// The anonymous sign-on clients use for `PROFRQ`: `anonymous` padded with zeros to 32.
    pub fn is_anonymous(&self) -> bool {
        self.user_id.len() == 32
            && self.user_id.starts_with("anonymous")
            && self.user_id[9..].bytes().all(|b| b == b'0')
    }
}

/// One `xxxTRNRQ`: its ids (echoed in the answer) and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrnRequest {
    pub trnuid: String,
    pub cltcookie: Option<String>,
    pub body: RequestBody,
}

/// `INCTRAN`: which transactions to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncTran {
    pub dtstart: Option<DateTime<Utc>>,
    pub dtend: Option<DateTime<Utc>>,
    /// `INCLUDE=N` means balances only: no `BANKTRANLIST` in the answer.
    pub include: bool,
}

/// What a transaction asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    Profile {
        dtprofup: Option<DateTime<Utc>>,
    },
    AccountInfo {
        dtacctup: Option<DateTime<Utc>>,
    },
    BankStatement {
        bank_id: String,
        branch_id: Option<String>,
        acct_id: String,
        acct_type: BankAccountType,
        inctran: Option<IncTran>,
    },
    CardStatement {
        acct_id: String,
        inctran: Option<IncTran>,
    },
    /// A transaction this reader does not type: its message set (`INVSTMTMSGSRQV1`), its
    /// transaction wrapper (`INVSTMTTRNRQ`) and the request inside, if any (`INVSTMTRQ`).
    Unsupported {
        message_set: String,
        transaction: String,
        request: Option<String>,
    },
}

/// Parses a Direct Connect request body. Never panics; anything malformed is an error.
pub fn parse_request(bytes: &[u8]) -> Result<OfxRequest, OfxParseError> {
    let (version, root) = parse_document(bytes)?;
    let sonrq = root
        .path(&["SIGNONMSGSRQV1", "SONRQ"])
        .ok_or(OfxParseError::Missing("SIGNONMSGSRQV1/SONRQ"))?;
    let signon = SignonRequest {
        dtclient: opt_date(sonrq, "DTCLIENT")?,
        user_id: sonrq.leaf("USERID").unwrap_or("").to_string(),
        user_pass: sonrq.leaf("USERPASS").unwrap_or("").to_string(),
        language: owned(sonrq.leaf("LANGUAGE")),
        org: owned(sonrq.path(&["FI"]).and_then(|fi| fi.leaf("ORG"))),
        fid: owned(sonrq.path(&["FI"]).and_then(|fi| fi.leaf("FID"))),
        client_uid: owned(sonrq.leaf("CLIENTUID")),
        app_id: owned(sonrq.leaf("APPID")),
        app_ver: owned(sonrq.leaf("APPVER")),
    };
    let mut transactions = Vec::new();
    for msgset in root.children.iter().filter(|c| c.name != "SIGNONMSGSRQV1") {
        if !msgset.name.ends_with("MSGSRQV1") {
            return Err(OfxParseError::Body(format!(
                "{} is not a message set",
                msgset.name
            )));
        }
        for trn in &msgset.children {
            transactions.push(transaction(&msgset.name, trn)?);
        }
    }
    Ok(OfxRequest {
        version,
        signon,
        transactions,
    })
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn opt_date(e: &Element, name: &'static str) -> Result<Option<DateTime<Utc>>, OfxParseError> {
    match e.leaf(name) {
        None => Ok(None),
        Some(v) => parse_ofx_datetime(v)
            .map(Some)
            .ok_or_else(|| OfxParseError::Value {
                element: name,
                value: v.to_string(),
            }),
    }
}

fn required<'a>(e: &'a Element, name: &'static str) -> Result<&'a str, OfxParseError> {
    e.leaf(name).ok_or(OfxParseError::Missing(name))
}

fn transaction(msgset: &str, trn: &Element) -> Result<TrnRequest, OfxParseError> {
    let trnuid = required(trn, "TRNUID")?.to_string();
    let cltcookie = owned(trn.leaf("CLTCOOKIE"));
    let body_el = trn
        .children
        .iter()
        .find(|c| c.text.is_none() && c.name.ends_with("RQ"));
    let body = match (trn.name.as_str(), body_el) {
        ("PROFTRNRQ", Some(rq)) if rq.name == "PROFRQ" => RequestBody::Profile {
            dtprofup: opt_date(rq, "DTPROFUP")?,
        },
        ("ACCTINFOTRNRQ", Some(rq)) if rq.name == "ACCTINFORQ" => RequestBody::AccountInfo {
            dtacctup: opt_date(rq, "DTACCTUP")?,
        },
        ("STMTTRNRQ", Some(rq)) if rq.name == "STMTRQ" => {
            let from = rq
                .child("BANKACCTFROM")
                .ok_or(OfxParseError::Missing("BANKACCTFROM"))?;
            let t = required(from, "ACCTTYPE")?;
            RequestBody::BankStatement {
                bank_id: required(from, "BANKID")?.to_string(),
                branch_id: owned(from.leaf("BRANCHID")),
                acct_id: required(from, "ACCTID")?.to_string(),
                acct_type: BankAccountType::from_ofx(t).ok_or_else(|| OfxParseError::Value {
                    element: "ACCTTYPE",
                    value: t.to_string(),
                })?,
                inctran: inctran(rq)?,
            }
        }
        ("CCSTMTTRNRQ", Some(rq)) if rq.name == "CCSTMTRQ" => {
            let from = rq
                .child("CCACCTFROM")
                .ok_or(OfxParseError::Missing("CCACCTFROM"))?;
            RequestBody::CardStatement {
                acct_id: required(from, "ACCTID")?.to_string(),
                inctran: inctran(rq)?,
            }
        }
        (_, rq) => RequestBody::Unsupported {
            message_set: msgset.to_string(),
            transaction: trn.name.clone(),
            request: rq.map(|r| r.name.clone()),
        },
    };
    Ok(TrnRequest {
        trnuid,
        cltcookie,
        body,
    })
}

fn inctran(rq: &Element) -> Result<Option<IncTran>, OfxParseError> {
    let Some(inc) = rq.child("INCTRAN") else {
        return Ok(None);
    };
    let include = match inc.leaf("INCLUDE").map(str::to_ascii_uppercase).as_deref() {
        Some("Y") => true,
        Some("N") => false,
        None => return Err(OfxParseError::Missing("INCLUDE")),
        Some(v) => {
            return Err(OfxParseError::Value {
                element: "INCLUDE",
                value: v.to_string(),
            })
        }
    };
    Ok(Some(IncTran {
        dtstart: opt_date(inc, "DTSTART")?,
        dtend: opt_date(inc, "DTEND")?,
        include,
    }))
}

impl RequestBody {
    /// A text naming exactly what this transaction asks for, the same for the same request
    /// whatever the family, version, spelling of dates or closing of leaves: the server tells a
    /// retried `TRNUID` from a reused one by it. Its form is stable (it is stored, digested,
    /// for the retention horizon): change it only with a new prefix.
    pub fn canonical(&self) -> String {
        let date = |d: &Option<DateTime<Utc>>| {
            d.map_or_else(String::new, |d| d.timestamp_micros().to_string())
        };
        let inc = |i: &Option<IncTran>| match i {
            None => "-".to_string(),
            Some(i) => format!(
                "{}/{}/{}",
                date(&i.dtstart),
                date(&i.dtend),
                if i.include { "Y" } else { "N" }
            ),
        };
        match self {
            RequestBody::Profile { dtprofup } => format!("v1|PROFRQ|{}", date(dtprofup)),
            RequestBody::AccountInfo { dtacctup } => format!("v1|ACCTINFORQ|{}", date(dtacctup)),
            RequestBody::BankStatement {
                bank_id,
                branch_id,
                acct_id,
                acct_type,
                inctran,
            } => format!(
                "v1|STMTRQ|{bank_id:?}|{:?}|{acct_id:?}|{}|{}",
                branch_id.as_deref().unwrap_or(""),
                acct_type.ofx_name(),
                inc(inctran)
            ),
            RequestBody::CardStatement { acct_id, inctran } => {
                format!("v1|CCSTMTRQ|{acct_id:?}|{}", inc(inctran))
            }
            RequestBody::Unsupported {
                message_set,
                transaction,
                request,
            } => format!(
                "v1|{message_set:?}|{transaction:?}|{:?}",
                request.as_deref().unwrap_or("")
            ),
        }
    }
}

impl OfxRequest {
    /// The transactions sorted into the order OFX wants their answers in (by message set,
    /// file order within a set), which [`super::ResponseWriter`] requires.
    pub fn in_response_order(&self) -> Vec<&TrnRequest> {
        let mut v: Vec<&TrnRequest> = self.transactions.iter().collect();
        v.sort_by_cached_key(|t| {
            let kind = super::response::TrnKind::of(&t.body);
            (kind.message_set(), kind.wrappers().0)
        });
        v
    }
}
