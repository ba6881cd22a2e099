//! Generated bank feed credentials (the username and password a platform's link form asks for).

use bankfeeds_domain::credentials::BankFeedCredentials;
use bankfeeds_domain::{ConnectionId, SecretHash, Timestamp};
use bankfeeds_store::decode::known;
use bankfeeds_store::{CredentialStore, StoreError, StoreResult};

use crate::{Backend, DbId, DbTime, Exec, Sql, SqlStore};

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    username: String,
    org_id: DbId,
    connection_id: DbId,
    password_hash: String,
    created_at: DbTime,
    revoked_at: Option<DbTime>,
}

impl TryFrom<CredentialsRow> for BankFeedCredentials {
    type Error = StoreError;

    fn try_from(r: CredentialsRow) -> StoreResult<Self> {
        Ok(BankFeedCredentials {
            username: r.username,
            org_id: r.org_id.0.into(),
            connection_id: r.connection_id.0.into(),
            password_hash: known(
                SecretHash::from_hex(&r.password_hash),
                "bank_feed_credentials.password_hash",
            )?,
            created_at: r.created_at.0,
            revoked_at: r.revoked_at.map(|t| t.0),
        })
    }
}

#[async_trait::async_trait]
impl<B: Backend> CredentialStore for SqlStore<B> {
    async fn create_credentials(&self, c: &BankFeedCredentials) -> StoreResult<()> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "INSERT INTO bank_feed_credentials
             (username, org_id, connection_id, password_hash, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&c.username)
            .bind(c.org_id.as_uuid())
            .bind(c.connection_id.as_uuid())
            .bind(c.password_hash.to_hex())
            .bind(c.created_at)
            .bind(c.revoked_at),
        )
        .await?;
        Ok(())
    }

    async fn find_credentials(&self, username: &str) -> StoreResult<Option<BankFeedCredentials>> {
        let db = &self.0;
        db.reader()
            .optional::<CredentialsRow, _>(
                Sql::new(
                    "SELECT username, org_id, connection_id, password_hash, created_at, revoked_at
                 FROM bank_feed_credentials WHERE username = $1",
                )
                .bind(username),
            )
            .await
    }

    async fn revoke_credentials(
        &self,
        connection: ConnectionId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let db = &self.0;
        db.write_one(
            Sql::new(
                "UPDATE bank_feed_credentials SET revoked_at = $1
             WHERE connection_id = $2 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(connection.as_uuid()),
        )
        .await
    }
}
