//! API event lookup and export, and the retention purge.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, ApiError, ApiState, Query};
use crate::app::events::{EventsPage, PurgeReport};
use crate::query::EventLookup;

/// API event lookup by any combination of filters.
///
/// LookupEvents' JSON shape (which `POST /v1/ingest` takes back), or the console's CSV with
/// `format=csv`.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventLookup),
    responses((status = 200, description = "a page of events, newest first",
        content((EventsPage = "application/json"), (String = "text/csv")))))]
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PurgeParams {
    /// Keep events of the last N days; 0 keeps every event.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    retention_days: u32,
}

/// Remove API events older than the retention.
#[utoipa::path(post, path = "/v1/events/purge", tag = "events", params(PurgeParams),
    responses((status = 200, description = "what was removed", body = PurgeReport)))]
pub(super) async fn purge_events(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<PurgeParams>,
) -> Result<Json<PurgeReport>, ApiError> {
    blocking(move || Ok(Json(state.app.purge_events(params.retention_days)?))).await
}
