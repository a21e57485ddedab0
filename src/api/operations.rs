//! Operations: liveness, Prometheus metrics and the OpenAPI document.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::{blocking, ApiError, ApiState};

/// Liveness: answers ok.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the server is up", body = String, content_type = "text/plain")))]
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Prometheus metrics.
///
/// Prometheus text format: counters and histograms, plus queue depths read now.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "metrics in Prometheus text format", body = String,
        content_type = "text/plain")))]
pub(super) async fn metrics(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    blocking(move || {
        let (jobs, deliveries) = state.app.store().queue_depth();
        let text = crate::metrics::render(&crate::metrics::Gauges {
            remediation_queue_depth: jobs,
            notification_queue_depth: deliveries,
            stream_listeners: state.app.notifier().listeners(),
        })
        .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(([(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
    })
    .await
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document of every route",
        body = Object)))]
pub(super) async fn openapi() -> Response {
    // Built once: it depends on nothing but the code.
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| {
        super::document().to_json().unwrap_or_else(|e| {
            serde_json::json!({"error": "internal", "message": e.to_string()}).to_string()
        })
    });
    ([(CONTENT_TYPE, "application/json")], text.as_str()).into_response()
}
