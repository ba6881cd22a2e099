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
    /// OFX Direct Connect: the customer's own software (Quicken, QuickBooks Desktop, GnuCash)
    /// downloads the feed from the hub's `/ofx/:org_id` endpoint. There is no platform-side
    /// link step, so no sandbox offers it.
    OfxDirectConnect,
}

impl Platform {
    pub const ALL: [Platform; 6] = [
        Platform::IntuitBankFeeds,
        Platform::Xero,
        Platform::SageIntacct,
        Platform::SageBusinessCloud,
        Platform::Netsuite,
        Platform::OfxDirectConnect,
    ];

    /// The platforms a customer links a feed from inside the platform (the link flow, the
    /// sandboxes, Codat's platform keys): every one but OFX Direct Connect.
    pub const LINKED: [Platform; 5] = [
        Platform::IntuitBankFeeds,
        Platform::Xero,
        Platform::SageIntacct,
        Platform::SageBusinessCloud,
        Platform::Netsuite,
    ];

    /// Whether feeds reach this platform through a platform-side link step.
    pub fn is_linked(self) -> bool {
        Platform::LINKED.contains(&self)
    }

    /// The wire and storage name, e.g. `INTUIT_BANK_FEEDS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::IntuitBankFeeds => "INTUIT_BANK_FEEDS",
            Platform::Xero => "XERO",
            Platform::SageIntacct => "SAGE_INTACCT",
            Platform::SageBusinessCloud => "SAGE_BUSINESS_CLOUD",
            Platform::Netsuite => "NETSUITE",
            Platform::OfxDirectConnect => "OFX_DIRECT_CONNECT",
        }
    }

    /// Codat's key for the same platform (its second front door speaks these).
    pub fn codat_key(self) -> &'static str {
        match self {
            Platform::IntuitBankFeeds => "hcws",
            Platform::Xero => "gbol",
            Platform::SageIntacct | Platform::SageBusinessCloud => "olpr",
            Platform::Netsuite => "akxx",
            // Codat has no such integration; the Codat door never creates one (no key maps to
            // it) and shows this key if it lists a connection made through the Rutter door.
            Platform::OfxDirectConnect => "ofxdc",
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
            Platform::OfxDirectConnect => "OFX Direct Connect",
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
        assert_eq!(
            "OFX_DIRECT_CONNECT".parse::<Platform>().unwrap(),
            Platform::OfxDirectConnect
        );
        assert!(!Platform::OfxDirectConnect.is_linked());
        assert!(Platform::LINKED.iter().all(|p| p.is_linked()));
        assert!(serde_json::from_str::<Platform>("\"xero\"").is_err());
    }
}
