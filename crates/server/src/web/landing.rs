//! `/`: what a person who opens the hub's address in a browser sees instead of a JSON 404:
//! which hub this is and where everything is (the API contract, the probes, the OFX endpoint,
//! and the sandboxes when they are on). It shows nothing about any organisation.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{render, Chrome, PageError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    chrome: Chrome,
    version: &'static str,
    base: String,
    sandbox: bool,
}

pub async fn page(State(state): State<AppState>) -> Result<Response, PageError> {
    render(&LandingPage {
        chrome: Chrome::hub("Bank feeds hub"),
        version: env!("CARGO_PKG_VERSION"),
        base: state.public_base.to_string(),
        sandbox: state.sandbox.is_some(),
    })
}
