//! Codat's source accounts over the core's bank feed accounts: which model (V2 or v1) an
//! account was created with, its Codat account type, its status, and what an update may change
//! (seed 001 and Codat's docs: the name always, the balance only while not connected, the
//! status only to `disconnected`).
//!
//! The Codat-only fields (model, account type, sort code, routing and account info) are kept
//! in the account's `platform_data` under `codat`, so the Rutter-shaped door shows them too.

use serde_json::{json, Value};

use crate::account::{BankAccountType, BankFeedAccount, FeedStatus};

/// The V2 model's account types.
pub const V2_ACCOUNT_TYPES: [&str; 5] =
    ["checking", "savings", "loan", "creditCard", "prepaidCard"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    V1,
    V2,
}

/// The core's account type for a Codat one (V2's enum, or v1's free text such as "Credit").
pub fn bank_account_type(codat: Option<&str>) -> BankAccountType {
    match codat.map(str::to_ascii_lowercase).as_deref() {
        Some("creditcard" | "prepaidcard" | "credit" | "credit card" | "card") => {
            BankAccountType::CreditCard
        }
        _ => BankAccountType::Bank,
    }
}

/// `pending` until a platform links it, `connected` while linked, `disconnected` after.
pub fn status(a: &BankFeedAccount) -> &'static str {
    if a.feed_status == FeedStatus::Active {
        "connected"
    } else if a.transaction_start_date.is_some() {
        "disconnected"
    } else {
        "pending"
    }
}

/// The Codat fields kept in `platform_data.codat`.
pub fn codat_data(a: &BankFeedAccount) -> &Value {
    a.platform_data
        .as_ref()
        .and_then(|d| d.get("codat"))
        .unwrap_or(&Value::Null)
}

pub fn model(a: &BankFeedAccount) -> Model {
    if codat_data(a)["model"] == "v1" {
        Model::V1
    } else {
        Model::V2
    }
}

/// Stores the Codat-only fields in `platform_data.codat`, keeping anything else there.
pub fn set_codat_data(a: &mut BankFeedAccount, data: Value) {
    let mut pd = a.platform_data.take().unwrap_or_else(|| json!({}));
    if !pd.is_object() {
        pd = json!({});
    }
    pd["codat"] = data;
    a.platform_data = Some(pd);
}

/// Why an update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefusal {
    #[error("the balance can only change while the source account is not connected")]
    BalanceWhileConnected,
    #[error("a source account's status can only be set to \"disconnected\", and only once it is connected")]
    Status,
}

impl UpdateRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            UpdateRefusal::BalanceWhileConnected => "BALANCE_LOCKED",
            UpdateRefusal::Status => "INVALID_STATUS",
        }
    }
}

/// What an update asks, after the fields Codat does not let change are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub account_name: Option<String>,
    pub balance: Option<crate::Amount>,
    /// Whether to disconnect the account.
    pub disconnect: bool,
}

/// Checks an update against the account as stored: `status` other than its current one may
/// only be `disconnected`; a balance different from the stored one only while not connected.
pub fn check_update(
    a: &BankFeedAccount,
    account_name: Option<&str>,
    balance: Option<crate::Amount>,
    requested_status: Option<&str>,
) -> Result<Update, UpdateRefusal> {
    let current = status(a);
    let disconnect = match requested_status {
        None => false,
        Some(s) if s == current => false,
        // Only a connected account can be disconnected; a pending one was never linked.
        Some("disconnected") if current == "connected" => true,
        Some(_) => return Err(UpdateRefusal::Status),
    };
    let balance = balance.filter(|b| Some(*b) != a.current_balance);
    if balance.is_some() && current == "connected" {
        return Err(UpdateRefusal::BalanceWhileConnected);
    }
    Ok(Update {
        account_name: account_name.map(str::to_owned),
        balance,
        disconnect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Door, PlatformProfile};
    use crate::{Clock, ConnectionId, Currency, OrgId, Platform, SystemClock};

    fn account() -> BankFeedAccount {
        let profile = PlatformProfile::for_platform(Platform::IntuitBankFeeds, Door::Codat);
        let mut a = BankFeedAccount::new(
            OrgId::new(),
            ConnectionId::new(),
            &profile,
            "ac-001".into(),
            BankAccountType::Bank,
            Currency::from_code("USD").unwrap(),
            SystemClock.now(),
        );
        a.current_balance = Some("4002".parse().unwrap());
        a
    }

    #[test]
    fn statuses_follow_the_feed() {
        let mut a = account();
        assert_eq!(status(&a), "pending");
        a.feed_status = FeedStatus::Active;
        a.transaction_start_date = Some(SystemClock.now());
        assert_eq!(status(&a), "connected");
        a.feed_status = FeedStatus::Inactive;
        assert_eq!(status(&a), "disconnected");
    }

    #[test]
    fn updates_keep_to_codats_rules() {
        let mut a = account();
        let same = Some("4002.00".parse().unwrap());
        let other = Some("99.99".parse().unwrap());
        let u = check_update(&a, Some("New name"), other, Some("pending")).unwrap();
        assert_eq!((u.balance, u.disconnect), (other, false));
        assert_eq!(
            check_update(&a, None, None, Some("connected")),
            Err(UpdateRefusal::Status)
        );
        a.feed_status = FeedStatus::Active;
        a.transaction_start_date = Some(SystemClock.now());
        assert_eq!(
            check_update(&a, None, other, None),
            Err(UpdateRefusal::BalanceWhileConnected)
        );
        assert_eq!(
            check_update(&a, None, same, None).unwrap().balance,
            None,
            "unchanged is fine"
        );
        assert!(
            check_update(&a, None, None, Some("disconnected"))
                .unwrap()
                .disconnect
        );
    }

    #[test]
    fn account_types_map_onto_the_core() {
        assert_eq!(
            bank_account_type(Some("creditCard")),
            BankAccountType::CreditCard
        );
        assert_eq!(
            bank_account_type(Some("Credit")),
            BankAccountType::CreditCard
        );
        assert_eq!(bank_account_type(Some("savings")), BankAccountType::Bank);
        assert_eq!(bank_account_type(None), BankAccountType::Bank);
    }

    #[test]
    fn codat_fields_live_beside_other_platform_data() {
        let mut a = account();
        a.platform_data = Some(json!({"theirs": 1}));
        set_codat_data(&mut a, json!({"model": "v1", "accountType": "Debit"}));
        assert_eq!(a.platform_data.as_ref().unwrap()["theirs"], 1);
        assert_eq!(model(&a), Model::V1);
        assert_eq!(codat_data(&a)["accountType"], "Debit");
    }
}
