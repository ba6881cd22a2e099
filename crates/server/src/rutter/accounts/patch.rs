//! A PATCH body, field by field, into the domain's account patch. A clearable field is read
//! as a [`Patch`], so `null` (clear) and a value (set) are told apart by serde, not by hand.

use bankfeeds_domain::account::{AccountPatch, DETAIL_FIELDS};

use super::dto::{MAX_ID_LEN, MAX_TEXT_LEN};
use crate::http::error::ApiError;
use crate::http::patch::Patch;
use crate::http::time_param;

/// Turns a PATCH body into a domain patch, checking each field's type.
pub(super) fn patch_from(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<AccountPatch, ApiError> {
    use crate::http::extract::READ_ONLY_FIELDS as READ_ONLY;
    let mut patch = AccountPatch::default();
    for (field, value) in fields {
        let invalid = |msg: String| {
            ApiError::bad_request(
                "INVALID_FIELD_VALUE",
                format!("field `bank_feed_account.{field}`: {msg}"),
            )
        };
        let typed = |code: &'static str, msg: String| {
            ApiError::bad_request(code, format!("field `bank_feed_account.{field}`: {msg}"))
        };
        match field.as_str() {
            "internal_bank_account_id" => {
                // The limit counts the id as sent, as the document says; then it is trimmed.
                let v = value
                    .as_str()
                    .filter(|v| v.chars().count() <= MAX_ID_LEN)
                    .map(str::trim)
                    .filter(|v| !v.is_empty());
                patch.internal_bank_account_id = Some(
                    v.ok_or_else(|| {
                        invalid(format!("must be a string of 1 to {MAX_ID_LEN} characters"))
                    })?
                    .to_owned(),
                );
            }
            "bank_account_type" => {
                patch.bank_account_type = Some(
                    serde_json::from_value(value.clone())
                        .map_err(|e| typed("INVALID_ENUM_VALUE", e.to_string()))?,
                );
            }
            "currency_code" => {
                patch.currency = Some(
                    serde_json::from_value(value.clone())
                        .map_err(|e| typed("INVALID_ENUM_VALUE", e.to_string()))?,
                );
            }
            "parent_bank_feed_account_id" => {
                patch.parent_bank_feed_account_id =
                    serde_json::from_value::<Patch<_>>(value.clone())
                        .map_err(|e| invalid(e.to_string()))?
                        .into_update();
            }
            "transaction_start_date" => {
                let raw: Patch<String> = serde_json::from_value(value.clone()).map_err(|_| {
                    typed(
                        "INVALID_FIELD_TYPE",
                        "must be a timestamp string or null".into(),
                    )
                })?;
                patch.transaction_start_date = raw
                    .try_map(|s| {
                        time_param::parse(&s)
                            .ok_or_else(|| invalid(format!("{s:?} is not a timestamp")))
                    })?
                    .into_update();
            }
            // Rutter's PATCH example (seed 002, NetSuite): the FI pauses the feed. Only the
            // customer, linking again in the platform, makes it active.
            "status" => match value.as_str() {
                Some("inactive") => patch.deactivate_feed = true,
                Some("active") => {
                    return Err(invalid(
                        "only `inactive` (pause the feed) may be sent: a feed becomes active \
                         when the customer links it in the accounting platform"
                            .into(),
                    ))
                }
                _ => {
                    return Err(typed(
                        "INVALID_ENUM_VALUE",
                        "must be \"inactive\" (pause the feed)".into(),
                    ))
                }
            },
            "current_balance" => {
                patch.current_balance = serde_json::from_value::<Patch<_>>(value.clone())
                    .map_err(|e| invalid(e.to_string()))?
                    .into_update();
            }
            f if DETAIL_FIELDS.contains(&f) => {
                let value = match value {
                    // Dates in details accept the same forms as elsewhere.
                    serde_json::Value::String(s) if f.ends_with("_date") => serde_json::to_value(
                        time_param::parse(s)
                            .ok_or_else(|| invalid(format!("{s:?} is not a timestamp")))?,
                    )
                    .expect("timestamps serialise"),
                    other => other.clone(),
                };
                if let Some(text) = value.as_str() {
                    if text.chars().count() > MAX_TEXT_LEN {
                        return Err(typed(
                            "FIELD_TOO_LONG",
                            format!("longer than {MAX_TEXT_LEN} characters"),
                        ));
                    }
                }
                patch.details.insert(field.clone(), value);
            }
            f if READ_ONLY.contains(&f) => {
                return Err(typed(
                    "READ_ONLY_FIELD",
                    "is set by the hub or the platform, not by the FI".into(),
                ));
            }
            _ => {
                return Err(typed(
                    "UNKNOWN_FIELD",
                    "is not a field of a bank feed account".into(),
                ))
            }
        }
    }
    Ok(patch)
}
