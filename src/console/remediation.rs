//! (being written)

use std::sync::Arc;

use axum::Router;

use super::ConsoleState;

/// The remediation pages' routes.
pub(super) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
}
