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
use crate::evaluator::{EvaluatedResource, ScopeFilter};
use crate::model::{now_millis, parse_time_arg};
use crate::query;
use crate::remediation::RemediationException;
use crate::rules::{AddRule, UpdateRule};

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
    /// Register it disabled.
    disabled: Option<bool>,
}

/// Registers an uploaded `.wasm` rule, then judges its scope (422 when it is not a usable rule).
pub(super) async fn upload_rule(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<UploadParams>,
    Body(wasm): Body,
) -> Result<Response, ApiError> {
    blocking(move || {
        let change = state.app.add_rule(
            &wasm,
            AddRule {
                name: params.name,
                resource_types: params
                    .types
                    .map(|t| t.split(',').map(|s| s.trim().to_string()).collect()),
                disabled: params.disabled.unwrap_or(false),
                ..AddRule::default()
            },
        )?;
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
        let changes = UpdateRule {
            wasm: Some(wasm.to_vec()),
            ..UpdateRule::default()
        };
        Ok(Json(state.app.update_rule(&name, changes)?))
    })
    .await
}

/// Changes settings; enabling or new parameters judge the scope again.
pub(super) async fn patch_rule(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    JsonBody(settings): JsonBody<RuleSettings>,
) -> Result<Json<RuleChange>, ApiError> {
    blocking(move || Ok(Json(state.app.configure_rule(&name, &settings, "body")?))).await
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
            json!({ "configurations": state.app.store().remediation_configs()? }),
        ))
    })
    .await
}

pub(super) async fn get_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || match state.app.store().remediation_config(&rule)? {
        Some(config) => Ok(Json(serde_json::to_value(config)?)),
        None => Err(ApiError::not_found(format!(
            "rule {rule} has no remediation configuration"
        ))),
    })
    .await
}

pub(super) async fn put_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
    JsonBody(settings): JsonBody<RemediationSettings>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        state.app.registry()?.get(&rule)?;
        let mut config = settings.to_config(&rule, "body")?;
        if let Some(old) = state.app.store().remediation_config(&rule)? {
            config.created_at = old.created_at;
        }
        state.app.store().put_remediation_config(&config)?;
        Ok(Json(serde_json::to_value(config)?))
    })
    .await
}

pub(super) async fn delete_remediation(
    State(state): State<Arc<ApiState>>,
    Path(rule): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        if state.app.store().delete_remediation_config(&rule)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::not_found(format!(
                "rule {rule} has no remediation configuration"
            )))
        }
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
    fn resolve(self, state: &ApiState) -> Result<(String, crate::model::ResourceKey), ApiError> {
        state.app.registry()?.get(&self.rule)?;
        let at = Where {
            account: self.account,
            region: self.region,
        };
        let key = query::resolve(
            state.app.store(),
            &selector(self.resource_type, self.resource_id, at),
        )?;
        Ok((self.rule, key))
    }
}

/// Queues remediation of a resource's latest judged version now.
pub(super) async fn run_remediation(
    State(state): State<Arc<ApiState>>,
    JsonBody(target): JsonBody<ExceptionTarget>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let (rule, key) = target.resolve(&state)?;
        let (job, queued) = state.app.queue_remediation(&rule, &key)?;
        Ok((
            if queued {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            },
            Json(json!({ "queued": queued, "job": job })),
        )
            .into_response())
    })
    .await
}

pub(super) async fn list_exceptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(
            json!({ "exceptions": state.app.store().exceptions()? }),
        ))
    })
    .await
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
) -> Result<Json<Value>, ApiError> {
    let now = now_millis();
    let expires_at = body
        .expires
        .as_deref()
        .map(|t| parse_time_arg(t).map_err(|e| ApiError::bad_request(format!("expires: {e}"))))
        .transpose()?;
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::bad_request("expires: is in the past"));
    }
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "reason: must say why the resource is exempt",
        ));
    }
    blocking(move || {
        let (rule, key) = body.target.resolve(&state)?;
        let exception = RemediationException {
            rule_name: rule,
            resource: EvaluatedResource::from(&key),
            reason,
            expires_at,
            created_at: now,
        };
        state.app.store().put_exception(&exception)?;
        Ok(Json(serde_json::to_value(exception)?))
    })
    .await
}

pub(super) async fn delete_exception(
    State(state): State<Arc<ApiState>>,
    Query(target): Query<ExceptionTarget>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        let (rule, key) = target.resolve(&state)?;
        if state.app.store().delete_exception(&rule, &key)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::not_found(format!(
                "no exception for {rule} on {key}"
            )))
        }
    })
    .await
}

pub(super) async fn list_subscriptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(
            json!({ "subscriptions": state.app.store().subscriptions()? }),
        ))
    })
    .await
}

/// Adds or replaces a subscription; the name in the path wins over one in the body.
pub(super) async fn put_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    if let Some(object) = body.as_object_mut() {
        object.insert("name".into(), Value::String(name));
        object
            .entry("kinds")
            .or_insert_with(|| json!(["configuration", "compliance", "remediation"]));
    }
    let settings: SubscriptionSettings =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let subscription = settings.to_subscription("body")?;
    blocking(move || {
        state.app.store().put_subscription(&subscription)?;
        state.app.reload_subscriptions()?;
        Ok(Json(serde_json::to_value(subscription)?))
    })
    .await
}

pub(super) async fn delete_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        let deleted = state.app.store().delete_subscription(&name)?;
        state.app.reload_subscriptions()?;
        if deleted {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::not_found(format!("no subscription named {name}")))
        }
    })
    .await
}

pub(super) async fn list_deliveries(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let mut deliveries = Vec::new();
        for delivery in state.app.store().deliveries() {
            let delivery = delivery?;
            if delivery.subscription == name {
                deliveries.push(delivery);
            }
        }
        Ok(Json(json!({ "deliveries": deliveries })))
    })
    .await
}
