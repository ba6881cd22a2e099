//! The domain of bankfeeds: the types every other crate speaks, and the rules that do not need I/O.
//!
//! Nothing here touches a database, a socket or an async runtime; the store crates persist these
//! types and the server translates them to and from HTTP.

#[macro_use]
mod str_enum;

pub mod account;
pub mod batch;
pub mod clock;
pub mod codat;
pub mod connection;
pub mod console;
pub mod continuity;
pub mod credentials;
pub mod currency;
pub mod customer;
pub mod event;
pub mod fi_config;
pub mod ids;
pub mod job;
pub mod link;
pub mod live;
pub mod money;
pub mod ofx;
pub mod ofx_trnuid;
pub mod operator;
pub mod org;
pub mod otp;
pub mod page;
pub mod platform;
pub mod profile;
pub mod retention;
pub mod sandbox;
pub mod secret;
pub mod statement;
pub mod statement_close;
pub mod transaction;
pub mod webhook;

pub use account::{BankFeedAccount, BankFeedAccountId};
pub use clock::{Clock, ManualClock, SystemClock};
pub use connection::{Connection, NewConnection};
pub use currency::Currency;
pub use ids::{ConnectionId, JobId, OrgId, TransactionId};
pub use job::{Job, JobHead, JobStatus};
pub use money::Amount;
pub use org::{NewOrg, Org, OrgDeleteRefusal};
pub use page::{Cursor, Page, PageRequest};
pub use platform::Platform;
pub use secret::{Secret, SecretHash, SecretKind};

/// Timestamps are UTC everywhere: on the wire (RFC 3339) and in storage.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The instant an RFC 3339 string names: the fixed "now" of the unit tests.
#[cfg(test)]
pub(crate) fn ts(rfc3339: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .to_utc()
}
