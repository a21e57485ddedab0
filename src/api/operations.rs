//! Operations: Prometheus metrics and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::{blocking, ApiError, ApiState};

/// Prometheus text format: counters and histograms, plus queue depths read now.
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

/// The OpenAPI document, generated from the endpoint table.
pub(super) async fn openapi() -> Json<Value> {
    Json(super::openapi::document(&super::endpoints()))
}
