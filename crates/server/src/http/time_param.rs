//! Timestamps in requests: RFC 3339 or a plain date, as FIs send both. The parser lives with
//! the wire types (`bankfeeds_wire::time`), which read request bodies with it.

pub use bankfeeds_wire::time::{option, parse, patch, required};
