//! The FI's business customers as an entity of their own: what Codat's API calls a company.
//! The Rutter-shaped door leaves them implicit (one connection per customer); the Codat door
//! creates them first and hangs connections off them.

use std::collections::BTreeMap;

use crate::{OrgId, Timestamp};

crate::define_id!(
    /// A business customer of an FI (a Codat "company").
    CustomerId
);

/// Longest name, description and tag value kept.
pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_TAG: usize = 100;
pub const MAX_TAGS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    /// The FI's own labels, e.g. `{"region": "uk"}`.
    pub tags: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection seen from its customer: whether it was unlinked, and what the platform has
/// linked of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerConnection {
    pub connection: crate::Connection,
    pub customer_id: CustomerId,
    pub unlinked_at: Option<Timestamp>,
    /// How many of its live accounts are active feeds in the platform.
    pub active_feeds: u32,
    /// The latest `last_synced_at` of its accounts.
    pub last_synced_at: Option<Timestamp>,
}

/// How long a company access token lasts (Codat's `expiresIn`).
pub const ACCESS_TOKEN_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A short-lived token for one customer (Codat's company `accessToken`): it opens the
/// customer's link page with working links (fresh OTPs) in it. Stored hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerToken {
    pub hash: crate::SecretHash,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl CustomerToken {
    pub fn generate(customer: &Customer, now: Timestamp) -> (CustomerToken, crate::Secret) {
        let secret = crate::Secret::generate(crate::SecretKind::CompanyToken);
        (
            CustomerToken {
                hash: secret.hash(),
                org_id: customer.org_id,
                customer_id: customer.id,
                created_at: now,
                expires_at: now + ACCESS_TOKEN_TTL,
            },
            secret,
        )
    }

    /// Whether it opens `customer`'s page at `now`.
    pub fn opens(&self, customer: CustomerId, now: Timestamp) -> bool {
        self.customer_id == customer && now < self.expires_at
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    #[error("`name` must have at least one letter, digit or allowed symbol and at most {MAX_NAME} characters")]
    Name,
    #[error("`description` must be at most {MAX_DESCRIPTION} characters")]
    Description,
    #[error("`tags` may hold at most {MAX_TAGS} entries, each key 1 to {MAX_TAG} characters and each value at most {MAX_TAG}")]
    Tags,
}

impl CustomerError {
    pub fn field(&self) -> &'static str {
        match self {
            CustomerError::Name => "name",
            CustomerError::Description => "description",
            CustomerError::Tags => "tags",
        }
    }
}

/// A company name as Codat keeps it: letters, digits, whitespace and `-',&@.?!`; other
/// characters are dropped, as Codat silently drops them.
pub fn clean_name(raw: &str) -> Result<String, CustomerError> {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || "-',&@.?!".contains(*c))
        .collect();
    let name = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(CustomerError::Name);
    }
    Ok(name)
}

pub fn check_description(d: Option<&str>) -> Result<Option<String>, CustomerError> {
    match d.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(CustomerError::Description),
        other => Ok(other.map(str::to_owned)),
    }
}

pub fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), CustomerError> {
    let ok = tags.len() <= MAX_TAGS
        && tags.iter().all(|(k, v)| {
            (1..=MAX_TAG).contains(&k.chars().count()) && v.chars().count() <= MAX_TAG
        });
    if ok {
        Ok(())
    } else {
        Err(CustomerError::Tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_codats_characters_only() {
        assert_eq!(clean_name("Bank of Dave").unwrap(), "Bank of Dave");
        assert_eq!(
            clean_name("  Acme, Inc. <script>  ").unwrap(),
            "Acme, Inc. script"
        );
        assert_eq!(clean_name("Café Zürich").unwrap(), "Café Zürich");
        assert_eq!(clean_name("O'Brien & Sons!").unwrap(), "O'Brien & Sons!");
        assert_eq!(clean_name("<>{}"), Err(CustomerError::Name));
        assert_eq!(clean_name(&"a".repeat(201)), Err(CustomerError::Name));
    }

    #[test]
    fn tags_are_bounded() {
        let mut t = BTreeMap::new();
        t.insert("region".to_owned(), "uk".to_owned());
        assert!(check_tags(&t).is_ok());
        t.insert("long".to_owned(), "x".repeat(101));
        assert_eq!(check_tags(&t), Err(CustomerError::Tags));
        let mut empty_key = BTreeMap::new();
        empty_key.insert(String::new(), "v".to_owned());
        assert_eq!(check_tags(&empty_key), Err(CustomerError::Tags));
    }
}
