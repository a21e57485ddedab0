//! Errors as JSON `{error, message}` with the status that says what went wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::{AppError, IngestError};
use crate::auth::{Denied, Role};
use crate::query::QueryError;
use crate::remediation::RunError;
use crate::rules::RuleError;
use crate::settings::SettingsError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "badRequest",
            message: message.into(),
        }
    }

    /// 404: nothing there.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "notFound",
            message: message.into(),
        }
    }

    /// 502: a cloud API the request depends on failed.
    pub fn bad_gateway(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_GATEWAY,
            code: "cloudError",
            message: message.into(),
        }
    }

    /// 409: conflicts with what is stored.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: message.into(),
        }
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "methodNotAllowed",
            message: message.into(),
        }
    }

    /// 413: the body is over the limit.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "tooLarge",
            message: message.into(),
        }
    }

    /// 422: a rule that cannot be used (not a component, wrong world, bad settings).
    pub fn invalid_rule(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalidRule",
            message: message.into(),
        }
    }

    /// 500: our fault.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: message.into(),
        }
    }

    /// 403: the server's configuration does not allow this, whatever the token.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }

    /// 401 or 403.
    pub fn denied(denied: Denied, needed: Role) -> ApiError {
        match denied {
            Denied::Unauthenticated => ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: "unauthorized",
                message: "a valid bearer token is required (Authorization: Bearer …)".into(),
            },
            Denied::Forbidden(role) => ApiError {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: format!(
                    "this needs the {} role; the token has {}",
                    needed.as_str(),
                    role.as_str()
                ),
            },
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(e) => e.into(),
            AppError::Rule(e) => e.into(),
            AppError::Settings(e) => e.into(),
            AppError::Query(e) => e.into(),
            AppError::Run(RunError::Store(e)) => e.into(),
            AppError::Run(e) => ApiError::conflict(e.to_string()),
            AppError::Ingest(IngestError::Store(e)) => e.into(),
            AppError::Ingest(e) => ApiError::bad_request(e.to_string()),
            AppError::Conflict(message) => ApiError::conflict(message),
            AppError::NotFound(message) => ApiError::not_found(message),
            AppError::Invalid(message) => ApiError::bad_request(message),
            AppError::Cloud(e) => ApiError::bad_gateway(e.to_string()),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Store(store) => store.into(),
            QueryError::Ambiguous { .. } => ApiError {
                status: StatusCode::CONFLICT,
                code: "ambiguous",
                message: e.to_string().replace(
                    "pass --account and/or --region",
                    "pass account and/or region",
                ),
            },
            other => ApiError::not_found(other.to_string()),
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        match e {
            RuleError::Invalid { .. } => ApiError::invalid_rule(e.to_string()),
            RuleError::NotFound { .. } => ApiError::not_found(e.to_string()),
            RuleError::Exists { .. } | RuleError::Managed { .. } => {
                ApiError::conflict(e.to_string())
            }
            RuleError::Store(store) => store.into(),
            RuleError::Engine(_) => ApiError::internal(e.to_string()),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid { .. } => ApiError::bad_request(e.to_string()),
            SettingsError::Rule { key, error: source } => {
                let mut error = ApiError::from(source);
                error.message = format!("{key}: {}", error.message);
                if error.status == StatusCode::UNPROCESSABLE_ENTITY {
                    // Settings that do not fit the rule are bad input, not a bad rule.
                    error.status = StatusCode::BAD_REQUEST;
                    error.code = "badRequest";
                }
                error
            }
            SettingsError::Store(store) => store.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error while serving a request");
        ApiError::internal(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::internal(format!("cannot encode the answer: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}
