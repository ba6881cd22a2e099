//! Answering a signed-on request: the profile, the account list, bank and card statements, and
//! an error status for anything else, each transaction by its `TRNUID`.

use bankfeeds_domain::account::BankAccountType;
use bankfeeds_domain::ofx::OfxInstitution;
use bankfeeds_domain::ofx_trnuid::{TrnuidUse, TrnuidVerdict};
use bankfeeds_domain::{BankFeedAccount, Org, Platform, Timestamp};
use bankfeeds_formats::ofx::{
    AccountInfo, IncTran, OfxRequest, Profile, RequestBody, ResponseWriter, Status, TrnEcho,
    TrnKind, TrnRequest,
};
use bankfeeds_formats::{Balance, Balances, Period, StatementAccount, StatementHeader};
use rust_decimal::Decimal;

use super::signon::Session;
use super::OfxHttpError;
use crate::state::AppState;
use crate::statements::mapping::{line, live_accounts, statement_account, TransactionPages};

/// OFX 2003: no such account for this user.
const ACCOUNT_NOT_FOUND: u32 = 2003;
/// OFX 2027: `DTSTART` after `DTEND`.
const INVALID_DATE_RANGE: u32 = 2027;
/// OFX 2019: this `TRNUID` was used before for a different request.
const DUPLICATE_REQUEST: u32 = 2019;
/// The statement's status message when the FI has reported no balance for the account.
pub const NO_BALANCE: &str = "The bank has not reported this account's balance: LEDGERBAL is 0";
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
        Some(c) => live_accounts(&state.store, c.id).await?,
        None => Vec::new(),
    };
    let described: Vec<(BankFeedAccount, StatementAccount)> = accounts
        .into_iter()
        .map(|a| {
            let s = statement_account(&a, &fi);
            (a, s)
        })
        .collect();
    let order = request.in_response_order();
    let verdicts = trnuid_verdicts(state, org, session, request, &order, now).await?;
    for (t, verdict) in order.into_iter().zip(verdicts) {
        let echo = TrnEcho::from(t);
        if verdict == TrnuidVerdict::Reused {
            w.error(
                &TrnKind::of(&t.body),
                &echo,
                &Status::new(
                    DUPLICATE_REQUEST,
                    "This TRNUID was used before for a different request",
                ),
            )?;
            continue;
        }
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

/// What each transaction's `TRNUID` is for the signed-on user (see
/// `bankfeeds_domain::ofx_trnuid`), in `order`; an anonymous profile request remembers none.
async fn trnuid_verdicts(
    state: &AppState,
    org: &Org,
    session: &Session,
    request: &OfxRequest,
    order: &[&TrnRequest],
    now: Timestamp,
) -> Result<Vec<TrnuidVerdict>, OfxHttpError> {
    if session.connection.is_none() {
        return Ok(vec![TrnuidVerdict::New; order.len()]);
    }
    let uses: Vec<TrnuidUse> = order
        .iter()
        .map(|t| TrnuidUse::new(&t.trnuid, &t.body.canonical()))
        .collect();
    Ok(state
        .store
        .record_ofx_trnuids(org.id, &request.signon.user_id, &uses, now)
        .await?)
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
    let mut rows = Vec::new();
    if include {
        let mut pages = TransactionPages::new(&state.store, account, dtstart, dtend);
        while let Some(page) = pages.next_page().await? {
            rows.extend(page);
        }
    }
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
    // OFX requires a LEDGERBAL and a client shows no HTTP error, so a balance the FI never
    // reported is a 0 the statement's STATUS explains (the statement files refuse instead:
    // 409 BALANCE_NOT_REPORTED).
    let status = match account.current_balance {
        Some(_) => Status::OK,
        None => Status::new(0, NO_BALANCE),
    };
    let mut s = w.begin_statement_with(echo, &header, include, &status)?;
    for t in &rows {
        s.line(&line(t))?;
    }
    s.finish()?;
    if include {
        let ids: Vec<_> = rows.iter().map(|t| t.id).collect();
        let oldest_new = rows
            .iter()
            .filter(|t| !t.platform_ingested)
            .map(|t| t.created_at)
            .min();
        let marked = state.store.mark_downloaded(account.id, &ids, now).await?;
        state.metrics.record_ingested(
            Platform::OfxDirectConnect,
            marked,
            oldest_new.map(|t| crate::metrics::seconds_between(t, now)),
        );
    }
    Ok(())
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
