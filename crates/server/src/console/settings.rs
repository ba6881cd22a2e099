//! Settings (`/console/settings`): the FI configuration of each platform (edited in
//! `fi_configs.rs`) and the organisation's API credential. Rotating the client secret needs a
//! ticked confirmation; the new secret is shown once, on the answer to the post
//! (`Cache-Control: no-store`), and the old one stops working at once; the rotation is an
//! `organisation.client_secret_rotated` event naming the operator.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bankfeeds_domain::{Platform, Secret, SecretKind};
use serde::Deserialize;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};

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
    configs: Vec<ConfigRow>,
}

/// A platform and what the FI configured for it (empty: nothing yet).
struct ConfigRow {
    slug: &'static str,
    platform: &'static str,
    display_name: String,
    updated: String,
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
    let stored = state.store.list_fi_configs(org.id).await?;
    let configs = Platform::ALL
        .into_iter()
        .map(|p| {
            let c = stored.iter().find(|c| c.platform == p);
            ConfigRow {
                slug: p.as_str(),
                platform: p.display_name(),
                display_name: c.map(|c| c.display_name.clone()).unwrap_or_default(),
                updated: c.map(|c| web::moment(c.updated_at)).unwrap_or_default(),
            }
        })
        .collect();
    web::render(&SettingsPage {
        configs,
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
    confirm: Option<String>,
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    session: ConsoleSession,
    Posted { form, csrf }: Posted<RotateForm>,
) -> Result<Response, PageError> {
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
        .rotate_client_secret_by(
            org,
            &secret.hash(),
            Some(session.operator.id),
            state.clock.now(),
        )
        .await?;
    tracing::info!(org_id = %org, operator_id = %session.operator.id, "console: client secret rotated");
    render(&state, session, &csrf, secret.expose().to_owned()).await
}
