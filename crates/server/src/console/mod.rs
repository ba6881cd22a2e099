//! The operator's console (`/console`, issue 18): server-rendered pages for an organisation's
//! operators, with the link pages' CSRF protection and headers (`web/`), no JavaScript.
//!
//! `session.rs` is who is signed in (an `HttpOnly`, `SameSite=Strict` cookie whose digest is
//! an `operator_sessions` row); `auth.rs` the setup link, sign-in (throttled per email and
//! client address, `domain::operator::Throttle`) and sign-out; `overview.rs` the overview and
//! its SVG chart; `feeds.rs` the connection search and a feed's page; `actions.rs` a feed's
//! actions behind confirmation pages; `jobs.rs` failed jobs; `settings.rs` rotating the client
//! secret and `fi_configs.rs` editing the FI configuration with a preview; `webhooks.rs` the
//! webhook endpoints, their attempts and actions. Every action is
//! an event naming the operator, or a log line where the API's own event already says it. Every read is scoped to
//! the signed-in operator's organisation: another organisation's resource is a 404.

mod actions;
mod auth;
mod feeds;
mod fi_configs;
mod jobs;
mod overview;
mod session;
mod settings;
mod webhooks;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use crate::web::Chrome;

pub use overview::stale_feeds;
pub use session::ConsoleSession;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(overview::page))
        .route("/console/setup", get(auth::setup_page).post(auth::setup))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/connections", get(feeds::connections))
        .route("/console/accounts/{id}", get(feeds::account))
        .route(
            "/console/accounts/{id}/{action}",
            get(actions::confirm).post(actions::act),
        )
        .route("/console/jobs", get(jobs::page))
        .route("/console/settings", get(settings::page))
        .route(
            "/console/settings/rotate-secret",
            post(settings::rotate_secret),
        )
        .route(
            "/console/settings/fi-configs/{platform}",
            get(fi_configs::edit).post(fi_configs::submit),
        )
        .route(
            "/console/settings/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/console/settings/webhooks/{id}", get(webhooks::show))
        .route(
            "/console/settings/webhooks/{id}/{action}",
            post(webhooks::act),
        )
}

/// The frame of a console page.
fn chrome(title: impl Into<String>) -> Chrome {
    Chrome {
        tag: "console",
        home: "/console".to_owned(),
        ..Chrome::hub(title)
    }
}
