//! Timestamps are stored as integer microseconds since the epoch: exact, compact, and sortable.

use bankfeeds_domain::Timestamp;
use bankfeeds_store::StoreError;
use chrono::DateTime;

pub fn to_db(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

pub fn from_db(micros: i64) -> Result<Timestamp, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Backend(format!("timestamp out of range: {micros}").into()))
}

pub fn opt_from_db(micros: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    micros.map(from_db).transpose()
}
