//! Who may use the sandbox platforms and the demo bank. They are mounted only when the operator
//! turns them on (`sandbox_enabled`), and then answer only to someone who knows the sandbox
//! password (`sandbox_password`, or the one `bankfeeds demo` generates and prints).
//!
//! The password is kept only as its SHA-256 digest, in memory, and checked in constant time.
//! A browser that signs in gets a session: a random token in an `HttpOnly` cookie, whose digest
//! this keeps with its expiry. Sessions live in this instance's memory: a restart, or another
//! instance behind a load balancer, asks the browser to sign in again. The JSON interface sends
//! the password in `Authorization: Bearer …` on every call (a header no other site can make a
//! browser send).

use std::collections::HashMap;
use std::sync::Mutex;

use bankfeeds_domain::sandbox::{session_expiry, session_live};
use bankfeeds_domain::{Secret, SecretHash, SecretKind, Timestamp};

/// Sessions kept at most; past it, the one nearest its end is dropped for a new one.
const MAX_SESSIONS: usize = 10_000;

pub struct SandboxAccess {
    password: SecretHash,
    /// Session token digest → when the session ends.
    sessions: Mutex<HashMap<SecretHash, Timestamp>>,
}

impl SandboxAccess {
    /// Access with this password (its digest is all that is kept).
    pub fn new(password: &Secret) -> Self {
        Self {
            password: password.hash(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `presented` is the sandbox password (constant time).
    pub fn admits(&self, presented: &Secret) -> bool {
        self.password.verify(presented)
    }

    /// A new session from `now`: the token to hand the browser (in a cookie, never logged).
    pub fn open_session(&self, now: Timestamp) -> Secret {
        let token = Secret::generate(SecretKind::SandboxSession);
        let mut sessions = self.sessions.lock().expect("sessions lock");
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, ends| session_live(*ends, now));
        }
        if sessions.len() >= MAX_SESSIONS {
            if let Some(nearest) = sessions.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k) {
                sessions.remove(&nearest);
            }
        }
        sessions.insert(token.hash(), session_expiry(now));
        token
    }

    /// Whether `token` is a session that has not ended.
    pub fn session_live(&self, token: &Secret, now: Timestamp) -> bool {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions
            .get(&token.hash())
            .is_some_and(|ends| session_live(*ends, now))
    }

    /// Signs a session out.
    pub fn close_session(&self, token: &Secret) {
        self.sessions
            .lock()
            .expect("sessions lock")
            .remove(&token.hash());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn the_password_opens_sessions_that_end() {
        let access = SandboxAccess::new(&Secret::from_presented("correct horse battery"));
        assert!(access.admits(&Secret::from_presented("correct horse battery")));
        assert!(!access.admits(&Secret::from_presented("correct horse batter")));
        let now = bankfeeds_domain::Clock::now(&bankfeeds_domain::SystemClock);
        let token = access.open_session(now);
        assert!(access.session_live(&token, now + TimeDelta::hours(1)));
        assert!(!access.session_live(&token, now + TimeDelta::hours(13)));
        assert!(!access.session_live(&Secret::from_presented("bfss_forged"), now));
        access.close_session(&token);
        assert!(!access.session_live(&token, now));
    }
}
