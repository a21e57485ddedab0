//! The HTTP API (axum, under `/v1`, JSON): the same questions as the CLI, over HTTP, with
//! bearer-token roles. Store work runs on the blocking pool, never on the async threads.

pub mod auth;
mod error;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

pub use auth::{Role, Tokens};
pub use error::ApiError;

use crate::evaluator::{compliance_summary, ComplianceFilter, Evaluator, SummaryState};
use crate::linker::EventMap;
use crate::model::{parse_time_arg, Timestamp};
use crate::query::{self, ResourceSelector, VersionSelector};
use crate::remediation::JobState;
use crate::store::{HistoryOrder, HistoryQuery, PageToken, Store};

/// Largest request body accepted (ingest batches, gzip or not).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// What every handler shares.
pub struct ApiState {
    /// The store.
    pub store: Store,
    /// Who may do what.
    pub tokens: Tokens,
    /// The event-resource table used by ingest.
    pub event_map: EventMap,
    /// Judges ingested versions; one ingest at a time holds it.
    pub evaluator: Mutex<Evaluator>,
}

/// Runs store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("worker task failed: {e}")))?
}

/// The router: `/healthz` without auth, `/v1/...` by role.
pub fn router(state: Arc<ApiState>) -> Router {
    let read = Router::new()
        .route("/v1/resources", get(list_resources))
        .route("/v1/resources/{type}/{id}/history", get(history))
        .route("/v1/resources/{type}/{id}/versions/{n}", get(version))
        .route("/v1/resources/{type}/{id}", get(latest))
        .route("/v1/resources/{type}/{id}/diff", get(diff))
        .route("/v1/resources/{type}/{id}/timeline", get(timeline))
        .route("/v1/compliance", get(compliance))
        .route("/v1/remediation/jobs", get(jobs))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_read));
    let ingest = Router::new().route("/v1/ingest", post(ingest)).route_layer(
        middleware::from_fn_with_state(state.clone(), require_ingest),
    );
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(read)
        .merge(ingest)
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn require(state: &ApiState, request: Request, next: Next, role: Role) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.tokens.check(header, role) {
        Ok(()) => next.run(request).await,
        Err(denied) => axum::response::IntoResponse::into_response(ApiError::denied(denied, role)),
    }
}

async fn require_read(State(s): State<Arc<ApiState>>, r: Request, n: Next) -> Response {
    require(&s, r, n, Role::Read).await
}

async fn require_ingest(State(s): State<Arc<ApiState>>, r: Request, n: Next) -> Response {
    require(&s, r, n, Role::Ingest).await
}

/// Account and region, when the type and id exist in several.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Where {
    account: Option<String>,
    region: Option<String>,
}

fn selector(resource_type: String, resource_id: String, at: Where) -> ResourceSelector {
    ResourceSelector {
        resource_type,
        resource_id,
        account_id: at.account,
        region: at.region,
    }
}

fn time_param(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|t| parse_time_arg(t).map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesParams {
    #[serde(rename = "type")]
    resource_type: Option<String>,
}

async fn list_resources(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<ResourcesParams>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let entries: Vec<_> = query::resources(&state.store, params.resource_type.as_deref())
            .collect::<Result<_, _>>()?;
        Ok(Json(serde_json::json!({ "resources": entries })))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HistoryParams {
    account: Option<String>,
    region: Option<String>,
    since: Option<String>,
    until: Option<String>,
    order: Option<String>,
    limit: Option<usize>,
    next: Option<String>,
}

async fn history(
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
        let key = query::resolve(&state.store, &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(query::history(
            &state.store,
            &key,
            &q,
        )?)?))
    })
    .await
}

async fn version(
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

async fn latest(
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

async fn show(
    state: Arc<ApiState>,
    sel: ResourceSelector,
    which: VersionSelector,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let key = query::resolve(&state.store, &sel)?;
        let mut item = query::show(&state.store, &key, which)?;
        item.related_events = crate::timeline::related_events(&state.store, &item)?;
        Ok(Json(serde_json::to_value(item)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DiffParams {
    account: Option<String>,
    region: Option<String>,
    from: Option<u64>,
    to: Option<u64>,
}

async fn diff(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(p): Query<DiffParams>,
) -> Result<Json<Value>, ApiError> {
    let at = Where {
        account: p.account,
        region: p.region,
    };
    blocking(move || {
        let key = query::resolve(&state.store, &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(query::diff(
            &state.store,
            &key,
            p.from,
            p.to,
        )?)?))
    })
    .await
}

async fn timeline(
    State(state): State<Arc<ApiState>>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    Query(at): Query<Where>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let key = query::resolve(&state.store, &selector(resource_type, resource_id, at))?;
        Ok(Json(serde_json::to_value(crate::timeline::timeline(
            &state.store,
            &key,
        )?)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplianceParams {
    rule: Option<String>,
    #[serde(rename = "type")]
    resource_type: Option<String>,
    state: Option<String>,
}

async fn compliance(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<ComplianceParams>,
) -> Result<Json<Value>, ApiError> {
    let wanted = p
        .state
        .as_deref()
        .map(|s| {
            SummaryState::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("state: unknown state {s:?}")))
        })
        .transpose()?;
    blocking(move || {
        let filter = ComplianceFilter {
            rule: p.rule,
            resource_type: p.resource_type,
            state: wanted,
        };
        let summary = compliance_summary(&state.store, &state.store.rule_definitions()?, &filter)?;
        Ok(Json(serde_json::to_value(summary)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsParams {
    state: Option<String>,
    rule: Option<String>,
}

async fn jobs(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<JobsParams>,
) -> Result<Json<Value>, ApiError> {
    let wanted = p
        .state
        .as_deref()
        .map(|s| {
            JobState::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("state: unknown job state {s:?}")))
        })
        .transpose()?;
    blocking(move || {
        let mut jobs = Vec::new();
        for job in state.store.jobs() {
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

/// Ingests a body in any shape `conftrail ingest` reads; answers once it is durable.
async fn ingest(State(state): State<Arc<ApiState>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty body: send configuration items or CloudTrail events",
        ));
    }
    blocking(move || {
        let mut evaluator = state
            .evaluator
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let report = crate::pipeline::ingest_bytes_evaluated(
            &state.store,
            "request body",
            &body,
            &state.event_map,
            Some(&mut evaluator),
        )?;
        state.store.flush()?;
        Ok(Json(serde_json::to_value(report)?))
    })
    .await
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
