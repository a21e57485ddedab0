//! Rules: list, upload, replace, configure, remove and evaluate.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::openapi::Binary;
use super::{blocking, Acting, ApiError, ApiState, Body, JsonBody, Path, Query};
use crate::app::lists::{Evaluations, RuleList, RuleView};
use crate::app::{App, RuleChange};
use crate::config_file::RuleSettings;
use crate::evaluator::ScopeFilter;
use crate::model::{TagFilter, Trigger};
use crate::rules::definition::parse_parameters;
use crate::rules::AddRule;

/// Every rule with its settings.
#[utoipa::path(get, path = "/v1/rules", tag = "rules",
    responses((status = 200, description = "managed and added rules", body = RuleList)))]
pub(super) async fn list_rules(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<RuleList>, ApiError> {
    blocking(move || {
        let rules = state.app.rule_views()?;
        Ok(Json(RuleList { rules }))
    })
    .await
}

/// A rule named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct RuleName {
    /// The rule's name.
    #[param(example = "restricted-ssh")]
    name: String,
}

/// One rule.
#[utoipa::path(get, path = "/v1/rules/{name}", tag = "rules", params(RuleName),
    responses((status = 200, description = "the rule, its settings and its failures", body = RuleView)))]
pub(super) async fn get_rule(
    State(state): State<Arc<ApiState>>,
    Path(RuleName { name }): Path<RuleName>,
) -> Result<Json<RuleView>, ApiError> {
    blocking(move || Ok(Json(state.app.rule_view(&name)?))).await
}

/// Options of a rule upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// Upload a WebAssembly rule.
///
/// Registers the component and judges the latest versions in its scope; 422 when it is not a
/// usable rule.
#[utoipa::path(post, path = "/v1/rules", tag = "rules", params(UploadParams),
    request_body(description = "the rule's .wasm component", content((Binary = "application/wasm"))),
    responses((status = 201, description = "the rule and what its first evaluation found", body = RuleChange)))]
pub(super) async fn upload_rule(
    Acting(app): Acting,
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
        let change = app.add_rule(&wasm, options)?;
        Ok((StatusCode::CREATED, Json(change)).into_response())
    })
    .await
}

/// Replace a rule's WebAssembly component, keeping its settings.
///
/// Then judges its scope again.
#[utoipa::path(put, path = "/v1/rules/{name}", tag = "rules", params(RuleName),
    request_body(description = "the rule's new .wasm component", content((Binary = "application/wasm"))),
    responses((status = 200, description = "the rule and what its evaluation found", body = RuleChange)))]
pub(super) async fn replace_rule(
    Acting(app): Acting,
    Path(RuleName { name }): Path<RuleName>,
    Body(wasm): Body,
) -> Result<Json<RuleChange>, ApiError> {
    blocking(move || {
        let settings = RuleSettings::default();
        Ok(Json(app.change_rule(
            &name,
            Some(wasm.to_vec()),
            &settings,
            "body",
        )?))
    })
    .await
}

/// Change a rule's settings.
///
/// Keys left out keep their value; enabling the rule or new parameters judge its scope again.
/// A rule read with GET can be sent back as it is.
#[utoipa::path(patch, path = "/v1/rules/{name}", tag = "rules", params(RuleName),
    request_body(content = RuleSettings, description = "the settings to change"),
    responses((status = 200, description = "the rule and what its evaluation found", body = RuleChange)))]
pub(super) async fn patch_rule(
    Acting(app): Acting,
    Path(RuleName { name }): Path<RuleName>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<RuleChange>, ApiError> {
    let settings =
        RuleSettings::from_body(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    blocking(move || Ok(Json(app.change_rule(&name, None, &settings, "body")?))).await
}

/// Remove an added rule.
#[utoipa::path(delete, path = "/v1/rules/{name}", tag = "rules", params(RuleName),
    responses((status = 204, description = "removed")))]
pub(super) async fn delete_rule(
    Acting(app): Acting,
    Path(RuleName { name }): Path<RuleName>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        app.remove_rule(&name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Which resources a manual evaluation covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EvaluateParams {
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
}

/// Which rules and resources `POST /v1/evaluate` covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EvaluateAllParams {
    /// Only this rule (default: every enabled rule).
    rule: Option<String>,
    /// Only this resource type.
    resource_type: Option<String>,
    /// Only this resource id.
    resource_id: Option<String>,
}

/// Evaluate every enabled rule (or one) now.
///
/// Judges the latest versions in each rule's scope.
#[utoipa::path(post, path = "/v1/evaluate", tag = "rules", params(EvaluateAllParams),
    responses((status = 200, description = "counts of evaluations and verdicts", body = Evaluations)))]
pub(super) async fn evaluate(
    Acting(app): Acting,
    Query(params): Query<EvaluateAllParams>,
) -> Result<Json<Evaluations>, ApiError> {
    let resources = EvaluateParams {
        resource_type: params.resource_type,
        resource_id: params.resource_id,
    };
    evaluate_now(app, params.rule, resources).await
}

/// Evaluate a rule now.
///
/// Judges the latest versions in the rule's scope.
#[utoipa::path(post, path = "/v1/rules/{name}/evaluate", tag = "rules", params(RuleName, EvaluateParams),
    responses((status = 200, description = "counts of evaluations and verdicts", body = Evaluations)))]
pub(super) async fn evaluate_rule(
    Acting(app): Acting,
    Path(RuleName { name }): Path<RuleName>,
    Query(params): Query<EvaluateParams>,
) -> Result<Json<Evaluations>, ApiError> {
    evaluate_now(app, Some(name), params).await
}

async fn evaluate_now(
    app: App,
    rule: Option<String>,
    resources: EvaluateParams,
) -> Result<Json<Evaluations>, ApiError> {
    blocking(move || {
        let filter = ScopeFilter {
            resource_type: resources.resource_type,
            resource_id: resources.resource_id,
        };
        let evaluations = app.evaluate_now(rule.as_deref(), &filter)?;
        Ok(Json(Evaluations { evaluations }))
    })
    .await
}
