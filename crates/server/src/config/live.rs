//! The settings of live platform connectors: the key ring that seals their secrets, where
//! each platform's API is, and how the live delivery worker paces itself.

use std::time::Duration;

use super::Config;

/// A lease must outlast one call to Xero with its retries (4 tries of up to 30 s, with
/// back-off), or a second instance could claim a statement still in flight.
const MIN_LEASE_SECONDS: u64 = 180;

impl Config {
    pub(super) fn validate_live(&self) -> anyhow::Result<()> {
        self.keyring()?;
        for (name, url) in [
            ("xero_identity_url", &self.xero_identity_url),
            ("xero_api_url", &self.xero_api_url),
            ("xero_connections_url", &self.xero_connections_url),
        ] {
            let parsed = url::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("{name} {url:?} is not a URL: {e}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "{name} must be http or https"
            );
        }
        anyhow::ensure!(
            self.live_poll_seconds >= 1,
            "live_poll_seconds must be at least 1"
        );
        anyhow::ensure!(
            self.live_retry_base_seconds >= 1,
            "live_retry_base_seconds must be at least 1"
        );
        anyhow::ensure!(
            self.live_lease_seconds >= MIN_LEASE_SECONDS,
            "live_lease_seconds must be at least {MIN_LEASE_SECONDS} (a call to Xero with its retries)"
        );
        Ok(())
    }

    /// How the live delivery worker paces itself: `live_poll_seconds` between asking Xero about
    /// a `PENDING` statement (an idle worker also looks for new work that often, at most every
    /// 5 s), `live_lease_seconds`, and back-off from `live_retry_base_seconds`.
    pub fn live_settings(&self) -> crate::xero::worker::LiveSettings {
        let defaults = crate::xero::worker::LiveSettings::default();
        let poll = Duration::from_secs(self.live_poll_seconds);
        crate::xero::worker::LiveSettings {
            idle: defaults.idle.min(poll),
            poll_pending: poll,
            lease: Duration::from_secs(self.live_lease_seconds),
            retry_base: Duration::from_secs(self.live_retry_base_seconds),
            ..defaults
        }
    }

    /// The keys of `secrets_key`, if any.
    pub fn keyring(&self) -> anyhow::Result<Option<crate::sealed::Keyring>> {
        crate::sealed::Keyring::from_config(self.secrets_key.as_deref().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("{e} (generate one with `bankfeeds secrets-key`)"))
    }

    /// Where the live Xero connector calls.
    pub fn xero_endpoints(&self) -> crate::xero::XeroEndpoints {
        crate::xero::XeroEndpoints {
            identity: self.xero_identity_url.trim_end_matches('/').to_owned(),
            api: self.xero_api_url.trim_end_matches('/').to_owned(),
            connections: self.xero_connections_url.trim_end_matches('/').to_owned(),
        }
    }
}
