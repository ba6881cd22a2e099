//! Statement files on the Rutter-shaped door: `GET …/accounts/:id/statement` (one account, any
//! format) and `GET …/bank_feeds/statement` (every account of the connection, BAI2 or
//! CAMT.053). Refusals are JSON before the first byte; the file itself streams
//! (`crate::statements`).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::{BankFeedAccount, BankFeedAccountId};
use chrono::NaiveDate;
use serde::Deserialize;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::path::InPath;
use crate::http::responses::Unauthorized;
use crate::state::AppState;
use crate::statements::{self, DateRange, FileSettings, StatementError, StatementFormat};

/// Every statement file format (`format=`).
#[derive(ToSchema)]
#[schema(as = StatementFormat)]
#[allow(dead_code, non_camel_case_types)]
pub enum StatementFormatParam {
    qbo,
    qfx,
    ofx,
    csv,
    bai2,
    mt940,
    camt053,
}

/// The formats one file can hold a whole connection in.
#[derive(ToSchema)]
#[schema(as = ConnectionStatementFormat)]
#[allow(dead_code, non_camel_case_types)]
pub enum ConnectionFormatParam {
    bai2,
    camt053,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(required = true, min_length = 1)]
    pub access_token: Option<String>,
    /// The file format.
    #[param(required = true, value_type = StatementFormatParam)]
    pub format: Option<String>,
    /// First day covered (UTC, inclusive). Default: the account's first transaction.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day covered (UTC, inclusive); not before `from`. Default: now.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionStatementParams {
    /// The connection's access token.
    #[allow(dead_code)]
    #[param(required = true, min_length = 1)]
    pub access_token: Option<String>,
    /// The file format: only those that hold several accounts in one file.
    #[param(required = true, value_type = ConnectionFormatParam)]
    pub format: Option<String>,
    /// First day covered (UTC, inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day covered (UTC, inclusive); not before `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

fn parse_format(raw: Option<&str>) -> Result<StatementFormat, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::bad_request(
            "MISSING_QUERY_PARAMETER",
            "query parameter `format` is required",
        )
    })?;
    StatementFormat::parse(raw).ok_or_else(|| {
        ApiError::bad_request(
            "UNSUPPORTED_FORMAT",
            format!("format {raw:?} is not one of qbo, qfx, ofx, csv, bai2, mt940, camt053"),
        )
    })
}

fn parse_day(name: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    raw.map(|s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|d| (1900..=9999).contains(&chrono::Datelike::year(d)) && s.len() == 10)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_QUERY_PARAMETER",
                    format!("query parameter `{name}`: {s:?} is not a YYYY-MM-DD date"),
                )
            })
    })
    .transpose()
}

fn parse_range(from: Option<&str>, to: Option<&str>) -> Result<DateRange, ApiError> {
    let range = DateRange {
        from: parse_day("from", from)?,
        to: parse_day("to", to)?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f > t {
            return Err(ApiError::bad_request(
                "INVALID_DATE_RANGE",
                format!("`from` ({f}) is after `to` ({t})"),
            ));
        }
    }
    Ok(range)
}

impl From<StatementError> for ApiError {
    fn from(e: StatementError) -> Self {
        match e {
            StatementError::Store(e) => e.into(),
            e @ StatementError::BalanceNotReported { .. } => {
                ApiError::conflict("BALANCE_NOT_REPORTED", e.to_string())
            }
            e @ StatementError::AccountChanging { .. } => {
                ApiError::conflict("ACCOUNT_CHANGING", e.to_string())
            }
            e => ApiError::internal(&e),
        }
    }
}

/// Plans the file (refusing before any byte), then streams it from a task of its own.
async fn serve(
    state: AppState,
    auth: &ConnectionAuth,
    accounts: Vec<BankFeedAccount>,
    format: StatementFormat,
    range: DateRange,
    stem: &str,
) -> ApiResult<Response> {
    let settings = FileSettings {
        intu_bid: state.web_connect_intu_bid.to_string(),
    };
    let now = state.clock.now();
    let plan = statements::plan(
        &state.store,
        &auth.org,
        accounts,
        format,
        range,
        &settings,
        now,
    )
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        match statements::write(&state.store, &plan, &tx).await {
            Ok(()) | Err(StatementError::Gone) => {}
            Err(e) => {
                tracing::error!(error = %e, "statement file cut short");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
    });
    let name = statements::file_name(stem, &range, format);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}

/// Download one account's statement file: Web Connect (`qbo`, `qfx`, `ofx`), CSV, BAI2, MT940
/// or CAMT.053, covering `from` to `to`. The body streams. Balances: the FI's reported balances
/// (see the README, *Statement files*); formats that need one refuse with 409
/// `BALANCE_NOT_REPORTED` when the FI never sent `current_balance`.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/accounts/{id}/statement",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, StatementParams),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition`)",
            headers(("Content-Disposition" = String, description = "attachment; filename=…")),
            content(
                (String = "application/vnd.intu.qbo"),
                (String = "application/vnd.intu.qfx"),
                (String = "application/x-ofx"),
                (String = "text/csv"),
                (String = "text/plain"),
                (String = "application/xml"),
            )),
        (status = 400, description = "`UNSUPPORTED_FORMAT`, `INVALID_QUERY_PARAMETER`, `INVALID_DATE_RANGE`, `INVALID_ID`", body = crate::http::error::ErrorOut),
        (status = 409, description = "`BALANCE_NOT_REPORTED`: the format needs a balance the FI never reported; `ACCOUNT_CHANGING`: batches kept changing the account while its balances were worked out (retry)", body = crate::http::error::ErrorOut),
        (status = 410, description = "`BANK_FEED_ACCOUNT_NOT_FOUND`: no such account on this connection", body = crate::http::error::ErrorOut),
        Unauthorized,
    ),
)]
pub async fn account_statement(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
    Query(params): Query<StatementParams>,
) -> ApiResult<Response> {
    let format = parse_format(params.format.as_deref())?;
    let range = parse_range(params.from.as_deref(), params.to.as_deref())?;
    let account = super::accounts::find_account(&state, &auth, id).await?;
    let stem = account.internal_bank_account_id.clone();
    serve(state, &auth, vec![account], format, range, &stem).await
}

/// Download one file holding every account of the connection (BAI2 or CAMT.053, the formats
/// with room for several accounts), covering `from` to `to`. The body streams.
#[utoipa::path(
    get,
    path = "/versioned/accounting/bank_feeds/statement",
    tag = "bank feed accounts",
    params(ConnectionStatementParams),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition`)",
            headers(("Content-Disposition" = String, description = "attachment; filename=…")),
            content(
                (String = "text/plain"),
                (String = "application/xml"),
            )),
        (status = 400, description = "`UNSUPPORTED_FORMAT`, `FORMAT_NOT_MULTI_ACCOUNT`, `INVALID_QUERY_PARAMETER`, `INVALID_DATE_RANGE`", body = crate::http::error::ErrorOut),
        (status = 409, description = "`BALANCE_NOT_REPORTED`: an account has no balance and the format needs one; `NO_ACCOUNTS`: a CAMT.053 document needs at least one account; `ACCOUNT_CHANGING`: batches kept changing an account while its balances were worked out (retry)", body = crate::http::error::ErrorOut),
        Unauthorized,
    ),
)]
pub async fn connection_statement(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    Query(params): Query<ConnectionStatementParams>,
) -> ApiResult<Response> {
    let format = parse_format(params.format.as_deref())?;
    if !format.multi_account() {
        return Err(ApiError::bad_request(
            "FORMAT_NOT_MULTI_ACCOUNT",
            format!(
                "format {} holds one account; a connection's file is bai2 or camt053 (or ask each account's statement)",
                format.name()
            ),
        ));
    }
    let range = parse_range(params.from.as_deref(), params.to.as_deref())?;
    let accounts = statements::mapping::live_accounts(&state.store, auth.connection.id).await?;
    // The schema wants at least one `Stmt`; an empty BAI2 file (headers and trailers) is valid.
    if accounts.is_empty() && format == StatementFormat::Camt053 {
        return Err(ApiError::conflict(
            "NO_ACCOUNTS",
            "the connection has no accounts, and a CAMT.053 document needs at least one statement",
        ));
    }
    let stem = format!("connection-{}", auth.connection.id.as_uuid().simple());
    serve(state, &auth, accounts, format, range, &stem).await
}
