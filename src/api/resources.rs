//! Read routes: resources, history, versions, diffs, timelines, compliance.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, ApiError, ApiState, Path, Query};
use crate::app::lists::ResourceList;
use crate::app::queries::ResourceComplianceView;
use crate::evaluator::{ComplianceFilter, ComplianceSummary, SummaryState};
use crate::model::{parse_time_arg, parse_until_arg, ConfigurationItem, Timestamp};
use crate::query::{DiffResponse, HistoryResponse, ResourceSelector, VersionSelector};
use crate::store::{HistoryOrder, HistoryQuery, PageToken};
use crate::timeline::Timeline;

/// A resource named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct ResourcePath {
    /// Resource type, e.g. `AWS::S3::Bucket`.
    #[serde(rename = "type")]
    #[param(example = "AWS::EC2::SecurityGroup")]
    resource_type: String,
    /// Resource id.
    #[param(example = "sg-a38ed1de")]
    id: String,
}

/// Account and region, when the type and id exist in several.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Where {
    /// Account id.
    pub(super) account: Option<String>,
    /// Region.
    pub(super) region: Option<String>,
}

impl ResourcePath {
    fn selector(self, at: Where) -> ResourceSelector {
        selector(self.resource_type, self.id, at)
    }
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

/// Which resources `GET /v1/resources` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ResourcesParams {
    /// Only this resource type.
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

/// Recorded resources with their latest state.
#[utoipa::path(get, path = "/v1/resources", tag = "resources", params(ResourcesParams),
    responses((status = 200, description = "one entry per resource", body = ResourceList)))]
pub(super) async fn list_resources(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<ResourcesParams>,
) -> Result<Json<ResourceList>, ApiError> {
    blocking(move || {
        let resources = state.app.resources(params.resource_type.as_deref())?;
        Ok(Json(ResourceList { resources }))
    })
    .await
}

/// Which versions of a resource's history, in which order.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct HistoryParams {
    /// Account id.
    account: Option<String>,
    /// Region.
    region: Option<String>,
    /// Versions captured at or after this time (RFC 3339, date or epoch seconds).
    since: Option<String>,
    /// Versions captured until this time (a bare date: the end of that day).
    until: Option<String>,
    /// `reverse` (newest first, the default) or `forward`.
    #[param(pattern = "^(forward|reverse)$")]
    order: Option<String>,
    /// Versions per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next` token of the previous page.
    next: Option<String>,
}

/// A resource's versions, paged.
#[utoipa::path(get, path = "/v1/resources/{type}/{id}/history", tag = "resources",
    params(ResourcePath, HistoryParams),
    responses((status = 200, description = "a page of versions", body = HistoryResponse)))]
pub(super) async fn history(
    State(state): State<Arc<ApiState>>,
    Path(resource): Path<ResourcePath>,
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
        until: p
            .until
            .as_deref()
            .map(|t| parse_until_arg(t).map_err(|e| ApiError::bad_request(format!("until: {e}"))))
            .transpose()?,
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
    let sel = resource.selector(at);
    blocking(move || Ok(Json(state.app.history(&sel, &q)?))).await
}

/// A version of a resource named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct VersionPath {
    /// Resource type, e.g. `AWS::S3::Bucket`.
    #[serde(rename = "type")]
    #[param(example = "AWS::EC2::SecurityGroup")]
    resource_type: String,
    /// Resource id.
    #[param(example = "sg-a38ed1de")]
    id: String,
    /// Version number, from 1.
    #[param(example = 1)]
    n: u64,
}

/// One version.
#[utoipa::path(get, path = "/v1/resources/{type}/{id}/versions/{n}", tag = "resources",
    params(VersionPath, Where),
    responses((status = 200, description = "the version as a configuration item", body = ConfigurationItem)))]
pub(super) async fn version(
    State(state): State<Arc<ApiState>>,
    Path(p): Path<VersionPath>,
    Query(at): Query<Where>,
) -> Result<Json<ConfigurationItem>, ApiError> {
    show(
        state,
        selector(p.resource_type, p.id, at),
        VersionSelector::Number(p.n),
    )
    .await
}

/// The latest version of a resource (or the one in force `at` a time).
#[utoipa::path(get, path = "/v1/resources/{type}/{id}", tag = "resources",
    params(ResourcePath, LatestParams),
    responses((status = 200, description = "the version as a configuration item", body = ConfigurationItem)))]
pub(super) async fn latest(
    State(state): State<Arc<ApiState>>,
    Path(resource): Path<ResourcePath>,
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
    show(state, resource.selector(at), which).await
}

/// Which version `GET /v1/resources/{type}/{id}` returns.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct LatestParams {
    /// Account id.
    account: Option<String>,
    /// Region.
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

/// Which two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DiffParams {
    /// Account id.
    account: Option<String>,
    /// Region.
    region: Option<String>,
    /// The older version (default: the one before `to`).
    from: Option<u64>,
    /// The newer version (default: the latest).
    to: Option<u64>,
}

/// The difference between two versions.
///
/// `configurationItemDiff` as AWS Config writes it, and a unified diff.
#[utoipa::path(get, path = "/v1/resources/{type}/{id}/diff", tag = "resources",
    params(ResourcePath, DiffParams),
    responses((status = 200, description = "the difference", body = DiffResponse)))]
pub(super) async fn diff(
    State(state): State<Arc<ApiState>>,
    Path(resource): Path<ResourcePath>,
    Query(p): Query<DiffParams>,
) -> Result<Json<DiffResponse>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    let sel = resource.selector(at);
    blocking(move || Ok(Json(state.app.diff(&sel, p.from, p.to)?))).await
}

/// A resource's compliance timeline.
///
/// Versions with the API calls that caused them, verdicts and remediation.
#[utoipa::path(get, path = "/v1/resources/{type}/{id}/timeline", tag = "resources",
    params(ResourcePath, Where),
    responses((status = 200, description = "the timeline, oldest first", body = Timeline)))]
pub(super) async fn timeline(
    State(state): State<Arc<ApiState>>,
    Path(resource): Path<ResourcePath>,
    Query(at): Query<Where>,
) -> Result<Json<Timeline>, ApiError> {
    let sel = resource.selector(at);
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

/// Which rules and resources the compliance summary covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ComplianceParams {
    /// Only this rule.
    rule: Option<String>,
    /// Only this resource type.
    #[serde(rename = "type")]
    resource_type: Option<String>,
    /// Only this state.
    #[param(value_type = Option<SummaryState>)]
    state: Option<String>,
}

/// Compliance summary per rule and resource.
#[utoipa::path(get, path = "/v1/compliance", tag = "compliance", params(ComplianceParams),
    responses((status = 200, description = "counts per rule and each resource's state", body = ComplianceSummary)))]
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ResourceComplianceParams {
    /// Account id.
    account: Option<String>,
    /// Region.
    region: Option<String>,
    /// Only this rule.
    rule: Option<String>,
    /// Include every verdict over time (default true).
    history: Option<bool>,
}

/// A resource's compliance.
///
/// The latest verdict per rule, and every verdict over time.
#[utoipa::path(get, path = "/v1/resources/{type}/{id}/compliance", tag = "compliance",
    params(ResourcePath, ResourceComplianceParams),
    responses((status = 200, description = "latest verdicts and history", body = ResourceComplianceView)))]
pub(super) async fn resource_compliance(
    State(state): State<Arc<ApiState>>,
    Path(resource): Path<ResourcePath>,
    Query(p): Query<ResourceComplianceParams>,
) -> Result<Json<ResourceComplianceView>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    let sel = resource.selector(at);
    blocking(move || {
        let view =
            state
                .app
                .resource_compliance(&sel, p.rule.as_deref(), p.history.unwrap_or(true))?;
        Ok(Json(view))
    })
    .await
}
