//! The calls that act on one connection, selected by its `access_token`: bank feed accounts,
//! transactions and the link OTP.

use futures_util::Stream;
use reqwest::Method;

use crate::jobs::{PendingJob, Pushed};
use crate::wire::accounts::{
    AccountCreateIn, AccountDeletedOut, AccountEnvelopeOut, AccountGetOut, AccountIn,
    AccountListOut, AccountOut, ResponseMode,
};
use crate::wire::connections::{ConnectionGetOut, ConnectionStatusOut};
use crate::wire::otp::OtpEnvelopeOut;
use crate::wire::transactions::{
    BatchIn, TransactionGetOut, TransactionListOut, TransactionOut, TransactionsCreateAnswer,
};
use crate::{decode, paging, Call, Client, Result};

const ACCOUNTS: &str = "/versioned/accounting/bank_feeds/accounts";
const TRANSACTIONS: &str = "/versioned/accounting/bank_feeds/transactions";

/// One connection of the organisation. Cheap to clone.
#[derive(Clone)]
pub struct ConnectionClient {
    client: Client,
    token: String,
}

/// Which transactions [`ConnectionClient::list_transactions`] lists; all of the connection's
/// by default.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub bank_feed_account_id: Option<String>,
    /// Posted at or after (RFC 3339 or YYYY-MM-DD).
    pub posted_at_min: Option<String>,
    /// Posted at or before.
    pub posted_at_max: Option<String>,
    pub platform_ingested: Option<bool>,
    /// Rows per page (1 to 1000; the hub's default is 50).
    pub page_size: Option<u32>,
}

impl ConnectionClient {
    pub(crate) fn new(client: Client, token: &str) -> Self {
        ConnectionClient {
            client,
            token: token.to_owned(),
        }
    }

    fn call<'a>(&self, method: Method, path: &'a str) -> Call<'a> {
        Call::new(method, path).query("access_token", self.token.clone())
    }

    /// The connection the token selects.
    pub async fn get(&self) -> Result<ConnectionGetOut> {
        let call = self.call(Method::GET, "/versioned/connections/access_token");
        self.client.call(call).await
    }

    pub async fn status(&self) -> Result<ConnectionStatusOut> {
        let call = self.call(Method::GET, "/versioned/connections/status");
        self.client.call(call).await
    }

    /// Publish a bank feed account on the connection.
    pub async fn create_account(&self, account: AccountIn) -> Result<AccountEnvelopeOut> {
        let body = AccountCreateIn {
            bank_feed_account: account,
            response_mode: None,
        };
        self.client
            .call(self.call(Method::POST, ACCOUNTS).json(&body))
            .await
    }

    /// The connection's accounts, page after page.
    pub fn list_accounts(&self) -> impl Stream<Item = Result<AccountOut>> + Send + 'static {
        let query = vec![("access_token", self.token.clone())];
        paging::items::<AccountListOut>(self.client.clone(), ACCOUNTS.to_owned(), query)
    }

    pub async fn get_account(&self, id: &str) -> Result<AccountGetOut> {
        let path = format!("{ACCOUNTS}/{id}");
        self.client.call(self.call(Method::GET, &path)).await
    }

    /// Change the fields in `fields` (the `bank_feed_account` object of the PATCH body;
    /// `null` clears a field).
    pub async fn update_account(
        &self,
        id: &str,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountEnvelopeOut> {
        let path = format!("{ACCOUNTS}/{id}");
        let body = serde_json::json!({ "bank_feed_account": fields });
        self.client
            .call(self.call(Method::PATCH, &path).json(&body))
            .await
    }

    pub async fn delete_account(&self, id: &str) -> Result<AccountDeletedOut> {
        let path = format!("{ACCOUNTS}/{id}");
        self.client.call(self.call(Method::DELETE, &path)).await
    }

    /// Push a batch (1 to 1000 transactions of one account), `prefer_sync`, with a fresh
    /// idempotency key: [`Pushed::stored`] gives the stored transactions either way.
    pub async fn push(&self, batch: &BatchIn) -> Result<Pushed> {
        self.push_with(batch, ResponseMode::PreferSync, None).await
    }

    /// [`ConnectionClient::push`] in `mode`, with the caller's `Idempotency-Key` if given (a
    /// key derived from the batch makes a rerun of the same push a replay, not a second push).
    pub async fn push_with(
        &self,
        batch: &BatchIn,
        mode: ResponseMode,
        idempotency_key: Option<String>,
    ) -> Result<Pushed> {
        // `TransactionsCreateIn` borrowing the batch, so a retry does not copy it.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            bank_feed_transactions: &'a BatchIn,
            response_mode: ResponseMode,
        }
        let body = Body {
            bank_feed_transactions: batch,
            response_mode: mode,
        };
        let call = self
            .call(Method::POST, TRANSACTIONS)
            .json(&body)
            .key(idempotency_key);
        let answer = self.client.send(call).await?;
        let replayed = answer.replayed;
        Ok(match decode(answer.status, &answer.body)? {
            TransactionsCreateAnswer::Stored(answer) => Pushed::Stored { answer, replayed },
            TransactionsCreateAnswer::Queued(queued) => Pushed::Queued {
                job: PendingJob::new(self.client.clone(), queued.async_response),
                replayed,
            },
        })
    }

    /// The connection's transactions that `filter` selects, page after page.
    pub fn list_transactions(
        &self,
        filter: &TransactionFilter,
    ) -> impl Stream<Item = Result<TransactionOut<'static>>> + Send + 'static {
        let mut query = vec![("access_token", self.token.clone())];
        let f = filter.clone();
        let fields = [
            ("bank_feed_account_id", f.bank_feed_account_id),
            ("posted_at_min", f.posted_at_min),
            ("posted_at_max", f.posted_at_max),
            (
                "platform_ingested",
                f.platform_ingested.map(|b| b.to_string()),
            ),
            ("limit", f.page_size.map(|n| n.to_string())),
        ];
        query.extend(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        paging::items::<TransactionListOut<'static>>(
            self.client.clone(),
            TRANSACTIONS.to_owned(),
            query,
        )
    }

    /// A transaction by the hub's id (not the FI's `transaction_id`).
    pub async fn get_transaction(&self, id: &str) -> Result<TransactionGetOut<'static>> {
        let path = format!("{TRANSACTIONS}/{id}");
        self.client.call(self.call(Method::GET, &path)).await
    }

    /// A statement file (`format`: qbo, qfx, ofx, csv, bai2, mt940, camt053) of one account,
    /// or with `account` `None` of the whole connection (bai2, camt053); `from`/`to` are days
    /// (YYYY-MM-DD, inclusive). The answer is handed back unread: stream it with
    /// `chunk()`.
    pub async fn statement(
        &self,
        account: Option<&str>,
        format: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<reqwest::Response> {
        let path = match account {
            Some(id) => format!("{ACCOUNTS}/{id}/statement"),
            None => "/versioned/accounting/bank_feeds/statement".to_owned(),
        };
        let mut call = self.call(Method::GET, &path).query("format", format);
        if let Some(from) = from {
            call = call.query("from", from);
        }
        if let Some(to) = to {
            call = call.query("to", to);
        }
        self.client.stream(call).await
    }

    /// A one-time password for the link flow (cancels any earlier one).
    pub async fn create_otp(&self) -> Result<OtpEnvelopeOut> {
        let call = self.call(Method::POST, "/versioned/accounting/bank_feeds/otp");
        self.client.call(call).await
    }
}
