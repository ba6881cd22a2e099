//! The error page: what a person sees when a page cannot be shown or a form is refused. Like
//! the API's errors it carries a stable code; a server fault shows no internals.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankfeeds_store::StoreError;

#[derive(Debug, Clone)]
pub struct PageError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    e: &'a PageError,
}

impl PageError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not found",
            format!("There is no such {what}."),
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "That did not work", message)
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "CSRF_TOKEN_INVALID",
            "Please try again",
            "This form expired or was not sent from this site. Go back, reload the page and try again.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong",
            "Something went wrong on our side. Please try again in a moment.",
        )
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PageError::not_found("page"),
            other => {
                tracing::error!(error = %other, "page failed on the store");
                PageError::internal()
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = ErrorPage { e: &self }
            .render()
            .unwrap_or_else(|_| format!("{}: {}", self.code, self.message));
        super::html(self.status, body)
    }
}
