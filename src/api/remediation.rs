//! Remediation: configurations, runs, jobs and exceptions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::resources::{parse_state, selector, Where};
use super::{blocking, ApiError, ApiState, JsonBody, Path, Query};
use crate::app::queries::JobFilter;
use crate::config_file::RemediationSettings;
use crate::model::{parse_time_arg, JobState, RemediationConfig, RemediationJob};
use crate::query::ResourceSelector;
use crate::remediation::RemediationException;

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
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<RemediationConfig>, ApiError> {
    let settings = RemediationSettings::from_body(body)
        .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ExceptionTarget {
    rule: String,
    #[serde(alias = "resource_type")]
    resource_type: String,
    #[serde(alias = "resource_id")]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    let filter = JobFilter {
        state: parse_state(p.state.as_deref(), JobState::parse)?,
        rule: p.rule,
    };
    blocking(move || {
        Ok(Json(
            serde_json::json!({ "jobs": state.app.jobs(&filter)? }),
        ))
    })
    .await
}

/// One job with every attempt.
pub(super) async fn job(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<u64>,
) -> Result<Json<RemediationJob>, ApiError> {
    blocking(move || Ok(Json(state.app.job(id)?))).await
}
