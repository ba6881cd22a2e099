//! The settings of live platform connectors: the key ring that seals their secrets and where
//! each platform's API is.

use super::Config;

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
        Ok(())
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
