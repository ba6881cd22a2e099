//! Rutter's deprecated account-list filters, `updated_at_min`, `updated_at_max` and
//! `last_synced_at_min`: Unix times in milliseconds, each one `field op value` clause of the
//! same list filter that `filter` spells out (`>=`, `<=`, `>=`), compared at the millisecond
//! the caller can name: `updated_at_max` takes the whole of its millisecond (the hub stores
//! microseconds), so the `updated_at` a list showed, in milliseconds, is within both bounds.

use chrono::{DateTime, TimeDelta};

use super::{AccountSortField, CompareOp, TimeFilter};

/// The earliest accepted value: 1900-01-01T00:00:00Z, as for every timestamp the hub reads.
pub const MIN_UNIX_MILLIS: i64 = -2_208_988_800_000;
/// The latest accepted value: 9999-12-31T23:59:59.999Z.
pub const MAX_UNIX_MILLIS: i64 = 253_402_300_799_999;

/// One of the deprecated filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeprecatedFilter {
    UpdatedAtMin,
    UpdatedAtMax,
    LastSyncedAtMin,
}

impl DeprecatedFilter {
    /// Its query parameter's name.
    pub fn name(self) -> &'static str {
        match self {
            DeprecatedFilter::UpdatedAtMin => "updated_at_min",
            DeprecatedFilter::UpdatedAtMax => "updated_at_max",
            DeprecatedFilter::LastSyncedAtMin => "last_synced_at_min",
        }
    }

    /// The clause for `millis` (Unix milliseconds), or None when it is outside
    /// [`MIN_UNIX_MILLIS`]..=[`MAX_UNIX_MILLIS`].
    pub fn clause(self, millis: i64) -> Option<TimeFilter> {
        if !(MIN_UNIX_MILLIS..=MAX_UNIX_MILLIS).contains(&millis) {
            return None;
        }
        let value = DateTime::from_timestamp_millis(millis)?;
        let (field, op, value) = match self {
            DeprecatedFilter::UpdatedAtMin => (AccountSortField::UpdatedAt, CompareOp::Ge, value),
            DeprecatedFilter::UpdatedAtMax => (
                AccountSortField::UpdatedAt,
                CompareOp::Le,
                value + TimeDelta::microseconds(999),
            ),
            DeprecatedFilter::LastSyncedAtMin => {
                (AccountSortField::LastSyncedAt, CompareOp::Ge, value)
            }
        };
        Some(TimeFilter { field, op, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts;

    /// Seed 002: "updated_at_min [...] Used to filter objects with a updated_at value greater
    /// than or equal to the supplied value. Should be a Unix time in milliseconds."
    #[test]
    fn each_is_a_clause_in_milliseconds() {
        let at = ts("2024-01-02T03:04:05.678Z");
        let ms = at.timestamp_millis();
        assert_eq!(
            DeprecatedFilter::UpdatedAtMin.clause(ms),
            Some(TimeFilter {
                field: AccountSortField::UpdatedAt,
                op: CompareOp::Ge,
                value: at
            })
        );
        let max = DeprecatedFilter::UpdatedAtMax.clause(ms).unwrap();
        assert_eq!(
            (max.field, max.op, max.value),
            (
                AccountSortField::UpdatedAt,
                CompareOp::Le,
                ts("2024-01-02T03:04:05.678999Z")
            ),
            "the whole millisecond"
        );
        let synced = DeprecatedFilter::LastSyncedAtMin.clause(ms).unwrap();
        assert_eq!(
            (synced.field, synced.op),
            (AccountSortField::LastSyncedAt, CompareOp::Ge)
        );
        assert_eq!(
            DeprecatedFilter::LastSyncedAtMin.name(),
            "last_synced_at_min"
        );
    }

    #[test]
    fn the_range_is_the_years_1900_to_9999() {
        let f = DeprecatedFilter::UpdatedAtMin;
        assert_eq!(
            f.clause(MIN_UNIX_MILLIS).unwrap().value,
            ts("1900-01-01T00:00:00Z")
        );
        assert_eq!(
            f.clause(MAX_UNIX_MILLIS).unwrap().value,
            ts("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(
            DeprecatedFilter::UpdatedAtMax
                .clause(MAX_UNIX_MILLIS)
                .unwrap()
                .value,
            ts("9999-12-31T23:59:59.999999Z")
        );
        assert_eq!(f.clause(MIN_UNIX_MILLIS - 1), None);
        assert_eq!(f.clause(MAX_UNIX_MILLIS + 1), None);
        assert_eq!(f.clause(i64::MAX), None);
    }
}
