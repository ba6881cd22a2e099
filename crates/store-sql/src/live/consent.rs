//! A customer's consent at a live platform, from "Connect to Xero" to the accounts chosen:
//! loaded under the row's lock, checked by `domain::live::consent`, written in the same
//! transaction.

use bankfeeds_domain::live::consent::{
    check_callback, check_choosing, check_completion, check_tenant, ConsentRefusal, ConsentTenant,
    LiveConsent,
};
use bankfeeds_domain::live::LiveFeedState;
use bankfeeds_domain::{BankFeedAccountId, SecretHash, Timestamp};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{LiveFeed, StoreError, StoreResult};

use super::{deletions, record_feed_change, statements, FeedRow, FEED_COLUMNS};
use crate::accounts;
use crate::{Backend, DbId, DbInt, DbTime, Exec, Sql, Tx};

#[derive(sqlx::FromRow)]
struct ConsentRow {
    state_hash: String,
    org_id: DbId,
    connection_id: DbId,
    platform: String,
    browser_hash: String,
    verifier_sealed: String,
    tokens_sealed: Option<String>,
    tenants: String,
    tenant_id: Option<String>,
    created_at: DbTime,
    called_back_at: Option<DbTime>,
    completed_at: Option<DbTime>,
}

impl TryFrom<ConsentRow> for LiveConsent {
    type Error = StoreError;

    fn try_from(r: ConsentRow) -> StoreResult<Self> {
        Ok(LiveConsent {
            state_hash: known(
                SecretHash::from_hex(&r.state_hash),
                "live_consents.state_hash",
            )?,
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            platform: parse(&r.platform, "live_consents.platform")?,
            browser: known(
                SecretHash::from_hex(&r.browser_hash),
                "live_consents.browser_hash",
            )?,
            verifier_sealed: r.verifier_sealed,
            tokens_sealed: r.tokens_sealed,
            tenants: known(
                serde_json::from_str(&r.tenants).ok(),
                "live_consents.tenants",
            )?,
            tenant_id: r.tenant_id,
            created_at: r.created_at.0,
            called_back_at: r.called_back_at.map(|t| t.0),
            completed_at: r.completed_at.map(|t| t.0),
        })
    }
}

const COLUMNS: &str = "state_hash, org_id, connection_id, platform, browser_hash,
    verifier_sealed, tokens_sealed, tenants, tenant_id, created_at, called_back_at, completed_at";

fn tenants_json(tenants: &[ConsentTenant]) -> String {
    serde_json::to_string(tenants).expect("tenants serialise")
}

pub async fn create<B: Backend>(db: &B, c: &LiveConsent) -> StoreResult<()> {
    db.write_one(
        Sql::new(format!(
            "INSERT INTO live_consents ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(c.state_hash.to_hex())
        .bind(c.org_id.as_uuid())
        .bind(c.connection_id.as_uuid())
        .bind(c.platform.as_str())
        .bind(c.browser.to_hex())
        .bind(c.verifier_sealed.as_str())
        .bind(c.tokens_sealed.as_deref())
        .bind(tenants_json(&c.tenants))
        .bind(c.tenant_id.as_deref())
        .bind(c.created_at)
        .bind(c.called_back_at)
        .bind(c.completed_at),
    )
    .await?;
    Ok(())
}

async fn load<B: Backend>(
    conn: &mut impl Exec,
    state: &SecretHash,
    lock: bool,
) -> StoreResult<Option<LiveConsent>> {
    let lock = if lock { B::DIALECT.for_update() } else { "" };
    conn.optional::<ConsentRow, _>(
        Sql::new(format!(
            "SELECT {COLUMNS} FROM live_consents WHERE state_hash = $1{lock}"
        ))
        .bind(state.to_hex()),
    )
    .await
}

pub async fn get<B: Backend>(db: &B, state: &SecretHash) -> StoreResult<Option<LiveConsent>> {
    load::<B>(&mut db.reader(), state, false).await
}

pub async fn use_up<B: Backend>(
    db: &B,
    state: &SecretHash,
    browser: Option<&SecretHash>,
    now: Timestamp,
) -> StoreResult<Result<LiveConsent, ConsentRefusal>> {
    let mut tx = db.write().await?;
    let found = load::<B>(&mut tx, state, true).await?;
    if let Err(refusal) = check_callback(found.as_ref(), browser, now) {
        tx.rollback().await?;
        return Ok(Err(refusal));
    }
    tx.execute(
        Sql::new("UPDATE live_consents SET called_back_at = $2 WHERE state_hash = $1")
            .bind(state.to_hex())
            .bind(now),
    )
    .await?;
    tx.commit().await?;
    let mut used = found.expect("checked");
    used.called_back_at = Some(now);
    Ok(Ok(used))
}

pub async fn grant<B: Backend>(
    db: &B,
    state: &SecretHash,
    tokens_sealed: &str,
    tenants: &[ConsentTenant],
) -> StoreResult<()> {
    let changed = db
        .write_one(
            Sql::new(
                "UPDATE live_consents SET tokens_sealed = $2, tenants = $3
                 WHERE state_hash = $1 AND called_back_at IS NOT NULL AND completed_at IS NULL",
            )
            .bind(state.to_hex())
            .bind(tokens_sealed)
            .bind(tenants_json(tenants)),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn choose_tenant<B: Backend>(
    db: &B,
    state: &SecretHash,
    browser: Option<&SecretHash>,
    tenant: &str,
    now: Timestamp,
) -> StoreResult<Result<LiveConsent, ConsentRefusal>> {
    let mut tx = db.write().await?;
    let found = load::<B>(&mut tx, state, true).await?;
    let checked = check_choosing(found.as_ref(), browser, false, now)
        .and_then(|()| check_tenant(found.as_ref().expect("checked"), tenant));
    if let Err(refusal) = checked {
        tx.rollback().await?;
        return Ok(Err(refusal));
    }
    tx.execute(
        Sql::new("UPDATE live_consents SET tenant_id = $2 WHERE state_hash = $1")
            .bind(state.to_hex())
            .bind(tenant),
    )
    .await?;
    tx.commit().await?;
    let mut chosen = found.expect("checked");
    chosen.tenant_id = Some(tenant.to_owned());
    Ok(Ok(chosen))
}

#[derive(sqlx::FromRow)]
struct Version {
    token_version: DbInt,
    tenant_id: String,
}

/// The customer's choice of accounts.
pub struct Choice<'a> {
    pub accounts: &'a [BankFeedAccountId],
    pub start: Option<Timestamp>,
    pub access_expires_at: Timestamp,
}

pub async fn complete<B: Backend>(
    db: &B,
    state: &SecretHash,
    browser: Option<&SecretHash>,
    choice: &Choice<'_>,
    now: Timestamp,
) -> StoreResult<Result<Vec<LiveFeed>, ConsentRefusal>> {
    let (chosen, start, access_expires_at) =
        (choice.accounts, choice.start, choice.access_expires_at);
    let mut tx = db.write().await?;
    let found = load::<B>(&mut tx, state, true).await?;
    let all_chosen_live = match &found {
        Some(c) => accounts::all_live_locked::<B>(&mut tx, c.connection_id, chosen).await?,
        None => false,
    };
    if let Err(refusal) = check_completion(found.as_ref(), browser, all_chosen_live, now) {
        tx.rollback().await?;
        return Ok(Err(refusal));
    }
    let c = found.expect("checked");
    let connection = c.connection_id;
    tx.execute(
        Sql::new("UPDATE live_consents SET completed_at = $2 WHERE state_hash = $1")
            .bind(state.to_hex())
            .bind(now),
    )
    .await?;
    // The consent's tokens become the connection's; the version moves on, so a refresh an
    // instance started with the old tokens cannot overwrite them.
    let before: Option<Version> = tx
        .fetch_optional(
            Sql::new("SELECT token_version, tenant_id FROM live_tenants WHERE connection_id = $1")
                .bind(connection.as_uuid()),
        )
        .await?;
    let version = before.as_ref().map_or(1, |v| v.token_version.0 + 1);
    let carry_over = bankfeeds_domain::live::consent::feeds_carry_over(
        before.as_ref().map(|v| v.tenant_id.as_str()),
        c.tenant_id.as_deref(),
    );
    tx.execute(
        Sql::new(
            "INSERT INTO live_tenants (connection_id, org_id, platform, tenant_id, tokens_sealed,
                 access_expires_at, token_version, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)
             ON CONFLICT (connection_id) DO UPDATE SET
                 tenant_id = excluded.tenant_id, tokens_sealed = excluded.tokens_sealed,
                 access_expires_at = excluded.access_expires_at,
                 token_version = excluded.token_version, state = 'active',
                 updated_at = excluded.updated_at",
        )
        .bind(connection.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(c.platform.as_str())
        .bind(c.tenant_id.as_deref())
        .bind(c.tokens_sealed.as_deref())
        .bind(access_expires_at)
        .bind(version)
        .bind(now),
    )
    .await?;
    let waiting: Vec<LiveFeed> = if carry_over {
        // Feeds that waited for the customer deliver again.
        tx.all::<FeedRow, _>(
            Sql::new(format!(
                "UPDATE live_feeds SET state = 'active', error_code = NULL, error_detail = NULL,
                     updated_at = $2
                 WHERE connection_id = $1 AND state = $3 AND feed_connection_id IS NOT NULL
                 RETURNING {FEED_COLUMNS}"
            ))
            .bind(connection.as_uuid())
            .bind(now)
            .bind(LiveFeedState::ReauthorizationRequired.as_str()),
        )
        .await?
    } else {
        // Another Xero organisation: its feed connections are not this one's; every feed
        // asks for one anew (and waits, sending nothing, until it is active).
        tx.all::<FeedRow, _>(
            Sql::new(format!(
                "UPDATE live_feeds SET state = 'pending', feed_connection_id = NULL,
                     error_code = NULL, error_detail = NULL, updated_at = $2
                 WHERE connection_id = $1
                   AND NOT (state = 'pending' AND feed_connection_id IS NULL)
                 RETURNING {FEED_COLUMNS}"
            ))
            .bind(connection.as_uuid())
            .bind(now),
        )
        .await?
    };
    for feed in &waiting {
        record_feed_change(&mut tx, feed, now).await?;
        if !carry_over {
            statements::withdraw_untried_in::<B>(&mut tx, feed.account_id, now).await?;
            // The feed's connection in the organisation left behind is deleted there, so it
            // does not linger in that organisation's bank accounts.
            if let Some(left) = &before {
                deletions::insert_in(&mut tx, feed, Some(&left.tenant_id), now).await?;
            }
        }
    }
    let mut feeds = Vec::with_capacity(chosen.len());
    for &account in chosen {
        let state = bankfeeds_domain::link::linked_feed_state(start);
        accounts::set_feed_state_in::<B>(&mut tx, account, &state, now).await?;
        // A feed already delivering keeps its feed connection; any other asks for one anew.
        let feed: LiveFeed = tx
            .one::<FeedRow, _>(
                Sql::new(format!(
                    "INSERT INTO live_feeds ({FEED_COLUMNS})
                     VALUES ($1, $2, $3, NULL, 'pending', NULL, NULL, $4, $4)
                     ON CONFLICT (account_id) DO UPDATE SET
                         connection_id = excluded.connection_id,
                         feed_connection_id = CASE WHEN live_feeds.state = 'active'
                             THEN live_feeds.feed_connection_id ELSE NULL END,
                         state = CASE WHEN live_feeds.state = 'active'
                             THEN 'active' ELSE 'pending' END,
                         error_code = CASE WHEN live_feeds.state = 'active'
                             THEN live_feeds.error_code ELSE NULL END,
                         error_detail = CASE WHEN live_feeds.state = 'active'
                             THEN live_feeds.error_detail ELSE NULL END,
                         updated_at = excluded.updated_at
                     RETURNING {FEED_COLUMNS}"
                ))
                .bind(account.as_uuid())
                .bind(c.org_id.as_uuid())
                .bind(connection.as_uuid())
                .bind(now),
            )
            .await?;
        if feed.state == LiveFeedState::Pending {
            // Asking for a feed connection anew: what was cut for the old one is taken back.
            record_feed_change(&mut tx, &feed, now).await?;
            statements::withdraw_untried_in::<B>(&mut tx, feed.account_id, now).await?;
        }
        feeds.push(feed);
    }
    tx.commit().await?;
    Ok(Ok(feeds))
}
