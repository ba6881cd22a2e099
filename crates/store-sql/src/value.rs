//! The values that cross between Rust and SQL, one type each for both backends.
//!
//! The two schemas keep the same facts in different column types: an id is `uuid` on PostgreSQL
//! and hyphenated text on SQLite, a time `timestamptz` or integer microseconds since the epoch,
//! an amount `NUMERIC` or exact decimal text, a count `int4` or SQLite's one integer type. The
//! shared SQL binds [`Arg`] and reads rows through [`DbId`], [`DbTime`], [`DbAmount`] and
//! [`DbInt`], each of which encodes or decodes the column type of the backend it runs on, so a
//! query is written once.

use bankfeeds_domain::{Amount, Timestamp};
use bankfeeds_store::decode::corrupt;
use bankfeeds_store::StoreResult;
use chrono::DateTime;
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// One bound parameter. `None` inside a variant is SQL `NULL` of that variant's type, so
/// PostgreSQL still knows the parameter's type (`$1 IS NULL OR id > $1`).
#[derive(Debug, Clone)]
pub enum Arg {
    Id(Option<Uuid>),
    Time(Option<Timestamp>),
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Amount(Option<Decimal>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::$variant(Some(v.into()))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::$variant(v.map(Into::into))
            }
        }
    )*};
}

arg_from! {
    Uuid => Id,
    Timestamp => Time,
    String => Text,
    &str => Text,
    &String => Text,
    i64 => Int,
    i32 => Int,
    u32 => Int,
    bool => Bool,
    Decimal => Amount,
    Vec<u8> => Bytes,
}

impl Type<Sqlite> for Arg {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Arg {
    /// Moves text and bytes into the statement instead of copying them (a job body can be
    /// hundreds of kilobytes).
    fn encode(self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        let value = match self {
            Arg::Text(Some(s)) => SqliteArgumentValue::Text(s.into()),
            Arg::Bytes(Some(b)) => SqliteArgumentValue::Blob(b.into()),
            other => return <Arg as Encode<'q, Sqlite>>::encode_by_ref(&other, buf),
        };
        buf.push(value);
        Ok(IsNull::No)
    }

    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        let value = match self {
            Arg::Id(Some(u)) => SqliteArgumentValue::Text(u.hyphenated().to_string().into()),
            Arg::Time(Some(t)) => SqliteArgumentValue::Int64(t.timestamp_micros()),
            Arg::Text(Some(s)) => SqliteArgumentValue::Text(s.clone().into()),
            Arg::Int(Some(n)) => SqliteArgumentValue::Int64(*n),
            Arg::Bool(Some(b)) => SqliteArgumentValue::Int(i32::from(*b)),
            Arg::Amount(Some(d)) => SqliteArgumentValue::Text(d.to_string().into()),
            Arg::Bytes(Some(b)) => SqliteArgumentValue::Blob(b.clone().into()),
            _ => return Ok(IsNull::Yes),
        };
        buf.push(value);
        Ok(IsNull::No)
    }
}

impl Type<Postgres> for Arg {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Arg {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self {
            Arg::Id(Some(u)) => <Uuid as Encode<'_, Postgres>>::encode_by_ref(u, buf),
            Arg::Time(Some(t)) => <Timestamp as Encode<'_, Postgres>>::encode_by_ref(t, buf),
            Arg::Text(Some(s)) => <String as Encode<'_, Postgres>>::encode_by_ref(s, buf),
            Arg::Int(Some(n)) => <i64 as Encode<'_, Postgres>>::encode_by_ref(n, buf),
            Arg::Bool(Some(b)) => <bool as Encode<'_, Postgres>>::encode_by_ref(b, buf),
            Arg::Amount(Some(d)) => <Decimal as Encode<'_, Postgres>>::encode_by_ref(d, buf),
            Arg::Bytes(Some(b)) => <Vec<u8> as Encode<'_, Postgres>>::encode_by_ref(b, buf),
            _ => Ok(IsNull::Yes),
        }
    }

    /// The parameter's type as PostgreSQL should see it, null or not.
    fn produces(&self) -> Option<PgTypeInfo> {
        Some(match self {
            Arg::Id(_) => <Uuid as Type<Postgres>>::type_info(),
            Arg::Time(_) => <Timestamp as Type<Postgres>>::type_info(),
            Arg::Text(_) => <String as Type<Postgres>>::type_info(),
            Arg::Int(_) => <i64 as Type<Postgres>>::type_info(),
            Arg::Bool(_) => <bool as Type<Postgres>>::type_info(),
            Arg::Amount(_) => <Decimal as Type<Postgres>>::type_info(),
            Arg::Bytes(_) => <Vec<u8> as Type<Postgres>>::type_info(),
        })
    }
}

/// Declares a column type read the same way from both backends: `$sqlite` and `$pg` are the
/// Rust types sqlx decodes there, `$from_sqlite` / `$from_pg` turn them into the value.
macro_rules! column {
    ($(#[$meta:meta])* $name:ident($inner:ty): sqlite $sqlite:ty => $from_sqlite:expr, postgres $pg:ty => $from_pg:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub $inner);

        impl Type<Sqlite> for $name {
            fn type_info() -> SqliteTypeInfo {
                <$sqlite as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <$sqlite as Type<Sqlite>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $name {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <$sqlite as Decode<'r, Sqlite>>::decode(value)?;
                let f: fn($sqlite) -> Result<$inner, BoxDynError> = $from_sqlite;
                f(raw).map($name)
            }
        }

        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <$pg as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <$pg as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <$pg as Decode<'r, Postgres>>::decode(value)?;
                let f: fn($pg) -> Result<$inner, BoxDynError> = $from_pg;
                f(raw).map($name)
            }
        }
    };
}

column! {
    /// An id column (a malformed one is a decode error, so a corrupt row never becomes an id).
    DbId(Uuid): sqlite String => |s| Ok(Uuid::parse_str(&s)?), postgres Uuid => Ok
}

column! {
    /// A time column: integer microseconds since the epoch on SQLite (exact, compact, sortable).
    DbTime(Timestamp):
        sqlite i64 => |micros| DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| format!("timestamp out of range: {micros}").into()),
        postgres Timestamp => Ok
}

column! {
    /// A job body's bytes: a BLOB on SQLite (`CAST(body AS BLOB)`, LZ4-packed or the JSON's
    /// UTF-8, see `jobs::body`), the JSON text on PostgreSQL.
    DbBytes(Vec<u8>): sqlite Vec<u8> => Ok, postgres String => |s| Ok(s.into_bytes())
}

column! {
    /// An exact amount: decimal text on SQLite, `NUMERIC` on PostgreSQL (which keeps trailing
    /// zeros; the domain's `Amount` drops them).
    DbAmount(Decimal): sqlite String => |s| Ok(s.parse()?), postgres Decimal => Ok
}

/// An integer column of any width (PostgreSQL's `int2`/`int4`/`int8`, SQLite's one integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbInt(pub i64);

impl DbInt {
    /// The column as a count of rows (`COUNT(*)`, a `SUM` of flags): never negative, so a
    /// negative value reads as 0.
    pub fn count(self) -> u64 {
        u64::try_from(self.0).unwrap_or(0)
    }
}

/// A row of one count, read as `n`.
#[derive(sqlx::FromRow)]
pub struct CountRow {
    pub n: DbInt,
}

impl Type<Sqlite> for DbInt {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for DbInt {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, Sqlite>>::decode(value).map(DbInt)
    }
}

impl Type<Postgres> for DbInt {
    fn type_info() -> PgTypeInfo {
        <i64 as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <i16 as Type<Postgres>>::compatible(ty)
            || <i32 as Type<Postgres>>::compatible(ty)
            || <i64 as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for DbInt {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::{TypeInfo, ValueRef};
        let n = match value.type_info().name() {
            "INT2" => i64::from(<i16 as Decode<'r, Postgres>>::decode(value)?),
            "INT4" => i64::from(<i32 as Decode<'r, Postgres>>::decode(value)?),
            _ => <i64 as Decode<'r, Postgres>>::decode(value)?,
        };
        Ok(DbInt(n))
    }
}

impl DbAmount {
    /// The stored amount as the domain's `Amount` (which drops the trailing zeros `NUMERIC`
    /// keeps); `what` names the column for the error.
    pub fn to_amount(self, what: &str) -> StoreResult<Amount> {
        Amount::new(self.0).map_err(|_| corrupt(what))
    }
}
