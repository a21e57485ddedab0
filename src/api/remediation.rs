//! Remediation: configurations, runs, jobs and exceptions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::resources::{parse_state, selector, Where};
use super::{blocking, Acting, ApiError, ApiState, JsonBody, Path, Query};
use crate::app::lists::{ExceptionList, JobList, QueuedRemediation, RemediationConfigList};
use crate::app::queries::JobFilter;
use crate::config_file::RemediationSettings;
use crate::model::ActionKind;
use crate::model::{parse_time_arg, JobState, RemediationConfig, RemediationJob};
use crate::query::ResourceSelector;
use crate::remediation::RemediationException;

/// Every remediation configuration.
#[utoipa::path(get, path = "/v1/remediation/configurations", tag = "remediation",
    responses((status = 200, description = "one per rule with remediation", body = RemediationConfigList)))]
pub(super) async fn list_remediations(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<RemediationConfigList>, ApiError> {
    blocking(move || {
        let configurations = state.app.remediation_configs(None)?;
        Ok(Json(RemediationConfigList { configurations }))
    })
    .await
}

/// A rule named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct RulePath {
    /// The rule's name.
    #[param(example = "restricted-ssh")]
    rule: String,
}

/// One rule's remediation configuration.
#[utoipa::path(get, path = "/v1/remediation/configurations/{rule}", tag = "remediation",
    params(RulePath),
    responses((status = 200, description = "the configuration", body = RemediationConfig)))]
pub(super) async fn get_remediation(
    State(state): State<Arc<ApiState>>,
    Path(RulePath { rule }): Path<RulePath>,
) -> Result<Json<RemediationConfig>, ApiError> {
    blocking(move || {
        let mut configs = state.app.remediation_configs(Some(&rule))?;
        configs.pop().map(Json).ok_or_else(|| {
            ApiError::not_found(format!("rule {rule} has no remediation configured"))
        })
    })
    .await
}

/// Set a rule's remediation.
///
/// The settings of `[remediation.RULE]` in the configuration file, keys in camelCase (the
/// file's snake_case is accepted too). A configuration read with GET can be sent back as it is.
#[utoipa::path(put, path = "/v1/remediation/configurations/{rule}", tag = "remediation",
    params(RulePath), request_body(content = RemediationSettings, description = "the settings"),
    responses((status = 200, description = "the stored configuration", body = RemediationConfig)))]
pub(super) async fn put_remediation(
    State(state): State<Arc<ApiState>>,
    Acting(app): Acting,
    Path(RulePath { rule }): Path<RulePath>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<RemediationConfig>, ApiError> {
    let settings = RemediationSettings::from_body(body)
        .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    // A command runs a program on this host: over the network only where the operator said so.
    if settings.action == ActionKind::Command && !state.allow_command_actions {
        return Err(ApiError::forbidden(
            "command actions cannot be set through the API on this server (set \
             api.allow_command_actions = true in its configuration file, or use the file or \
             the CLI on the server's host)",
        ));
    }
    blocking(move || Ok(Json(app.set_remediation(&rule, &settings, "body")?))).await
}

/// Remove a rule's remediation.
#[utoipa::path(delete, path = "/v1/remediation/configurations/{rule}", tag = "remediation",
    params(RulePath), responses((status = 204, description = "removed")))]
pub(super) async fn delete_remediation(
    Acting(app): Acting,
    Path(RulePath { rule }): Path<RulePath>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        app.remove_remediation(&rule)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// A (rule, resource) pair in a request body or query string.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ExceptionTarget {
    /// The rule's name.
    rule: String,
    /// Resource type.
    #[serde(alias = "resource_type")]
    resource_type: String,
    /// Resource id.
    #[serde(alias = "resource_id")]
    resource_id: String,
    /// Account id, when the type and id exist in several.
    account: Option<String>,
    /// Region, when the type and id exist in several.
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

/// Queue remediation of a resource now.
///
/// Remediates the resource's latest judged version; 202 when a job was queued, 200 with the
/// existing job when an equivalent one is already queued or running.
#[utoipa::path(post, path = "/v1/remediation/run", tag = "remediation",
    request_body(content = ExceptionTarget, description = "the rule and the resource"),
    responses(
        (status = 202, description = "queued", body = QueuedRemediation),
        (status = 200, description = "already queued or running", body = QueuedRemediation)))]
pub(super) async fn run_remediation(
    Acting(app): Acting,
    JsonBody(target): JsonBody<ExceptionTarget>,
) -> Result<Response, ApiError> {
    blocking(move || {
        app.rule(&target.rule)?;
        let key = app.resolve(&target.selector())?;
        let (job, queued) = app.queue_remediation(&target.rule, &key)?;
        let status = if queued {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        Ok((status, Json(QueuedRemediation { queued, job })).into_response())
    })
    .await
}

/// Remediation exceptions.
#[utoipa::path(get, path = "/v1/remediation/exceptions", tag = "remediation",
    responses((status = 200, description = "every exception", body = ExceptionList)))]
pub(super) async fn list_exceptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<ExceptionList>, ApiError> {
    blocking(move || {
        let exceptions = state.app.exceptions()?;
        Ok(Json(ExceptionList { exceptions }))
    })
    .await
}

/// An exception in a request body: the target's fields, why, and until when. (The fields are
/// listed rather than flattened: serde cannot refuse unknown keys across a flatten.)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ExceptionBody {
    /// The rule's name.
    rule: String,
    /// Resource type.
    #[serde(alias = "resource_type")]
    resource_type: String,
    /// Resource id.
    #[serde(alias = "resource_id")]
    resource_id: String,
    /// Account id, when the type and id exist in several.
    account: Option<String>,
    /// Region, when the type and id exist in several.
    region: Option<String>,
    /// Why the resource is left alone.
    reason: String,
    /// RFC 3339 time, date or epoch seconds.
    expires: Option<String>,
}

/// Add or replace an exception.
#[utoipa::path(put, path = "/v1/remediation/exceptions", tag = "remediation",
    request_body(content = ExceptionBody, description = "the rule, the resource and why"),
    responses((status = 200, description = "the stored exception", body = RemediationException)))]
pub(super) async fn put_exception(
    Acting(app): Acting,
    JsonBody(body): JsonBody<ExceptionBody>,
) -> Result<Json<RemediationException>, ApiError> {
    let expires_at = body
        .expires
        .as_deref()
        .map(|t| parse_time_arg(t).map_err(|e| ApiError::bad_request(format!("expires: {e}"))))
        .transpose()?;
    blocking(move || {
        let target = ExceptionTarget {
            rule: body.rule,
            resource_type: body.resource_type,
            resource_id: body.resource_id,
            account: body.account,
            region: body.region,
        };
        let exception =
            app.add_exception(&target.rule, &target.selector(), &body.reason, expires_at)?;
        Ok(Json(exception))
    })
    .await
}

/// Remove an exception.
#[utoipa::path(delete, path = "/v1/remediation/exceptions", tag = "remediation",
    params(ExceptionTarget), responses((status = 204, description = "removed")))]
pub(super) async fn delete_exception(
    Acting(app): Acting,
    Query(target): Query<ExceptionTarget>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        app.remove_exception(&target.rule, &target.selector())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct JobsParams {
    /// Only jobs in this state.
    #[param(value_type = Option<JobState>)]
    state: Option<String>,
    /// Only this rule's jobs.
    rule: Option<String>,
}

/// Remediation jobs.
#[utoipa::path(get, path = "/v1/remediation/jobs", tag = "remediation", params(JobsParams),
    responses((status = 200, description = "the jobs", body = JobList)))]
pub(super) async fn jobs(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<JobsParams>,
) -> Result<Json<JobList>, ApiError> {
    let filter = JobFilter {
        state: parse_state(p.state.as_deref(), JobState::parse)?,
        rule: p.rule,
    };
    blocking(move || {
        let jobs = state.app.jobs(&filter)?;
        Ok(Json(JobList { jobs }))
    })
    .await
}

/// A job named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct JobPath {
    /// The job's id.
    id: u64,
}

/// One job with every attempt.
#[utoipa::path(get, path = "/v1/remediation/jobs/{id}", tag = "remediation", params(JobPath),
    responses((status = 200, description = "the job", body = RemediationJob)))]
pub(super) async fn job(
    State(state): State<Arc<ApiState>>,
    Path(JobPath { id }): Path<JobPath>,
) -> Result<Json<RemediationJob>, ApiError> {
    blocking(move || Ok(Json(state.app.job(id)?))).await
}
