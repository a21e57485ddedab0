//! A page that cannot be shown: an HTML error page with the status that says why, or a
//! redirect to sign-in.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::page::Layout;
use crate::app::AppError;
use crate::query::QueryError;

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to sign-in, then back to this path.
    SignIn(String),
    /// Shown as an error page with this status.
    Status(StatusCode, String),
}

impl PageError {
    /// 400: the request is not acceptable as given.
    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::Status(StatusCode::BAD_REQUEST, message.into())
    }

    /// 403: not allowed.
    pub fn forbidden(message: impl Into<String>) -> PageError {
        PageError::Status(StatusCode::FORBIDDEN, message.into())
    }

    /// 404: nothing there.
    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError::Status(StatusCode::NOT_FOUND, message.into())
    }

    /// 500: our fault.
    pub fn internal(message: impl Into<String>) -> PageError {
        PageError::Status(StatusCode::INTERNAL_SERVER_ERROR, message.into())
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Query(QueryError::Ambiguous { .. }) => StatusCode::CONFLICT,
            AppError::Query(QueryError::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Query(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::Settings(_) | AppError::Ingest(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Conflict(_) | AppError::Run(_) => StatusCode::CONFLICT,
            AppError::Rule(crate::rules::RuleError::NotFound { .. }) => StatusCode::NOT_FOUND,
            AppError::Rule(crate::rules::RuleError::Invalid { .. }) => StatusCode::BAD_REQUEST,
            AppError::Cloud(_) => StatusCode::BAD_GATEWAY,
            AppError::Store(_) | AppError::Rule(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "console page failed");
        }
        PageError::Status(status, e.to_string())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::internal(format!("cannot render the page: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn(next) => {
                let next = percent_encoding::utf8_percent_encode(
                    &next,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                Redirect::to(&format!("/sign-in?next={next}")).into_response()
            }
            PageError::Status(status, message) => {
                let page = ErrorPage {
                    layout: Layout::anonymous("Error"),
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("Error"),
                    message: &message,
                };
                match page.render() {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(_) => (status, message).into_response(),
                }
            }
        }
    }
}
