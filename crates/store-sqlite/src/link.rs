//! The platform side of the link flow on SQLite: companies, challenges, linked feeds.

use async_trait::async_trait;

use bankfeeds_domain::link::{self, Challenge, Company, CompanyId, LinkRefusal};
use bankfeeds_domain::{
    BankFeedAccount, BankFeedAccountId, ConnectionId, Platform, SecretHash, Timestamp,
};
use bankfeeds_store::decode::{known, parse};
use bankfeeds_store::{StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};

use crate::error::DbUuid;
use crate::{accounts, db, map_err, otps, time, SqliteStore};

#[derive(FromRow)]
struct ChallengeRow {
    hash: String,
    platform: String,
    company_id: DbUuid,
    org_id: DbUuid,
    created_at: i64,
    expires_at: i64,
    connection_id: Option<DbUuid>,
    bound_at: Option<i64>,
    completed_at: Option<i64>,
    browser_hash: Option<String>,
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;
    fn try_from(r: ChallengeRow) -> StoreResult<Self> {
        Ok(Challenge {
            hash: known(SecretHash::from_hex(&r.hash), "challenges.hash")?,
            platform: parse(&r.platform, "challenges.platform")?,
            company_id: r.company_id.into_uuid().into(),
            org_id: r.org_id.into_uuid().into(),
            created_at: time::from_db(r.created_at)?,
            expires_at: time::from_db(r.expires_at)?,
            connection_id: r.connection_id.map(|u| u.into_uuid().into()),
            bound_at: time::opt_from_db(r.bound_at)?,
            completed_at: time::opt_from_db(r.completed_at)?,
            browser: r
                .browser_hash
                .map(|h| known(SecretHash::from_hex(&h), "challenges.browser_hash"))
                .transpose()?,
        })
    }
}

const CHALLENGE_COLUMNS: &str = "hash, platform, company_id, org_id, created_at, expires_at,
    connection_id, bound_at, completed_at, browser_hash";

async fn load_challenge(
    conn: &mut SqliteConnection,
    hash: &SecretHash,
) -> StoreResult<Option<Challenge>> {
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE hash = ?");
    let query = sqlx::query_as::<_, ChallengeRow>(&sql).bind(hash.to_hex());
    db::optional(query, &mut *conn).await
}

/// The platform of the connection, if it is live (not deleted).
async fn live_connection_platform(
    conn: &mut SqliteConnection,
    connection: ConnectionId,
) -> StoreResult<Option<Platform>> {
    let platform: Option<String> =
        sqlx::query_scalar("SELECT platform FROM connections WHERE id = ? AND deleted_at IS NULL")
            .bind(connection.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    platform
        .map(|p| parse(&p, "connections.platform"))
        .transpose()
}

/// Makes the account a feed of the company (again, if it was unlinked).
async fn link_into_company(
    conn: &mut SqliteConnection,
    company: CompanyId,
    account: BankFeedAccountId,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO company_feeds (company_id, account_id, linked_at) VALUES (?, ?, ?)
         ON CONFLICT (company_id, account_id)
         DO UPDATE SET linked_at = excluded.linked_at, unlinked_at = NULL",
    )
    .bind(company.to_string())
    .bind(account.to_string())
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl bankfeeds_store::LinkStore for SqliteStore {
    async fn create_company(&self, c: &Company) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO companies (id, platform, name, created_at) VALUES (?, ?, ?, ?)")
            .bind(c.id.to_string())
            .bind(c.platform.as_str())
            .bind(&c.name)
            .bind(time::to_db(c.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_company(&self, id: CompanyId) -> StoreResult<Option<Company>> {
        let row: Option<(DbUuid, String, String, i64)> =
            sqlx::query_as("SELECT id, platform, name, created_at FROM companies WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        row.map(|(id, platform, name, created_at)| {
            Ok(Company {
                id: id.into_uuid().into(),
                platform: parse(&platform, "companies.platform")?,
                name,
                created_at: time::from_db(created_at)?,
            })
        })
        .transpose()
    }

    async fn list_companies(&self, platform: Platform) -> StoreResult<Vec<Company>> {
        let rows: Vec<(DbUuid, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM companies WHERE platform = ? ORDER BY created_at, id",
        )
        .bind(platform.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(|(id, name, created_at)| {
                Ok(Company {
                    id: id.into_uuid().into(),
                    platform,
                    name,
                    created_at: time::from_db(created_at)?,
                })
            })
            .collect()
    }

    async fn create_challenge(&self, c: &Challenge) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(&format!(
        "INSERT INTO challenges ({CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)"
    ))
        .bind(c.hash.to_hex())
        .bind(c.platform.as_str())
        .bind(c.company_id.to_string())
        .bind(c.org_id.to_string())
        .bind(time::to_db(c.created_at))
        .bind(time::to_db(c.expires_at))
        .bind(c.browser.map(|h| h.to_hex()))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_challenge(&self, hash: &SecretHash) -> StoreResult<Option<Challenge>> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        load_challenge(&mut conn, hash).await
    }

    async fn bind_challenge(
        &self,
        challenge: &SecretHash,
        platform: Platform,
        browser: Option<&SecretHash>,
        otp: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Challenge, LinkRefusal>> {
        let mut tx = self.write_tx().await?;
        // Everything is read in this write transaction, decided, and written only if accepted:
        // a refusal uses up neither the challenge nor the OTP.
        let found = load_challenge(&mut tx, challenge).await?;
        let otp_found = otps::load(&mut tx, otp).await?;
        let otp_connection = match &otp_found {
            Some(o) => live_connection_platform(&mut tx, o.connection_id).await?,
            None => None,
        };
        let bound = match link::decide_bind(
            found,
            platform,
            browser,
            otp_found.as_ref(),
            otp_connection,
            now,
        ) {
            Ok(bound) => bound,
            Err(refusal) => return Ok(Err(refusal)),
        };
        otps::mark_used(&mut tx, otp, now).await?;
        sqlx::query("UPDATE challenges SET connection_id = ?, bound_at = ? WHERE hash = ?")
            .bind(bound.connection_id.map(|c| c.to_string()))
            .bind(time::to_db(now))
            .bind(challenge.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Ok(bound))
    }

    async fn complete_link(
        &self,
        challenge: &SecretHash,
        accounts: &[BankFeedAccountId],
        start: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Result<Vec<BankFeedAccount>, LinkRefusal>> {
        let mut tx = self.write_tx().await?;
        let found = load_challenge(&mut tx, challenge).await?;
        let selection = match link::open_selection(found.as_ref(), now) {
            Ok(selection) => selection,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let connection = selection.connection_id;
        // The FI may have deleted the connection since the login was confirmed; its accounts are
        // kept (soft delete), so check the connection itself.
        let connection_live = live_connection_platform(&mut tx, connection)
            .await?
            .is_some();
        let mut all_live = true;
        if connection_live {
            for id in accounts {
                if accounts::find_live(&mut tx, connection, "id", id.to_string())
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
            linked.push(accounts::set_feed_state_in(&mut tx, *id, &state, now).await?);
            link_into_company(&mut tx, selection.company_id, *id, now).await?;
        }
        sqlx::query("UPDATE challenges SET completed_at = ? WHERE hash = ?")
            .bind(time::to_db(now))
            .bind(challenge.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Ok(linked))
    }

    async fn connection_company(&self, connection: ConnectionId) -> StoreResult<Option<Company>> {
        let id: Option<DbUuid> = sqlx::query_scalar(
            "SELECT company_id FROM challenges
         WHERE connection_id = ? AND completed_at IS NOT NULL
         ORDER BY completed_at DESC LIMIT 1",
        )
        .bind(connection.to_string())
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        match id {
            None => Ok(None),
            Some(id) => self.get_company(id.into_uuid().into()).await,
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
        let mut tx = self.write_tx().await?;
        if accounts::find_live(&mut tx, connection, "id", account.to_string())
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
