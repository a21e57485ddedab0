//! `POST /v1/ingest`: configuration items and CloudTrail events in any shape, gzip too.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{blocking, ApiError, ApiState, Body, Query};

/// Options of `POST /v1/ingest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct IngestParams {
    /// Name used in per-record error locations (default "request body").
    source: Option<String>,
    /// Judge the new versions with the rules (default true).
    evaluate: Option<bool>,
}

/// Ingests a body in any shape `conftrail ingest` reads; answers once it is durable.
pub(super) async fn ingest(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<IngestParams>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty body: send configuration items or CloudTrail events",
        ));
    }
    let started = Instant::now();
    let source = params
        .source
        .clone()
        .unwrap_or_else(|| "request body".to_string());
    let body = match crate::ingest::decompress(body.to_vec(), std::path::Path::new(&source)) {
        Ok(bytes) => bytes,
        Err(e @ crate::ingest::FileError::TooLarge { .. }) => {
            return Err(ApiError::too_large(e.to_string()))
        }
        Err(e) => return Err(ApiError::bad_request(e.to_string())),
    };
    let evaluate = params.evaluate.unwrap_or(true);
    let report = blocking(move || Ok(state.app.ingest_bytes(&source, &body, evaluate)?)).await?;
    crate::metrics::ingest_records("item", report.items as u64);
    crate::metrics::ingest_records("event", report.events as u64);
    crate::metrics::ingest_records("rejected", report.errors as u64);
    crate::metrics::ingest_request(started.elapsed());
    // Nothing usable in the body at all is bad input; a partly bad batch is reported per record.
    let status = if report.errors > 0 && report.items == 0 && report.events == 0 {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(serde_json::to_value(report)?)).into_response())
}
