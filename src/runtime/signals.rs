//! Stop signals (Ctrl-C, SIGTERM), one mechanism for every long-running command.
//!
//! Signals are listened for from the moment [`StopSignals::listen`] returns, so a SIGTERM sent
//! right after a server says it is ready (a supervisor, a test) stops it cleanly instead of
//! killing it before anything awaits the signal.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Ctrl-C and SIGTERM, caught from creation on.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Starts catching Ctrl-C and SIGTERM; call inside the Tokio runtime that will await them.
    pub fn listen() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves on the first Ctrl-C or SIGTERM since [`StopSignals::listen`].
    pub async fn stopped(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        tracing::info!("shutting down");
    }
}

/// Stop signals for a thread without a runtime of its own (the `worker` command).
pub struct BlockingStopSignals {
    runtime: tokio::runtime::Runtime,
    signals: StopSignals,
}

impl BlockingStopSignals {
    /// Starts catching Ctrl-C and SIGTERM.
    pub fn listen() -> std::io::Result<BlockingStopSignals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let signals = runtime.block_on(async { StopSignals::listen() })?;
        Ok(BlockingStopSignals { runtime, signals })
    }

    /// Blocks until Ctrl-C or SIGTERM (one that came since `listen` counts).
    pub fn wait(self) {
        self.runtime.block_on(self.signals.stopped());
    }
}
