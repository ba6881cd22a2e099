//! The page behind a connection's `link_url`: what the FI shows its customer to start linking.
//! The customer starts in their accounting platform, so the page says where to go there and
//! which bank to pick. It shows no secret, only the bank's and the platform's names.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use bankfeeds_domain::ConnectionId;

use crate::api::otp::platform_slug;
use crate::state::AppState;
use crate::web::{self, Chrome, PageError};

#[derive(Template)]
#[template(path = "link/connection.html")]
struct ConnectionPage {
    chrome: Chrome,
    platform: &'static str,
    slug: &'static str,
    /// The FI as the platform lists it; `None` when it has not configured this platform.
    bank: Option<String>,
}

pub async fn connection_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: ConnectionId = id.parse().map_err(|_| PageError::not_found("connection"))?;
    let connection = state
        .store
        .find_connection(id)
        .await?
        .ok_or_else(|| PageError::not_found("connection"))?;
    let bank = state
        .store
        .get_fi_config(connection.org_id, connection.platform)
        .await?
        .map(|c| c.display_name);
    web::render(&ConnectionPage {
        chrome: Chrome::hub("Connect your accounts"),
        platform: connection.platform.display_name(),
        slug: platform_slug(connection.platform),
        bank,
    })
}
