//! A feed's actions (`/console/accounts/{id}/{action}`): resend the link, unlink the feed,
//! delete the connection. `GET` is the confirmation page (what the action does, and a form
//! with the CSRF token); `POST` does it, through the store operations the API uses. Another
//! organisation's feed is a 404, as an unknown one is.
//!
//! Resending the link gives the operator a fresh link to send the customer (the hub sends no
//! email): a Codat QuickBooks connection's carries a new one-hour OTP (`link::codat::link_url`,
//! as `GET` of the connection on the Codat door does); the others point to the connection's
//! link page. Unlinking is the Codat door's account disconnect (the feed becomes `inactive`
//! in every platform company); deleting is the API's connection delete, its
//! `connection.deleted` event naming the operator.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId, Connection};
use bankfeeds_store::StoreError;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError, Posted};

/// What an operator can do to a feed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Resend,
    Unlink,
    Delete,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        match s {
            "resend-link" => Some(Action::Resend),
            "unlink" => Some(Action::Unlink),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Action::Resend => "resend-link",
            Action::Unlink => "unlink",
            Action::Delete => "delete",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Action::Resend => "Resend the link",
            Action::Unlink => "Unlink the feed",
            Action::Delete => "Delete the connection",
        }
    }

    fn explains(self) -> &'static str {
        match self {
            Action::Resend => {
                "A fresh link for the customer to start linking is made and shown to you to \
                 send them. For a QuickBooks connection made through the Codat door it carries \
                 a new one-time code valid for an hour; earlier links keep working until theirs \
                 expire."
            }
            Action::Unlink => {
                "The feed is taken off every accounting platform company that linked it: it \
                 becomes inactive and receives no transactions until the customer links it \
                 again. Its transactions stay stored."
            }
            Action::Delete => {
                "The connection and every feed of it are deleted: no platform lists or syncs \
                 them any more, and its access token stops working. This cannot be undone."
            }
        }
    }
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    account_id: String,
    feed: String,
    customer: String,
    platform: &'static str,
    action: &'static str,
    title: &'static str,
    explains: &'static str,
    danger: bool,
}

#[derive(Template)]
#[template(path = "console/link_sent.html")]
struct LinkPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    account_id: String,
    customer: String,
    link: String,
}

/// The organisation's live feed `id` and its connection; a 404 otherwise.
async fn feed_of(
    state: &AppState,
    session: &ConsoleSession,
    id: &str,
) -> Result<(BankFeedAccount, Connection), PageError> {
    let org = session.operator.org_id;
    let not_found = || PageError::not_found("feed");
    let id: BankFeedAccountId = id.parse().map_err(|_| not_found())?;
    let account = state
        .store
        .find_org_account(org, id)
        .await?
        .ok_or_else(not_found)?;
    let connection = state
        .store
        .get_connection(org, account.connection_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((account, connection))
}

fn action_of(raw: &str) -> Result<Action, PageError> {
    Action::parse(raw).ok_or_else(|| PageError::not_found("action"))
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path((id, action)): Path<(String, String)>,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let action = action_of(&action)?;
    let (account, connection) = feed_of(&state, &session, &id).await?;
    let page = web::render(&ConfirmPage {
        chrome: super::chrome(action.title()),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        account_id: account.id.to_string(),
        feed: account.details.name.clone().unwrap_or_default(),
        customer: connection.name.clone().unwrap_or_default(),
        platform: connection.platform.display_name(),
        action: action.slug(),
        title: action.title(),
        explains: action.explains(),
        danger: action != Action::Resend,
    })?;
    Ok(csrf.attach(page, &state))
}

pub(super) async fn act(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path((id, action)): Path<(String, String)>,
    Posted { csrf, .. }: Posted,
) -> Result<Response, PageError> {
    let action = action_of(&action)?;
    let (account, connection) = feed_of(&state, &session, &id).await?;
    let (org, operator) = (session.operator.org_id, session.operator.id);
    let now = state.clock.now();
    let gone = |e: StoreError| match e {
        // Deleted or unlinked meanwhile (another operator, the API): as if never there.
        StoreError::NotFound => PageError::not_found("feed"),
        other => other.into(),
    };
    match action {
        Action::Resend => {
            let link = match state
                .store
                .find_customer_connection(org, connection.id)
                .await?
            {
                Some(cc) => crate::link::codat::link_url(&state, &cc).await?,
                None => format!("{}/link/connections/{}", state.public_base, connection.id),
            };
            tracing::info!(org_id = %org, operator_id = %operator, connection_id = %connection.id,
                "console: link resent");
            let page = web::render(&LinkPage {
                chrome: super::chrome("The link to send"),
                csrf: csrf.token().to_owned(),
                email: session.operator.email,
                account_id: account.id.to_string(),
                customer: connection.name.unwrap_or_default(),
                link,
            })?;
            Ok(csrf.attach(page, &state))
        }
        Action::Unlink => {
            state
                .store
                .disconnect_account_by(connection.id, account.id, now, Some(operator))
                .await
                .map_err(gone)?;
            tracing::info!(org_id = %org, operator_id = %operator, bank_feed_account_id = %account.id,
                "console: feed unlinked");
            Ok(web::see_other(&format!("/console/accounts/{}", account.id)))
        }
        Action::Delete => {
            state
                .store
                .delete_connection_by(org, connection.id, now, Some(operator))
                .await
                .map_err(gone)?;
            tracing::info!(org_id = %org, operator_id = %operator, connection_id = %connection.id,
                "console: connection deleted");
            Ok(web::see_other("/console/connections"))
        }
    }
}
