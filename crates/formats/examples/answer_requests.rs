//! A stand-in Direct Connect server over files, for the conformance check: for every
//! `*.request.ofx` in DIR it writes `*.parsed.json` (what the request reader understood) and
//! `*.response.ofx` (the answer, in the client's version), using the sample statements.
//!
//! `cargo run -p bankfeeds-formats --example answer_requests -- DIR`
//!
//! It shows how a server strings the pieces together: parse, check sign-on, answer each
//! transaction in OFX order, echo TRNUID/CLTCOOKIE, 2003 for an unknown account. The password
//! is `pw`; it does not filter lines by date (the server's store does that).

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use bankfeeds_formats::ofx::response::{AccountInfo, TrnKind};
use bankfeeds_formats::ofx::writer::SgmlCharset;
use bankfeeds_formats::ofx::{
    format_ofx_datetime, parse_request, Profile, RequestBody, ResponseWriter, SignonResponse,
    Status, TrnEcho,
};
use bankfeeds_formats::AccountKind;
use serde_json::{json, Value};

fn date(d: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    d.map(|d| Value::String(format_ofx_datetime(&d)))
        .unwrap_or(Value::Null)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: answer_requests DIR")?,
    );
    let samples = common::samples();
    let now = common::at(2024, 2, 1);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".request.ofx"))
        .collect();
    names.sort();
    for path in names {
        let stem = path
            .to_string_lossy()
            .trim_end_matches(".request.ofx")
            .to_string();
        let req = match parse_request(&std::fs::read(&path)?) {
            Ok(r) => r,
            Err(e) => {
                std::fs::write(format!("{stem}.error.txt"), e.to_string())?;
                continue;
            }
        };
        let transactions: Vec<Value> = req
            .transactions
            .iter()
            .map(|t| {
                let mut v = json!({"trnuid": t.trnuid, "cltcookie": t.cltcookie});
                let inc = match &t.body {
                    RequestBody::Profile { dtprofup } => {
                        v["kind"] = "profile".into();
                        v["dtprofup"] = date(*dtprofup);
                        None
                    }
                    RequestBody::AccountInfo { dtacctup } => {
                        v["kind"] = "acctinfo".into();
                        v["dtacctup"] = date(*dtacctup);
                        None
                    }
                    RequestBody::BankStatement {
                        bank_id,
                        acct_id,
                        acct_type,
                        inctran,
                        ..
                    } => {
                        v["kind"] = "stmt".into();
                        v["bank_id"] = bank_id.as_str().into();
                        v["acct_id"] = acct_id.as_str().into();
                        v["acct_type"] = acct_type.ofx_name().into();
                        *inctran
                    }
                    RequestBody::CardStatement { acct_id, inctran } => {
                        v["kind"] = "ccstmt".into();
                        v["acct_id"] = acct_id.as_str().into();
                        *inctran
                    }
                    RequestBody::Unsupported { transaction, .. } => {
                        v["kind"] = transaction.as_str().into();
                        None
                    }
                };
                if let Some(i) = inc {
                    v["dtstart"] = date(i.dtstart);
                    v["dtend"] = date(i.dtend);
                    v["include"] = i.include.into();
                }
                v
            })
            .collect();
        let s = &req.signon;
        let parsed = json!({
            "version": req.version.number,
            "signon": {"user_id": s.user_id, "org": s.org, "fid": s.fid, "app_id": s.app_id,
                       "app_ver": s.app_ver, "anonymous": s.is_anonymous()},
            "transactions": transactions,
        });
        std::fs::write(
            format!("{stem}.parsed.json"),
            serde_json::to_string_pretty(&parsed)?,
        )?;

        let only_profile = req
            .transactions
            .iter()
            .all(|t| matches!(t.body, RequestBody::Profile { .. }));
        let ok = s.user_pass == "pw" || (s.is_anonymous() && only_profile);
        let signon = SignonResponse {
            status: if ok {
                Status::OK
            } else {
                Status::new(15500, "Invalid user or password")
            },
            dtserver: now,
            language: "ENG".into(),
            org: s.org.clone(),
            fid: s.fid.clone(),
            intu_bid: None,
            intu_userid: None,
        };
        let out = BufWriter::new(File::create(format!("{stem}.response.ofx"))?);
        let mut rw = ResponseWriter::start(out, req.version, SgmlCharset::Utf8, &signon)?;
        if ok {
            for t in req.in_response_order() {
                let echo = TrnEcho::from(t);
                let found = |want_card: bool, acct: &str| {
                    samples.iter().find(|(h, _)| {
                        (h.account.kind == AccountKind::Card) == want_card
                            && h.account.account_number == acct
                    })
                };
                let (stmt, include) = match &t.body {
                    RequestBody::Profile { .. } => {
                        let profile = Profile {
                            url: "http://127.0.0.1:8765/ofx/org_1".into(),
                            fi_name: "Hub Bank".into(),
                            addr1: "1 Main St".into(),
                            city: "Springfield".into(),
                            state: "IL".into(),
                            postal_code: "62701".into(),
                            country: "USA".into(),
                            dtprofup: now,
                        };
                        rw.profile(&echo, &profile)?;
                        continue;
                    }
                    RequestBody::AccountInfo { .. } => {
                        let infos = samples.iter().map(|(h, _)| AccountInfo {
                            account: &h.account,
                        });
                        rw.account_info(&echo, now, infos)?;
                        continue;
                    }
                    RequestBody::BankStatement {
                        acct_id, inctran, ..
                    } => (
                        found(false, acct_id),
                        inctran.map(|i| i.include).unwrap_or(true),
                    ),
                    RequestBody::CardStatement { acct_id, inctran } => (
                        found(true, acct_id),
                        inctran.map(|i| i.include).unwrap_or(true),
                    ),
                    RequestBody::Unsupported { .. } => {
                        rw.error(
                            &TrnKind::of(&t.body),
                            &echo,
                            &Status::new(2000, "Not supported"),
                        )?;
                        continue;
                    }
                };
                match stmt {
                    Some((h, lines)) => {
                        let mut st = rw.begin_statement(&echo, h, include)?;
                        lines.iter().try_for_each(|l| st.line(l))?;
                        st.finish()?;
                    }
                    None => rw.error(
                        &TrnKind::of(&t.body),
                        &echo,
                        &Status::new(2003, "Account not found"),
                    )?,
                }
            }
        }
        rw.finish()?;
    }
    Ok(())
}
