//! What the Codat-compatible door needs from the domain: its vocabulary mapped onto ours
//! (platform keys, statuses, account types) and its query language.

pub mod query;
