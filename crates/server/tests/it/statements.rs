//! Statement files through the real router: every format for a USD bank account and a JPY
//! (zero-decimal) card, read back (OFX with the formats crate's reader, CSV with the `csv`
//! crate, BAI2, MT940 and CAMT.053 field by field) and compared with what was pushed; the
//! connection's file; and every refusal.

use std::str::FromStr;

use bankfeeds_formats::ofx::header::parse_document;
use bankfeeds_formats::ofx::tree::Element;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use bankfeeds_domain::{BankFeedAccountId, ConnectionId};
use bankfeeds_server::statements::{self, DateRange, FileSettings, StatementFormat};
use chrono::{TimeDelta, Utc};

use crate::helpers::{ok, refusals, with_token, Creds, Hub, ACCOUNTS, TRANSACTIONS};

crate::on_both_backends!(
    every_format_reads_back_as_pushed_for_a_usd_bank_and_a_jpy_card,
    a_date_range_keeps_its_lines_and_carries_the_balances_back,
    a_connection_file_holds_every_account,
    a_file_spans_many_pages_of_rows,
    bad_requests_are_refused_with_codes_before_any_byte,
    the_balances_are_of_the_account_as_it_stands_after_its_rows_are_summed,
);

const FORMATS: [&str; 7] = ["qbo", "qfx", "ofx", "csv", "bai2", "mt940", "camt053"];

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// One pushed transaction: `(id, day of January 2024, amount, description)`.
type Tx = (&'static str, u32, &'static str, &'static str);

const BANK_TXS: [Tx; 3] = [
    ("B1", 5, "-20.25", "Café Müller — Zürich"),
    ("B2", 10, "500.00", "Client payment 東京"),
    ("B3", 20, "-5.00", "Coffee, \"large\""),
];
const CARD_TXS: [Tx; 3] = [
    ("K1", 7, "-8000", "ホテル Tokyo"),
    ("K2", 15, "-4000", "Ramen ラーメン"),
    ("K3", 25, "1500", "Refund"),
];

struct Account {
    id: String,
    number: &'static str,
    currency: &'static str,
    card: bool,
    balance: Decimal,
    txs: &'static [Tx],
}

impl Account {
    fn net(&self) -> Decimal {
        self.txs.iter().map(|t| dec(t.2)).sum()
    }
}

async fn push(hub: &Hub, bank: &Creds, token: &str, account: &str, txs: &[Tx]) {
    let txs: Vec<Value> = txs
        .iter()
        .map(|(id, day, amount, text)| {
            json!({"transaction_id": id, "posted_at": format!("2024-01-{day:02}T10:00:00Z"),
                   "amount": dec(amount), "description": text})
        })
        .collect();
    ok(hub
        .post(
            bank,
            &with_token(TRANSACTIONS, token),
            &json!({"bank_feed_transactions": {"bank_feed_account_id": account, "transactions": txs}}),
        )
        .send()
        .await)
    .await;
}

/// A connection with a USD checking account and a JPY card, both with reported balances and
/// pushed transactions: `(org, token, bank, card)`.
async fn fixture(hub: &Hub) -> (Creds, String, Account, Account) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "OFX_DIRECT_CONNECT").await;
    let mut ids = Vec::new();
    for (number, kind, currency, extra) in [
        (
            "1001",
            "bank",
            "USD",
            json!({"current_balance": 1000.5, "available_balance": 900, "routing_number": "123456789"}),
        ),
        (
            "4111",
            "credit_card",
            "JPY",
            json!({"current_balance": -12000}),
        ),
    ] {
        let mut fields = json!({"internal_bank_account_id": number, "bank_account_type": kind,
                                "currency_code": currency, "name": format!("Account {number}")});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let created = hub.create_account(&bank, &token, fields).await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let checking = Account {
        id: ids[0].clone(),
        number: "1001",
        currency: "USD",
        card: false,
        balance: dec("1000.50"),
        txs: &BANK_TXS,
    };
    let card = Account {
        id: ids[1].clone(),
        number: "4111",
        currency: "JPY",
        card: true,
        balance: dec("-12000"),
        txs: &CARD_TXS,
    };
    push(hub, &bank, &token, &checking.id, checking.txs).await;
    push(hub, &bank, &token, &card.id, card.txs).await;
    (bank, token, checking, card)
}

fn statement_path(account: &str, token: &str, query: &str) -> String {
    format!("{ACCOUNTS}/{account}/statement?access_token={token}&{query}")
}

/// The statement of `account` in `format`, narrowed by `range` (a query, or none): downloaded
/// and checked as [`download`] does.
async fn statement(
    hub: &Hub,
    bank: &Creds,
    token: &str,
    account: &str,
    format: &str,
    range: &str,
) -> String {
    let query = match range {
        "" => format!("format={format}"),
        range => format!("format={format}&{range}"),
    };
    download(hub, bank, &statement_path(account, token, &query), format).await
}

/// GETs a file; asserts 200 with the format's type and an attachment name; returns the body.
async fn download(hub: &Hub, bank: &Creds, path: &str, format: &str) -> String {
    let resp = hub.get(bank, path).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    let ct = headers["content-type"].to_str().unwrap();
    let want = match format {
        "qbo" => "application/vnd.intu.qbo",
        "qfx" => "application/vnd.intu.qfx",
        "ofx" => "application/x-ofx",
        "csv" => "text/csv",
        "bai2" | "mt940" => "text/plain",
        _ => "application/xml",
    };
    assert!(ct.starts_with(want), "{format}: {ct}");
    let cd = headers["content-disposition"].to_str().unwrap();
    let ext = match format {
        "bai2" => "bai",
        "mt940" => "sta",
        "camt053" => "xml",
        f => f,
    };
    assert!(
        cd.starts_with("attachment; filename=\"") && cd.ends_with(&format!(".{ext}\"")),
        "{cd}"
    );
    body
}

/// What a file says: `(transaction ids, signed amounts, opening, closing)`; a balance the
/// format does not carry is `None`.
#[derive(Debug, PartialEq)]
struct Read {
    ids: Vec<String>,
    amounts: Vec<Decimal>,
    texts: Vec<String>,
    opening: Option<Decimal>,
    closing: Option<Decimal>,
}

fn read_ofx(body: &str, card: bool, bid: Option<&str>) -> Read {
    let (_, root) = parse_document(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
    let sonrs = root.path(&["SIGNONMSGSRSV1", "SONRS"]).unwrap();
    assert_eq!(sonrs.leaf("INTU.BID"), bid, "{body}");
    let path: &[&str] = if card {
        &["CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS"]
    } else {
        &["BANKMSGSRSV1", "STMTTRNRS", "STMTRS"]
    };
    let rs = root.path(path).unwrap_or_else(|| panic!("{body}"));
    let list: Vec<&Element> = rs
        .child("BANKTRANLIST")
        .unwrap()
        .children_named("STMTTRN")
        .collect();
    Read {
        ids: list
            .iter()
            .map(|t| t.leaf("FITID").unwrap().into())
            .collect(),
        amounts: list
            .iter()
            .map(|t| dec(t.leaf("TRNAMT").unwrap()))
            .collect(),
        texts: list
            .iter()
            .map(|t| {
                let name = t.leaf("NAME").unwrap_or_default();
                match t.leaf("MEMO") {
                    Some(m) => format!("{name} {m}"),
                    None => name.to_string(),
                }
            })
            .collect(),
        opening: None,
        closing: Some(dec(rs
            .path(&["LEDGERBAL"])
            .unwrap()
            .leaf("BALAMT")
            .unwrap())),
    }
}

fn read_csv(body: &str, currency: &str) -> Read {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    // The column set itself is the formats crate's (tested there, documented in the README).
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        bankfeeds_formats::csv::COLUMNS
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    for row in &rows {
        assert_eq!(&row[3], currency);
        assert_eq!(
            &row[9], "",
            "no per-transaction balance is reported, so none is shown"
        );
    }
    Read {
        ids: rows.iter().map(|r| r[8].to_string()).collect(),
        amounts: rows.iter().map(|r| dec(&r[2])).collect(),
        texts: rows.iter().map(|r| r[4].to_string()).collect(),
        opening: None,
        closing: None,
    }
}

/// Minor units back to an amount.
fn from_minor(minor: &str, decimals: u32) -> Decimal {
    Decimal::from_i128_with_scale(minor.parse().unwrap(), decimals)
}

/// One BAI2 file's accounts, each as a [`Read`] by account number; checks every control total
/// and record count on the way.
fn read_bai2(body: &str, decimals: impl Fn(&str) -> u32) -> Vec<(String, Read)> {
    let records: Vec<&str> = body.lines().collect();
    assert!(records.iter().all(|r| r.chars().count() <= 80), "{body}");
    let fields = |r: &str| -> Vec<String> {
        r.trim_end_matches('/')
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    let mut out = Vec::new();
    let (mut file_total, mut accounts) = (0i128, 0);
    let mut current: Option<(String, u32, Read, i128, usize)> = None;
    for (i, r) in records.iter().enumerate() {
        let f = fields(r);
        match f[0].as_str() {
            "03" => {
                let d = decimals(&f[2]);
                let (mut opening, mut closing, mut total) = (None, None, 0i128);
                for bal in f[3..].chunks(4) {
                    if bal.len() < 2 || bal[0].is_empty() {
                        continue;
                    }
                    total += bal[1].parse::<i128>().unwrap();
                    match bal[0].as_str() {
                        "010" => opening = Some(from_minor(&bal[1], d)),
                        "015" => closing = Some(from_minor(&bal[1], d)),
                        _ => {}
                    }
                }
                let read = Read {
                    ids: vec![],
                    amounts: vec![],
                    texts: vec![],
                    opening,
                    closing,
                };
                current = Some((f[1].clone(), d, read, total, i));
            }
            "16" => {
                let (_, d, read, total, _) = current.as_mut().unwrap();
                let code: u32 = f[1].parse().unwrap();
                let minor: i128 = f[2].parse().unwrap();
                *total += minor;
                let amount = from_minor(&f[2], *d);
                read.amounts.push(if code < 400 { amount } else { -amount });
                read.ids.push(f[4].clone());
                read.texts.push(f[6..].join(","));
            }
            "88" => {
                let (_, _, read, _, _) = current.as_mut().unwrap();
                let last = read.texts.last_mut().unwrap();
                last.push(' ');
                last.push_str(&r[3..]);
            }
            "49" => {
                let (number, _, read, total, start) = current.take().unwrap();
                assert_eq!(
                    f[1].parse::<i128>().unwrap(),
                    total,
                    "account control total"
                );
                assert_eq!(
                    f[2].parse::<usize>().unwrap(),
                    i - start + 1,
                    "account records"
                );
                file_total += total;
                accounts += 1;
                out.push((number, read));
            }
            "98" => {
                assert_eq!(f[1].parse::<i128>().unwrap(), file_total);
                assert_eq!(f[2].parse::<usize>().unwrap(), accounts);
            }
            "99" => {
                assert_eq!(f[1].parse::<i128>().unwrap(), file_total);
                assert_eq!(f[3].parse::<usize>().unwrap(), records.len());
            }
            _ => {}
        }
    }
    out
}

fn swift_amount(field: &str) -> Decimal {
    dec(field.replace(',', ".").trim_end_matches('.'))
}

/// `D|C` `YYMMDD` currency amount, as in `:60F:` / `:62F:`.
fn swift_balance(v: &str, currency: &str) -> Decimal {
    let (mark, rest) = v.split_at(1);
    let amount = swift_amount(rest[6..].strip_prefix(currency).unwrap());
    if mark == "D" {
        -amount
    } else {
        amount
    }
}

fn read_mt940(body: &str, currency: &str) -> Read {
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert!(lines
        .iter()
        .all(|l| l.chars().count() <= 65 && l.is_ascii()));
    let value = |tag: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(tag))
            .unwrap_or_else(|| panic!("no {tag} in {body}"))
    };
    let mut read = Read {
        ids: vec![],
        amounts: vec![],
        texts: vec![],
        opening: Some(swift_balance(value(":60F:"), currency)),
        closing: Some(swift_balance(value(":62F:"), currency)),
    };
    for l in &lines {
        if let Some(v) = l.strip_prefix(":61:") {
            // YYMMDD[MMDD] D|C|RD|RC amount N code reference//bank reference
            let rest = &v[6..];
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            let (debit, rest) = match rest.as_bytes()[0] {
                b'D' => (true, &rest[1..]),
                _ => (false, &rest[1..]),
            };
            let end = rest.find('N').unwrap();
            let amount = swift_amount(&rest[..end]);
            read.amounts.push(if debit { -amount } else { amount });
            read.ids.push(rest.split("//").nth(1).unwrap().to_string());
        }
    }
    read
}

/// The text of every `<tag>…</tag>` in `s`, in order.
fn all<'a>(s: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    s.split(&open)
        .skip(1)
        .map(|p| p.split(&close).next().unwrap().trim())
        .collect()
}

fn signed(block: &str) -> Decimal {
    let amt = block
        .split("\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let ind = all(block, "CdtDbtInd")[0];
    if ind == "DBIT" {
        -dec(amt)
    } else {
        dec(amt)
    }
}

fn read_camt(stmt: &str) -> Read {
    let balance = |code: &str| {
        all(stmt, "Bal")
            .into_iter()
            .find(|b| all(b, "Cd").contains(&code))
            .map(signed)
    };
    let entries = all(stmt, "Ntry");
    Read {
        ids: entries
            .iter()
            .map(|e| all(e, "AcctSvcrRef")[0].into())
            .collect(),
        amounts: entries.iter().map(|e| signed(e)).collect(),
        texts: entries
            .iter()
            .map(|e| {
                all(e, "AddtlNtryInf")[0]
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&")
            })
            .collect(),
        opening: balance("OPBD"),
        closing: balance("CLBD"),
    }
}

fn read(format: &str, body: &str, a: &Account) -> Read {
    match format {
        "qbo" | "qfx" => read_ofx(body, a.card, Some("3000")),
        "ofx" => read_ofx(body, a.card, None),
        "csv" => read_csv(body, a.currency),
        "bai2" => {
            let d = if a.currency == "JPY" { 0 } else { 2 };
            let mut accounts = read_bai2(body, |_| d);
            assert_eq!(accounts.len(), 1);
            let (number, read) = accounts.remove(0);
            assert_eq!(number, a.number);
            read
        }
        "mt940" => read_mt940(body, a.currency),
        _ => {
            assert!(body.contains("urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"));
            let stmts = all(body, "Stmt");
            assert_eq!(stmts.len(), 1);
            read_camt(stmts[0])
        }
    }
}

/// Checks a file's lines against `txs` and its balances against `opening`/`closing`; texts
/// must hold every pushed character where the format keeps them.
fn check(format: &str, got: &Read, txs: &[Tx], opening: Decimal, closing: Decimal) {
    let ids: Vec<&str> = txs.iter().map(|t| t.0).collect();
    assert_eq!(got.ids, ids, "{format}");
    let amounts: Vec<Decimal> = txs.iter().map(|t| dec(t.2)).collect();
    assert_eq!(got.amounts, amounts, "{format}");
    if matches!(format, "csv" | "bai2" | "camt053" | "qbo" | "qfx" | "ofx") {
        for ((_, _, _, text), got) in txs.iter().zip(&got.texts) {
            assert_eq!(got, text, "{format}");
        }
    }
    if let Some(o) = got.opening {
        assert_eq!(o, opening, "{format} opening");
    }
    if let Some(c) = got.closing {
        assert_eq!(c, closing, "{format} closing");
    }
    let carries = |f: &[&str]| f.contains(&format);
    assert_eq!(
        got.opening.is_some(),
        carries(&["bai2", "mt940", "camt053"]),
        "{format}"
    );
    assert_eq!(got.closing.is_some(), format != "csv", "{format}");
}

async fn every_format_reads_back_as_pushed_for_a_usd_bank_and_a_jpy_card(hub: Hub) {
    let (bank, token, checking, card) = fixture(&hub).await;
    for a in [&checking, &card] {
        for format in FORMATS {
            let body = statement(&hub, &bank, &token, &a.id, format, "").await;
            let got = read(format, &body, a);
            check(format, &got, a.txs, a.balance - a.net(), a.balance);
        }
    }
    // MT940 keeps to the SWIFT character set: accents folded, the rest replaced.
    let mt940 = statement(&hub, &bank, &token, &checking.id, "mt940", "").await;
    assert!(mt940.contains("Cafe Muller"), "{mt940}");
    // The available balance the FI reported rides along where the format has room for it.
    let bai2 = statement(&hub, &bank, &token, &checking.id, "bai2", "").await;
    assert!(bai2.contains(",045,90000,"), "{bai2}");
}

async fn a_date_range_keeps_its_lines_and_carries_the_balances_back(hub: Hub) {
    let (bank, token, checking, card) = fixture(&hub).await;
    // 6 to 15 January: B2 only; B3 (-5) comes later, so the closing is 1000.50 + 5.
    let range = "from=2024-01-06&to=2024-01-15";
    for format in FORMATS {
        let path = statement_path(&checking.id, &token, &format!("format={format}&{range}"));
        let body = download(&hub, &bank, &path, format).await;
        let got = read(format, &body, &checking);
        check(format, &got, &BANK_TXS[1..2], dec("505.50"), dec("1005.50"));
        if format == "csv" {
            let cd = hub.get(&bank, &path).send().await.unwrap().headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_string();
            assert_eq!(cd, "attachment; filename=\"1001_20240106_20240115.csv\"");
        }
    }
    // A single day, inclusive at both ends, on the card: K2 (-4000); K3 (+1500) is later.
    let one_day = "from=2024-01-15&to=2024-01-15";
    let body = statement(&hub, &bank, &token, &card.id, "mt940", one_day).await;
    let got = read("mt940", &body, &card);
    check("mt940", &got, &CARD_TXS[1..2], dec("-9500"), dec("-13500"));
    // No AVAILBAL for a period that ends before the balance was reported.
    let qbo = statement(&hub, &bank, &token, &checking.id, "qbo", range).await;
    assert!(!qbo.contains("AVAILBAL"), "{qbo}");
}

async fn a_connection_file_holds_every_account(hub: Hub) {
    let (bank, token, checking, card) = fixture(&hub).await;
    let path = format!("/versioned/accounting/bank_feeds/statement?access_token={token}");
    let bai2 = download(&hub, &bank, &format!("{path}&format=bai2"), "bai2").await;
    let accounts = read_bai2(&bai2, |c| if c == "JPY" { 0 } else { 2 });
    assert_eq!(accounts.len(), 2);
    for (number, got) in &accounts {
        let a = if number == "1001" { &checking } else { &card };
        check("bai2", got, a.txs, a.balance - a.net(), a.balance);
    }
    let camt = download(&hub, &bank, &format!("{path}&format=camt053"), "camt053").await;
    let stmts = all(&camt, "Stmt");
    assert_eq!(stmts.len(), 2);
    for stmt in stmts {
        let a = if stmt.contains("<Id>1001</Id>") {
            &checking
        } else {
            &card
        };
        check(
            "camt053",
            &read_camt(stmt),
            a.txs,
            a.balance - a.net(),
            a.balance,
        );
    }
}

async fn a_file_spans_many_pages_of_rows(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (_, token) = hub.connection(&bank, "OFX_DIRECT_CONNECT").await;
    let account = hub
        .create_account(
            &bank,
            &token,
            json!({"internal_bank_account_id": "77", "bank_account_type": "bank",
                   "currency_code": "USD", "current_balance": 0}),
        )
        .await;
    let id = account["id"].as_str().unwrap();
    let total = 2_150;
    for batch in 0..(total / 1000 + 1) {
        let txs: Vec<Value> = (batch * 1000..((batch + 1) * 1000).min(total))
            .map(|i| {
                json!({"transaction_id": format!("T{i:05}"),
                       "posted_at": format!("2024-02-{:02}T{:02}:{:02}:00Z", 1 + i / 1440, (i / 60) % 24, i % 60),
                       "amount": if i % 2 == 0 { dec("1.01") } else { dec("-0.01") },
                       "description": format!("row {i} é")})
            })
            .collect();
        ok(hub
            .post(
                &bank,
                &with_token(TRANSACTIONS, &token),
                &json!({"bank_feed_transactions": {"bank_feed_account_id": id, "transactions": txs}}),
            )
            .send()
            .await)
        .await;
    }
    let csv = statement(&hub, &bank, &token, id, "csv", "").await;
    let got = read_csv(&csv, "USD");
    assert_eq!(got.ids.len(), total);
    assert_eq!(got.ids[1000], "T01000");
    assert_eq!(got.amounts.iter().sum::<Decimal>(), dec("1075.00"));
    let bai2 = statement(&hub, &bank, &token, id, "bai2", "").await;
    let (_, got) = read_bai2(&bai2, |_| 2).remove(0);
    assert_eq!(got.ids.len(), total);
    assert_eq!(
        (got.opening, got.closing),
        (Some(dec("-1075.00")), Some(Decimal::ZERO))
    );
}

async fn bad_requests_are_refused_with_codes_before_any_byte(hub: Hub) {
    let (bank, token, checking, _) = fixture(&hub).await;
    let unbalanced = hub
        .create_account(
            &bank,
            &token,
            json!({"internal_bank_account_id": "9", "bank_account_type": "bank",
                   "currency_code": "EUR"}),
        )
        .await;
    let unbalanced = unbalanced["id"].as_str().unwrap();
    let (_, other_token) = hub.connection(&bank, "OFX_DIRECT_CONNECT").await;
    let empty = |q: &str| {
        format!("/versioned/accounting/bank_feeds/statement?access_token={other_token}&{q}")
    };
    let get = |path: String| hub.get(&bank, &path);
    let conn =
        |q: &str| format!("/versioned/accounting/bank_feeds/statement?access_token={token}&{q}");
    let mut cases = vec![
        (
            get(statement_path(&checking.id, &token, "format=xls")),
            400,
            "UNSUPPORTED_FORMAT",
        ),
        (
            get(statement_path(&checking.id, &token, "from=2024-01-01")),
            400,
            "MISSING_QUERY_PARAMETER",
        ),
        (
            get(statement_path(
                &checking.id,
                &token,
                "format=csv&from=2024-13-01",
            )),
            400,
            "INVALID_QUERY_PARAMETER",
        ),
        (
            get(statement_path(
                &checking.id,
                &token,
                "format=csv&to=2024-1-5",
            )),
            400,
            "INVALID_QUERY_PARAMETER",
        ),
        (
            get(statement_path(
                &checking.id,
                &token,
                "format=csv&from=2024-02-01&to=2024-01-31",
            )),
            400,
            "INVALID_DATE_RANGE",
        ),
        (
            get(statement_path("not-an-id", &token, "format=csv")),
            400,
            "INVALID_ID",
        ),
        (
            get(statement_path(&checking.id, &other_token, "format=csv")),
            410,
            "BANK_FEED_ACCOUNT_NOT_FOUND",
        ),
        (
            get(statement_path(&checking.id, "wrong", "format=csv")),
            401,
            "INVALID_ACCESS_TOKEN",
        ),
        (get(conn("format=csv")), 400, "FORMAT_NOT_MULTI_ACCOUNT"),
        (get(conn("format=qbo")), 400, "FORMAT_NOT_MULTI_ACCOUNT"),
        (get(conn("format=pdf")), 400, "UNSUPPORTED_FORMAT"),
        (
            get(conn("format=bai2&from=2024-02-01&to=2024-01-01")),
            400,
            "INVALID_DATE_RANGE",
        ),
        (get(conn("format=camt053")), 409, "BALANCE_NOT_REPORTED"),
        (get(empty("format=camt053")), 409, "NO_ACCOUNTS"),
    ];
    for format in ["qbo", "qfx", "ofx", "mt940", "camt053"] {
        cases.push((
            get(statement_path(
                unbalanced,
                &token,
                &format!("format={format}"),
            )),
            409,
            "BALANCE_NOT_REPORTED",
        ));
    }
    refusals(&hub.http, cases).await;
    // Formats that carry no balance, or can leave it out, still serve that account: no figure
    // is made up for it.
    let csv = statement(&hub, &bank, &token, unbalanced, "csv", "").await;
    assert_eq!(csv.lines().count(), 1, "{csv}");
    let bai2 = statement(&hub, &bank, &token, unbalanced, "bai2", "").await;
    assert!(bai2.lines().any(|l| l == "03,9,EUR/"), "{bai2}");
    // A connection without accounts still has a well-formed (empty) BAI2 file.
    let bai2 = download(&hub, &bank, &empty("format=bai2"), "bai2").await;
    assert_eq!(bai2.lines().last(), Some("99,0,1,4/"), "{bai2}");
}

/// A statement's balances are worked out from the account as it stands once its rows have been
/// summed: an account value read before a batch committed (older, with another balance) is read
/// again, so the file's closing balance is the one stored with the rows it counts.
async fn the_balances_are_of_the_account_as_it_stands_after_its_rows_are_summed(hub: Hub) {
    let (bank, token, checking, _card) = fixture(&hub).await;
    let found = hub.connection_by_token(&bank, &token).await;
    let connection: ConnectionId = found["connection"]["id"].as_str().unwrap().parse().unwrap();
    let id: BankFeedAccountId = checking.id.parse().unwrap();
    let stored = hub
        .store
        .get_account(connection, id)
        .await
        .unwrap()
        .unwrap();
    let mut stale = stored.clone();
    stale.updated_at -= TimeDelta::seconds(1);
    stale.current_balance = Some("1.00".parse().unwrap());
    let settings = FileSettings {
        intu_bid: "3000".into(),
    };
    let everything = DateRange {
        from: None,
        to: None,
    };
    let plan = statements::plan(
        &hub.store,
        &bank.org,
        vec![stale],
        StatementFormat::Csv,
        everything,
        &settings,
        Utc::now(),
    )
    .await
    .unwrap();
    let balances = &plan.accounts[0].header.balances;
    assert_eq!(balances.closing.as_ref().unwrap().amount, checking.balance);
    assert_eq!(
        balances.opening.as_ref().unwrap().amount,
        checking.balance - checking.net()
    );
}
