//! API event lookup and export, and the retention purge.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::{blocking, Acting, ApiError, ApiState, Query};
use crate::app::events::{csv_rows, EventExport, EventsPage, LookupEvent, PurgeReport};
use crate::query::EventLookup;

/// The header that carries the next page's token when a page is not the last.
const NEXT_TOKEN: &str = "x-next-token";
/// Pages of a streamed CSV export waiting to be sent (bounds its memory).
const EXPORT_BUFFER: usize = 4;

/// API event lookup by any combination of filters.
///
/// LookupEvents' JSON shape (which `POST /v1/ingest` takes back), a page of `limit` events
/// (default 50); or the console's CSV with `format=csv`: every matching event, streamed, unless
/// `limit` asks for a page. A page that is not the last has an `X-Next-Token` header (and, in
/// JSON, `NextToken`).
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventLookup),
    responses((status = 200, description = "a page of events, newest first (csv: every match unless `limit` is given)",
        content((EventsPage = "application/json"), (String = "text/csv")),
        headers(("X-Next-Token" = String,
            description = "present when more events match: pass it as `next` for the following page")))))]
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
    if csv && lookup.limit.is_none() {
        return csv_export(&state, &lookup);
    }
    blocking(move || {
        let page = state.app.events(&lookup)?;
        let mut response = if csv {
            let mut out = Vec::new();
            page.write_csv(&mut out)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            ([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
        } else {
            Json(&page).into_response()
        };
        if let Some(next) = &page.next_token {
            // Tokens are printable ASCII (their own encoding), so always a valid header value.
            if let Ok(value) = HeaderValue::from_str(next) {
                response.headers_mut().insert(NEXT_TOKEN, value);
            }
        }
        Ok(response)
    })
    .await
}

/// Every matching event as CSV, written while the store is read: a page is read only when
/// the client has taken the ones before (a bounded channel), so memory does not grow with the
/// export. A store failure midway aborts the response rather than ending it short.
fn csv_export(state: &Arc<ApiState>, lookup: &EventLookup) -> Result<Response, ApiError> {
    let export = state.app.export_events(lookup)?;
    let (tx, rx) = mpsc::channel::<Chunk>(EXPORT_BUFFER);
    tokio::task::spawn_blocking(move || {
        if let Err(ExportStop::Failed(e)) = send_csv_pages(export, &tx) {
            tracing::warn!(error = %e, "event export stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// A piece of a streamed export, or the failure that ends it.
type Chunk = Result<Vec<u8>, std::io::Error>;

/// Why a streamed export ended early.
enum ExportStop {
    /// The client went away.
    Gone,
    /// Reading or writing failed.
    Failed(String),
}

/// Sends the CSV header, then each page of the export as it is read.
fn send_csv_pages(export: EventExport, tx: &mpsc::Sender<Chunk>) -> Result<(), ExportStop> {
    let send = |events: &[LookupEvent], header: bool| {
        let chunk = csv_rows(events, header).map_err(|e| ExportStop::Failed(e.to_string()))?;
        tx.blocking_send(Ok(chunk)).map_err(|_| ExportStop::Gone)
    };
    // The header goes out at once, even when nothing matches.
    send(&[], true)?;
    for page in export {
        send(&page.map_err(|e| ExportStop::Failed(e.to_string()))?, false)?;
    }
    Ok(())
}

/// Options of `POST /v1/events/purge`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PurgeParams {
    /// Keep events of the last N days (by event time); 0 keeps every event.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    retention_days: u32,
    /// Only say what would be removed; delete nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Remove API events older than the retention (or, with `dryRun`, say what that would remove).
#[utoipa::path(post, path = "/v1/events/purge", tag = "events", params(PurgeParams),
    responses((status = 200, description = "what was removed, or would be with dryRun", body = PurgeReport)))]
pub(super) async fn purge_events(
    Acting(app): Acting,
    Query(params): Query<PurgeParams>,
) -> Result<Json<PurgeReport>, ApiError> {
    blocking(move || {
        Ok(Json(
            app.purge_events(params.retention_days, params.dry_run)?,
        ))
    })
    .await
}
