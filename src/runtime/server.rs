//! The server: the configuration file applied, the HTTP API's shared state and the background
//! workers, started and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Runtime, RuntimeOptions};
use crate::api::{ApiState, Tokens};
use crate::app::{App, AppError};
use crate::config_file::ConfigFile;
use crate::console::ConsoleState;

/// Everything a server runs with, after file, environment and flags are merged.
pub struct ServerSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Who may do what.
    pub tokens: Tokens,
    /// Whether the background workers run in this process.
    pub workers: bool,
    /// How they run.
    pub runtime: RuntimeOptions,
    /// The configuration file, if any (applied to the store at start).
    pub file: ConfigFile,
}

/// The API state and the workers of a running server.
pub struct Server {
    /// Shared with every API request.
    pub state: Arc<ApiState>,
    /// Shared with every console page.
    pub console: Arc<ConsoleState>,
    runtime: Option<Runtime>,
}

impl Server {
    /// Applies the configuration file to the store, builds the API state and starts the
    /// workers.
    pub fn start(app: App, settings: ServerSettings) -> Result<Server, AppError> {
        let applied = app
            .acting_as(crate::model::Actor::configuration_file())
            .apply_file(&settings.file)?;
        tracing::info!(?applied, "configuration file applied");
        app.reload_subscriptions()?;
        app.rules_changed();
        app.set_collector(super::collector_worker::collector_from_file(
            &app,
            &settings.file.collector,
        )?);
        let runtime = if settings.workers {
            Some(Runtime::start(&app, settings.runtime)?)
        } else {
            None
        };
        let sessions = Arc::new(crate::auth::Sessions::default());
        let refusals = Arc::new(crate::auth::Refusals::default());
        let closing = tokio::sync::watch::channel(false).0;
        let console = Arc::new(ConsoleState {
            app: app.clone(),
            tokens: settings.tokens.clone(),
            sessions: sessions.clone(),
            open_csrf: crate::auth::sessions::random_hex()
                .map_err(|e| AppError::Invalid(e.to_string()))?,
            refusals: refusals.clone(),
            closing: closing.subscribe(),
        });
        let state = Arc::new(ApiState {
            app,
            tokens: settings.tokens,
            sessions,
            allow_command_actions: settings.file.api.allow_command_actions.unwrap_or(false),
            closing,
            refusals: refusals.clone(),
        });
        Ok(Server {
            state,
            console,
            runtime,
        })
    }

    /// Serves the console and the API until `shutdown` resolves, then stops accepting and
    /// lets requests in flight finish.
    pub fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
        super::http::serve(listener, self.state.clone(), self.console.clone(), shutdown)
    }

    /// Stops the workers (running actions finish; queued jobs stay queued) and flushes.
    pub fn stop(self) -> Result<(), AppError> {
        if let Some(runtime) = self.runtime {
            runtime.stop()?;
        }
        self.state.app.store().flush()?;
        Ok(())
    }
}
