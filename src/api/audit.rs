//! `GET /v1/audit`: who changed what, when, from where.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::resources::time_param;
use super::{blocking, ApiError, ApiState, Query};
use crate::app::audit::MAX_AUDIT_ENTRIES;
use crate::app::lists::AuditList;

/// Which entries of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AuditParams {
    /// Entries at or after this time (RFC 3339, date or epoch seconds).
    since: Option<String>,
    /// At most this many (default and most: 10000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The audit trail.
///
/// Every change made through the API, the CLI or the configuration file (rules, remediation,
/// runs, exceptions, subscriptions, purges, settings applied at start) and every refused
/// authentication (at most one a second): time, who (the token's name), from where, what.
/// Oldest first.
#[utoipa::path(get, path = "/v1/audit", tag = "operations", params(AuditParams),
    responses((status = 200, description = "the entries, oldest first", body = AuditList)))]
pub(super) async fn audit(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditList>, ApiError> {
    let since = time_param("since", params.since.as_deref())?;
    if params
        .limit
        .is_some_and(|limit| !(1..=MAX_AUDIT_ENTRIES).contains(&limit))
    {
        return Err(ApiError::bad_request(format!(
            "limit: must be 1 to {MAX_AUDIT_ENTRIES}"
        )));
    }
    blocking(move || {
        let entries = state.app.audit_entries(since, params.limit)?;
        Ok(Json(AuditList { entries }))
    })
    .await
}
