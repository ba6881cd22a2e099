//! OFX Direct Connect credentials: what a customer types into Quicken, QuickBooks Desktop or
//! GnuCash to download an `OFX_DIRECT_CONNECT` connection's feeds, and the sign-on rules.
//!
//! One set per connection: a new set replaces the old one, and revoking deletes it. The user id
//! is not secret; the password is 24 random characters (120 bits) from an alphabet every client
//! accepts and no one misreads, short enough for clients that cap it at 32, stored only as its
//! SHA-256 digest (see [`crate::secret`]: a random secret needs no slow KDF) and compared in
//! constant time.
//!
//! Guessing is stopped twice: per client address by the server's failed-authentication limit,
//! and per user here: [`MAX_FAILED_SIGNONS`] wrong passwords in a row lock the user for
//! [`LOCKOUT_MINUTES`] (OFX status 15502), during which even the right password is refused.

use chrono::TimeDelta;
use rand::Rng;

use crate::fi_config::FiConfig;
use crate::secret::{Secret, SecretHash};
use crate::{Connection, ConnectionId, OrgId, Timestamp};

/// Wrong passwords in a row that lock a user.
pub const MAX_FAILED_SIGNONS: u32 = 5;
/// How long a locked user stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// Lower-case letters and digits without `l`, `o`, `0`, `1`: 32 symbols, 5 bits each.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

fn random_text(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfxCredentials {
    pub connection_id: ConnectionId,
    pub org_id: OrgId,
    /// `USERID` (not secret), unique across the hub.
    pub user_id: String,
    pub password_hash: SecretHash,
    pub created_at: Timestamp,
    /// Wrong passwords since the last good sign-on (or the last lock).
    pub failed_signons: u32,
    pub locked_until: Option<Timestamp>,
}

/// What a sign-on attempt comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignonOutcome {
    Accepted,
    /// Wrong password (OFX 15500).
    Refused,
    /// The user is locked after repeated failures (OFX 15502), whatever the password.
    Locked,
}

impl OfxCredentials {
    /// A new set for the connection; returns the password in clear, to be shown once.
    pub fn generate(connection: &Connection, now: Timestamp) -> (Self, Secret) {
        let password = Secret::from_presented(random_text(24));
        (
            OfxCredentials {
                connection_id: connection.id,
                org_id: connection.org_id,
                user_id: format!("bf{}", random_text(14)),
                password_hash: password.hash(),
                created_at: now,
                failed_signons: 0,
                locked_until: None,
            },
            password,
        )
    }

    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Judges a sign-on with `password` at `now`. The password is compared first, always, so a
    /// locked user takes as long as an open one.
    pub fn judge(&self, password: &Secret, now: Timestamp) -> SignonOutcome {
        let matches = self.password_hash.verify(password);
        if self.is_locked(now) {
            SignonOutcome::Locked
        } else if matches {
            SignonOutcome::Accepted
        } else {
            SignonOutcome::Refused
        }
    }

    /// The (`failed_signons`, `locked_until`) to store after an attempt that came to `outcome`:
    /// a good sign-on clears the count, the [`MAX_FAILED_SIGNONS`]th failure in a row locks the
    /// user for [`LOCKOUT_MINUTES`] (and starts a new count), attempts while locked change
    /// nothing.
    pub fn after(&self, outcome: SignonOutcome, now: Timestamp) -> (u32, Option<Timestamp>) {
        match outcome {
            SignonOutcome::Locked => (self.failed_signons, self.locked_until),
            SignonOutcome::Accepted => (0, None),
            SignonOutcome::Refused => {
                let failed = self.failed_signons.saturating_add(1);
                if failed >= MAX_FAILED_SIGNONS {
                    (0, Some(now + TimeDelta::minutes(LOCKOUT_MINUTES)))
                } else {
                    (failed, None)
                }
            }
        }
    }
}

/// The FI as OFX clients name it: `ORG` and `FID` in every sign-on, `BANKID` (the routing
/// number) in every bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfxInstitution {
    pub org: String,
    pub fid: String,
    pub bank_id: String,
}

/// `FID` when nothing configures one. Clients echo whatever the FI says.
pub const DEFAULT_FID: &str = "1";
/// `BANKID` when the account carries no routing number (nine digits, as OFX wants).
pub const DEFAULT_BANK_ID: &str = "000000000";

impl OfxInstitution {
    /// `ORG` is the display name of the FI's configuration for `OFX_DIRECT_CONNECT` when there
    /// is one, else the organisation's name; cut to the 32 characters OFX allows, with anything
    /// but ASCII letters, digits, blanks and `.-&` dropped (clients put it in file names).
    /// `FID` and `BANKID` are the configuration's `ofx_fid`/`ofx_bank_id`, else the defaults.
    pub fn of(org_name: &str, config: Option<&FiConfig>) -> Self {
        let source = config.map_or(org_name, |c| c.display_name.as_str());
        let mut org: String = source
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '&'))
            .take(32)
            .collect();
        org = org.trim().to_string();
        if org.is_empty() {
            org = "BANKFEEDS".into();
        }
        OfxInstitution {
            org,
            fid: config
                .and_then(|c| c.ofx_fid.clone())
                .unwrap_or_else(|| DEFAULT_FID.into()),
            bank_id: config
                .and_then(|c| c.ofx_bank_id.clone())
                .unwrap_or_else(|| DEFAULT_BANK_ID.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, NewConnection, Platform, SystemClock};

    fn creds() -> (OfxCredentials, Secret) {
        let now = SystemClock.now();
        let (c, _) =
            NewConnection::generate(OrgId::new(), Platform::OfxDirectConnect, None, now).unwrap();
        OfxCredentials::generate(&c.connection, now)
    }

    #[test]
    fn sets_fit_what_clients_accept_and_admit_only_their_password() {
        let (a, pa) = creds();
        let (b, pb) = creds();
        assert_ne!(a.user_id, b.user_id);
        assert!(a.user_id.len() <= 32 && pa.expose().len() == 24);
        assert!(pa.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        let now = SystemClock.now();
        assert_eq!(a.judge(&pa, now), SignonOutcome::Accepted);
        assert_eq!(a.judge(&pb, now), SignonOutcome::Refused);
    }

    #[test]
    fn repeated_failures_lock_the_user_for_a_while() {
        let (mut a, pa) = creds();
        let now = SystemClock.now();
        let wrong = Secret::from_presented("wrong");
        for i in 1..MAX_FAILED_SIGNONS {
            (a.failed_signons, a.locked_until) = a.after(a.judge(&wrong, now), now);
            assert_eq!((a.failed_signons, a.locked_until), (i, None));
        }
        (a.failed_signons, a.locked_until) = a.after(a.judge(&wrong, now), now);
        assert!(a.is_locked(now));
        assert_eq!(
            a.judge(&pa, now),
            SignonOutcome::Locked,
            "even the right one"
        );
        assert_eq!(a.after(SignonOutcome::Locked, now), (0, a.locked_until));
        let later = now + TimeDelta::minutes(LOCKOUT_MINUTES);
        assert_eq!(a.judge(&pa, later), SignonOutcome::Accepted);
        assert_eq!(a.after(SignonOutcome::Accepted, later), (0, None));
    }

    #[test]
    fn a_good_signon_clears_the_count() {
        let (mut a, _) = creds();
        a.failed_signons = MAX_FAILED_SIGNONS - 1;
        assert_eq!(
            a.after(SignonOutcome::Accepted, SystemClock.now()),
            (0, None)
        );
    }

    #[test]
    fn the_institution_is_named_from_the_config_or_the_org() {
        let i = OfxInstitution::of("Demo Bank, N.A. — «Main»", None);
        assert_eq!(i.org, "Demo Bank N.A.  Main");
        assert_eq!((i.fid.as_str(), i.bank_id.as_str()), ("1", "000000000"));
        assert_eq!(OfxInstitution::of("€€€", None).org, "BANKFEEDS");
        let long = "x".repeat(40);
        assert_eq!(OfxInstitution::of(&long, None).org.len(), 32);
    }
}
