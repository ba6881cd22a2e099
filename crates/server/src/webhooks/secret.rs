//! A webhook endpoint's signing secret at rest: sealed under the hub's key ring
//! (`secrets_key`) when it has one, bound to its organisation and endpoint, so the database
//! alone never yields a key that signs. Without a key ring it is kept as is (the hub must sign
//! with it, so a hash would not do); the README says to configure one.

use bankfeeds_domain::webhook::{SecretAtRest, WebhookEndpoint, WebhookId, WebhookSecret};
use bankfeeds_domain::OrgId;

use bankfeeds_store::{DynStore, StoreResult};
use base64::Engine;

use crate::sealed::{Keyring, SealContext};

fn context(org: OrgId, id: WebhookId) -> SealContext {
    SealContext::new("webhook_secret", &format!("{org}/{id}"))
}

/// What to store for `secret`, the signing secret of endpoint `id` of `org`.
pub fn at_rest(
    keyring: Option<&Keyring>,
    org: OrgId,
    id: WebhookId,
    secret: &WebhookSecret,
) -> SecretAtRest {
    match keyring {
        Some(k) => SecretAtRest::new(k.seal_text(&context(org, id), secret.expose().as_bytes())),
        None => SecretAtRest::from(secret),
    }
}

/// Seals a new endpoint's fresh secret (as `decide_create` made it) for storing; returns it in
/// clear, to be shown once.
pub fn seal_new(keyring: Option<&Keyring>, e: &mut WebhookEndpoint) -> WebhookSecret {
    let secret = e
        .secret
        .clear()
        .expect("a new endpoint's secret is not sealed yet");
    e.secret = at_rest(keyring, e.org_id, e.id, &secret);
    secret
}

/// A new signing secret for endpoint `id` of `org`: in clear (shown once) and as stored.
pub fn rotated(
    keyring: Option<&Keyring>,
    org: OrgId,
    id: WebhookId,
) -> (WebhookSecret, SecretAtRest) {
    let secret = WebhookSecret::generate();
    let stored = at_rest(keyring, org, id, &secret);
    (secret, stored)
}

/// The endpoint's signing secret, opened; `None` when it is sealed and this hub's key ring
/// (if any) cannot open it.
pub fn open(keyring: Option<&Keyring>, e: &WebhookEndpoint) -> Option<WebhookSecret> {
    if let Some(clear) = e.secret.clear() {
        return Some(clear);
    }
    let bytes = keyring?
        .open_text(&context(e.org_id, e.id), e.secret.as_stored())
        .ok()?;
    WebhookSecret::from_stored(String::from_utf8(bytes).ok()?)
}

/// Seals again, under the key ring's first key, every stored secret that is kept as is (made
/// before a key ring was configured) or sealed under an older key (after a rotation), so the
/// old key can be dropped. Each one is replaced only if it is still what was read (a rotation
/// meanwhile wins). Returns how many were re-sealed; one that no key opens is left, logged.
pub async fn reseal_all(store: &DynStore, keyring: &Keyring) -> StoreResult<usize> {
    let mut done = 0;
    for (org, id, stored) in store.webhook_secrets().await? {
        let secret = match stored.clear() {
            Some(clear) => clear,
            None => {
                let current = base64::engine::general_purpose::STANDARD
                    .decode(stored.as_stored())
                    .is_ok_and(|bytes| !keyring.needs_reseal(&bytes));
                if current {
                    continue;
                }
                let opened = keyring
                    .open_text(&context(org, id), stored.as_stored())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(WebhookSecret::from_stored);
                match opened {
                    Some(s) => s,
                    None => {
                        tracing::warn!(webhook_id = %id, "a webhook secret no configured key opens; rotate it");
                        continue;
                    }
                }
            }
        };
        let sealed = at_rest(Some(keyring), org, id, &secret);
        if store.reseal_webhook_secret(id, &stored, &sealed).await? {
            done += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use bankfeeds_domain::webhook::{decide_create, WebhookRequest};
    use bankfeeds_domain::{Clock, SystemClock};

    use super::*;

    fn endpoint() -> WebhookEndpoint {
        let req = WebhookRequest {
            url: "https://hooks.example/in".into(),
            event_types: Vec::new(),
            description: None,
        };
        decide_create(OrgId::new(), &req, false, SystemClock.now()).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_the_key_and_only_for_its_endpoint() {
        let keyring = Keyring::new(&[[7u8; 32]]).unwrap();
        let other = Keyring::new(&[[8u8; 32]]).unwrap();
        let mut e = endpoint();
        let secret = e.secret.clear().expect("a new endpoint's secret is clear");
        e.secret = at_rest(Some(&keyring), e.org_id, e.id, &secret);
        assert!(e.secret.clear().is_none(), "sealed, not kept as is");
        assert!(!e.secret.as_stored().contains(secret.expose()));
        assert_eq!(open(Some(&keyring), &e), Some(secret.clone()));
        assert_eq!(open(Some(&other), &e), None, "another hub's key");
        assert_eq!(open(None, &e), None, "no key");
        // Copied onto another endpoint, it does not open.
        let mut moved = endpoint();
        moved.secret = e.secret.clone();
        assert_eq!(open(Some(&keyring), &moved), None);
        // Without a key ring it is kept as is, and still opens once a key ring exists.
        let mut plain = endpoint();
        let s = plain.secret.clear().unwrap();
        plain.secret = at_rest(None, plain.org_id, plain.id, &s);
        assert_eq!(open(Some(&keyring), &plain), Some(s));
    }
}
