//! Settings → the FI configuration per platform (`/console/settings/fi-configs/{platform}`):
//! the form, a "Preview" of the customer's link page built from the values being edited (the
//! form re-rendered with it, no JavaScript), and "Save". The values are checked by the same
//! rule as the API's `PUT /versioned/bank_feeds/configs/{platform}`
//! (`domain::fi_config::FiConfig::checked`), refusals carrying the same codes; a save is a
//! `bank_feeds_config.updated` event naming the operator.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{OrgId, Platform, Timestamp};
use serde::Deserialize;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};

/// The form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub(super) struct ConfigForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    login_url: String,
    #[serde(default)]
    country_code: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    otp_instructions: String,
    #[serde(default)]
    ofx_fid: String,
    #[serde(default)]
    ofx_bank_id: String,
}

impl ConfigForm {
    fn of(c: &FiConfig) -> Self {
        ConfigForm {
            display_name: c.display_name.clone(),
            login_url: c.login_url.clone(),
            country_code: c.country_code.clone(),
            logo_url: c.logo_url.clone().unwrap_or_default(),
            otp_instructions: c.otp_instructions.clone().unwrap_or_default(),
            ofx_fid: c.ofx_fid.clone().unwrap_or_default(),
            ofx_bank_id: c.ofx_bank_id.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The configuration these values make, as the API builds one from its body (a blank
    /// optional field is no value), checked by the API's rule.
    fn config(&self, org: OrgId, platform: Platform, now: Timestamp) -> Result<FiConfig, Refusal> {
        let optional = |s: &str| Some(s.to_owned()).filter(|t| !t.trim().is_empty());
        FiConfig {
            org_id: org,
            platform,
            display_name: self.display_name.clone(),
            logo_url: optional(&self.logo_url),
            country_code: self.country_code.trim().to_owned(),
            login_url: self.login_url.trim().to_owned(),
            otp_instructions: optional(&self.otp_instructions),
            ofx_fid: optional(&self.ofx_fid),
            ofx_bank_id: optional(&self.ofx_bank_id),
            created_at: now,
            updated_at: now,
        }
        .checked()
        .map_err(|e| Refusal {
            code: e.code(),
            message: e.to_string(),
        })
    }
}

pub(super) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// What the customer's link page (`/link/connections/{id}`) says with these values.
pub(super) struct Preview {
    pub bank: String,
    pub platform: &'static str,
    pub logo_url: String,
    pub instructions: String,
    pub login_url: String,
}

#[derive(Template)]
#[template(path = "console/fi_config.html")]
struct ConfigPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    platform: &'static str,
    slug: &'static str,
    ofx: bool,
    form: ConfigForm,
    error: Option<Refusal>,
    preview: Option<Preview>,
    saved: bool,
}

fn platform_of(raw: &str) -> Result<Platform, PageError> {
    raw.parse().map_err(|_| PageError::not_found("platform"))
}

fn page(session: &ConsoleSession, csrf: &Csrf, platform: Platform, form: ConfigForm) -> ConfigPage {
    ConfigPage {
        chrome: super::chrome(format!("FI configuration: {}", platform.display_name())),
        csrf: csrf.token().to_owned(),
        email: session.operator.email.clone(),
        platform: platform.display_name(),
        slug: platform.as_str(),
        ofx: platform == Platform::OfxDirectConnect,
        form,
        error: None,
        preview: None,
        saved: false,
    }
}

pub(super) async fn edit(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(platform): Path<String>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform_of(&platform)?;
    let stored = state
        .store
        .get_fi_config(session.operator.org_id, platform)
        .await?;
    let form = stored.as_ref().map(ConfigForm::of).unwrap_or_default();
    let body = web::render(&page(&session, &csrf, platform, form))?;
    Ok(csrf.attach(body, &state))
}

pub(super) async fn submit(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(platform): Path<String>,
    Posted { form, csrf }: Posted<ConfigForm>,
) -> Result<Response, PageError> {
    let platform = platform_of(&platform)?;
    let org = session.operator.org_id;
    let checked = form.config(org, platform, state.clock.now());
    let mut view = page(&session, &csrf, platform, form.clone());
    let config = match checked {
        Ok(c) => c,
        Err(refusal) => {
            view.error = Some(refusal);
            let body = web::render_status(StatusCode::BAD_REQUEST, &view)?;
            return Ok(csrf.attach(body, &state));
        }
    };
    if form.intent == "save" {
        let stored = state
            .store
            .put_fi_config_by(&config, Some(session.operator.id))
            .await?;
        tracing::info!(org_id = %org, operator_id = %session.operator.id, platform = %platform,
            "console: FI configuration saved");
        view.form = ConfigForm::of(&stored);
        view.saved = true;
    } else {
        view.preview = Some(Preview {
            bank: config.display_name,
            platform: platform.display_name(),
            logo_url: config.logo_url.unwrap_or_default(),
            instructions: config.otp_instructions.unwrap_or_default(),
            login_url: config.login_url,
        });
    }
    let body = web::render(&view)?;
    Ok(csrf.attach(body, &state))
}
