//! What the Codat door's operations declare beside their success in `/codat/openapi.json`:
//! the refusal sets (each Codat's `ErrorMessage`) and the list parameters.

use utoipa::IntoParams;

crate::error_set! {
    "ErrorMessage":
    /// 400 (malformed, or breaks a rule: `errorCode` says which), 401 and 429.
    Refused => [400, 401, 429];
    /// 404: no such company, data connection, source account or push operation in this
    /// organisation.
    Missing => [404];
    /// 413 and 415: what the hub refuses of any body before reading it.
    BodyRefused => [413, 415];
    /// 409: the request conflicts with what is stored.
    Conflicting => [409];
}

/// Codat's list parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read from the raw query by `paging::ListParams`; declared here
pub struct ListQuery {
    /// From 1 (default 1).
    #[param(minimum = 1)]
    page: Option<u32>,
    /// 1 to 5000 (default 100).
    #[param(rename = "pageSize", minimum = 1, maximum = 5000)]
    page_size: Option<u32>,
    /// Codat's query language over the resources' properties, e.g. `status=Failed`.
    query: Option<String>,
    /// A property to sort by, `-` first for descending.
    #[param(rename = "orderBy")]
    order_by: Option<String>,
    /// Companies: a query over their tags.
    tags: Option<String>,
}
