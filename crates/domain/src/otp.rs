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

/// An OTP as stored: who issued it, for which connection, and what has happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpRecord {
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
}

impl OtpRecord {
    /// Whether the OTP found for a hash (if any) may be used now. Checked in a fixed order,
    /// the same on every backend: unknown, used, superseded, expired.
    pub fn usable(found: Option<&OtpRecord>, now: Timestamp) -> Result<&OtpRecord, OtpRefusal> {
        let otp = found.ok_or(OtpRefusal::Unknown)?;
        if otp.used_at.is_some() {
            Err(OtpRefusal::AlreadyUsed)
        } else if otp.cancelled_at.is_some() {
            Err(OtpRefusal::Superseded)
        } else if otp.expires_at <= now {
            Err(OtpRefusal::Expired)
        } else {
            Ok(otp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn now() -> Timestamp {
        crate::ts("2026-01-01T12:00:00Z")
    }

    fn fresh() -> OtpRecord {
        OtpRecord {
            org_id: OrgId::new(),
            connection_id: ConnectionId::new(),
            expires_at: now() + TimeDelta::minutes(5),
            used_at: None,
            cancelled_at: None,
        }
    }

    #[test]
    fn a_fresh_otp_is_usable_until_the_instant_it_expires() {
        let otp = fresh();
        assert_eq!(OtpRecord::usable(Some(&otp), now()), Ok(&otp));
        let at_expiry = otp.expires_at;
        assert_eq!(
            OtpRecord::usable(Some(&otp), at_expiry),
            Err(OtpRefusal::Expired)
        );
    }

    #[test]
    fn refusals_come_in_a_fixed_order() {
        assert_eq!(OtpRecord::usable(None, now()), Err(OtpRefusal::Unknown));
        // Used and cancelled and expired: "used" wins, then "superseded".
        let spent = OtpRecord {
            used_at: Some(now()),
            cancelled_at: Some(now()),
            expires_at: now() - TimeDelta::minutes(1),
            ..fresh()
        };
        assert_eq!(
            OtpRecord::usable(Some(&spent), now()),
            Err(OtpRefusal::AlreadyUsed)
        );
        let cancelled = OtpRecord {
            used_at: None,
            ..spent
        };
        assert_eq!(
            OtpRecord::usable(Some(&cancelled), now()),
            Err(OtpRefusal::Superseded)
        );
    }
}
