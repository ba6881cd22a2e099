//! The wire shapes of the Rutter-shaped door (`/versioned`): what a client sends and what the
//! hub answers, as serde types with their OpenAPI schemas. The server renders and parses them;
//! `bankfeeds-client` sends and reads the same types, so the two cannot drift apart. Rendering
//! domain values into them (and reading requests into the domain) is the server's job.
//!
//! Request types (`…In`) refuse unknown fields, as the hub does; answer types (`…Out`) accept
//! fields they do not know, so an older client reads a newer hub.

pub mod accounts;
pub mod connections;
pub mod error;
pub mod fi_configs;
pub mod jobs;
pub mod otp;
pub mod pagination;
pub mod time;
pub mod transactions;
