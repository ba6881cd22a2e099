//! The Codat-compatible front door (issue 5): Codat's Bank Feeds API over the same core as the
//! Rutter-shaped door, so Codat's own SDK works against the hub with only `server_url` changed
//! (to `<hub>/codat`). A Codat company is a customer of the FI, a data connection is a
//! connection, a source account a bank feed account, a push operation a job.
//!
//! Authentication is the organisation's credential, `Authorization: Basic
//! base64(client_id:client_secret)`: the very header the Rutter-shaped door takes. Errors use
//! Codat's `ErrorMessage` shape (`error`), lists Codat's paging (`paging`).

mod add_accounts;
mod bank_credentials;
mod bank_feeds;
mod closed_days;
mod companies;
pub mod connections;
pub mod continuity;
pub mod error;
mod mapping;
pub mod openapi;
pub mod paging;
pub mod push;
mod push_list;
mod push_model;
mod responses;
mod source_accounts;
pub mod wire;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use bankfeeds_domain::customer::{Customer, CustomerId};
use bankfeeds_domain::{Org, OrgId};
use serde::de::DeserializeOwned;

use crate::http::auth::OrgAuth;
use crate::http::extract::{parse_json, read_json_body, require_object};
use crate::state::AppState;
use error::{CodatError, CodatResult};

pub fn router() -> Router<AppState> {
    let door = Router::new()
        .route("/companies", get(companies::list).post(companies::create))
        .route(
            "/companies/{company}",
            get(companies::get)
                .put(companies::replace)
                .patch(companies::update)
                .delete(companies::delete),
        )
        .route(
            "/companies/{company}/accessToken",
            get(companies::access_token),
        )
        .route(
            "/companies/{company}/connections",
            get(connections::list).post(connections::create),
        )
        .route(
            "/companies/{company}/connections/{connection}",
            get(connections::get)
                .patch(connections::unlink)
                .delete(connections::delete),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts",
            get(source_accounts::list)
                .post(add_accounts::create)
                .put(add_accounts::put),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/batch",
            axum::routing::post(source_accounts::create_batch),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/credentials",
            axum::routing::post(bank_credentials::generate)
                .delete(bank_credentials::delete),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/{account}",
            axum::routing::patch(source_accounts::update).delete(source_accounts::delete),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/{account}/continuity",
            get(continuity::get),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/{account}/closedDays",
            axum::routing::post(closed_days::declare),
        )
        .route(
            "/companies/{company}/connections/{connection}/connectionInfo/bankFeedAccounts/{account}/continuity/breaks/{break_id}/acknowledge",
            axum::routing::post(continuity::acknowledge),
        )
        .route(
            "/companies/{company}/connections/{connection}/push/bankAccounts/{account}/bankTransactions",
            axum::routing::post(push::create),
        )
        .route(
            "/companies/{company}/connections/{connection}/options/bankAccounts/{account}/bankTransactions",
            get(push_model::create_model),
        )
        .route(
            "/companies/{company}/connections/{connection}/bankFeedAccounts/mapping",
            get(mapping::get).post(mapping::create),
        )
        .route(
            "/companies/{company}/connections/{connection}/bankFeeds/otp",
            axum::routing::post(bank_feeds::generate_otp),
        )
        .route(
            "/companies/{company}/connections/{connection}/bankFeeds/info",
            get(bank_feeds::company_information),
        )
        .route("/companies/{company}/push", get(push_list::list))
        .route("/companies/{company}/push/{key}", get(push::get))
        .fallback(|| async {
            CodatError::not_found("ROUTE_NOT_FOUND", "no such operation in the Codat door")
        })
        .method_not_allowed_fallback(|| async {
            CodatError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this path does not take that method",
            )
        });
    Router::new().nest("/codat", door)
}

/// The calling organisation, by the same Basic credential as the Rutter-shaped door.
pub struct CodatAuth(pub Org);

impl FromRequestParts<AppState> for CodatAuth {
    type Rejection = CodatError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, CodatError> {
        let OrgAuth(org) = OrgAuth::from_request_parts(parts, state).await?;
        Ok(CodatAuth(org))
    }
}

/// A JSON object body, refused with a Codat `ErrorMessage` 400 when it does not fit. Anything
/// but an object is refused first (`INVALID_FIELD_TYPE`): serde reads a struct from an array
/// by position, so `["Acme"]` would otherwise pass for `{"name": "Acme"}`.
pub struct CodatJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CodatJson<T> {
    type Rejection = CodatError;

    async fn from_request(req: Request, state: &S) -> Result<Self, CodatError> {
        let bytes = read_json_body(req, state).await?;
        require_object(&bytes)?;
        Ok(CodatJson(parse_json(&bytes)?))
    }
}

/// A JSON body of any shape (a list, or a list or an object), for the few operations that
/// take one; refused with a Codat `ErrorMessage` 400 when it does not fit `T`.
pub struct CodatAnyJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CodatAnyJson<T> {
    type Rejection = CodatError;

    async fn from_request(req: Request, state: &S) -> Result<Self, CodatError> {
        let bytes = read_json_body(req, state).await?;
        Ok(CodatAnyJson(parse_json(&bytes)?))
    }
}

/// A JSON body kept as the text it came as (for the job), with its parsed form.
pub struct CodatRawJson<T> {
    pub value: T,
    pub raw: bankfeeds_domain::job::RawJson,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CodatRawJson<T> {
    type Rejection = CodatError;

    async fn from_request(req: Request, state: &S) -> Result<Self, CodatError> {
        let bytes = read_json_body(req, state).await?;
        require_object(&bytes)?;
        let value = parse_json(&bytes)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CodatError::bad_request("UNREADABLE_BODY", "the body is not UTF-8"))?;
        let raw = bankfeeds_domain::job::RawJson::parse(text)
            .map_err(|_| CodatError::bad_request("MALFORMED_JSON", "the body is not JSON"))?;
        Ok(CodatRawJson { value, raw })
    }
}

/// The organisation's live company with this id; 404 otherwise (also for a malformed id).
pub async fn company_of(state: &AppState, org: OrgId, raw: &str) -> CodatResult<Customer> {
    let id: CustomerId = raw
        .parse()
        .map_err(|_| CodatError::company_not_found(raw))?;
    state
        .store
        .get_customer(org, id)
        .await?
        .ok_or_else(|| CodatError::company_not_found(raw))
}

/// Codat's timestamps: RFC 3339 in UTC with a `Z`.
pub fn time(t: bankfeeds_domain::Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
