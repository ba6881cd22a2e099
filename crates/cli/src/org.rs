//! `bankfeeds org …`: organisations are created on the hub's own machine, straight in the
//! database, since nobody can call the API before one exists.

use bankfeeds_domain::console::ConnectionState;
use bankfeeds_domain::fi_config::FiConfig;
use bankfeeds_domain::{Clock, NewOrg, Platform, Secret, SecretKind, SystemClock, Timestamp};
use bankfeeds_server::config::Config;
use clap::Subcommand;
use serde::Serialize;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation and print its API credential (the secret is shown only once).
    Create {
        #[arg(long)]
        name: String,
    },
    /// List organisations as JSON lines.
    List,
    /// Show an organisation: its client id and how many connections and feeds it has.
    Show {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
    },
    /// Replace the organisation's client secret and print the new one (shown only once);
    /// the old secret stops working at once.
    RotateSecret {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
    },
    /// Disable the organisation: its API credential, OFX sign-ons and console sign-ins are
    /// refused until `org enable`; nothing is deleted and queued work still runs.
    Disable {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
    },
    /// Delete a disabled organisation and everything it owns (connections, accounts,
    /// transactions, jobs, events, webhooks, operators, …), in one transaction. Cannot be
    /// undone: take a `bankfeeds backup` first.
    Delete {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
        /// The organisation's name, exactly, to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// Enable a disabled organisation again.
    Enable {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
    },
    /// Set how the organisation appears in a platform's list of banks and where its login
    /// page is (the same as `PUT /versioned/bank_feeds/configs/:platform`).
    Configure {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
        /// INTUIT_BANK_FEEDS, XERO, SAGE_INTACCT, SAGE_BUSINESS_CLOUD, NETSUITE or
        /// OFX_DIRECT_CONNECT.
        #[arg(long)]
        platform: Platform,
        #[arg(long)]
        display_name: String,
        /// The FI's login page the link flow sends customers to.
        #[arg(long)]
        login_url: String,
        /// ISO 3166-1 alpha-2, e.g. US.
        #[arg(long)]
        country_code: String,
        #[arg(long)]
        logo_url: Option<String>,
        #[arg(long)]
        otp_instructions: Option<String>,
        /// OFX_DIRECT_CONNECT only: the FID clients send (1 to 32 letters or digits).
        #[arg(long)]
        ofx_fid: Option<String>,
        /// OFX_DIRECT_CONNECT only: the FI's nine-digit ABA routing number.
        #[arg(long)]
        ofx_bank_id: Option<String>,
    },
}

#[derive(Serialize)]
struct OrgCreated<'a> {
    id: String,
    name: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    created_at: Timestamp,
}

#[derive(Serialize)]
struct OrgListed<'a> {
    id: String,
    name: &'a str,
    client_id: &'a str,
    created_at: Timestamp,
    disabled_at: Option<Timestamp>,
}

pub async fn run(command: OrgCommand, config: &Config) -> anyhow::Result<()> {
    let store = bankfeeds_server::open_store(config).await?;
    store.migrate().await?;
    match command {
        OrgCommand::Create { name } => {
            let (new, secret) = NewOrg::generate(&name, SystemClock.now())?;
            store.create_org(&new).await?;
            let org = &new.org;
            println!(
                "{}",
                serde_json::to_string(&OrgCreated {
                    id: org.id.to_string(),
                    name: &org.name,
                    client_id: &org.client_id,
                    client_secret: secret.expose(),
                    created_at: org.created_at,
                })?
            );
        }
        OrgCommand::Configure {
            org,
            platform,
            display_name,
            login_url,
            country_code,
            logo_url,
            otp_instructions,
            ofx_fid,
            ofx_bank_id,
        } => {
            let orgs = store.list_orgs().await?;
            let found = orgs
                .iter()
                .find(|o| o.id.to_string() == org || o.client_id == org)
                .ok_or_else(|| anyhow::anyhow!("no organisation with id or client_id {org:?}"))?;
            let now = SystemClock.now();
            let config = FiConfig {
                org_id: found.id,
                platform,
                display_name,
                logo_url,
                // A typed `gb` is meant as GB; the API takes codes only as ISO writes them.
                country_code: country_code.trim().to_ascii_uppercase(),
                login_url,
                otp_instructions,
                ofx_fid,
                ofx_bank_id,
                created_at: now,
                updated_at: now,
            }
            .checked()?;
            let stored = store.put_fi_config(&config).await?;
            println!(
                "{}",
                serde_json::json!({
                    "org_id": stored.org_id,
                    "platform": stored.platform,
                    "display_name": stored.display_name,
                    "login_url": stored.login_url,
                    "country_code": stored.country_code,
                    "logo_url": stored.logo_url,
                    "otp_instructions": stored.otp_instructions,
                    "ofx_fid": stored.ofx_fid,
                    "ofx_bank_id": stored.ofx_bank_id,
                })
            );
        }
        OrgCommand::Show { org } => {
            let org = crate::operator::find_org(&store, &org).await?;
            let mut linked = 0;
            let mut pending = 0;
            let mut by_platform = serde_json::Map::new();
            for c in store.connection_counts(org.id).await? {
                match c.state {
                    ConnectionState::Linked => linked += c.count,
                    ConnectionState::Pending => pending += c.count,
                }
                let entry = by_platform
                    .entry(c.platform.as_str().to_owned())
                    .or_insert_with(|| serde_json::json!({"linked": 0, "pending": 0}));
                entry[c.state.as_str()] = serde_json::json!(c.count);
            }
            let feeds = store.feed_counts(org.id).await?;
            let mut shown = described(&org);
            shown["connections"] = serde_json::json!({
                "total": linked + pending,
                "linked": linked,
                "pending": pending,
                "by_platform": by_platform,
            });
            shown["accounts"] = serde_json::json!({
                "total": feeds.linked + feeds.pending,
                "linked": feeds.linked,
                "pending": feeds.pending,
            });
            println!("{shown}");
        }
        OrgCommand::RotateSecret { org } => {
            let org = crate::operator::find_org(&store, &org).await?;
            let secret = Secret::generate(SecretKind::ClientSecret);
            store.rotate_client_secret(org.id, &secret.hash()).await?;
            println!(
                "{}",
                serde_json::json!({
                    "id": org.id,
                    "client_id": org.client_id,
                    "client_secret": secret.expose(),
                })
            );
        }
        OrgCommand::Disable { org } => set_disabled(&store, &org, Some(SystemClock.now())).await?,
        OrgCommand::Enable { org } => set_disabled(&store, &org, None).await?,
        OrgCommand::Delete { org, confirm } => {
            let org = crate::operator::find_org(&store, &org).await?;
            anyhow::ensure!(
                confirm == org.name,
                "--confirm must be the organisation's name exactly ({:?}); nothing deleted",
                org.name
            );
            let erased = store.delete_org(org.id).await?;
            let rows: serde_json::Map<String, serde_json::Value> = erased
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(table, n)| (table.to_owned(), n.into()))
                .collect();
            println!(
                "{}",
                serde_json::json!({"deleted": org.id, "name": org.name, "rows": rows})
            );
        }
        OrgCommand::List => {
            for org in store.list_orgs().await? {
                println!(
                    "{}",
                    serde_json::to_string(&OrgListed {
                        id: org.id.to_string(),
                        name: &org.name,
                        client_id: &org.client_id,
                        created_at: org.created_at,
                        disabled_at: org.disabled_at,
                    })?
                );
            }
        }
    }
    Ok(())
}

async fn set_disabled(
    store: &bankfeeds_store::DynStore,
    org: &str,
    at: Option<Timestamp>,
) -> anyhow::Result<()> {
    let org = crate::operator::find_org(store, org).await?;
    let org = store.set_org_disabled(org.id, at).await?;
    let mut shown = described(&org);
    shown["disabled"] = org.is_disabled().into();
    println!("{shown}");
    Ok(())
}

/// What `org show`, `disable` and `enable` print of the organisation itself.
fn described(org: &bankfeeds_domain::Org) -> serde_json::Value {
    serde_json::json!({
        "id": org.id,
        "name": org.name,
        "client_id": org.client_id,
        "created_at": org.created_at,
        "disabled_at": org.disabled_at,
    })
}
