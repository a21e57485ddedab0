//! The `conftrail` binary: parse arguments, set up logging, run, map errors to exit codes.

use conftrail::cli::{self, Cli, LogFormat};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// mimalloc: ingest allocates many small JSON nodes; glibc malloc costs twice as much here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse_command_line();
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(cli.effective_log_level()))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.effective_log_format() {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
