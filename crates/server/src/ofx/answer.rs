//! Answering a signed-on request: the profile, the account list, bank and card statements, and
//! an error status for anything else, each transaction by its `TRNUID`.

use bankfeeds_domain::account::{AccountQuery, AccountSortField, BankAccountType, SortDirection};
use bankfeeds_domain::ofx::OfxInstitution;
use bankfeeds_domain::transaction::{Transaction, TransactionQuery, TransactionType};
use bankfeeds_domain::{BankFeedAccount, Org, Platform, Timestamp};
use bankfeeds_formats::ofx::{
    AccountInfo, IncTran, OfxRequest, Profile, RequestBody, ResponseWriter, Status, TrnEcho,
    TrnKind,
};
use bankfeeds_formats::{
    AccountKind, Balance, Balances, BankAccountType as OfxAccountType, Period, StatementAccount,
    StatementCurrency, StatementHeader, StatementLine,
};
use rust_decimal::Decimal;

use super::signon::Session;
use super::OfxHttpError;
use crate::state::AppState;

/// OFX 2003: no such account for this user.
const ACCOUNT_NOT_FOUND: u32 = 2003;
/// OFX 2027: `DTSTART` after `DTEND`.
const INVALID_DATE_RANGE: u32 = 2027;
/// OFX 2000: a request this server does not handle.
const GENERAL_ERROR: u32 = 2000;

type Writer = ResponseWriter<Vec<u8>>;

pub async fn answer_all(
    state: &AppState,
    org: &Org,
    session: &Session,
    request: &OfxRequest,
    w: &mut Writer,
) -> Result<(), OfxHttpError> {
    let now = state.clock.now();
    let config = state
        .store
        .get_fi_config(org.id, Platform::OfxDirectConnect)
        .await?;
    let fi = OfxInstitution::of(&org.name, config.as_ref());
    let accounts = match &session.connection {
        Some(c) => live_accounts(state, c.id).await?,
        None => Vec::new(),
    };
    let described: Vec<(BankFeedAccount, StatementAccount)> = accounts
        .into_iter()
        .map(|a| {
            let s = statement_account(&a, &fi);
            (a, s)
        })
        .collect();
    for t in request.in_response_order() {
        let echo = TrnEcho::from(t);
        match &t.body {
            RequestBody::Profile { .. } => w.profile(
                &echo,
                &Profile {
                    url: format!("{}/ofx/{}", state.public_base, org.id),
                    fi_name: fi.org.clone(),
                    addr1: "Online".into(),
                    city: "Online".into(),
                    state: "NA".into(),
                    postal_code: "00000".into(),
                    country: "USA".into(),
                    dtprofup: org.created_at,
                },
            )?,
            RequestBody::AccountInfo { .. } => w.account_info(
                &echo,
                now,
                described.iter().map(|(_, s)| AccountInfo { account: s }),
            )?,
            RequestBody::BankStatement {
                acct_id, inctran, ..
            } => {
                let found = described.iter().find(|(a, s)| {
                    a.bank_account_type == BankAccountType::Bank && s.account_number == *acct_id
                });
                statement(state, w, &echo, TrnKind::BankStatement, found, inctran, now).await?;
            }
            RequestBody::CardStatement { acct_id, inctran } => {
                let found = described.iter().find(|(a, s)| {
                    a.bank_account_type == BankAccountType::CreditCard
                        && s.account_number == *acct_id
                });
                statement(state, w, &echo, TrnKind::CardStatement, found, inctran, now).await?;
            }
            RequestBody::Unsupported { transaction, .. } => w.error(
                &TrnKind::of(&t.body),
                &echo,
                &Status::new(
                    GENERAL_ERROR,
                    format!("{transaction} is not supported by this server"),
                ),
            )?,
        }
    }
    Ok(())
}

async fn live_accounts(
    state: &AppState,
    connection: bankfeeds_domain::ConnectionId,
) -> Result<Vec<BankFeedAccount>, OfxHttpError> {
    let mut all = Vec::new();
    let mut query = AccountQuery {
        filters: Vec::new(),
        sort: AccountSortField::UpdatedAt,
        direction: SortDirection::Asc,
        after: None,
        limit: 500,
    };
    loop {
        let page = state.store.list_accounts(connection, &query).await?;
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

/// The account as OFX clients see it: `ACCTID` is the FI's `internal_bank_account_id` (unique
/// on the connection), `BANKID` the account's routing number or the institution's.
fn statement_account(a: &BankFeedAccount, fi: &OfxInstitution) -> StatementAccount {
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

/// One statement answer: 2003 for an account the user does not have, 2027 for a range that
/// ends before it starts; else the balances and, unless `INCLUDE=N` (or no `INCTRAN`), the
/// transactions posted in the range, which are then marked downloaded.
async fn statement(
    state: &AppState,
    w: &mut Writer,
    echo: &TrnEcho,
    kind: TrnKind,
    found: Option<&(BankFeedAccount, StatementAccount)>,
    inctran: &Option<IncTran>,
    now: Timestamp,
) -> Result<(), OfxHttpError> {
    let Some((account, described)) = found else {
        w.error(
            &kind,
            echo,
            &Status::new(ACCOUNT_NOT_FOUND, "Account not found"),
        )?;
        return Ok(());
    };
    let (dtstart, dtend, include) = match inctran {
        Some(i) => (i.dtstart, i.dtend, i.include),
        None => (None, None, false),
    };
    if let (Some(s), Some(e)) = (dtstart, dtend) {
        if s > e {
            w.error(
                &kind,
                echo,
                &Status::new(INVALID_DATE_RANGE, "DTSTART is after DTEND"),
            )?;
            return Ok(());
        }
    }
    let rows = if include {
        transactions(state, account, dtstart, dtend).await?
    } else {
        Vec::new()
    };
    let earliest = rows.first().map(|t| t.data.posted_at);
    let from = dtstart
        .or(earliest)
        .unwrap_or(account.created_at)
        .min(earliest.unwrap_or(now));
    let header = StatementHeader {
        account: described.clone(),
        period: Period {
            from,
            to: dtend.unwrap_or(now).min(now),
        },
        balances: balances(account, now),
    };
    let mut s = w.begin_statement(echo, &header, include)?;
    for t in &rows {
        s.line(&line(t))?;
    }
    s.finish()?;
    if include {
        let ids: Vec<_> = rows.iter().map(|t| t.id).collect();
        state.store.mark_downloaded(account.id, &ids, now).await?;
    }
    Ok(())
}

async fn transactions(
    state: &AppState,
    account: &BankFeedAccount,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<Vec<Transaction>, OfxHttpError> {
    let mut query = TransactionQuery {
        bank_feed_account_id: Some(account.id),
        posted_at_min: from,
        posted_at_max: to,
        platform_ingested: None,
        after: None,
        limit: 1000,
    };
    let mut all = Vec::new();
    loop {
        let page = state
            .store
            .list_transactions(account.connection_id, &query)
            .await?;
        query.after = page.items.last().map(|t| t.id);
        all.extend(page.items);
        if !page.has_more {
            return Ok(all);
        }
    }
}

/// `LEDGERBAL` is the FI's `current_balance` (0 when it has reported none: OFX requires one),
/// `AVAILBAL` its `available_balance` when reported; both as of the account's last change.
fn balances(a: &BankFeedAccount, now: Timestamp) -> Balances {
    let as_of = a.updated_at.min(now);
    Balances {
        opening: None,
        closing: Some(Balance {
            amount: a.current_balance.map_or(Decimal::ZERO, |b| b.as_decimal()),
            as_of,
        }),
        available: a.details.available_balance.map(|b| Balance {
            amount: b.as_decimal(),
            as_of,
        }),
    }
}

fn line(t: &Transaction) -> StatementLine {
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

/// The OFX `TRNTYPE` of a transaction type; `None` leaves it to the sign (CREDIT or DEBIT).
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
