//! Property tests, bounded so the crate's tests stay quick: the request reader never panics,
//! whatever the bytes, and every writer carries any amount through exactly.

mod common;

use bankfeeds_formats::bai2::{Bai2Options, Bai2Writer};
use bankfeeds_formats::camt053::{Camt053Writer, CamtVersion};
use bankfeeds_formats::csv::write_csv;
use bankfeeds_formats::ofx::header::parse_document;
use bankfeeds_formats::ofx::response::{SignonResponse, Status, TrnEcho};
use bankfeeds_formats::ofx::writer::SgmlCharset;
use bankfeeds_formats::ofx::{parse_request, OfxVersion, ResponseWriter};
use bankfeeds_formats::{StatementCurrency, StatementHeader, StatementLine};
use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

const VALID: [&str; 2] = [
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX><SIGNONMSGSRQV1><SONRQ><DTCLIENT>20240101<USERID>u<USERPASS>p<LANGUAGE>ENG<FI><ORG>HUB<FID>1</FI><APPID>QWIN<APPVER>2700</SONRQ></SIGNONMSGSRQV1><BANKMSGSRQV1><STMTTRNRQ><TRNUID>1<STMTRQ><BANKACCTFROM><BANKID>1<ACCTID>2<ACCTTYPE>CHECKING</BANKACCTFROM><INCTRAN><DTSTART>20240101<INCLUDE>Y</INCTRAN></STMTRQ></STMTTRNRQ></BANKMSGSRQV1></OFX>",
    "<?xml version=\"1.0\"?><?OFX OFXHEADER=\"200\" VERSION=\"220\"?><OFX><SIGNONMSGSRQV1><SONRQ><USERID>u</USERID><USERPASS>p</USERPASS></SONRQ></SIGNONMSGSRQV1><CREDITCARDMSGSRQV1><CCSTMTTRNRQ><TRNUID>2</TRNUID><CLTCOOKIE>c</CLTCOOKIE><CCSTMTRQ><CCACCTFROM><ACCTID>9</ACCTID></CCACCTFROM><INCTRAN><INCLUDE>N</INCLUDE></INCTRAN></CCSTMTRQ></CCSTMTTRNRQ></CREDITCARDMSGSRQV1></OFX>",
];

/// Case count: `default`, or `PROPTEST_CASES` for a longer run by hand.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tricky = prop::sample::select(vec![b'<', b'>', b'/', b'&', b';', b'"', b'\n', 0xff, b'?']);
    prop_oneof![
        (any::<usize>(), prop_oneof![tricky, any::<u8>()])
            .prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Replace(i, b) if !bytes.is_empty() => bytes[i % len] = *b,
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), ..ProptestConfig::default() })]

    #[test]
    fn request_reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_request(&bytes);
        let mut with_header = b"OFXHEADER:100\r\nVERSION:102\r\n\r\n<OFX>".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = parse_request(&with_header);
    }

    #[test]
    fn request_reader_never_panics_on_mutated_requests(
        which in 0usize..2,
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = apply(VALID[which].as_bytes().to_vec(), &muts);
        let _ = parse_request(&bytes);
    }
}

fn header_with(units: u32) -> StatementHeader {
    let mut h = samples().remove(0).0;
    h.account.currency = StatementCurrency::new(if units == 0 { "JPY" } else { "XXX" }, units);
    for b in [
        &mut h.balances.opening,
        &mut h.balances.closing,
        &mut h.balances.available,
    ] {
        *b = b.map(|mut b| {
            b.amount = Decimal::new(1, 0);
            b
        });
    }
    h
}

fn line_with(amount: Decimal, description: &str) -> StatementLine {
    let mut l = samples().remove(0).1.remove(0);
    l.amount = amount;
    l.description = description.to_string();
    l.payee = None;
    l.memo = None;
    l
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    #[test]
    fn writers_carry_amounts_and_text_exactly(
        mantissa in -10_000_000_000_000i64..10_000_000_000_000,
        units in prop::sample::select(vec![0u32, 2, 3]),
        description in "[a-zA-Z0-9 &<>'\"/,;:éü東-]{1,80}",
    ) {
        let amount = Decimal::new(mantissa, units);
        let h = header_with(units);
        let l = line_with(amount, &description);
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();

        for version in [OfxVersion::V102, OfxVersion::V220] {
            let signon = SignonResponse { status: Status::OK, dtserver: at(2024, 2, 1), language: "ENG".into(), org: None, fid: None, intu_bid: None, intu_userid: None };
            let mut rw = ResponseWriter::start(Vec::new(), version, SgmlCharset::Utf8, &signon).unwrap();
            let mut st = rw.begin_statement(&TrnEcho { trnuid: "1".into(), cltcookie: None }, &h, true).unwrap();
            st.line(&l).unwrap();
            st.finish().unwrap();
            let (_, root) = parse_document(&rw.finish().unwrap()).unwrap();
            let t = root.path(&["BANKMSGSRSV1", "STMTTRNRS", "STMTRS", "BANKTRANLIST", "STMTTRN"]).unwrap();
            prop_assert_eq!(dec(t.leaf("TRNAMT").unwrap()), amount);
            let text = format!("{}{}", t.leaf("NAME").unwrap_or(""), t.leaf("MEMO").unwrap_or(""));
            prop_assert_eq!(squash(&text), squash(&description));
        }

        let (csv_out, _) = write_csv(Vec::new(), &h, [l.clone()]).unwrap();
        let mut r = csv::Reader::from_reader(csv_out.as_slice());
        let row = r.records().next().unwrap().unwrap();
        prop_assert_eq!(dec(&row[2]), amount);
        prop_assert_eq!(&row[4], description.as_str());

        let mut camt = Camt053Writer::new(Vec::new(), CamtVersion::V02, "m", at(2024, 2, 1)).unwrap();
        camt.begin_statement(&h, "s").unwrap();
        camt.line(&l).unwrap();
        let xml = String::from_utf8(camt.finish().unwrap()).unwrap();
        let amt = xml.split("<Ntry>").nth(1).unwrap().split("</Amt>").next().unwrap().rsplit('>').next().unwrap();
        let ind = if xml.split("<Ntry>").nth(1).unwrap().contains("<CdtDbtInd>DBIT") { -1 } else { 1 };
        prop_assert_eq!(dec(amt) * Decimal::from(ind), amount);

        let opts = Bai2Options { sender_id: "S".into(), receiver_id: "R".into(), file_id: "1".into(), created_at: at(2024, 2, 1), as_of: at(2024, 2, 1), group_currency: None };
        let mut bai = Bai2Writer::new(Vec::new(), &opts).unwrap();
        bai.begin_account(&h).unwrap();
        bai.line(&l).unwrap();
        let out = String::from_utf8(bai.finish().unwrap()).unwrap();
        let rec = out.lines().find(|r| r.starts_with("16,")).unwrap();
        let fields: Vec<&str> = rec.split(',').collect();
        let minor: i128 = fields[2].parse().unwrap();
        let sign = if fields[1].starts_with('6') || fields[1].starts_with('4') { -1 } else { 1 };
        prop_assert_eq!(Decimal::from_i128_with_scale(sign * minor, units), amount);
    }
}
