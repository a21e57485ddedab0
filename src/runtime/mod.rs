//! The composition root of long-running processes: the background workers (rule schedules,
//! event retention, remediation jobs, webhook deliveries), each with one job and woken when
//! there is work, started and stopped together; the server that adds the HTTP API; signals.

pub mod collector_worker;
mod cron_worker;
pub mod http;
mod queue_worker;
mod queues;
pub mod server;
pub mod signals;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::app::{App, AppError, Wake};
use crate::model::Trigger;
use crate::scheduler::{rule_task, CronSchedule, PURGE_TASK};
use cron_worker::{run_cron, CronTask};
use queue_worker::run_queue;

/// Default cron schedule of the retention purge (which runs only when a retention is set).
pub const DEFAULT_PURGE_SCHEDULE: &str = "0 0 3 * * *";
/// Default number of remediation actions (and of deliveries) running at once.
pub const DEFAULT_MAX_CONCURRENT_ACTIONS: usize = 8;

/// How the background workers run.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Remediation actions running at once, across all rules (deliveries have as many).
    pub max_concurrent_actions: usize,
    /// When to purge old API events (none: never).
    pub purge_schedule: Option<CronSchedule>,
    /// Events whose event time is older than this many days are purged (none or 0: every
    /// event is kept; a recorder's history is what it is for, so retention is opt-in).
    pub event_retention_days: Option<u32>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            max_concurrent_actions: DEFAULT_MAX_CONCURRENT_ACTIONS,
            purge_schedule: CronSchedule::parse(DEFAULT_PURGE_SCHEDULE).ok(),
            event_retention_days: None,
        }
    }
}

/// What the workers did, counted while they run.
#[derive(Debug, Default)]
struct Counters {
    scheduled_runs: AtomicUsize,
    purges: AtomicUsize,
    attempts: AtomicUsize,
    deliveries: AtomicUsize,
    sweeps: AtomicUsize,
}

/// What the workers did before they stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuntimeReport {
    /// Interrupted attempts (jobs and deliveries) picked up again on start.
    pub recovered: usize,
    /// Scheduled rule runs.
    pub scheduled_runs: usize,
    /// Retention purges run.
    pub purges: usize,
    /// Remediation attempts made.
    pub attempts: usize,
    /// Delivery attempts made.
    pub deliveries: usize,
    /// Collector sweeps of an account.
    pub sweeps: usize,
}

/// The running background workers.
pub struct Runtime {
    app: App,
    stop: Arc<AtomicBool>,
    retention_wake: Arc<Wake>,
    counters: Arc<Counters>,
    recovered: usize,
    threads: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// Picks up attempts a crash interrupted, then starts the workers.
    pub fn start(app: &App, options: RuntimeOptions) -> Result<Runtime, AppError> {
        let recovered = app.recover_interrupted()?;
        let mut runtime = Runtime {
            app: app.clone(),
            stop: Arc::default(),
            retention_wake: Arc::default(),
            counters: Arc::default(),
            recovered,
            threads: Vec::new(),
        };
        let max = options.max_concurrent_actions;
        runtime.spawn("schedules", |app, stop, counters, _| {
            run_cron(
                &app,
                "schedules",
                &app.wakes().rules,
                &stop,
                &counters.scheduled_runs,
                || scheduled_rules(&app),
                |task| run_schedule(&app, task),
            )
        })?;
        runtime.spawn("retention", move |app, stop, counters, wake| {
            let tasks = || {
                Ok(
                    match (&options.purge_schedule, options.event_retention_days) {
                        (Some(schedule), Some(days)) if days > 0 => vec![CronTask {
                            name: PURGE_TASK.to_string(),
                            subject: String::new(),
                            schedule: schedule.clone(),
                        }],
                        _ => Vec::new(),
                    },
                )
            };
            let purge = |_: &CronTask| {
                let days = options.event_retention_days.unwrap_or(0);
                let report = app
                    .acting_as(crate::model::Actor {
                        name: "retention schedule".into(),
                        source: None,
                    })
                    .purge_events(days, false)?;
                tracing::info!(purged = report.purged, "event retention purge");
                Ok(())
            };
            run_cron(
                &app,
                "retention",
                &wake,
                &stop,
                &counters.purges,
                tasks,
                purge,
            )
        })?;
        runtime.spawn("remediation", move |app, stop, counters, _| {
            run_queue(&queues::Jobs(&app), max, &stop, &counters.attempts)
        })?;
        runtime.spawn("deliveries", move |app, stop, counters, _| {
            run_queue(&queues::Deliveries(&app), max, &stop, &counters.deliveries)
        })?;
        runtime.spawn("collector", move |app, stop, counters, _| {
            collector_worker::run_sweeps(&app, &stop, &counters.sweeps)
        })?;
        runtime.spawn("collector-follow", move |app, stop, _, _| {
            collector_worker::run_follower(&app, &stop)
        })?;
        let collector = runtime.app.collector();
        let queued = collector
            .accounts
            .iter()
            .filter(|a| a.trail.as_ref().is_some_and(|t| t.queue_url.is_some()));
        for account in queued {
            let account = account.clone();
            runtime.spawn(
                &format!("trail-queue-{}", account.name),
                move |app, stop, _, _| collector_worker::run_trail_queue(&app, &account, &stop),
            )?;
        }
        tracing::info!(recovered, "workers started");
        Ok(runtime)
    }

    fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(App, Arc<AtomicBool>, Arc<Counters>, Arc<Wake>) + Send + 'static,
    ) -> Result<(), AppError> {
        let (app, stop, counters, wake) = (
            self.app.clone(),
            self.stop.clone(),
            self.counters.clone(),
            self.retention_wake.clone(),
        );
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || work(app, stop, counters, wake))
            .map_err(|e| AppError::Invalid(format!("cannot start the {name} worker: {e}")))?;
        self.threads.push(handle);
        Ok(())
    }

    /// Stops every worker (running actions and deliveries finish; queued ones stay queued),
    /// then flushes the store.
    pub fn stop(self) -> Result<RuntimeReport, AppError> {
        self.stop.store(true, Ordering::SeqCst);
        let wakes = self.app.wakes();
        let collector = self.app.collector();
        for wake in [
            &wakes.rules,
            &wakes.jobs,
            &wakes.deliveries,
            &self.retention_wake,
            &collector.wake,
            &collector.sweep_wake,
        ] {
            wake.notify();
        }
        let mut panicked = false;
        for thread in self.threads {
            panicked |= thread.join().is_err();
        }
        self.app.store().flush()?;
        if panicked {
            return Err(AppError::Invalid("a worker thread panicked".into()));
        }
        let report = RuntimeReport {
            recovered: self.recovered,
            scheduled_runs: self.counters.scheduled_runs.load(Ordering::SeqCst),
            purges: self.counters.purges.load(Ordering::SeqCst),
            attempts: self.counters.attempts.load(Ordering::SeqCst),
            deliveries: self.counters.deliveries.load(Ordering::SeqCst),
            sweeps: self.counters.sweeps.load(Ordering::SeqCst),
        };
        tracing::info!(?report, "workers stopped");
        Ok(report)
    }
}

/// The enabled rules with a valid schedule; an invalid stored one is logged and skipped.
fn scheduled_rules(app: &App) -> Result<Vec<CronTask>, AppError> {
    Ok(app
        .registry()?
        .list()?
        .into_iter()
        .filter(|d| d.enabled)
        .filter_map(|d| {
            let text = d.schedule.as_deref()?;
            match CronSchedule::parse(text) {
                Ok(schedule) => Some(CronTask {
                    name: rule_task(&d.name),
                    subject: d.name.clone(),
                    schedule,
                }),
                Err(e) => {
                    tracing::warn!(rule = %d.name, error = %e, "schedule ignored");
                    None
                }
            }
        })
        .collect())
}

/// One scheduled run of a rule over its scope.
fn run_schedule(app: &App, task: &CronTask) -> Result<(), AppError> {
    let rule = task.subject.as_str();
    let counts = app.evaluate_rule(rule, &Default::default(), Trigger::Schedule)?;
    tracing::info!(
        rule,
        evaluations = counts.evaluations,
        non_compliant = counts.non_compliant,
        "scheduled evaluation"
    );
    Ok(())
}
