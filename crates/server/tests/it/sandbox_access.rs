//! Issue 12, item 1: the sandbox platforms and the demo bank are not for strangers. Off unless
//! turned on (their paths are then unknown routes); on, the pages need a signed-in session and
//! the JSON interface the sandbox password in `Authorization`; wrong passwords count against
//! the client's budget of failed authentications; the demo bank asks for the demo password;
//! the sandbox's JSON shows only the last four digits of account and routing numbers.

use std::sync::Arc;

use bankfeeds_domain::{Clock, Platform, SystemClock};
use bankfeeds_server::client_limit::AuthFailures;
use bankfeeds_store_tests::TestDb;
use serde_json::json;

use crate::helpers::{err, err_in, items, ok, refuses, Creds, Hub, Sandbox, SANDBOX_PASSWORD};
use crate::link_flow::{fi_login, list_bank};
use crate::pages::{error_code, field, see_other, Browser};

crate::on_both_backends!(
    the_pages_need_a_sign_in_and_the_json_the_password,
    the_unlink_post_needs_its_csrf_token,
    the_sandbox_json_shows_only_the_last_four_digits,
    the_demo_bank_asks_for_the_demo_password,
);
crate::on_both_backends!(
    with_db:
    off_by_default_their_routes_are_unknown,
    wrong_passwords_are_refused_and_rate_limited,
);

const PATHS: [&str; 7] = [
    "/sandbox/",
    "/sandbox/signin",
    "/sandbox/intuit/",
    "/sandbox/intuit/api/companies",
    "/sandbox/intuit/api/banks",
    "/demo-bank/",
    "/demo-bank/login",
];

async fn off_by_default_their_routes_are_unknown(db: TestDb) {
    // What `serve` builds from the default configuration: no sandbox.
    let config = bankfeeds_server::Config::default();
    assert!(!config.sandbox_enabled);
    let state = bankfeeds_server::app_state(&config, db.store.clone());
    assert!(state.sandbox.is_none(), "off unless configured on");
    let store = db.store.clone();
    let hub = Hub::start_with(store, Some(db), |s| s.sandbox = None, 0).await;
    let http = &hub.http;
    for path in PATHS {
        err_in(
            path,
            http.get(hub.url(path)).send().await,
            404,
            "ROUTE_NOT_FOUND",
        )
        .await;
    }
    let unlink = "/sandbox/intuit/api/companies/x/feeds/y/unlink";
    refuses(http.post(hub.url(unlink)), 404, "ROUTE_NOT_FOUND").await;
    let form = [("password", SANDBOX_PASSWORD)];
    let signin = http.post(hub.url("/sandbox/signin")).form(&form).send();
    err(signin.await, 404, "ROUTE_NOT_FOUND").await;
    // The hub's own link pages stay: FIs' customers come back to them from real platforms.
    let page = http
        .get(hub.url("/link/intuit/select"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    // A connection's link page then points to no sandbox.
    let bank = hub.org("Demo Bank").await;
    list_bank(&hub, &bank, "XERO").await;
    let created = hub
        .create_connection(&bank, json!({"platform": "XERO"}))
        .await;
    let link_url = created["connection"]["link_url"].as_str().unwrap();
    let page = hub.open_text(link_url).await;
    assert!(
        // Not even the header's brand: it used to link to /sandbox/, a 404 here.
        page.contains("Connect your bank") && !page.contains("/sandbox/"),
        "{page}"
    );
}

async fn the_pages_need_a_sign_in_and_the_json_the_password(hub: Hub) {
    // Pages: a stranger is sent to sign in, and comes back to the page asked for.
    let mut stranger = Browser::anonymous(&hub);
    for path in [
        "/sandbox/",
        "/sandbox/intuit/",
        "/sandbox/xero/companies/123",
    ] {
        let page = stranger.get(path).await;
        let to = see_other(&page);
        let next: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", path)
            .finish();
        assert_eq!(to, format!("/sandbox/signin?{next}"), "{path}");
    }
    let refused = stranger
        .post(
            "/sandbox/intuit/companies",
            &[("csrf", "x"), ("name", "Evil Ltd")],
        )
        .await;
    assert!(see_other(&refused).starts_with("/sandbox/signin"));
    assert!(hub.companies(Platform::IntuitBankFeeds).await.is_empty());

    // Signing in: a session cookie (HttpOnly, checked by the browser helper), then the page.
    let signin = stranger
        .get("/sandbox/signin?next=%2Fsandbox%2Fintuit%2F")
        .await;
    assert_eq!(signin.status, 200);
    assert!(signin.body.contains("type=\"password\""));
    let csrf = field(&signin, "csrf");
    let without_csrf = stranger
        .post(
            "/sandbox/signin",
            &[("csrf", "x"), ("password", SANDBOX_PASSWORD)],
        )
        .await;
    assert_eq!(error_code(&without_csrf), "CSRF_TOKEN_INVALID");
    let wrong = stranger
        .post("/sandbox/signin", &[("csrf", &csrf), ("password", "guess")])
        .await;
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (401, "INVALID_CREDENTIALS")
    );
    assert!(stranger.cookie("bf_sandbox").is_none());
    let signed_in = stranger
        .post(
            "/sandbox/signin",
            &[
                ("csrf", &csrf),
                ("password", SANDBOX_PASSWORD),
                ("next", &field(&signin, "next")),
            ],
        )
        .await;
    assert_eq!(see_other(&signed_in), "/sandbox/intuit/");
    assert!(stranger
        .cookie("bf_sandbox")
        .is_some_and(|s| s.starts_with("bfss_")));
    let index = stranger.get("/sandbox/intuit/").await;
    assert_eq!(index.status, 200, "{}", index.body);
    // Signing out ends the session.
    let home = stranger.get("/sandbox/").await;
    let out = stranger
        .post("/sandbox/signout", &[("csrf", &field(&home, "csrf"))])
        .await;
    assert_eq!(see_other(&out), "/sandbox/signin");
    assert!(see_other(&stranger.get("/sandbox/intuit/").await).starts_with("/sandbox/signin"));
    assert!(!stranger.seen.contains(SANDBOX_PASSWORD));

    // JSON: the password in Authorization, nothing else (a cookie does not do).
    let url = hub.url("/sandbox/intuit/api/companies");
    let http = &hub.http;
    refuses(http.get(&url), 401, "MISSING_CREDENTIALS").await;
    let wrong = http.get(&url).bearer_auth("guess").send().await;
    err(wrong, 401, "INVALID_CREDENTIALS").await;
    let basic = http
        .get(&url)
        .basic_auth("sandbox", Some(SANDBOX_PASSWORD))
        .send()
        .await;
    err(basic, 401, "INVALID_CREDENTIALS").await;
    let cookie = format!(
        "bf_sandbox={}",
        hub.state
            .sandbox
            .as_ref()
            .unwrap()
            .open_session(SystemClock.now())
            .expose()
    );
    let with_cookie = http.get(&url).header("cookie", cookie).send().await;
    err(with_cookie, 401, "MISSING_CREDENTIALS").await;
    let create = http
        .post(&url)
        .json(&json!({"name": "Evil Ltd"}))
        .send()
        .await;
    err(create, 401, "MISSING_CREDENTIALS").await;
    let listed = ok(http.get(&url).bearer_auth(SANDBOX_PASSWORD).send().await).await;
    assert_eq!(listed["companies"], json!([]), "nothing was created");
}

/// A company with the FI's two accounts linked through the JSON interface; the FI's checking
/// account has full account and routing numbers.
async fn linked(hub: &Hub, bank: &Creds) -> (String, Vec<String>, serde_json::Value) {
    list_bank(hub, bank, "XERO").await;
    let xero = Sandbox::of(hub, "XERO");
    let company = xero.company("Acme Books").await;
    let challenge = xero.challenge(&company, bank).await;
    let (token, accounts, otp) = fi_login(hub, bank, "XERO").await;
    let numbers = json!({"bank_account_number": "000123456789", "routing_number": "021000021"});
    let path = format!(
        "/versioned/accounting/bank_feeds/accounts/{}?access_token={token}",
        accounts[0]
    );
    ok(hub
        .patch(bank, &path, &json!({"bank_feed_account": numbers}))
        .send()
        .await)
    .await;
    let offered = ok(xero.redirect(&challenge, &otp).await).await;
    let body = json!({"challenge": challenge, "bank_feed_account_ids": accounts});
    ok(xero.post("/link/complete", body).await).await;
    (company, accounts, offered)
}

async fn the_sandbox_json_shows_only_the_last_four_digits(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (company, accounts, offered) = linked(&hub, &bank).await;
    let xero = Sandbox::of(&hub, "XERO");
    let feeds = xero.get(&format!("/companies/{company}/feeds")).await;
    let feed = xero
        .get(&format!("/companies/{company}/feeds/{}", accounts[0]))
        .await;
    let synced = ok(xero
        .post(
            &format!("/companies/{company}/feeds/{}/sync", accounts[0]),
            json!({}),
        )
        .await)
    .await;
    for body in [&offered, &feeds, &feed, &synced] {
        let text = body.to_string();
        assert!(
            !text.contains("000123456789") && !text.contains("021000021"),
            "{text}"
        );
    }
    let checking = items(&feeds["bank_feed_accounts"])
        .iter()
        .find(|a| a["id"] == accounts[0].as_str())
        .unwrap();
    assert_eq!(checking["account_number_last4"], "6789");
    assert_eq!(checking["routing_number_last4"], "0021");
    assert!(
        checking.get("bank_account_number").is_none() && checking.get("routing_number").is_none()
    );
    assert_eq!(feed["bank_feed_account"]["account_number_last4"], "6789");
    let offered_checking = items(&offered["bank_feed_accounts"])
        .iter()
        .find(|a| a["id"] == accounts[0].as_str())
        .unwrap();
    assert_eq!(offered_checking["account_number_last4"], "6789");
}

async fn the_unlink_post_needs_its_csrf_token(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let (company, accounts, _) = linked(&hub, &bank).await;
    let unlink = format!(
        "/sandbox/xero/companies/{company}/feeds/{}/unlink",
        accounts[0]
    );
    // Another site can make a signed-in browser post, but not with the page's token.
    let mut b = Browser::new(&hub);
    let feed = b
        .get(&format!(
            "/sandbox/xero/companies/{company}/feeds/{}",
            accounts[0]
        ))
        .await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    for form in [vec![], vec![("csrf", "A".repeat(43))]] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = b.post(&unlink, &form).await;
        assert!(matches!(refused.status, 400 | 403), "{}", refused.body);
    }
    // The JSON twin takes no cookie, only the password.
    let json_unlink = hub.url(&format!(
        "/sandbox/xero/api/companies/{company}/feeds/{}/unlink",
        accounts[0]
    ));
    let cookie = format!("bf_sandbox={}", b.cookie("bf_sandbox").unwrap());
    let refused = hub
        .http
        .post(&json_unlink)
        .header("cookie", cookie)
        .send()
        .await;
    err(refused, 401, "MISSING_CREDENTIALS").await;
    let xero = Sandbox::of(&hub, "XERO");
    let feeds = xero.get(&format!("/companies/{company}/feeds")).await;
    assert!(
        items(&feeds["bank_feed_accounts"])
            .iter()
            .all(|f| f["feed_status"] == "active"),
        "{feeds}"
    );
    // With its token it unlinks.
    let done = b.post(&unlink, &[("csrf", &field(&feed, "csrf"))]).await;
    assert_eq!(
        see_other(&done),
        format!("/sandbox/xero/companies/{company}")
    );
    let after = xero
        .post(
            &format!("/companies/{company}/feeds/{}/sync", accounts[0]),
            json!({}),
        )
        .await;
    err(after, 410, "FEED_NOT_LINKED").await;
}

async fn the_demo_bank_asks_for_the_demo_password(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    hub.list_demo_bank(&bank, "XERO", "GB").await;
    hub.connection(&bank, "XERO").await;
    let mut b = Browser::new(&hub);
    let company = b.create_company("/sandbox/xero", "Acme Books").await;
    let (_, login) = b.connect(&company).await;
    let signin = b.get(&login).await;
    assert!(signin.body.contains("type=\"password\"") && signin.body.contains("sandbox password"));
    let form = |password: &'static str| {
        let (csrf, uri, customer) = (
            field(&signin, "csrf"),
            field(&signin, "redirect_uri"),
            field(&signin, "customer"),
        );
        move || {
            vec![
                ("csrf".to_owned(), csrf),
                ("redirect_uri".to_owned(), uri),
                ("customer".to_owned(), customer),
                ("password".to_owned(), password.to_owned()),
            ]
        }
    };
    for password in ["", "guess"] {
        let fields = form(password)();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let refused = b.post("/demo-bank/login", &fields).await;
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (401, "INVALID_CREDENTIALS")
        );
    }
    let fields = form(SANDBOX_PASSWORD)();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let back = see_other(&b.post("/demo-bank/login", &fields).await);
    assert!(back.contains("&otp=bfotp_"));
}

async fn wrong_passwords_are_refused_and_rate_limited(db: TestDb) {
    let store = db.store.clone();
    let tune = |s: &mut bankfeeds_server::AppState| {
        s.auth_failures = AuthFailures::per_minute(3).map(Arc::new)
    };
    let hub = Hub::start_with(store, Some(db), tune, 0).await;
    let url = hub.url("/sandbox/intuit/api/companies");
    // Three wrong passwords, by page and by JSON, are answered as wrong...
    let mut b = Browser::anonymous(&hub);
    let signin = b.get("/sandbox/signin").await;
    let csrf = field(&signin, "csrf");
    for _ in 0..2 {
        let page = b
            .post("/sandbox/signin", &[("csrf", &csrf), ("password", "guess")])
            .await;
        assert_eq!(page.status, 401);
    }
    refuses(
        hub.http.get(&url).bearer_auth("guess"),
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    // ...the fourth spends the budget, and then even the right password waits.
    let page = b
        .post("/sandbox/signin", &[("csrf", &csrf), ("password", "guess")])
        .await;
    assert_eq!(
        (page.status, error_code(&page).as_str()),
        (429, "RATE_LIMITED")
    );
    let blocked = hub
        .http
        .get(&url)
        .bearer_auth(SANDBOX_PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers().contains_key("retry-after"));
    let page = b
        .post(
            "/sandbox/signin",
            &[("csrf", &csrf), ("password", SANDBOX_PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(b.cookie("bf_sandbox").is_none());
}
