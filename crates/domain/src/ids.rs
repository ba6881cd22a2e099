//! Resource ids: UUIDv7, so they sort by creation time (keyset pagination walks them in order)
//! and look like the UUIDs Rutter's API hands out.

/// Defines a UUIDv7 id newtype. Paths are absolute so other modules can invoke it.
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = "uuid")]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(u: ::uuid::Uuid) -> Self {
                Self(u)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

define_id!(
    /// An organisation: one FI (bank, card issuer, fintech) using the hub.
    OrgId
);
define_id!(
    /// A connection: one business customer of an FI, bound to one accounting platform.
    ConnectionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_and_round_trip_as_text() {
        let a = ConnectionId::new();
        let b = ConnectionId::new();
        assert!(a < b);
        assert!(
            a.to_string() < b.to_string(),
            "text order must match creation order"
        );
        assert_eq!(a.to_string().parse::<ConnectionId>().unwrap(), a);
        assert!("not-a-uuid".parse::<ConnectionId>().is_err());
    }
}

define_id!(
    /// A stored bank feed transaction (the hub's id; the FI's is `transaction_id`).
    TransactionId
);
define_id!(
    /// A job: one asynchronous write (a transaction batch) and its outcome.
    JobId
);
