//! (being written)

use std::sync::Arc;

use axum::Router;

use super::ConsoleState;

/// The rules pages' routes.
pub(super) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
}
