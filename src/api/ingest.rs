//! `POST /v1/ingest`: configuration items and CloudTrail events in any shape, gzip too.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::openapi::Binary;
use super::{blocking, ApiError, ApiState, Body, Query};
use crate::app::IngestReport;

/// A 400 answer of `POST /v1/ingest` (documentation only): a report whose every record was
/// rejected, or an error for a body that could not be read at all.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum IngestRejected {
    /// Each rejected record.
    Report(IngestReport),
    /// The body could not be read.
    Error(super::openapi::ErrorBody),
}

/// Options of `POST /v1/ingest`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct IngestParams {
    /// Name used in per-record error locations (default "request body").
    source: Option<String>,
    /// Judge the new versions with the rules (default true).
    evaluate: Option<bool>,
}

/// Ingest configuration items and CloudTrail events.
///
/// Any shape `conftrail ingest` reads, gzip or not: AWS Config snapshot and history files,
/// notifications, single items, CloudTrail log files and LookupEvents answers, JSON lines.
/// Answers once what was accepted is durable; bad records are reported one by one.
#[utoipa::path(post, path = "/v1/ingest", tag = "ingest", params(IngestParams),
    request_body(description = "documents in any accepted shape",
        content((serde_json::Value = "application/json"), (Binary = "application/x-ndjson"),
            (Binary = "application/gzip"))),
    responses(
        (status = 200, description = "what was recorded, and each rejected record", body = IngestReport),
        (status = 400, description = "nothing usable in the body: each rejected record, or an error", body = IngestRejected)))]
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
    let evaluate = params.evaluate.unwrap_or(true);
    // Decompressing and parsing are CPU work, so both run off the async threads. A gzip body is
    // first decompressed into nothing, so a broken or oversized one is refused before any of
    // it is recorded; the use case then streams it.
    let report = blocking(move || {
        match crate::ingest::check_document(&body, std::path::Path::new(&source)) {
            Ok(()) => {}
            Err(e @ crate::ingest::FileError::TooLarge { .. }) => {
                return Err(ApiError::too_large(e.to_string()))
            }
            Err(e) => return Err(ApiError::bad_request(e.to_string())),
        }
        Ok(state.app.ingest_bytes(&source, &body, evaluate)?)
    })
    .await?;
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
    Ok((status, Json(report)).into_response())
}
