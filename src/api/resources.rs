//! Read routes: resources, history, versions, diffs, timelines, compliance, jobs.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::{blocking, ApiError, ApiState, Path, Query};
use crate::evaluator::{compliance_summary, ComplianceFilter, SummaryState};
use crate::model::{parse_time_arg, Timestamp};
use crate::query::{self, ResourceSelector, VersionSelector};
use crate::remediation::JobState;
use crate::store::{HistoryOrder, HistoryQuery, PageToken};

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
        let entries: Vec<_> = query::resources(state.app.store(), params.resource_type.as_deref())
            .collect::<Result<_, _>>()?;
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
) -> Result<Json<Value>, ApiError> {
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
    blocking(move || {
        let key = query::resolve(state.app.store(), &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(query::history(
            state.app.store(),
            &key,
            &q,
        )?)?))
    })
    .await
}

pub(super) async fn version(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id, n)): Path<(String, String, u64)>,
    Query(at): Query<Where>,
) -> Result<Json<Value>, ApiError> {
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
    Query(at): Query<Where>,
) -> Result<Json<Value>, ApiError> {
    show(
        state,
        selector(resource_type, resource_id, at),
        VersionSelector::Latest,
    )
    .await
}

pub(super) async fn show(
    state: Arc<ApiState>,
    sel: ResourceSelector,
    which: VersionSelector,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let key = query::resolve(state.app.store(), &sel)?;
        let mut item = query::show(state.app.store(), &key, which)?;
        item.related_events = crate::timeline::related_events(state.app.store(), &item)?;
        Ok(Json(serde_json::to_value(item)?))
    })
    .await
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
) -> Result<Json<Value>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    blocking(move || {
        let key = query::resolve(state.app.store(), &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(query::diff(
            state.app.store(),
            &key,
            p.from,
            p.to,
        )?)?))
    })
    .await
}

pub(super) async fn timeline(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(at): Query<Where>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let key = query::resolve(state.app.store(), &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(crate::timeline::timeline(
            state.app.store(),
            &key,
        )?)?))
    })
    .await
}

/// The `state` query parameter, parsed by `parse`.
fn parse_state<T>(text: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
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
) -> Result<Json<Value>, ApiError> {
    let wanted = parse_state(p.state.as_deref(), SummaryState::parse)?;
    blocking(move || {
        let filter = ComplianceFilter {
            rule: p.rule,
            resource_type: p.resource_type,
            state: wanted,
        };
        let summary = compliance_summary(
            state.app.store(),
            &state.app.store().rule_definitions()?,
            &filter,
        )?;
        Ok(Json(serde_json::to_value(summary)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobsParams {
    state: Option<String>,
    rule: Option<String>,
}

pub(super) async fn jobs(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<JobsParams>,
) -> Result<Json<Value>, ApiError> {
    let wanted = parse_state(p.state.as_deref(), JobState::parse)?;
    blocking(move || {
        let mut jobs = Vec::new();
        for job in state.app.store().jobs() {
            let job = job?;
            if wanted.is_none_or(|s| s == job.state)
                && p.rule.as_ref().is_none_or(|r| r == &job.rule_name)
            {
                jobs.push(job);
            }
        }
        Ok(Json(serde_json::json!({ "jobs": jobs })))
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
) -> Result<Json<Value>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    blocking(move || {
        let key = query::resolve(state.app.store(), &selector(resource_type, resource_id, at))?;
        let wanted = |rule: &str| p.rule.as_deref().is_none_or(|r| r == rule);
        let mut latest = Vec::new();
        for rule in state.app.store().rule_definitions()? {
            if wanted(&rule.name) {
                if let Some(verdict) = state.app.store().latest_verdict(&rule.name, &key)? {
                    latest.push(verdict);
                }
            }
        }
        let mut answer = serde_json::json!({
            "resourceType": key.resource_type,
            "resourceId": key.resource_id,
            "awsAccountId": key.account_id,
            "awsRegion": key.region,
            "latest": latest,
        });
        if p.history.unwrap_or(true) {
            let mut history = state.app.store().verdict_history(&key)?;
            history.retain(|r| wanted(&r.rule_name));
            answer["history"] = serde_json::to_value(history)?;
        }
        Ok(Json(answer))
    })
    .await
}

/// One job with every attempt.
pub(super) async fn job(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || match state.app.store().job(id)? {
        Some(job) => Ok(Json(serde_json::to_value(job)?)),
        None => Err(ApiError::not_found(format!("no remediation job {id}"))),
    })
    .await
}
