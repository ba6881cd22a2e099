//! Storage traits. Each method is one database transaction: it commits whole or not at all.
//! Only domain types cross this boundary; SQL lives in `store-sql` (written once) and the two
//! engine crates (`store-sqlite`, `store-postgres`).

use std::sync::Arc;

use async_trait::async_trait;
use bankfeeds_domain::batch::{BatchItem, BatchRefusal};
use bankfeeds_domain::job::RawJson;
use bankfeeds_domain::{Currency, Org, SecretHash};

mod accounts;
mod connections;
mod connectors;
mod continuity;
mod credentials;
mod customers;
pub mod decode;
mod deliveries;
mod events;
mod fi_configs;
mod idempotency;
mod jobs;
mod link;
mod live;
mod live_limits;
mod ofx;
mod operators;
mod orgs;
mod otps;
mod platform_feeds;
mod retention;
mod status;
mod transactions;
mod webhooks;
pub use idempotency::{Idem, IdempotencyKey, Outcome, StoredResponse};
pub use {
    accounts::AccountStore,
    connections::ConnectionStore,
    connectors::ConnectorStore,
    continuity::{AccountContinuity, Acknowledged, ContinuityStore, DeclaredClosed},
    credentials::CredentialStore,
    customers::CustomerStore,
    deliveries::DeliveryStore,
    events::{EventStore, NewEvent},
    fi_configs::FiConfigStore,
    jobs::JobStore,
    link::LinkStore,
    live::{
        DeletionUpdate, LiveDeletion, LiveFeed, LiveStatement, LiveStore, LiveTenant,
        StatementRender, StatementUpdate,
    },
    live_limits::LiveLimitStore,
    ofx::OfxStore,
    operators::OperatorStore,
    orgs::OrgStore,
    otps::OtpStore,
    platform_feeds::PlatformFeedStore,
    retention::RetentionStore,
    status::{QueueStatus, StatusStore},
    transactions::{BatchCall, TransactionStore},
    webhooks::WebhookStore,
};

/// Every storage trait, for `use bankfeeds_store::prelude::*` where a `DynStore` is called.
pub mod prelude {
    pub use crate::{
        AccountStore, ConnectionStore, ConnectorStore, ContinuityStore, CredentialStore,
        CustomerStore, DeliveryStore, EventStore, FiConfigStore, JobStore, LinkStore,
        LiveLimitStore, LiveStore, OfxStore, OperatorStore, OrgStore, OtpStore, PlatformFeedStore,
        RetentionStore, StatusStore, Store, TransactionStore, WebhookStore,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the name says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The write breaks a rule only the database can check (e.g. a parent account that is not
    /// on the same connection). `code` is the API's error code.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String },
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// The database could not be reached or failed. Never shown to API callers.
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<bankfeeds_domain::job::NotAFailureStatus> for StoreError {
    fn from(e: bankfeeds_domain::job::NotAFailureStatus) -> Self {
        StoreError::Invalid {
            code: "INVALID_JOB_OUTCOME",
            message: e.to_string(),
        }
    }
}

/// An account rule's refusal as the error the doors already map: a taken internal id and a
/// locked currency are conflicts, the rest invalid requests with the rule's code.
impl From<bankfeeds_domain::account::AccountRefusal> for StoreError {
    fn from(r: bankfeeds_domain::account::AccountRefusal) -> Self {
        use bankfeeds_domain::account::AccountRefusal;
        match r {
            AccountRefusal::InternalIdTaken => {
                StoreError::Conflict("bank_feed_accounts_internal_id_key")
            }
            AccountRefusal::CurrencyLocked => StoreError::Conflict("currency_locked"),
            other => StoreError::Invalid {
                code: other.code(),
                message: other.to_string(),
            },
        }
    }
}

/// An organisation with the digest of its client secret, for authentication.
#[derive(Debug, Clone)]
pub struct OrgCredential {
    pub org: Org,
    pub client_secret_hash: SecretHash,
}

/// Whether what the backend acknowledges survives a power cut, not only a process crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is on stable storage before the call that made it returns.
    Full,
    /// The operator chose speed over safety: commits already acknowledged can be lost if the
    /// operating system crashes or the power fails. The text names the setting and its effect.
    Reduced(String),
}

/// Connection-pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store:
    OrgStore
    + ConnectionStore
    + ConnectorStore
    + CustomerStore
    + AccountStore
    + JobStore
    + TransactionStore
    + ContinuityStore
    + FiConfigStore
    + OtpStore
    + CredentialStore
    + LinkStore
    + LiveStore
    + LiveLimitStore
    + OfxStore
    + OperatorStore
    + PlatformFeedStore
    + EventStore
    + RetentionStore
    + StatusStore
    + WebhookStore
    + DeliveryStore
    + Send
    + Sync
    + 'static
{
    /// The backend's name, for logs and metrics: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations. Safe to run concurrently from several hub instances.
    async fn migrate(&self) -> StoreResult<()>;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    fn pool_stats(&self) -> PoolStats;

    /// How durable a commit is with the settings this store runs under (checked at connect).
    fn durability(&self) -> Durability;
}

pub use bankfeeds_domain::event::{Event, EventKind};

pub type DynStore = Arc<dyn Store>;

/// Renders a batch's outcome as the HTTP status and JSON body the job saves (rendered as text:
/// the store keeps it and the API sends it as is). A store may work a batch out before it takes
/// its write lock and again under it if the account changed in between; the answer stored is
/// always the render of the outcome that was committed. It is handed the currency of the
/// account the store found (under its lock, so the one the batch was applied to; `None` when
/// there is no such account), since an answer writes money with its minor units.
pub type BatchRender<'a> = &'a (dyn Fn(Option<Currency>, &Result<Vec<BatchItem>, BatchRefusal>) -> (u16, RawJson)
         + Send
         + Sync);
