//! Operators: the people who run an organisation's side of the hub through the console.
//!
//! An operator belongs to one organisation (the email is unique within it), signs in with a
//! password kept only as an Argon2id hash, and is first given a one-time setup link (a random
//! token, stored as its digest, single use, expiring) to choose that password. A sign-in opens
//! a session (a random token in a cookie, stored as its digest) that expires and is revoked on
//! sign-out or when the operator is disabled. Failed sign-ins are throttled per email and per
//! client address ([`Throttle`]). Everything here is a rule; the store keeps the facts.

use std::fmt;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::TimeDelta;

use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{OrgId, Timestamp};

crate::define_id!(
    /// An operator of the console.
    OperatorId
);

/// How long a setup link can be used.
pub const SETUP_TTL: TimeDelta = TimeDelta::hours(72);
/// How long a console sign-in lasts.
pub const SESSION_TTL: TimeDelta = TimeDelta::hours(12);
/// The shortest password an operator may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest (Argon2 hashes anything, but a megabyte of password is an attack).
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorStatus {
    Active,
    Disabled,
}

str_enum!(OperatorStatus {
    Active => "active",
    Disabled => "disabled",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    pub org_id: OrgId,
    /// Normalised by [`normalize_email`].
    pub email: String,
    pub status: OperatorStatus,
    /// Whether a password has been chosen (through the setup link).
    pub has_password: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email must look like name@domain")]
    Malformed,
    #[error("email must be at most 254 characters")]
    TooLong,
}

/// The email as it is stored and compared: trimmed and lower-cased. It must have one `@` with
/// something on both sides and no whitespace or control characters.
pub fn normalize_email(raw: &str) -> Result<String, EmailError> {
    let email = raw.trim().to_lowercase();
    if email.chars().count() > 254 {
        return Err(EmailError::TooLong);
    }
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok {
        Ok(email)
    } else {
        Err(EmailError::Malformed)
    }
}

impl Operator {
    /// A new operator of `org` (no password yet) and its setup link's token, shown once.
    pub fn generate(
        org_id: OrgId,
        email: &str,
        now: Timestamp,
    ) -> Result<(Operator, NewSetupToken, Secret), EmailError> {
        let operator = Operator {
            id: OperatorId::new(),
            org_id,
            email: normalize_email(email)?,
            status: OperatorStatus::Active,
            has_password: false,
            created_at: now,
        };
        let (setup, secret) = NewSetupToken::generate(&operator, now);
        Ok((operator, setup, secret))
    }
}

/// An Argon2id hash in PHC string form. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("the password must be at least 12 characters")]
    TooShort,
    #[error("the password must be at most 256 characters")]
    TooLong,
    #[error("the two passwords differ")]
    Mismatch,
}

impl PasswordHash {
    /// The stored form, as read back from the database.
    pub fn from_stored(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Hashes a chosen password (and its confirmation) with Argon2id and a random salt.
    pub fn choose(password: &str, confirmation: &str) -> Result<Self, PasswordRefusal> {
        let n = password.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(PasswordRefusal::TooShort);
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(PasswordRefusal::TooLong);
        }
        if password != confirmation {
            return Err(PasswordRefusal::Mismatch);
        }
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("Argon2id with default parameters hashes any password");
        Ok(Self(hash.to_string()))
    }

    /// Whether `password` is the one hashed (constant time in the comparison; a stored value
    /// that is not a PHC string matches nothing).
    pub fn verify(&self, password: &str) -> bool {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return false;
        }
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// A setup link's token about to be stored.
#[derive(Debug, Clone)]
pub struct NewSetupToken {
    pub hash: SecretHash,
    pub operator_id: OperatorId,
    pub org_id: OrgId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl NewSetupToken {
    /// A fresh setup token for `operator`; the secret goes into the link, shown once.
    pub fn generate(operator: &Operator, now: Timestamp) -> (NewSetupToken, Secret) {
        let secret = Secret::generate(SecretKind::OperatorSetup);
        (
            NewSetupToken {
                hash: secret.hash(),
                operator_id: operator.id,
                org_id: operator.org_id,
                created_at: now,
                expires_at: now + SETUP_TTL,
            },
            secret,
        )
    }
}

/// Why a setup link cannot be used. The page shows one message for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupRefusal {
    Unknown,
    AlreadyUsed,
    Expired,
    OperatorDisabled,
}

/// A setup token as stored, with its operator's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRecord {
    pub operator_id: OperatorId,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub operator_status: OperatorStatus,
}

impl SetupRecord {
    /// Whether the token found for a hash (if any) may be used now: unknown, used, disabled,
    /// expired, checked in that order.
    pub fn usable(
        found: Option<&SetupRecord>,
        now: Timestamp,
    ) -> Result<&SetupRecord, SetupRefusal> {
        let t = found.ok_or(SetupRefusal::Unknown)?;
        if t.used_at.is_some() {
            Err(SetupRefusal::AlreadyUsed)
        } else if t.operator_status == OperatorStatus::Disabled {
            Err(SetupRefusal::OperatorDisabled)
        } else if t.expires_at <= now {
            Err(SetupRefusal::Expired)
        } else {
            Ok(t)
        }
    }
}

/// A console session about to be stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub hash: SecretHash,
    pub operator_id: OperatorId,
    pub org_id: OrgId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl NewSession {
    /// A session for `operator` from `now`; the token goes into the cookie.
    pub fn generate(operator: &Operator, now: Timestamp) -> (NewSession, Secret) {
        let secret = Secret::generate(SecretKind::OperatorSession);
        (
            NewSession {
                hash: secret.hash(),
                operator_id: operator.id,
                org_id: operator.org_id,
                created_at: now,
                expires_at: now + SESSION_TTL,
            },
            secret,
        )
    }
}

/// A session as stored, with its operator's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub operator_status: OperatorStatus,
    /// The operator's organisation is disabled (`bankfeeds org disable`).
    pub org_disabled: bool,
}

impl SessionRecord {
    /// A session admits its operator while it is neither revoked nor expired, the operator is
    /// active and their organisation is not disabled.
    pub fn live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && now < self.expires_at
            && self.operator_status == OperatorStatus::Active
            && !self.org_disabled
    }
}

/// Failed sign-ins in a row that lock an email.
pub const MAX_FAILURES_PER_EMAIL: u32 = 5;
/// Failed sign-ins in a row that lock a client address (it may try several emails).
pub const MAX_FAILURES_PER_PEER: u32 = 20;
/// How long a locked email or address stays locked.
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(15);

/// What a sign-in is throttled by: the email tried, or the client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    Email(String),
    Peer(String),
}

impl ThrottleKey {
    /// The key as stored.
    pub fn subject(&self) -> String {
        match self {
            ThrottleKey::Email(e) => format!("email:{e}"),
            ThrottleKey::Peer(p) => format!("peer:{p}"),
        }
    }

    fn limit(&self) -> u32 {
        match self {
            ThrottleKey::Email(_) => MAX_FAILURES_PER_EMAIL,
            ThrottleKey::Peer(_) => MAX_FAILURES_PER_PEER,
        }
    }
}

/// Failed sign-ins of one key: the count in a row and the lock they led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

impl Throttle {
    /// While locked, every sign-in of the key is refused, even with the right password.
    pub fn locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// The state after one more failure of `key`: the limit's failure locks the key for
    /// [`LOCKOUT`] and starts a new count; a failure while locked changes nothing.
    pub fn after_failure(self, key: &ThrottleKey, now: Timestamp) -> Throttle {
        if self.locked(now) {
            return self;
        }
        let failures = self.failures.saturating_add(1);
        if failures >= key.limit() {
            Throttle {
                failures: 0,
                locked_until: Some(now + LOCKOUT),
            }
        } else {
            Throttle {
                failures,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ops@Bank.Example ").unwrap(),
            "ops@bank.example"
        );
        for bad in ["", "ops", "@bank", "ops@", "a b@c", "a@b@c", "a\u{0}@b"] {
            assert_eq!(normalize_email(bad), Err(EmailError::Malformed), "{bad:?}");
        }
        let long = format!("{}@b.example", "a".repeat(250));
        assert_eq!(normalize_email(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn passwords_are_argon2id_and_verify_only_themselves() {
        let h = PasswordHash::choose("correct horse battery", "correct horse battery").unwrap();
        assert!(h.as_stored().starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery"));
        assert!(!h.verify("correct horse batter"));
        assert!(!format!("{h:?}").contains("argon2"));
        let again = PasswordHash::choose("correct horse battery", "correct horse battery").unwrap();
        assert_ne!(h, again, "salted");
        assert_eq!(
            PasswordHash::choose("short", "short"),
            Err(PasswordRefusal::TooShort)
        );
        assert_eq!(
            PasswordHash::choose("twelve chars", "twelve charz"),
            Err(PasswordRefusal::Mismatch)
        );
        let huge = "x".repeat(257);
        assert_eq!(
            PasswordHash::choose(&huge, &huge),
            Err(PasswordRefusal::TooLong)
        );
        assert!(!PasswordHash::from_stored("not a hash").verify("anything at all"));
    }

    #[test]
    fn setup_links_are_single_use_expire_and_die_with_their_operator() {
        let now = ts("2026-01-01T12:00:00Z");
        let (op, setup, secret) = Operator::generate(OrgId::new(), "a@b.example", now).unwrap();
        assert!(secret.expose().starts_with("bfos_"));
        assert_eq!(setup.hash, secret.hash());
        assert_eq!(setup.expires_at, now + SETUP_TTL);
        let rec = SetupRecord {
            operator_id: op.id,
            expires_at: setup.expires_at,
            used_at: None,
            operator_status: OperatorStatus::Active,
        };
        assert!(SetupRecord::usable(Some(&rec), now).is_ok());
        assert_eq!(SetupRecord::usable(None, now), Err(SetupRefusal::Unknown));
        assert_eq!(
            SetupRecord::usable(Some(&rec), rec.expires_at),
            Err(SetupRefusal::Expired)
        );
        let used = SetupRecord {
            used_at: Some(now),
            ..rec.clone()
        };
        assert_eq!(
            SetupRecord::usable(Some(&used), now),
            Err(SetupRefusal::AlreadyUsed)
        );
        let off = SetupRecord {
            operator_status: OperatorStatus::Disabled,
            ..rec
        };
        assert_eq!(
            SetupRecord::usable(Some(&off), now),
            Err(SetupRefusal::OperatorDisabled)
        );
    }

    #[test]
    fn sessions_end_when_expired_revoked_or_disabled() {
        let now = ts("2026-01-01T12:00:00Z");
        let s = SessionRecord {
            expires_at: now + SESSION_TTL,
            revoked_at: None,
            operator_status: OperatorStatus::Active,
            org_disabled: false,
        };
        assert!(s.live(now + TimeDelta::hours(11)));
        assert!(!s.live(s.expires_at));
        assert!(!SessionRecord {
            revoked_at: Some(now),
            ..s.clone()
        }
        .live(now));
        assert!(!SessionRecord {
            org_disabled: true,
            ..s.clone()
        }
        .live(now));
        assert!(!SessionRecord {
            operator_status: OperatorStatus::Disabled,
            ..s
        }
        .live(now));
    }

    #[test]
    fn failures_in_a_row_lock_a_key_for_a_while() {
        let now = ts("2026-01-01T12:00:00Z");
        let email = ThrottleKey::Email("a@b.example".into());
        let mut t = Throttle::default();
        for i in 1..MAX_FAILURES_PER_EMAIL {
            t = t.after_failure(&email, now);
            assert_eq!(
                t,
                Throttle {
                    failures: i,
                    locked_until: None
                }
            );
            assert!(!t.locked(now));
        }
        t = t.after_failure(&email, now);
        assert!(t.locked(now));
        assert_eq!(
            t.after_failure(&email, now),
            t,
            "failures while locked change nothing"
        );
        assert!(!t.locked(now + LOCKOUT));
        let peer = ThrottleKey::Peer("192.0.2.1".into());
        let mut p = Throttle::default();
        for _ in 1..MAX_FAILURES_PER_PEER {
            p = p.after_failure(&peer, now);
        }
        assert!(!p.locked(now));
        assert!(p.after_failure(&peer, now).locked(now));
        assert_eq!(email.subject(), "email:a@b.example");
        assert_eq!(peer.subject(), "peer:192.0.2.1");
    }
}
