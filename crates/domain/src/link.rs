//! The link flow's state machine: a platform company asks to connect to an FI (a challenge,
//! valid ten minutes, single use), the customer logs in at the FI, which hands back an OTP, and
//! the hub binds the FI's connection to the company; the customer then picks the feeds.

use chrono::TimeDelta;

use crate::account::{FeedState, FeedStatus};
use crate::otp::OtpRecord;
use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{ConnectionId, OrgId, Platform, Timestamp};

crate::define_id!(
    /// A company inside a sandbox accounting platform (the business's books).
    CompanyId
);

/// How long a challenge (and the redirect that carries it) is valid.
pub const CHALLENGE_TTL: TimeDelta = TimeDelta::minutes(10);
/// How long the customer has to pick feeds once the FI login has been confirmed.
pub const SELECTION_TTL: TimeDelta = TimeDelta::minutes(30);

/// Accounts one feed choice may name at most (a customer picks among one connection's accounts;
/// a longer list is a mistake or an attack, and would hold the database's writer).
pub const MAX_ACCOUNTS_PER_LINK: usize = 1000;

/// Why a feed choice is refused before anything is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceRefusal {
    NoAccounts,
    TooManyAccounts,
}

/// The accounts a feed choice names, each once, in the order first named; refused when empty
/// or longer than [`MAX_ACCOUNTS_PER_LINK`].
pub fn feed_choice(
    accounts: &[crate::BankFeedAccountId],
) -> Result<Vec<crate::BankFeedAccountId>, ChoiceRefusal> {
    if accounts.is_empty() {
        return Err(ChoiceRefusal::NoAccounts);
    }
    if accounts.len() > MAX_ACCOUNTS_PER_LINK {
        return Err(ChoiceRefusal::TooManyAccounts);
    }
    let mut seen = std::collections::HashSet::with_capacity(accounts.len());
    Ok(accounts
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub platform: Platform,
    pub name: String,
    pub created_at: Timestamp,
}

/// A company's request to connect to one FI, identified by a secret carried in the redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub hash: SecretHash,
    pub platform: Platform,
    pub company_id: CompanyId,
    /// The FI the customer picked from the platform's list of banks.
    pub org_id: OrgId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Set once an OTP has bound a connection to it.
    pub connection_id: Option<ConnectionId>,
    pub bound_at: Option<Timestamp>,
    /// Set once the customer has chosen the feeds.
    pub completed_at: Option<Timestamp>,
    /// The digest of the browser binding: a nonce the browser (or JSON client) that started the
    /// link holds, which the redirect back must present. `None` only for challenges stored
    /// before bindings existed, which no redirect can use.
    pub browser: Option<SecretHash>,
}

impl Challenge {
    /// A new challenge, bound to the browser holding the nonce whose digest is `browser`.
    pub fn generate(
        platform: Platform,
        company_id: CompanyId,
        org_id: OrgId,
        browser: &SecretHash,
        now: Timestamp,
    ) -> (Challenge, Secret) {
        let secret = Secret::generate(SecretKind::Challenge);
        (
            Challenge {
                hash: secret.hash(),
                platform,
                company_id,
                org_id,
                created_at: now,
                expires_at: now + CHALLENGE_TTL,
                connection_id: None,
                bound_at: None,
                completed_at: None,
                browser: Some(*browser),
            },
            secret,
        )
    }
}

/// The challenge half of the redirect back, which needs no OTP: `challenge` is what the hash
/// found, `platform` the link pages the redirect came to, `browser` the digest of the binding
/// the browser presented (its cookie, or the JSON client's field). A challenge is used only
/// from the browser that started it, so a link started by someone else (sent to a victim to
/// finish with their bank login) goes nowhere; the binding is checked before whether the
/// challenge is used or expired, so another browser learns nothing about it. The redirect's
/// page (before "Continue") and the bind itself both ask this.
pub fn check_redirect(
    challenge: Option<&Challenge>,
    platform: Platform,
    browser: Option<&SecretHash>,
    now: Timestamp,
) -> Result<(), LinkRefusal> {
    let c = challenge.ok_or(LinkRefusal::UnknownChallenge)?;
    if c.platform != platform {
        return Err(LinkRefusal::WrongPlatform);
    }
    match (&c.browser, browser) {
        (Some(stored), Some(presented)) if stored.matches(presented) => {}
        _ => return Err(LinkRefusal::NotThisBrowser),
    }
    if c.bound_at.is_some() {
        return Err(LinkRefusal::UsedChallenge);
    }
    if c.expires_at <= now {
        return Err(LinkRefusal::ExpiredChallenge);
    }
    Ok(())
}

/// The redirect back from the FI, decided: the challenge as [`check_redirect`] checks it, then
/// `otp` (what the OTP's hash found) and `otp_connection` (the platform of the OTP's connection
/// if it is live). On success, the challenge bound to the OTP's connection, which the store
/// writes (with the OTP used) in the transaction it read these in; on a refusal it writes
/// nothing, so neither the challenge nor the OTP is used up.
pub fn decide_bind(
    challenge: Option<Challenge>,
    platform: Platform,
    browser: Option<&SecretHash>,
    otp: Option<&OtpRecord>,
    otp_connection: Option<Platform>,
    now: Timestamp,
) -> Result<Challenge, LinkRefusal> {
    check_redirect(challenge.as_ref(), platform, browser, now)?;
    let mut c = challenge.ok_or(LinkRefusal::UnknownChallenge)?;
    let otp = OtpRecord::usable(otp, now).map_err(LinkRefusal::Otp)?;
    if otp.org_id != c.org_id {
        return Err(LinkRefusal::ForeignOtp);
    }
    if otp_connection != Some(platform) {
        return Err(LinkRefusal::ConnectionPlatformMismatch);
    }
    c.connection_id = Some(otp.connection_id);
    c.bound_at = Some(now);
    Ok(c)
}

/// A feed selection in progress: the company asking and the connection the login bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub company_id: CompanyId,
    pub connection_id: ConnectionId,
}

/// Whether the customer may still pick feeds for this challenge: it is bound, not completed,
/// and the login was confirmed less than [`SELECTION_TTL`] ago.
pub fn open_selection(
    challenge: Option<&Challenge>,
    now: Timestamp,
) -> Result<Selection, LinkRefusal> {
    let c = challenge.ok_or(LinkRefusal::UnknownChallenge)?;
    match (c.connection_id, c.bound_at, c.completed_at) {
        (Some(connection_id), Some(bound_at), None) if now < bound_at + SELECTION_TTL => {
            Ok(Selection {
                company_id: c.company_id,
                connection_id,
            })
        }
        _ => Err(LinkRefusal::NotBound),
    }
}

/// The feed choice, checked against what the store found: the bound connection's platform
/// while it is still live (`None` when the FI deleted it since the login) and whether every
/// chosen account is a live account of it. Accepted, the platform the feeds are linked on.
pub fn check_feed_choice(
    live_platform: Option<Platform>,
    all_accounts_live: bool,
) -> Result<Platform, LinkRefusal> {
    let platform = live_platform.ok_or(LinkRefusal::ConnectionDeleted)?;
    if !all_accounts_live {
        return Err(LinkRefusal::UnknownAccount);
    }
    Ok(platform)
}

/// The feed state of an account the customer linked into a company: active and ready to take
/// transactions from `start` on.
pub fn linked_feed_state(start: Option<Timestamp>) -> FeedState {
    FeedState {
        feed_status: FeedStatus::Active,
        transaction_ready: true,
        transaction_start_date: start,
    }
}

/// What a platform records about a feed it linked, shown as the account's `platform_data`
/// (`expand=platform_data`; seed 002: "the raw platform data corresponding to the Rutter
/// object"): which platform and company hold the feed, since when, and from which start date.
pub fn platform_record(
    platform: Platform,
    company: CompanyId,
    linked_at: Timestamp,
    start: Option<Timestamp>,
) -> serde_json::Value {
    serde_json::json!({
        "platform": platform.as_str(),
        "company_id": company.to_string(),
        "linked_at": linked_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "feed_start_date": start.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
    })
}

/// The feed state of an account whose feed was unlinked (by the platform, the customer or
/// the FI): inactive; its start date is kept for a later re-link. It takes transactions only
/// where the platform takes them before any link (QuickBooks holds them until the customer
/// links again), so `transaction_ready` says what a push will meet.
pub fn unlinked_feed_state(current: &crate::BankFeedAccount, platform: Platform) -> FeedState {
    let profile =
        crate::profile::PlatformProfile::for_platform(platform, crate::profile::Door::Rutter);
    FeedState {
        feed_status: FeedStatus::Inactive,
        transaction_ready: profile.ready_at_creation,
        transaction_start_date: current.transaction_start_date,
    }
}

/// Why a redirect back from the FI was refused. Nothing changes when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    UnknownChallenge,
    ExpiredChallenge,
    UsedChallenge,
    /// The challenge belongs to another platform's link pages.
    WrongPlatform,
    /// The redirect came to a browser (or JSON client) other than the one that started the
    /// link: it does not hold the challenge's binding.
    NotThisBrowser,
    Otp(crate::otp::OtpRefusal),
    /// The OTP was issued by another FI than the one the customer picked.
    ForeignOtp,
    /// The OTP's connection is for another platform.
    ConnectionPlatformMismatch,
    /// Feed selection without a confirmed login, after it was made, or too late.
    NotBound,
    /// A selected account is not one of the bound connection's.
    UnknownAccount,
    /// The FI deleted the connection after the login was confirmed.
    ConnectionDeleted,
}

impl LinkRefusal {
    /// A stable code for logs and the JSON interface.
    pub fn code(self) -> &'static str {
        use crate::otp::OtpRefusal;
        match self {
            LinkRefusal::UnknownChallenge => "UNKNOWN_CHALLENGE",
            LinkRefusal::ExpiredChallenge => "CHALLENGE_EXPIRED",
            LinkRefusal::UsedChallenge => "CHALLENGE_ALREADY_USED",
            LinkRefusal::WrongPlatform => "CHALLENGE_PLATFORM_MISMATCH",
            LinkRefusal::NotThisBrowser => "CHALLENGE_NOT_THIS_BROWSER",
            LinkRefusal::Otp(OtpRefusal::Unknown) => "UNKNOWN_OTP",
            LinkRefusal::Otp(OtpRefusal::Expired) => "OTP_EXPIRED",
            LinkRefusal::Otp(OtpRefusal::AlreadyUsed) => "OTP_ALREADY_USED",
            LinkRefusal::Otp(OtpRefusal::Superseded) => "OTP_SUPERSEDED",
            LinkRefusal::ForeignOtp => "OTP_FROM_ANOTHER_FI",
            LinkRefusal::ConnectionPlatformMismatch => "CONNECTION_PLATFORM_MISMATCH",
            LinkRefusal::NotBound => "LINK_NOT_IN_PROGRESS",
            LinkRefusal::UnknownAccount => "UNKNOWN_ACCOUNT",
            LinkRefusal::ConnectionDeleted => "CONNECTION_DELETED",
        }
    }

    /// What the customer is told: nothing that helps guess secrets.
    pub fn message(self) -> &'static str {
        match self {
            LinkRefusal::ExpiredChallenge => "This link has expired. Start connecting your bank again from your accounting software.",
            LinkRefusal::UsedChallenge => "This link has already been used. Start connecting your bank again from your accounting software.",
            LinkRefusal::NotThisBrowser => "This link was started in another browser. Nothing was connected. If you meant to connect your bank, start again from your accounting software, in this browser; if you did not start it, someone may be trying to connect your accounts to their books.",
            _ => "We could not confirm your bank login. Start connecting your bank again from your accounting software.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::OtpRefusal;
    use chrono::TimeDelta;

    fn now() -> Timestamp {
        crate::ts("2026-01-01T12:00:00Z")
    }

    #[test]
    fn a_feed_choice_names_each_account_once_and_not_too_many() {
        let a = crate::BankFeedAccountId::new();
        let b = crate::BankFeedAccountId::new();
        assert_eq!(feed_choice(&[a, b, a, a, b]), Ok(vec![a, b]));
        assert_eq!(feed_choice(&[]), Err(ChoiceRefusal::NoAccounts));
        let many = vec![a; MAX_ACCOUNTS_PER_LINK];
        assert_eq!(feed_choice(&many), Ok(vec![a]));
        let too_many = vec![a; MAX_ACCOUNTS_PER_LINK + 1];
        assert_eq!(feed_choice(&too_many), Err(ChoiceRefusal::TooManyAccounts));
    }

    fn binding() -> SecretHash {
        Secret::from_presented("bfbb_the-starting-browser").hash()
    }

    fn challenge() -> Challenge {
        Challenge::generate(
            Platform::Xero,
            CompanyId::new(),
            OrgId::new(),
            &binding(),
            now(),
        )
        .0
    }

    fn otp_of(c: &Challenge) -> OtpRecord {
        OtpRecord {
            org_id: c.org_id,
            connection_id: ConnectionId::new(),
            expires_at: now() + TimeDelta::hours(1),
            used_at: None,
            cancelled_at: None,
        }
    }

    fn bind(
        c: Option<Challenge>,
        otp: Option<&OtpRecord>,
        conn: Option<Platform>,
    ) -> Result<Challenge, LinkRefusal> {
        decide_bind(
            c,
            Platform::Xero,
            Some(&binding()),
            otp,
            conn,
            now() + TimeDelta::minutes(1),
        )
    }

    #[test]
    fn only_the_browser_that_started_the_link_can_bind_it() {
        let c = challenge();
        let otp = otp_of(&c);
        let later = now() + TimeDelta::minutes(1);
        let other = Secret::from_presented("bfbb_someone-else").hash();
        for presented in [None, Some(&other)] {
            assert_eq!(
                decide_bind(
                    Some(c.clone()),
                    Platform::Xero,
                    presented,
                    Some(&otp),
                    Some(Platform::Xero),
                    later
                ),
                Err(LinkRefusal::NotThisBrowser)
            );
        }
        // Another browser learns nothing about the challenge's state.
        let used = Challenge {
            bound_at: Some(now()),
            ..c.clone()
        };
        assert_eq!(
            check_redirect(Some(&used), Platform::Xero, Some(&other), later),
            Err(LinkRefusal::NotThisBrowser)
        );
        // A challenge stored before bindings existed cannot be used at all.
        let legacy = Challenge {
            browser: None,
            ..c.clone()
        };
        assert_eq!(
            check_redirect(Some(&legacy), Platform::Xero, Some(&binding()), later),
            Err(LinkRefusal::NotThisBrowser)
        );
        assert_eq!(
            check_redirect(Some(&c), Platform::Xero, Some(&binding()), later),
            Ok(())
        );
        assert_eq!(
            LinkRefusal::NotThisBrowser.code(),
            "CHALLENGE_NOT_THIS_BROWSER"
        );
    }

    #[test]
    fn a_good_redirect_binds_the_otps_connection() {
        let c = challenge();
        let otp = otp_of(&c);
        let bound = bind(Some(c.clone()), Some(&otp), Some(Platform::Xero)).unwrap();
        assert_eq!(bound.connection_id, Some(otp.connection_id));
        assert_eq!(bound.bound_at, Some(now() + TimeDelta::minutes(1)));
        assert_eq!(bound.completed_at, None);
    }

    #[test]
    fn the_challenge_is_checked_before_the_otp() {
        let c = challenge();
        // An unknown OTP with a bad challenge reports the challenge.
        assert_eq!(bind(None, None, None), Err(LinkRefusal::UnknownChallenge));
        let other = Challenge {
            platform: Platform::IntuitBankFeeds,
            ..c.clone()
        };
        assert_eq!(
            bind(Some(other), None, None),
            Err(LinkRefusal::WrongPlatform)
        );
        let used = Challenge {
            bound_at: Some(now()),
            ..c.clone()
        };
        assert_eq!(
            bind(Some(used), None, None),
            Err(LinkRefusal::UsedChallenge)
        );
        let expired = Challenge {
            expires_at: now(),
            ..c.clone()
        };
        assert_eq!(
            bind(Some(expired), None, None),
            Err(LinkRefusal::ExpiredChallenge)
        );
        assert_eq!(
            bind(Some(c), None, None),
            Err(LinkRefusal::Otp(OtpRefusal::Unknown))
        );
    }

    #[test]
    fn the_otp_must_come_from_the_chosen_fi_for_a_live_connection_of_the_platform() {
        let c = challenge();
        let foreign = OtpRecord {
            org_id: OrgId::new(),
            ..otp_of(&c)
        };
        assert_eq!(
            bind(Some(c.clone()), Some(&foreign), Some(Platform::Xero)),
            Err(LinkRefusal::ForeignOtp)
        );
        let otp = otp_of(&c);
        assert_eq!(
            bind(Some(c.clone()), Some(&otp), Some(Platform::IntuitBankFeeds)),
            Err(LinkRefusal::ConnectionPlatformMismatch)
        );
        assert_eq!(
            bind(Some(c), Some(&otp), None),
            Err(LinkRefusal::ConnectionPlatformMismatch)
        );
    }

    #[test]
    fn selection_is_open_only_while_bound_and_not_completed_for_thirty_minutes() {
        let c = challenge();
        assert_eq!(
            open_selection(None, now()),
            Err(LinkRefusal::UnknownChallenge)
        );
        assert_eq!(open_selection(Some(&c), now()), Err(LinkRefusal::NotBound));
        let connection = ConnectionId::new();
        let bound = Challenge {
            connection_id: Some(connection),
            bound_at: Some(now()),
            ..c
        };
        assert_eq!(
            open_selection(Some(&bound), now()),
            Ok(Selection {
                company_id: bound.company_id,
                connection_id: connection
            })
        );
        let late = now() + SELECTION_TTL;
        assert_eq!(
            open_selection(Some(&bound), late),
            Err(LinkRefusal::NotBound)
        );
        let done = Challenge {
            completed_at: Some(now()),
            ..bound
        };
        assert_eq!(
            open_selection(Some(&done), now()),
            Err(LinkRefusal::NotBound)
        );
    }

    #[test]
    fn linking_activates_a_feed_and_unlinking_deactivates_it_keeping_its_start() {
        let start = Some(now() - TimeDelta::days(30));
        let linked = linked_feed_state(start);
        assert_eq!(linked.feed_status, FeedStatus::Active);
        assert!(linked.transaction_ready);
        let profile = crate::profile::PlatformProfile::for_platform(
            Platform::Xero,
            crate::profile::Door::Rutter,
        );
        let mut account = crate::BankFeedAccount::new(
            OrgId::new(),
            ConnectionId::new(),
            &profile,
            "acc-1".into(),
            crate::account::BankAccountType::Bank,
            crate::Currency::from_code("GBP").unwrap(),
            now(),
        );
        account.transaction_start_date = start;
        let unlinked = unlinked_feed_state(&account, Platform::Xero);
        assert_eq!(unlinked.feed_status, FeedStatus::Inactive);
        assert!(
            !unlinked.transaction_ready,
            "Xero takes nothing until linked again"
        );
        assert_eq!(unlinked.transaction_start_date, start);
        let quickbooks = unlinked_feed_state(&account, Platform::IntuitBankFeeds);
        assert_eq!(quickbooks.feed_status, FeedStatus::Inactive);
        assert!(
            quickbooks.transaction_ready,
            "QuickBooks takes pushes unlinked (seed 000), so the feed says it is ready"
        );
    }

    #[test]
    fn a_deleted_connection_is_reported_before_unknown_accounts() {
        let platform = Platform::IntuitBankFeeds;
        assert_eq!(check_feed_choice(Some(platform), true), Ok(platform));
        assert_eq!(
            check_feed_choice(None, false),
            Err(LinkRefusal::ConnectionDeleted)
        );
        assert_eq!(
            check_feed_choice(Some(platform), false),
            Err(LinkRefusal::UnknownAccount)
        );
    }
}
