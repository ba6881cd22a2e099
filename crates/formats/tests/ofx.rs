//! OFX: the request reader on what real clients send, and the response writers parsed back.

mod common;

use bankfeeds_formats::ofx::header::parse_document;
use bankfeeds_formats::ofx::response::{AccountInfo, TrnKind};
use bankfeeds_formats::ofx::tree::Element;
use bankfeeds_formats::ofx::writer::SgmlCharset;
use bankfeeds_formats::ofx::*;
use bankfeeds_formats::{AccountKind, BankAccountType, FormatError};
use chrono::{TimeZone, Utc};
use common::*;

const OFXCLIENT_102: &str = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n<SIGNONMSGSRQV1>\r\n<SONRQ>\r\n<DTCLIENT>20261121045705\r\n<USERID>alice\r\n<USERPASS>p&amp;w\r\n\r\n<LANGUAGE>ENG\r\n<FI>\r\n<ORG>HUB\r\n<FID>9999\r\n</FI>\r\n<APPID>QWIN\r\n<APPVER>2500\r\n</SONRQ>\r\n</SIGNONMSGSRQV1>\r\n<BANKMSGSRQV1>\r\n<STMTTRNRQ>\r\n<TRNUID>abc-1\r\n<CLTCOOKIE>4\r\n<STMTRQ>\r\n<BANKACCTFROM>\r\n<BANKID>123456789\r\n<ACCTID>1001\r\n<ACCTTYPE>CHECKING\r\n</BANKACCTFROM>\r\n<INCTRAN>\r\n<DTSTART>20261022\r\n<INCLUDE>Y\r\n</INCTRAN>\r\n</STMTRQ>\r\n</STMTTRNRQ>\r\n</BANKMSGSRQV1>\r\n</OFX>\r\n";

const OFXTOOLS_220: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="2b4c"?>
<OFX><SIGNONMSGSRQV1><SONRQ><DTCLIENT>20261121045627.000[+0:UTC]</DTCLIENT><USERID>alice</USERID><USERPASS>pw</USERPASS><LANGUAGE>ENG</LANGUAGE><FI><ORG>HUB</ORG><FID>9999</FID></FI><APPID>QWIN</APPID><APPVER>2700</APPVER><CLIENTUID>uid-1</CLIENTUID></SONRQ></SIGNONMSGSRQV1>
<SIGNUPMSGSRQV1><ACCTINFOTRNRQ><TRNUID>t0</TRNUID><ACCTINFORQ><DTACCTUP>19900101000000.000[+0:UTC]</DTACCTUP></ACCTINFORQ></ACCTINFOTRNRQ></SIGNUPMSGSRQV1>
<BANKMSGSRQV1><STMTTRNRQ><TRNUID>t1</TRNUID><STMTRQ><BANKACCTFROM><BANKID>123456789</BANKID><ACCTID>1001</ACCTID><ACCTTYPE>SAVINGS</ACCTTYPE></BANKACCTFROM><INCTRAN><DTSTART>20240101000000.000[-5:EST]</DTSTART><DTEND>20240131</DTEND><INCLUDE>N</INCLUDE></INCTRAN></STMTRQ></STMTTRNRQ></BANKMSGSRQV1>
<CREDITCARDMSGSRQV1><CCSTMTTRNRQ><TRNUID>t2</TRNUID><CLTCOOKIE>c</CLTCOOKIE><CCSTMTRQ><CCACCTFROM><ACCTID>4111000011112222</ACCTID></CCACCTFROM><INCTRAN><INCLUDE>Y</INCLUDE></INCTRAN></CCSTMTRQ></CCSTMTTRNRQ></CREDITCARDMSGSRQV1>
<PROFMSGSRQV1><PROFTRNRQ><TRNUID>t3</TRNUID><PROFRQ><CLIENTROUTING>NONE</CLIENTROUTING><DTPROFUP>19900101</DTPROFUP></PROFRQ></PROFTRNRQ></PROFMSGSRQV1>
</OFX>"#;

#[test]
fn reads_ofxclient_sgml_with_unclosed_leaves_and_no_dtend() {
    let r = parse_request(OFXCLIENT_102.as_bytes()).unwrap();
    assert_eq!(r.version, OfxVersion::V102);
    assert_eq!(r.signon.user_id, "alice");
    assert_eq!(r.signon.user_pass, "p&w");
    assert_eq!(r.signon.org.as_deref(), Some("HUB"));
    assert_eq!(r.signon.fid.as_deref(), Some("9999"));
    assert_eq!(r.signon.app_ver.as_deref(), Some("2500"));
    assert_eq!(r.transactions.len(), 1);
    let t = &r.transactions[0];
    assert_eq!(
        (t.trnuid.as_str(), t.cltcookie.as_deref()),
        ("abc-1", Some("4"))
    );
    assert_eq!(
        t.body,
        RequestBody::BankStatement {
            bank_id: "123456789".into(),
            branch_id: None,
            acct_id: "1001".into(),
            acct_type: BankAccountType::Checking,
            inctran: Some(IncTran {
                dtstart: Some(Utc.with_ymd_and_hms(2026, 10, 22, 0, 0, 0).unwrap()),
                dtend: None,
                include: true,
            }),
        }
    );
}

#[test]
fn reads_ofxtools_xml_with_every_request() {
    let r = parse_request(OFXTOOLS_220.as_bytes()).unwrap();
    assert_eq!(r.version, OfxVersion::V220);
    assert_eq!(r.signon.client_uid.as_deref(), Some("uid-1"));
    let kinds: Vec<TrnKind> = r
        .transactions
        .iter()
        .map(|t| TrnKind::of(&t.body))
        .collect();
    assert_eq!(
        kinds,
        [
            TrnKind::AccountInfo,
            TrnKind::BankStatement,
            TrnKind::CardStatement,
            TrnKind::Profile
        ]
    );
    match &r.transactions[1].body {
        RequestBody::BankStatement {
            acct_type,
            inctran: Some(inc),
            ..
        } => {
            assert_eq!(*acct_type, BankAccountType::Savings);
            assert!(!inc.include);
            assert_eq!(
                inc.dtstart,
                Some(Utc.with_ymd_and_hms(2024, 1, 1, 5, 0, 0).unwrap())
            );
            assert_eq!(
                inc.dtend,
                Some(Utc.with_ymd_and_hms(2024, 1, 31, 0, 0, 0).unwrap())
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.transactions[2].cltcookie.as_deref(), Some("c"));
    let order: Vec<&str> = r
        .in_response_order()
        .iter()
        .map(|t| t.trnuid.as_str())
        .collect();
    assert_eq!(order, ["t0", "t1", "t2", "t3"]);
}

#[test]
fn anonymous_profile_signon_is_recognised() {
    let body = OFXCLIENT_102.replace("<USERID>alice", "<USERID>anonymous00000000000000000000000");
    assert!(parse_request(body.as_bytes())
        .unwrap()
        .signon
        .is_anonymous());
    assert!(!parse_request(OFXCLIENT_102.as_bytes())
        .unwrap()
        .signon
        .is_anonymous());
}

#[test]
fn malformed_requests_are_errors() {
    for bad in [
        "",
        "hello",
        "OFXHEADER:100\r\nVERSION:999\r\n\r\n<OFX></OFX>",
        "OFXHEADER:100\r\nVERSION:102\r\n\r\n<OFX><SIGNONMSGSRQV1></OFX>x",
        "OFXHEADER:100\r\nVERSION:102\r\n\r\n<OFX></OFX>",
        "<?xml version=\"1.0\"?><OFX></OFX>",
        "<?xml version=\"1.0\"?><?OFX OFXHEADER=\"200\" VERSION=\"220\"?><OFX><A></B></OFX>",
    ] {
        assert!(parse_request(bad.as_bytes()).is_err(), "{bad:?}");
    }
    let bad_date = OFXCLIENT_102.replace("<DTSTART>20261022", "<DTSTART>2026-10-22");
    assert!(matches!(
        parse_request(bad_date.as_bytes()),
        Err(OfxParseError::Value {
            element: "DTSTART",
            ..
        })
    ));
}

fn signon(version_org: bool) -> SignonResponse {
    SignonResponse {
        status: Status::OK,
        dtserver: at(2024, 2, 1),
        language: "ENG".into(),
        org: version_org.then(|| "HUB".into()),
        fid: version_org.then(|| "9999".into()),
        intu_bid: None,
        intu_userid: None,
    }
}

/// Writes every kind of answer in `version` and returns the parsed-back root.
fn full_response(version: OfxVersion) -> Element {
    let samples = samples();
    let mut rw =
        ResponseWriter::start(Vec::new(), version, SgmlCharset::Utf8, &signon(true)).unwrap();
    let echo = |id: &str, c: Option<&str>| TrnEcho {
        trnuid: id.into(),
        cltcookie: c.map(Into::into),
    };
    let infos = samples.iter().map(|(h, _)| AccountInfo {
        account: &h.account,
    });
    rw.account_info(&echo("a", None), at(2024, 2, 1), infos)
        .unwrap();
    for (i, (h, lines)) in samples
        .iter()
        .enumerate()
        .filter(|(_, (h, _))| h.account.kind != AccountKind::Card)
    {
        let mut st = rw
            .begin_statement(&echo(&format!("s{i}"), Some("ck")), h, true)
            .unwrap();
        lines.iter().try_for_each(|l| st.line(l)).unwrap();
        st.finish().unwrap();
    }
    rw.error(
        &TrnKind::BankStatement,
        &echo("missing", None),
        &Status::new(2003, "no such account"),
    )
    .unwrap();
    for (i, (h, lines)) in samples
        .iter()
        .enumerate()
        .filter(|(_, (h, _))| h.account.kind == AccountKind::Card)
    {
        let mut st = rw
            .begin_statement(&echo(&format!("c{i}"), None), h, i != 1)
            .unwrap();
        lines.iter().try_for_each(|l| st.line(l)).unwrap();
        st.finish().unwrap();
    }
    let profile = Profile {
        url: "https://hub.example/ofx/org_1".into(),
        fi_name: "Hub Bank".into(),
        addr1: "1 Main St".into(),
        city: "Springfield".into(),
        state: "IL".into(),
        postal_code: "62701".into(),
        country: "USA".into(),
        dtprofup: at(2024, 1, 1),
    };
    rw.profile(&echo("p", None), &profile).unwrap();
    let out = rw.finish().unwrap();
    let (v, root) = parse_document(&out).unwrap();
    assert_eq!(v, version);
    root
}

fn leaf<'a>(e: &'a Element, path: &[&str]) -> &'a str {
    e.path(path)
        .and_then(|x| x.text.as_deref())
        .unwrap_or_else(|| panic!("{path:?} in {e:?}"))
}

#[test]
fn responses_round_trip_in_both_families() {
    for version in [
        OfxVersion::V102,
        OfxVersion::from_number(160).unwrap(),
        OfxVersion::V220,
        OfxVersion::from_number(203).unwrap(),
    ] {
        let root = full_response(version);
        let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "SIGNONMSGSRSV1",
                "SIGNUPMSGSRSV1",
                "BANKMSGSRSV1",
                "CREDITCARDMSGSRSV1",
                "PROFMSGSRSV1"
            ]
        );
        assert_eq!(
            leaf(&root, &["SIGNONMSGSRSV1", "SONRS", "STATUS", "CODE"]),
            "0"
        );
        let infos = root
            .path(&["SIGNUPMSGSRSV1", "ACCTINFOTRNRS", "ACCTINFORS"])
            .unwrap();
        assert_eq!(infos.children_named("ACCTINFO").count(), 4);
        for info in infos.children_named("ACCTINFO") {
            let agg = info
                .child("BANKACCTINFO")
                .or(info.child("CCACCTINFO"))
                .unwrap();
            assert_eq!(agg.leaf("SVCSTATUS"), Some("ACTIVE"));
        }
        let bank = root.child("BANKMSGSRSV1").unwrap();
        let trns: Vec<&Element> = bank.children_named("STMTTRNRS").collect();
        assert_eq!(trns.len(), 3);
        assert_eq!(trns[0].leaf("CLTCOOKIE"), Some("ck"));
        assert_eq!(trns[2].leaf("TRNUID"), Some("missing"));
        assert_eq!(leaf(trns[2], &["STATUS", "CODE"]), "2003");
        assert!(trns[2].child("STMTRS").is_none());
        let samples = samples();
        let (h, lines) = &samples[0];
        let rs = trns[0].child("STMTRS").unwrap();
        let order: Vec<&str> = rs.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            order,
            [
                "CURDEF",
                "BANKACCTFROM",
                "BANKTRANLIST",
                "LEDGERBAL",
                "AVAILBAL"
            ]
        );
        assert_eq!(leaf(rs, &["LEDGERBAL", "BALAMT"]), "1357.49");
        assert_eq!(leaf(rs, &["AVAILBAL", "BALAMT"]), "1300.00");
        assert_eq!(leaf(rs, &["BANKACCTFROM", "ACCTTYPE"]), "CHECKING");
        let stmttrns: Vec<&Element> = rs
            .child("BANKTRANLIST")
            .unwrap()
            .children_named("STMTTRN")
            .collect();
        assert_eq!(stmttrns.len(), lines.len());
        for (e, l) in stmttrns.iter().zip(lines) {
            assert_eq!(e.leaf("FITID"), Some(l.transaction_id.as_str()));
            assert_eq!(dec(e.leaf("TRNAMT").unwrap()), l.amount);
            let order: Vec<&str> = e.children.iter().map(|c| c.name.as_str()).collect();
            let allowed = [
                "TRNTYPE", "DTPOSTED", "DTUSER", "TRNAMT", "FITID", "CHECKNUM", "NAME", "MEMO",
            ];
            let idx: Vec<usize> = order
                .iter()
                .map(|n| allowed.iter().position(|a| a == n).unwrap())
                .collect();
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "{order:?}");
            assert!(e.leaf("NAME").unwrap().chars().count() <= 32);
        }
        assert_eq!(stmttrns[0].leaf("NAME"), Some("Café Crème, Zürich"));
        assert_eq!(stmttrns[2].leaf("NAME"), Some("Landlord & Co <rent>"));
        assert_eq!(stmttrns[2].leaf("CHECKNUM"), Some("1045"));
        assert_eq!(stmttrns[2].leaf("TRNTYPE"), Some("CHECK"));
        let long = &lines[3].description;
        let joined = format!(
            "{}{}",
            stmttrns[3].leaf("NAME").unwrap(),
            stmttrns[3].leaf("MEMO").unwrap()
        );
        assert_eq!(joined.replace(' ', ""), long.replace(' ', ""));
        let _ = h;
        let cards: Vec<&Element> = root
            .child("CREDITCARDMSGSRSV1")
            .unwrap()
            .children_named("CCSTMTTRNRS")
            .collect();
        assert_eq!(cards.len(), 2);
        let jpy = cards[0].child("CCSTMTRS").unwrap();
        assert!(
            jpy.child("BANKTRANLIST").is_none(),
            "INCLUDE=N has no transaction list"
        );
        assert_eq!(leaf(jpy, &["LEDGERBAL", "BALAMT"]), "-24800");
        assert_eq!(leaf(jpy, &["CCACCTFROM", "ACCTID"]), "4111000011112222");
        let prof = root
            .path(&["PROFMSGSRSV1", "PROFTRNRS", "PROFRS", "MSGSETLIST"])
            .unwrap();
        for set in &prof.children {
            let core = set.children[0].child("MSGSETCORE").unwrap();
            assert_eq!(core.leaf("URL"), Some("https://hub.example/ofx/org_1"));
        }
    }
}

#[test]
fn sign_on_failure_writes_only_sonrs() {
    let mut s = signon(false);
    s.status = Status::new(15500, "bad credentials");
    let out = ResponseWriter::start(Vec::new(), OfxVersion::V102, SgmlCharset::Utf8, &s)
        .unwrap()
        .finish()
        .unwrap();
    let (_, root) = parse_document(&out).unwrap();
    assert_eq!(root.children.len(), 1);
    assert_eq!(
        leaf(&root, &["SIGNONMSGSRSV1", "SONRS", "STATUS", "CODE"]),
        "15500"
    );
    assert_eq!(
        leaf(&root, &["SIGNONMSGSRSV1", "SONRS", "STATUS", "SEVERITY"]),
        "ERROR"
    );
}

#[test]
fn unsupported_requests_are_answered_in_their_own_wrappers() {
    let body = OFXCLIENT_102.replace(
        "</BANKMSGSRQV1>",
        "<STMTENDTRNRQ><TRNUID>e1<STMTENDRQ><X>1</STMTENDRQ></STMTENDTRNRQ></BANKMSGSRQV1>\
         <INVSTMTMSGSRQV1><INVSTMTTRNRQ><TRNUID>i1<INVSTMTRQ><Y>2</INVSTMTRQ></INVSTMTTRNRQ></INVSTMTMSGSRQV1>",
    );
    let r = parse_request(body.as_bytes()).unwrap();
    assert_eq!(
        r.transactions[1].body,
        RequestBody::Unsupported {
            message_set: "BANKMSGSRQV1".into(),
            transaction: "STMTENDTRNRQ".into(),
            request: Some("STMTENDRQ".into()),
        }
    );
    let mut rw =
        ResponseWriter::start(Vec::new(), r.version, SgmlCharset::Utf8, &signon(false)).unwrap();
    for t in r.in_response_order() {
        rw.error(
            &TrnKind::of(&t.body),
            &TrnEcho::from(t),
            &Status::new(2000, "no"),
        )
        .unwrap();
    }
    let (_, root) = parse_document(&rw.finish().unwrap()).unwrap();
    let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["SIGNONMSGSRSV1", "BANKMSGSRSV1", "INVSTMTMSGSRSV1"]);
    let bank: Vec<&str> = root.children[1]
        .children
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(bank, ["STMTTRNRS", "STMTENDTRNRS"]);
    assert_eq!(
        leaf(&root, &["INVSTMTMSGSRSV1", "INVSTMTTRNRS", "TRNUID"]),
        "i1"
    );
}

#[test]
fn message_sets_out_of_order_are_refused() {
    let mut rw = ResponseWriter::start(
        Vec::new(),
        OfxVersion::V220,
        SgmlCharset::Utf8,
        &signon(false),
    )
    .unwrap();
    let e = TrnEcho {
        trnuid: "1".into(),
        cltcookie: None,
    };
    rw.error(&TrnKind::CardStatement, &e, &Status::new(2003, "x"))
        .unwrap();
    assert!(matches!(
        rw.error(&TrnKind::BankStatement, &e, &Status::new(2003, "x")),
        Err(FormatError::Usage(_))
    ));
}

#[test]
fn web_connect_file_looks_like_a_banks() {
    let samples = samples();
    let (h, lines) = &samples[0];
    let opts = WebConnectOptions {
        org: "HUB".into(),
        fid: "9999".into(),
        intu_bid: Some("3000".into()),
        intu_userid: None,
        dtserver: at(2024, 2, 1),
        charset: SgmlCharset::Windows1252,
    };
    let (out, totals) = write_web_connect(Vec::new(), &opts, h, lines.iter().cloned()).unwrap();
    assert_eq!(totals.count, 5);
    assert!(out.starts_with(b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n"));
    assert!(out.windows(12).any(|w| w == b"CHARSET:1252"));
    let (v, root) = parse_document(&out).unwrap();
    assert_eq!(v, OfxVersion::V102);
    let sonrs = root.path(&["SIGNONMSGSRSV1", "SONRS"]).unwrap();
    let order: Vec<&str> = sonrs.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(order, ["STATUS", "DTSERVER", "LANGUAGE", "FI", "INTU.BID"]);
    // Windows-1252 bytes come back as Latin-1 characters.
    let first = root
        .path(&[
            "BANKMSGSRSV1",
            "STMTTRNRS",
            "STMTRS",
            "BANKTRANLIST",
            "STMTTRN",
        ])
        .unwrap();
    assert_eq!(first.leaf("NAME"), Some("Café Crème, Zürich"));
}

/// The TRNUID rule compares these: the same request in SGML with unclosed leaves and in XML has
/// one canonical text; another range, account or request has another.
#[test]
fn canonical_requests_ignore_the_family_and_see_what_is_asked() {
    let sgml = parse_request(OFXCLIENT_102.as_bytes()).unwrap();
    let xml_text = OFXCLIENT_102
        .split_once("\r\n\r\n")
        .unwrap()
        .1
        .replace(
            "<DTCLIENT>20261121045705\r\n",
            "<DTCLIENT>20261121045705</DTCLIENT>",
        )
        .replace("<USERID>alice\r\n", "<USERID>alice</USERID>")
        .replace("<USERPASS>p&amp;w\r\n", "<USERPASS>p&amp;w</USERPASS>")
        .replace("<LANGUAGE>ENG\r\n", "<LANGUAGE>ENG</LANGUAGE>")
        .replace("<ORG>HUB\r\n", "<ORG>HUB</ORG>")
        .replace("<FID>9999\r\n", "<FID>9999</FID>")
        .replace("<APPID>QWIN\r\n", "<APPID>QWIN</APPID>")
        .replace("<APPVER>2500\r\n", "<APPVER>2500</APPVER>")
        .replace("<TRNUID>abc-1\r\n", "<TRNUID>abc-1</TRNUID>")
        .replace("<CLTCOOKIE>4\r\n", "<CLTCOOKIE>4</CLTCOOKIE>")
        .replace("<BANKID>123456789\r\n", "<BANKID>123456789</BANKID>")
        .replace("<ACCTID>1001\r\n", "<ACCTID>1001</ACCTID>")
        .replace("<ACCTTYPE>CHECKING\r\n", "<ACCTTYPE>CHECKING</ACCTTYPE>")
        .replace(
            "<DTSTART>20261022\r\n",
            "<DTSTART>20261022000000.000[0:GMT]</DTSTART>",
        )
        .replace("<INCLUDE>Y\r\n", "<INCLUDE>Y</INCLUDE>");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\
         <?OFX OFXHEADER=\"200\" VERSION=\"220\" SECURITY=\"NONE\" OLDFILEUID=\"NONE\" \
         NEWFILEUID=\"NONE\"?>{xml_text}"
    );
    let xml = parse_request(xml.as_bytes()).unwrap();
    let canonical = |r: &OfxRequest| r.transactions[0].body.canonical();
    assert_eq!(canonical(&sgml), canonical(&xml));
    let other_range = OFXCLIENT_102.replace("<DTSTART>20261022", "<DTSTART>20261023");
    let other_range = parse_request(other_range.as_bytes()).unwrap();
    assert_ne!(canonical(&sgml), canonical(&other_range));
    let other_account = OFXCLIENT_102.replace("<ACCTID>1001", "<ACCTID>1002");
    let other_account = parse_request(other_account.as_bytes()).unwrap();
    assert_ne!(canonical(&sgml), canonical(&other_account));
    let balances_only = OFXCLIENT_102.replace("<INCLUDE>Y", "<INCLUDE>N");
    let balances_only = parse_request(balances_only.as_bytes()).unwrap();
    assert_ne!(canonical(&sgml), canonical(&balances_only));
}
