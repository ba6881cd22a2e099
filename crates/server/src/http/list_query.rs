//! `filter` and `sort` for account lists.
//!
//! Filter grammar: clauses joined by `AND`, each `<field> <op> <timestamp>`, where field is
//! `last_synced_at` or `updated_at`, op one of `>`, `>=`, `<`, `<=`, `=`, and the timestamp
//! RFC 3339 or `YYYY-MM-DD`, optionally quoted. Sort: `<field> [ASC|DESC]` (ASC when omitted);
//! no sort means `updated_at DESC`.

use bankfeeds_domain::account::{AccountSortField, CompareOp, SortDirection, TimeFilter};

use crate::http::error::ApiError;
use crate::http::time_param;

fn field(name: &str) -> Option<AccountSortField> {
    match name {
        "updated_at" => Some(AccountSortField::UpdatedAt),
        "last_synced_at" => Some(AccountSortField::LastSyncedAt),
        _ => None,
    }
}

fn bad_filter(msg: String) -> ApiError {
    ApiError::bad_request("INVALID_FILTER", msg)
}

pub fn parse_filter(raw: &str) -> Result<Vec<TimeFilter>, ApiError> {
    let mut filters = Vec::new();
    if raw.trim().is_empty() {
        return Ok(filters);
    }
    for clause in split_and(raw) {
        let clause = clause.trim();
        let op_at = clause
            .find(['>', '<', '='])
            .ok_or_else(|| bad_filter(format!("{clause:?} has no operator (>, >=, <, <=, =)")))?;
        let name = clause[..op_at].trim();
        let rest = &clause[op_at..];
        let (op, value) = [
            (">=", CompareOp::Ge),
            ("<=", CompareOp::Le),
            (">", CompareOp::Gt),
            ("<", CompareOp::Lt),
            ("=", CompareOp::Eq),
        ]
        .into_iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|v| (op, v)))
        .expect("an operator character was found");
        let field = field(name).ok_or_else(|| {
            bad_filter(format!(
                "cannot filter on {name:?}: filterable fields are last_synced_at and updated_at"
            ))
        })?;
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let value = time_param::parse(value).ok_or_else(|| {
            bad_filter(format!(
                "{value:?} is not an RFC 3339 timestamp or a YYYY-MM-DD date"
            ))
        })?;
        filters.push(TimeFilter { field, op, value });
    }
    Ok(filters)
}

/// Splits on the word AND (any case) between clauses.
fn split_and(raw: &str) -> Vec<&str> {
    let lower = raw.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(pos) = lower[search..].find(" and ") {
        let at = search + pos;
        parts.push(&raw[start..at]);
        start = at + 5;
        search = start;
    }
    parts.push(&raw[start..]);
    parts
}

pub fn parse_sort(raw: Option<&str>) -> Result<(AccountSortField, SortDirection), ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok((AccountSortField::UpdatedAt, SortDirection::Desc));
    };
    let mut words = raw.split_whitespace();
    let name = words.next().unwrap_or_default();
    let field = field(name).ok_or_else(|| {
        ApiError::bad_request(
            "INVALID_SORT",
            format!("cannot sort on {name:?}: use last_synced_at or updated_at"),
        )
    })?;
    let direction = match words.next().map(str::to_ascii_uppercase).as_deref() {
        None | Some("ASC") => SortDirection::Asc,
        Some("DESC") => SortDirection::Desc,
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALID_SORT",
                format!("sort direction must be ASC or DESC, not {other:?}"),
            ))
        }
    };
    if words.next().is_some() {
        return Err(ApiError::bad_request(
            "INVALID_SORT",
            "sort is `<field> [ASC|DESC]`",
        ));
    }
    Ok((field, direction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_every_operator_and_refuse_nonsense() {
        let f = parse_filter("updated_at >= 2024-01-01 AND last_synced_at<\"2024-02-01T00:00:00Z\" and updated_at=2024-01-05").unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].field, f[0].op),
            (AccountSortField::UpdatedAt, CompareOp::Ge)
        );
        assert_eq!(
            (f[1].field, f[1].op),
            (AccountSortField::LastSyncedAt, CompareOp::Lt)
        );
        assert_eq!(f[2].op, CompareOp::Eq);
        for bad in [
            "name = x",
            "updated_at ~ 2024-01-01",
            "updated_at > yesterday",
            "updated_at",
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().code,
                "INVALID_FILTER",
                "{bad}"
            );
        }
    }

    #[test]
    fn sorts_default_and_parse() {
        assert_eq!(
            parse_sort(None).unwrap(),
            (AccountSortField::UpdatedAt, SortDirection::Desc)
        );
        assert_eq!(
            parse_sort(Some("last_synced_at")).unwrap(),
            (AccountSortField::LastSyncedAt, SortDirection::Asc)
        );
        assert_eq!(
            parse_sort(Some("updated_at desc")).unwrap(),
            (AccountSortField::UpdatedAt, SortDirection::Desc)
        );
        assert_eq!(parse_sort(Some("name")).unwrap_err().code, "INVALID_SORT");
        assert_eq!(
            parse_sort(Some("updated_at sideways")).unwrap_err().code,
            "INVALID_SORT"
        );
    }
}
