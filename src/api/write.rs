//! Rules, remediation and subscriptions: reading them, and changing them (admin role).
//! Request bodies use the configuration file's keys.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::resources::{selector, Where};
use super::{blocking, ApiError, ApiState, Body, JsonBody, Path, Query};
use crate::app::RuleChange;
use crate::config_file::{RemediationSettings, RuleSettings, SubscriptionSettings};
use crate::evaluator::ScopeFilter;
use crate::model::{parse_time_arg, RemediationConfig, Subscription};
use crate::model::{TagFilter, Trigger};
use crate::query::ResourceSelector;
use crate::remediation::RemediationException;
use crate::rules::definition::parse_parameters;
use crate::rules::AddRule;

pub(super) async fn list_rules(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "rules": state.app.registry()?.list()? })))).await
}

pub(super) async fn get_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(serde_json::to_value(
            state.app.registry()?.get(&name)?,
        )?))
    })
    .await
}

/// Options of a rule upload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UploadParams {
    /// Name to register under (default: the rule's own name).
    name: Option<String>,
    /// Comma-separated resource types it applies to (default: the rule's own list).
    types: Option<String>,
    /// Only resources with this tag: KEY or KEY=VALUE.
    tag: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
    /// Parameters as a JSON object.
    params: Option<String>,
    /// Comma-separated triggers (change, schedule, manual; default: the rule's own).
    triggers: Option<String>,
    /// Per-evaluation deadline in milliseconds.
    deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    memory_limit_mib: Option<u64>,
    /// Register it disabled.
    disabled: Option<bool>,
}

/// Registers an uploaded `.wasm` rule, then judges its scope (422 when it is not a usable rule).
pub(super) async fn upload_rule(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<UploadParams>,
    Body(wasm): Body,
) -> Result<Response, ApiError> {
    let list = |text: &str| -> Vec<String> {
        text.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let triggers = params
        .triggers
        .as_deref()
        .map(|text| {
            list(text)
                .iter()
                .map(|t| {
                    Trigger::parse(t).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "triggers: {t:?} is not change, schedule or manual"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let options = AddRule {
        name: params.name,
        resource_types: params.types.as_deref().map(list),
        tag: params.tag.as_deref().map(TagFilter::parse).transpose()?,
        resource_id: params.resource_id,
        parameters: params.params.as_deref().map(parse_parameters).transpose()?,
        triggers,
        deadline_ms: params.deadline_ms,
        memory_limit_mib: params.memory_limit_mib,
        disabled: params.disabled.unwrap_or(false),
    };
    blocking(move || {
        let change = state.app.add_rule(&wasm, options)?;
        Ok((StatusCode::CREATED, Json(change)).into_response())
    })
    .await
}

/// Replaces a rule's component (settings kept), then judges its scope again.
pub(super) async fn replace_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    Body(wasm): Body,
) -> Result<Json<RuleChange>, ApiError> {
    blocking(move || {
        let settings = RuleSettings::default();
        Ok(Json(state.app.change_rule(
            &name,
            Some(wasm.to_vec()),
            &settings,
            "body",
        )?))
    })
    .await
}

/// Changes settings; enabling or new parameters judge the scope again.
pub(super) async fn patch_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    JsonBody(settings): JsonBody<RuleSettings>,
) -> Result<Json<RuleChange>, ApiError> {
    blocking(move || Ok(Json(state.app.change_rule(&name, None, &settings, "body")?))).await
}

pub(super) async fn delete_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        state.app.remove_rule(&name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Which resources a manual evaluation covers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EvaluateParams {
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
}

/// Judges the latest versions in scope of every enabled rule (or one) now.
pub(super) async fn evaluate(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<EvaluateAllParams>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let filter = ScopeFilter {
            resource_type: params.resource_type,
            resource_id: params.resource_id,
        };
        let counts = state.app.evaluate_now(params.rule.as_deref(), &filter)?;
        Ok(Json(json!({ "evaluations": counts })))
    })
    .await
}

/// Which rules and resources `POST /v1/evaluate` covers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EvaluateAllParams {
    /// Only this rule (default: every enabled rule).
    rule: Option<String>,
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
}

pub(super) async fn evaluate_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    Query(params): Query<EvaluateParams>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let filter = ScopeFilter {
            resource_type: params.resource_type,
            resource_id: params.resource_id,
        };
        let counts = state.app.evaluate_now(Some(&name), &filter)?;
        Ok(Json(json!({ "evaluations": counts })))
    })
    .await
}

pub(super) async fn list_remediations(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(
            json!({ "configurations": state.app.remediation_configs(None)? }),
        ))
    })
    .await
}

pub(super) async fn get_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
) -> Result<Json<RemediationConfig>, ApiError> {
    blocking(move || {
        let mut configs = state.app.remediation_configs(Some(&rule))?;
        configs.pop().map(Json).ok_or_else(|| {
            ApiError::not_found(format!("rule {rule} has no remediation configured"))
        })
    })
    .await
}

pub(super) async fn put_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
    JsonBody(settings): JsonBody<RemediationSettings>,
) -> Result<Json<RemediationConfig>, ApiError> {
    blocking(move || Ok(Json(state.app.set_remediation(&rule, &settings, "body")?))).await
}

pub(super) async fn delete_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        state.app.remove_remediation(&rule)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// A (rule, resource) pair in a request body or query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExceptionTarget {
    rule: String,
    resource_type: String,
    resource_id: String,
    account: Option<String>,
    region: Option<String>,
}

impl ExceptionTarget {
    fn selector(&self) -> ResourceSelector {
        let at = Where {
            account: self.account.clone(),
            region: self.region.clone(),
        };
        selector(self.resource_type.clone(), self.resource_id.clone(), at)
    }
}

/// Queues remediation of a resource's latest judged version now.
pub(super) async fn run_remediation(
    State(state): State<Arc<ApiState>>,
    JsonBody(target): JsonBody<ExceptionTarget>,
) -> Result<Response, ApiError> {
    blocking(move || {
        state.app.rule(&target.rule)?;
        let key = state.app.resolve(&target.selector())?;
        let (job, queued) = state.app.queue_remediation(&target.rule, &key)?;
        let status = if queued {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        Ok((status, Json(json!({ "queued": queued, "job": job }))).into_response())
    })
    .await
}

pub(super) async fn list_exceptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "exceptions": state.app.exceptions()? })))).await
}

/// An exception in a request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExceptionBody {
    #[serde(flatten)]
    target: ExceptionTarget,
    reason: String,
    /// RFC 3339 time, date or epoch seconds.
    expires: Option<String>,
}

pub(super) async fn put_exception(
    State(state): State<Arc<ApiState>>,
    JsonBody(body): JsonBody<ExceptionBody>,
) -> Result<Json<RemediationException>, ApiError> {
    let expires_at = body
        .expires
        .as_deref()
        .map(|t| parse_time_arg(t).map_err(|e| ApiError::bad_request(format!("expires: {e}"))))
        .transpose()?;
    blocking(move || {
        let target = &body.target;
        let exception =
            state
                .app
                .add_exception(&target.rule, &target.selector(), &body.reason, expires_at)?;
        Ok(Json(exception))
    })
    .await
}

pub(super) async fn delete_exception(
    State(state): State<Arc<ApiState>>,
    Query(target): Query<ExceptionTarget>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        state
            .app
            .remove_exception(&target.rule, &target.selector())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

pub(super) async fn list_subscriptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "subscriptions": state.app.subscriptions()? })))).await
}

pub(super) async fn get_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Subscription>, ApiError> {
    blocking(move || Ok(Json(state.app.subscription(&name)?))).await
}

/// Adds or replaces a subscription; the name in the path wins over one in the body.
pub(super) async fn put_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<Json<Subscription>, ApiError> {
    if let Some(object) = body.as_object_mut() {
        object.insert("name".into(), Value::String(name));
        object
            .entry("kinds")
            .or_insert_with(|| json!(["configuration", "compliance", "remediation"]));
    }
    let settings: SubscriptionSettings =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    blocking(move || Ok(Json(state.app.put_subscription(&settings, "body")?))).await
}

pub(super) async fn delete_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        state.app.remove_subscription(&name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

pub(super) async fn list_deliveries(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "deliveries": state.app.deliveries(&name)? })))).await
}
