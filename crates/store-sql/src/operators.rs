//! Console operators, their setup links, sessions and sign-in throttle. Tokens are looked up
//! by their digest; the rules (single use, expiry, live sessions, the throttle) are the
//! domain's (`domain::operator`), applied to what is loaded here under the row's lock.

use bankfeeds_domain::operator::{
    NewSession, NewSetupToken, Operator, OperatorId, OperatorStatus, PasswordHash, SessionRecord,
    SetupRecord, SetupRefusal, Throttle, ThrottleKey,
};
use bankfeeds_domain::{OrgId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{OperatorStore, StoreError, StoreResult};

use crate::{Backend, DbId, DbInt, DbTime, Exec, Sql, SqlStore, Tx};

#[derive(sqlx::FromRow)]
struct OperatorRow {
    id: DbId,
    org_id: DbId,
    email: String,
    password_hash: Option<String>,
    status: String,
    created_at: DbTime,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;

    fn try_from(r: OperatorRow) -> StoreResult<Self> {
        Ok(Operator {
            id: r.id.0.into(),
            org_id: r.org_id.0.into(),
            email: r.email,
            status: known(OperatorStatus::parse(&r.status), "operators.status")?,
            has_password: r.password_hash.is_some(),
            created_at: r.created_at.0,
        })
    }
}

const SELECT: &str =
    "SELECT o.id, o.org_id, o.email, o.password_hash, o.status, o.created_at FROM operators o";

#[derive(sqlx::FromRow)]
struct SetupRow {
    operator_id: DbId,
    expires_at: DbTime,
    used_at: Option<DbTime>,
    status: String,
}

impl TryFrom<SetupRow> for SetupRecord {
    type Error = StoreError;

    fn try_from(r: SetupRow) -> StoreResult<Self> {
        Ok(SetupRecord {
            operator_id: r.operator_id.0.into(),
            expires_at: r.expires_at.0,
            used_at: r.used_at.map(|t| t.0),
            operator_status: known(OperatorStatus::parse(&r.status), "operators.status")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ThrottleRow {
    failures: DbInt,
    locked_until: Option<DbTime>,
}

impl From<ThrottleRow> for Throttle {
    fn from(r: ThrottleRow) -> Self {
        Throttle {
            failures: u32::try_from(r.failures.0).unwrap_or(u32::MAX),
            locked_until: r.locked_until.map(|t| t.0),
        }
    }
}

/// The setup token with this digest and its operator's status; `lock` is the row lock to
/// take on the token (empty for a plain read).
async fn load_setup(
    tx: &mut impl Exec,
    token: &SecretHash,
    lock: &str,
) -> StoreResult<Option<SetupRecord>> {
    let sql = format!(
        "SELECT t.operator_id, t.expires_at, t.used_at, o.status
         FROM operator_setup_tokens t JOIN operators o ON o.id = t.operator_id
         WHERE t.hash = $1{lock}"
    );
    tx.optional::<SetupRow, _>(Sql::new(sql).bind(token.to_hex()))
        .await
}

/// The sign-in throttle of `subject`; `lock` is the row lock to take (empty for a plain read).
async fn load_throttle(
    db: &mut impl Exec,
    subject: &str,
    lock: &str,
) -> StoreResult<Option<Throttle>> {
    let sql = format!(
        "SELECT failures, locked_until FROM console_login_throttle WHERE subject = $1{lock}"
    );
    let found = db
        .fetch_optional::<ThrottleRow>(Sql::new(sql).bind(subject))
        .await?;
    Ok(found.map(Throttle::from))
}

async fn operator_by_id(tx: &mut impl Exec, id: OperatorId) -> StoreResult<Operator> {
    tx.one::<OperatorRow, _>(Sql::new(format!("{SELECT} WHERE o.id = $1")).bind(id.as_uuid()))
        .await
}

#[async_trait::async_trait]
impl<B: Backend> OperatorStore for SqlStore<B> {
    async fn create_operator(&self, operator: &Operator, setup: &NewSetupToken) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        tx.execute(
            Sql::new(
                "INSERT INTO operators (id, org_id, email, password_hash, status, created_at,
                                        updated_at)
                 VALUES ($1, $2, $3, NULL, $4, $5, $5)",
            )
            .bind(operator.id.as_uuid())
            .bind(operator.org_id.as_uuid())
            .bind(&operator.email)
            .bind(operator.status.as_str())
            .bind(operator.created_at),
        )
        .await?;
        tx.execute(
            Sql::new(
                "INSERT INTO operator_setup_tokens (hash, operator_id, org_id, created_at,
                                                    expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(setup.hash.to_hex())
            .bind(setup.operator_id.as_uuid())
            .bind(setup.org_id.as_uuid())
            .bind(setup.created_at)
            .bind(setup.expires_at),
        )
        .await?;
        tx.commit().await
    }

    async fn list_operators(&self, org: OrgId) -> StoreResult<Vec<Operator>> {
        self.0
            .reader()
            .all::<OperatorRow, _>(
                Sql::new(format!("{SELECT} WHERE o.org_id = $1 ORDER BY o.id")).bind(org.as_uuid()),
            )
            .await
    }

    async fn disable_operator(
        &self,
        org: OrgId,
        id: OperatorId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        tx.execute_found(
            Sql::new(
                "UPDATE operators SET status = $1, updated_at = $2
                 WHERE id = $3 AND org_id = $4",
            )
            .bind(OperatorStatus::Disabled.as_str())
            .bind(now)
            .bind(id.as_uuid())
            .bind(org.as_uuid()),
        )
        .await?;
        tx.execute(
            Sql::new(
                "UPDATE operator_sessions SET revoked_at = $1
                 WHERE operator_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id.as_uuid()),
        )
        .await?;
        tx.commit().await
    }

    async fn setup_operator(
        &self,
        token: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Result<Operator, SetupRefusal>> {
        let mut reader = self.0.reader();
        let found = load_setup(&mut reader, token, "").await?;
        match SetupRecord::usable(found.as_ref(), now) {
            Ok(t) => Ok(Ok(operator_by_id(&mut reader, t.operator_id).await?)),
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    async fn complete_setup(
        &self,
        token: &SecretHash,
        password: &PasswordHash,
        now: Timestamp,
    ) -> StoreResult<Result<Operator, SetupRefusal>> {
        let mut tx = self.0.write().await?;
        let found = load_setup(&mut tx, token, &B::DIALECT.for_update_of("t")).await?;
        let operator_id = match SetupRecord::usable(found.as_ref(), now) {
            Ok(t) => t.operator_id,
            Err(refusal) => {
                tx.rollback().await?;
                return Ok(Err(refusal));
            }
        };
        tx.execute(
            Sql::new("UPDATE operator_setup_tokens SET used_at = $1 WHERE hash = $2")
                .bind(now)
                .bind(token.to_hex()),
        )
        .await?;
        tx.execute(
            Sql::new("UPDATE operators SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password.as_stored())
                .bind(now)
                .bind(operator_id.as_uuid()),
        )
        .await?;
        let operator = operator_by_id(&mut tx, operator_id).await?;
        tx.commit().await?;
        Ok(Ok(operator))
    }

    async fn login_candidates(&self, email: &str) -> StoreResult<Vec<(Operator, PasswordHash)>> {
        let rows = self
            .0
            .reader()
            .fetch_all::<OperatorRow>(
                Sql::new(format!(
                    "{SELECT} WHERE o.email = $1 AND o.status = $2
                       AND o.password_hash IS NOT NULL ORDER BY o.id"
                ))
                .bind(email)
                .bind(OperatorStatus::Active.as_str()),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let hash = PasswordHash::from_stored(r.password_hash.clone().unwrap_or_default());
                Ok((Operator::try_from(r)?, hash))
            })
            .collect()
    }

    async fn open_session(&self, session: &NewSession) -> StoreResult<()> {
        self.0
            .write_one(
                Sql::new(
                    "INSERT INTO operator_sessions (hash, operator_id, org_id, created_at,
                                                    expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(session.hash.to_hex())
                .bind(session.operator_id.as_uuid())
                .bind(session.org_id.as_uuid())
                .bind(session.created_at)
                .bind(session.expires_at),
            )
            .await?;
        Ok(())
    }

    async fn session_operator(
        &self,
        token: &SecretHash,
        now: Timestamp,
    ) -> StoreResult<Option<Operator>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            operator: OperatorRow,
            expires_at: DbTime,
            revoked_at: Option<DbTime>,
            org_disabled_at: Option<DbTime>,
        }
        let found = self
            .0
            .reader()
            .fetch_optional::<Row>(
                Sql::new(
                    "SELECT o.id, o.org_id, o.email, o.password_hash, o.status, o.created_at,
                            s.expires_at, s.revoked_at, g.disabled_at AS org_disabled_at
                     FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
                     JOIN orgs g ON g.id = o.org_id
                     WHERE s.hash = $1",
                )
                .bind(token.to_hex()),
            )
            .await?;
        let Some(row) = found else { return Ok(None) };
        let operator = Operator::try_from(row.operator)?;
        let record = SessionRecord {
            expires_at: row.expires_at.0,
            revoked_at: row.revoked_at.map(|t| t.0),
            operator_status: operator.status,
            org_disabled: row.org_disabled_at.is_some(),
        };
        Ok(record.live(now).then_some(operator))
    }

    async fn revoke_session(&self, token: &SecretHash, now: Timestamp) -> StoreResult<()> {
        self.0
            .write_one(
                Sql::new(
                    "UPDATE operator_sessions SET revoked_at = $1
                     WHERE hash = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(token.to_hex()),
            )
            .await?;
        Ok(())
    }

    async fn login_locked(&self, keys: &[ThrottleKey], now: Timestamp) -> StoreResult<bool> {
        let mut reader = self.0.reader();
        for key in keys {
            let found = load_throttle(&mut reader, &key.subject(), "").await?;
            if found.is_some_and(|t| t.locked(now)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn record_login_failure(&self, keys: &[ThrottleKey], now: Timestamp) -> StoreResult<()> {
        let mut tx = self.0.write().await?;
        for key in keys {
            let subject = key.subject();
            let found = load_throttle(&mut tx, &subject, B::DIALECT.for_update()).await?;
            let next = found.unwrap_or_default().after_failure(key, now);
            // An upsert, so two instances counting the first failure of a key at once both
            // count (one inserts, the other updates).
            tx.execute(
                Sql::new(
                    "INSERT INTO console_login_throttle (subject, failures, locked_until,
                                                         updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (subject) DO UPDATE
                     SET failures = excluded.failures, locked_until = excluded.locked_until,
                         updated_at = excluded.updated_at",
                )
                .bind(&subject)
                .bind(next.failures)
                .bind(next.locked_until)
                .bind(now),
            )
            .await?;
        }
        tx.commit().await
    }

    async fn clear_login_failures(&self, key: &ThrottleKey) -> StoreResult<()> {
        self.0
            .write_one(
                Sql::new("DELETE FROM console_login_throttle WHERE subject = $1")
                    .bind(key.subject()),
            )
            .await?;
        Ok(())
    }
}
