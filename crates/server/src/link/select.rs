//! The redirect back from the FI and the account selection that follows it.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bankfeeds_domain::link::{
    check_redirect, feed_choice, Challenge, ChoiceRefusal, LinkRefusal, MAX_ACCOUNTS_PER_LINK,
    SELECTION_TTL,
};
use bankfeeds_domain::{BankFeedAccountId, ConnectionId, Platform, Secret, Timestamp};
use chrono::{NaiveDate, TimeDelta};
use serde::Deserialize;

use super::binding;
use crate::state::AppState;
use crate::web::platform_slug;
use crate::web::{self, csrf, Chrome, Csrf, FeedRow, PageError, Posted};

/// Holds the challenge while the customer picks accounts.
const COOKIE: &str = "bf_link";

fn platform(slug: &str) -> Result<Platform, PageError> {
    web::platform_by_slug(slug).ok_or_else(|| PageError::not_found("platform"))
}

fn refused(r: LinkRefusal) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        r.code(),
        "We could not connect your bank",
        r.message(),
    )
}

pub(crate) fn link_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    web::cookie(state, COOKIE, value, "/link", Some(max_age))
}

/// The challenge and OTP the FI's redirect carries in its query string.
fn redirect_params(query: Option<String>) -> Result<(Secret, Secret), PageError> {
    let mut challenge = None;
    let mut otp = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "challenge" => challenge = Some(v.into_owned()),
            "otp" => otp = Some(v.into_owned()),
            _ => {}
        }
    }
    match (challenge, otp) {
        (Some(c), Some(o)) => Ok((Secret::from_presented(c), Secret::from_presented(o))),
        _ => Err(PageError::bad_request(
            "MISSING_PARAMETER",
            "This link is incomplete. Start connecting your bank again from your accounting software.",
        )),
    }
}

fn log_refusal(platform: Platform) -> impl Fn(LinkRefusal) -> PageError {
    move |r| {
        tracing::info!(
            code = r.code(),
            platform = platform.as_str(),
            "link: redirect refused"
        );
        refused(r)
    }
}

#[derive(Template)]
#[template(path = "link/redirect.html")]
struct ContinuePage {
    chrome: Chrome,
    bank: String,
    company: String,
    platform: &'static str,
    csrf: String,
}

/// `GET /link/{platform}/redirect?challenge=…&otp=…`: the FI sends the customer back here after
/// its login. A GET changes nothing (a mail scanner's prefetch must not use the OTP up): it
/// checks the challenge is this browser's and usable, and shows a "Continue" button.
///
/// Where the OTP waits between the GET and the POST: in the URL it came in, and nowhere else.
/// The form has no `action`, so the browser posts to this very address, query string and all;
/// the OTP is never written into the page (no hidden field), into a cookie, into a later URL
/// or into a log (request spans name the route, never the URI), and the hub keeps nothing of
/// it until the POST. Keeping it server-side instead would mean storing a pending OTP on a
/// GET, a change a prefetch could make.
pub async fn redirect_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let (challenge, _otp) = redirect_params(query)?;
    let found = state.store.get_challenge(&challenge.hash()).await?;
    let browser = binding::presented(&state, &headers);
    check_redirect(
        found.as_ref(),
        platform,
        browser.as_ref(),
        state.clock.now(),
    )
    .map_err(log_refusal(platform))?;
    let found = found.ok_or_else(|| refused(LinkRefusal::UnknownChallenge))?;
    let company = state
        .store
        .get_company(found.company_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let bank = state
        .store
        .get_fi_config(found.org_id, platform)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_else(|| "your bank".to_owned());
    let page = web::render(&ContinuePage {
        chrome: Chrome::platform(platform, "Continue connecting your bank"),
        bank,
        company,
        platform: platform.display_name(),
        csrf: csrf.token().to_owned(),
    })?;
    Ok(csrf.attach(page, &state))
}

/// `POST /link/{platform}/redirect?challenge=…&otp=…`: "Continue". From the browser that
/// started the link (its binding cookie) with the page's CSRF token, the OTP is used and the
/// challenge bound (or refused, changing nothing); then on to the selection.
pub async fn redirect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    _: Posted,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let (challenge, otp) = redirect_params(query)?;
    let browser = binding::presented(&state, &headers);
    let bound = state
        .store
        .bind_challenge(
            &challenge.hash(),
            platform,
            browser.as_ref(),
            &otp.hash(),
            state.clock.now(),
        )
        .await?
        .map_err(log_refusal(platform))?;
    tracing::info!(
        company_id = %bound.company_id,
        connection_id = ?bound.connection_id,
        "link: bank login confirmed"
    );
    let mut response = web::see_other(&format!("/link/{}/select", platform_slug(platform)));
    response.headers_mut().append(
        header::SET_COOKIE,
        link_cookie(&state, challenge.expose(), SELECTION_TTL.num_seconds()),
    );
    Ok(response)
}

/// The challenge in the cookie, if the customer is mid-selection on this platform.
async fn bound_challenge(
    state: &AppState,
    platform: Platform,
    headers: &HeaderMap,
) -> Result<(Secret, Challenge), PageError> {
    let secret = csrf::cookie(headers, COOKIE)
        .map(Secret::from_presented)
        .ok_or_else(|| refused(LinkRefusal::NotBound))?;
    let challenge = state
        .store
        .get_challenge(&secret.hash())
        .await?
        .ok_or_else(|| refused(LinkRefusal::UnknownChallenge))?;
    if challenge.platform != platform {
        return Err(refused(LinkRefusal::WrongPlatform));
    }
    match (challenge.bound_at, challenge.completed_at) {
        (_, Some(_)) => Err(refused(LinkRefusal::UsedChallenge)),
        (Some(bound), None) if bound + SELECTION_TTL > state.clock.now() => Ok((secret, challenge)),
        _ => Err(refused(LinkRefusal::NotBound)),
    }
}

/// The account selection and start date, the same page for the sandboxes and live Xero.
#[derive(Template)]
#[template(path = "link/select.html")]
pub(super) struct SelectPage {
    pub chrome: Chrome,
    /// Where the choice is posted.
    pub action: String,
    pub bank: String,
    pub company: String,
    pub accounts: Vec<FeedRow>,
    pub start_date: String,
    pub today: String,
    pub csrf: String,
}

/// How far back the start date is suggested: a month, which every platform accepts.
const SUGGESTED_HISTORY: TimeDelta = TimeDelta::days(30);

impl SelectPage {
    /// The page offering `connection`'s linkable accounts, with a start date suggested
    /// `SUGGESTED_HISTORY` back.
    pub(super) async fn new(
        state: &AppState,
        connection: ConnectionId,
        chrome: Chrome,
        action: String,
        bank: String,
        company: String,
        csrf: &Csrf,
    ) -> Result<Self, PageError> {
        let accounts = super::linkable_accounts(state, connection).await?;
        let now = state.clock.now();
        Ok(SelectPage {
            chrome,
            action,
            bank,
            company,
            accounts: accounts.iter().map(FeedRow::new).collect(),
            start_date: web::date(now - SUGGESTED_HISTORY),
            today: web::date(now),
            csrf: csrf.token().to_owned(),
        })
    }
}

pub async fn select_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let (_, challenge) = bound_challenge(&state, platform, &headers).await?;
    let connection = challenge
        .connection_id
        .ok_or_else(|| refused(LinkRefusal::NotBound))?;
    let company = state
        .store
        .get_company(challenge.company_id)
        .await?
        .ok_or_else(|| PageError::not_found("company"))?;
    let bank = state
        .store
        .get_fi_config(challenge.org_id, platform)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_else(|| "Your bank".to_owned());
    let chrome = Chrome::platform(platform, "Choose accounts");
    let action = format!("/link/{}/select", platform_slug(platform));
    let page = SelectPage::new(
        &state,
        connection,
        chrome,
        action,
        bank,
        company.name,
        &csrf,
    );
    Ok(csrf.attach(web::render(&page.await?)?, &state))
}

#[derive(Deserialize)]
pub struct SelectForm {
    #[serde(default)]
    pub account: Vec<String>,
    pub start_date: String,
}

pub(super) fn start_of(date: &str, now: Timestamp) -> Result<Timestamp, PageError> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
        PageError::bad_request("INVALID_START_DATE", "Enter the feed start date as a date.")
    })?;
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    if start > now {
        return Err(PageError::bad_request(
            "START_DATE_IN_FUTURE",
            "The feed start date cannot be in the future.",
        ));
    }
    if day.year_ce().1 < 1900 {
        return Err(PageError::bad_request(
            "INVALID_START_DATE",
            "Enter the feed start date as a date.",
        ));
    }
    Ok(start)
}

use chrono::Datelike;

impl SelectForm {
    /// The accounts ticked, checked by the domain's rule for a choice of feeds (at least one,
    /// at most `MAX_ACCOUNTS_PER_LINK`, each once); `unknown` is the page for a value that is
    /// not an account id.
    pub(super) fn chosen(
        &self,
        unknown: impl FnOnce() -> PageError,
    ) -> Result<Vec<BankFeedAccountId>, PageError> {
        if self.account.len() > MAX_ACCOUNTS_PER_LINK {
            return Err(too_many_accounts());
        }
        let ids = self
            .account
            .iter()
            .map(|a| a.parse::<BankFeedAccountId>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| unknown())?;
        feed_choice(&ids).map_err(|refusal| match refusal {
            ChoiceRefusal::NoAccounts => PageError::bad_request(
                "NO_ACCOUNTS_SELECTED",
                "Choose at least one account to connect. Go back and try again.",
            ),
            ChoiceRefusal::TooManyAccounts => too_many_accounts(),
        })
    }
}

pub(super) fn too_many_accounts() -> PageError {
    PageError::bad_request(
        "TOO_MANY_ACCOUNTS",
        format!("Choose at most {MAX_ACCOUNTS_PER_LINK} accounts at once. Go back and try again."),
    )
}

/// The customer's choice: the chosen accounts become active feeds of the company.
pub async fn select(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Posted { form, .. }: Posted<SelectForm>,
) -> Result<Response, PageError> {
    let platform = platform(&slug)?;
    let (secret, challenge) = bound_challenge(&state, platform, &headers).await?;
    let ids = form.chosen(|| refused(LinkRefusal::UnknownAccount))?;
    let now = state.clock.now();
    let start = start_of(&form.start_date, now)?;
    let linked = state
        .store
        .complete_link(&secret.hash(), &ids, Some(start), now)
        .await?
        .map_err(refused)?;
    tracing::info!(company_id = %challenge.company_id, feeds = linked.len(), "link: feeds chosen");
    let mut response = web::see_other(&format!(
        "/sandbox/{}/companies/{}",
        platform_slug(platform),
        challenge.company_id
    ));
    response
        .headers_mut()
        .append(header::SET_COOKIE, link_cookie(&state, "", 0));
    Ok(response)
}
