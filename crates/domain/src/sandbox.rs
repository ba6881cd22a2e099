//! The rules of the sandbox platforms' access: who may use them and what they show. The
//! sandboxes and the demo bank are off unless the operator turns them on, and then answer only
//! to someone who knows the sandbox password (a browser signs in for a session; the JSON
//! interface sends it in `Authorization`). What they show of an account's numbers is the last
//! four digits.

use chrono::TimeDelta;

use crate::Timestamp;

/// How long a sandbox sign-in lasts.
pub const SESSION_TTL: TimeDelta = TimeDelta::hours(12);

/// The shortest sandbox password the hub accepts from its configuration.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Whether a configured sandbox password is long enough.
pub fn password_acceptable(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// When a session opened at `now` ends.
pub fn session_expiry(now: Timestamp) -> Timestamp {
    now + SESSION_TTL
}

/// Whether a session ending at `expires_at` is still good at `now`.
pub fn session_live(expires_at: Timestamp, now: Timestamp) -> bool {
    now < expires_at
}

/// The last four characters of an account or routing number, which is all the sandboxes show
/// of one; `None` for a number of four characters or fewer (its last four would be all of it).
pub fn last4(number: &str) -> Option<String> {
    let chars: Vec<char> = number.trim().chars().collect();
    if chars.len() <= 4 {
        return None;
    }
    Some(chars[chars.len() - 4..].iter().collect())
}

/// Where a browser goes after signing in: the sandbox page it was sent away from, if `next`
/// names one (a path under `/sandbox/` on this hub, nothing else), or the list of sandboxes.
pub fn after_sign_in(next: Option<&str>) -> &str {
    const HOME: &str = "/sandbox/";
    match next {
        Some(path)
            if path.starts_with(HOME)
                && !path.contains("//")
                && !path.contains('\\')
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path
        }
        _ => HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_four_of_a_number_are_shown() {
        assert_eq!(last4("000123456789").as_deref(), Some("6789"));
        assert_eq!(last4(" 4111000011112222 ").as_deref(), Some("2222"));
        assert_eq!(last4("12345").as_deref(), Some("2345"));
        assert_eq!(last4("1234"), None, "four would be the whole number");
        assert_eq!(last4(""), None);
    }

    #[test]
    fn sign_in_returns_only_to_a_sandbox_page() {
        assert_eq!(after_sign_in(None), "/sandbox/");
        assert_eq!(
            after_sign_in(Some("/sandbox/xero/companies/1")),
            "/sandbox/xero/companies/1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/sandbox/",
            "/sandbox//evil.example",
            "/sandbox/\\evil",
            "/versioned/connections",
            "/sandbox/a b",
        ] {
            assert_eq!(after_sign_in(Some(bad)), "/sandbox/", "{bad}");
        }
    }

    #[test]
    fn sessions_last_twelve_hours_and_passwords_twelve_characters() {
        let now = crate::ts("2026-01-01T12:00:00Z");
        let ends = session_expiry(now);
        assert!(session_live(ends, now + TimeDelta::hours(11)));
        assert!(!session_live(ends, ends));
        assert!(password_acceptable("twelve chars"));
        assert!(!password_acceptable("elevenchars"));
    }
}
