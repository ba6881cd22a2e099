//! Feed connections, the worker's other half: for the feeds a customer chose (`pending`
//! without a Xero id) `POST /FeedConnections` (one call per connection, our account id as each
//! `accountToken`, a card's last four digits only, an `Idempotency-Key` so a retry after a
//! crash is the same request); pending ones with an id are asked about
//! (`GET /FeedConnections/{id}`) until Xero says active or rejected
//! (`domain::live::xero::feed_connection`). Feeds removed (account deleted or unlinked,
//! connection deleted) are drained from the store's outbox as
//! `POST /FeedConnections/DeleteRequests`. A refused refresh (the customer revoked the
//! consent) marks the connection's feeds `reauthorization_required`, with an event.

use std::collections::BTreeMap;

use sha2::Digest as _;

use bankfeeds_domain::account::BankAccountType;
use bankfeeds_domain::live::xero::FeedConnectionOutcome;
use bankfeeds_domain::live::xero::{account_name, account_number, feed_connection};
use bankfeeds_domain::live::LiveFeedState;
use bankfeeds_domain::ConnectionId;
use bankfeeds_store::{DeletionUpdate, LiveDeletion, LiveFeed, LiveTenant, StoreResult};

use super::model::{AccountType, DeleteRequest, FeedConnectionIn, FeedConnectionOut};
use super::worker::{LiveWorker, FEEDS_PER_PASS};
use super::{TenantAuth, Tokens, XeroError};

/// Deletions one pass takes.
const DELETIONS_PER_PASS: u32 = 20;

impl LiveWorker {
    /// Asks Xero for the feed connections of pending feeds and about the ones it is setting
    /// up; the feeds asked about.
    pub async fn connect_feeds(&self) -> StoreResult<usize> {
        let pending = self
            .store
            .live_feeds_in_state(LiveFeedState::Pending, FEEDS_PER_PASS)
            .await?;
        let mut by_connection: BTreeMap<ConnectionId, Vec<LiveFeed>> = BTreeMap::new();
        for feed in pending {
            by_connection
                .entry(feed.connection_id)
                .or_default()
                .push(feed);
        }
        let mut asked = 0;
        for (connection, feeds) in by_connection {
            asked += feeds.len();
            let Some((tenant, tokens)) = self.consent_of(connection, &feeds, false).await? else {
                continue;
            };
            let mut refused = false;
            let auth = TenantAuth {
                tenant_id: &tenant.tenant_id,
                access_token: &tokens.access_token,
            };
            let (new, known): (Vec<_>, Vec<_>) =
                feeds.iter().partition(|f| f.feed_connection_id.is_none());
            if !new.is_empty() {
                refused |= self.create(auth, &new).await?;
            }
            for feed in known {
                let id = feed.feed_connection_id.as_deref().unwrap_or_default();
                match self.client.get_feed_connection(auth, id).await {
                    Ok(answer) => self.judge_feed(feed, &answer).await?,
                    Err(XeroError::Unauthorized) => refused = true,
                    Err(e) => self.feed_error(&feeds, e).await?,
                }
            }
            if refused {
                // The access token was refused: refresh it now (a refused refresh marks the
                // feeds for re-authorisation); the next pass asks again.
                self.consent_of(connection, &feeds, true).await?;
            }
        }
        Ok(asked)
    }

    /// The tenant and fresh tokens of `connection`; `None` (the feeds marked for
    /// re-authorisation when the consent is gone) when there are none to use now.
    async fn consent_of(
        &self,
        connection: ConnectionId,
        feeds: &[LiveFeed],
        force: bool,
    ) -> StoreResult<Option<(LiveTenant, Tokens)>> {
        let Some(tenant) = self.store.get_live_tenant(connection).await? else {
            return Ok(None);
        };
        let Some(app) = self.app(tenant.org_id).await? else {
            tracing::warn!(org_id = %tenant.org_id, "live Xero feed without readable app credentials");
            return Ok(None);
        };
        match self.tokens(&tenant, &app, force).await? {
            Ok(tokens) => Ok(Some((tenant, tokens))),
            Err(e) => {
                self.feed_error(feeds, e).await?;
                Ok(None)
            }
        }
    }

    /// What an error of Xero's does to `feeds`: a refused refresh (the consent is gone) marks
    /// them for re-authorisation; anything else is tried again on the next pass.
    async fn feed_error(&self, feeds: &[LiveFeed], e: XeroError) -> StoreResult<()> {
        if let XeroError::ConsentRevoked = e {
            for feed in feeds {
                tracing::warn!(account_id = %feed.account_id, "live feed needs the customer's consent again");
                self.store
                    .set_live_feed_state(
                        feed.account_id,
                        LiveFeedState::ReauthorizationRequired,
                        Some(("consent-revoked", Some("Xero refused the consent's tokens"))),
                        self.clock.now(),
                    )
                    .await?;
            }
        } else {
            tracing::warn!(error = %e, "asking Xero about feed connections failed; retrying later");
        }
        Ok(())
    }

    /// Asks for `feeds`' feed connections; `true` when the access token was refused.
    async fn create(&self, auth: TenantAuth<'_>, feeds: &[&LiveFeed]) -> StoreResult<bool> {
        let mut items = Vec::with_capacity(feeds.len());
        let mut asked = Vec::with_capacity(feeds.len());
        for feed in feeds {
            let Some(a) = self
                .store
                .get_account(feed.connection_id, feed.account_id)
                .await?
            else {
                continue;
            };
            let card = a.bank_account_type == BankAccountType::CreditCard;
            let number = a
                .details
                .bank_account_number
                .as_deref()
                .unwrap_or(&a.internal_bank_account_id);
            let name = a
                .details
                .name
                .as_deref()
                .unwrap_or(&a.internal_bank_account_id);
            items.push(FeedConnectionOut {
                account_token: a.id.to_string(),
                account_number: account_number(number, card),
                account_name: account_name(name),
                account_type: if card {
                    AccountType::Creditcard
                } else {
                    AccountType::Bank
                },
                currency: a.currency.code().to_owned(),
            });
            asked.push(*feed);
        }
        if items.is_empty() {
            return Ok(false);
        }
        // The same feeds asked for again (after a crash or a failed call) carry the same key.
        let key = asked
            .iter()
            .map(|f| f.account_id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let key = format!("fc-{}", hex::encode(sha2::Sha256::digest(key.as_bytes())));
        let answers = match self
            .client
            .create_feed_connections(auth, &key, &items)
            .await
        {
            Ok(answers) => answers,
            Err(XeroError::Unauthorized) => return Ok(true),
            Err(e) => {
                let owned: Vec<LiveFeed> = asked.iter().map(|f| (*f).clone()).collect();
                self.feed_error(&owned, e).await?;
                return Ok(false);
            }
        };
        for feed in asked {
            let token = feed.account_id.to_string();
            let Some(answer) = answers
                .iter()
                .find(|x| x.account_token.as_deref() == Some(token.as_str()))
            else {
                continue;
            };
            if let (Some(id), FeedConnectionOutcome::Pending | FeedConnectionOutcome::Active) =
                (answer.id.as_deref(), outcome(answer))
            {
                self.store
                    .set_live_feed_connection(feed.account_id, id, self.clock.now())
                    .await?;
            }
            self.judge_feed(feed, answer).await?;
        }
        Ok(false)
    }

    /// Records what Xero said of `feed`'s connection.
    async fn judge_feed(&self, feed: &LiveFeed, answer: &FeedConnectionIn) -> StoreResult<()> {
        let (state, error) = match outcome(answer) {
            FeedConnectionOutcome::Pending => return Ok(()),
            FeedConnectionOutcome::Active => (LiveFeedState::Active, None),
            FeedConnectionOutcome::Rejected { code } => {
                let detail = answer
                    .error
                    .as_ref()
                    .and_then(|p| p.detail.clone().or(p.title.clone()));
                (LiveFeedState::Rejected, Some((code, detail)))
            }
        };
        tracing::info!(account_id = %feed.account_id, state = state.as_str(), "Xero answered a feed connection");
        let error = error.as_ref().map(|(c, d)| (c.as_str(), d.as_deref()));
        self.store
            .set_live_feed_state(feed.account_id, state, error, self.clock.now())
            .await
    }

    /// Sends the due `DeleteRequests`; how many were claimed.
    pub async fn delete_due(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let claimed = self
            .store
            .claim_live_deletions(&self.holder, now + lease, DELETIONS_PER_PASS, now)
            .await?;
        for d in &claimed {
            let update = self.delete_one(d).await?;
            self.store
                .finish_live_deletion(d.id, &self.holder, &update, self.clock.now())
                .await?;
        }
        Ok(claimed.len())
    }

    async fn delete_one(&self, d: &LiveDeletion) -> StoreResult<DeletionUpdate> {
        let later =
            DeletionUpdate::RetryAt(self.clock.now() + self.settings.retry_delay(d.attempts));
        let Some(tenant) = self.store.get_live_tenant(d.connection_id).await? else {
            return Ok(DeletionUpdate::Done("no-consent".into()));
        };
        let Some(app) = self.app(d.org_id).await? else {
            return Ok(later);
        };
        let tokens = match self.tokens(&tenant, &app, false).await? {
            Ok(tokens) => tokens,
            Err(XeroError::ConsentRevoked) => {
                return Ok(DeletionUpdate::Done("consent-revoked".into()))
            }
            Err(_) => return Ok(later),
        };
        // In the organisation the feed connection was made in, which after a consent for
        // another one is no longer the connection's; the customer's tokens still reach it while
        // their consent for it stands (otherwise Xero refuses, and that is the outcome).
        let auth = TenantAuth {
            tenant_id: d.tenant_id.as_deref().unwrap_or(&tenant.tenant_id),
            access_token: &tokens.access_token,
        };
        let request = [DeleteRequest {
            account_token: d.account_id.to_string(),
        }];
        let key = format!("delete-{}", d.id);
        Ok(
            match self
                .client
                .delete_feed_connections(auth, &key, &request)
                .await
            {
                Ok(answers) => {
                    let status = answers
                        .first()
                        .and_then(|a| a.status.clone())
                        .unwrap_or_else(|| "PENDING".into());
                    tracing::info!(account_id = %d.account_id, status, "Xero feed connection deleted");
                    DeletionUpdate::Done(status)
                }
                Err(XeroError::Refused { problem, .. }) => DeletionUpdate::Done(format!(
                    "refused: {}",
                    problem.kind.as_deref().unwrap_or("?")
                )),
                Err(XeroError::ConsentRevoked) => DeletionUpdate::Done("consent-revoked".into()),
                Err(e) => {
                    tracing::warn!(error = %e, "deleting a Xero feed connection failed; retrying later");
                    later
                }
            },
        )
    }
}

fn outcome(answer: &FeedConnectionIn) -> FeedConnectionOutcome {
    feed_connection(
        answer.status.as_deref(),
        answer.error.as_ref().and_then(|p| p.kind.as_deref()),
    )
}
