//! Read routes: resources, history, versions, diffs, timelines, compliance.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::{blocking, ApiError, ApiState, Path, Query};
use crate::app::queries::ResourceComplianceView;
use crate::evaluator::{ComplianceFilter, ComplianceSummary, SummaryState};
use crate::model::{parse_time_arg, ConfigurationItem, Timestamp};
use crate::query::{DiffResponse, HistoryResponse, ResourceSelector, VersionSelector};
use crate::store::{HistoryOrder, HistoryQuery, PageToken};
use crate::timeline::Timeline;

/// Account and region, when the type and id exist in several.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Where {
    pub(super) account: Option<String>,
    pub(super) region: Option<String>,
}

pub(super) fn selector(resource_type: String, resource_id: String, at: Where) -> ResourceSelector {
    ResourceSelector {
        resource_type,
        resource_id,
        account_id: at.account,
        region: at.region,
    }
}

pub(super) fn time_param(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|t| parse_time_arg(t).map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResourcesParams {
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

pub(super) async fn list_resources(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<ResourcesParams>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let entries = state.app.resources(params.resource_type.as_deref())?;
        Ok(Json(serde_json::json!({ "resources": entries })))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct HistoryParams {
    account: Option<String>,
    region: Option<String>,
    since: Option<String>,
    until: Option<String>,
    order: Option<String>,
    limit: Option<usize>,
    next: Option<String>,
}

pub(super) async fn history(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(p): Query<HistoryParams>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let order = match p.order.as_deref() {
        None | Some("reverse") => HistoryOrder::Reverse,
        Some("forward") => HistoryOrder::Forward,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "order: {other:?} is not forward or reverse"
            )))
        }
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit: must be 1 to 1000"));
    }
    let q = HistoryQuery {
        since: time_param("since", p.since.as_deref())?,
        until: time_param("until", p.until.as_deref())?,
        order,
        limit,
        after: p
            .next
            .as_deref()
            .map(PageToken::decode)
            .transpose()
            .map_err(|e| ApiError::bad_request(format!("next: {e}")))?,
    };
    let at = Where {
        account: p.account,
        region: p.region,
    };
    let sel = selector(resource_type, resource_id, at);
    blocking(move || Ok(Json(state.app.history(&sel, &q)?))).await
}

pub(super) async fn version(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id, n)): Path<(String, String, u64)>,
    Query(at): Query<Where>,
) -> Result<Json<ConfigurationItem>, ApiError> {
    show(
        state,
        selector(resource_type, resource_id, at),
        VersionSelector::Number(n),
    )
    .await
}

pub(super) async fn latest(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(p): Query<LatestParams>,
) -> Result<Json<ConfigurationItem>, ApiError> {
    let which = match time_param("at", p.at.as_deref())? {
        Some(at) => VersionSelector::At(at),
        None => VersionSelector::Latest,
    };
    let at = Where {
        account: p.account,
        region: p.region,
    };
    show(state, selector(resource_type, resource_id, at), which).await
}

/// Which version `GET /v1/resources/{type}/{id}` returns.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct LatestParams {
    account: Option<String>,
    region: Option<String>,
    /// The version in force at this time (default: the latest).
    at: Option<String>,
}

pub(super) async fn show(
    state: Arc<ApiState>,
    sel: ResourceSelector,
    which: VersionSelector,
) -> Result<Json<ConfigurationItem>, ApiError> {
    blocking(move || Ok(Json(state.app.show(&sel, which)?))).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DiffParams {
    account: Option<String>,
    region: Option<String>,
    from: Option<u64>,
    to: Option<u64>,
}

pub(super) async fn diff(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(p): Query<DiffParams>,
) -> Result<Json<DiffResponse>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    let sel = selector(resource_type, resource_id, at);
    blocking(move || Ok(Json(state.app.diff(&sel, p.from, p.to)?))).await
}

pub(super) async fn timeline(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(at): Query<Where>,
) -> Result<Json<Timeline>, ApiError> {
    let sel = selector(resource_type, resource_id, at);
    blocking(move || Ok(Json(state.app.timeline(&sel)?))).await
}

/// The `state` query parameter, parsed by `parse`.
pub(super) fn parse_state<T>(
    text: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    text.map(|s| {
        parse(s).ok_or_else(|| ApiError::bad_request(format!("state: unknown state {s:?}")))
    })
    .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ComplianceParams {
    rule: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
    state: Option<String>,
}

pub(super) async fn compliance(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<ComplianceParams>,
) -> Result<Json<ComplianceSummary>, ApiError> {
    let wanted = parse_state(p.state.as_deref(), SummaryState::parse)?;
    blocking(move || {
        let filter = ComplianceFilter {
            rule: p.rule,
            resource_type: p.resource_type,
            state: wanted,
        };
        Ok(Json(state.app.compliance(&filter)?))
    })
    .await
}

/// Options of a resource's compliance.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ResourceComplianceParams {
    account: Option<String>,
    region: Option<String>,
    /// Only this rule.
    rule: Option<String>,
    /// Include every verdict over time (default true).
    history: Option<bool>,
}

/// A resource's compliance: latest verdict per rule, and every verdict over time.
pub(super) async fn resource_compliance(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(p): Query<ResourceComplianceParams>,
) -> Result<Json<ResourceComplianceView>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    let sel = selector(resource_type, resource_id, at);
    blocking(move || {
        let view =
            state
                .app
                .resource_compliance(&sel, p.rule.as_deref(), p.history.unwrap_or(true))?;
        Ok(Json(view))
    })
    .await
}
