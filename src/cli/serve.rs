//! `serve`: the HTTP API with the worker (schedules, housekeeping, remediation, notification
//! deliveries) in one process, configured by a TOML file, flags and environment variables.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::api::{self, ApiState, Role, Tokens};
use crate::config_file::{self, ConfigFile, RoleName};
use crate::evaluator::Evaluator;
use crate::linker::EventMap;
use crate::remediation::{self, WorkerOptions};
use crate::scheduler::CronSchedule;
use crate::store::Store;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML; see examples/conftrail.toml). Flags and environment win over it.
    #[arg(long, env = "CONFTRAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free port, printed on start.
    #[arg(long, env = "CONFTRAIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Bearer tokens, `role:secret` comma-separated (roles: read, ingest, admin), in addition to
    /// the file's. Without any token, only a loopback address is allowed.
    #[arg(
        long,
        env = "CONFTRAIL_API_TOKENS",
        hide_env_values = true,
        value_name = "TOKENS"
    )]
    pub tokens: Option<String>,
    /// Do not run schedules, remediation and deliveries in this process.
    #[arg(long)]
    pub no_worker: bool,
}

/// Everything `serve` runs with, after file, environment and flags are merged.
pub struct ServeSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Who may do what.
    pub tokens: Tokens,
    /// Whether the worker runs in-process.
    pub worker: bool,
    /// How it runs.
    pub worker_options: WorkerOptions,
    /// The configuration file, if any (applied to the store at start).
    pub file: ConfigFile,
}

/// Reads the configuration file named by `args` (if any).
pub fn load_file(args: &ServeArgs) -> Result<ConfigFile> {
    Ok(match &args.config {
        Some(path) => config_file::load(path)?,
        None => ConfigFile::default(),
    })
}

/// Merges the file with flags and environment variables (which win).
pub fn settings(args: &ServeArgs, file: ConfigFile) -> Result<ServeSettings> {
    let listen = match (args.listen, file.listen) {
        (Some(flag), _) => flag,
        (None, Some(from_file)) => from_file,
        (None, None) => DEFAULT_LISTEN.parse().context("default listen address")?,
    };
    let mut tokens = match &args.tokens {
        Some(text) => Tokens::parse(text).map_err(|e| anyhow::anyhow!("--tokens: {e}"))?,
        None => Tokens::default(),
    };
    for entry in &file.tokens {
        let role = match entry.role {
            RoleName::Read => Role::Read,
            RoleName::Ingest => Role::Ingest,
            RoleName::Admin => Role::Admin,
        };
        tokens
            .add_hashed(&entry.secret_sha256()?, role)
            .map_err(anyhow::Error::msg)?;
    }
    if !tokens.is_enabled() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without tokens: anyone who can reach it could read and change everything. Configure tokens ([[tokens]] in the file, or CONFTRAIL_API_TOKENS=role:secret,...) or listen on 127.0.0.1"
        );
    }
    let mut worker_options = WorkerOptions::default();
    if let Some(days) = file.retention.event_days {
        worker_options.event_retention_days = days;
    }
    if let Some(schedule) = &file.retention.purge_schedule {
        worker_options.purge_schedule = match schedule.as_str() {
            "off" => None,
            text => Some(
                CronSchedule::parse(text)
                    .map_err(|e| anyhow::anyhow!("retention.purge_schedule: {e}"))?,
            ),
        };
    }
    if let Some(max) = file.worker.max_concurrent_actions {
        worker_options.max_concurrent_actions = max;
    }
    Ok(ServeSettings {
        listen,
        tokens,
        worker: !args.no_worker && file.worker.enabled.unwrap_or(true),
        worker_options,
        file,
    })
}

/// Runs `serve` until SIGINT or SIGTERM. `data_dir` and `event_map` are the global flags.
pub fn run_serve(
    out: &mut impl Write,
    data_dir: Option<&Path>,
    event_map: Option<&Path>,
    args: ServeArgs,
) -> Result<u8> {
    let settings = settings(&args, load_file(&args)?)?;
    let dir = data_dir
        .map(Path::to_path_buf)
        .or_else(|| settings.file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(super::DEFAULT_DATA_DIR));
    let event_map = EventMap::load(event_map.or(settings.file.event_map.as_deref()))?;
    let store = Store::open(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(settings.listen))
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let server = Server::start(store, event_map, settings)?;
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    tracing::info!(%addr, data_dir = %dir.display(), "serving");
    let served = runtime.block_on(api::serve(
        listener,
        server.state.clone(),
        shutdown_signal(),
    ));
    server.stop()?;
    served.context("serving HTTP")?;
    writeln!(out, "stopped")?;
    Ok(0)
}

/// The API state and the worker thread of a running server.
pub struct Server {
    /// Shared with every request.
    pub state: Arc<ApiState>,
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<Result<(), crate::store::StoreError>>>,
}

impl Server {
    /// Applies the configuration file to the store, builds the API state and starts the worker.
    pub fn start(store: Store, event_map: EventMap, settings: ServeSettings) -> Result<Server> {
        let registry = super::rules::open_registry(&store)?;
        let applied = crate::settings::apply_file(&settings.file, &store, &registry)?;
        tracing::info!(?applied, "configuration file applied");
        let workers = super::rules::worker_count();
        let rules_changed = Arc::new(AtomicBool::new(false));
        let state = Arc::new(ApiState {
            store: store.clone(),
            tokens: settings.tokens,
            event_map,
            evaluator: Mutex::new(Evaluator::new(&registry, &store, workers)?),
            registry,
            evaluation_workers: workers,
            rules_changed: rules_changed.clone(),
            closing: tokio::sync::watch::channel(false).0,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let worker = if settings.worker {
            let (state, stop) = (state.clone(), stop.clone());
            let options = settings.worker_options;
            Some(
                std::thread::Builder::new()
                    .name("worker".into())
                    .spawn(move || supervise_worker(&state, &options, &stop, &rules_changed))
                    .context("starting the worker thread")?,
            )
        } else {
            None
        };
        Ok(Server {
            state,
            stop,
            worker,
        })
    }

    /// Stops the worker (running actions finish; queued jobs stay queued) and flushes.
    pub fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        self.state.rules_changed.store(true, Ordering::SeqCst);
        if let Some(worker) = self.worker {
            match worker.join() {
                Ok(result) => result?,
                Err(_) => bail!("the worker thread panicked"),
            }
        }
        self.state.store.flush()?;
        Ok(())
    }
}

/// Runs the worker, restarting it with fresh rules whenever the API changes them.
fn supervise_worker(
    state: &ApiState,
    options: &WorkerOptions,
    stop: &AtomicBool,
    rules_changed: &AtomicBool,
) -> Result<(), crate::store::StoreError> {
    while !stop.load(Ordering::SeqCst) {
        rules_changed.store(false, Ordering::SeqCst);
        let (mut evaluator, definitions) =
            match Evaluator::new(&state.registry, &state.store, state.evaluation_workers)
                .and_then(|e| Ok((e, state.registry.list()?)))
            {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::error!(error = %e, "worker cannot load rules; retrying in 5 s");
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    continue;
                }
            };
        // `rules_changed` doubles as this run's stop flag; `stop` decides whether to go on.
        remediation::run_worker(
            &state.store,
            &mut evaluator,
            &definitions,
            options,
            rules_changed,
        )?;
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
