//! `worker`: the background workers (schedules, retention, remediation, deliveries) without
//! the API, until Ctrl-C or SIGTERM.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Args;

use crate::app::App;
use crate::runtime::{Runtime, RuntimeOptions};
use crate::scheduler::CronSchedule;

/// Arguments of `worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Remediation actions running at once, across rules.
    #[arg(long, default_value_t = crate::runtime::DEFAULT_MAX_CONCURRENT_ACTIONS)]
    pub max_concurrent_actions: usize,
    /// When to purge API events older than the retention, if one is set (cron; "off" disables).
    #[arg(long, default_value = crate::runtime::DEFAULT_PURGE_SCHEDULE)]
    pub purge_schedule: String,
    /// Purge API events whose event time is older than this many days. Without it (or with 0)
    /// every event is kept.
    #[arg(long, env = "CONFTRAIL_EVENT_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
}

/// Runs `worker` until SIGINT or SIGTERM.
pub fn run_worker(out: &mut impl Write, app: &App, args: WorkerArgs) -> Result<u8> {
    let purge_schedule = match args.purge_schedule.as_str() {
        "off" | "none" => None,
        text => {
            Some(CronSchedule::parse(text).map_err(|e| anyhow::anyhow!("--purge-schedule: {e}"))?)
        }
    };
    let options = RuntimeOptions {
        max_concurrent_actions: args.max_concurrent_actions,
        purge_schedule,
        event_retention_days: args.retention_days,
    };
    let signals =
        crate::runtime::signals::BlockingStopSignals::listen().context("catching stop signals")?;
    let runtime = Runtime::start(app, options)?;
    signals.wait();
    let report = runtime.stop()?;
    writeln!(
        out,
        "worker stopped: {} scheduled runs, {} attempts, {} deliveries, {} interrupted attempts recovered, {} purges",
        report.scheduled_runs, report.attempts, report.deliveries, report.recovered, report.purges
    )?;
    Ok(0)
}
