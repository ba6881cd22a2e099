//! `bankfeeds operator …`: the people who sign in to an organisation's console. Created on the
//! hub's own machine, straight in the database, like organisations: the new operator gets a
//! one-time link to choose a password.

use bankfeeds_domain::operator::{Operator, OperatorId, SETUP_TTL};
use bankfeeds_domain::{Clock, Org, SystemClock};
use bankfeeds_server::config::Config;
use bankfeeds_store::{DynStore, StoreError};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Create an operator and print their one-time setup link (valid for 72 hours).
    Create {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
    /// List an organisation's operators as JSON lines.
    List {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
    },
    /// Disable an operator: their sessions end at once and they cannot sign in again.
    Disable {
        /// The organisation's id or client_id.
        #[arg(long)]
        org: String,
        /// The operator's email or id.
        #[arg(long)]
        operator: String,
    },
}

/// The organisation named by its id or client_id.
pub async fn find_org(store: &DynStore, org: &str) -> anyhow::Result<Org> {
    store
        .list_orgs()
        .await?
        .into_iter()
        .find(|o| o.id.to_string() == org || o.client_id == org)
        .ok_or_else(|| anyhow::anyhow!("no organisation with id or client_id {org:?}"))
}

fn listed(op: &Operator) -> serde_json::Value {
    json!({
        "id": op.id,
        "org_id": op.org_id,
        "email": op.email,
        "status": op.status.as_str(),
        "password_set": op.has_password,
        "created_at": op.created_at,
    })
}

pub async fn run(command: OperatorCommand, config: &Config) -> anyhow::Result<()> {
    let store = bankfeeds_server::open_store(config).await?;
    store.migrate().await?;
    match command {
        OperatorCommand::Create { org, email } => {
            let org = find_org(&store, &org).await?;
            let now = SystemClock.now();
            let (operator, setup, token) = Operator::generate(org.id, &email, now)?;
            match store.create_operator(&operator, &setup).await {
                Err(StoreError::Conflict(_)) => anyhow::bail!(
                    "organisation {} already has an operator {}",
                    org.id,
                    operator.email
                ),
                other => other?,
            }
            let base = config.public_base();
            let mut out = listed(&operator);
            out["setup_url"] = json!(format!(
                "{}/console/setup?token={}",
                base.trim_end_matches('/'),
                token.expose()
            ));
            out["setup_expires_at"] = json!(now + SETUP_TTL);
            println!("{out}");
        }
        OperatorCommand::List { org } => {
            let org = find_org(&store, &org).await?;
            for op in store.list_operators(org.id).await? {
                println!("{}", listed(&op));
            }
        }
        OperatorCommand::Disable { org, operator } => {
            let org = find_org(&store, &org).await?;
            let wanted = operator.trim().to_lowercase();
            let found = store
                .list_operators(org.id)
                .await?
                .into_iter()
                .find(|o| o.email == wanted || o.id.to_string() == wanted)
                .ok_or_else(|| {
                    anyhow::anyhow!("organisation {} has no operator {operator:?}", org.id)
                })?;
            let id: OperatorId = found.id;
            store
                .disable_operator(org.id, id, SystemClock.now())
                .await?;
            let mut out = listed(&found);
            out["status"] = json!("disabled");
            println!("{out}");
        }
    }
    Ok(())
}
