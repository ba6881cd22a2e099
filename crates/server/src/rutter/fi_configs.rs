//! `/versioned/bank_feeds/configs`: how the FI appears in each platform's list of banks, and
//! the login page the link flow sends customers to (Rutter's dashboard "Bank Feeds
//! Configuration", as an API).

use axum::extract::State;
use axum::Json as JsonOut;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::Platform;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Ref, Required};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::path::{InPath, PathSegment};
use crate::http::responses::{BodyRefusals, Gone, Refusals, Unauthorized};
use crate::state::AppState;

pub use bankfeeds_wire::fi_configs::*;

/// A configuration as the door answers with it.
pub fn fi_config_out(c: FiConfig) -> FiConfigOut {
    FiConfigOut {
        platform: c.platform,
        display_name: c.display_name,
        login_url: c.login_url,
        country_code: c.country_code,
        logo_url: c.logo_url,
        otp_instructions: c.otp_instructions,
        ofx_fid: c.ofx_fid,
        ofx_bank_id: c.ofx_bank_id,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// `{platform}` in the document: one of the `Platform` schema's values.
impl IntoParams for InPath<Platform> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("platform")
            .parameter_in(ParameterIn::Path)
            .description(Some("The accounting platform"))
            .required(Required::True)
            .schema(Some(Ref::from_schema_name(Platform::name())))
            .build()]
    }
}

/// `{platform}` in a path: `INVALID_ENUM_VALUE` listing the platforms when it is none.
impl PathSegment for Platform {
    fn from_segment(raw: &str) -> Result<Self, ApiError> {
        raw.parse().map_err(|_| {
            ApiError::bad_request(
                "INVALID_ENUM_VALUE",
                format!(
                    "{raw:?} is not a platform; expected one of {}",
                    Platform::ALL.map(Platform::as_str).join(", ")
                ),
            )
        })
    }
}

fn not_configured(platform: Platform) -> ApiError {
    ApiError::gone(
        "CONFIG_NOT_FOUND",
        format!("no bank feeds configuration for {platform}"),
    )
}

/// Create or replace the configuration for one platform.
#[utoipa::path(
    put,
    path = "/versioned/bank_feeds/configs/{platform}",
    tag = "bank feeds configuration",
    params(InPath<Platform>),
    request_body = FiConfigIn,
    responses(
        (status = 200, body = FiConfigEnvelopeOut),
        Refusals, BodyRefusals,
    ),
)]
pub async fn put_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(platform): InPath<Platform>,
    Json(body): Json<FiConfigIn>,
) -> ApiResult<JsonOut<FiConfigEnvelopeOut>> {
    let now = state.clock.now();
    let config = FiConfig {
        org_id: org.id,
        platform,
        display_name: body.display_name,
        logo_url: body.logo_url.filter(|u| !u.trim().is_empty()),
        country_code: body.country_code,
        login_url: body.login_url,
        otp_instructions: body.otp_instructions.filter(|t| !t.trim().is_empty()),
        ofx_fid: body.ofx_fid,
        ofx_bank_id: body.ofx_bank_id,
        created_at: now,
        updated_at: now,
    }
    .checked()
    .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    let stored = state.store.put_fi_config(&config).await?;
    Ok(JsonOut(FiConfigEnvelopeOut {
        bank_feeds_config: fi_config_out(stored),
    }))
}

/// The organisation's configurations.
#[utoipa::path(
    get,
    path = "/versioned/bank_feeds/configs",
    tag = "bank feeds configuration",
    responses((status = 200, body = FiConfigListOut), Unauthorized),
)]
pub async fn list_fi_configs(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
) -> ApiResult<JsonOut<FiConfigListOut>> {
    let configs = state.store.list_fi_configs(org.id).await?;
    Ok(JsonOut(FiConfigListOut {
        bank_feeds_configs: configs.into_iter().map(fi_config_out).collect(),
    }))
}

/// The configuration for one platform.
#[utoipa::path(
    get,
    path = "/versioned/bank_feeds/configs/{platform}",
    tag = "bank feeds configuration",
    params(InPath<Platform>),
    responses(
        (status = 200, body = FiConfigEnvelopeOut),
        Refusals, Gone,
    ),
)]
pub async fn get_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(platform): InPath<Platform>,
) -> ApiResult<JsonOut<FiConfigEnvelopeOut>> {
    let config = state
        .store
        .get_fi_config(org.id, platform)
        .await?
        .ok_or_else(|| not_configured(platform))?;
    Ok(JsonOut(FiConfigEnvelopeOut {
        bank_feeds_config: fi_config_out(config),
    }))
}

/// Remove the configuration for one platform: the FI leaves that platform's list of banks.
#[utoipa::path(
    delete,
    path = "/versioned/bank_feeds/configs/{platform}",
    tag = "bank feeds configuration",
    params(InPath<Platform>),
    responses(
        (status = 200, body = FiConfigDeletedOut),
        Refusals, Gone,
    ),
)]
pub async fn delete_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    InPath(platform): InPath<Platform>,
) -> ApiResult<JsonOut<FiConfigDeletedOut>> {
    state
        .store
        .delete_fi_config(org.id, platform)
        .await
        .map_err(|e| match e {
            bankfeeds_store::StoreError::NotFound => not_configured(platform),
            other => other.into(),
        })?;
    Ok(JsonOut(FiConfigDeletedOut { success: true }))
}
