//! Connections: one business customer of an FI, bound to one accounting platform.

use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{ConnectionId, OrgId, Platform, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub org_id: OrgId,
    pub platform: Platform,
    pub name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the FI deletes the connection. Its token stops working at once; the row is
    /// kept so the books it fed stay explainable.
    pub deleted_at: Option<Timestamp>,
}

impl Connection {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

#[derive(Debug)]
pub struct NewConnection {
    pub connection: Connection,
    pub access_token_hash: SecretHash,
}

/// The longest connection name, in characters as sent.
pub const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionNameError {
    #[error("connection name must be at most 200 characters")]
    TooLong,
}

impl NewConnection {
    /// Builds a connection and its access token; returns the token in clear, to be shown once.
    pub fn generate(
        org_id: OrgId,
        platform: Platform,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<(NewConnection, Secret), ConnectionNameError> {
        // The limit counts the name as sent (what the API document says), then it is trimmed.
        if name.is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
            return Err(ConnectionNameError::TooLong);
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let token = Secret::generate(SecretKind::AccessToken);
        let connection = Connection {
            id: ConnectionId::new(),
            org_id,
            platform,
            name: name.map(str::to_owned),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        Ok((
            NewConnection {
                connection,
                access_token_hash: token.hash(),
            },
            token,
        ))
    }
}
