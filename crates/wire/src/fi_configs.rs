//! `/versioned/bank_feeds/configs`: how the FI appears in each platform's list of banks.

use bankfeeds_domain::{Platform, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FiConfigEnvelopeOut {
    pub bank_feeds_config: FiConfigOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FiConfigListOut {
    pub bank_feeds_configs: Vec<FiConfigOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FiConfigDeletedOut {
    pub success: bool,
}
