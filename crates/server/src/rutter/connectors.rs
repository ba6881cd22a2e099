//! `/versioned/bank_feeds/configs/{platform}/connector`: whether the organisation's feeds of a
//! platform go to the hub's built-in sandbox (the default) or live to the platform's own API,
//! and the live app's credentials (kept sealed under `secrets_key`, never returned).

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::live::{self, ConnectorMode, ConnectorSettings};
use bankfeeds_domain::{OrgId, Platform, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::path::InPath;
use crate::http::responses::{BodyRefusals, Refusals};
use crate::state::AppState;

pub use crate::sealed::{credential_context, CLIENT_ID, CLIENT_SECRET};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorIn {
    /// `sandbox` or `live`; unchanged when left out. `live` needs app credentials (now or
    /// earlier) and a hub with `secrets_key` configured.
    #[serde(default)]
    pub mode: Option<ConnectorMode>,
    /// The platform app's client id (Xero: the app's "Client id"). With `client_secret`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub client_id: Option<String>,
    /// The platform app's client secret. Stored sealed; never returned.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorOut {
    pub platform: Platform,
    pub mode: ConnectorMode,
    /// Whether app credentials are stored (they are never shown).
    pub credentials_set: bool,
    /// Whether the platform has a live connector at all (Xero does).
    pub live_available: bool,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorEnvelopeOut {
    pub connector: ConnectorOut,
}

fn out(s: &ConnectorSettings) -> ConnectorEnvelopeOut {
    ConnectorEnvelopeOut {
        connector: ConnectorOut {
            platform: s.platform,
            mode: s.mode,
            credentials_set: s.has_credentials(),
            live_available: live::has_live_connector(s.platform),
            updated_at: s.updated_at,
        },
    }
}

/// The organisation's settings for `platform`: the stored ones, or the default (sandbox, no
/// credentials) as of `now` when none are stored.
async fn settings_of(
    state: &AppState,
    org: OrgId,
    platform: Platform,
    now: Timestamp,
) -> ApiResult<ConnectorSettings> {
    Ok(state
        .store
        .get_connector(org, platform)
        .await?
        .unwrap_or_else(|| ConnectorSettings::default_for(org, platform, now)))
}

/// Choose sandbox or live delivery for one platform, and set the live app's credentials.
#[utoipa::path(
    put,
    path = "/versioned/bank_feeds/configs/{platform}/connector",
    tag = "bank feeds configuration",
    params(InPath<Platform>),
    request_body = ConnectorIn,
    responses(
        (status = 200, body = ConnectorEnvelopeOut),
        Refusals, BodyRefusals,
    ),
)]
pub async fn put_connector(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(platform): InPath<Platform>,
    Json(body): Json<ConnectorIn>,
) -> ApiResult<JsonOut<ConnectorEnvelopeOut>> {
    let now = state.clock.now();
    let current = settings_of(&state, org.id, platform, now).await?;
    for (name, value, most) in [
        ("client_id", &body.client_id, 200),
        ("client_secret", &body.client_secret, 500),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > most) {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!("{name} is longer than {most} characters"),
            ));
        }
    }
    let (mode, new_credentials) = live::decide_connector(
        platform,
        &current,
        body.mode,
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
        state.keyring.is_some(),
    )
    .map_err(|r| ApiError::bad_request(r.code(), r.to_string()))?;
    let mut next = ConnectorSettings {
        mode,
        updated_at: now,
        ..current
    };
    if let (true, Some(keyring), Some(id), Some(secret)) = (
        new_credentials,
        state.keyring.as_deref(),
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
    ) {
        let seal = |purpose, value: &str| {
            keyring.seal_text(
                &credential_context(purpose, org.id, platform),
                value.as_bytes(),
            )
        };
        next.client_id_sealed = Some(seal(CLIENT_ID, id));
        next.client_secret_sealed = Some(seal(CLIENT_SECRET, secret));
    }
    let stored = state.store.put_connector(&next).await?;
    tracing::info!(
        org_id = %org.id,
        platform = platform.as_str(),
        mode = stored.mode.as_str(),
        credentials_changed = new_credentials,
        "connector set"
    );
    Ok(JsonOut(out(&stored)))
}

/// Whether one platform's feeds go to the sandbox or live (credentials never shown).
#[utoipa::path(
    get,
    path = "/versioned/bank_feeds/configs/{platform}/connector",
    tag = "bank feeds configuration",
    params(InPath<Platform>),
    responses((status = 200, body = ConnectorEnvelopeOut), Refusals),
)]
pub async fn get_connector(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(platform): InPath<Platform>,
) -> ApiResult<JsonOut<ConnectorEnvelopeOut>> {
    let settings = settings_of(&state, org.id, platform, state.clock.now()).await?;
    Ok(JsonOut(out(&settings)))
}
