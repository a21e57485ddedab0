//! `serve`: the HTTP API with the worker (schedules, housekeeping, remediation) in one process.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::api::{self, ApiState, Tokens};
use crate::evaluator::Evaluator;
use crate::linker::EventMap;
use crate::remediation::{self, WorkerOptions};
use crate::store::Store;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer tokens, `role:secret` comma-separated (roles: read, ingest, admin). Without any,
    /// only a loopback address is allowed.
    #[arg(
        long,
        env = "CONFTRAIL_API_TOKENS",
        hide_env_values = true,
        value_name = "TOKENS"
    )]
    pub tokens: Option<String>,
    /// Do not run schedules and the remediation queue in this process.
    #[arg(long)]
    pub no_worker: bool,
}

/// Runs `serve` until SIGINT or SIGTERM.
pub fn run_serve(
    out: &mut impl Write,
    data_dir: &Path,
    event_map: EventMap,
    args: ServeArgs,
) -> Result<u8> {
    let tokens = match &args.tokens {
        Some(text) => Tokens::parse(text).map_err(|e| anyhow::anyhow!("--tokens: {e}"))?,
        None => Tokens::default(),
    };
    if !tokens.is_enabled() && !args.listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {} without tokens: anyone who can reach it could read and change everything. Set CONFTRAIL_API_TOKENS (role:secret,...) or listen on 127.0.0.1",
            args.listen
        );
    }
    let store = Store::open(data_dir)?;
    let registry = super::rules::open_registry(&store)?;
    let workers = super::rules::worker_count();
    let state = Arc::new(ApiState {
        store: store.clone(),
        tokens,
        event_map,
        evaluator: Mutex::new(Evaluator::new(&registry, &store, workers)?),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let worker = if args.no_worker {
        None
    } else {
        let mut evaluator = Evaluator::new(&registry, &store, workers)?;
        let definitions = registry.list()?;
        let (store, stop) = (store.clone(), stop.clone());
        Some(
            std::thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    remediation::run_worker(
                        &store,
                        &mut evaluator,
                        &definitions,
                        &WorkerOptions::default(),
                        &stop,
                    )
                })
                .context("starting the worker thread")?,
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
        tracing::info!(%addr, "serving");
        api::serve(listener, state, shutdown_signal())
            .await
            .context("serving HTTP")
    });
    stop.store(true, Ordering::SeqCst);
    if let Some(worker) = worker {
        match worker.join() {
            Ok(result) => {
                result?;
            }
            Err(_) => bail!("the worker thread panicked"),
        }
    }
    store.flush()?;
    served?;
    writeln!(out, "stopped")?;
    Ok(0)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: no new connections, finishing requests in flight");
}
