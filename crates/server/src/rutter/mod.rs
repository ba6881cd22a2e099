//! The Rutter-shaped door: the API under `/versioned`, its DTOs and the runner of its jobs.

pub mod accounts;
pub mod batch_job;
pub mod connections;
pub mod connectors;
pub mod continuity;
pub mod events;
pub mod fi_configs;
pub mod gaps;
pub mod ids;
pub mod jobs;
pub mod live_feed;
pub mod ofx_credentials;
pub mod otp;
pub mod response_mode;
pub mod statement;
pub mod transactions;
pub mod webhooks;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::state::AppState;

const ACCOUNTS: &str = "/versioned/accounting/bank_feeds/accounts";
const ACCOUNT: &str = "/versioned/accounting/bank_feeds/accounts/{id}";
const TRANSACTIONS: &str = "/versioned/accounting/bank_feeds/transactions";
const TRANSACTION: &str = "/versioned/accounting/bank_feeds/transactions/{id}";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/versioned/connections", get(connections::list_connections))
        .route(
            "/versioned/connections/create",
            post(connections::create_connection),
        )
        .route(
            "/versioned/connections/access_token",
            get(connections::get_connection),
        )
        .route(
            "/versioned/connections/status",
            get(connections::get_connection_status),
        )
        .route(
            "/versioned/connections/{id}",
            delete(connections::delete_connection),
        )
        .route(
            "/versioned/connections/{id}/rotate_access_token",
            post(connections::rotate_access_token),
        )
        .route(
            "/versioned/connections/{id}/ofx_credentials",
            post(ofx_credentials::create_ofx_credentials)
                .delete(ofx_credentials::delete_ofx_credentials),
        )
        .route(
            ACCOUNTS,
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route(
            ACCOUNT,
            get(accounts::get_account)
                .patch(accounts::update_account)
                .delete(accounts::delete_account),
        )
        .route(
            TRANSACTIONS,
            get(transactions::list_transactions).post(transactions::create_transactions),
        )
        .route(
            "/versioned/accounting/bank_feeds/accounts/{id}/statement",
            get(statement::account_statement),
        )
        .route(
            "/versioned/accounting/bank_feeds/accounts/{id}/continuity",
            get(continuity::get_continuity),
        )
        .route(
            "/versioned/accounting/bank_feeds/accounts/{id}/live_feed/restart",
            post(live_feed::restart),
        )
        .route(
            "/versioned/accounting/bank_feeds/accounts/{id}/closed_days",
            post(gaps::declare_closed_days),
        )
        .route(
            "/versioned/accounting/bank_feeds/accounts/{id}/continuity/breaks/{break_id}/acknowledge",
            post(continuity::acknowledge_break),
        )
        .route(
            "/versioned/accounting/bank_feeds/statement",
            get(statement::connection_statement),
        )
        .route(TRANSACTION, get(transactions::get_transaction))
        .route("/versioned/jobs/{id}", get(jobs::get_job))
        .route(
            "/versioned/bank_feeds/configs",
            get(fi_configs::list_fi_configs),
        )
        .route(
            "/versioned/bank_feeds/configs/{platform}",
            get(fi_configs::get_fi_config)
                .put(fi_configs::put_fi_config)
                .delete(fi_configs::delete_fi_config),
        )
        .route(
            "/versioned/bank_feeds/configs/{platform}/connector",
            get(connectors::get_connector).put(connectors::put_connector),
        )
        .route(
            "/versioned/accounting/bank_feeds/otp",
            post(otp::create_otp),
        )
        .merge(webhook_routes())
}

fn webhook_routes() -> Router<AppState> {
    use webhooks as w;
    Router::new()
        .route("/versioned/events", get(events::list_events))
        .route(
            "/versioned/webhooks",
            get(w::list_webhooks).post(w::create_webhook),
        )
        .route(
            "/versioned/webhooks/{id}",
            get(w::get_webhook)
                .patch(w::update_webhook)
                .delete(w::delete_webhook),
        )
        .route(
            "/versioned/webhooks/{id}/rotate_secret",
            post(w::rotate_webhook_secret),
        )
        .route(
            "/versioned/webhooks/{id}/recover",
            post(w::deliveries::recover_webhook),
        )
        .route(
            "/versioned/webhooks/{id}/attempts",
            get(w::deliveries::list_attempts),
        )
}
