//! Statement files written from the sample statements and read back field by field.

mod common;

use bankfeeds_formats::bai2::{Bai2Options, Bai2Writer};
use bankfeeds_formats::camt053::{Camt053Writer, CamtVersion};
use bankfeeds_formats::csv::{write_csv, COLUMNS};
use bankfeeds_formats::mt940::{to_swift_x, Mt940Writer};
use bankfeeds_formats::ofx::tree::Element;
use bankfeeds_formats::{FormatError, StatementCurrency};
use common::*;
use quick_xml::events::Event;
use rust_decimal::Decimal;

fn minor(cur: &StatementCurrency, d: Decimal) -> i128 {
    cur.to_minor(d).unwrap()
}

#[test]
fn csv_round_trips_every_field() {
    for (h, lines) in samples() {
        let (out, totals) = write_csv(Vec::new(), &h, lines.clone()).unwrap();
        assert_eq!(totals.count as usize, lines.len());
        let mut r = csv::Reader::from_reader(out.as_slice());
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), lines.len());
        for (row, l) in rows.iter().zip(&lines) {
            assert_eq!(dec(&row[2]), l.amount);
            assert_eq!(&row[3], h.account.currency.code);
            assert_eq!(&row[4], l.description);
            assert_eq!(&row[5], l.payee.as_deref().unwrap_or(""));
            assert_eq!(&row[6], l.memo.as_deref().unwrap_or(""));
            assert_eq!(&row[8], l.transaction_id);
            assert_eq!(&row[9], "", "no running balance reported, none invented");
            assert_eq!(
                &row[1],
                l.posted_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
    }
}

fn bai2_options() -> Bai2Options {
    Bai2Options {
        sender_id: "HUBBANK".into(),
        receiver_id: "ACMECO".into(),
        file_id: "1".into(),
        created_at: at(2024, 2, 1),
        as_of: at(2024, 1, 31),
        group_currency: None,
    }
}

#[test]
fn bai2_counts_totals_and_continuations() {
    let samples = samples();
    let mut w = Bai2Writer::new(Vec::new(), &bai2_options()).unwrap();
    for (h, lines) in &samples {
        w.begin_account(h).unwrap();
        lines.iter().try_for_each(|l| w.line(l)).unwrap();
        w.end_account().unwrap();
    }
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    let records: Vec<&str> = out.lines().collect();
    assert!(records.iter().all(|r| r.chars().count() <= 80), "{out}");
    assert_eq!(records.first().map(|r| &r[..3]), Some("01,"));
    // Walk the file as a reader would, checking each trailer against what it covers.
    let mut accounts = 0;
    let mut group_total = 0i128;
    let mut acct_total = 0i128;
    let mut acct_records = 0;
    let mut texts: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut amounts: Vec<i128> = Vec::new();
    for r in &records {
        let body = r.trim_end_matches('/');
        let f: Vec<&str> = body.split(',').collect();
        match f[0] {
            "03" => {
                acct_records = 1;
                acct_total = f[3..]
                    .chunks(4)
                    .map(|c| c[1].parse::<i128>().unwrap())
                    .sum();
            }
            "16" => {
                acct_records += 1;
                let a: i128 = f[2].parse().unwrap();
                acct_total += a;
                amounts.push(a);
                ids.push(f[4].to_string());
                texts.push(f[6..].join(","));
            }
            "88" => {
                acct_records += 1;
                let t = texts.last_mut().unwrap();
                t.push(' ');
                t.push_str(&r[3..]);
            }
            "49" => {
                acct_records += 1;
                assert_eq!(f[1].parse::<i128>().unwrap(), acct_total);
                assert_eq!(f[2].parse::<usize>().unwrap(), acct_records);
                group_total += acct_total;
                accounts += 1;
            }
            "98" => {
                assert_eq!(f[1].parse::<i128>().unwrap(), group_total);
                assert_eq!(f[2].parse::<usize>().unwrap(), accounts);
                assert_eq!(f[3].parse::<usize>().unwrap(), records.len() - 2);
            }
            "99" => assert_eq!(f[3].parse::<usize>().unwrap(), records.len()),
            _ => {}
        }
    }
    assert_eq!(accounts, samples.len());
    let all: Vec<_> = samples
        .iter()
        .flat_map(|(h, ls)| ls.iter().map(move |l| (h, l)))
        .collect();
    assert_eq!(amounts.len(), all.len());
    for (i, (h, l)) in all.iter().enumerate() {
        assert_eq!(amounts[i], minor(&h.account.currency, l.amount).abs());
        assert_eq!(ids[i], l.transaction_id);
        assert_eq!(texts[i], l.description.trim());
    }
    assert!(out.contains("03,2002,JPY,010,1000000,,,015,1002500,,,045,1002500,,/"));
    assert!(out.contains("03,4111000011112222,JPY,010,-10000,,,015,-24800,,/"));
}

fn mt940_of(index: usize) -> String {
    let samples = samples();
    let (h, lines) = &samples[index];
    let mut w = Mt940Writer::new(Vec::new());
    w.begin_statement(h, "STMT-2024-01", 1).unwrap();
    lines.iter().try_for_each(|l| w.line(l)).unwrap();
    w.end_statement().unwrap();
    String::from_utf8(w.finish().unwrap()).unwrap()
}

#[test]
fn mt940_fields_charset_and_amounts() {
    let usd = mt940_of(0);
    for line in usd.split("\r\n") {
        assert!(line.chars().count() <= 65, "{line}");
        assert_eq!(to_swift_x(line), line, "outside SWIFT X: {line}");
    }
    assert!(
        usd.starts_with(":20:STMT-2024-01\r\n:25:1001\r\n:28C:1/1\r\n:60F:C240101USD100,00\r\n")
    );
    assert!(usd.contains(
        ":61:2401050105D42,51NMSCNONREF//1001-0001\r\n:86:Cafe Creme, Zurich Card purchase\r\n"
    ));
    assert!(usd.contains(":62F:C240131USD1357,49\r\n:64:C240131USD1300,00\r\n-\r\n"));
    let jpy = mt940_of(1);
    assert!(jpy.contains(":60F:D240101JPY10000,\r\n"));
    assert!(jpy.contains("D5800,NMSCNONREF//cc-0001\r\n:86:?????? ???\r\n"));
    assert!(jpy.contains(":62F:D240131JPY24800,\r\n"));
}

#[test]
fn mt940_derives_closing_only_from_a_reported_opening() {
    let mut samples = samples();
    let (h, lines) = &mut samples[0];
    h.balances.closing = None;
    let mut w = Mt940Writer::new(Vec::new());
    w.begin_statement(h, "x", 1).unwrap();
    lines.iter().try_for_each(|l| w.line(l)).unwrap();
    w.end_statement().unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    assert!(out.contains(":62F:C240131USD1357,49"));
    h.balances.opening = None;
    let err = Mt940Writer::new(Vec::new())
        .begin_statement(h, "x", 1)
        .unwrap_err();
    assert!(matches!(err, FormatError::MissingBalance { .. }));
}

/// A plain XML tree (no OFX header) for reading CAMT back.
fn xml_tree(bytes: &[u8]) -> Element {
    let mut r = quick_xml::Reader::from_reader(bytes);
    r.config_mut().trim_text(true);
    let mut stack = vec![Element::new("")];
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Start(s) => stack.push(Element::new(String::from_utf8_lossy(s.name().as_ref()))),
            Event::Text(t) => {
                stack.last_mut().unwrap().text = Some(t.unescape().unwrap().into_owned())
            }
            Event::End(_) => {
                let e = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(e);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    stack.pop().unwrap().children.remove(0)
}

#[test]
fn camt053_statements_entries_and_balances() {
    for version in [CamtVersion::V02, CamtVersion::V08] {
        camt053_round_trip(version);
    }
}

fn camt053_round_trip(version: CamtVersion) {
    let samples = samples();
    let mut w = Camt053Writer::new(Vec::new(), version, "MSG-1", at(2024, 2, 1)).unwrap();
    for (h, lines) in &samples {
        w.begin_statement(h, &format!("{}-2024-01", h.account.account_id))
            .unwrap();
        lines.iter().try_for_each(|l| w.line(l)).unwrap();
        w.end_statement().unwrap();
    }
    let doc = xml_tree(&w.finish().unwrap());
    assert_eq!(doc.name, "Document");
    let stmts: Vec<&Element> = doc
        .child("BkToCstmrStmt")
        .unwrap()
        .children_named("Stmt")
        .collect();
    assert_eq!(stmts.len(), samples.len());
    for (s, (h, lines)) in stmts.iter().zip(&samples) {
        assert_eq!(
            s.path(&["Acct", "Id", "Othr", "Id"])
                .unwrap()
                .text
                .as_deref(),
            Some(h.account.account_number.as_str())
        );
        let bal = |code: &str| {
            s.children_named("Bal")
                .find(|b| b.path(&["Tp", "CdOrPrtry", "Cd"]).unwrap().text.as_deref() == Some(code))
                .map(|b| {
                    let a = dec(b.leaf("Amt").unwrap());
                    if b.leaf("CdtDbtInd") == Some("DBIT") {
                        -a
                    } else {
                        a
                    }
                })
        };
        assert_eq!(bal("OPBD"), h.balances.opening.map(|b| b.amount));
        assert_eq!(bal("CLBD"), h.balances.closing.map(|b| b.amount));
        let entries: Vec<&Element> = s.children_named("Ntry").collect();
        assert_eq!(entries.len(), lines.len());
        for (e, l) in entries.iter().zip(lines) {
            let a = dec(e.leaf("Amt").unwrap());
            let signed = if e.leaf("CdtDbtInd") == Some("DBIT") {
                -a
            } else {
                a
            };
            assert_eq!(signed, l.amount);
            assert_eq!(e.leaf("AcctSvcrRef"), Some(l.transaction_id.as_str()));
            assert_eq!(e.leaf("AddtlNtryInf"), Some(l.description.as_str()));
            assert_eq!(
                e.path(&["BookgDt", "Dt"]).unwrap().text.as_deref(),
                Some(l.posted_at.format("%Y-%m-%d").to_string().as_str())
            );
        }
    }
}
