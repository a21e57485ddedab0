//! The web console: server-rendered pages (askama templates, checked at compile time) over the
//! application layer, with a vendored htmx for partial updates. Everything it serves is in the
//! binary. Pages read through [`App`] directly; writes are HTML forms carrying a CSRF secret.
//!
//! Routes live at the root (`/`, `/inventory`, `/resource`, `/events`, `/rules`,
//! `/remediation`, `/sign-in`, `/assets/…`); the API keeps `/v1`.

mod assets;
mod dashboard;
mod diff_view;
mod error;
mod events;
mod format;
mod inventory;
mod page;
mod remediation;
mod resource;
mod rules;
mod viewer;
mod which;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::app::App;
use crate::auth::{Sessions, Tokens};

pub use error::PageError;
pub use viewer::Viewer;

/// What every page shares.
pub struct ConsoleState {
    /// The use cases.
    pub app: App,
    /// The API's tokens, exchanged for sessions at sign-in.
    pub tokens: Tokens,
    /// Signed-in users.
    pub sessions: Arc<Sessions>,
    /// The CSRF secret of a server without tokens (no sessions there, but a page on another
    /// site must still not be able to post to it).
    pub open_csrf: String,
    /// Refused sign-ins recorded in the audit trail (shared with the API).
    pub refusals: Arc<crate::auth::Refusals>,
    /// Becomes true when the server stops (ends the live stream).
    pub closing: tokio::sync::watch::Receiver<bool>,
}

/// The console's routes; anything else falls through to `fallback` (the API).
pub fn router(state: Arc<ConsoleState>, fallback: Router) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/dashboard/panels", get(dashboard::panels))
        .route("/live", get(dashboard::live))
        .route("/inventory", get(inventory::page))
        .route("/resource", get(resource::page))
        .route("/resource/diff", get(resource::diff))
        .route("/resource/version", get(resource::version_json))
        .route("/events", get(events::page))
        .route("/events/record", get(events::record))
        .merge(rules::routes())
        .merge(remediation::routes())
        .route("/sign-in", get(viewer::sign_in_page).post(viewer::sign_in))
        .route("/sign-out", post(viewer::sign_out))
        .route("/assets/{file}", get(assets::serve))
        .with_state(state)
        .fallback_service(fallback)
}

/// Runs store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PageError::internal(format!("worker task failed: {e}")))?
}
