//! A customer's consent at a live platform (Xero): the OAuth 2.0 authorization-code flow with
//! PKCE. "Connect to Xero" stores a consent under the digest of a random `state`, bound to the
//! browser that asked (the link binding's digest) and expiring; Xero sends the browser back
//! with `state` and a code, which is accepted once, from that browser, in time. The customer
//! then picks the Xero organisation (tenant) and the accounts; completing the consent stores
//! the tokens and starts the feed connections.

use chrono::TimeDelta;
use sha2::{Digest, Sha256};

use crate::secret::SecretHash;
use crate::{ConnectionId, OrgId, Platform, Timestamp};

/// How long Xero's sign-in may take before the `state` it carries back is refused.
pub const AUTHORIZE_TTL: TimeDelta = TimeDelta::minutes(15);
/// How long the customer has to pick the organisation and the accounts after coming back.
pub const CHOOSE_TTL: TimeDelta = TimeDelta::minutes(30);

/// One Xero organisation the consent covers (`GET /connections`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentTenant {
    pub id: String,
    pub name: String,
}

/// A consent on its way: the customer was sent to the platform, came back, is choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConsent {
    /// The digest of the OAuth `state`, the consent's key.
    pub state_hash: SecretHash,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub platform: Platform,
    /// The digest of the binding of the browser that asked.
    pub browser: SecretHash,
    /// The PKCE verifier, sealed by the server (opaque here).
    pub verifier_sealed: String,
    /// The tokens the code was exchanged for, sealed; set by the callback.
    pub tokens_sealed: Option<String>,
    /// The organisations the consent covers; set by the callback.
    pub tenants: Vec<ConsentTenant>,
    /// The organisation the customer picked.
    pub tenant_id: Option<String>,
    pub created_at: Timestamp,
    pub called_back_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
}

/// Why a step of the consent is refused (a page's stable code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentRefusal {
    /// No consent has this `state` (or the page was opened without one).
    Unknown,
    /// Xero took longer than [`AUTHORIZE_TTL`], or the choice longer than [`CHOOSE_TTL`].
    Expired,
    /// The `state` came back before: a callback is accepted once.
    Used,
    /// Another browser started this consent.
    NotThisBrowser,
    /// Choosing before coming back from Xero, or the organisation not yet picked.
    NotReady,
    /// The organisation picked is not one the consent covers.
    UnknownTenant,
    /// An account chosen is not one of the connection's.
    UnknownAccount,
}

impl ConsentRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ConsentRefusal::Unknown => "CONSENT_UNKNOWN",
            ConsentRefusal::Expired => "CONSENT_EXPIRED",
            ConsentRefusal::Used => "CONSENT_USED",
            ConsentRefusal::NotThisBrowser => "CONSENT_NOT_THIS_BROWSER",
            ConsentRefusal::NotReady => "CONSENT_NOT_READY",
            ConsentRefusal::UnknownTenant => "UNKNOWN_TENANT",
            ConsentRefusal::UnknownAccount => "UNKNOWN_ACCOUNT",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            ConsentRefusal::Unknown | ConsentRefusal::Used => {
                "This Xero sign-in was already used or is not one this page started. Start again from your bank's link page."
            }
            ConsentRefusal::Expired => {
                "This Xero sign-in took too long. Start again from your bank's link page."
            }
            ConsentRefusal::NotThisBrowser => {
                "This Xero sign-in was started in another browser. Start again from your bank's link page in this browser."
            }
            ConsentRefusal::NotReady => {
                "Sign in to Xero and pick the organisation first. Start again from your bank's link page."
            }
            ConsentRefusal::UnknownTenant => {
                "That Xero organisation is not one you gave access to. Go back and pick again."
            }
            ConsentRefusal::UnknownAccount => {
                "One of the accounts chosen is not yours to connect. Go back and try again."
            }
        }
    }
}

/// Whether Xero's redirect back may use `consent` (found by its `state`), from `browser`, at
/// `now`: once, from the browser that asked, within [`AUTHORIZE_TTL`].
pub fn check_callback(
    consent: Option<&LiveConsent>,
    browser: Option<&SecretHash>,
    now: Timestamp,
) -> Result<(), ConsentRefusal> {
    let c = consent.ok_or(ConsentRefusal::Unknown)?;
    if !browser.is_some_and(|b| b.matches(&c.browser)) {
        return Err(ConsentRefusal::NotThisBrowser);
    }
    if c.called_back_at.is_some() || c.completed_at.is_some() {
        return Err(ConsentRefusal::Used);
    }
    if c.created_at + AUTHORIZE_TTL <= now {
        return Err(ConsentRefusal::Expired);
    }
    Ok(())
}

/// Whether the customer may go on choosing (`need_tenant`: the organisation must be picked
/// already) with `consent`, from `browser`, at `now`: after the callback stored the tokens,
/// before completion, within [`CHOOSE_TTL`] of the callback.
pub fn check_choosing(
    consent: Option<&LiveConsent>,
    browser: Option<&SecretHash>,
    need_tenant: bool,
    now: Timestamp,
) -> Result<(), ConsentRefusal> {
    let c = consent.ok_or(ConsentRefusal::Unknown)?;
    if !browser.is_some_and(|b| b.matches(&c.browser)) {
        return Err(ConsentRefusal::NotThisBrowser);
    }
    if c.completed_at.is_some() {
        return Err(ConsentRefusal::Used);
    }
    let (Some(back), Some(_)) = (c.called_back_at, c.tokens_sealed.as_ref()) else {
        return Err(ConsentRefusal::NotReady);
    };
    if back + CHOOSE_TTL <= now {
        return Err(ConsentRefusal::Expired);
    }
    if need_tenant && c.tenant_id.is_none() {
        return Err(ConsentRefusal::NotReady);
    }
    Ok(())
}

/// Whether the customer may complete `consent` with the accounts chosen: still choosing, the
/// organisation picked, and every chosen account a live account of the consent's connection
/// (`all_chosen_live`, which the store loads once the consent is found).
pub fn check_completion(
    consent: Option<&LiveConsent>,
    browser: Option<&SecretHash>,
    all_chosen_live: bool,
    now: Timestamp,
) -> Result<(), ConsentRefusal> {
    check_choosing(consent, browser, true, now)?;
    if !all_chosen_live {
        return Err(ConsentRefusal::UnknownAccount);
    }
    Ok(())
}

/// Whether `tenant` is one the consent covers.
pub fn check_tenant(consent: &LiveConsent, tenant: &str) -> Result<(), ConsentRefusal> {
    if consent.tenants.iter().any(|t| t.id == tenant) {
        Ok(())
    } else {
        Err(ConsentRefusal::UnknownTenant)
    }
}

/// Whether a connection's feed connections carry over to a new consent: only when it is for
/// the tenant they were made in. A feed connection belongs to one Xero organisation; after the
/// customer chose another, each feed must ask that one for a feed connection anew.
pub fn feeds_carry_over(previous_tenant: Option<&str>, chosen: Option<&str>) -> bool {
    previous_tenant.is_none() || previous_tenant == chosen
}

/// The PKCE `code_challenge` of `verifier` (S256: base64url of its SHA-256, unpadded).
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Secret, SecretKind};

    fn consent(now: Timestamp, browser: &Secret) -> LiveConsent {
        LiveConsent {
            state_hash: Secret::generate(SecretKind::ConsentState).hash(),
            org_id: OrgId::new(),
            connection_id: ConnectionId::new(),
            platform: Platform::Xero,
            browser: browser.hash(),
            verifier_sealed: "sealed".into(),
            tokens_sealed: None,
            tenants: vec![ConsentTenant {
                id: "t-1".into(),
                name: "Books".into(),
            }],
            tenant_id: None,
            created_at: now,
            called_back_at: None,
            completed_at: None,
        }
    }

    #[test]
    fn a_callback_is_accepted_once_from_its_browser_in_time() {
        let now: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let mine = Secret::generate(SecretKind::BrowserBinding);
        let other = Secret::generate(SecretKind::BrowserBinding).hash();
        let c = consent(now, &mine);
        let me = Some(mine.hash());
        assert_eq!(check_callback(Some(&c), me.as_ref(), now), Ok(()));
        assert_eq!(
            check_callback(None, me.as_ref(), now),
            Err(ConsentRefusal::Unknown)
        );
        assert_eq!(
            check_callback(Some(&c), Some(&other), now),
            Err(ConsentRefusal::NotThisBrowser)
        );
        assert_eq!(
            check_callback(Some(&c), None, now),
            Err(ConsentRefusal::NotThisBrowser)
        );
        assert_eq!(
            check_callback(Some(&c), me.as_ref(), now + AUTHORIZE_TTL),
            Err(ConsentRefusal::Expired)
        );
        let used = LiveConsent {
            called_back_at: Some(now),
            ..c.clone()
        };
        assert_eq!(
            check_callback(Some(&used), me.as_ref(), now),
            Err(ConsentRefusal::Used)
        );
    }

    #[test]
    fn feed_connections_carry_over_only_within_their_tenant() {
        assert!(feeds_carry_over(None, Some("t-1")), "a first consent");
        assert!(feeds_carry_over(Some("t-1"), Some("t-1")));
        assert!(!feeds_carry_over(Some("t-1"), Some("t-2")));
    }

    #[test]
    fn choosing_needs_the_callback_then_the_tenant_and_ends_at_completion() {
        let now: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let mine = Secret::generate(SecretKind::BrowserBinding);
        let me = Some(mine.hash());
        let c = consent(now, &mine);
        assert_eq!(
            check_choosing(Some(&c), me.as_ref(), false, now),
            Err(ConsentRefusal::NotReady)
        );
        let back = LiveConsent {
            called_back_at: Some(now),
            tokens_sealed: Some("t".into()),
            ..c.clone()
        };
        assert_eq!(check_choosing(Some(&back), me.as_ref(), false, now), Ok(()));
        assert_eq!(
            check_choosing(Some(&back), me.as_ref(), true, now),
            Err(ConsentRefusal::NotReady)
        );
        assert_eq!(
            check_choosing(Some(&back), me.as_ref(), false, now + CHOOSE_TTL),
            Err(ConsentRefusal::Expired)
        );
        let picked = LiveConsent {
            tenant_id: Some("t-1".into()),
            ..back.clone()
        };
        assert_eq!(
            check_choosing(Some(&picked), me.as_ref(), true, now),
            Ok(())
        );
        assert_eq!(
            check_completion(Some(&picked), me.as_ref(), true, now),
            Ok(())
        );
        assert_eq!(
            check_completion(Some(&picked), me.as_ref(), false, now),
            Err(ConsentRefusal::UnknownAccount),
            "an account not live on the connection"
        );
        assert_eq!(
            check_completion(Some(&back), me.as_ref(), false, now),
            Err(ConsentRefusal::NotReady),
            "the state of the consent is judged before the accounts"
        );
        let done = LiveConsent {
            completed_at: Some(now),
            ..picked
        };
        assert_eq!(
            check_choosing(Some(&done), me.as_ref(), true, now),
            Err(ConsentRefusal::Used)
        );
        assert_eq!(check_tenant(&back, "t-1"), Ok(()));
        assert_eq!(
            check_tenant(&back, "t-2"),
            Err(ConsentRefusal::UnknownTenant)
        );
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
