//! The live Xero delivery worker `serve_with` starts when the hub has a key ring (without one no
//! organisation can go live). One loop cuts every active feed's new transactions into queued
//! statements (`LiveStore::cut_live_statements`, Xero's rules from `domain::live::xero`); a few
//! loops claim due statements under a lease (the oldest unfinished one of each account, so an
//! account's statements arrive in order, and never one statement on two instances), POST each
//! with its row id as the `Idempotency-Key`, poll a `PENDING` one until Xero delivers or rejects
//! it, and record the answer as the domain maps it: delivered (a `duplicate-statement` after a
//! lost answer included), retried later (429 after its `Retry-After`, 5xx and time-outs with
//! back-off), rejected with the feed stopped and the reason shown (`invalid-end-balance`, …),
//! or the consent gone (the feed needs re-authorisation). Refreshed tokens are stored by
//! compare-and-set on the tenant's `token_version`. The same loop that cuts also asks Xero
//! for the feed connections of feeds the customer chose and deletes the ones removed
//! (`feeds.rs`).

use std::sync::Arc;
use std::time::Duration;

use bankfeeds_domain::live::xero::{refusal, retry_delay, Cut, Outcome};
use bankfeeds_domain::live::{LiveFeedState, LiveStatementStatus};
use bankfeeds_domain::transaction::Transaction;
use bankfeeds_domain::{Clock, OrgId, Platform};
use bankfeeds_store::{
    DynStore, LiveFeed, LiveStatement, LiveTenant, StatementUpdate, StoreResult,
};
use tokio_util::sync::CancellationToken;

use crate::signal::{drain, pause};

use super::model::{StatementIn, StatementOut, StatementStatus};
use super::{tokens, AppCredentials, TenantAuth, Tokens, XeroClient, XeroError};
use crate::sealed::{credential_context, Keyring, CLIENT_ID, CLIENT_SECRET};

/// How the worker paces itself: as data, so tests run it fast.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// How often an idle loop looks again.
    pub idle: Duration,
    /// How long after Xero said `PENDING` a statement is asked about again.
    pub poll_pending: Duration,
    /// How long a claimed statement is this instance's (longer than a call with its retries).
    pub lease: Duration,
    /// Loops sending at once (each serves other accounts).
    pub senders: usize,
    /// The first wait after Xero did not answer usably; it doubles with each try, up to 120
    /// times this (`domain::live::xero::retry_delay`: 30 s to an hour by default).
    pub retry_base: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(5),
            poll_pending: Duration::from_secs(30),
            lease: Duration::from_secs(300),
            senders: 2,
            retry_base: Duration::from_secs(30),
        }
    }
}

impl LiveSettings {
    /// How long a statement or deletion waits after `attempts` tries Xero did not answer
    /// usably: the domain's back-off, scaled from its 30 s base to `retry_base`.
    pub fn retry_delay(&self, attempts: i64) -> chrono::TimeDelta {
        let scaled = retry_delay(attempts).num_milliseconds() as i128
            * self.retry_base.as_millis() as i128
            / 30_000;
        chrono::TimeDelta::milliseconds(scaled.clamp(0, i64::MAX as i128) as i64)
    }
}

/// Transactions cut per feed per pass.
const CUT_BATCH: u32 = 5_000;
/// Active feeds cut per pass (and pending ones asked about).
pub(super) const FEEDS_PER_PASS: u32 = 1_000;
/// Statements one claim takes.
const CLAIM: u32 = 4;

#[derive(Clone)]
pub struct LiveWorker {
    pub store: DynStore,
    pub clock: Arc<dyn Clock>,
    pub client: Arc<XeroClient>,
    pub keyring: Arc<Keyring>,
    /// This instance's name, the holder of its leases.
    pub holder: String,
    pub settings: LiveSettings,
    /// Counts delivered statements' lines as ingested by Xero.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What to do with a claimed statement.
enum Step {
    Record(StatementUpdate),
    /// The consent is gone: the feed waits for the customer; the statement stays queued.
    Reauthorize(&'static str),
}

/// The body of a cut: the statement Xero receives, as JSON.
pub fn render(feed: &LiveFeed, transactions: &[Transaction], c: &Cut) -> String {
    let fc = feed.feed_connection_id.as_deref().unwrap_or_default();
    serde_json::to_string(&super::statement::statement_out(fc, transactions, c))
        .expect("a statement serialises")
}

impl LiveWorker {
    /// Cuts the new transactions of every active feed; the statements made.
    pub async fn cut_all(&self) -> StoreResult<usize> {
        let feeds = self
            .store
            .live_feeds_in_state(LiveFeedState::Active, FEEDS_PER_PASS)
            .await?;
        let mut made = 0;
        for feed in feeds {
            let cut = self
                .store
                .cut_live_statements(feed.account_id, CUT_BATCH, &render, self.clock.now())
                .await;
            match cut {
                Ok(statements) => made += statements.len(),
                Err(e) => {
                    tracing::warn!(account_id = %feed.account_id, error = %e, "could not cut live statements")
                }
            }
        }
        Ok(made)
    }

    /// Claims due statements and sends or polls each; how many were claimed.
    pub async fn deliver_due(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let claimed = self
            .store
            .claim_live_statements(&self.holder, now + lease, CLAIM, now)
            .await?;
        for s in &claimed {
            let step = self.step(s).await?;
            let now = self.clock.now();
            let update = match step {
                Step::Record(update) => update,
                Step::Reauthorize(why) => {
                    tracing::warn!(account_id = %s.account_id, why, "live feed needs the customer's consent again");
                    self.store
                        .set_live_feed_state(
                            s.account_id,
                            LiveFeedState::ReauthorizationRequired,
                            Some(("consent-revoked", Some(why))),
                            now,
                        )
                        .await?;
                    StatementUpdate::RetryAt(now)
                }
            };
            if let StatementUpdate::Rejected { code, .. } = &update {
                tracing::warn!(statement_id = %s.id, account_id = %s.account_id, code, "Xero rejected a statement; the feed stops");
            }
            if !self
                .store
                .record_live_statement(s.id, &self.holder, &update, now)
                .await?
            {
                tracing::warn!(statement_id = %s.id, "lease lost before the answer was recorded");
            } else if let StatementUpdate::Delivered { .. } = &update {
                let lines = u64::try_from(s.line_count).unwrap_or(0);
                let waited = crate::metrics::seconds_between(s.created_at, now);
                self.metrics
                    .record_ingested(Platform::Xero, lines, Some(waited));
            }
        }
        Ok(claimed.len())
    }

    /// Until nothing is left to cut and nothing is due: what tests call to deliver
    /// deterministically. The statements claimed.
    pub async fn drain(&self) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            self.connect_feeds().await?;
            self.delete_due().await?;
            self.cut_all().await?;
            let n = self.deliver_due().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// What to do with `s`: send it (queued) or ask about it (sent).
    async fn step(&self, s: &LiveStatement) -> StoreResult<Step> {
        let now = self.clock.now();
        let Some(tenant) = self.store.get_live_tenant(s.connection_id).await? else {
            return Ok(Step::Reauthorize("the connection has no Xero consent"));
        };
        let Some(app) = self.app(s.org_id).await? else {
            tracing::warn!(org_id = %s.org_id, "live Xero feed without readable app credentials; retrying later");
            return Ok(Step::Record(StatementUpdate::RetryAt(
                now + self.settings.retry_delay(s.attempts),
            )));
        };
        let mut answer = Err(XeroError::Unauthorized);
        // A refused access token is refreshed once and the call tried again.
        for force in [false, true] {
            let tokens = match self.tokens(&tenant, &app, force).await? {
                Ok(tokens) => tokens,
                Err(e) => {
                    answer = Err(e);
                    break;
                }
            };
            answer = self.call(s, &tenant, &tokens).await;
            if !matches!(answer, Err(XeroError::Unauthorized)) {
                break;
            }
        }
        Ok(self.judge(s, answer))
    }

    async fn call(
        &self,
        s: &LiveStatement,
        tenant: &LiveTenant,
        tokens: &Tokens,
    ) -> Result<StatementIn, XeroError> {
        let auth = TenantAuth {
            tenant_id: &tenant.tenant_id,
            access_token: &tokens.access_token,
        };
        match (s.status, s.platform_statement_id.as_deref()) {
            (LiveStatementStatus::Sent, Some(id)) => self.client.get_statement(auth, id).await,
            _ => {
                let body: StatementOut = serde_json::from_str(&s.body)
                    .map_err(|e| XeroError::Protocol(format!("stored statement: {e}")))?;
                self.client
                    .create_statement(auth, &s.id.to_string(), &body)
                    .await
            }
        }
    }

    /// Xero's answer as what becomes of the statement.
    fn judge(&self, s: &LiveStatement, answer: Result<StatementIn, XeroError>) -> Step {
        let now = self.clock.now();
        let later = StatementUpdate::RetryAt(now + self.settings.retry_delay(s.attempts));
        let (outcome, detail) = match answer {
            Ok(x) => match x.status {
                Some(StatementStatus::Delivered) => {
                    return Step::Record(StatementUpdate::Delivered {
                        platform_statement_id: x.id,
                    })
                }
                Some(StatementStatus::Rejected) => {
                    let first = x.errors.first();
                    let status = first.and_then(|p| p.status).unwrap_or(400);
                    let detail = first.and_then(|p| p.detail.clone().or(p.title.clone()));
                    (
                        refusal(status, first.and_then(|p| p.kind.as_deref())),
                        detail,
                    )
                }
                Some(StatementStatus::Pending) | None => {
                    let id = x.id.or_else(|| s.platform_statement_id.clone());
                    let Some(id) = id else {
                        return Step::Record(later);
                    };
                    let wait = chrono::Duration::from_std(self.settings.poll_pending)
                        .unwrap_or(chrono::Duration::MAX);
                    return Step::Record(StatementUpdate::Sent {
                        platform_statement_id: id,
                        poll_at: now + wait,
                    });
                }
            },
            Err(XeroError::Refused {
                status,
                problem,
                body,
            }) => {
                // Xero may put the problem on the statement item rather than the envelope.
                let item = body
                    .pointer("/items/0/errors/0/type")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned);
                let kind = problem.kind.clone().or(item);
                (
                    refusal(status, kind.as_deref()),
                    problem.detail.or(problem.title),
                )
            }
            Err(XeroError::RateLimited(wait)) => {
                let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                return Step::Record(StatementUpdate::RetryAt(now + wait));
            }
            Err(XeroError::Unauthorized) | Err(XeroError::ConsentRevoked) => {
                return Step::Reauthorize("Xero refused the consent's tokens")
            }
            Err(e @ (XeroError::Unavailable(_) | XeroError::Protocol(_))) => {
                tracing::warn!(statement_id = %s.id, error = %e, "Xero did not answer usably; retrying later");
                return Step::Record(later);
            }
        };
        Step::Record(match outcome {
            Outcome::Delivered => StatementUpdate::Delivered {
                platform_statement_id: None,
            },
            Outcome::Pending | Outcome::Retry => later,
            Outcome::Stop { code } => StatementUpdate::Rejected { code, detail },
            Outcome::Reauthorize => return Step::Reauthorize("Xero refused the consent's tokens"),
        })
    }

    /// The organisation's Xero app, opened; `None` when it has none or it does not open.
    pub(super) async fn app(&self, org: OrgId) -> StoreResult<Option<AppCredentials>> {
        open_app(&self.store, &self.keyring, org).await
    }

    /// The tenant's tokens, refreshed first when stale (or `force`d); a refresh is stored by
    /// compare-and-set, and when another instance refreshed first its tokens are used.
    pub(super) async fn tokens(
        &self,
        tenant: &LiveTenant,
        app: &AppCredentials,
        force: bool,
    ) -> StoreResult<Result<Tokens, XeroError>> {
        let connection = tenant.connection_id;
        let Some(current) = tokens::open(&self.keyring, connection, &tenant.tokens_sealed) else {
            return Ok(Err(XeroError::ConsentRevoked));
        };
        let now = self.clock.now();
        if !force && !current.stale(now) {
            return Ok(Ok(current));
        }
        // Another instance may have refreshed since `tenant` was read.
        let latest = self.store.get_live_tenant(connection).await?;
        let (version, current) = match latest {
            Some(t) if t.token_version != tenant.token_version => {
                match tokens::open(&self.keyring, connection, &t.tokens_sealed) {
                    Some(tokens) if !tokens.stale(now) => return Ok(Ok(tokens)),
                    Some(tokens) => (t.token_version, tokens),
                    None => return Ok(Err(XeroError::ConsentRevoked)),
                }
            }
            _ => (tenant.token_version, current),
        };
        let fresh = match self.client.refresh(app, &current.refresh_token, now).await {
            Ok(fresh) => fresh,
            Err(XeroError::ConsentRevoked) => {
                // Refresh tokens rotate: one another instance spent a moment ago is refused
                // too, and its tokens are then stored; only when none were is the consent gone.
                let after = self.store.get_live_tenant(connection).await?;
                return Ok(match after {
                    Some(t) if t.token_version != version => {
                        tokens::open(&self.keyring, connection, &t.tokens_sealed)
                            .ok_or(XeroError::ConsentRevoked)
                    }
                    _ => Err(XeroError::ConsentRevoked),
                });
            }
            Err(e) => return Ok(Err(e)),
        };
        let sealed = tokens::seal(&self.keyring, connection, &fresh);
        let stored = self
            .store
            .replace_live_tokens(connection, version, &sealed, fresh.access_expires_at, now)
            .await?;
        if !stored {
            // Lost the race: our refresh token was already spent by the winner, whose tokens
            // are stored; ours (new, valid) still serve this call.
            tracing::info!(connection_id = %connection, "another instance refreshed the tokens first");
        }
        Ok(Ok(fresh))
    }

    /// Frees the statements and deletions this instance (by its stable name) held when it
    /// stopped, killed included, so they are sent again (same Idempotency-Key) at once rather
    /// than after their lease. Call before `spawn`.
    pub async fn release_own_leases(&self) {
        match self.store.release_live_leases(&self.holder).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(freed = n, "freed this instance's live delivery leases"),
            Err(e) => tracing::warn!(error = %e, "could not free this instance's live leases"),
        }
    }

    /// Runs the cutting loop and `senders` sending loops until `stop`.
    pub fn spawn(self, stop: &CancellationToken) -> tokio::task::JoinSet<()> {
        let mut set = tokio::task::JoinSet::new();
        let w = self.clone();
        let s = stop.clone();
        set.spawn(async move {
            loop {
                if let Err(e) = w.connect_feeds().await {
                    tracing::warn!(error = %e, "asking for feed connections failed; retrying");
                }
                if let Err(e) = w.delete_due().await {
                    tracing::warn!(error = %e, "deleting feed connections failed; retrying");
                }
                if let Err(e) = w.cut_all().await {
                    tracing::warn!(error = %e, "cutting live statements failed; retrying");
                }
                if pause(&s, w.settings.idle).await {
                    break;
                }
            }
        });
        for _ in 0..self.settings.senders.max(1) {
            let w = self.clone();
            let s = stop.clone();
            let idle = w.settings.idle;
            set.spawn(drain(s, idle, "live delivery", async move || {
                w.deliver_due().await.map(|sent| sent > 0)
            }));
        }
        set
    }
}

/// An organisation's Xero app, opened; `None` when it has none or it does not open (the
/// consent pages need its client id too).
pub async fn open_app(
    store: &DynStore,
    keyring: &Keyring,
    org: OrgId,
) -> StoreResult<Option<AppCredentials>> {
    let Some(c) = store.get_connector(org, Platform::Xero).await? else {
        return Ok(None);
    };
    let open = |purpose, sealed: Option<&String>| {
        let bytes = keyring
            .open_text(&credential_context(purpose, org, Platform::Xero), sealed?)
            .ok()?;
        String::from_utf8(bytes).ok()
    };
    Ok(
        match (
            open(CLIENT_ID, c.client_id_sealed.as_ref()),
            open(CLIENT_SECRET, c.client_secret_sealed.as_ref()),
        ) {
            (Some(client_id), Some(client_secret)) => Some(AppCredentials {
                client_id,
                client_secret,
            }),
            _ => None,
        },
    )
}
