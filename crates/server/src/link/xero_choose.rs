//! After Xero's consent: the customer picks the Xero organisation (of those the consent
//! covers), then the accounts and start date on the same selection page the sandboxes use.
//! Completing stores the tokens (sealed) and the organisation as the connection's, makes the
//! accounts active feeds and leaves their feed connections to the live worker (`pending`).
//! Each step is checked against the consent in the `bf_xero` cookie and this browser's binding.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use bankfeeds_domain::live::consent::{check_choosing, ConsentRefusal, ConsentTenant, LiveConsent};
use bankfeeds_domain::{Platform, Secret};
use serde::Deserialize;

use super::binding;
use super::select::{start_of, SelectForm, SelectPage};
use super::xero::{app_of, refused, ACCOUNTS, COOKIE, COOKIE_PATH, ORGANISATION};
use crate::state::AppState;
use crate::web::{self, csrf, Chrome, Csrf, PageError, Posted};
use crate::xero::tokens;

/// The consent in the cookie, checked for this browser (`need_tenant`: picked already).
async fn consent(
    state: &AppState,
    headers: &HeaderMap,
    need_tenant: bool,
) -> Result<(Secret, LiveConsent), PageError> {
    let secret = csrf::cookie(headers, COOKIE)
        .map(Secret::from_presented)
        .ok_or_else(|| refused(ConsentRefusal::Unknown))?;
    let found = state.store.get_live_consent(&secret.hash()).await?;
    let browser = binding::presented(state, headers);
    check_choosing(
        found.as_ref(),
        browser.as_ref(),
        need_tenant,
        state.clock.now(),
    )
    .map_err(refused)?;
    Ok((secret, found.expect("checked")))
}

async fn bank_name(state: &AppState, c: &LiveConsent) -> Result<String, PageError> {
    Ok(state
        .store
        .get_fi_config(c.org_id, Platform::Xero)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_else(|| "your bank".to_owned()))
}

#[derive(Template)]
#[template(path = "link/xero_organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    action: &'static str,
    bank: String,
    tenants: Vec<ConsentTenant>,
    csrf: String,
}

/// `GET /link/xero/live/organisation`.
pub async fn organisation_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let (_, c) = consent(&state, &headers, false).await?;
    let page = web::render(&OrganisationPage {
        chrome: Chrome::platform(Platform::Xero, "Choose the Xero organisation"),
        action: ORGANISATION,
        bank: bank_name(&state, &c).await?,
        tenants: c.tenants,
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

#[derive(Deserialize)]
pub struct OrganisationForm {
    tenant: String,
}

/// `POST /link/xero/live/organisation`: the organisation picked; on to the accounts.
pub async fn choose_organisation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted { form, .. }: Posted<OrganisationForm>,
) -> Result<Response, PageError> {
    let (secret, _) = consent(&state, &headers, false).await?;
    let browser = binding::presented(&state, &headers);
    state
        .store
        .choose_live_tenant(
            &secret.hash(),
            browser.as_ref(),
            &form.tenant,
            state.clock.now(),
        )
        .await?
        .map_err(refused)?;
    Ok(web::see_other(ACCOUNTS))
}

fn tenant_name(c: &LiveConsent) -> String {
    c.tenants
        .iter()
        .find(|t| Some(&t.id) == c.tenant_id.as_ref())
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// `GET /link/xero/live/accounts`: the selection page, as in the sandbox flow.
pub async fn accounts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let (_, c) = consent(&state, &headers, true).await?;
    let chrome = Chrome::platform(Platform::Xero, "Choose accounts");
    let (bank, company) = (bank_name(&state, &c).await?, tenant_name(&c));
    let page = SelectPage::new(
        &state,
        c.connection_id,
        chrome,
        ACCOUNTS.into(),
        bank,
        company,
        &csrf,
    );
    Ok(csrf.attach(web::render(&page.await?)?, &state))
}

#[derive(Template)]
#[template(path = "link/xero_done.html")]
struct DonePage {
    chrome: Chrome,
    bank: String,
    organisation: String,
    feeds: usize,
}

/// `POST /link/xero/live/accounts`: the choice; the consent is complete.
pub async fn choose_accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted { form, .. }: Posted<SelectForm>,
) -> Result<Response, PageError> {
    let (secret, c) = consent(&state, &headers, true).await?;
    let ids = form.chosen(|| refused(ConsentRefusal::UnknownAccount))?;
    let now = state.clock.now();
    let start = start_of(&form.start_date, now)?;
    let (keyring, _) = app_of(&state, c.org_id).await?;
    let expires = c
        .tokens_sealed
        .as_deref()
        .and_then(|t| tokens::open(keyring, c.connection_id, t))
        .map(|t| t.access_expires_at)
        .ok_or_else(|| refused(ConsentRefusal::NotReady))?;
    let browser = binding::presented(&state, &headers);
    let feeds = state
        .store
        .complete_live_consent(
            &secret.hash(),
            browser.as_ref(),
            &ids,
            Some(start),
            expires,
            now,
        )
        .await?
        .map_err(refused)?;
    tracing::info!(connection_id = %c.connection_id, feeds = feeds.len(), "link: live Xero feeds chosen");
    let mut page = web::render(&DonePage {
        chrome: Chrome::platform(Platform::Xero, "Connected to Xero"),
        bank: bank_name(&state, &c).await?,
        organisation: tenant_name(&c),
        feeds: feeds.len(),
    })?;
    page.headers_mut().append(
        header::SET_COOKIE,
        web::cookie(&state, COOKIE, "", COOKIE_PATH, Some(0)),
    );
    Ok(page)
}
