//! `serve`: the HTTP API with the worker (schedules, housekeeping, remediation, notification
//! deliveries) in one process, configured by a TOML file, flags and environment variables.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::api::Tokens;
use crate::config_file::{self, ConfigFile};
use crate::linker::EventMap;
use crate::runtime::server::{Server, ServerSettings};
use crate::runtime::signals::StopSignals;
use crate::runtime::RuntimeOptions;
use crate::scheduler::CronSchedule;

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
    /// Let admin tokens set `command` remediations (programs run on this host) through the
    /// API; off unless this or `[api] allow_command_actions = true` in the file says so.
    #[arg(long)]
    pub allow_command_actions: bool,
}

/// Reads the configuration file named by `args` (if any).
pub fn load_file(args: &ServeArgs) -> Result<ConfigFile> {
    Ok(match &args.config {
        Some(path) => config_file::load(path)?,
        None => ConfigFile::default(),
    })
}

/// Merges the file with flags and environment variables (which win).
pub fn settings(args: &ServeArgs, mut file: ConfigFile) -> Result<ServerSettings> {
    if args.allow_command_actions {
        file.api.allow_command_actions = Some(true);
    }
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
        let role = entry.role;
        tokens
            .add_hashed(&entry.secret_sha256()?, role, &entry.label())
            .map_err(anyhow::Error::msg)?;
    }
    if !tokens.is_enabled() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without tokens: anyone who can reach it could read and change everything. Configure tokens ([[tokens]] in the file, or CONFTRAIL_API_TOKENS=role:secret,...) or listen on 127.0.0.1"
        );
    }
    let mut worker_options = RuntimeOptions {
        event_retention_days: file.retention.event_days,
        ..RuntimeOptions::default()
    };
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
    Ok(ServerSettings {
        listen,
        tokens,
        workers: !args.no_worker && file.worker.enabled.unwrap_or(true),
        runtime: worker_options,
        file,
    })
}

/// Runs `serve` until SIGINT or SIGTERM. `data_dir` and `event_map` are the global flags.
pub fn run_serve(
    out: &mut impl Write,
    data_dir: Option<&Path>,
    event_map: Option<&Path>,
    cache_mib: u64,
    args: ServeArgs,
) -> Result<u8> {
    let settings = settings(&args, load_file(&args)?)?;
    let dir = data_dir
        .map(Path::to_path_buf)
        .or_else(|| settings.file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(super::DEFAULT_DATA_DIR));
    let event_map = EventMap::load(event_map.or(settings.file.event_map.as_deref()))?;
    let app = super::open_app(&dir, event_map, cache_mib)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(settings.listen))
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let server = Server::start(app, settings)?;
    // Caught before the server says it is ready, so a SIGTERM right after still stops it cleanly.
    let signals = runtime
        .block_on(async { StopSignals::listen() })
        .context("catching stop signals")?;
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    tracing::info!(%addr, data_dir = %dir.display(), "serving");
    let served = runtime.block_on(server.serve(listener, signals.stopped()));
    server.stop()?;
    served.context("serving HTTP")?;
    writeln!(out, "stopped")?;
    Ok(0)
}
