//! Generated bank feed credentials: a username and password the FI hands its customer (Codat's
//! `generate_credentials`), which the customer types into the accounting platform to link the
//! connection, instead of being redirected through the FI's login page. Each generation makes
//! a new set; older sets stay valid until all are revoked. The password is random (high
//! entropy), stored hashed and compared in constant time.

use rand::Rng;

use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{Connection, ConnectionId, OrgId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankFeedCredentials {
    /// Not secret: it names the set.
    pub username: String,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub password_hash: SecretHash,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl BankFeedCredentials {
    /// A new set for the connection; returns the password in clear, to be shown once.
    pub fn generate(connection: &Connection, now: Timestamp) -> (Self, Secret) {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::rngs::OsRng;
        let tail: String = (0..16)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        let password = Secret::generate(SecretKind::FeedPassword);
        (
            BankFeedCredentials {
                username: format!("bf-{tail}"),
                org_id: connection.org_id,
                connection_id: connection.id,
                password_hash: password.hash(),
                created_at: now,
                revoked_at: None,
            },
            password,
        )
    }

    /// Whether `password` opens this set (and it is not revoked).
    pub fn admits(&self, password: &Secret) -> bool {
        // Compare first, always, so a revoked set takes as long as a live one.
        let matches = self.password_hash.verify(password);
        matches && self.revoked_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, NewConnection, Platform, SystemClock};

    #[test]
    fn sets_are_new_each_time_and_admit_only_their_password() {
        let (c, _) = NewConnection::generate(
            OrgId::new(),
            Platform::IntuitBankFeeds,
            None,
            SystemClock.now(),
        )
        .unwrap();
        let (a, pa) = BankFeedCredentials::generate(&c.connection, SystemClock.now());
        let (b, pb) = BankFeedCredentials::generate(&c.connection, SystemClock.now());
        assert_ne!(a.username, b.username);
        assert!(a.username.starts_with("bf-") && a.username.len() == 19);
        assert!(pa.expose().starts_with("bfpw_"));
        assert!(a.admits(&pa) && !a.admits(&pb));
        let revoked = BankFeedCredentials {
            revoked_at: Some(SystemClock.now()),
            ..a
        };
        assert!(!revoked.admits(&pa));
    }
}
