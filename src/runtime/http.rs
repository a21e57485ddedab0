//! The HTTP listener: the console at the root and the API under `/v1`, on one port.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::api::{self, ApiState};
use crate::console::{self, ConsoleState};

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    console: Arc<ConsoleState>,
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
    let router = console::router(console, api::router(state));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        closing.send_replace(true);
    })
    .await
}
