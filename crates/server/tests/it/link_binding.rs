//! Issue 12, item 8: a link challenge belongs to the browser that started it, and a GET of the
//! redirect back from the bank changes nothing. An attacker who starts a link in their own
//! company and gets a victim to finish it with the victim's bank login connects nothing; the
//! challenge and the OTP stay usable from the browser that started the link.

use bankfeeds_domain::{Platform, Secret};
use serde_json::json;

use crate::helpers::{err, ok, Hub, Sandbox};
use crate::link_flow::{fi_login, list_bank};
use crate::pages::{error_code, field, see_other, Browser};

crate::on_both_backends!(
    a_redirect_from_another_browser_is_refused_and_changes_nothing,
    the_json_redirect_needs_the_binding_connect_gave,
);

/// Whether the link challenge is still bound to no browser.
pub(crate) async fn unbound(hub: &Hub, challenge: &str) -> bool {
    let c = hub
        .store
        .get_challenge(&Secret::from_presented(challenge).hash())
        .await
        .unwrap()
        .unwrap();
    c.bound_at.is_none()
}

async fn a_redirect_from_another_browser_is_refused_and_changes_nothing(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    hub.list_demo_bank(&bank, "INTUIT_BANK_FEEDS", "US").await;
    let (_, token) = hub.connection(&bank, "INTUIT_BANK_FEEDS").await;
    let fields = json!({"internal_bank_account_id": "CHK-1", "bank_account_type": "bank", "currency_code": "USD"});
    hub.create_account(&bank, &token, fields).await;

    // The attacker starts a link in their own company; their browser holds the binding.
    let mut attacker = Browser::new(&hub);
    let company = attacker
        .create_company("/sandbox/intuit", "Attacker Books")
        .await;
    let (_, login) = attacker.connect(&company).await;
    assert!(attacker
        .cookie("bf_binding")
        .is_some_and(|b| b.starts_with("bfbb_")));

    // The victim opens the bank's login URL the attacker sent, signs in, and comes back.
    let mut victim = Browser::anonymous(&hub);
    let signin = victim.get(&login).await;
    let back = victim.sign_in_to_demo_bank(&signin).await;
    let challenge = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "challenge")
        .unwrap()
        .1
        .into_owned();
    // Without the binding, and with a binding of its own (from a link it started itself).
    for binding in [None, Some("bfbb_".to_owned() + &"A".repeat(43))] {
        if let Some(b) = &binding {
            victim.set_cookie("bf_binding", b);
        }
        let page = victim.get(&back).await;
        assert_eq!(
            (page.status, error_code(&page).as_str()),
            (400, "CHALLENGE_NOT_THIS_BROWSER"),
            "{}",
            page.body
        );
        assert!(page.body.contains("another browser"), "{}", page.body);
        // Posting "Continue" anyway (with a CSRF token of its own) is refused the same way.
        let csrf = field(&victim.get("/sandbox/signin").await, "csrf");
        let posted = victim.post(&back, &[("csrf", &csrf)]).await;
        assert_eq!(error_code(&posted), "CHALLENGE_NOT_THIS_BROWSER");
        assert!(
            unbound(&hub, &challenge).await,
            "the challenge is not used up"
        );
    }
    assert!(victim.cookie("bf_link").is_none());

    // The Continue POST needs its CSRF token too.
    let page = attacker.get(&back).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let forged = attacker.post(&back, &[("csrf", &"A".repeat(43))]).await;
    assert_eq!(error_code(&forged), "CSRF_TOKEN_INVALID");
    // Two GETs (a mail scanner's prefetch, say) changed nothing: from the starting browser
    // the same challenge and OTP still work.
    assert!(unbound(&hub, &challenge).await);
    assert_eq!(
        see_other(&attacker.come_back(&back).await),
        "/link/intuit/select"
    );
    assert!(!unbound(&hub, &challenge).await);
    assert!(!attacker.seen.contains("bfotp_") && !victim.seen.contains("bfotp_"));
}

async fn the_json_redirect_needs_the_binding_connect_gave(hub: Hub) {
    let bank = hub.org("Demo Bank").await;
    list_bank(&hub, &bank, "XERO").await;
    let xero = Sandbox::of(&hub, "XERO");
    let company = xero.company("Acme Books").await;
    let connect = xero.connect(&company, &bank).await;
    let challenge = connect["challenge"].as_str().unwrap().to_owned();
    let binding = connect["browser_binding"].as_str().unwrap().to_owned();
    assert!(binding.starts_with("bfbb_"), "{connect}");
    let (_, accounts, otp) = fi_login(&hub, &bank, "XERO").await;
    let other = xero.challenge(&company, &bank).await;
    for wrong in [
        None,
        Some(xero.binding(&other)),
        Some("bfbb_made-up".to_owned()),
    ] {
        err(
            xero.redirect_with(&challenge, &otp, wrong.as_deref()).await,
            400,
            "CHALLENGE_NOT_THIS_BROWSER",
        )
        .await;
    }
    assert!(unbound(&hub, &challenge).await);
    // The OTP was not used up either.
    let bound = ok(xero.redirect_with(&challenge, &otp, Some(&binding)).await).await;
    assert_eq!(bound["bank_feed_accounts"][0]["id"], accounts[0].as_str());
    assert_eq!(hub.companies(Platform::Xero).await.len(), 1);
}
