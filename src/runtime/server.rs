//! The server: the configuration file applied, the HTTP API's shared state and the background
//! workers, started and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Runtime, RuntimeOptions};
use crate::api::{ApiState, Tokens};
use crate::app::{App, AppError};
use crate::config_file::ConfigFile;

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
    /// Shared with every request.
    pub state: Arc<ApiState>,
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
        let state = Arc::new(ApiState {
            app,
            tokens: settings.tokens,
            allow_command_actions: settings.file.api.allow_command_actions.unwrap_or(false),
            closing: tokio::sync::watch::channel(false).0,
            last_refusal_recorded: Default::default(),
        });
        Ok(Server { state, runtime })
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
