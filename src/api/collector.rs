//! `GET /v1/collector/status` and `POST /v1/collector/sweeps`: what the collector did, and a
//! sweep now.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, ApiError, ApiState, Query};
use crate::app::collect::SweepReport;
use crate::app::collector::CollectorStatus;

/// The collector's accounts and the last sweep of every scope.
///
/// Each configured account with its regions, types, interval, sweeps so far, when the last
/// one ran, how long it took and why it could not run, if it could not; and for every
/// (account, region, type) ever swept (by `conftrail collect` too) the last sweep: when, how
/// long, whether the listing was complete, resources seen, new versions, deletions, errors.
#[utoipa::path(get, path = "/v1/collector/status", tag = "collector",
    responses((status = 200, description = "accounts and scopes", body = CollectorStatus)))]
pub(super) async fn collector_status(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<CollectorStatus>, ApiError> {
    blocking(move || Ok(Json(state.app.collector_status()?))).await
}

/// Which accounts to sweep.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SweepParams {
    /// Only the configured account of this name (default: every account).
    account: Option<String>,
}

/// The sweeps run.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepReports {
    /// One per account, in configuration order.
    pub sweeps: Vec<SweepReport>,
}

/// Sweep now.
///
/// Sweeps the configured accounts (or the one named) at once and answers when the sweeps are
/// recorded and judged: each scope's resources, new versions, deletions and errors. A sweep
/// of an account already running is waited for, then run again.
#[utoipa::path(post, path = "/v1/collector/sweeps", tag = "collector", params(SweepParams),
    responses((status = 200, description = "the sweeps", body = SweepReports)))]
pub(super) async fn sweep(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<SweepParams>,
) -> Result<Json<SweepReports>, ApiError> {
    blocking(move || {
        let sweeps = state.app.sweep_now(params.account.as_deref())?;
        Ok(Json(SweepReports { sweeps }))
    })
    .await
}
