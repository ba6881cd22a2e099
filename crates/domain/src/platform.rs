//! The accounting platforms a connection can feed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A target accounting platform, named as Rutter's API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    IntuitBankFeeds,
    Xero,
    SageIntacct,
    SageBusinessCloud,
    Netsuite,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::IntuitBankFeeds,
        Platform::Xero,
        Platform::SageIntacct,
        Platform::SageBusinessCloud,
        Platform::Netsuite,
    ];

    /// The wire and storage name, e.g. `INTUIT_BANK_FEEDS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::IntuitBankFeeds => "INTUIT_BANK_FEEDS",
            Platform::Xero => "XERO",
            Platform::SageIntacct => "SAGE_INTACCT",
            Platform::SageBusinessCloud => "SAGE_BUSINESS_CLOUD",
            Platform::Netsuite => "NETSUITE",
        }
    }

    /// Codat's key for the same platform (its second front door speaks these).
    pub fn codat_key(self) -> &'static str {
        match self {
            Platform::IntuitBankFeeds => "hcws",
            Platform::Xero => "gbol",
            Platform::SageIntacct | Platform::SageBusinessCloud => "olpr",
            Platform::Netsuite => "akxx",
        }
    }

    /// A human name for pages and logs.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::IntuitBankFeeds => "QuickBooks Online",
            Platform::Xero => "Xero",
            Platform::SageIntacct => "Sage Intacct",
            Platform::SageBusinessCloud => "Sage Business Cloud",
            Platform::Netsuite => "NetSuite",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown platform {0:?}")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPlatform(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_from_str() {
        for p in Platform::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), p);
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
        }
        assert!("QUICKBOOKS".parse::<Platform>().is_err());
        assert!(serde_json::from_str::<Platform>("\"xero\"").is_err());
    }
}
