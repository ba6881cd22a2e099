//! `bankfeeds org …`: organisations are created on the hub's own machine, straight in the
//! database, since nobody can call the API before one exists.

use bankfeeds_domain::{Clock, NewOrg, SystemClock, Timestamp};
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
        OrgCommand::List => {
            for org in store.list_orgs().await? {
                println!(
                    "{}",
                    serde_json::to_string(&OrgListed {
                        id: org.id.to_string(),
                        name: &org.name,
                        client_id: &org.client_id,
                        created_at: org.created_at,
                    })?
                );
            }
        }
    }
    Ok(())
}
