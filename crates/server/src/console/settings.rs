//! Settings (`/console/settings`): the organisation's API credential. Rotating the client
//! secret needs a ticked confirmation; the new secret is shown once, on the answer to the
//! post (`Cache-Control: no-store`), and the old one stops working at once.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bankfeeds_domain::{Secret, SecretKind};
use serde::Deserialize;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError};

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    org_name: String,
    client_id: String,
    /// The new secret, right after a rotation; empty otherwise.
    new_secret: String,
}

async fn render(
    state: &AppState,
    session: ConsoleSession,
    csrf: &Csrf,
    new_secret: String,
) -> Result<Response, PageError> {
    let org = state
        .store
        .get_org(session.operator.org_id)
        .await?
        .ok_or_else(|| PageError::not_found("organisation"))?;
    web::render(&SettingsPage {
        chrome: super::chrome("Settings"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        org_name: org.name,
        client_id: org.client_id,
        new_secret,
    })
}

pub(super) async fn page(
    State(state): State<AppState>,
    session: ConsoleSession,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let page = render(&state, session, &csrf, String::new()).await?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
pub(super) struct RotateForm {
    csrf: String,
    confirm: Option<String>,
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    session: ConsoleSession,
    csrf: Csrf,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: RotateForm = web::form(&body)?;
    csrf.check(&form.csrf)?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "CONFIRMATION_REQUIRED",
            "Not rotated",
            "Tick the box to confirm: the current client secret stops working at once.",
        ));
    }
    let org = session.operator.org_id;
    let secret = Secret::generate(SecretKind::ClientSecret);
    state
        .store
        .rotate_client_secret(org, &secret.hash())
        .await?;
    tracing::info!(org_id = %org, operator_id = %session.operator.id, "console: client secret rotated");
    render(&state, session, &csrf, secret.expose().to_owned()).await
}
