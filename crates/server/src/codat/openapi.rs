//! The Codat door's own OpenAPI document (`/codat/openapi.json`), generated from the wire types
//! its handlers answer with (`codat::wire`) and their annotations. The committed copy
//! (`codat-openapi.json`) is checked against it by a test, as `openapi.json` is for the
//! Rutter-shaped door.

use utoipa::OpenApi;

use super::wire;
use super::{
    add_accounts, bank_credentials, bank_feeds, closed_days, companies, connections, continuity,
    mapping, push, push_list, push_model, source_accounts,
};
use crate::openapi::BasicAuth;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bankfeeds: the Codat door",
        description = "Codat's Bank Feeds API, served by a self-hosted bankfeeds hub under `/codat` \
(point Codat's SDK's `server_url` at `<hub>/codat`). Authenticate with HTTP Basic \
`client_id:client_secret`. Errors are Codat's `ErrorMessage` with the hub's stable `errorCode`."
    ),
    paths(
        companies::create,
        companies::list,
        companies::get,
        companies::replace,
        companies::update,
        companies::delete,
        companies::access_token,
        connections::create,
        connections::list,
        connections::get,
        connections::unlink,
        connections::delete,
        source_accounts::list,
        add_accounts::create,
        add_accounts::put,
        source_accounts::create_batch,
        source_accounts::update,
        source_accounts::delete,
        bank_credentials::generate,
        bank_credentials::delete,
        continuity::get,
        continuity::acknowledge,
        closed_days::declare,
        push::create,
        push::get,
        push_model::create_model,
        push_list::list,
        mapping::get,
        mapping::create,
        bank_feeds::generate_otp,
        bank_feeds::company_information,
    ),
    components(schemas(wire::ErrorMessage)),
    modifiers(&BasicAuth),
    tags(
        (name = "Companies", description = "The FI's business customers"),
        (name = "Connections", description = "One data connection per company and accounting platform"),
        (name = "Source accounts", description = "The FI's accounts a company may connect"),
        (name = "Transactions", description = "Bank transactions pushed to a source account, and the push operations"),
        (name = "Account mapping", description = "Which platform account a source account feeds (Xero, NetSuite)"),
        (name = "Bank feeds", description = "The connection's OTP and linked company"),
    )
)]
pub struct CodatDoc;

/// The document as pretty JSON with a trailing newline, exactly as committed.
pub fn document() -> String {
    crate::openapi::pretty::<CodatDoc>()
}
