//! The OpenAPI 3.1 document, generated from the handlers' annotations. The committed copy
//! (`openapi.json` at the repository root) is checked against this by a test.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::error;
use crate::{health, rutter};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bankfeeds",
        description = "A self-hosted bank feeds hub. The `/versioned` API is shaped like Rutter's bank feeds API: \
authenticate with HTTP Basic `client_id:client_secret`, select a connection with `?access_token=`. \
Errors are `{error_type, error_code, error_message}` with stable upper-snake codes."
    ),
    paths(
        health::healthz,
        health::readyz,
        rutter::connections::create_connection,
        rutter::connections::list_connections,
        rutter::connections::get_connection,
        rutter::connections::get_connection_status,
        rutter::connections::delete_connection,
        rutter::connections::rotate_access_token,
        rutter::ofx_credentials::create_ofx_credentials,
        rutter::ofx_credentials::delete_ofx_credentials,
        rutter::accounts::create_account,
        rutter::accounts::list_accounts,
        rutter::accounts::get_account,
        rutter::accounts::update_account,
        rutter::accounts::delete_account,
        rutter::statement::account_statement,
        rutter::statement::connection_statement,
        rutter::continuity::get_continuity,
        rutter::live_feed::restart,
        rutter::continuity::acknowledge_break,
        rutter::gaps::declare_closed_days,
        rutter::transactions::create_transactions,
        rutter::transactions::list_transactions,
        rutter::transactions::get_transaction,
        rutter::jobs::get_job,
        rutter::fi_configs::put_fi_config,
        rutter::fi_configs::list_fi_configs,
        rutter::fi_configs::get_fi_config,
        rutter::fi_configs::delete_fi_config,
        rutter::connectors::put_connector,
        rutter::connectors::get_connector,
        rutter::otp::create_otp,
        rutter::webhooks::create_webhook,
        rutter::webhooks::list_webhooks,
        rutter::webhooks::get_webhook,
        rutter::webhooks::update_webhook,
        rutter::webhooks::rotate_webhook_secret,
        rutter::webhooks::delete_webhook,
        rutter::webhooks::deliveries::recover_webhook,
        rutter::webhooks::deliveries::list_attempts,
        rutter::events::list_events,
    ),
    components(schemas(
        error::ErrorOut,
        rutter::jobs::AsyncEnvelopeOut,
        rutter::statement::StatementFormatParam,
        rutter::statement::ConnectionFormatParam,
    )),
    modifiers(&BasicAuth, &OptionalDeleteBody),
    tags(
        (name = "connections", description = "One connection per business customer and accounting platform"),
        (name = "bank feed accounts", description = "The FI's bank and card accounts on a connection"),
        (name = "bank feed transactions", description = "Posted transactions, pushed in batches of 1 to 1000 for one account"),
        (name = "jobs", description = "Outcomes of asynchronous writes"),
        (name = "bank feeds configuration", description = "How the FI appears in each platform and where its login page is"),
        (name = "link", description = "The link flow's one-time passwords"),
        (name = "webhooks", description = "Where the organisation's events are sent, signed (Standard Webhooks)"),
        (name = "events", description = "The organisation's events feed, for polling and catching up"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

/// HTTP Basic, the scheme every operation of a door is called with, and the requirement of
/// each operation but the probes (tag `health`), which answer anyone: declared here once rather
/// than on each operation (one that declares its own `security` keeps it).
pub(crate) struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
        });
        for op in operations {
            let probe = op.tags.iter().flatten().any(|t| t == "health");
            if !probe && op.security.is_none() {
                let basic = SecurityRequirement::new("basic", Vec::<String>::new());
                op.security = Some(vec![basic]);
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_id as the user name, client_secret as the password",
                    ))
                    .build(),
            ),
        );
    }
}

/// A DELETE of a bank feed account may carry a body (`response_mode`) or none. utoipa marks a
/// body of a plain type required and one of `Option<T>` nullable (`oneOf null`), which client
/// generators then send as JSON `null` or fail on; the document says "optional, an object".
pub(crate) struct OptionalDeleteBody;

impl Modify for OptionalDeleteBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let body = openapi
            .paths
            .paths
            .get_mut("/versioned/accounting/bank_feeds/accounts/{id}")
            .and_then(|item| item.delete.as_mut())
            .and_then(|op| op.request_body.as_mut());
        if let Some(body) = body {
            body.required = Some(utoipa::openapi::Required::False);
            body.description =
                Some("Optional: `{\"response_mode\": \"async\"}` answers with the job".into());
        }
    }
}

/// The document as pretty JSON with a trailing newline, exactly as committed.
pub fn document() -> String {
    pretty::<ApiDoc>()
}

/// A door's document as it is committed: pretty JSON with a trailing newline.
pub(crate) fn pretty<D: OpenApi>() -> String {
    let mut json = D::openapi().to_pretty_json().expect("OpenAPI serialises");
    json.push('\n');
    json
}
