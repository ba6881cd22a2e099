//! The platform side of the link flow: companies, challenges, linked feeds.
//!
//! Several hub instances may handle redirects for one challenge at once (PostgreSQL). Binding
//! and completing lock the challenge's row first, so they take turns on it as on SQLite's single
//! writer: of concurrent binds exactly one succeeds and the rest see the challenge used.
//! Everything a bind or a completion does happens in one transaction, rolled back whole when it
//! is refused, so a refusal uses up neither the challenge nor the OTP. What is refused when is
//! the domain's (`domain::link`).
//!
//! Locks are taken in one order, challenge, then connection, then OTP, then accounts; issuing an
//! OTP locks the connection before the OTPs, so the two cannot deadlock.

use bankfeeds_domain::link::{self, Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Platform, SecretHash, Timestamp,
};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{LinkStore, NewEvent, StoreError, StoreResult};

use crate::accounts::{self, Key};
use crate::{events, otps, Backend, DbId, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    hash: String,
    platform: String,
    company_id: DbId,
    org_id: DbId,
    created_at: DbTime,
    expires_at: DbTime,
    connection_id: Option<DbId>,
    bound_at: Option<DbTime>,
    completed_at: Option<DbTime>,
    browser_hash: Option<String>,
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> StoreResult<Self> {
        Ok(Challenge {
            hash: known(SecretHash::from_hex(&r.hash), "challenges.hash")?,
            platform: parse(&r.platform, "challenges.platform")?,
            company_id: r.company_id.0.into(),
            org_id: r.org_id.0.into(),
            created_at: r.created_at.0,
            expires_at: r.expires_at.0,
            connection_id: r.connection_id.map(|c| c.0.into()),
            bound_at: r.bound_at.map(|t| t.0),
            completed_at: r.completed_at.map(|t| t.0),
            browser: r
                .browser_hash
                .map(|h| known(SecretHash::from_hex(&h), "challenges.browser_hash"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CompanyRow {
    id: DbId,
    platform: String,
    name: String,
    created_at: DbTime,
}

impl TryFrom<CompanyRow> for Company {
    type Error = StoreError;

    fn try_from(r: CompanyRow) -> StoreResult<Self> {
        Ok(Company {
            id: r.id.0.into(),
            platform: parse(&r.platform, "companies.platform")?,
            name: r.name,
            created_at: r.created_at.0,
        })
    }
}

const CHALLENGE_COLUMNS: &str = "hash, platform, company_id, org_id, created_at, expires_at,
    connection_id, bound_at, completed_at, browser_hash";

/// The challenge; with `for_update`, its row stays locked until the transaction ends (a
/// concurrent locker waits, then reads what the first one committed).
async fn load_challenge<B: Backend>(
    conn: &mut impl Exec,
    hash: &SecretHash,
    for_update: bool,
) -> StoreResult<Option<Challenge>> {
    let lock = if for_update {
        B::DIALECT.for_update()
    } else {
        ""
    };
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE hash = $1{lock}");
    conn.optional::<ChallengeRow, _>(Sql::new(sql).bind(hash.to_hex()))
        .await
}

/// Commits what `result` says was done, or rolls back a refusal so that nothing it touched
/// (a used OTP, a changed account) stays changed, and its row locks are released now.
async fn finish<T>(
    tx: impl Tx,
    result: Result<T, LinkRefusal>,
) -> StoreResult<Result<T, LinkRefusal>> {
    match result {
        Ok(_) => tx.commit().await?,
        Err(_) => tx.rollback().await?,
    }
    Ok(result)
}

#[derive(sqlx::FromRow)]
struct OtpConnection {
    connection_id: DbId,
}

/// Reads what the redirect needs under its locks, decides, and writes only if accepted.
async fn bind_in<B: Backend>(
    tx: &mut impl Exec,
    challenge: &SecretHash,
    platform: Platform,
    browser: Option<&SecretHash>,
    otp: &SecretHash,
    now: Timestamp,
) -> StoreResult<Result<Challenge, LinkRefusal>> {
    // Concurrent binds of one challenge wait here, then see it bound.
    let found = load_challenge::<B>(tx, challenge, true).await?;
    // The OTP's connection is locked before the OTP, in the order `issue_otp` takes them (an
    // OTP's connection never changes, so reading it unlocked is safe). The shared lock also
    // keeps the connection from being deleted until this transaction ends.
    let otp_connection: Option<OtpConnection> = tx
        .fetch_optional(
            Sql::new("SELECT connection_id FROM otps WHERE hash = $1").bind(otp.to_hex()),
        )
        .await?;
    let connection_platform = match otp_connection {
        Some(o) => live_connection_platform::<B>(tx, o.connection_id.0.into()).await?,
        None => None,
    };
    let otp_found = otps::load_for_update::<B>(tx, otp).await?;
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
    tx.execute(
        Sql::new("UPDATE challenges SET connection_id = $1, bound_at = $2 WHERE hash = $3")
            .bind(bound.connection_id.map(|c| c.as_uuid()))
            .bind(now)
            .bind(challenge.to_hex()),
    )
    .await?;
    Ok(Ok(bound))
}

#[derive(sqlx::FromRow)]
struct ConnectionState {
    platform: String,
    live: bool,
}

/// The connection's platform if it is live, its row share-locked (so it cannot be deleted)
/// until the transaction ends.
async fn live_connection_platform<B: Backend>(
    tx: &mut impl Exec,
    connection: ConnectionId,
) -> StoreResult<Option<Platform>> {
    let sql = format!(
        "SELECT platform, deleted_at IS NULL AS live FROM connections WHERE id = $1{}",
        B::DIALECT.for_share()
    );
    let row: Option<ConnectionState> = tx
        .fetch_optional(Sql::new(sql).bind(connection.as_uuid()))
        .await?;
    match row {
        Some(ConnectionState {
            platform,
            live: true,
        }) => parse(&platform, "connections.platform").map(Some),
        _ => Ok(None),
    }
}

/// Makes the account a feed of the company (again, if it was unlinked), and records what the
/// platform holds about it as the account's `platform_data`, which `linked` gets too. Both ways
/// of linking (the link flow's choice, the Codat door's mapping) come through here.
async fn link_into_company(
    tx: &mut impl Exec,
    company: CompanyId,
    linked: &mut BankFeedAccount,
    platform: Platform,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO company_feeds (company_id, account_id, linked_at) VALUES ($1, $2, $3)
             ON CONFLICT (company_id, account_id)
             DO UPDATE SET linked_at = excluded.linked_at, unlinked_at = NULL",
        )
        .bind(company.as_uuid())
        .bind(linked.id.as_uuid())
        .bind(now),
    )
    .await?;
    let start = linked.transaction_start_date;
    let record = link::platform_record(platform, company, now, start);
    accounts::set_platform_data(tx, linked.id, &record).await?;
    linked.platform_data = Some(record);
    Ok(())
}

async fn complete_in<B: Backend>(
    tx: &mut impl Exec,
    challenge: &SecretHash,
    accounts: &[BankFeedAccountId],
    start: Option<Timestamp>,
    now: Timestamp,
) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
    // Concurrent completions of one challenge wait here, then see it completed.
    let found = load_challenge::<B>(tx, challenge, true).await?;
    let selection = match link::open_selection(found.as_ref(), now) {
        Ok(selection) => selection,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let connection = selection.connection_id;
    // The FI may have deleted the connection since the login was confirmed; its accounts are
    // kept (soft delete), so check the connection itself. Shared lock: no delete meanwhile.
    let platform = live_connection_platform::<B>(tx, connection).await?;
    // Every account is checked (and locked) before anything is written.
    let all_live = match platform {
        Some(_) => accounts::all_live_locked::<B>(tx, connection, accounts).await?,
        None => true,
    };
    let platform = match link::check_feed_choice(platform, all_live) {
        Ok(platform) => platform,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let state = link::linked_feed_state(start);
    let mut linked = Vec::with_capacity(accounts.len());
    for id in accounts {
        let mut account = accounts::set_feed_state_in::<B>(tx, *id, &state, now).await?;
        link_into_company(tx, selection.company_id, &mut account, platform, now).await?;
        linked.push(account);
    }
    if let Some(first) = linked.first() {
        let ids: Vec<_> = linked.iter().map(|a| a.id).collect();
        let event =
            NewEvent::connection_linked(first.org_id, connection, selection.company_id, &ids);
        events::append(tx, &event, now).await?;
    }
    tx.execute(
        Sql::new("UPDATE challenges SET completed_at = $1 WHERE hash = $2")
            .bind(now)
            .bind(challenge.to_hex()),
    )
    .await?;
    Ok(Ok(linked))
}

#[derive(sqlx::FromRow)]
struct CompanyOfChallenge {
    company_id: DbId,
}

#[async_trait::async_trait]
impl<B: Backend> LinkStore for SqlStore<B> {
    async fn create_company(&self, c: &Company) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "INSERT INTO companies (id, platform, name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(c.id.as_uuid())
            .bind(c.platform.as_str())
            .bind(&c.name)
            .bind(c.created_at),
        )
        .await?;
        Ok(())
    }

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        let db = &self.0;
        db.reader()
            .optional::<CompanyRow, _>(
                Sql::new("SELECT id, platform, name, created_at FROM companies WHERE id = $1")
                    .bind(id.as_uuid()),
            )
            .await
    }

    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>> {
        let db = &self.0;
        db.reader()
            .all::<CompanyRow, _>(
                Sql::new(
                    "SELECT id, platform, name, created_at FROM companies WHERE platform = $1
                 ORDER BY created_at, id",
                )
                .bind(platform.as_str()),
            )
            .await
    }

    async fn create_challenge(&self, c: &Challenge) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
            Sql::new(format!(
                "INSERT INTO challenges ({CHALLENGE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL, $7)"
            ))
            .bind(c.hash.to_hex())
            .bind(c.platform.as_str())
            .bind(c.company_id.as_uuid())
            .bind(c.org_id.as_uuid())
            .bind(c.created_at)
            .bind(c.expires_at)
            .bind(c.browser.map(|h| h.to_hex())),
        )
        .await?;
        Ok(())
    }

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>> {
        let db = &self.0;
        load_challenge::<B>(&mut db.reader(), hash, false).await
    }

    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        browser: Option<&SecretHash>,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let result = bind_in::<B>(&mut tx, challenge, platform, browser, otp, now).await?;
        finish(tx, result).await
    }

    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
        let db = &self.0;
        let mut tx = db.write().await?;
        let result = complete_in::<B>(&mut tx, challenge, accounts, start, now).await?;
        finish(tx, result).await
    }

    /// The company of the connection's latest completed link.
    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>> {
        let db = &self.0;
        let found: Option<CompanyOfChallenge> = db
            .reader()
            .fetch_optional(
                Sql::new(
                    "SELECT company_id FROM challenges
                 WHERE connection_id = $1 AND completed_at IS NOT NULL
                 ORDER BY completed_at DESC LIMIT 1",
                )
                .bind(connection.as_uuid()),
            )
            .await?;
        match found {
            None => Ok(None),
            Some(c) => self.get_company(c.company_id.0.into()).await,
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
        let db = &self.0;
        let mut tx = db.write().await?;
        if accounts::find_live::<B>(&mut tx, connection, Key::Id(account), true)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let state = link::linked_feed_state(start);
        let mut linked = accounts::set_feed_state_in::<B>(&mut tx, account, &state, now).await?;
        let platform = crate::connections::platform_of(&mut tx, connection).await?;
        link_into_company(&mut tx, company, &mut linked, platform, now).await?;
        tx.commit().await?;
        Ok(linked)
    }
}
