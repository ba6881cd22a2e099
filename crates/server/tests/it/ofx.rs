//! The OFX Direct Connect door: credentials through the Rutter door, then real OFX requests
//! (1.x SGML and 2.x XML) posted to `/ofx/:org_id` and the answers read back with the formats
//! crate's OFX reader.

use bankfeeds_formats::ofx::header::parse_document;
use bankfeeds_formats::ofx::tree::Element;
use bankfeeds_formats::ofx::Family;
use serde_json::{json, Value};

use crate::helpers::{ok, refuses, with_token, Creds, Hub, Sandbox, ACCOUNTS, TRANSACTIONS};
use crate::link_flow::list_bank;

crate::on_both_backends!(
    ofx_connections_are_active_and_their_credentials_replaced_and_revoked,
    direct_connect_answers_profile_accounts_and_statements_in_both_families,
    bad_signons_are_refused_and_repeated_ones_lock_the_user,
    what_is_not_ofx_is_a_400_and_never_a_5xx,
    failed_signons_count_against_the_client_address,
    http_1_0_with_a_portless_host_is_answered,
    no_sandbox_or_link_page_offers_ofx_direct_connect,
    ofxclient_shaped_requests_are_answered,
    a_trnuid_reused_for_another_request_gets_2019_and_a_retry_is_answered,
    a_balance_never_reported_is_a_zero_the_status_explains,
    the_fi_configuration_names_the_fid_and_bank_id,
    a_disabled_organisation_is_refused_on_every_door_until_enabled,
);

const ANON: &str = "anonymous00000000000000000000000";

fn creds_path(id: &str) -> String {
    format!("/versioned/connections/{id}/ofx_credentials")
}

/// Asks for a new set of OFX credentials for the connection `id`.
async fn issue_credentials(hub: &Hub, bank: &Creds, id: &str) -> reqwest::Response {
    hub.post(bank, &creds_path(id), &json!({}))
        .send()
        .await
        .unwrap()
}

/// The user id and password of OFX credentials as the API answered them.
fn user_and_password(creds: &Value) -> (&str, &str) {
    let user = creds["user_id"].as_str().unwrap();
    (user, creds["password"].as_str().unwrap())
}

/// An OFX request in `version` (102 SGML or 220 XML) with `sets` (closed-tag message sets).
fn request(version: u16, user: &str, pass: &str, sets: &str) -> String {
    let body = format!(
        "<OFX><SIGNONMSGSRQV1><SONRQ><DTCLIENT>20240201120000</DTCLIENT><USERID>{user}</USERID>\
         <USERPASS>{pass}</USERPASS><LANGUAGE>ENG</LANGUAGE><FI><ORG>X</ORG><FID>1</FID></FI>\
         <APPID>QWIN</APPID><APPVER>2700</APPVER></SONRQ></SIGNONMSGSRQV1>{sets}</OFX>"
    );
    if version < 200 {
        format!(
            "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:{version}\r\nSECURITY:NONE\r\n\
             ENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\n\
             NEWFILEUID:NONE\r\n\r\n{body}"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\
             <?OFX OFXHEADER=\"200\" VERSION=\"{version}\" SECURITY=\"NONE\" OLDFILEUID=\"NONE\" \
             NEWFILEUID=\"NONE\"?>{body}"
        )
    }
}

fn stmt(trnuid: &str, acct: &str, inctran: &str) -> String {
    format!(
        "<BANKMSGSRQV1><STMTTRNRQ><TRNUID>{trnuid}</TRNUID><CLTCOOKIE>c-{trnuid}</CLTCOOKIE>\
         <STMTRQ><BANKACCTFROM><BANKID>000000000</BANKID><ACCTID>{acct}</ACCTID>\
         <ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>{inctran}</STMTRQ></STMTTRNRQ></BANKMSGSRQV1>"
    )
}

fn ccstmt(trnuid: &str, acct: &str, inctran: &str) -> String {
    format!(
        "<CREDITCARDMSGSRQV1><CCSTMTTRNRQ><TRNUID>{trnuid}</TRNUID><CCSTMTRQ><CCACCTFROM>\
         <ACCTID>{acct}</ACCTID></CCACCTFROM>{inctran}</CCSTMTRQ></CCSTMTTRNRQ></CREDITCARDMSGSRQV1>"
    )
}

const PROF: &str = "<PROFMSGSRQV1><PROFTRNRQ><TRNUID>p1</TRNUID><PROFRQ>\
    <CLIENTROUTING>NONE</CLIENTROUTING><DTPROFUP>19900101</DTPROFUP></PROFRQ></PROFTRNRQ>\
    </PROFMSGSRQV1>";
const ACCTINFO: &str = "<SIGNUPMSGSRQV1><ACCTINFOTRNRQ><TRNUID>a1</TRNUID><ACCTINFORQ>\
    <DTACCTUP>19900101</DTACCTUP></ACCTINFORQ></ACCTINFOTRNRQ></SIGNUPMSGSRQV1>";
const ALL: &str = "<INCTRAN><INCLUDE>Y</INCLUDE></INCTRAN>";

/// POSTs an OFX body; asserts a 200 `application/x-ofx` answer in `version`'s family; returns
/// its root element.
async fn post_ofx(hub: &Hub, url: &str, version: u16, body: String) -> Element {
    let resp = hub
        .http
        .post(url)
        .header("content-type", "application/x-ofx")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ofx");
    let bytes = resp.bytes().await.unwrap();
    let (v, root) = parse_document(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    assert_eq!(v.number, version);
    assert_eq!(v.family == Family::Xml, version >= 200);
    root
}

/// Sends the request `sets` in OFX `version`, signed on as `user`; the answer's root, checked
/// as [`post_ofx`] does.
async fn ask(hub: &Hub, url: &str, version: u16, user: &str, pass: &str, sets: &str) -> Element {
    post_ofx(hub, url, version, request(version, user, pass, sets)).await
}

fn leaf<'a>(e: &'a Element, path: &[&str]) -> &'a str {
    let (last, parents) = path.split_last().unwrap();
    e.path(parents)
        .and_then(|p| p.leaf(last))
        .unwrap_or_else(|| panic!("no {path:?} in {e:#?}"))
}

fn signon_code(root: &Element) -> &str {
    leaf(root, &["SIGNONMSGSRSV1", "SONRS", "STATUS", "CODE"])
}

/// The `xxxTRNRS` of `set` answering `trnuid`.
fn trn<'a>(root: &'a Element, set: &str, trnuid: &str) -> &'a Element {
    root.child(set)
        .and_then(|s| s.children.iter().find(|t| t.leaf("TRNUID") == Some(trnuid)))
        .unwrap_or_else(|| panic!("no answer to {trnuid} in {set}"))
}

/// An OFX_DIRECT_CONNECT connection with a checking account and a card, each with pushed
/// transactions, and its credentials: `(org, token, credentials)`.
async fn fixture(hub: &Hub) -> (Creds, String, Value) {
    let bank = hub.org("Demo Bank").await;
    let (id, token) = hub.connection(&bank, "OFX_DIRECT_CONNECT").await;
    let checking = hub
        .create_account(
            &bank,
            &token,
            json!({"internal_bank_account_id": "1001", "bank_account_type": "bank",
                   "currency_code": "USD", "name": "Operating", "current_balance": 1000.5,
                   "available_balance": 900, "routing_number": "123456789"}),
        )
        .await;
    assert_eq!(checking["feed_status"], "active", "no link step for OFX");
    assert_eq!(checking["transaction_ready"], true);
    let card = hub
        .create_account(
            &bank,
            &token,
            json!({"internal_bank_account_id": "4111", "bank_account_type": "credit_card",
                   "currency_code": "USD", "name": "Card", "current_balance": -75}),
        )
        .await;
    let push = |account: &Value, txs: Value| json!({"bank_feed_transactions": {"bank_feed_account_id": account["id"], "transactions": txs}});
    let day = |d: u32| format!("2024-01-{d:02}T10:00:00Z");
    let long = "A payee name much longer than thirty-two characters";
    ok(hub
        .post(
            &bank,
            &with_token(TRANSACTIONS, &token),
            &push(
                &checking,
                json!([
                    {"transaction_id": "C1", "posted_at": day(5), "amount": -20.25,
                     "description": long, "debit_credit_memo": "DEBIT", "transaction_type": "fee"},
                    {"transaction_id": "C2", "posted_at": day(10), "amount": 500,
                     "description": "Client payment", "debit_credit_memo": "CREDIT"},
                    {"transaction_id": "C3", "posted_at": day(20), "amount": -5,
                     "description": "Coffee", "debit_credit_memo": "DEBIT"},
                ]),
            ),
        )
        .send()
        .await)
    .await;
    ok(hub
        .post(
            &bank,
            &with_token(TRANSACTIONS, &token),
            &push(
                &card,
                json!([{"transaction_id": "K1", "posted_at": day(7), "amount": -75,
                        "description": "Hotel", "debit_credit_memo": "DEBIT"}]),
            ),
        )
        .send()
        .await)
    .await;
    let resp = issue_credentials(hub, &bank, &id).await;
    assert_eq!(resp.status(), 201);
    let creds: Value = resp.json().await.unwrap();
    (bank, token, creds["ofx_credentials"].clone())
}

async fn ofx_connections_are_active_and_their_credentials_replaced_and_revoked(hub: Hub) {
    let (bank, token, first) = fixture(&hub).await;
    let url = first["url"].as_str().unwrap();
    assert_eq!(url, hub.url(&format!("/ofx/{}", bank.org.id)));
    assert_eq!(first["org"], "Demo Bank");
    assert_eq!(
        (&first["fid"], &first["bank_id"]),
        (&json!("1"), &json!("000000000"))
    );
    let (user, pass) = user_and_password(&first);
    assert!(user.len() <= 32 && pass.len() <= 32);
    let signon = |user: &str, pass: &str| request(102, user, pass, ACCTINFO);
    assert_eq!(
        signon_code(&post_ofx(&hub, url, 102, signon(user, pass)).await),
        "0"
    );

    // A new set replaces the old one; the FI's configuration names the institution.
    list_bank(&hub, &bank, "OFX_DIRECT_CONNECT").await;
    let id = hub.connection_by_token(&bank, &token).await["connection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = issue_credentials(&hub, &bank, &id).await;
    assert_eq!(resp.status(), 201);
    let second = resp.json::<Value>().await.unwrap()["ofx_credentials"].clone();
    assert_eq!(second["org"], "Demo Bank");
    assert_ne!(second["user_id"], first["user_id"]);
    assert_eq!(
        signon_code(&post_ofx(&hub, url, 102, signon(user, pass)).await),
        "15500"
    );
    let (user2, pass2) = user_and_password(&second);
    assert_eq!(
        signon_code(&post_ofx(&hub, url, 102, signon(user2, pass2)).await),
        "0"
    );

    // Revoked: refused from then on; a second revoke finds nothing.
    ok(hub.delete(&bank, &creds_path(&id)).send().await).await;
    assert_eq!(
        signon_code(&post_ofx(&hub, url, 102, signon(user2, pass2)).await),
        "15500"
    );
    refuses(
        hub.delete(&bank, &creds_path(&id)),
        410,
        "OFX_CREDENTIALS_NOT_FOUND",
    )
    .await;

    // Only for OFX_DIRECT_CONNECT connections, only the organisation's own.
    let (qbo, _) = hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    refuses(
        hub.post(&bank, &creds_path(&qbo), &json!({})),
        409,
        "NOT_AN_OFX_CONNECTION",
    )
    .await;
    refuses(
        hub.post(&bank, &creds_path("nope"), &json!({})),
        400,
        "INVALID_ID",
    )
    .await;
    let other = hub.org("Other Bank").await;
    refuses(
        hub.post(&other, &creds_path(&id), &json!({})),
        410,
        "CONNECTION_NOT_FOUND",
    )
    .await;
    // Deleting the connection takes its credentials with it.
    let resp = issue_credentials(&hub, &bank, &id).await;
    let third = resp.json::<Value>().await.unwrap()["ofx_credentials"].clone();
    ok(hub
        .delete(&bank, &format!("/versioned/connections/{id}"))
        .send()
        .await)
    .await;
    let (u3, p3) = user_and_password(&third);
    assert_eq!(
        signon_code(&post_ofx(&hub, url, 102, signon(u3, p3)).await),
        "15500"
    );
}

async fn direct_connect_answers_profile_accounts_and_statements_in_both_families(hub: Hub) {
    let (bank, token, c) = fixture(&hub).await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    for version in [102, 220] {
        // Anonymous profile: every message set on the one URL.
        let root = ask(&hub, url, version, ANON, ANON, PROF).await;
        assert_eq!(signon_code(&root), "0");
        let prof = trn(&root, "PROFMSGSRSV1", "p1");
        let sets = prof.path(&["PROFRS", "MSGSETLIST"]).unwrap();
        assert_eq!(sets.children.len(), 5);
        for s in &sets.children {
            assert_eq!(leaf(&s.children[0], &["MSGSETCORE", "URL"]), url);
        }

        let root = ask(&hub, url, version, user, pass, ACCTINFO).await;
        let rs = trn(&root, "SIGNUPMSGSRSV1", "a1")
            .child("ACCTINFORS")
            .unwrap();
        let infos: Vec<_> = rs.children_named("ACCTINFO").collect();
        assert_eq!(infos.len(), 2);
        let bank_info = infos.iter().find_map(|i| i.child("BANKACCTINFO")).unwrap();
        assert_eq!(leaf(bank_info, &["BANKACCTFROM", "ACCTID"]), "1001");
        assert_eq!(leaf(bank_info, &["BANKACCTFROM", "BANKID"]), "123456789");
        assert_eq!(leaf(bank_info, &["BANKACCTFROM", "ACCTTYPE"]), "CHECKING");
        assert_eq!(leaf(bank_info, &["SVCSTATUS"]), "ACTIVE");
        let card_info = infos.iter().find_map(|i| i.child("CCACCTINFO")).unwrap();
        assert_eq!(leaf(card_info, &["CCACCTFROM", "ACCTID"]), "4111");

        // Several requests in one POST, each answered by its TRNUID.
        let from = "<INCTRAN><DTSTART>20240108</DTSTART><INCLUDE>Y</INCLUDE></INCTRAN>";
        let balances_only = "<INCTRAN><INCLUDE>N</INCLUDE></INCTRAN>";
        let sets = format!(
            "{}{}",
            stmt("s1", "1001", ALL).replace("</BANKMSGSRQV1>", "")
                + &stmt("s2", "1001", from)
                    .replace("<BANKMSGSRQV1>", "")
                    .replace("</BANKMSGSRQV1>", "")
                + &stmt("s3", "1001", balances_only)
                    .replace("<BANKMSGSRQV1>", "")
                    .replace("</BANKMSGSRQV1>", "")
                + &stmt("s4", "9999", ALL).replace("<BANKMSGSRQV1>", ""),
            ccstmt("k1", "4111", ALL)
        );
        let root = ask(&hub, url, version, user, pass, &sets).await;
        let s1 = trn(&root, "BANKMSGSRSV1", "s1");
        assert_eq!(leaf(s1, &["CLTCOOKIE"]), "c-s1");
        let rs = s1.child("STMTRS").unwrap();
        assert_eq!(leaf(rs, &["CURDEF"]), "USD");
        let lines: Vec<_> = rs
            .path(&["BANKTRANLIST"])
            .unwrap()
            .children_named("STMTTRN")
            .collect();
        let fitids: Vec<_> = lines.iter().map(|l| l.leaf("FITID").unwrap()).collect();
        assert_eq!(fitids, ["C1", "C2", "C3"]);
        assert_eq!(leaf(lines[0], &["TRNAMT"]), "-20.25");
        assert_eq!(leaf(lines[0], &["TRNTYPE"]), "FEE");
        assert_eq!(leaf(lines[0], &["NAME"]).chars().count(), 32);
        assert!(leaf(lines[0], &["MEMO"]).contains("characters"));
        assert_eq!(leaf(lines[1], &["TRNAMT"]), "500.00");
        assert_eq!(leaf(rs, &["LEDGERBAL", "BALAMT"]), "1000.50");
        assert_eq!(leaf(rs, &["AVAILBAL", "BALAMT"]), "900.00");
        let s2 = trn(&root, "BANKMSGSRSV1", "s2").child("STMTRS").unwrap();
        let later: Vec<_> = s2
            .path(&["BANKTRANLIST"])
            .unwrap()
            .children_named("STMTTRN")
            .map(|l| l.leaf("FITID").unwrap())
            .collect();
        assert_eq!(later, ["C2", "C3"], "DTSTART bounds the list");
        let s3 = trn(&root, "BANKMSGSRSV1", "s3").child("STMTRS").unwrap();
        assert!(
            s3.child("BANKTRANLIST").is_none(),
            "INCLUDE=N: balances only"
        );
        assert_eq!(leaf(s3, &["LEDGERBAL", "BALAMT"]), "1000.50");
        let s4 = trn(&root, "BANKMSGSRSV1", "s4");
        assert_eq!(leaf(s4, &["STATUS", "CODE"]), "2003");
        assert!(s4.child("STMTRS").is_none());
        let k1 = trn(&root, "CREDITCARDMSGSRSV1", "k1")
            .child("CCSTMTRS")
            .unwrap();
        let card_lines: Vec<_> = k1
            .path(&["BANKTRANLIST"])
            .unwrap()
            .children_named("STMTTRN")
            .collect();
        assert_eq!(card_lines.len(), 1);
        assert_eq!(leaf(card_lines[0], &["TRNAMT"]), "-75.00");
        assert_eq!(leaf(k1, &["LEDGERBAL", "BALAMT"]), "-75.00");
    }

    // The downloads marked what they returned ingested, and the feeds synced.
    let ingested = ok(hub
        .get(
            &bank,
            &format!(
                "{}&platform_ingested=false",
                with_token(TRANSACTIONS, &token)
            ),
        )
        .send()
        .await)
    .await;
    assert_eq!(ingested["bank_feed_transactions"], json!([]), "{ingested}");
    let accounts = hub.get_ok(&bank, &with_token(ACCOUNTS, &token)).await;
    for a in accounts["bank_feed_accounts"].as_array().unwrap() {
        assert!(a["last_synced_at"].is_string(), "{a}");
    }
}

async fn bad_signons_are_refused_and_repeated_ones_lock_the_user(hub: Hub) {
    let (_, _, c) = fixture(&hub).await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    let sets = format!("{ACCTINFO}{}", stmt("s1", "1001", ALL));
    for version in [102, 220] {
        let root = ask(&hub, url, version, user, "wrong", &sets).await;
        assert_eq!(signon_code(&root), "15500");
        assert_eq!(
            root.children.len(),
            1,
            "no other message sets after a refused sign-on"
        );
    }
    let root = ask(&hub, url, 102, "bfnobody", pass, &sets).await;
    assert_eq!(signon_code(&root), "15500");
    // Anonymous is for the profile only.
    let root = ask(&hub, url, 102, ANON, ANON, &format!("{PROF}{sets}")).await;
    assert_eq!(signon_code(&root), "15500");
    // Five wrong passwords in a row (two above) lock the user, whatever the password.
    for _ in 0..3 {
        let root = ask(&hub, url, 102, user, "wrong", &sets).await;
        assert_eq!(signon_code(&root), "15500");
    }
    let root = ask(&hub, url, 220, user, pass, &sets).await;
    assert_eq!(signon_code(&root), "15502");
    assert_eq!(root.children.len(), 1);
}

async fn what_is_not_ofx_is_a_400_and_never_a_5xx(hub: Hub) {
    let (bank, _, c) = fixture(&hub).await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    let post = |url: String, body: Vec<u8>| {
        let http = hub.http.clone();
        async move {
            let resp = http.post(url).body(body).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    let (status, text) = post(url.to_owned(), b"{\"json\": true}".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("MALFORMED_OFX"), "{text}");
    assert_eq!(post(url.to_owned(), Vec::new()).await.0, 400);
    let (status, text) = post(
        hub.url(&format!("/ofx/{}", bankfeeds_domain::OrgId::new())),
        request(102, user, pass, ACCTINFO).into_bytes(),
    )
    .await;
    assert_eq!(
        (status, text.starts_with("ORGANISATION_NOT_FOUND")),
        (404, true)
    );
    assert_eq!(post(hub.url("/ofx/not-an-id"), Vec::new()).await.0, 404);
    assert_ne!(bank.org.id.to_string(), "");
    // Every prefix and a few corruptions of a valid request: a 200 OFX answer or a 400.
    for version in [102, 220] {
        let good = request(
            version,
            user,
            pass,
            &format!("{ACCTINFO}{}", stmt("s", "1001", ALL)),
        );
        let mut bodies: Vec<Vec<u8>> = (0..good.len())
            .step_by(7)
            .map(|n| good.as_bytes()[..n].to_vec())
            .collect();
        bodies.push(good.replace("<INCLUDE>Y", "<INCLUDE>Q").into_bytes());
        bodies.push(good.replace("20240201120000", "2024-02-01").into_bytes());
        bodies.push(good.replace("</SONRQ>", "").into_bytes());
        bodies.push(good.replace("<TRNUID>s</TRNUID>", "").into_bytes());
        let mut invalid = good.clone().into_bytes();
        invalid.insert(200.min(invalid.len()), 0xff);
        bodies.push(invalid);
        for body in bodies {
            let shown = String::from_utf8_lossy(&body).to_string();
            let (status, text) = post(url.to_owned(), body).await;
            assert!(
                status == 200 || status == 400,
                "{status} {text} for {shown}"
            );
        }
    }
}

async fn failed_signons_count_against_the_client_address(hub: Hub) {
    let (_, _, c) = fixture(&hub).await;
    let limited = Hub::start_with(
        hub.store.clone(),
        None,
        |s| {
            s.auth_failures = bankfeeds_server::client_limit::AuthFailures::per_minute(2)
                .map(std::sync::Arc::new);
        },
        0,
    )
    .await;
    let path = c["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&hub.base)
        .to_owned();
    let url = limited.url(&path);
    let (user, pass) = user_and_password(&c);
    for _ in 0..2 {
        let root = ask(&limited, &url, 102, "bfnobody", "x", ACCTINFO).await;
        assert_eq!(signon_code(&root), "15500");
    }
    let resp = limited
        .http
        .post(&url)
        .body(request(102, "bfnobody", "x", ACCTINFO))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    // Blocked before the credentials are looked at, even good ones.
    let resp = limited
        .http
        .post(&url)
        .body(request(102, user, pass, ACCTINFO))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
}

/// aqbanking speaks HTTP/1.0 with `Content-length` and a `Host` header without the port, and
/// spells its content type as it likes.
async fn http_1_0_with_a_portless_host_is_answered(hub: Hub) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_, _, c) = fixture(&hub).await;
    let path = c["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&hub.base)
        .to_owned();
    let (user, pass) = user_and_password(&c);
    // aqbanking's own shape: unclosed leaves, no time zone, a separate balance-only request.
    let body = request(
        102,
        user,
        pass,
        &stmt(
            "aq-1",
            "1001",
            "<INCTRAN><DTSTART>20240101000000.000<INCLUDE>N</INCTRAN>",
        ),
    );
    let head = format!(
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: AqBanking\r\n\
         Content-type: application/x-ofx\r\nContent-length: {}\r\n\r\n",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(hub.base.trim_start_matches("http://"))
        .await
        .unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (status_line, rest) = answer.split_once("\r\n").unwrap();
    assert!(status_line.ends_with("200 OK"), "{status_line}");
    let ofx = &rest[rest.find("\r\n\r\n").unwrap() + 4..];
    let (_, root) = parse_document(ofx.as_bytes()).unwrap();
    let rs = trn(&root, "BANKMSGSRSV1", "aq-1").child("STMTRS").unwrap();
    assert!(rs.child("BANKTRANLIST").is_none());
    assert_eq!(leaf(rs, &["LEDGERBAL", "BALAMT"]), "1000.50");
}

/// OFX Direct Connect has no platform-side link step: no sandbox platform and no link page.
async fn no_sandbox_or_link_page_offers_ofx_direct_connect(hub: Hub) {
    let company = json!({"name": "Acme"});
    let ofx = Sandbox::at(&hub, "ofx");
    let resp = ofx.post("/companies", company.clone()).await.unwrap();
    assert_eq!(resp.status(), 404);
    let intuit = Sandbox::at(&hub, "intuit");
    let resp = intuit.post("/companies", company).await.unwrap();
    assert_eq!(
        resp.status(),
        200,
        "the same call on a sandbox platform works"
    );
    let resp = hub.get_anonymously("/link/ofx/redirect").await;
    assert_eq!(resp.status(), 404);
    // The connection's link_url says what to type where, instead of sending the customer to a
    // platform's "connect your bank" (or to a sandbox that does not exist for OFX).
    let bank = hub.org("Direct Bank").await;
    let created = hub
        .create_connection(&bank, json!({"platform": "OFX_DIRECT_CONNECT"}))
        .await;
    let page = hub
        .open_text(created["connection"]["link_url"].as_str().unwrap())
        .await;
    assert!(page.contains("id=\"ofx-direct-connect\""), "{page}");
    assert!(page.contains("/ofx/"), "{page}");
    assert!(!page.contains("Connect your bank"), "{page}");
    assert!(!page.contains("/sandbox/"), "{page}");
}

/// ofxclient's shape: SGML with unclosed leaves and CRLFs, an empty line inside SONRQ, a
/// date-only DTSTART, no DTEND, a CLTCOOKIE, one card account per POST.
async fn ofxclient_shaped_requests_are_answered(hub: Hub) {
    let (_, _, c) = fixture(&hub).await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    let body = format!(
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n\
         CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n\
         <OFX>\r\n<SIGNONMSGSRQV1>\r\n<SONRQ>\r\n<DTCLIENT>20261121045705\r\n<USERID>{user}\r\n\
         <USERPASS>{pass}\r\n\r\n<LANGUAGE>ENG\r\n<FI>\r\n<ORG>X\r\n<FID>1\r\n</FI>\r\n\
         <APPID>QWIN\r\n<APPVER>2500\r\n</SONRQ>\r\n</SIGNONMSGSRQV1>\r\n<CREDITCARDMSGSRQV1>\r\n\
         <CCSTMTTRNRQ>\r\n<TRNUID>ofxclient-1\r\n<CLTCOOKIE>4\r\n<CCSTMTRQ>\r\n<CCACCTFROM>\r\n\
         <ACCTID>4111\r\n</CCACCTFROM>\r\n<INCTRAN>\r\n<DTSTART>20240101\r\n<INCLUDE>Y\r\n\
         </INCTRAN>\r\n</CCSTMTRQ>\r\n</CCSTMTTRNRQ>\r\n</CREDITCARDMSGSRQV1>\r\n</OFX>\r\n"
    );
    let root = post_ofx(&hub, url, 102, body).await;
    assert_eq!(signon_code(&root), "0");
    let k = trn(&root, "CREDITCARDMSGSRSV1", "ofxclient-1");
    assert_eq!(leaf(k, &["CLTCOOKIE"]), "4");
    let list = k.path(&["CCSTMTRS", "BANKTRANLIST"]).unwrap();
    let fitids: Vec<_> = list
        .children_named("STMTTRN")
        .map(|t| t.leaf("FITID").unwrap())
        .collect();
    assert_eq!(fitids, ["K1"]);
    assert!(
        leaf(list, &["DTEND"]).starts_with("20"),
        "DTEND is the server's now"
    );
}

/// OFX 2019: a `TRNUID` names one request. Sent again asking for the same thing (a retry, in
/// either family) it is answered again; asking for something else it is refused, alone, with the
/// file's other transactions answered; another user's TRNUIDs are their own.
async fn a_trnuid_reused_for_another_request_gets_2019_and_a_retry_is_answered(hub: Hub) {
    let (bank, _token, c) = fixture(&hub).await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    let january = "<INCTRAN><DTSTART>20240101</DTSTART><INCLUDE>Y</INCLUDE></INCTRAN>";
    let later = "<INCTRAN><DTSTART>20240115</DTSTART><INCLUDE>Y</INCLUDE></INCTRAN>";
    let code = |root: &Element, set: &str, id: &str| {
        leaf(trn(root, set, id), &["STATUS", "CODE"]).to_owned()
    };
    let first = ask(&hub, url, 102, user, pass, &stmt("r1", "1001", january)).await;
    assert_eq!(code(&first, "BANKMSGSRSV1", "r1"), "0");
    // The same request again, in the other family: answered in full again.
    let retry = ask(&hub, url, 220, user, pass, &stmt("r1", "1001", january)).await;
    assert_eq!(code(&retry, "BANKMSGSRSV1", "r1"), "0");
    let lines = trn(&retry, "BANKMSGSRSV1", "r1")
        .path(&["STMTRS", "BANKTRANLIST"])
        .unwrap()
        .children_named("STMTTRN")
        .count();
    assert_eq!(lines, 3);
    // Reused for another range, beside a new one: 2019 and no STMTRS for it alone.
    let sets = format!(
        "{}{}",
        stmt("r1", "1001", later).replace("</BANKMSGSRQV1>", ""),
        stmt("r2", "1001", later).replace("<BANKMSGSRQV1>", "")
    );
    let reused = ask(&hub, url, 102, user, pass, &sets).await;
    assert_eq!(signon_code(&reused), "0");
    let r1 = trn(&reused, "BANKMSGSRSV1", "r1");
    assert_eq!(leaf(r1, &["STATUS", "CODE"]), "2019");
    assert_eq!(leaf(r1, &["STATUS", "SEVERITY"]), "ERROR");
    assert!(r1.child("STMTRS").is_none(), "{r1:#?}");
    assert_eq!(code(&reused, "BANKMSGSRSV1", "r2"), "0");
    // Reused for another kind of request, too.
    let card = ask(&hub, url, 220, user, pass, &ccstmt("r2", "4111", ALL)).await;
    assert_eq!(code(&card, "CREDITCARDMSGSRSV1", "r2"), "2019");
    // The first use is still the one that counts.
    let again = ask(&hub, url, 102, user, pass, &stmt("r1", "1001", january)).await;
    assert_eq!(code(&again, "BANKMSGSRSV1", "r1"), "0");

    // Another user's TRNUIDs are their own; anonymous profile requests are remembered for no one.
    let (id2, _) = hub.connection(&bank, "OFX_DIRECT_CONNECT").await;
    let other = issue_credentials(&hub, &bank, &id2)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let (user2, pass2) = user_and_password(&other["ofx_credentials"]);
    let acct = ACCTINFO.replace("<TRNUID>a1", "<TRNUID>r1");
    let theirs = ask(&hub, url, 102, user2, pass2, &acct).await;
    assert_eq!(code(&theirs, "SIGNUPMSGSRSV1", "r1"), "0");
    for _ in 0..2 {
        let prof = PROF.replace("<DTPROFUP>19900101", "<DTPROFUP>20000101");
        let root = ask(&hub, url, 102, ANON, ANON, &prof).await;
        assert_eq!(code(&root, "PROFMSGSRSV1", "p1"), "0");
    }
}

/// OFX requires `LEDGERBAL`; a Direct Connect client shows no HTTP error. An account whose FI
/// never reported a balance gets 0 with a status `MESSAGE` saying why; one with a balance none.
async fn a_balance_never_reported_is_a_zero_the_status_explains(hub: Hub) {
    let (bank, token, c) = fixture(&hub).await;
    hub.create_account(
        &bank,
        &token,
        json!({"internal_bank_account_id": "2002", "bank_account_type": "bank",
               "currency_code": "USD", "name": "Savings"}),
    )
    .await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    for version in [102, 220] {
        let sets = format!(
            "{}{}",
            stmt(&format!("n{version}"), "2002", ALL).replace("</BANKMSGSRQV1>", ""),
            stmt(&format!("b{version}"), "1001", ALL).replace("<BANKMSGSRQV1>", "")
        );
        let root = ask(&hub, url, version, user, pass, &sets).await;
        let none = trn(&root, "BANKMSGSRSV1", &format!("n{version}"));
        assert_eq!(leaf(none, &["STATUS", "CODE"]), "0");
        assert_eq!(leaf(none, &["STATUS", "SEVERITY"]), "INFO");
        assert_eq!(
            leaf(none, &["STATUS", "MESSAGE"]),
            "The bank has not reported this account's balance: LEDGERBAL is 0"
        );
        assert_eq!(leaf(none, &["STMTRS", "LEDGERBAL", "BALAMT"]), "0.00");
        let some = trn(&root, "BANKMSGSRSV1", &format!("b{version}"));
        assert!(some.path(&["STATUS", "MESSAGE"]).is_none(), "{some:#?}");
        assert_eq!(leaf(some, &["STMTRS", "LEDGERBAL", "BALAMT"]), "1000.50");
    }
}

/// Issue 13: "The FI sets `org`, `fid` and `bank_id` (its routing number) in its FI
/// configuration for `OFX_DIRECT_CONNECT`; sensible defaults otherwise."
async fn the_fi_configuration_names_the_fid_and_bank_id(hub: Hub) {
    let (bank, token, defaults) = fixture(&hub).await;
    assert_eq!(
        (&defaults["fid"], &defaults["bank_id"]),
        (&json!("1"), &json!("000000000"))
    );
    // A savings account without a routing number of its own takes the FI's.
    hub.create_account(
        &bank,
        &token,
        json!({"internal_bank_account_id": "2002", "bank_account_type": "bank",
               "currency_code": "USD", "name": "Savings", "current_balance": 10}),
    )
    .await;
    let config = |platform: &str, extra: Value| {
        let mut body = json!({"display_name": "Demo Bank Direct", "country_code": "US",
                              "login_url": "https://bank.example/login"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        hub.put(
            &bank,
            &format!("/versioned/bank_feeds/configs/{platform}"),
            &body,
        )
    };
    // Only the OFX configuration takes them, and a routing number must pass its check digit.
    refuses(
        config("XERO", json!({"ofx_fid": "10898"})),
        400,
        "FIELD_NOT_FOR_PLATFORM",
    )
    .await;
    for bad in [
        json!({"ofx_bank_id": "021000022"}),
        json!({"ofx_fid": "10 898"}),
    ] {
        refuses(config("OFX_DIRECT_CONNECT", bad), 400, "INVALID_OFX_ID").await;
    }
    let put: Value = ok(config(
        "OFX_DIRECT_CONNECT",
        json!({"ofx_fid": "10898", "ofx_bank_id": "021000021"}),
    )
    .send()
    .await)
    .await;
    assert_eq!(put["bank_feeds_config"]["ofx_fid"], "10898");
    assert_eq!(put["bank_feeds_config"]["ofx_bank_id"], "021000021");

    let found = hub.connection_by_token(&bank, &token).await;
    let id = found["connection"]["id"].as_str().unwrap();
    let resp = issue_credentials(&hub, &bank, id).await;
    assert_eq!(resp.status(), 201);
    let c = resp.json::<Value>().await.unwrap()["ofx_credentials"].clone();
    assert_eq!(
        (&c["org"], &c["fid"], &c["bank_id"]),
        (
            &json!("Demo Bank Direct"),
            &json!("10898"),
            &json!("021000021")
        )
    );
    let (user, pass) = user_and_password(&c);
    let url = c["url"].as_str().unwrap();
    let root = ask(&hub, url, 102, user, pass, ACCTINFO).await;
    let rs = trn(&root, "SIGNUPMSGSRSV1", "a1")
        .child("ACCTINFORS")
        .unwrap();
    let bank_id_of = |acct: &str| {
        rs.children_named("ACCTINFO")
            .filter_map(|i| i.child("BANKACCTINFO"))
            .find(|b| leaf(b, &["BANKACCTFROM", "ACCTID"]) == acct)
            .map(|b| leaf(b, &["BANKACCTFROM", "BANKID"]).to_owned())
    };
    assert_eq!(bank_id_of("2002").as_deref(), Some("021000021"));
    assert_eq!(
        bank_id_of("1001").as_deref(),
        Some("123456789"),
        "an account's own wins"
    );
}

/// `bankfeeds org disable`: the Rutter and Codat doors answer 401 `ORGANISATION_DISABLED` to
/// the right credential (not counted as a failed sign-in), OFX sign-on says so in its status,
/// and another organisation is untouched; enabling restores all of it with nothing lost.
async fn a_disabled_organisation_is_refused_on_every_door_until_enabled(hub: Hub) {
    let (bank, token, c) = fixture(&hub).await;
    let other = hub.org("Other Bank").await;
    let url = c["url"].as_str().unwrap();
    let (user, pass) = user_and_password(&c);
    let sets = format!("{ACCTINFO}{}", stmt("s1", "1001", ALL));
    let now = bankfeeds_domain::Clock::now(&bankfeeds_domain::SystemClock);
    hub.store
        .set_org_disabled(bank.org.id, Some(now))
        .await
        .unwrap();

    let accounts = with_token(ACCOUNTS, &token);
    // More refusals than the failed-sign-in budget: the right credential is never blocked.
    for _ in 0..12 {
        refuses(hub.get(&bank, &accounts), 401, "ORGANISATION_DISABLED").await;
    }
    let codat = hub
        .http
        .get(hub.url("/codat/companies"))
        .basic_auth(&bank.client_id, Some(&bank.client_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(codat.status(), 401);
    let root = ask(&hub, url, 102, user, pass, &sets).await;
    assert_eq!(signon_code(&root), "2000");
    assert_eq!(root.children.len(), 1, "nothing but the sign-on answer");
    ok(hub.get(&other, "/versioned/connections").send().await).await;

    hub.store.set_org_disabled(bank.org.id, None).await.unwrap();
    let listed = ok(hub.get(&bank, &accounts).send().await).await;
    assert_eq!(
        listed["bank_feed_accounts"].as_array().unwrap().len(),
        2,
        "{listed}"
    );
    let root = ask(&hub, url, 102, user, pass, &sets).await;
    assert_eq!(signon_code(&root), "0");
}
