//! Store rows as `bankfeeds_formats` sees them: one mapping from accounts and transactions to
//! statement accounts and lines, shared by every door that writes statements (OFX Direct
//! Connect answers, statement files), and the page-by-page reads they stream from.

use bankfeeds_domain::account::{AccountQuery, AccountSortField, BankAccountType, SortDirection};
use bankfeeds_domain::ofx::OfxInstitution;
use bankfeeds_domain::transaction::{Transaction, TransactionQuery, TransactionType};
use bankfeeds_domain::{BankFeedAccount, ConnectionId, Timestamp};
use bankfeeds_formats::{
    AccountKind, BankAccountType as OfxAccountType, StatementAccount, StatementCurrency,
    StatementLine,
};
use bankfeeds_store::{DynStore, StoreResult};

/// Rows per store read while streaming: one page is all a statement holds in memory.
pub const PAGE: u32 = 1000;

/// Every account of the connection, oldest change first.
pub async fn live_accounts(
    store: &DynStore,
    connection: ConnectionId,
) -> StoreResult<Vec<BankFeedAccount>> {
    let mut all = Vec::new();
    let mut query = AccountQuery {
        filters: Vec::new(),
        sort: AccountSortField::UpdatedAt,
        direction: SortDirection::Asc,
        after: None,
        limit: 500,
    };
    loop {
        let page = store.list_accounts(connection, &query).await?;
        query.after = page
            .items
            .last()
            .map(|a| bankfeeds_domain::account::AccountSortKey::of(a, query.sort));
        all.extend(page.items);
        if !page.has_more {
            return Ok(all);
        }
    }
}

/// The account's transactions posted in `[from, to]` (either end open), in storage order, one
/// page of [`PAGE`] rows per call of [`TransactionPages::next_page`].
pub struct TransactionPages<'a> {
    store: &'a DynStore,
    connection: ConnectionId,
    query: TransactionQuery,
    done: bool,
}

impl<'a> TransactionPages<'a> {
    pub fn new(
        store: &'a DynStore,
        account: &BankFeedAccount,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Self {
        TransactionPages {
            store,
            connection: account.connection_id,
            query: TransactionQuery {
                bank_feed_account_id: Some(account.id),
                posted_at_min: from,
                posted_at_max: to,
                platform_ingested: None,
                after: None,
                limit: PAGE,
            },
            done: false,
        }
    }

    /// The next page; `None` once every row has been returned.
    pub async fn next_page(&mut self) -> StoreResult<Option<Vec<Transaction>>> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .list_transactions(self.connection, &self.query)
            .await?;
        self.query.after = page.items.last().map(|t| t.id);
        self.done = !page.has_more || page.items.is_empty();
        Ok(Some(page.items))
    }
}

/// The account as statements name it: the number is the FI's `internal_bank_account_id`
/// (unique on the connection), a bank account's routing number its own or the institution's.
pub fn statement_account(a: &BankFeedAccount, fi: &OfxInstitution) -> StatementAccount {
    let kind = match a.bank_account_type {
        BankAccountType::Bank => AccountKind::Bank {
            routing: a
                .details
                .routing_number
                .clone()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| fi.bank_id.clone()),
            account_type: OfxAccountType::Checking,
        },
        BankAccountType::CreditCard => AccountKind::Card,
    };
    StatementAccount {
        account_id: a.id.to_string(),
        kind,
        account_number: a.internal_bank_account_id.clone(),
        currency: StatementCurrency::new(a.currency.code(), a.currency.minor_units()),
        name: a.details.name.clone(),
    }
}

pub fn line(t: &Transaction) -> StatementLine {
    let d = &t.data;
    StatementLine {
        transaction_id: d.transaction_id.clone(),
        posted_at: d.posted_at,
        transaction_date: d.transaction_date.map(|t| t.date_naive()),
        amount: d.amount.as_decimal(),
        description: d.description.clone().unwrap_or_default(),
        payee: d.payee.clone(),
        memo: d.memo.clone(),
        kind: d.transaction_type.and_then(trntype).map(str::to_owned),
        check_number: None,
        running_balance: None,
    }
}

/// The OFX `TRNTYPE` of a transaction type (the names every writer's type mapping starts
/// from); `None` leaves it to the sign.
fn trntype(t: TransactionType) -> Option<&'static str> {
    Some(match t {
        TransactionType::Credit => "CREDIT",
        TransactionType::Debit => "DEBIT",
        TransactionType::Fee => "FEE",
        TransactionType::Deposit => "DEP",
        TransactionType::Transfer => "XFER",
        TransactionType::Payment => "PAYMENT",
        TransactionType::Interest => "INT",
        TransactionType::Dividend => "DIV",
        TransactionType::ServiceCharge => "SRVCHG",
        TransactionType::Atm => "ATM",
        TransactionType::Pos => "POS",
        TransactionType::Check => "CHECK",
        TransactionType::DirectDebit => "DIRECTDEBIT",
        TransactionType::Cash => "CASH",
        TransactionType::RepeatPayment => "REPEATPMT",
        TransactionType::Hold | TransactionType::Unknown => return None,
    })
}
