//! `/versioned/bank_feeds/configs`: how the FI appears in each platform's list of banks, and
//! the login page the link flow sends customers to (Rutter's dashboard "Bank Feeds
//! Configuration", as an API).

use axum::extract::{Path, State};
use axum::Json as JsonOut;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{Platform, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::responses::{BodyRefusals, Gone, Refusals, Unauthorized};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiConfigIn {
    /// The FI's name in the platform's list of banks (up to 100 characters, not blank; stored
    /// trimmed).
    #[schema(max_length = 100, pattern = r"\S")]
    pub display_name: String,
    /// The FI's login page (http or https). The link flow redirects customers here with a
    /// `redirect_uri` query parameter to return to after login. The pattern says what
    /// `domain::fi_config` checks: a scheme, a host, no whitespace or control character.
    #[schema(
        max_length = 2000,
        pattern = r"^[hH][tT][tT][pP][sS]?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*$"
    )]
    pub login_url: String,
    /// ISO 3166-1 alpha-2 code of the FI's country, upper case, e.g. `US`.
    #[schema(schema_with = country_code_schema)]
    pub country_code: String,
    /// The FI's logo (http or https); empty or blank means none.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^(\s*|[hH][tT][tT][pP][sS]?://[^/?#\s\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*)$"
    )]
    pub logo_url: Option<String>,
    /// How customers obtain access, shown on the platform's link page (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub otp_instructions: Option<String>,
    /// `OFX_DIRECT_CONNECT` only (`400 FIELD_NOT_FOR_PLATFORM` elsewhere): the `FID` OFX
    /// clients send and show, 1 to 32 letters or digits. Default `1`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9]+$")]
    pub ofx_fid: Option<String>,
    /// `OFX_DIRECT_CONNECT` only (`400 FIELD_NOT_FOR_PLATFORM` elsewhere): the FI's ABA routing
    /// number, nine digits with a valid check digit (`400 INVALID_OFX_ID` otherwise), the
    /// `BANKID` of accounts that carry no routing number of their own. Default `000000000`.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{9}$")]
    pub ofx_bank_id: Option<String>,
}

fn country_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(
            "ISO 3166-1 alpha-2 code of the FI's country, upper case, e.g. `US`.",
        ))
        .enum_values(Some(bankfeeds_domain::fi_config::COUNTRIES.split(' ')))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiConfigOut {
    pub platform: Platform,
    pub display_name: String,
    pub login_url: String,
    pub country_code: String,
    pub logo_url: Option<String>,
    pub otp_instructions: Option<String>,
    /// `OFX_DIRECT_CONNECT` only: the configured `FID` (null: the default, `1`).
    pub ofx_fid: Option<String>,
    /// `OFX_DIRECT_CONNECT` only: the configured routing number (null: the default).
    pub ofx_bank_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<FiConfig> for FiConfigOut {
    fn from(c: FiConfig) -> Self {
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiConfigEnvelopeOut {
    pub bank_feeds_config: FiConfigOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiConfigListOut {
    pub bank_feeds_configs: Vec<FiConfigOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiConfigDeletedOut {
    pub success: bool,
}

pub fn parse_platform(raw: &str) -> Result<Platform, ApiError> {
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
    params(("platform" = Platform, Path, description = "The accounting platform")),
    request_body = FiConfigIn,
    responses(
        (status = 200, body = FiConfigEnvelopeOut),
        Refusals, BodyRefusals,
    ),
    security(("basic" = []))
)]
pub async fn put_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(platform): Path<String>,
    Json(body): Json<FiConfigIn>,
) -> ApiResult<JsonOut<FiConfigEnvelopeOut>> {
    let platform = parse_platform(&platform)?;
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
        bank_feeds_config: stored.into(),
    }))
}

/// The organisation's configurations.
#[utoipa::path(
    get,
    path = "/versioned/bank_feeds/configs",
    tag = "bank feeds configuration",
    responses((status = 200, body = FiConfigListOut), Unauthorized),
    security(("basic" = []))
)]
pub async fn list_fi_configs(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
) -> ApiResult<JsonOut<FiConfigListOut>> {
    let configs = state.store.list_fi_configs(org.id).await?;
    Ok(JsonOut(FiConfigListOut {
        bank_feeds_configs: configs.into_iter().map(Into::into).collect(),
    }))
}

/// The configuration for one platform.
#[utoipa::path(
    get,
    path = "/versioned/bank_feeds/configs/{platform}",
    tag = "bank feeds configuration",
    params(("platform" = Platform, Path, description = "The accounting platform")),
    responses(
        (status = 200, body = FiConfigEnvelopeOut),
        Refusals, Gone,
    ),
    security(("basic" = []))
)]
pub async fn get_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(platform): Path<String>,
) -> ApiResult<JsonOut<FiConfigEnvelopeOut>> {
    let platform = parse_platform(&platform)?;
    let config = state
        .store
        .get_fi_config(org.id, platform)
        .await?
        .ok_or_else(|| not_configured(platform))?;
    Ok(JsonOut(FiConfigEnvelopeOut {
        bank_feeds_config: config.into(),
    }))
}

/// Remove the configuration for one platform: the FI leaves that platform's list of banks.
#[utoipa::path(
    delete,
    path = "/versioned/bank_feeds/configs/{platform}",
    tag = "bank feeds configuration",
    params(("platform" = Platform, Path, description = "The accounting platform")),
    responses(
        (status = 200, body = FiConfigDeletedOut),
        Refusals, Gone,
    ),
    security(("basic" = []))
)]
pub async fn delete_fi_config(
    State(state): State<AppState>,
    OrgAuth(org): OrgAuth,
    Path(platform): Path<String>,
) -> ApiResult<JsonOut<FiConfigDeletedOut>> {
    let platform = parse_platform(&platform)?;
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
