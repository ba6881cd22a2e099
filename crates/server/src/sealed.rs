//! Secrets kept encrypted at rest (platform app credentials, OAuth tokens): sealed with
//! ChaCha20-Poly1305 under a key from the configuration (`secrets_key`), bound to the row they
//! belong to by an associated-data [`SealContext`], so a sealed value copied into another row
//! (another organisation, another purpose) does not open.
//!
//! Several keys may be configured for rotation: the first seals, every one opens. A sealed
//! value names its key by a short id (the first bytes of the key's SHA-256), so opening does not
//! try keys in turn, and a value sealed under a key no longer configured is refused as
//! [`OpenError::UnknownKey`] instead of looking corrupt.
//!
//! Layout: `version (1) | key id (4) | nonce (12) | ciphertext | tag (16)`; the version and key
//! id are part of the associated data too.

use std::fmt;

use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Bytes of a key, before base64.
pub const KEY_LEN: usize = 32;

/// What a sealed value belongs to: its purpose (a constant such as `xero.client_secret`) and
/// the row it is stored in (an organisation id, with a platform or account when several rows of
/// one organisation hold the same purpose). Both are bound into the ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealContext(String);

impl SealContext {
    /// `purpose` names what the value is; `row` names where it is stored. Neither may contain
    /// a `|` (so two different pairs never give one context).
    pub fn new(purpose: &str, row: &str) -> Self {
        assert!(
            !purpose.contains('|') && !row.contains('|'),
            "a seal context's parts hold no '|'"
        );
        Self(format!("bankfeeds-seal|{purpose}|{row}"))
    }

    fn aad(&self, header: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(header.len() + self.0.len());
        aad.extend_from_slice(&header[..1 + KEY_ID_LEN]);
        aad.extend_from_slice(self.0.as_bytes());
        aad
    }
}

/// What a platform app's sealed credential (`platform_connectors`) is bound to: its purpose
/// and the organisation and platform. The connector setting seals them, the live worker opens.
pub fn credential_context(
    purpose: &str,
    org: bankfeeds_domain::OrgId,
    platform: bankfeeds_domain::Platform,
) -> SealContext {
    SealContext::new(purpose, &format!("{org}/{}", platform.as_str()))
}

pub const CLIENT_ID: &str = "connector.client_id";
pub const CLIENT_SECRET: &str = "connector.client_secret";

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value was sealed under a key that is not configured")]
    UnknownKey,
    /// Tampered with, or sealed for another row or purpose.
    #[error("the sealed value does not open in this context")]
    Refused,
}

/// Why configured keys were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("secrets_key entry {0} is not base64")]
    NotBase64(usize),
    #[error("secrets_key entry {0} is not 32 bytes")]
    WrongLength(usize),
    #[error("secrets_key lists the same key twice")]
    Duplicate,
}

struct Key {
    id: [u8; KEY_ID_LEN],
    aead: LessSafeKey,
}

/// The configured keys. `Debug` shows only their ids.
pub struct Keyring {
    keys: Vec<Key>,
    rng: SystemRandom,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| hex::encode(k.id)).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

impl Keyring {
    /// Parses `secrets_key`: base64 keys of 32 bytes separated by commas (whitespace around each
    /// is ignored), the sealing key first. `Ok(None)` when there is none.
    pub fn from_config(value: &str) -> Result<Option<Self>, KeyError> {
        let mut raw = Vec::new();
        for (i, part) in value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(part)
                .map_err(|_| KeyError::NotBase64(i + 1))?;
            let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| KeyError::WrongLength(i + 1))?;
            raw.push(key);
        }
        if raw.is_empty() {
            return Ok(None);
        }
        Self::new(&raw).map(Some)
    }

    /// A keyring of these keys, the first sealing.
    pub fn new(keys: &[[u8; KEY_LEN]]) -> Result<Self, KeyError> {
        let mut out: Vec<Key> = Vec::with_capacity(keys.len());
        for key in keys {
            let digest = Sha256::digest(key);
            let mut id = [0u8; KEY_ID_LEN];
            id.copy_from_slice(&digest[..KEY_ID_LEN]);
            if out.iter().any(|k| k.id == id) {
                return Err(KeyError::Duplicate);
            }
            let unbound = UnboundKey::new(&CHACHA20_POLY1305, key).expect("a 32-byte key");
            out.push(Key {
                id,
                aead: LessSafeKey::new(unbound),
            });
        }
        assert!(!out.is_empty(), "a keyring has at least one key");
        Ok(Self {
            keys: out,
            rng: SystemRandom::new(),
        })
    }

    /// A new random key, base64: what an operator puts in `secrets_key`.
    pub fn generate_key() -> String {
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system's random source");
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Seals `plaintext` for `context` under the first key, with a fresh random nonce.
    pub fn seal(&self, context: &SealContext, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .expect("the system's random source");
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        let aad = context.aad(&out);
        let mut body = plaintext.to_vec();
        key.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .expect("sealing never fails for in-memory sizes");
        out.extend_from_slice(&body);
        out
    }

    /// Opens what [`Keyring::seal`] gave for the same `context`, under whichever configured
    /// key sealed it.
    pub fn open(&self, context: &SealContext, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let (header, body) = sealed.split_at(HEADER_LEN);
        let key = self
            .keys
            .iter()
            .find(|k| k.id[..] == header[1..1 + KEY_ID_LEN])
            .ok_or(OpenError::UnknownKey)?;
        let nonce = Nonce::try_assume_unique_for_key(&header[1 + KEY_ID_LEN..])
            .map_err(|_| OpenError::Malformed)?;
        let mut body = body.to_vec();
        let plain = key
            .aead
            .open_in_place(nonce, Aad::from(context.aad(header)), &mut body)
            .map_err(|_| OpenError::Refused)?;
        Ok(plain.to_vec())
    }

    /// [`Keyring::seal`] as base64 text, for a text column.
    pub fn seal_text(&self, context: &SealContext, plaintext: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.seal(context, plaintext))
    }

    /// [`Keyring::open`] of what [`Keyring::seal_text`] gave.
    pub fn open_text(&self, context: &SealContext, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| OpenError::Malformed)?;
        self.open(context, &bytes)
    }

    /// Whether `sealed` was sealed under a key other than the sealing one: a value to re-seal
    /// after a rotation.
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        sealed.len() < HEADER_LEN || sealed[1..1 + KEY_ID_LEN] != self.keys[0].id[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[[u8; KEY_LEN]]) -> Keyring {
        Keyring::new(keys).unwrap()
    }

    #[test]
    fn sealed_values_open_only_in_their_own_context() {
        let keys = ring(&[[7; KEY_LEN]]);
        let here = SealContext::new("xero.client_secret", "org-1");
        let sealed = keys.seal(&here, b"s3cret");
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"), "not in clear");
        assert_eq!(keys.open(&here, &sealed).unwrap(), b"s3cret");
        // Copied to another organisation's row, or read as another purpose: refused.
        let other_org = SealContext::new("xero.client_secret", "org-2");
        let other_purpose = SealContext::new("xero.client_id", "org-1");
        assert_eq!(keys.open(&other_org, &sealed), Err(OpenError::Refused));
        assert_eq!(keys.open(&other_purpose, &sealed), Err(OpenError::Refused));
        // Two seals of one value differ (fresh nonce).
        assert_ne!(keys.seal(&here, b"s3cret"), sealed);
        let text = keys.seal_text(&here, b"s3cret");
        assert_eq!(keys.open_text(&here, &text).unwrap(), b"s3cret");
        assert_eq!(keys.open_text(&other_org, &text), Err(OpenError::Refused));
        assert_eq!(keys.open_text(&here, "%%"), Err(OpenError::Malformed));
    }

    #[test]
    fn tampering_and_truncation_are_refused() {
        let keys = ring(&[[7; KEY_LEN]]);
        let cx = SealContext::new("p", "r");
        let sealed = keys.seal(&cx, b"value");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(keys.open(&cx, &bad).is_err(), "byte {i} flipped");
        }
        assert_eq!(keys.open(&cx, &sealed[..10]), Err(OpenError::Malformed));
        assert_eq!(keys.open(&cx, b""), Err(OpenError::Malformed));
    }

    #[test]
    fn rotation_first_key_seals_every_key_opens() {
        let old = ring(&[[1; KEY_LEN]]);
        let cx = SealContext::new("p", "r");
        let before = old.seal(&cx, b"v");
        let rotated = ring(&[[2; KEY_LEN], [1; KEY_LEN]]);
        assert_eq!(rotated.open(&cx, &before).unwrap(), b"v");
        assert!(rotated.needs_reseal(&before));
        let after = rotated.seal(&cx, b"v");
        assert!(!rotated.needs_reseal(&after));
        assert_eq!(old.open(&cx, &after), Err(OpenError::UnknownKey));
        let retired = ring(&[[2; KEY_LEN]]);
        assert_eq!(retired.open(&cx, &before), Err(OpenError::UnknownKey));
        assert_eq!(retired.open(&cx, &after).unwrap(), b"v");
    }

    #[test]
    fn configured_keys_are_parsed_and_checked() {
        assert!(Keyring::from_config("").unwrap().is_none());
        assert!(Keyring::from_config(" , ").unwrap().is_none());
        let a = Keyring::generate_key();
        let b = Keyring::generate_key();
        let ring = Keyring::from_config(&format!(" {a} , {b}"))
            .unwrap()
            .unwrap();
        assert_eq!(ring.keys.len(), 2);
        assert!(!format!("{ring:?}").contains(&a), "Debug shows ids only");
        assert_eq!(
            Keyring::from_config("not base64!").unwrap_err(),
            KeyError::NotBase64(1)
        );
        assert_eq!(
            Keyring::from_config(&format!("{a},AAAA")).unwrap_err(),
            KeyError::WrongLength(2)
        );
        assert_eq!(
            Keyring::from_config(&format!("{a},{a}")).unwrap_err(),
            KeyError::Duplicate
        );
    }
}
