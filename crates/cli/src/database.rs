//! Which database a store command uses: said on stderr before it runs (stdout stays
//! machine-readable), with a warning when the command is about to create a new SQLite file
//! because none was where the settings point — the usual sign of running in the wrong
//! directory or without the hub's `BANKFEEDS_DATABASE_URL`.

use std::path::PathBuf;

use bankfeeds_server::config::{redact_url, Backend, Config};

/// The file a `sqlite://` URL names (`None` for PostgreSQL or an in-memory database).
pub fn sqlite_file(config: &Config) -> Option<PathBuf> {
    if config.backend().ok()? != Backend::Sqlite {
        return None;
    }
    let rest = config.database_url.trim_start_matches("sqlite://");
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(':')).then(|| PathBuf::from(path))
}

/// Names the database on stderr; `creates` says the command opens it (creating it if missing).
pub fn announce(config: &Config, creates: bool) {
    eprintln!("database: {}", redact_url(&config.database_url));
    if !creates {
        return;
    }
    if let Some(path) = sqlite_file(config).filter(|p| !p.exists()) {
        let default = Config::default().database_url;
        let how = if config.database_url != default {
            "where the settings point"
        } else {
            "the default: no BANKFEEDS_DATABASE_URL, --database-url or config file names one"
        };
        eprintln!(
            "database: none existed at {}, so a new, empty one is created there ({how}); \
             if the hub keeps its data elsewhere, point this command at it",
            path.display()
        );
    }
}
