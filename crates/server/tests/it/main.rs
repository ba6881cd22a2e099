//! HTTP tests: each boots the real app on a real socket over a fresh database, on SQLite always
//! and on PostgreSQL when `BANKFEEDS_TEST_POSTGRES_URL` is set.

// Test builders take JSON by value for readable call sites.
#![allow(clippy::needless_pass_by_value)]

mod accounts;
mod books;
mod business_metrics;
mod codat;
mod codat_contract;
mod codat_link;
mod connections;
mod console;
mod console_actions;
mod console_webhooks;
mod continuity;
mod contract;
mod durability;
mod errors;
mod hardening;
mod helpers;
mod link;
mod link_binding;
mod link_flow;
mod live_connectors;
mod live_xero;
mod live_xero_consent;
mod model;
mod module_graph;
mod ofx;
mod ops;
mod pages;
mod retention;
mod sandbox_access;
mod seeds;
mod shared_database;
mod statements;
mod sync;
mod tls;
mod transactions;
mod webhook_delivery;
mod webhooks;
