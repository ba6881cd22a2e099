//! The platform side of the link flow on PostgreSQL: companies, challenges, linked feeds.
//!
//! Several hub instances may handle redirects for one challenge at once. Binding and completing
//! lock the challenge's row first (`SELECT ... FOR UPDATE`), so they take turns on it as on
//! SQLite's single writer: of concurrent binds exactly one succeeds and the rest see the
//! challenge used. Everything a bind or a completion does happens in one transaction, rolled
//! back whole when it is refused, so a refusal uses up neither the challenge nor the OTP.
//!
//! Locks are taken in one order, challenge, then connection, then OTP, then accounts; issuing an
//! OTP locks the connection before the OTPs, so the two cannot deadlock.

use async_trait::async_trait;

use bankfeeds_domain::link::{self, Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Platform, SecretHash, Timestamp,
};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::accounts::{self, Key};
use crate::PostgresStore;
use crate::{db, map_err, otps};

#[derive(FromRow)]
struct ChallengeRow {
    hash: String,
    platform: String,
    company_id: Uuid,
    org_id: Uuid,
    created_at: Timestamp,
    expires_at: Timestamp,
    connection_id: Option<Uuid>,
    bound_at: Option<Timestamp>,
    completed_at: Option<Timestamp>,
    browser_hash: Option<String>,
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;
    fn try_from(r: ChallengeRow) -> StoreResult<Self> {
        Ok(Challenge {
            hash: known(SecretHash::from_hex(&r.hash), "challenges.hash")?,
            platform: parse(&r.platform, "challenges.platform")?,
            company_id: r.company_id.into(),
            org_id: r.org_id.into(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            connection_id: r.connection_id.map(Into::into),
            bound_at: r.bound_at,
            completed_at: r.completed_at,
            browser: r
                .browser_hash
                .map(|h| known(SecretHash::from_hex(&h), "challenges.browser_hash"))
                .transpose()?,
        })
    }
}

const CHALLENGE_COLUMNS: &str = "hash, platform, company_id, org_id, created_at, expires_at,
    connection_id, bound_at, completed_at, browser_hash";

/// The challenge; with `for_update`, its row stays locked until the transaction ends (a
/// concurrent locker waits, then reads what the first one committed).
async fn load_challenge(
    conn: &mut PgConnection,
    hash: &SecretHash,
    for_update: bool,
) -> StoreResult<Option<Challenge>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE hash = $1{lock}");
    let query = sqlx::query_as::<_, ChallengeRow>(&sql).bind(hash.to_hex());
    db::optional(query, &mut *conn).await
}

/// Commits what `result` says was done, or rolls back a refusal so that nothing it touched
/// (a used OTP, a changed account) stays changed, and its row locks are released now.
async fn finish<T>(
    tx: Transaction<'_, Postgres>,
    result: Result<T, LinkRefusal>,
) -> StoreResult<Result<T, LinkRefusal>> {
    match result {
        Ok(_) => tx.commit().await.map_err(map_err)?,
        Err(_) => tx.rollback().await.map_err(map_err)?,
    }
    Ok(result)
}

/// Reads what the redirect needs under its locks, decides, and writes only if accepted.
async fn bind_in(
    tx: &mut PgConnection,
    challenge: &SecretHash,
    platform: Platform,
    browser: Option<&SecretHash>,
    otp: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<Challenge, LinkRefusal>> {
    // Concurrent binds of one challenge wait here, then see it bound.
    let found = load_challenge(tx, challenge, true).await?;
    // The OTP's connection is locked before the OTP, in the order `issue_otp` takes them (an
    // OTP's connection never changes, so reading it unlocked is safe). The shared lock also
    // keeps the connection from being deleted until this transaction ends.
    let otp_connection: Option<Uuid> =
        sqlx::query_scalar("SELECT connection_id FROM otps WHERE hash = $1")
            .bind(otp.to_hex())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    let connection_platform = match otp_connection {
        Some(id) => live_connection_platform(tx, id.into()).await?,
        None => None,
    };
    let otp_found = otps::load_for_update(tx, otp).await?;
    let bound = match link::decide_bind(
        found,
        platform,
        browser,
        otp_found.as_ref(),
        connection_platform,
        now,
    ) {
        Ok(bound) => bound,
        Err(refusal) => return Ok(Err(refusal)),
    };
    otps::mark_used(tx, otp, now).await?;
    sqlx::query("UPDATE challenges SET connection_id = $1, bound_at = $2 WHERE hash = $3")
        .bind(bound.connection_id.map(|c| c.as_uuid()))
        .bind(now)
        .bind(challenge.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(Ok(bound))
}

/// The connection's platform if it is live, its row share-locked (so it cannot be deleted)
/// until the transaction ends.
async fn live_connection_platform(
    tx: &mut PgConnection,
    connection: ConnectionId,
) -> StoreResult<Option<Platform>> {
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT platform, deleted_at IS NULL FROM connections WHERE id = $1 FOR SHARE",
    )
    .bind(connection.as_uuid())
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    match row {
        Some((platform, true)) => parse(&platform, "connections.platform").map(Some),
        _ => Ok(None),
    }
}

/// Makes the account a feed of the company (again, if it was unlinked).
async fn link_into_company(
    tx: &mut PgConnection,
    company: CompanyId,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO company_feeds (company_id, account_id, linked_at) VALUES ($1, $2, $3)
         ON CONFLICT (company_id, account_id)
         DO UPDATE SET linked_at = excluded.linked_at, unlinked_at = NULL",
    )
    .bind(company.as_uuid())
    .bind(account.as_uuid())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn complete_in(
    tx: &mut PgConnection,
    challenge: &SecretHash,
    accounts: &[BankFeedAccountId],
    start: Option<Timestamp>,
    now: Timestamp,
) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
    // Concurrent completions of one challenge wait here, then see it completed.
    let found = load_challenge(tx, challenge, true).await?;
    let selection = match link::open_selection(found.as_ref(), now) {
        Ok(selection) => selection,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let connection = selection.connection_id;
    // The FI may have deleted the connection since the login was confirmed; its accounts are
    // kept (soft delete), so check the connection itself. Shared lock: no delete meanwhile.
    let connection_live = live_connection_platform(tx, connection).await?.is_some();
    // Every account is checked (and locked, in id order so that concurrent completions over
    // the same accounts cannot deadlock) before anything is written.
    let mut all_live = true;
    if connection_live {
        let mut ids = accounts.to_vec();
        ids.sort();
        ids.dedup();
        for id in ids {
            if accounts::find_live(tx, connection, Key::Id(id), true)
                .await?
                .is_none()
            {
                all_live = false;
                break;
            }
        }
    }
    if let Err(refusal) = link::check_feed_choice(connection_live, all_live) {
        return Ok(Err(refusal));
    }
    let state = link::linked_feed_state(start);
    let mut linked = Vec::with_capacity(accounts.len());
    for id in accounts {
        linked.push(accounts::set_feed_state_in(tx, *id, &state, now).await?);
        link_into_company(tx, selection.company_id, *id, now).await?;
    }
    sqlx::query("UPDATE challenges SET completed_at = $1 WHERE hash = $2")
        .bind(now)
        .bind(challenge.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(Ok(linked))
}

#[async_trait]
impl bankfeeds_store::LinkStore for PostgresStore {
    async fn create_company(&self, c: &Company) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO companies (id, platform, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(c.id.as_uuid())
        .bind(c.platform.as_str())
        .bind(&c.name)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        let row: Option<(Uuid, String, String, Timestamp)> =
            sqlx::query_as("SELECT id, platform, name, created_at FROM companies WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.map(|(id, platform, name, created_at)| {
            Ok(Company {
                id: id.into(),
                platform: parse(&platform, "companies.platform")?,
                name,
                created_at,
            })
        })
        .transpose()
    }

    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>> {
        let rows: Vec<(Uuid, String, Timestamp)> = sqlx::query_as(
        "SELECT id, name, created_at FROM companies WHERE platform = $1 ORDER BY created_at, id",
    )
    .bind(platform.as_str())
    .fetch_all(&self.pool)
    .await
    .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| Company {
                id: id.into(),
                platform,
                name,
                created_at,
            })
            .collect())
    }

    async fn create_challenge(&self, c: &Challenge) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO challenges ({CHALLENGE_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL, $7)"
        ))
        .bind(c.hash.to_hex())
        .bind(c.platform.as_str())
        .bind(c.company_id.as_uuid())
        .bind(c.org_id.as_uuid())
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.browser.map(|h| h.to_hex()))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        load_challenge(&mut conn, hash, false).await
    }

    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        browser: Option<&SecretHash>,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let result = bind_in(&mut tx, challenge, platform, browser, otp, now).await?;
        finish(tx, result).await
    }

    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let result = complete_in(&mut tx, challenge, accounts, start, now).await?;
        finish(tx, result).await
    }

    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT company_id FROM challenges
         WHERE connection_id = $1 AND completed_at IS NOT NULL
         ORDER BY completed_at DESC LIMIT 1",
        )
        .bind(connection.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        match id {
            None => Ok(None),
            Some(id) => self.get_company(id.into()).await,
        }
    }

    async fn link_feed(
        &self,
        company: CompanyId,
        connection: ConnectionId,
        account: BankFeedAccountId,
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<BankFeedAccount> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        if accounts::find_live(&mut tx, connection, Key::Id(account), true)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let state = link::linked_feed_state(start);
        let linked = accounts::set_feed_state_in(&mut tx, account, &state, now).await?;
        link_into_company(&mut tx, company, account, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(linked)
    }
}
