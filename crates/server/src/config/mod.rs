//! Configuration: built-in defaults, then an optional TOML file, then `BANKFEEDS_*` environment
//! variables, then command-line flags; each layer overrides the one before. Checked at load, so
//! a bad value stops start-up with a message instead of failing later.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing) or `postgres://…`.
    pub database_url: String,
    /// Largest PostgreSQL pool per hub instance (SQLite sizes its own).
    pub database_max_connections: u32,
    /// The URL users' browsers reach this hub at, for links the hub hands out. Defaults to
    /// `http://<listen>`.
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `bankfeeds_server=debug,info`.
    pub log_level: String,
    /// API requests allowed per organisation per 10 seconds on one instance (Rutter's limit is
    /// 500); 0 turns the limit off.
    pub rate_limit_per_10s: u32,
    /// Failed authentications (wrong or malformed credentials, unknown access tokens) allowed
    /// per client address per minute on one instance; past it, 429 until the budget refills.
    /// 0 turns the limit off.
    pub auth_failures_per_minute: u32,
    /// Requests per client address per 10 seconds to the routes that need no credentials (link
    /// pages, sandbox, demo bank) on one instance; 0 turns the limit off.
    pub anonymous_rate_limit_per_10s: u32,
    /// How long a client has to send a request's headers, counted from when the connection is
    /// ready for them (so also how long an idle keep-alive connection stays open).
    pub header_timeout_seconds: u64,
    /// Open client connections per instance at most (lowered at start-up to fit the process's
    /// file-descriptor limit).
    pub max_connections: u32,
    /// How long in-flight requests get to finish after SIGTERM/Ctrl-C.
    pub shutdown_grace_seconds: u64,
    /// This instance's name, unique among the instances sharing a database and the same across
    /// its restarts: job leases are held in its name, and a restart frees them at once.
    /// Defaults to `<hostname>:<listen port>`.
    pub instance_id: Option<String>,
    /// How often the QuickBooks sandbox ingests linked feeds on its own (it also pulls when a
    /// feed's page is opened).
    pub sandbox_quickbooks_sync_seconds: u64,
    /// How often the Xero, Sage and NetSuite sandboxes ingest linked feeds.
    pub sandbox_sync_seconds: u64,
    /// SQLite's `synchronous` for writing connections: `full` (default; an acknowledged write
    /// survives a power cut) or `normal` (faster; survives only a process crash).
    pub sqlite_synchronous: SqliteSynchronous,
    /// Start on a PostgreSQL server or session with `fsync`, `synchronous_commit` or
    /// `full_page_writes` off instead of refusing to.
    pub postgres_allow_unsafe_settings: bool,
    // Retention (what is deleted, and when); 0 in a horizon keeps that kind for ever.
    /// How often this instance purges what is past its horizon (also once at start-up).
    pub retention_interval_seconds: u64,
    /// Hours after they expire that OTPs, uncompleted link challenges and Codat company access
    /// tokens are deleted.
    pub retention_expired_link_secrets_hours: u64,
    /// Days an idempotency key is kept, and replays its answer, after its first use.
    pub retention_idempotency_key_days: u64,
    /// Days after a job finishes that its request and response bodies are deleted (the job
    /// keeps its status and HTTP status).
    pub retention_job_body_days: u64,
    /// Days an OFX Direct Connect user's `TRNUID`s are remembered after first use: within it a
    /// `TRNUID` reused for a different request gets OFX status 2019.
    pub retention_ofx_trnuid_days: u64,
    /// Days webhook attempts and finished deliveries are kept (0: for ever).
    pub retention_webhook_days: u64,
    /// Mount the sandbox platforms (`/sandbox/`) and the demo bank (`/demo-bank/`). Off by
    /// default: they are for trying the hub, not for production.
    pub sandbox_enabled: bool,
    /// The password that signs in to the sandboxes (and is every demo bank customer's
    /// password); required, at least 12 characters, when `sandbox_enabled`. Kept in memory as
    /// its digest only.
    pub sandbox_password: Option<String>,
    /// `INTU.BID` of Web Connect statement files (`.qbo`, `.qfx`): Intuit's id for the FI,
    /// which QuickBooks Desktop checks against its list of enrolled banks. Digits only.
    pub web_connect_intu_bid: String,
    /// A PEM certificate chain (leaf first): with `tls_key`, the hub itself speaks HTTPS on
    /// `listen` (and `public_url` defaults to `https://<listen>`). Both or neither.
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Accept webhook targets over plain `http` and on loopback, private and link-local
    /// addresses. For development and tests only: off, such targets are refused.
    pub webhooks_allow_private: bool,
    /// Seconds before each webhook retry, comma-separated (default Svix's, 5 s … 10 h).
    pub webhooks_retry_schedule: String,
    /// An endpoint failing with no success for this long is disabled (default 5 days).
    pub webhooks_disable_after_seconds: u64,
    /// How often the idle delivery worker looks for new events and due retries.
    pub webhooks_poll_ms: u64,
    /// Keys sealing secrets at rest: base64 of 32 bytes each, comma-separated; the first
    /// seals, all open (`config/live.rs`). Needed before a platform goes `live`. Never logged.
    pub secrets_key: Option<String>,
    /// Xero's identity server, its Bank Feeds API base and its API root (`/connections`).
    pub xero_identity_url: String,
    pub xero_api_url: String,
    pub xero_connections_url: String,
    /// Live delivery: seconds before Xero is asked again about a `PENDING` statement.
    pub live_poll_seconds: u64,
    /// Live delivery: seconds a claimed statement or deletion stays this instance's.
    pub live_lease_seconds: u64,
    /// Live delivery: the first back-off, in seconds, after Xero did not answer usably.
    pub live_retry_base_seconds: u64,
}

/// The `INTU.BID` when none is configured: the one in common sample files. An FI enrolled with
/// Intuit sets its own.
pub const DEFAULT_INTU_BID: &str = "3000";

/// SQLite's `synchronous` setting, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://bankfeeds.db".into(),
            database_max_connections: 10,
            public_url: None,
            log_format: LogFormat::Human,
            log_level: "info".into(),
            rate_limit_per_10s: 500,
            auth_failures_per_minute: 20,
            anonymous_rate_limit_per_10s: 300,
            header_timeout_seconds: 10,
            max_connections: 1000,
            shutdown_grace_seconds: 30,
            instance_id: None,
            sandbox_quickbooks_sync_seconds: 86_400,
            sandbox_sync_seconds: 3_600,
            sqlite_synchronous: SqliteSynchronous::Full,
            postgres_allow_unsafe_settings: false,
            retention_interval_seconds: 3_600,
            retention_expired_link_secrets_hours: 24,
            retention_idempotency_key_days: 7,
            retention_job_body_days: 30,
            retention_ofx_trnuid_days: 30,
            retention_webhook_days: 30,
            sandbox_enabled: false,
            sandbox_password: None,
            web_connect_intu_bid: DEFAULT_INTU_BID.into(),
            tls_cert: None,
            tls_key: None,
            webhooks_allow_private: false,
            webhooks_retry_schedule: "5,300,1800,7200,18000,36000,36000".into(),
            webhooks_disable_after_seconds: 5 * 86_400,
            webhooks_poll_ms: 500,
            secrets_key: None,
            xero_identity_url: crate::xero::IDENTITY_URL.into(),
            xero_api_url: crate::xero::API_URL.into(),
            xero_connections_url: crate::xero::CONNECTIONS_URL.into(),
            live_poll_seconds: 30,
            live_lease_seconds: 300,
            live_retry_base_seconds: 30,
        }
    }
}

/// The keys that may come from the environment, as `BANKFEEDS_<KEY>`. Listed so unrelated
/// `BANKFEEDS_*` variables (the test suite's, for one) are not mistaken for settings.
const ENV_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "database_max_connections",
    "public_url",
    "log_format",
    "log_level",
    "rate_limit_per_10s",
    "auth_failures_per_minute",
    "anonymous_rate_limit_per_10s",
    "header_timeout_seconds",
    "max_connections",
    "shutdown_grace_seconds",
    "instance_id",
    "sandbox_quickbooks_sync_seconds",
    "sandbox_sync_seconds",
    "sqlite_synchronous",
    "postgres_allow_unsafe_settings",
    "retention_interval_seconds",
    "retention_expired_link_secrets_hours",
    "retention_idempotency_key_days",
    "retention_job_body_days",
    "retention_ofx_trnuid_days",
    "retention_webhook_days",
    "sandbox_enabled",
    "sandbox_password",
    "web_connect_intu_bid",
    "tls_cert",
    "tls_key",
    "webhooks_allow_private",
    "webhooks_retry_schedule",
    "webhooks_disable_after_seconds",
    "webhooks_poll_ms",
    "secrets_key",
    "xero_identity_url",
    "xero_api_url",
    "xero_connections_url",
    "live_poll_seconds",
    "live_lease_seconds",
    "live_retry_base_seconds",
];

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<std::path::PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Config {
    /// The instance's name: `instance_id`, or `<hostname>:<listen port>`.
    pub fn instance(&self) -> String {
        if let Some(id) = &self.instance_id {
            return id.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        format!("{host}:{}", self.listen.port())
    }

    /// The socket-level limits this config asks for.
    pub fn limits(&self) -> crate::listener::Limits {
        crate::listener::Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds),
            max_connections: self.max_connections as usize,
        }
    }

    /// Who may use the sandboxes and the demo bank, when they are on.
    pub fn sandbox_access(&self) -> Option<crate::sandbox_access::SandboxAccess> {
        let password = self
            .sandbox_password
            .as_deref()
            .filter(|_| self.sandbox_enabled)?;
        Some(crate::sandbox_access::SandboxAccess::new(
            &bankfeeds_domain::Secret::from_presented(password),
        ))
    }

    pub fn webhook_settings(&self) -> crate::webhooks::WebhookSettings {
        crate::webhooks::WebhookSettings::configured(
            self.webhooks_allow_private,
            &self.webhooks_retry_schedule,
            self.webhooks_disable_after_seconds,
            self.webhooks_poll_ms,
        )
    }

    pub fn sandbox_schedule(&self) -> SandboxSchedule {
        SandboxSchedule {
            quickbooks: chrono::TimeDelta::seconds(self.sandbox_quickbooks_sync_seconds as i64),
            others: chrono::TimeDelta::seconds(self.sandbox_sync_seconds as i64),
        }
    }

    /// What retention deletes, and how often it runs.
    pub fn retention(
        &self,
    ) -> (
        bankfeeds_domain::retention::RetentionPolicy,
        std::time::Duration,
    ) {
        use bankfeeds_domain::retention::{horizon, RetentionPolicy};
        let policy = RetentionPolicy {
            expired_link_secrets: horizon(
                self.retention_expired_link_secrets_hours,
                chrono::TimeDelta::hours(1),
            ),
            idempotency_keys: horizon(
                self.retention_idempotency_key_days,
                chrono::TimeDelta::days(1),
            ),
            job_bodies: horizon(self.retention_job_body_days, chrono::TimeDelta::days(1)),
            ofx_trnuids: horizon(self.retention_ofx_trnuid_days, chrono::TimeDelta::days(1)),
            webhook_history: horizon(self.retention_webhook_days, chrono::TimeDelta::days(1)),
        };
        let every = std::time::Duration::from_secs(self.retention_interval_seconds);
        (policy, every)
    }

    /// Loads the layers. `file` is required to exist when given.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "config file {} not found", path.display());
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("BANKFEEDS_").only(ENV_KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let schedule = crate::webhooks::parse_schedule(&self.webhooks_retry_schedule);
        anyhow::ensure!(
            schedule.is_some(),
            "webhooks_retry_schedule: seconds, comma-separated"
        );
        self.backend()?;
        for (name, secs) in [
            (
                "sandbox_quickbooks_sync_seconds",
                self.sandbox_quickbooks_sync_seconds,
            ),
            ("sandbox_sync_seconds", self.sandbox_sync_seconds),
        ] {
            anyhow::ensure!(
                (1..=366 * 86_400).contains(&secs),
                "{name} must be between 1 second and a year"
            );
        }
        anyhow::ensure!(
            (60..=7 * 86_400).contains(&self.retention_interval_seconds),
            "retention_interval_seconds must be between 60 and 604800 (a week)"
        );
        for (name, value, most) in [
            (
                "retention_expired_link_secrets_hours",
                self.retention_expired_link_secrets_hours,
                100 * 366 * 24,
            ),
            (
                "retention_idempotency_key_days",
                self.retention_idempotency_key_days,
                100 * 366,
            ),
            (
                "retention_job_body_days",
                self.retention_job_body_days,
                100 * 366,
            ),
            (
                "retention_webhook_days",
                self.retention_webhook_days,
                100 * 366,
            ),
        ] {
            anyhow::ensure!(
                value <= most,
                "{name} must be at most {most} (a hundred years); 0 keeps for ever"
            );
        }
        let bid = &self.web_connect_intu_bid;
        anyhow::ensure!(
            (1..=10).contains(&bid.len()) && bid.bytes().all(|b| b.is_ascii_digit()),
            "web_connect_intu_bid must be 1 to 10 digits (Intuit's id for the FI)"
        );
        anyhow::ensure!(
            (1..=3600).contains(&self.header_timeout_seconds),
            "header_timeout_seconds must be between 1 and 3600"
        );
        anyhow::ensure!(
            self.max_connections >= 1,
            "max_connections must be at least 1"
        );
        anyhow::ensure!(
            self.database_max_connections >= 1,
            "database_max_connections must be at least 1"
        );
        if let Some(url) = &self.public_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("public_url {url:?} is not a URL: {e}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "public_url must be http or https"
            );
        }
        anyhow::ensure!(
            self.tls_cert.is_some() == self.tls_key.is_some(),
            "tls_cert and tls_key go together: give both or neither"
        );
        if self.sandbox_enabled {
            let password = self.sandbox_password.as_deref().unwrap_or_default();
            anyhow::ensure!(
                bankfeeds_domain::sandbox::password_acceptable(password),
                "sandbox_enabled needs a sandbox_password of at least {} characters",
                bankfeeds_domain::sandbox::MIN_PASSWORD_CHARS
            );
        }
        self.validate_live()?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| anyhow::anyhow!("log_level {:?}: {e}", self.log_level))?;
        Ok(())
    }

    /// The storage backend, chosen by the database URL's scheme.
    pub fn backend(&self) -> anyhow::Result<Backend> {
        let scheme = self.database_url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => anyhow::bail!(
                "database_url must start with sqlite:// or postgres:// (got {})",
                redact_url(&self.database_url)
            ),
        }
    }

    /// The base of links handed to browsers, without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.tls_cert.is_some() => format!("https://{}", self.listen),
            None => format!("http://{}", self.listen),
        }
    }

    /// The TLS acceptor `tls_cert` and `tls_key` make, if set; an error names the bad file.
    pub fn tls_acceptor(&self) -> anyhow::Result<Option<crate::tls::TlsAcceptor>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => crate::tls::acceptor(cert, key).map(Some),
            _ => Ok(None),
        }
    }
}

/// Hides a password in a database URL, for logs and `Debug`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("REDACTED"));
            url.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("public_url", &self.public_url)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("rate_limit_per_10s", &self.rate_limit_per_10s)
            .field("auth_failures_per_minute", &self.auth_failures_per_minute)
            .field(
                "anonymous_rate_limit_per_10s",
                &self.anonymous_rate_limit_per_10s,
            )
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("sandbox_enabled", &self.sandbox_enabled)
            .field("web_connect_intu_bid", &self.web_connect_intu_bid)
            .field("tls_cert", &self.tls_cert)
            .field("secrets_key_set", &self.secrets_key.is_some())
            .field("xero_api_url", &self.xero_api_url)
            .finish()
    }
}

mod kinds;
mod live;
pub use kinds::{LogFormat, SandboxSchedule};
#[cfg(test)]
mod tests;
