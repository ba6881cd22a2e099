//! Small value types of the configuration: the log format and the sandboxes' sync schedule.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?} (human or json)")),
        }
    }
}

/// How often each kind of sandbox platform ingests a linked feed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxSchedule {
    /// QuickBooks: daily (it also pulls whenever the feed's page is opened).
    pub quickbooks: chrono::TimeDelta,
    /// Xero, Sage and NetSuite.
    pub others: chrono::TimeDelta,
}

impl Default for SandboxSchedule {
    fn default() -> Self {
        Self {
            quickbooks: chrono::TimeDelta::days(1),
            others: chrono::TimeDelta::hours(1),
        }
    }
}

impl SandboxSchedule {
    /// How long a feed on this platform goes between scheduled syncs.
    pub fn interval(&self, platform: bankfeeds_domain::Platform) -> chrono::TimeDelta {
        match platform {
            bankfeeds_domain::Platform::IntuitBankFeeds => self.quickbooks,
            _ => self.others,
        }
    }
}
