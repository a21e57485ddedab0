//! Ingest, event lookup, the live stream, metrics and the OpenAPI document.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::{blocking, ApiError, ApiState, Body, Query};
use crate::app::events::PurgeReport;
use crate::notify::NotificationKind;
use crate::query::EventLookup;

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

/// API event lookup: LookupEvents' JSON shape (re-ingestable), or the console's CSV.
pub(super) async fn events(
    State(state): State<Arc<ApiState>>,
    Query(lookup): Query<EventLookup>,
) -> Result<Response, ApiError> {
    let csv = match lookup.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format: {other:?} is not json or csv"
            )))
        }
    };
    blocking(move || {
        let page = state.app.events(&lookup)?;
        if csv {
            let mut out = Vec::new();
            page.write_csv(&mut out)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
        } else {
            Ok(Json(page).into_response())
        }
    })
    .await
}

/// Options of `POST /v1/events/purge`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PurgeParams {
    /// Keep events of the last N days; 0 keeps every event.
    retention_days: u32,
}

/// Removes API events older than the retention.
pub(super) async fn purge_events(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<PurgeParams>,
) -> Result<Json<PurgeReport>, ApiError> {
    blocking(move || Ok(Json(state.app.purge_events(params.retention_days)?))).await
}

/// Which notifications a stream carries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamParams {
    /// Comma-separated kinds: configuration, compliance, remediation (default: all three).
    kinds: Option<String>,
    /// Only this resource type.
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
}

/// Server-sent events: one `event:` per notification kind, `data:` the notification's JSON.
pub(super) async fn stream(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<StreamParams>,
) -> Result<Response, ApiError> {
    let kinds: Vec<NotificationKind> = match &params.kinds {
        None => vec![
            NotificationKind::Configuration,
            NotificationKind::Compliance,
            NotificationKind::Remediation,
        ],
        Some(text) => text
            .split(',')
            .map(|k| {
                NotificationKind::parse(k.trim())
                    .filter(|k| *k != NotificationKind::ApiEvent)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "kinds: {k:?} is not configuration, compliance or remediation"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let receiver = state.app.notifier().listen();
    let closing = state.closing.subscribe();
    let events =
        futures_util::stream::unfold((receiver, closing), move |(mut receiver, mut closing)| {
            let kinds = kinds.clone();
            let resource_type = params.resource_type.clone();
            async move {
                loop {
                    let next = tokio::select! {
                        next = receiver.recv() => next,
                        _ = closing.wait_for(|closing| *closing) => return None,
                    };
                    let event = match next {
                        Ok(n) => {
                            if !kinds.contains(&n.kind)
                                || resource_type
                                    .as_ref()
                                    .is_some_and(|t| n.resource_type.as_ref() != Some(t))
                            {
                                continue;
                            }
                            Event::default()
                                .event(n.kind.as_str())
                                .data(n.body.to_string())
                        }
                        // A slow client is told what it missed instead of slowing writers down.
                        Err(RecvError::Lagged(missed)) => Event::default()
                            .event("lagged")
                            .data(format!("{{\"missed\":{missed}}}")),
                        Err(RecvError::Closed) => return None,
                    };
                    return Some((Ok::<_, Infallible>(event), (receiver, closing)));
                }
            }
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

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
