//! The link flow's state machine: a platform company asks to connect to an FI (a challenge,
//! valid ten minutes, single use), the customer logs in at the FI, which hands back an OTP, and
//! the hub binds the FI's connection to the company; the customer then picks the feeds.

use chrono::TimeDelta;

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
}

impl Challenge {
    pub fn generate(
        platform: Platform,
        company_id: CompanyId,
        org_id: OrgId,
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
            },
            secret,
        )
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
            _ => "We could not confirm your bank login. Start connecting your bank again from your accounting software.",
        }
    }
}
