//! How an FI appears inside each accounting platform, and where its login page is: the
//! "Bank Feeds Configuration" the platforms' bank lists and the link flow are built from.

use crate::{OrgId, Platform, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiConfig {
    pub org_id: OrgId,
    pub platform: Platform,
    /// The FI's name in the platform's list of banks.
    pub display_name: String,
    pub logo_url: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`, `GB`.
    pub country_code: String,
    /// The FI's own login page; the link flow sends the customer there with `redirect_uri`.
    pub login_url: String,
    /// Shown on the platform's link page: how the customer obtains access (optional).
    pub otp_instructions: Option<String>,
    /// OFX Direct Connect only: the `FID` clients send and show (`None`: the default,
    /// `ofx::DEFAULT_FID`). Quicken and GnuCash users type it in, so it is the FI's own.
    pub ofx_fid: Option<String>,
    /// OFX Direct Connect only: the FI's ABA routing number, the `BANKID` of accounts that
    /// carry none of their own.
    pub ofx_bank_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiConfigError {
    #[error("field `{field}` must be at most {max} characters")]
    Length { field: &'static str, max: usize },
    #[error("field `{field}` must not be empty or blank")]
    Empty { field: &'static str },
    #[error("field `{field}` must be an absolute http(s) URL")]
    Url { field: &'static str },
    #[error("field `country_code`: {0:?} is not an ISO 3166-1 alpha-2 country code (upper case, e.g. GB)")]
    Country(String),
    #[error("field `ofx_fid` must be 1 to 32 ASCII letters or digits")]
    OfxFid,
    #[error(
        "field `ofx_bank_id` must be a nine-digit ABA routing number with a valid check digit"
    )]
    OfxBankId,
    #[error(
        "field `{field}` applies only to the OFX_DIRECT_CONNECT configuration, not {platform}"
    )]
    NotForPlatform {
        field: &'static str,
        platform: Platform,
    },
}

impl FiConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            FiConfigError::Length { .. } => "FIELD_TOO_LONG",
            FiConfigError::Empty { .. } => "EMPTY_FIELD",
            FiConfigError::Url { .. } => "INVALID_URL",
            FiConfigError::Country(_) => "INVALID_COUNTRY_CODE",
            FiConfigError::OfxFid | FiConfigError::OfxBankId => "INVALID_OFX_ID",
            FiConfigError::NotForPlatform { .. } => "FIELD_NOT_FOR_PLATFORM",
        }
    }
}

/// The longest URL accepted, in characters.
pub const MAX_URL_CHARS: usize = 2000;

fn check_url(field: &'static str, value: &str) -> Result<(), FiConfigError> {
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or(FiConfigError::Url { field })?;
    // A host must follow the scheme; no whitespace or control characters anywhere.
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty()
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
        || value.chars().count() > MAX_URL_CHARS
    {
        return Err(FiConfigError::Url { field });
    }
    Ok(())
}

impl FiConfig {
    /// Checks every field; returns the config with its display name trimmed. Lengths count the
    /// text as sent, so the published limits (and the OpenAPI document's) are exact.
    pub fn checked(mut self) -> Result<Self, FiConfigError> {
        if self.display_name.chars().count() > 100 {
            return Err(FiConfigError::Length {
                field: "display_name",
                max: 100,
            });
        }
        let name = self.display_name.trim();
        if name.is_empty() {
            return Err(FiConfigError::Empty {
                field: "display_name",
            });
        }
        self.display_name = name.to_owned();
        check_url("login_url", &self.login_url)?;
        if let Some(logo) = &self.logo_url {
            check_url("logo_url", logo)?;
        }
        if self
            .otp_instructions
            .as_ref()
            .is_some_and(|t| t.chars().count() > 500)
        {
            return Err(FiConfigError::Length {
                field: "otp_instructions",
                max: 500,
            });
        }
        // Exactly as ISO 3166 writes them (upper case): what the document's enum lists.
        if !is_country(&self.country_code) {
            return Err(FiConfigError::Country(self.country_code.clone()));
        }
        self.check_ofx_ids()?;
        Ok(self)
    }

    /// `ofx_fid` and `ofx_bank_id` belong to the OFX Direct Connect configuration alone: on any
    /// other platform they would be silently meaningless, so they are refused there.
    fn check_ofx_ids(&self) -> Result<(), FiConfigError> {
        for (field, value) in [
            ("ofx_fid", &self.ofx_fid),
            ("ofx_bank_id", &self.ofx_bank_id),
        ] {
            if value.is_some() && self.platform != Platform::OfxDirectConnect {
                return Err(FiConfigError::NotForPlatform {
                    field,
                    platform: self.platform,
                });
            }
        }
        if let Some(fid) = &self.ofx_fid {
            if fid.is_empty() || fid.len() > 32 || !fid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(FiConfigError::OfxFid);
            }
        }
        if let Some(id) = &self.ofx_bank_id {
            if !is_aba_routing_number(id) {
                return Err(FiConfigError::OfxBankId);
            }
        }
        Ok(())
    }
}

/// Nine digits whose ABA checksum holds (3·d1 + 7·d2 + d3 + 3·d4 + … ≡ 0 mod 10): a typo in
/// a routing number is caught here rather than by every customer's Quicken.
pub fn is_aba_routing_number(id: &str) -> bool {
    id.len() == 9
        && id.bytes().all(|b| b.is_ascii_digit())
        && id
            .bytes()
            .zip([3, 7, 1].iter().cycle())
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum::<u32>()
            % 10
            == 0
}

/// ISO 3166-1 alpha-2 codes currently assigned.
pub const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET \
FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR \
IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN \
MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR \
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn config() -> FiConfig {
        FiConfig {
            org_id: OrgId::new(),
            platform: Platform::Xero,
            display_name: " Demo Bank ".into(),
            logo_url: Some("https://bank.example/logo.png".into()),
            country_code: "GB".into(),
            login_url: "https://bank.example/login".into(),
            otp_instructions: None,
            ofx_fid: None,
            ofx_bank_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn configs_are_checked_and_normalised() {
        let ok = config().checked().unwrap();
        assert_eq!(
            (ok.display_name.as_str(), ok.country_code.as_str()),
            ("Demo Bank", "GB")
        );
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        let bad = |f: fn(&mut FiConfig)| {
            let mut c = config();
            f(&mut c);
            c.checked().unwrap_err().code()
        };
        assert_eq!(
            bad(|c| c.login_url = "ftp://bank.example".into()),
            "INVALID_URL"
        );
        assert_eq!(bad(|c| c.login_url = "https://".into()), "INVALID_URL");
        assert_eq!(
            bad(|c| c.login_url = "https://bank.example/a b".into()),
            "INVALID_URL"
        );
        assert_eq!(
            bad(|c| c.logo_url = Some("javascript:alert(1)".into())),
            "INVALID_URL"
        );
        assert_eq!(
            bad(|c| c.country_code = "XX".into()),
            "INVALID_COUNTRY_CODE"
        );
        assert_eq!(
            bad(|c| c.country_code = "gb".into()),
            "INVALID_COUNTRY_CODE"
        );
        assert_eq!(
            bad(|c| c.country_code = "GBR".into()),
            "INVALID_COUNTRY_CODE"
        );
        // Blank is not "too long": an empty string gets its own code.
        assert_eq!(bad(|c| c.display_name = "  ".into()), "EMPTY_FIELD");
        assert_eq!(bad(|c| c.display_name = "x".repeat(101)), "FIELD_TOO_LONG");
        // The OFX ids are the OFX Direct Connect configuration's alone.
        assert_eq!(
            bad(|c| c.ofx_fid = Some("1234".into())),
            "FIELD_NOT_FOR_PLATFORM"
        );
        assert_eq!(
            bad(|c| c.ofx_bank_id = Some("021000021".into())),
            "FIELD_NOT_FOR_PLATFORM"
        );
    }

    #[test]
    fn ofx_ids_are_checked() {
        let ofx = |fid: Option<&str>, bank: Option<&str>| {
            let mut c = config();
            c.platform = Platform::OfxDirectConnect;
            c.ofx_fid = fid.map(Into::into);
            c.ofx_bank_id = bank.map(Into::into);
            c.checked().map(|_| ()).map_err(|e| e.code())
        };
        // 021000021 and 011000015 are real routing numbers; 021000022 fails the check digit.
        assert_eq!(ofx(Some("10898"), Some("021000021")), Ok(()));
        assert_eq!(ofx(None, Some("011000015")), Ok(()));
        assert_eq!(ofx(Some("A1"), None), Ok(()));
        assert_eq!(ofx(None, Some("021000022")), Err("INVALID_OFX_ID"));
        assert_eq!(ofx(None, Some("02100002")), Err("INVALID_OFX_ID"));
        assert_eq!(ofx(None, Some("02100002a")), Err("INVALID_OFX_ID"));
        assert_eq!(ofx(Some(""), None), Err("INVALID_OFX_ID"));
        assert_eq!(ofx(Some("12 3"), None), Err("INVALID_OFX_ID"));
        assert_eq!(ofx(Some(&"1".repeat(33)), None), Err("INVALID_OFX_ID"));
    }
}
