//! The HTTP API (axum, under `/v1`, JSON): the same questions as the CLI, over HTTP, with
//! bearer-token roles. Store work runs on the blocking pool, never on the async threads.
//! Each route is declared once, by its handler's `#[utoipa::path]`; the router and the OpenAPI
//! document are both built from those declarations ([`routes`]).

mod audit;

mod collector;
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
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use serde::de::DeserializeOwned;

pub use crate::auth::{Role, Tokens};
pub use error::ApiError;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::app::App;
use crate::auth::{self, Denied};
use crate::model::Actor;
use axum::extract::ConnectInfo;
use std::net::SocketAddr;

/// Largest request body accepted (ingest batches, gzip or not, and rule uploads).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// What every handler shares.
pub struct ApiState {
    /// The use cases.
    pub app: App,
    /// Who may do what.
    pub tokens: Tokens,
    /// The console's sessions: they may read through the API too (GET only, so a cookie
    /// never authorises a change; the console's own forms carry a CSRF secret).
    pub sessions: Arc<crate::auth::Sessions>,
    /// Whether `command` remediations (programs run on this host) may be set over the API.
    pub allow_command_actions: bool,
    /// Becomes true when the server stops, ending live streams (which would otherwise keep
    /// graceful shutdown waiting forever).
    pub closing: tokio::sync::watch::Sender<bool>,
    /// Refused authentications recorded in the audit trail (shared with the console).
    pub refusals: Arc<crate::auth::Refusals>,
}

/// The application acting as the caller: its changes are recorded in the audit trail under
/// the token's name and the client's address.
pub struct Acting(pub App);

impl FromRequestParts<Arc<ApiState>> for Acting {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, ApiError> {
        // Set by the role check; every route that changes something has one.
        let actor = parts
            .extensions
            .get::<Actor>()
            .cloned()
            .unwrap_or_else(|| Actor {
                name: auth::OPEN_ACCESS.into(),
                source: client_address(parts.extensions.get()),
            });
        Ok(Acting(state.app.acting_as(actor)))
    }
}

/// The client's address, when the server was started with connection info.
fn client_address(info: Option<&ConnectInfo<SocketAddr>>) -> Option<String> {
    info.map(|ConnectInfo(addr)| addr.to_string())
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

/// Every operation with the role it needs, each declared by its handler's `#[utoipa::path]`.
fn routes() -> Vec<(Option<Role>, UtoipaMethodRouter<Arc<ApiState>>)> {
    use audit::*;
    use collector::*;
    use events::*;
    use ingest::*;
    use operations::*;
    use remediation::*;
    use resources::*;
    use rules::*;
    use stream::*;
    use subscriptions::*;
    let (r, i, a) = (Some(Role::Read), Some(Role::Ingest), Some(Role::Admin));
    vec![
        (None, routes!(healthz)),
        (None, routes!(openapi)),
        (r, routes!(metrics)),
        (i, routes!(ingest)),
        (r, routes!(list_resources)),
        (r, routes!(latest)),
        (r, routes!(history)),
        (r, routes!(version)),
        (r, routes!(diff)),
        (r, routes!(timeline)),
        (r, routes!(resource_compliance)),
        (r, routes!(events)),
        (a, routes!(purge_events)),
        (a, routes!(evaluate)),
        (r, routes!(compliance)),
        (r, routes!(list_rules)),
        (a, routes!(upload_rule)),
        (r, routes!(get_rule)),
        (a, routes!(replace_rule)),
        (a, routes!(patch_rule)),
        (a, routes!(delete_rule)),
        (a, routes!(evaluate_rule)),
        (r, routes!(list_remediations)),
        (r, routes!(get_remediation)),
        (a, routes!(put_remediation)),
        (a, routes!(delete_remediation)),
        (r, routes!(jobs)),
        (r, routes!(job)),
        (a, routes!(run_remediation)),
        (r, routes!(list_exceptions)),
        (a, routes!(put_exception)),
        (a, routes!(delete_exception)),
        (r, routes!(list_subscriptions)),
        (r, routes!(get_subscription)),
        (a, routes!(put_subscription)),
        (a, routes!(delete_subscription)),
        (r, routes!(list_deliveries)),
        (r, routes!(stream)),
        (a, routes!(audit)),
        (r, routes!(collector_status)),
        (a, routes!(sweep)),
    ]
}

/// The routes and their document; `guard` puts each role check in front of its handler.
fn assemble(
    guard: impl Fn(Role, MethodRouter<Arc<ApiState>>) -> MethodRouter<Arc<ApiState>>,
) -> (Router<Arc<ApiState>>, utoipa::openapi::OpenApi) {
    let mut api = OpenApiRouter::with_openapi(openapi::frame());
    for (role, (schemas, mut paths, handler)) in routes() {
        openapi::describe_access(&mut paths, role);
        let handler = match role {
            Some(role) => guard(role, handler),
            None => handler,
        };
        api = api.routes((schemas, paths, handler));
    }
    api.split_for_parts()
}

/// The OpenAPI document of every route.
pub fn document() -> utoipa::openapi::OpenApi {
    assemble(|_, handler| handler).1
}

/// The router: every route behind its role check, JSON 404 for anything else.
pub fn router(state: Arc<ApiState>) -> Router {
    let guarded = state.clone();
    let (router, _) = assemble(move |role, handler| {
        handler.route_layer(middleware::from_fn_with_state(
            (guarded.clone(), role),
            require,
        ))
    });
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
    let source = client_address(request.extensions().get());
    let checked = match (header, session_of(&state, &request)) {
        (None, Some(session)) if request.method() == axum::http::Method::GET => {
            if session.role >= role {
                Ok(session.name.as_str().to_string())
            } else {
                Err(Denied::Forbidden(session.role))
            }
        }
        _ => state.tokens.check(header, role).map(str::to_string),
    };
    match checked {
        Ok(name) => {
            let actor = Actor { name, source };
            let mut request = request;
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(denied) => {
            let target = format!("{} {}", request.method(), request.uri().path());
            state.refusals.record(&state.app, target, source, denied);
            ApiError::denied(denied, role).into_response()
        }
    }
}

/// The console session the request's cookie names, if it is live.
fn session_of(state: &ApiState, request: &Request) -> Option<crate::auth::Session> {
    let cookies = request
        .headers()
        .get(axum::http::header::COOKIE)?
        .to_str()
        .ok()?;
    state
        .sessions
        .get(crate::auth::sessions::session_cookie(cookies)?)
}
