use super::*;
use std::time::Duration;

#[test]
#[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
fn layers_override_in_order_and_bad_values_are_refused() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "bankfeeds.toml",
            "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\nrate_limit_per_10s = 7",
        )?;
        jail.set_env("BANKFEEDS_LOG_LEVEL", "warn");
        jail.set_env("BANKFEEDS_TEST_POSTGRES_URL", "not a setting");
        let overrides = Overrides {
            database_url: Some("postgres://u:pw@localhost/db".into()),
            ..Overrides::default()
        };
        let c = Config::load(Some(Path::new("bankfeeds.toml")), &overrides).unwrap();
        assert_eq!(c.listen.port(), 9000, "file overrides defaults");
        assert_eq!(c.log_level, "warn", "environment overrides file");
        assert_eq!(c.rate_limit_per_10s, 7);
        assert_eq!(
            c.backend().unwrap(),
            Backend::Postgres,
            "flags override all"
        );
        assert!(
            !format!("{c:?}").contains("pw"),
            "Debug redacts the password"
        );
        assert_eq!(c.public_base(), "http://127.0.0.1:9000");

        jail.set_env("BANKFEEDS_DATABASE_URL", "mysql://x");
        assert!(Config::load(None, &Overrides::default()).is_err());
        jail.set_env("BANKFEEDS_DATABASE_URL", "sqlite://x.db");
        jail.set_env("BANKFEEDS_LISTEN", "nonsense");
        assert!(Config::load(None, &Overrides::default()).is_err());
        assert!(Config::load(Some(Path::new("missing.toml")), &Overrides::default()).is_err());
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn retention_defaults_and_zero_keeps_for_ever() {
    figment::Jail::expect_with(|jail| {
        let (policy, every) = Config::load(None, &Overrides::default())
            .unwrap()
            .retention();
        assert_eq!(every, std::time::Duration::from_secs(3600));
        assert_eq!(
            policy.expired_link_secrets,
            Some(chrono::TimeDelta::hours(24))
        );
        assert_eq!(policy.idempotency_keys, Some(chrono::TimeDelta::days(7)));
        assert_eq!(policy.job_bodies, Some(chrono::TimeDelta::days(30)));

        jail.set_env("BANKFEEDS_RETENTION_JOB_BODY_DAYS", "0");
        jail.set_env("BANKFEEDS_RETENTION_IDEMPOTENCY_KEY_DAYS", "2");
        let (policy, _) = Config::load(None, &Overrides::default())
            .unwrap()
            .retention();
        assert_eq!(policy.job_bodies, None, "0 keeps for ever");
        assert_eq!(policy.idempotency_keys, Some(chrono::TimeDelta::days(2)));

        jail.set_env("BANKFEEDS_RETENTION_INTERVAL_SECONDS", "0");
        assert!(Config::load(None, &Overrides::default()).is_err());
        jail.set_env("BANKFEEDS_RETENTION_INTERVAL_SECONDS", "600");
        jail.set_env("BANKFEEDS_RETENTION_JOB_BODY_DAYS", "99999999");
        assert!(Config::load(None, &Overrides::default()).is_err());
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn durability_is_full_unless_the_operator_says_otherwise() {
    figment::Jail::expect_with(|jail| {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.sqlite_synchronous, SqliteSynchronous::Full);
        assert!(!c.postgres_allow_unsafe_settings);

        jail.set_env("BANKFEEDS_SQLITE_SYNCHRONOUS", "normal");
        jail.set_env("BANKFEEDS_POSTGRES_ALLOW_UNSAFE_SETTINGS", "true");
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.sqlite_synchronous, SqliteSynchronous::Normal);
        assert!(c.postgres_allow_unsafe_settings);

        assert!(
            c.sandbox_access().is_none(),
            "the sandbox is off unless turned on"
        );
        jail.set_env("BANKFEEDS_SANDBOX_ENABLED", "true");
        assert!(
            Config::load(None, &Overrides::default()).is_err(),
            "on, it needs a password"
        );
        jail.set_env("BANKFEEDS_SANDBOX_PASSWORD", "short");
        assert!(Config::load(None, &Overrides::default()).is_err());
        jail.set_env("BANKFEEDS_SANDBOX_PASSWORD", "long enough, surely");
        let c = Config::load(None, &Overrides::default()).unwrap();
        let access = c.sandbox_access().expect("on");
        assert!(access.admits(&bankfeeds_domain::Secret::from_presented(
            "long enough, surely"
        )));
        assert!(!format!("{c:?}").contains("surely"));

        jail.set_env("BANKFEEDS_SQLITE_SYNCHRONOUS", "off");
        assert!(
            Config::load(None, &Overrides::default()).is_err(),
            "OFF is not offered: it can corrupt the database"
        );
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn tls_needs_both_files_and_makes_public_url_https() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("BANKFEEDS_TLS_CERT", "cert.pem");
        assert!(
            Config::load(None, &Overrides::default()).is_err(),
            "a certificate without its key is refused"
        );
        jail.set_env("BANKFEEDS_TLS_KEY", "key.pem");
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.public_base(), "https://127.0.0.1:8080");
        let e = c.tls_acceptor().err().expect("missing files are refused");
        assert!(e.to_string().contains("cert.pem"), "{e:#}");
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn secrets_keys_and_xero_urls_are_checked_and_never_shown() {
    figment::Jail::expect_with(|jail| {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert!(c.keyring().unwrap().is_none(), "no key by default");
        assert_eq!(c.xero_endpoints(), crate::xero::XeroEndpoints::default());

        let (a, b) = (
            crate::sealed::Keyring::generate_key(),
            crate::sealed::Keyring::generate_key(),
        );
        jail.set_env("BANKFEEDS_SECRETS_KEY", format!("{a},{b}"));
        jail.set_env("BANKFEEDS_XERO_API_URL", "http://127.0.0.1:4010/");
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert!(c.keyring().unwrap().is_some());
        assert_eq!(c.xero_endpoints().api, "http://127.0.0.1:4010");
        assert!(!format!("{c:?}").contains(&a), "Debug hides the keys");

        jail.set_env("BANKFEEDS_SECRETS_KEY", "too-short");
        assert!(Config::load(None, &Overrides::default()).is_err());
        jail.set_env("BANKFEEDS_SECRETS_KEY", &a);
        jail.set_env("BANKFEEDS_XERO_API_URL", "ftp://x");
        assert!(Config::load(None, &Overrides::default()).is_err());
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn live_worker_timings_are_configured_and_checked() {
    figment::Jail::expect_with(|jail| {
        let c = Config::load(None, &Overrides::default()).unwrap();
        let s = c.live_settings();
        assert_eq!(s.poll_pending, Duration::from_secs(30));
        assert_eq!(s.idle, Duration::from_secs(5));
        assert_eq!(s.lease, Duration::from_secs(300));
        assert_eq!(s.retry_base, Duration::from_secs(30));

        jail.set_env("BANKFEEDS_LIVE_POLL_SECONDS", "1");
        jail.set_env("BANKFEEDS_LIVE_LEASE_SECONDS", "600");
        jail.set_env("BANKFEEDS_LIVE_RETRY_BASE_SECONDS", "2");
        let s = Config::load(None, &Overrides::default())
            .unwrap()
            .live_settings();
        assert_eq!(s.poll_pending, Duration::from_secs(1));
        assert_eq!(
            s.idle,
            Duration::from_secs(1),
            "an idle worker looks as often"
        );
        assert_eq!(s.lease, Duration::from_secs(600));
        assert_eq!(s.retry_base, Duration::from_secs(2));

        for (key, bad) in [
            ("BANKFEEDS_LIVE_POLL_SECONDS", "0"),
            ("BANKFEEDS_LIVE_RETRY_BASE_SECONDS", "0"),
            ("BANKFEEDS_LIVE_LEASE_SECONDS", "60"),
        ] {
            jail.set_env(key, bad);
            assert!(
                Config::load(None, &Overrides::default()).is_err(),
                "{key}={bad}"
            );
            jail.set_env(key, "300");
        }
        Ok(())
    });
}
