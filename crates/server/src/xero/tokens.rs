//! A tenant's tokens at rest: sealed under the key ring, bound to their connection, as the
//! store's `live_tenants.tokens_sealed`. The consent pages seal them when the customer connects;
//! the worker opens them, refreshes them when stale and stores the refresh by compare-and-set.

use bankfeeds_domain::ConnectionId;
use serde::{Deserialize, Serialize};

use super::Tokens;
use crate::sealed::{Keyring, SealContext};

/// The purpose a tenant's tokens are sealed for.
pub const PURPOSE: &str = "live.tokens";

/// What the sealed tokens of `connection` are bound to.
pub fn context(connection: ConnectionId) -> SealContext {
    SealContext::new(PURPOSE, &connection.to_string())
}

#[derive(Serialize, Deserialize)]
struct AtRest {
    access_token: String,
    refresh_token: String,
    access_expires_at: bankfeeds_domain::Timestamp,
}

/// Seals `tokens` for `connection`.
pub fn seal(keyring: &Keyring, connection: ConnectionId, tokens: &Tokens) -> String {
    let at_rest = AtRest {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
        access_expires_at: tokens.access_expires_at,
    };
    let json = serde_json::to_vec(&at_rest).expect("tokens serialise");
    keyring.seal_text(&context(connection), &json)
}

/// Opens `connection`'s sealed tokens; `None` when they do not open (another key ring, another
/// row) or are not tokens.
pub fn open(keyring: &Keyring, connection: ConnectionId, sealed: &str) -> Option<Tokens> {
    let json = keyring.open_text(&context(connection), sealed).ok()?;
    let at_rest: AtRest = serde_json::from_slice(&json).ok()?;
    Some(Tokens {
        access_token: at_rest.access_token,
        refresh_token: at_rest.refresh_token,
        access_expires_at: at_rest.access_expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_for_their_connection() {
        let keys = Keyring::from_config(&Keyring::generate_key())
            .unwrap()
            .unwrap();
        let (a, b) = (ConnectionId::new(), ConnectionId::new());
        let tokens = Tokens {
            access_token: "access-1".into(),
            refresh_token: "refresh-1".into(),
            access_expires_at: "2026-12-04T12:00:00Z".parse().unwrap(),
        };
        let sealed = seal(&keys, a, &tokens);
        assert!(!sealed.contains("refresh-1"));
        assert_eq!(open(&keys, a, &sealed), Some(tokens));
        assert_eq!(open(&keys, b, &sealed), None);
    }
}
