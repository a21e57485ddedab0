//! The HTTP API (axum, under `/v1`, JSON): the same questions as the CLI, over HTTP, with
//! bearer-token roles. Store work runs on the blocking pool, never on the async threads.
//! Routes are declared once in [`endpoints`], from which both the router and the OpenAPI
//! document are built.

pub mod auth;
mod error;
mod events;
mod ingest;
pub mod openapi;
mod operations;
mod remediation;
mod resources;
mod rules;
mod stream;
mod subscriptions;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use serde::de::DeserializeOwned;

pub use auth::{Role, Tokens};
pub use error::ApiError;
use openapi::{field_names, BodyKind, Endpoint};

use crate::app::App;

/// Largest request body accepted (ingest batches, gzip or not, and rule uploads).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// What every handler shares.
pub struct ApiState {
    /// The use cases.
    pub app: App,
    /// Who may do what.
    pub tokens: Tokens,
    /// Becomes true when the server stops, ending live streams (which would otherwise keep
    /// graceful shutdown waiting forever).
    pub closing: tokio::sync::watch::Sender<bool>,
}

/// Runs store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("worker task failed: {e}")))?
}

/// axum's `Query`, answering bad parameters with a JSON 400 that names them.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::bad_request(format!("query string: {}", e.body_text())))
    }
}

/// axum's `Path`, answering bad segments with a JSON 400.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))
    }
}

/// The raw body, answering an oversized one with a JSON 413.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large(format!(
                        "the body is larger than the limit of {MAX_BODY_BYTES} bytes; send smaller batches"
                    ))
                } else {
                    ApiError::bad_request(format!("body: {}", e.body_text()))
                }
            })
    }
}

/// A JSON body (camelCase keys; the configuration file's snake_case keys are accepted too),
/// answering errors with a JSON 400.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Body(bytes) = Body::from_request(request, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("body: {e}")))
    }
}

/// No query parameters.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

fn endpoint(
    method: Method,
    path: &'static str,
    role: Option<Role>,
    summary: &'static str,
    query: &'static [&'static str],
    body: BodyKind,
    handler: MethodRouter<Arc<ApiState>>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        role,
        summary,
        query,
        body,
        produces: "application/json",
        handler,
    }
}

/// Every route, in one table.
pub fn endpoints() -> Vec<Endpoint> {
    use events::*;
    use ingest::*;
    use operations::*;
    use remediation::*;
    use resources::*;
    use rules::*;
    use stream::*;
    use subscriptions::*;
    let (r, i, a) = (Some(Role::Read), Some(Role::Ingest), Some(Role::Admin));
    let none = field_names::<NoParams>();
    let at = field_names::<Where>();
    let mut list = vec![
        endpoint(Method::GET, "/healthz", None, "Liveness: answers ok.", none, BodyKind::None, get(|| async { "ok" })),
        endpoint(Method::GET, "/v1/openapi.json", None, "This document.", none, BodyKind::None, get(openapi)),
        endpoint(Method::GET, "/metrics", r, "Prometheus metrics.", none, BodyKind::None, get(metrics)),
        endpoint(Method::POST, "/v1/ingest", i, "Ingest configuration items and CloudTrail events in any shape `conftrail ingest` reads (gzip too); answers when durable.", field_names::<IngestParams>(), BodyKind::Documents, post(ingest)),
        endpoint(Method::GET, "/v1/resources", r, "Recorded resources with their latest state.", field_names::<ResourcesParams>(), BodyKind::None, get(list_resources)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}", r, "The latest version of a resource (or the one in force `at` a time), with related events.", field_names::<LatestParams>(), BodyKind::None, get(latest)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}/history", r, "A resource's versions, paged.", field_names::<HistoryParams>(), BodyKind::None, get(history)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}/versions/{n}", r, "One version.", at, BodyKind::None, get(version)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}/diff", r, "configurationItemDiff and unified diff between two versions.", field_names::<DiffParams>(), BodyKind::None, get(diff)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}/timeline", r, "Versions with the API calls that caused them, verdicts and remediation.", at, BodyKind::None, get(timeline)),
        endpoint(Method::GET, "/v1/resources/{type}/{id}/compliance", r, "A resource's latest verdict per rule and its verdict history.", field_names::<ResourceComplianceParams>(), BodyKind::None, get(resource_compliance)),
        endpoint(Method::GET, "/v1/events", r, "API event lookup by any combination of filters (format=json|csv).", field_names::<crate::query::EventLookup>(), BodyKind::None, get(events)),
        endpoint(Method::POST, "/v1/events/purge", a, "Remove API events older than the retention.", field_names::<PurgeParams>(), BodyKind::None, post(purge_events)),
        endpoint(Method::POST, "/v1/evaluate", a, "Evaluate every enabled rule (or one) now on the latest versions in scope.", field_names::<EvaluateAllParams>(), BodyKind::None, post(evaluate)),
        endpoint(Method::GET, "/v1/compliance", r, "Compliance summary per rule and resource.", field_names::<ComplianceParams>(), BodyKind::None, get(compliance)),
        endpoint(Method::GET, "/v1/rules", r, "Every rule with its settings.", none, BodyKind::None, get(list_rules)),
        endpoint(Method::POST, "/v1/rules", a, "Upload a WebAssembly rule (body: the .wasm component).", field_names::<UploadParams>(), BodyKind::Wasm, post(upload_rule)),
        endpoint(Method::GET, "/v1/rules/{name}", r, "One rule.", none, BodyKind::None, get(get_rule)),
        endpoint(Method::PUT, "/v1/rules/{name}", a, "Replace a rule's WebAssembly component, keeping its settings.", none, BodyKind::Wasm, put(replace_rule)),
        endpoint(Method::PATCH, "/v1/rules/{name}", a, "Change a rule's settings: enabled, parameters, schedule, deadline_ms, memory_limit_mib.", none, BodyKind::Json, patch(patch_rule)),
        endpoint(Method::DELETE, "/v1/rules/{name}", a, "Remove an added rule.", none, BodyKind::None, delete(delete_rule)),
        endpoint(Method::POST, "/v1/rules/{name}/evaluate", a, "Evaluate a rule now on its scope's latest versions.", field_names::<EvaluateParams>(), BodyKind::None, post(evaluate_rule)),
        endpoint(Method::GET, "/v1/remediation/configurations", r, "Every remediation configuration.", none, BodyKind::None, get(list_remediations)),
        endpoint(Method::GET, "/v1/remediation/configurations/{rule}", r, "One rule's remediation configuration.", none, BodyKind::None, get(get_remediation)),
        endpoint(Method::PUT, "/v1/remediation/configurations/{rule}", a, "Set a rule's remediation (the settings of [remediation.RULE], keys in camelCase or as in the file).", none, BodyKind::Json, put(put_remediation)),
        endpoint(Method::DELETE, "/v1/remediation/configurations/{rule}", a, "Remove a rule's remediation.", none, BodyKind::None, delete(delete_remediation)),
        endpoint(Method::GET, "/v1/remediation/jobs", r, "Remediation jobs.", field_names::<JobsParams>(), BodyKind::None, get(jobs)),
        endpoint(Method::GET, "/v1/remediation/jobs/{id}", r, "One job with every attempt.", none, BodyKind::None, get(job)),
        endpoint(Method::POST, "/v1/remediation/run", a, "Queue remediation of a resource now (body: rule, resource_type, resource_id).", none, BodyKind::Json, post(run_remediation)),
        endpoint(Method::GET, "/v1/remediation/exceptions", r, "Remediation exceptions.", none, BodyKind::None, get(list_exceptions)),
        endpoint(Method::PUT, "/v1/remediation/exceptions", a, "Add or replace an exception (body: rule, resource_type, resource_id, reason, expires).", none, BodyKind::Json, put(put_exception)),
        endpoint(Method::DELETE, "/v1/remediation/exceptions", a, "Remove an exception.", field_names::<ExceptionTarget>(), BodyKind::None, delete(delete_exception)),
        endpoint(Method::GET, "/v1/subscriptions", r, "Webhook subscriptions.", none, BodyKind::None, get(list_subscriptions)),
        endpoint(Method::GET, "/v1/subscriptions/{name}", r, "One subscription.", none, BodyKind::None, get(get_subscription)),
        endpoint(Method::PUT, "/v1/subscriptions/{name}", a, "Add or replace a subscription (the settings of [[subscriptions]], keys in camelCase or as in the file).", none, BodyKind::Json, put(put_subscription)),
        endpoint(Method::DELETE, "/v1/subscriptions/{name}", a, "Remove a subscription.", none, BodyKind::None, delete(delete_subscription)),
        endpoint(Method::GET, "/v1/subscriptions/{name}/deliveries", r, "A subscription's deliveries with every attempt.", none, BodyKind::None, get(list_deliveries)),
        endpoint(Method::GET, "/v1/stream", r, "Server-sent events: configuration, compliance and remediation changes.", field_names::<StreamParams>(), BodyKind::None, get(stream)),
    ];
    for e in &mut list {
        if e.path == "/metrics" {
            e.produces = "text/plain";
        } else if e.path == "/v1/stream" {
            e.produces = "text/event-stream";
        }
    }
    list
}

/// The router: every endpoint behind its role check, JSON 404 for anything else.
pub fn router(state: Arc<ApiState>) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<Arc<ApiState>>)> = Vec::new();
    for e in endpoints() {
        let handler = match e.role {
            Some(role) => e.handler.route_layer(middleware::from_fn_with_state(
                (state.clone(), role),
                require,
            )),
            None => e.handler,
        };
        match by_path.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((e.path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .fallback(|| async { ApiError::not_found("no such route (see /v1/openapi.json)") })
        .method_not_allowed_fallback(|| async {
            ApiError::method_not_allowed(
                "this route does not take that method (see /v1/openapi.json)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn require(
    State((state, role)): State<(Arc<ApiState>, Role)>,
    request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.tokens.check(header, role) {
        Ok(()) => next.run(request).await,
        Err(denied) => ApiError::denied(denied, role).into_response(),
    }
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let closing = state.closing.clone();
    // Small answers go out at once: without TCP_NODELAY a response written in two parts waits
    // for the client's delayed ACK (tens of milliseconds on loopback).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.send_replace(true);
        })
        .await
}
