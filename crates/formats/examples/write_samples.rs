//! Writes every format for the sample statements into OUTDIR, plus `expected.json` with the
//! source data, for `conformance/formats/check.py` to parse with independent readers.
//!
//! `cargo run -p bankfeeds-formats --example write_samples -- OUTDIR`

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use bankfeeds_formats::bai2::{Bai2Options, Bai2Writer};
use bankfeeds_formats::camt053::{Camt053Writer, CamtVersion};
use bankfeeds_formats::csv::write_csv;
use bankfeeds_formats::mt940::Mt940Writer;
use bankfeeds_formats::ofx::response::{SignonResponse, Status, TrnEcho};
use bankfeeds_formats::ofx::writer::SgmlCharset;
use bankfeeds_formats::ofx::{write_web_connect, OfxVersion, ResponseWriter, WebConnectOptions};
use bankfeeds_formats::{AccountKind, Balance, StatementHeader, StatementLine};
use serde_json::{json, Value};

type Sample = (StatementHeader, Vec<StatementLine>);

fn create(dir: &Path, name: &str) -> BufWriter<File> {
    BufWriter::new(File::create(dir.join(name)).expect("create output file"))
}

fn balance(b: Option<Balance>) -> Value {
    match b {
        Some(b) => {
            json!({"amount": b.amount.to_string(), "date": b.as_of.format("%Y-%m-%d").to_string()})
        }
        None => Value::Null,
    }
}

fn expected(samples: &[Sample]) -> Value {
    let accounts: Vec<Value> = samples
        .iter()
        .map(|(h, lines)| {
            let a = &h.account;
            let (kind, routing, acct_type) = match &a.kind {
                AccountKind::Bank {
                    routing,
                    account_type,
                } => ("bank", Some(routing.clone()), Some(account_type.ofx_name())),
                AccountKind::Card => ("card", None, None),
            };
            json!({
                "account_id": a.account_id,
                "kind": kind,
                "routing": routing,
                "account_type": acct_type,
                "account_number": a.account_number,
                "currency": a.currency.code,
                "minor_units": a.currency.minor_units,
                "opening": balance(h.balances.opening),
                "closing": balance(h.balances.closing),
                "available": balance(h.balances.available),
                "transactions": lines.iter().map(|l| json!({
                    "transaction_id": l.transaction_id,
                    "posted_date": l.posted_at.format("%Y-%m-%d").to_string(),
                    "posted_at": l.posted_at.to_rfc3339(),
                    "transaction_date": l.transaction_date.map(|d| d.to_string()),
                    "amount": l.amount.to_string(),
                    "description": l.description,
                    "payee": l.payee,
                    "memo": l.memo,
                    "type": l.kind,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "accounts": accounts })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: write_samples OUTDIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    let samples = common::samples();
    let created = common::at(2024, 2, 1);

    for (h, lines) in &samples {
        let id = &h.account.account_id;
        for (ext, bid, charset) in [
            ("qbo", Some("3000"), SgmlCharset::Windows1252),
            ("qfx", Some("3000"), SgmlCharset::Utf8),
            ("ofx", None, SgmlCharset::Utf8),
        ] {
            let opts = WebConnectOptions {
                org: "HUB".into(),
                fid: "9999".into(),
                intu_bid: bid.map(Into::into),
                intu_userid: None,
                dtserver: created,
                charset,
            };
            write_web_connect(
                create(&dir, &format!("{id}.{ext}")),
                &opts,
                h,
                lines.iter().cloned(),
            )?;
        }
        // The same statement as a Direct Connect 2.x (XML) response.
        let signon = SignonResponse {
            status: Status::OK,
            dtserver: created,
            language: "ENG".into(),
            org: Some("HUB".into()),
            fid: Some("9999".into()),
            intu_bid: None,
            intu_userid: None,
        };
        let mut rw = ResponseWriter::start(
            create(&dir, &format!("{id}.v220.ofx")),
            OfxVersion::V220,
            SgmlCharset::Utf8,
            &signon,
        )?;
        let echo = TrnEcho {
            trnuid: "1".into(),
            cltcookie: Some("c".into()),
        };
        let mut st = rw.begin_statement(&echo, h, true)?;
        lines.iter().try_for_each(|l| st.line(l))?;
        st.finish()?;
        rw.finish()?;

        write_csv(create(&dir, &format!("{id}.csv")), h, lines.iter().cloned())?;

        let mut mt = Mt940Writer::new(create(&dir, &format!("{id}.mt940")));
        mt.begin_statement(h, "STMT-2024-01", 1)?;
        lines.iter().try_for_each(|l| mt.line(l))?;
        mt.end_statement()?;
        mt.finish()?;
    }

    let mut bai = Bai2Writer::new(
        create(&dir, "all.bai2"),
        &Bai2Options {
            sender_id: "HUBBANK".into(),
            receiver_id: "ACMECO".into(),
            file_id: "1".into(),
            created_at: created,
            as_of: common::at(2024, 1, 31),
            group_currency: None,
        },
    )?;
    let camt_file = |v: CamtVersion, name: &str| {
        Camt053Writer::new(create(&dir, name), v, "MSG-2024-01", created)
    };
    let mut camts = [
        camt_file(CamtVersion::V02, "all.camt053.xml")?,
        camt_file(CamtVersion::V08, "all.camt053.v08.xml")?,
    ];
    for (h, lines) in &samples {
        bai.begin_account(h)?;
        for camt in &mut camts {
            camt.begin_statement(h, &format!("{}-2024-01", h.account.account_id))?;
        }
        for l in lines {
            bai.line(l)?;
            camts.iter_mut().try_for_each(|c| c.line(l))?;
        }
        bai.end_account()?;
        camts
            .iter_mut()
            .try_for_each(|c| c.end_statement().map(drop))?;
    }
    bai.finish()?;
    for camt in camts {
        camt.finish()?;
    }

    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected(&samples))?,
    )?;
    Ok(())
}
