//! "Connect to Xero": the consent pages of a live Xero connection (its organisation set XERO to
//! `live`). The customer's link page posts here; the hub stores a consent under the digest of a
//! random OAuth `state`, bound to this browser (`binding`), with a PKCE verifier sealed under
//! the key ring, and sends the browser to Xero's authorize endpoint (S256 challenge, scopes
//! `offline_access bankfeeds`). Xero sends it back to `/link/xero/live/callback`: the `state`
//! is used up once, from this browser, within fifteen minutes; the code is exchanged (with the
//! verifier) for tokens, which are sealed at once; `GET /connections` lists the Xero
//! organisations they cover. The customer then picks the organisation and the accounts
//! (`xero_choose.rs`). Xero's refusals (`access_denied`, a bad code) and an unreachable Xero
//! are pages with a code, never a 500; no token or code is ever logged or shown.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use bankfeeds_domain::live::consent::{
    pkce_challenge, ConsentRefusal, ConsentTenant, LiveConsent, CHOOSE_TTL,
};
use bankfeeds_domain::live::ConnectorMode;
use bankfeeds_domain::{Platform, Secret, SecretHash, SecretKind};

use super::binding;
use crate::sealed::{Keyring, SealContext};
use crate::state::AppState;
use crate::web::{self, PageError, Posted};
use crate::xero::worker::open_app;
use crate::xero::{tokens, AppCredentials, XeroError, SCOPES};

/// Holds the consent's `state` while the customer chooses (scoped to these pages).
pub(super) const COOKIE: &str = "bf_xero";
pub(super) const COOKIE_PATH: &str = "/link/xero/live";
pub const CALLBACK: &str = "/link/xero/live/callback";
pub const ORGANISATION: &str = "/link/xero/live/organisation";
pub const ACCOUNTS: &str = "/link/xero/live/accounts";

/// What the sealed PKCE verifier of the consent `state` is bound to.
fn verifier_context(state: &SecretHash) -> SealContext {
    SealContext::new("live.pkce", &state.to_hex())
}

pub(super) fn refused(r: ConsentRefusal) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        r.code(),
        "We could not connect to Xero",
        r.message(),
    )
}

fn xero_failed(e: &XeroError) -> PageError {
    tracing::warn!(error = %e, "link: Xero consent failed");
    match e {
        XeroError::ConsentRevoked | XeroError::Unauthorized | XeroError::Refused { .. } => {
            PageError::new(
                StatusCode::BAD_REQUEST,
                "XERO_CODE_REFUSED",
                "Xero did not accept this sign-in",
                "Xero refused the sign-in it sent back (it may have been used already or have expired). Start again from your bank's link page.",
            )
        }
        _ => PageError::new(
            StatusCode::BAD_GATEWAY,
            "XERO_UNAVAILABLE",
            "Xero did not answer",
            "Xero could not be reached just now. Try again in a few minutes from your bank's link page.",
        ),
    }
}

fn not_live() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "XERO_NOT_LIVE",
        "Not available",
        "Your bank does not deliver this connection to Xero directly.",
    )
}

/// Whether the connection's organisation delivers its Xero feeds live (with an app to use).
pub async fn is_live(
    state: &AppState,
    org: bankfeeds_domain::OrgId,
    platform: Platform,
) -> Result<bool, PageError> {
    if platform != Platform::Xero || state.keyring.is_none() {
        return Ok(false);
    }
    let connector = state.store.get_connector(org, Platform::Xero).await?;
    Ok(connector.is_some_and(|c| c.mode == ConnectorMode::Live && c.has_credentials()))
}

/// The key ring and the organisation's Xero app, or the page that says there is none.
pub(super) async fn app_of(
    state: &AppState,
    org: bankfeeds_domain::OrgId,
) -> Result<(&Keyring, AppCredentials), PageError> {
    let keyring = state.keyring.as_deref().ok_or_else(not_live)?;
    let app = open_app(&state.store, keyring, org)
        .await?
        .ok_or_else(not_live)?;
    Ok((keyring, app))
}

pub fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK}", state.public_base)
}

/// `POST /link/connections/{id}/xero`: "Connect to Xero".
pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    _: Posted,
) -> Result<Response, PageError> {
    let connection = super::connection_in_path(&state, &id).await?;
    if !is_live(&state, connection.org_id, connection.platform).await? {
        return Err(not_live());
    }
    let (keyring, app) = app_of(&state, connection.org_id).await?;
    let secret = Secret::generate(SecretKind::ConsentState);
    let verifier = Secret::generate(SecretKind::PkceVerifier);
    let (browser, binding_cookie) = binding::for_browser(&state, &headers);
    let now = state.clock.now();
    let consent = LiveConsent {
        state_hash: secret.hash(),
        org_id: connection.org_id,
        connection_id: connection.id,
        platform: Platform::Xero,
        browser,
        verifier_sealed: keyring.seal_text(
            &verifier_context(&secret.hash()),
            verifier.expose().as_bytes(),
        ),
        tokens_sealed: None,
        tenants: Vec::new(),
        tenant_id: None,
        created_at: now,
        called_back_at: None,
        completed_at: None,
    };
    state.store.create_live_consent(&consent).await?;
    let mut authorize = url::Url::parse(&format!(
        "{}/connect/authorize",
        state.xero.endpoints().identity
    ))
    .map_err(|_| PageError::internal())?;
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &redirect_uri(&state))
        .append_pair("scope", SCOPES)
        .append_pair("state", secret.expose())
        .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
        .append_pair("code_challenge_method", "S256");
    tracing::info!(connection_id = %connection.id, "link: customer sent to Xero for consent");
    let mut response = web::see_other(authorize.as_str());
    response
        .headers_mut()
        .append(header::SET_COOKIE, binding_cookie);
    Ok(response)
}

/// The callback's query: `code` and `state`, or Xero's `error`.
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn callback_params(query: Option<String>) -> Callback {
    let mut c = Callback {
        code: None,
        state: None,
        error: None,
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "code" => c.code = Some(v.into_owned()),
            "state" => c.state = Some(v.into_owned()),
            "error" => c.error = Some(v.into_owned()),
            _ => {}
        }
    }
    c
}

/// `GET /link/xero/live/callback?code=…&state=…` (or `?error=…`): Xero sends the customer back.
pub async fn callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let params = callback_params(query);
    if let Some(error) = params.error {
        tracing::info!(error, "link: Xero consent not given");
        return Err(if error == "access_denied" {
            PageError::new(
                StatusCode::BAD_REQUEST,
                "XERO_ACCESS_DENIED",
                "Xero was not connected",
                "You did not allow access in Xero, so nothing was connected. Start again from your bank's link page if you change your mind.",
            )
        } else {
            PageError::new(
                StatusCode::BAD_REQUEST,
                "XERO_CONSENT_FAILED",
                "Xero was not connected",
                "Xero could not complete the sign-in. Start again from your bank's link page.",
            )
        });
    }
    let (Some(code), Some(secret)) = (params.code, params.state) else {
        return Err(refused(ConsentRefusal::Unknown));
    };
    let secret = Secret::from_presented(secret);
    let browser = binding::presented(&state, &headers);
    let now = state.clock.now();
    let consent = state
        .store
        .use_live_consent(&secret.hash(), browser.as_ref(), now)
        .await?
        .map_err(|r| {
            tracing::info!(code = r.code(), "link: Xero callback refused");
            refused(r)
        })?;
    let (keyring, app) = app_of(&state, consent.org_id).await?;
    let verifier = keyring
        .open_text(
            &verifier_context(&consent.state_hash),
            &consent.verifier_sealed,
        )
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or_else(|| refused(ConsentRefusal::Unknown))?;
    let tokens = state
        .xero
        .exchange_code(&app, &code, &redirect_uri(&state), &verifier, now)
        .await
        .map_err(|e| xero_failed(&e))?;
    let tenants: Vec<ConsentTenant> = state
        .xero
        .connections(&tokens.access_token)
        .await
        .map_err(|e| xero_failed(&e))?
        .into_iter()
        .filter(|t| {
            t.tenant_type
                .as_deref()
                .is_none_or(|k| k.eq_ignore_ascii_case("ORGANISATION"))
        })
        .map(|t| ConsentTenant {
            name: t.tenant_name.clone().unwrap_or_else(|| t.tenant_id.clone()),
            id: t.tenant_id,
        })
        .collect();
    if tenants.is_empty() {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "NO_XERO_ORGANISATION",
            "No Xero organisation",
            "The Xero sign-in gave access to no organisation. Start again and pick the organisation whose books should receive the transactions.",
        ));
    }
    let sealed = tokens::seal(keyring, consent.connection_id, &tokens);
    state
        .store
        .grant_live_consent(&consent.state_hash, &sealed, &tenants)
        .await?;
    tracing::info!(connection_id = %consent.connection_id, organisations = tenants.len(), "link: Xero consent given");
    let mut response = web::see_other(ORGANISATION);
    response.headers_mut().append(
        header::SET_COOKIE,
        web::cookie(
            &state,
            COOKIE,
            secret.expose(),
            COOKIE_PATH,
            Some(CHOOSE_TTL.num_seconds()),
        ),
    );
    Ok(response)
}
