//! One-time passwords that tie a customer's platform session to their connection: the FI
//! asks for one after its own login and passes it back through the link redirect. One active
//! OTP per connection (a new one cancels the previous), single use, valid for an hour.

use chrono::TimeDelta;

use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{Connection, ConnectionId, OrgId, Timestamp};

/// How long an OTP is valid (Rutter's and Codat's documented default).
pub const OTP_TTL: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Clone)]
pub struct NewOtp {
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub hash: SecretHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Leave the connection's earlier unused OTPs valid (the Codat door's `linkUrl`, minted on
    /// every read, must not break a link the customer has open). Normally a new OTP cancels
    /// the earlier ones.
    pub keeps_earlier: bool,
}

impl NewOtp {
    /// A fresh OTP for the connection; returns it in clear, to hand to the FI once.
    pub fn generate(connection: &Connection, now: Timestamp) -> (NewOtp, Secret) {
        let secret = Secret::generate(SecretKind::Otp);
        (
            NewOtp {
                org_id: connection.org_id,
                connection_id: connection.id,
                hash: secret.hash(),
                created_at: now,
                expires_at: now + OTP_TTL,
                keeps_earlier: false,
            },
            secret,
        )
    }
}

impl NewOtp {
    /// The same OTP, leaving the connection's earlier ones valid.
    pub fn alongside_earlier(self) -> NewOtp {
        NewOtp {
            keeps_earlier: true,
            ..self
        }
    }
}

/// Why an OTP could not be used. The link pages show one message for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpRefusal {
    Unknown,
    Expired,
    AlreadyUsed,
    /// A newer OTP was issued for the connection.
    Superseded,
}
