//! Secrets: API client secrets, connection access tokens, OTPs, generated platform credentials.
//!
//! Each is 256 random bits behind a readable prefix (so a leaked one is recognisable by secret
//! scanners), shown to its owner once, and stored only as its SHA-256 digest. A fast digest is
//! right here: the input is uniformly random, so there is nothing for a slow KDF to protect
//! against. Comparison is constant time. `Debug` never prints the value.

use std::fmt;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// An organisation's API client secret (HTTP Basic password).
    ClientSecret,
    /// A connection's access token (`?access_token=`).
    AccessToken,
    /// A link-flow one-time password.
    Otp,
    /// A link-flow challenge (carried in the redirect to the FI's login page and back).
    Challenge,
    /// The password of generated bank feed credentials (typed into the accounting platform).
    FeedPassword,
    /// A company's (customer's) access token, for its link page (Codat's `accessToken`).
    CompanyToken,
    /// The nonce that binds a link challenge to the browser (or JSON client) that started it.
    BrowserBinding,
    /// A signed-in browser's session in the sandbox platforms.
    SandboxSession,
    /// A console operator's one-time setup link.
    OperatorSetup,
    /// A console operator's signed-in session.
    OperatorSession,
    /// The OAuth `state` of a customer's consent at a live platform (Xero).
    ConsentState,
    /// The PKCE `code_verifier` of a consent (RFC 7636: 43 to 128 unreserved characters).
    PkceVerifier,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "bfsk_",
            SecretKind::AccessToken => "bfat_",
            SecretKind::Otp => "bfotp_",
            SecretKind::Challenge => "bfch_",
            SecretKind::FeedPassword => "bfpw_",
            SecretKind::CompanyToken => "bfct_",
            SecretKind::BrowserBinding => "bfbb_",
            SecretKind::SandboxSession => "bfss_",
            SecretKind::OperatorSetup => "bfos_",
            SecretKind::OperatorSession => "bfop_",
            SecretKind::ConsentState => "bfcs_",
            SecretKind::PkceVerifier => "bfpk_",
        }
    }
}

/// A secret in clear. Lives only long enough to be shown once or checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn generate(kind: SecretKind) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Secret(format!("{}{}", kind.prefix(), body))
    }

    /// Wraps a value received from a caller.
    pub fn from_presented(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The stored form of a secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Constant-time check of a presented secret against this digest.
    pub fn verify(&self, presented: &Secret) -> bool {
        bool::from(self.0.ct_eq(&presented.hash().0))
    }

    /// Constant-time equality of two digests (a stored one and a presented one's).
    pub fn matches(&self, other: &SecretHash) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(SecretHash(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The digest is not secret in itself, but it is a lookup key: keep it out of logs too.
        f.write_str("SecretHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_unique_and_verify_only_themselves() {
        let a = Secret::generate(SecretKind::AccessToken);
        let b = Secret::generate(SecretKind::AccessToken);
        assert!(a.expose().starts_with("bfat_"));
        assert_ne!(a, b);
        assert!(a.expose().len() > 40);
        let stored = a.hash();
        assert!(stored.verify(&Secret::from_presented(a.expose())));
        assert!(!stored.verify(&b));
        assert_eq!(SecretHash::from_hex(&stored.to_hex()), Some(stored));
        assert_eq!(SecretHash::from_hex("zz"), None);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::generate(SecretKind::ClientSecret);
        assert!(!format!("{s:?}").contains(s.expose()));
        assert!(!format!("{:?}", s.hash()).contains(&s.hash().to_hex()));
    }
}
