//! The link flow as a browser walks it, through the hub's HTML pages: a sandbox company
//! connects its bank, signs in at the demo bank, chooses accounts, and the feed page shows the
//! ingested transactions with a running balance. Forms need their CSRF token; refused
//! redirects show an error page and change nothing; pages never carry an OTP or token and
//! never send `Cross-Origin-Opener-Policy`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bankfeeds_domain::link::CompanyId;
use bankfeeds_domain::{Clock, ManualClock, Platform, SystemClock};
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};

use crate::helpers::{ok, with_token, Creds, Hub, Sandbox, SANDBOX_PASSWORD, TRANSACTIONS};
use crate::link_binding::unbound;

crate::on_both_backends!(
    quickbooks_links_and_shows_the_feed_in_the_browser,
    forms_without_their_csrf_token_change_nothing,
    the_link_url_tells_the_customer_where_to_start,
);
crate::on_both_backends!(with_clock: refused_redirects_show_a_page_and_change_nothing);

async fn the_link_url_tells_the_customer_where_to_start(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    let created = hub
        .create_connection(&bank, json!({"platform": "XERO"}))
        .await;
    let link_url = created["connection"]["link_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = created["connection"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    assert_eq!(link_url, hub.url(&format!("/link/connections/{id}")));
    let mut b = Browser::new(&hub);
    // Before the FI has listed itself on Xero.
    let page = b.get(&link_url).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("not-configured"), "{}", page.body);
    let config = json!({"display_name": "First Demo Bank", "login_url": "https://bank.example/login", "country_code": "GB"});
    ok(hub
        .put(&bank, "/versioned/bank_feeds/configs/XERO", &config)
        .send()
        .await)
    .await;
    let page = b.get(&link_url).await;
    assert!(
        page.body
            .contains("Connect your First Demo Bank accounts to Xero"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/sandbox/xero/\""));
    assert!(!b.seen.contains(&token));
    // A deleted or unknown connection has no page.
    ok(hub
        .delete(&bank, &format!("/versioned/connections/{id}"))
        .send()
        .await)
    .await;
    assert_eq!(b.get(&link_url).await.status, 404);
    assert_eq!(b.get("/link/connections/nonsense").await.status, 404);
}

/// A browser: follows no redirects by itself, keeps cookies, and checks every page's headers.
pub(crate) struct Browser<'a> {
    hub: &'a Hub,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// Every page body seen, to check no secret ever appeared in one.
    pub(crate) seen: String,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl<'a> Browser<'a> {
    /// A browser signed in to the sandbox (the sign-in itself is tested in `sandbox_access`).
    pub(crate) fn new(hub: &'a Hub) -> Self {
        let mut b = Self::anonymous(hub);
        let access = hub
            .state
            .sandbox
            .as_ref()
            .expect("the test hub's sandbox is on");
        let session = access.open_session(SystemClock.now());
        b.cookies
            .insert("bf_sandbox".to_owned(), session.expose().to_owned());
        b
    }

    /// A browser that has not signed in to anything.
    pub(crate) fn anonymous(hub: &'a Hub) -> Self {
        Self {
            hub,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            seen: String::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        let h = resp.headers();
        assert!(
            !h.contains_key("cross-origin-opener-policy"),
            "the link pages must not send COOP"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        for c in h.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            assert!(c.contains("HttpOnly"), "{c}");
            let (kv, _) = c.split_once(';').unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = h.get("location").map(|l| l.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        self.seen.push_str(&body);
        Page {
            status,
            location,
            body,
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            self.hub.url(path)
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .http
            .get(self.absolute(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub(crate) fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Back from the bank at `url`: its page, then "Continue" (a POST to the same address with
    /// the page's CSRF token). A refusal of the page itself is returned as it is.
    pub(crate) async fn come_back(&mut self, url: &str) -> Page {
        let page = self.get(url).await;
        if page.status != 200 {
            return page;
        }
        assert!(page.body.contains("id=\"continue\""), "{}", page.body);
        let csrf = field(&page, "csrf");
        self.post(url, &[("csrf", &csrf)]).await
    }

    /// Posts to `path` the fields `names` with the values `page` filled in, then `more`: a form
    /// sent back as the page wrote it.
    pub(crate) async fn submit(
        &mut self,
        path: &str,
        page: &Page,
        names: &[&str],
        more: &[(&str, &str)],
    ) -> Page {
        let filled: Vec<(&str, String)> = names.iter().map(|n| (*n, field(page, n))).collect();
        let mut form: Vec<(&str, &str)> = filled.iter().map(|(n, v)| (*n, v.as_str())).collect();
        form.extend_from_slice(more);
        self.post(path, &form).await
    }

    /// In the sandbox at `sandbox` (`/sandbox/<slug>`), creates the company `name` with its
    /// form; answers the company's page.
    pub(crate) async fn create_company(&mut self, sandbox: &str, name: &str) -> String {
        let index = self.get(&format!("{sandbox}/")).await;
        let path = format!("{sandbox}/companies");
        see_other(
            &self
                .submit(&path, &index, &["csrf"], &[("name", name)])
                .await,
        )
    }

    /// On the company page `company`, "Connect your bank" picking the bank the page offers:
    /// answers the connect page and where picking sent the browser (the bank's login).
    pub(crate) async fn connect(&mut self, company: &str) -> (Page, String) {
        let path = format!("{company}/connect");
        let page = self.get(&path).await;
        let login = see_other(&self.submit(&path, &page, &["csrf", "org_id"], &[]).await);
        (page, login)
    }

    /// On the demo bank's sign-in page `signin`, signs in as the customer it names with the
    /// demo password; answers where the bank sends the browser back to.
    pub(crate) async fn sign_in_to_demo_bank(&mut self, signin: &Page) -> String {
        let names = ["csrf", "redirect_uri", "customer"];
        let password = [("password", SANDBOX_PASSWORD)];
        see_other(
            &self
                .submit("/demo-bank/login", signin, &names, &password)
                .await,
        )
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .http
            .post(self.absolute(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }
}

/// The value of the first `name="<field>" value="…"` in a page.
pub(crate) fn field(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {}", page.body))
        + marker.len();
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
}

pub(crate) fn see_other(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.clone().unwrap()
}

pub(crate) fn error_code(page: &Page) -> String {
    let start = page.body.find("id=\"error-code\">").expect("an error page") + 16;
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_owned()
}

/// The FI: configured for QuickBooks with the demo bank as its login page, one customer with a
/// checking account and a card, and a few transactions already pushed to the checking account.
async fn fi(hub: &Hub) -> (Creds, String, Vec<String>) {
    let bank = hub.org("Demo Bank").await;
    hub.list_demo_bank(&bank, "INTUIT_BANK_FEEDS", "US").await;
    let (_, token) = hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    let mut accounts = Vec::new();
    for (id, kind, name) in [
        ("CHK-1", "bank", "Business Checking"),
        ("CARD-1", "credit_card", "Business Card"),
    ] {
        let fields = json!({"internal_bank_account_id": id, "bank_account_type": kind,
            "currency_code": "USD", "name": name, "bank_account_number": "000123456789"});
        let a = hub.create_account(&bank, &token, fields).await;
        accounts.push(a["id"].as_str().unwrap().to_owned());
    }
    (bank, token, accounts)
}

async fn push(hub: &Hub, bank: &Creds, token: &str, account: &str, txs: Value, balance: &str) {
    let batch = json!({"bank_feed_transactions": {"bank_feed_account_id": account,
        "current_balance": balance.parse::<Value>().unwrap(), "transactions": txs}});
    hub.post_ok(bank, &with_token(TRANSACTIONS, token), &batch)
        .await;
}

fn posted(days_ago: i64) -> String {
    (SystemClock.now() - TimeDelta::days(days_ago)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn quickbooks_links_and_shows_the_feed_in_the_browser(hub: Hub) {
    let (bank, token, accounts) = fi(&hub).await;
    let mut b = Browser::new(&hub);

    // A company in the QuickBooks sandbox.
    let index = b.get("/sandbox/intuit/").await;
    assert_eq!(index.status, 200);
    let csrf = field(&index, "csrf");
    let company_page = see_other(
        &b.post(
            "/sandbox/intuit/companies",
            &[("csrf", &csrf), ("name", "Acme Books")],
        )
        .await,
    );
    let company_id = company_page.rsplit('/').next().unwrap().to_owned();
    let company = b.get(&company_page).await;
    assert!(company.body.contains("Acme Books") && company.body.contains("Connect your bank"));

    // Connect your bank: the demo bank is listed; picking it goes to its login page.
    let (connect, login) = b.connect(&company_page).await;
    assert!(connect.body.contains("Demo Bank"));
    assert!(login.starts_with(&hub.url("/demo-bank/login?redirect_uri=")));

    // The demo bank: sign in as the customer; it sends the browser back with an OTP.
    let signin = b.get(&login).await;
    assert_eq!(signin.status, 200, "{}", signin.body);
    assert!(signin.body.contains("This is a demo") && signin.body.contains("Acme Books"));
    let back = b.sign_in_to_demo_bank(&signin).await;
    assert!(back.starts_with(&hub.url("/link/intuit/redirect?challenge=")));
    assert!(back.contains("&otp=bfotp_"));

    // Back at the hub, a GET changes nothing (a mail scanner may fetch it, twice): it shows
    // "Continue", and only that POST uses the OTP and moves on to the selection.
    for _ in 0..2 {
        let page = b.get(&back).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Acme Books") && page.body.contains("Continue"));
    }
    let select = see_other(&b.come_back(&back).await);
    assert_eq!(select, "/link/intuit/select");
    let choose = b.get(&select).await;
    assert_eq!(choose.status, 200, "{}", choose.body);
    for a in &accounts {
        assert!(choose.body.contains(a.as_str()), "account {a} offered");
    }
    assert!(choose.body.contains("Business Checking") && choose.body.contains("••6789"));

    // Transactions the FI pushed (QuickBooks takes them before the link too).
    push(
        &hub,
        &bank,
        &token,
        &accounts[0],
        json!([
            {"transaction_id": "T1", "posted_at": posted(3), "amount": -42.5, "description": "Office supplies", "payee": "Staples"},
            {"transaction_id": "T2", "posted_at": posted(2), "amount": 1200, "description": "Invoice 1001 paid"},
            {"transaction_id": "T3", "posted_at": posted(1), "amount": -0.01, "description": "Rounding fee"}
        ]),
        "5000.25",
    )
    .await;

    let start = (SystemClock.now() - TimeDelta::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let done = see_other(
        &b.post(
            &select,
            &[
                ("csrf", &field(&choose, "csrf")),
                ("account", &accounts[0]),
                ("account", &accounts[1]),
                ("start_date", &start),
            ],
        )
        .await,
    );
    assert_eq!(done, format!("/sandbox/intuit/companies/{company_id}"));
    assert!(
        !b.cookies.contains_key("bf_link"),
        "the link cookie is cleared"
    );
    let company = b.get(&done).await;
    assert_eq!(company.body.matches("status active").count(), 2);

    // Opening the feed page makes QuickBooks pull: the transactions with a running balance.
    let feed = b
        .get(&format!(
            "/sandbox/intuit/companies/{company_id}/feeds/{}",
            accounts[0]
        ))
        .await;
    assert_eq!(feed.status, 200);
    for text in [
        "Office supplies",
        "Staples",
        "Invoice 1001 paid",
        "-42.50",
        "1,200.00",
        "-0.01",
        // 5000.25 - (-42.50 + 1200 - 0.01) = 3842.76 opening; then 3800.26, 5000.26, 5000.25,
        // with their digits grouped (issue 17).
        "3,842.76",
        "3,800.26",
        "5,000.26",
        "5,000.25",
        // The newest statement ends at the bank's balance: it ties out.
        "closing from the bank <strong class=\"closing\">USD 5,000.25</strong>",
        "data-reconcile=\"ties_out\"",
    ] {
        assert!(feed.body.contains(text), "{text} on the feed page");
    }

    // The FI sees what the platform took.
    let listed = hub.get_ok(&bank, &with_token(TRANSACTIONS, &token)).await;
    let txs = listed["bank_feed_transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 3);
    assert!(
        txs.iter().all(|t| t["platform_ingested"] == true),
        "{listed}"
    );
    let a = hub.account(&bank, &token, &accounts[0]).await;
    assert!(a["last_synced_at"].is_string(), "{a}");
    assert_eq!(
        a["transaction_start_date"].as_str().map(|s| &s[..10]),
        Some(start.as_str())
    );

    // Unlinking in the sandbox makes the feed inactive for the FI.
    let unlinked = see_other(
        &b.post(
            &format!(
                "/sandbox/intuit/companies/{company_id}/feeds/{}/unlink",
                accounts[1]
            ),
            &[("csrf", &field(&feed, "csrf"))],
        )
        .await,
    );
    assert_eq!(unlinked, done);
    let card = hub.account(&bank, &token, &accounts[1]).await;
    assert_eq!(card["feed_status"], "inactive");
    assert_eq!(
        card["transaction_ready"], true,
        "QuickBooks takes pushes while unlinked and holds them"
    );

    // No page ever held the OTP or the connection's token.
    assert!(!b.seen.contains("bfotp_"), "an OTP appeared in a page");
    assert!(
        !b.seen.contains(&token),
        "the access token appeared in a page"
    );
    let _ = CompanyId::new();
}

async fn forms_without_their_csrf_token_change_nothing(hub: Hub) {
    let mut b = Browser::new(&hub);
    // No cookie at all.
    let refused = b
        .post(
            "/sandbox/xero/companies",
            &[("csrf", "x"), ("name", "Evil Ltd")],
        )
        .await;
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (403, "CSRF_TOKEN_INVALID")
    );
    // A cookie, but another token in the form (a cross-site post cannot read the cookie).
    let index = b.get("/sandbox/xero/").await;
    let token = field(&index, "csrf");
    let forged = "A".repeat(43);
    assert_ne!(token, forged);
    let refused = b
        .post(
            "/sandbox/xero/companies",
            &[("csrf", &forged), ("name", "Evil Ltd")],
        )
        .await;
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (403, "CSRF_TOKEN_INVALID")
    );
    // A form without its token is refused as a cross-site post, like a wrong one.
    let refused = b
        .post("/sandbox/xero/companies", &[("name", "Evil Ltd")])
        .await;
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (403, "CSRF_TOKEN_INVALID")
    );
    // With its token, a form with a field missing is malformed.
    let refused = b.post("/sandbox/xero/companies", &[("csrf", &token)]).await;
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (400, "INVALID_FORM")
    );
    assert!(hub.companies(Platform::Xero).await.is_empty());
    // With the token, it works.
    let ok_page = b
        .post(
            "/sandbox/xero/companies",
            &[("csrf", &token), ("name", "Good Ltd")],
        )
        .await;
    assert_eq!(ok_page.status, 303);
    assert_eq!(hub.companies(Platform::Xero).await.len(), 1);
    // Unknown platforms and companies are 404 pages.
    assert_eq!(b.get("/sandbox/myob/").await.status, 404);
    let missing = b
        .get(&format!("/sandbox/xero/companies/{}", CompanyId::new()))
        .await;
    assert_eq!(
        (missing.status, error_code(&missing).as_str()),
        (404, "NOT_FOUND")
    );
}

/// Each refused redirect shows an error page with its code and leaves the challenge and OTP as
/// they were; the clock is the hub's own, moved by the test.
async fn refused_redirects_show_a_page_and_change_nothing(hub: Hub, clock: Arc<ManualClock>) {
    let (bank, token, accounts) = fi(&hub).await;
    let other = hub.org("Other Bank").await;
    let (_, other_token) = hub.connection(&other, "INTUIT_BANK_FEEDS").await;
    let mut b = Browser::new(&hub);

    let intuit = Sandbox::of(&hub, "INTUIT_BANK_FEEDS");
    let company = intuit.company("Acme Books").await;
    let challenge = || async {
        let ch = intuit.challenge(&company, &bank).await;
        // This browser is the client that started the link.
        (ch.clone(), intuit.binding(&ch))
    };
    let redirect = |ch: &str, otp: &str| format!("/link/intuit/redirect?challenge={ch}&otp={otp}");

    // A wrong OTP.
    let (ch, binding) = challenge().await;
    b.set_cookie("bf_binding", &binding);
    let page = b.come_back(&redirect(&ch, "bfotp_wrong")).await;
    assert_eq!(
        (page.status, error_code(&page).as_str()),
        (400, "UNKNOWN_OTP")
    );
    assert!(unbound(&hub, &ch).await);
    // An OTP of another FI.
    let foreign = hub.otp(&other, &other_token).await;
    let page = b.come_back(&redirect(&ch, &foreign)).await;
    assert_eq!(error_code(&page), "OTP_FROM_ANOTHER_FI");
    assert!(unbound(&hub, &ch).await);
    // A stale challenge: eleven minutes later.
    let code = hub.otp(&bank, &token).await;
    clock.advance(TimeDelta::minutes(11));
    let page = b.come_back(&redirect(&ch, &code)).await;
    assert_eq!(error_code(&page), "CHALLENGE_EXPIRED");
    assert!(unbound(&hub, &ch).await);
    // An expired OTP: issued, then more than an hour passes before a fresh challenge uses it.
    clock.advance(TimeDelta::minutes(50));
    let (fresh, binding) = challenge().await;
    b.set_cookie("bf_binding", &binding);
    let page = b.come_back(&redirect(&fresh, &code)).await;
    assert_eq!(error_code(&page), "OTP_EXPIRED");
    assert!(unbound(&hub, &fresh).await);
    // Without the link cookie there is no selection to make.
    let page = b.get("/link/intuit/select").await;
    assert_eq!(
        (page.status, error_code(&page).as_str()),
        (400, "LINK_NOT_IN_PROGRESS")
    );

    // The same fresh challenge still works with a good OTP; then both are spent.
    let good = hub.otp(&bank, &token).await;
    assert_eq!(
        see_other(&b.come_back(&redirect(&fresh, &good)).await),
        "/link/intuit/select"
    );
    let (again, binding) = challenge().await;
    b.set_cookie("bf_binding", &binding);
    let page = b.come_back(&redirect(&again, &good)).await;
    assert_eq!(error_code(&page), "OTP_ALREADY_USED");
    b.set_cookie("bf_binding", &intuit.binding(&fresh));
    let page = b
        .come_back(&redirect(&fresh, &hub.otp(&bank, &token).await))
        .await;
    assert_eq!(error_code(&page), "CHALLENGE_ALREADY_USED");

    // Nothing was linked by any of it.
    for a in &accounts {
        let got = hub.account(&bank, &token, a).await;
        assert!(got["transaction_start_date"].is_null());
    }
    // The selection page is open for thirty minutes after the login, then refused.
    assert_eq!(b.get("/link/intuit/select").await.status, 200);
    clock.advance(TimeDelta::minutes(31));
    let page = b.get("/link/intuit/select").await;
    assert_eq!(error_code(&page), "LINK_NOT_IN_PROGRESS");
    assert!(!b.seen.contains("bfotp_"));
}
