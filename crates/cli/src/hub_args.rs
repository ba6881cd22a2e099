//! Where a running hub is and the organisation's API credentials: what `push` and `export`
//! call it with.

#[derive(clap::Args)]
pub struct HubArgs {
    /// The hub's base URL.
    #[arg(
        long,
        env = "BANKFEEDS_HUB_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub hub: String,
    /// The organisation's API client id.
    #[arg(long, env = "BANKFEEDS_CLIENT_ID")]
    client_id: String,
    /// The organisation's API client secret.
    #[arg(long, env = "BANKFEEDS_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
}

impl HubArgs {
    pub fn client(&self) -> anyhow::Result<bankfeeds_client::Client> {
        Ok(bankfeeds_client::Client::new(
            &self.hub,
            &self.client_id,
            &self.client_secret,
        )?)
    }
}
