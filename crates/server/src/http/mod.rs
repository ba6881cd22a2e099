//! The HTTP plumbing every door shares: the error answer, body and query extractors,
//! authentication, idempotency, pagination, PATCH fields, list and time query parameters, and the
//! middleware around every request (metrics, early refusals, HSTS, undeclared query parameters,
//! empty id segments). It knows no door.

pub mod auth;
pub mod early_refusal;
pub mod empty_segment;
pub mod error;
pub mod extract;
pub mod hsts;
pub mod idempotency;
pub mod list_query;
pub mod metrics;
pub mod pagination;
pub mod patch;
pub mod path;
pub mod query_contract;
pub mod responses;
pub mod time_param;
