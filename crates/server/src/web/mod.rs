//! What every HTML page of the hub shares: the headers they go out with, CSRF protection for
//! their forms, and the error page.
//!
//! The pages (link flow, sandbox platforms, demo bank) never send `Cross-Origin-Opener-Policy`:
//! the accounting platforms open the link flow in a popup and watch it (seed 003), which that
//! header would break. They send `Referrer-Policy: no-referrer`, so the URL the FI redirected to
//! (which carries the OTP) never leaks to another site, and `Cache-Control: no-store`.

pub mod csrf;
mod error;
mod feed;
pub mod landing;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bankfeeds_domain::Platform;

pub use csrf::{Csrf, Posted};
pub use error::PageError;
pub use feed::FeedRow;

/// The path segment of a platform's link pages.
pub fn platform_slug(p: Platform) -> &'static str {
    match p {
        Platform::IntuitBankFeeds => "intuit",
        Platform::Xero => "xero",
        Platform::SageIntacct => "sage-intacct",
        Platform::SageBusinessCloud => "sage-business-cloud",
        Platform::Netsuite => "netsuite",
        Platform::OfxDirectConnect => "ofx",
    }
}

/// The platform whose pages use this slug in their paths.
pub fn platform_by_slug(slug: &str) -> Option<Platform> {
    Platform::LINKED
        .into_iter()
        .find(|p| platform_slug(*p) == slug)
}

/// The frame of a page: its title and whose page it is (a sandbox platform, the hub's link
/// pages, or the demo bank), which sets the header and the accent colour.
pub struct Chrome {
    pub title: String,
    pub brand: String,
    /// A label next to the brand, e.g. "sandbox".
    pub tag: &'static str,
    pub accent: &'static str,
    /// Where the brand links; empty for no link.
    pub home: String,
}

impl Chrome {
    pub fn platform(platform: bankfeeds_domain::Platform, title: impl Into<String>) -> Self {
        let accent = match platform {
            Platform::IntuitBankFeeds => "#2e7d32",
            Platform::Xero => "#0b6fa4",
            Platform::SageIntacct | Platform::SageBusinessCloud => "#00773b",
            Platform::Netsuite => "#125580",
            Platform::OfxDirectConnect => "#2d3748",
        };
        Self {
            title: title.into(),
            brand: platform.display_name().to_owned(),
            tag: "sandbox",
            accent,
            home: format!("/sandbox/{}/", crate::web::platform_slug(platform)),
        }
    }

    pub fn hub(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            brand: "bankfeeds".to_owned(),
            tag: "",
            accent: "#2d3748",
            // The hub's own pages (link pages a customer of a real platform sees) link nowhere:
            // the sandbox may not be mounted, and the root is no page.
            home: String::new(),
        }
    }

    pub fn demo_bank(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            brand: "Demo Bank".to_owned(),
            tag: "a demo, not a real bank",
            accent: "#8a1538",
            home: "/demo-bank/".to_owned(),
        }
    }
}

/// An HTML page with the hub's page headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; \
             script-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// Renders a template as a 200 page.
pub fn render<T: Template>(page: &T) -> Result<Response, PageError> {
    render_status(StatusCode::OK, page)
}

pub fn render_status<T: Template>(status: StatusCode, page: &T) -> Result<Response, PageError> {
    let body = page.render().map_err(|e| {
        tracing::error!(error = %e, "page failed to render");
        PageError::internal()
    })?;
    Ok(html(status, body))
}

/// A `303 See Other` to `location`: where a form post or a redirect step sends the browser.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(_) => PageError::internal().into_response(),
    }
}

/// A cookie of the whole site (`Path=/`) under its two names: `__Host-…` when browsers reach
/// the hub over https, the plain one over http, where a `__Host-` cookie cannot be set.
pub struct SiteCookie {
    pub plain: &'static str,
    pub host: &'static str,
}

impl SiteCookie {
    /// The name this hub sets and reads.
    pub fn name(&self, state: &crate::state::AppState) -> &'static str {
        if state.secure_cookies() {
            self.host
        } else {
            self.plain
        }
    }
}

/// A `Set-Cookie` value for one of the hub's own cookies: `HttpOnly`, `SameSite=Lax`, `Secure`
/// when the hub is served over HTTPS. `max_age` `None` lasts the browser session; `Some(0)`
/// deletes the cookie.
pub fn cookie(
    state: &crate::state::AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if state.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("the hub's cookies are plain ASCII")
}

/// Reads a posted form (repeated fields, such as checkboxes, become lists). A NUL character,
/// raw or percent-encoded, is refused: no page asks for one, and PostgreSQL cannot store it.
pub fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    let invalid = || {
        PageError::bad_request(
            "INVALID_FORM",
            "The form was incomplete. Go back, reload the page and try again.",
        )
    };
    let nul = form_urlencoded::parse(body).any(|(k, v)| k.contains('\0') || v.contains('\0'));
    if nul {
        return Err(invalid());
    }
    serde_html_form::from_bytes(body).map_err(|_| invalid())
}

/// Money as a page shows it: the exact decimal with its currency's minor units (`1250.50`,
/// JPY `1000`; never rounded, never through a float) and its integer digits grouped in
/// thousands (`1,250.50`).
pub fn money(amount: rust_decimal::Decimal, currency: bankfeeds_domain::Currency) -> String {
    let text =
        bankfeeds_domain::money::with_minor_units(amount, currency.minor_units()).to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(text.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A date as a page shows it.
pub fn date(t: bankfeeds_domain::Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A moment as a page shows it (UTC).
pub fn moment(t: bankfeeds_domain::Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_every_digit_and_its_currencys_scale() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let c = |s: &str| bankfeeds_domain::Currency::from_code(s).unwrap();
        assert_eq!(money(d("12"), c("USD")), "12.00");
        assert_eq!(money(d("-0.5"), c("USD")), "-0.50");
        assert_eq!(money(d("1234.567"), c("USD")), "1,234.567");
        assert_eq!(money(d("0.00000001"), c("USD")), "0.00000001");
        assert_eq!(money(d("1000"), c("JPY")), "1,000");
        assert_eq!(money(d("-1250.5"), c("GBP")), "-1,250.50");
        assert_eq!(money(d("999"), c("BHD")), "999.000");
        assert_eq!(money(d("-123456789.1"), c("EUR")), "-123,456,789.10");
    }
}
