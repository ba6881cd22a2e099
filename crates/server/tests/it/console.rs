//! Issue 18, the operator's console: operators set a password through their one-time link,
//! sign in (wrong passwords throttled), see their own organisation's overview, connections and
//! feeds, and nothing of another organisation's; sessions end on sign-out, expiry and when the
//! operator is disabled.

use std::sync::Arc;

use bankfeeds_domain::account::FeedStatus;
use bankfeeds_domain::operator::{Operator, MAX_FAILURES_PER_EMAIL, SESSION_TTL};
use bankfeeds_domain::{Clock, ManualClock, OrgId};
use chrono::{SecondsFormat, TimeDelta};
use serde_json::{json, Value};

use crate::helpers::{with_token, Creds, Hub, TRANSACTIONS};
use crate::pages::{field, see_other, Browser, Page};

crate::on_both_backends!(
    with_clock:
    operators_see_their_own_organisation_and_nothing_else,
    sessions_end_on_sign_out_expiry_and_disabling,
    wrong_passwords_are_throttled_per_email,
    rotating_the_client_secret_needs_confirmation_and_retires_the_old_one,
);

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Creates an operator as `bankfeeds operator create` does; returns the setup link's path.
pub(crate) async fn operator(
    hub: &Hub,
    org: OrgId,
    email: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (Operator, String) {
    let (op, setup, token) = Operator::generate(org, email, now).unwrap();
    hub.store.create_operator(&op, &setup).await.unwrap();
    (op, format!("/console/setup?token={}", token.expose()))
}

/// Sets the password through the setup link; the browser is then signed in.
pub(crate) async fn set_up(b: &mut Browser<'_>, link: &str) {
    let page = b.get(link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let done = b
        .submit(
            "/console/setup",
            &page,
            &["csrf", "token"],
            &[("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert_eq!(see_other(&done), "/console");
}

/// An operator of `org` who has set a password through the setup link: the operator, and the
/// browser that did it, signed in.
pub(crate) async fn signed_in<'a>(
    hub: &'a Hub,
    clock: &ManualClock,
    org: OrgId,
    email: &str,
) -> (Operator, Browser<'a>) {
    let (op, link) = operator(hub, org, email, clock.now()).await;
    let mut browser = Browser::anonymous(hub);
    set_up(&mut browser, &link).await;
    (op, browser)
}

pub(crate) async fn sign_in(b: &mut Browser<'_>, email: &str, password: &str) -> Page {
    let page = b.get("/console/login").await;
    assert_eq!(page.status, 200);
    b.submit(
        "/console/login",
        &page,
        &["csrf"],
        &[("email", email), ("password", password)],
    )
    .await
}

/// The text of the element with `id` (up to the next tag).
pub(crate) fn text_of(page: &Page, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body))
        + marker.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].trim().to_owned()
}

/// A connection of `bank` with one account; returns (token, account id).
pub(crate) async fn feed(
    hub: &Hub,
    bank: &Creds,
    name: &str,
    internal: &str,
    number: &str,
) -> (String, String) {
    let body = hub
        .create_connection(bank, json!({"platform": "XERO", "name": name}))
        .await;
    let token = body["connection"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields = json!({"internal_bank_account_id": internal, "bank_account_type": "bank",
        "currency_code": "USD", "name": format!("{name} checking"),
        "bank_account_number": number});
    let a = hub.create_account(bank, &token, fields).await;
    (token, a["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn link(hub: &Hub, clock: &ManualClock, account: &str) {
    let state = bankfeeds_domain::account::FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: None,
    };
    hub.store
        .set_feed_state(account.parse().unwrap(), &state, clock.now())
        .await
        .unwrap();
}

/// Pushes a batch and runs the queue; the outcome is the job's (read back by the pages).
pub(crate) async fn push(hub: &Hub, bank: &Creds, token: &str, account: &str, txs: Value) {
    let batch = json!({"bank_feed_transactions": {"bank_feed_account_id": account,
        "transactions": txs}});
    let sent = hub
        .post(bank, &with_token(TRANSACTIONS, token), &batch)
        .send()
        .await
        .unwrap();
    assert!(sent.status().as_u16() < 500, "{sent:?}");
    hub.drain().await;
}

pub(crate) fn tx(id: &str, clock: &ManualClock, amount: &str) -> Value {
    let posted = (clock.now() - TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"transaction_id": id, "posted_at": posted, "amount": amount.parse::<Value>().unwrap(),
        "description": "coffee"})
}

async fn operators_see_their_own_organisation_and_nothing_else(hub: Hub, clock: Arc<ManualClock>) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (_, link_a) = operator(&hub, a.org.id, "Ops@Bank-A.example", clock.now()).await;
    let (_, link_b) = operator(&hub, b.org.id, "ops@bank-b.example", clock.now()).await;

    // Signed out, the console sends the browser to sign in.
    let mut alice = Browser::anonymous(&hub);
    assert_eq!(see_other(&alice.get("/console").await), "/console/login");

    // The setup link: a password too short is refused; then it works, once.
    let page = alice.get(&link_a).await;
    assert!(page.body.contains("ops@bank-a.example"), "{}", page.body);
    let short = alice
        .submit(
            "/console/setup",
            &page,
            &["csrf", "token"],
            &[("password", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("at least 12 characters"));
    set_up(&mut alice, &link_a).await;
    assert_eq!(alice.get(&link_a).await.status, 410, "the link works once");

    // Bank A: two connections, one linked with pushes, one pending; a failed batch.
    let (token1, acct1) = feed(&hub, &a, "Acme Widgets", "chk-1", "000123456789").await;
    let (_token2, acct2) = feed(&hub, &a, "Zed Ltd", "sav-2", "000987654321").await;
    link(&hub, &clock, &acct1).await;
    push(
        &hub,
        &a,
        &token1,
        &acct1,
        json!([tx("t1", &clock, "1.50"), tx("t2", &clock, "2.25")]),
    )
    .await;
    push(&hub, &a, &token1, &acct1, json!([tx("t1", &clock, "9.99")])).await;
    hub.store
        .mark_ingested(acct1.parse().unwrap(), clock.now())
        .await
        .unwrap();

    let overview = alice.get("/console").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert_eq!(text_of(&overview, "org-name"), "Bank A");
    assert_eq!(text_of(&overview, "connections-linked"), "1");
    assert_eq!(text_of(&overview, "connections-pending"), "1");
    assert_eq!(text_of(&overview, "feeds-linked"), "1");
    assert_eq!(text_of(&overview, "feeds-pending"), "1");
    assert_eq!(text_of(&overview, "pushed-total"), "2");
    assert_eq!(text_of(&overview, "ingested-total"), "2");
    assert_eq!(text_of(&overview, "failed-jobs"), "1");
    assert!(overview.body.contains("<svg id=\"transactions-chart\""));
    assert!(!overview.body.contains("<script"), "no JavaScript");
    let today = clock.now().date_naive().to_string();
    assert!(overview
        .body
        .contains(&format!("<title>{today}: 2 pushed</title>")));

    // The search finds by customer, account name and number, and pages.
    let found = alice.get("/console/connections?q=acme").await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains(&format!("/console/accounts/{acct1}")));
    assert!(!found.body.contains("Zed Ltd"));
    let by_number = alice.get("/console/connections?q=987654").await;
    assert!(by_number.body.contains("Zed Ltd") && !by_number.body.contains("Acme"));
    assert!(
        by_number.body.contains("•••• 4321"),
        "only the last four digits"
    );
    assert!(!by_number.body.contains("000987654321"));
    let none = alice.get("/console/connections?q=nobody").await;
    assert!(none.body.contains("id=\"no-results\""));

    // The feed page: state, balance, continuity, the failed batch's code.
    let feed_page = alice.get(&format!("/console/accounts/{acct1}")).await;
    assert_eq!(feed_page.status, 200, "{}", feed_page.body);
    assert_eq!(text_of(&feed_page, "feed-status"), "linked");
    assert_eq!(text_of(&feed_page, "feed-platform"), "Xero");
    assert!(feed_page.body.contains("job-failure"), "{}", feed_page.body);
    assert!(
        feed_page
            .body
            .contains("<td class=\"error-code\">TRANSACTION_ID_CONFLICT</td>"),
        "{}",
        feed_page.body
    );

    // Failed jobs, with the code and message, for the organisation or one feed.
    let failures = alice.get("/console/jobs").await;
    assert_eq!(failures.status, 200, "{}", failures.body);
    assert!(failures
        .body
        .contains("<td class=\"error-code\">TRANSACTION_ID_CONFLICT</td>"));
    assert!(failures.body.contains("already stored for this account"));
    let of_feed = alice.get(&format!("/console/jobs?account={acct1}")).await;
    assert!(of_feed.body.contains("TRANSACTION_ID_CONFLICT"));
    let of_other = alice.get(&format!("/console/jobs?account={acct2}")).await;
    assert!(of_other.body.contains("id=\"no-failures\""));

    // Bank B's operator sees none of it: an empty overview, no search hits, 404 on the feed.
    let mut bob = Browser::anonymous(&hub);
    set_up(&mut bob, &link_b).await;
    let theirs = bob.get("/console").await;
    assert_eq!(text_of(&theirs, "org-name"), "Bank B");
    assert_eq!(text_of(&theirs, "feeds-linked"), "0");
    assert_eq!(text_of(&theirs, "pushed-total"), "0");
    assert_eq!(text_of(&theirs, "failed-jobs"), "0");
    let search = bob.get("/console/connections?q=acme").await;
    assert!(search.body.contains("id=\"no-results\""));
    assert!(!bob.get("/console/connections").await.body.contains("Acme"));
    let denied = bob.get(&format!("/console/accounts/{acct1}")).await;
    assert_eq!(denied.status, 404);
    assert_eq!(bob.get("/console/accounts/not-an-id").await.status, 404);
    assert!(
        !bob.seen.contains(&acct1),
        "nothing of Bank A reached Bank B's pages"
    );
    // A filter by A's feed id shows that id back in its form, and finds nothing.
    let none = bob.get(&format!("/console/jobs?account={acct1}")).await;
    assert!(none.body.contains("id=\"no-failures\""));
    assert!(bob
        .get("/console/jobs")
        .await
        .body
        .contains("id=\"no-failures\""));
}

async fn sessions_end_on_sign_out_expiry_and_disabling(hub: Hub, clock: Arc<ManualClock>) {
    let a = hub.org("Bank A").await;
    let (op, mut b) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let cookie = b.cookie("bf_console").unwrap().to_owned();

    // The session cookie, as a browser receives it: HttpOnly, SameSite=Strict, whole site.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(hub.url("/console/login")).send().await.unwrap();
    let csrf_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let csrf_cookie = csrf_cookie.split(';').next().unwrap().to_owned();
    let body = login.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    let csrf = &body[start..start + body[start..].find('"').unwrap()];
    let answer = http
        .post(hub.url("/console/login"))
        .header("cookie", csrf_cookie)
        .form(&[
            ("csrf", csrf),
            ("email", "ops@bank-a.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let set = answer.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("bf_console=bfop_"), "{set}");
    for attribute in [
        "; Path=/",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Max-Age=43200",
    ] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http in tests");

    // Sign out: the session is revoked, not only the cookie dropped.
    let overview = b.get("/console").await;
    assert_eq!(overview.status, 200);
    let csrf = field(&overview, "csrf");
    let out = b.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(see_other(&out), "/console/login");
    assert!(b.cookie("bf_console").is_none());
    b.set_cookie("bf_console", &cookie);
    assert_eq!(see_other(&b.get("/console").await), "/console/login");

    // Expiry.
    let signed_in = sign_in(&mut b, "ops@bank-a.example", PASSWORD).await;
    assert_eq!(see_other(&signed_in), "/console");
    assert_eq!(b.get("/console").await.status, 200);
    clock.advance(SESSION_TTL - TimeDelta::seconds(1));
    assert_eq!(b.get("/console").await.status, 200);
    clock.advance(TimeDelta::seconds(1));
    assert_eq!(see_other(&b.get("/console").await), "/console/login");

    // Disabling the organisation ends its operators' sessions and refuses sign-ins (403, the
    // password being right); enabling it lets them back in.
    assert_eq!(
        see_other(&sign_in(&mut b, "ops@bank-a.example", PASSWORD).await),
        "/console"
    );
    hub.store
        .set_org_disabled(a.org.id, Some(clock.now()))
        .await
        .unwrap();
    assert_eq!(see_other(&b.get("/console").await), "/console/login");
    let refused = sign_in(&mut b, "ops@bank-a.example", PASSWORD).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("disabled"), "{}", refused.body);
    hub.store.set_org_disabled(a.org.id, None).await.unwrap();

    // Disabling the operator ends their sessions at once and refuses new ones.
    assert_eq!(
        see_other(&sign_in(&mut b, "ops@bank-a.example", PASSWORD).await),
        "/console"
    );
    assert_eq!(b.get("/console").await.status, 200);
    hub.store
        .disable_operator(a.org.id, op.id, clock.now())
        .await
        .unwrap();
    assert_eq!(see_other(&b.get("/console").await), "/console/login");
    assert_eq!(
        sign_in(&mut b, "ops@bank-a.example", PASSWORD).await.status,
        401
    );
}

async fn wrong_passwords_are_throttled_per_email(hub: Hub, clock: Arc<ManualClock>) {
    let a = hub.org("Bank A").await;
    // The operator has set a password; another browser then guesses at it.
    signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let mut other = Browser::anonymous(&hub);

    for _ in 0..MAX_FAILURES_PER_EMAIL {
        let refused = sign_in(&mut other, "ops@bank-a.example", "not the password").await;
        assert_eq!(refused.status, 401);
        assert!(refused.body.contains("Wrong email or password"));
    }
    // Locked: even the right password is refused for a while.
    let locked = sign_in(&mut other, "OPS@bank-a.example", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(other.cookie("bf_console").is_none());
    // An unknown email is refused the same way as a wrong password.
    assert_eq!(
        sign_in(&mut other, "nobody@bank-a.example", PASSWORD)
            .await
            .status,
        401
    );
    clock.advance(bankfeeds_domain::operator::LOCKOUT);
    assert_eq!(
        see_other(&sign_in(&mut other, "ops@bank-a.example", PASSWORD).await),
        "/console"
    );
}

async fn rotating_the_client_secret_needs_confirmation_and_retires_the_old_one(
    hub: Hub,
    clock: Arc<ManualClock>,
) {
    let a = hub.org("Bank A").await;
    let b = hub.org("Bank B").await;
    let (_, mut browser) = signed_in(&hub, &clock, a.org.id, "ops@bank-a.example").await;
    let connections = "/versioned/connections";
    assert_eq!(hub.get(&a, connections).send().await.unwrap().status(), 200);

    let settings = browser.get("/console/settings").await;
    assert_eq!(settings.status, 200);
    assert_eq!(text_of(&settings, "client-id"), a.client_id);
    let csrf = field(&settings, "csrf");
    // Without the confirmation nothing changes.
    let unconfirmed = browser
        .post("/console/settings/rotate-secret", &[("csrf", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert_eq!(hub.get(&a, connections).send().await.unwrap().status(), 200);
    // Nor with a forged form.
    let forged = browser
        .post(
            "/console/settings/rotate-secret",
            &[("csrf", "forged"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(hub.get(&a, connections).send().await.unwrap().status(), 200);

    let rotated = browser
        .post(
            "/console/settings/rotate-secret",
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let secret = text_of(&rotated, "new-client-secret");
    assert!(secret.starts_with("bfsk_"), "{secret}");
    // The old secret stops working; the new one works; the other bank is untouched.
    assert_eq!(hub.get(&a, connections).send().await.unwrap().status(), 401);
    let renewed = Creds {
        org: a.org.clone(),
        client_id: a.client_id.clone(),
        client_secret: secret.clone(),
    };
    assert_eq!(
        hub.get(&renewed, connections)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(hub.get(&b, connections).send().await.unwrap().status(), 200);
    // Shown once: the settings page does not show it again.
    assert!(!browser
        .get("/console/settings")
        .await
        .body
        .contains(&secret));
}
