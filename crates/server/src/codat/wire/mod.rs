//! The Codat door's wire types: every body its operations answer (and the bodies they take),
//! typed, so the handlers and `/codat/openapi.json` (`codat::openapi`) share one definition.
//! Names and casing are Codat's; where Codat's own model allows a property the hub never sets
//! (`createdByUserName`, `dataConnectionErrors`), it is still sent, empty, because Codat's SDK
//! expects it.

mod account;
mod company;
mod connection;
mod continuity;
mod error;
mod feeds;
mod paging;
mod push;

pub use account::{
    BatchItemOutcome, BatchItemResult, Credentials, ItemStatus, OneOrMore, SourceAccount,
    SourceAccountIn,
};
pub use company::{AccessToken, Company, CompanyIn};
pub use connection::{Connection, ConnectionIn, UnlinkIn};
pub use continuity::{
    AcknowledgeIn, Acknowledged, Break, ClosedDays, ClosedDaysIn, Continuity, Segment, StaleSpan,
};
pub use error::{ErrorMessage, Validation, ValidationItem};
pub use feeds::{AccountMapping, CompanyInformation, MappingIn, MappingResult, Otp, TargetAccount};
pub use paging::{Link, Links, Page};
pub use push::{BankTransactionsIn, Change, PushOperation, PushOption, PushOutcome, RecordRef};
