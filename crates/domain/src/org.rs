//! Organisations: the FIs that use the hub, and their API credentials.

use serde::Serialize;

use crate::secret::{Secret, SecretHash, SecretKind};
use crate::{OrgId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    /// Public half of the HTTP Basic credential.
    pub client_id: String,
    pub created_at: Timestamp,
    /// Set while the hub's operator has the organisation disabled (`bankfeeds org disable`):
    /// its credential, OFX sign-ons and console sign-ins are refused; nothing is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
}

impl Org {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    /// Deleting erases every row of the organisation, so it must be disabled first: its
    /// callers have already been turned away, and the operator has taken two steps.
    pub fn may_be_deleted(&self) -> Result<(), OrgDeleteRefusal> {
        match self.disabled_at {
            Some(_) => Ok(()),
            None => Err(OrgDeleteRefusal::NotDisabled),
        }
    }
}

#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum OrgDeleteRefusal {
    #[error("the organisation is not disabled: disable it first (`bankfeeds org disable`)")]
    NotDisabled,
}

/// An organisation about to be stored, with its freshly generated credential.
#[derive(Debug)]
pub struct NewOrg {
    pub org: Org,
    pub client_secret_hash: SecretHash,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OrgNameError {
    #[error("organisation name must not be blank")]
    Blank,
    #[error("organisation name must be at most 200 characters")]
    TooLong,
}

impl NewOrg {
    /// Builds an organisation and its credential; returns the secret in clear, to be shown once.
    pub fn generate(name: &str, now: Timestamp) -> Result<(NewOrg, Secret), OrgNameError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(OrgNameError::Blank);
        }
        if name.chars().count() > 200 {
            return Err(OrgNameError::TooLong);
        }
        let secret = Secret::generate(SecretKind::ClientSecret);
        let id = OrgId::new();
        // The client id goes into HTTP Basic before a ':' so it must never contain one.
        let client_id = format!("bfci_{}", id.as_uuid().simple());
        let org = Org {
            id,
            name: name.to_owned(),
            client_id,
            created_at: now,
            disabled_at: None,
        };
        Ok((
            NewOrg {
                org,
                client_secret_hash: secret.hash(),
            },
            secret,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn only_a_disabled_organisation_may_be_deleted() {
        let (mut new, _) = NewOrg::generate("Demo Bank", Utc::now()).unwrap();
        assert_eq!(new.org.may_be_deleted(), Err(OrgDeleteRefusal::NotDisabled));
        new.org.disabled_at = Some(Utc::now());
        assert_eq!(new.org.may_be_deleted(), Ok(()));
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        let (new, secret) = NewOrg::generate("  Demo Bank ", Utc::now()).unwrap();
        assert_eq!(new.org.name, "Demo Bank");
        assert!(!new.org.client_id.contains(':'));
        assert!(new.client_secret_hash.verify(&secret));
        assert_eq!(
            NewOrg::generate("  ", Utc::now()).unwrap_err(),
            OrgNameError::Blank
        );
        assert_eq!(
            NewOrg::generate(&"x".repeat(201), Utc::now()).unwrap_err(),
            OrgNameError::TooLong
        );
    }
}
