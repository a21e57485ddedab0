//! The worker: runs rule schedules, housekeeping and the remediation queue until stopped.
//!
//! Webhook notification deliveries go through the same queue and threads.
//!
//! Actions run on their own threads (at most `max_concurrent_actions`, and at most each rule's
//! `concurrency`); this thread claims due jobs, records results and runs schedules. Everything a
//! job goes through is written to the store before and after each attempt, so a killed worker
//! loses nothing: on start it records the interrupted attempts and retries them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::action::{run_action, ActionRequest};
use super::queue::{self, Admission};
use super::{RemediationConfig, RemediationJob};
use crate::evaluator::{EvaluationCounts, Evaluator};
use crate::model::ActionResult;
use crate::model::{now_millis, Timestamp};
use crate::rules::{RuleDefinition, Trigger};
use crate::scheduler::CronSchedule;
use crate::store::{Store, StoreError};

/// The task name under which a rule's schedule remembers its last run.
pub fn rule_task(rule: &str) -> String {
    format!("rule:{rule}")
}

/// The task name of the event retention purge.
pub const PURGE_TASK: &str = "housekeeping:purge-events";

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Actions running at once, across all rules.
    pub max_concurrent_actions: usize,
    /// When to purge old API events (none: never).
    pub purge_schedule: Option<CronSchedule>,
    /// Events older than this many days are purged (0: keep everything).
    pub event_retention_days: u32,
    /// How often to look for due work when nothing happens.
    pub poll_interval: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            max_concurrent_actions: 8,
            purge_schedule: CronSchedule::parse("0 0 3 * * *").ok(),
            event_retention_days: 90,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Interrupted attempts picked up again on start.
    pub recovered: usize,
    /// Scheduled rule runs.
    pub scheduled_runs: usize,
    /// Attempts made.
    pub attempts: usize,
    /// Events purged.
    pub purged_events: usize,
}

/// Runs one attempt of an admitted job: resolves its parameters from the judged version,
/// runs the action and records the result.
pub fn execute(
    store: &Store,
    job: RemediationJob,
    config: &RemediationConfig,
) -> Result<RemediationJob, StoreError> {
    let key = job.resource.key();
    let item = match store.version(&key, job.configuration_version)? {
        Some(item) => item,
        None => {
            let message = format!(
                "version {} of the resource is no longer stored",
                job.configuration_version
            );
            return queue::fail_before_action(store, job, message);
        }
    };
    let parameters = match config.resolve_parameters(&item) {
        Ok(p) => p,
        Err(message) => return queue::fail_before_action(store, job, message),
    };
    let attempt = job.attempts.len() as u32;
    let document = job.document(&parameters, attempt);
    let mut env: Vec<(String, String)> = parameters
        .iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (format!("CONFTRAIL_PARAM_{name}"), text)
        })
        .collect();
    for (name, value) in [
        ("CONFTRAIL_RULE", job.rule_name.clone()),
        (
            "CONFTRAIL_RESOURCE_TYPE",
            job.resource.resource_type.clone(),
        ),
        ("CONFTRAIL_RESOURCE_ID", job.resource.resource_id.clone()),
        ("CONFTRAIL_ACCOUNT_ID", job.resource.account_id.clone()),
        ("CONFTRAIL_REGION", job.resource.aws_region.clone()),
        ("CONFTRAIL_ATTEMPT", attempt.to_string()),
        ("CONFTRAIL_JOB_ID", job.id.to_string()),
    ] {
        env.push((name.to_string(), value));
    }
    let result: ActionResult = run_action(
        &config.action,
        &ActionRequest {
            document: &document,
            env: &env,
            idempotency_key: &job.idempotency_key,
            timeout: Duration::from_millis(config.timeout_ms),
        },
    );
    queue::finish(store, config, job, &result)
}

/// Runs a job's next attempt now, in this thread (`remediation run`). Returns the job after the
/// attempt, or as cancelled when it no longer needs fixing.
pub fn run_now(store: &Store, job: RemediationJob) -> Result<RemediationJob, StoreError> {
    let id = job.id;
    match queue::admit(store, job)? {
        Admission::Run(job, config) => execute(store, *job, &config),
        Admission::Skip => store.job(id)?.ok_or_else(|| StoreError::Corrupt {
            what: "remediation job",
            detail: format!("job {id} vanished"),
        }),
    }
}

/// A scheduled rule.
struct ScheduledRule {
    name: String,
    schedule: CronSchedule,
}

/// The rules that have a valid schedule; an invalid stored one is logged and skipped.
fn scheduled_rules(definitions: &[RuleDefinition]) -> Vec<ScheduledRule> {
    definitions
        .iter()
        .filter(|d| d.enabled)
        .filter_map(|d| {
            let text = d.schedule.as_deref()?;
            match CronSchedule::parse(text) {
                Ok(schedule) => Some(ScheduledRule {
                    name: d.name.clone(),
                    schedule,
                }),
                Err(e) => {
                    tracing::warn!(rule = %d.name, error = %e, "schedule ignored");
                    None
                }
            }
        })
        .collect()
}

/// Whether a task is due now; a task seen for the first time starts counting from now.
fn task_due(
    store: &Store,
    task: &str,
    schedule: &CronSchedule,
    now: Timestamp,
) -> Result<bool, StoreError> {
    match store.last_run(task)? {
        Some(last) => Ok(schedule.is_due(last, now)),
        None => {
            store.set_last_run(task, now)?;
            Ok(false)
        }
    }
}

/// Runs until `stop` is set: schedules, housekeeping and the remediation queue. Running actions
/// are waited for (each is bounded by its timeout) before it returns.
pub fn run_worker(
    store: &Store,
    evaluator: &mut Evaluator,
    definitions: &[RuleDefinition],
    options: &WorkerOptions,
    stop: &AtomicBool,
) -> Result<WorkerReport, StoreError> {
    let mut report = WorkerReport {
        recovered: queue::recover_interrupted(store)?
            + crate::notify::recover_interrupted_deliveries(store)?,
        ..WorkerReport::default()
    };
    let schedules = scheduled_rules(definitions);
    tracing::info!(
        schedules = schedules.len(),
        recovered = report.recovered,
        "worker started"
    );
    let (done_tx, done_rx) = mpsc::channel::<(u64, Result<(), StoreError>)>();
    let mut running: HashMap<u64, String> = HashMap::new();
    let max = options.max_concurrent_actions.max(1);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        while !stop.load(Ordering::SeqCst) {
            let now = now_millis();
            for rule in &schedules {
                let task = rule_task(&rule.name);
                if task_due(store, &task, &rule.schedule, now)? {
                    let counts =
                        evaluator.evaluate_rule_scope_with(&rule.name, Trigger::Schedule)?;
                    store.set_last_run(&task, now_millis())?;
                    report.scheduled_runs += 1;
                    log_scheduled_run(&rule.name, &counts);
                }
            }
            if let Some(schedule) = &options.purge_schedule {
                if task_due(store, PURGE_TASK, schedule, now)? {
                    if options.event_retention_days > 0 {
                        let before =
                            now - chrono::Duration::days(i64::from(options.event_retention_days));
                        let purged = store.purge_events_before(before)?;
                        report.purged_events += purged;
                        tracing::info!(purged, "event retention purge");
                    }
                    store.set_last_run(PURGE_TASK, now_millis())?;
                }
            }

            // Claim due jobs while there is room, respecting each rule's concurrency.
            if running.len() < max {
                let mut per_rule: HashMap<&str, u32> = HashMap::new();
                for rule in running.values() {
                    *per_rule.entry(rule.as_str()).or_default() += 1;
                }
                let mut configs: HashMap<String, Option<RemediationConfig>> = HashMap::new();
                let mut claimed = Vec::new();
                for job in store.due_jobs(now, (max - running.len()) * 4 + 16)? {
                    if running.len() + claimed.len() >= max {
                        break;
                    }
                    let limit = match configs.get(&job.rule_name) {
                        Some(c) => c.as_ref().map(|c| c.concurrency),
                        None => {
                            let c = store.remediation_config(&job.rule_name)?;
                            let limit = c.as_ref().map(|c| c.concurrency);
                            configs.insert(job.rule_name.clone(), c);
                            limit
                        }
                    };
                    let busy = per_rule.get(job.rule_name.as_str()).copied().unwrap_or(0)
                        + claimed
                            .iter()
                            .filter(|(_, rule): &&(u64, String)| *rule == job.rule_name)
                            .count() as u32;
                    if limit.is_some_and(|l| busy >= l) {
                        continue;
                    }
                    if let Admission::Run(job, config) = queue::admit(store, job)? {
                        claimed.push((job.id, job.rule_name.clone()));
                        let tx = done_tx.clone();
                        let store = store.clone();
                        scope.spawn(move || {
                            let id = job.id;
                            let result = execute(&store, *job, &config).map(drop);
                            // The receiver outlives every sender in this scope.
                            let _ = tx.send((id, result));
                        });
                    }
                }
                // Notification deliveries share the queue's room, not the rules' limits.
                for delivery in
                    store.due_deliveries(now, max.saturating_sub(running.len() + claimed.len()))?
                {
                    claimed.push((
                        delivery.id,
                        format!("subscription:{}", delivery.subscription),
                    ));
                    let tx = done_tx.clone();
                    let store = store.clone();
                    scope.spawn(move || {
                        let id = delivery.id;
                        let result = crate::notify::deliver(&store, delivery).map(drop);
                        let _ = tx.send((id, result));
                    });
                }
                running.extend(claimed);
            }

            let next_due = [store.next_due()?, store.next_delivery_due()?]
                .into_iter()
                .flatten()
                .min();
            let wait = match next_due {
                Some(due) if running.len() < max => (due - now_millis())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(options.poll_interval),
                _ => options.poll_interval,
            };
            match done_rx.recv_timeout(wait.max(Duration::from_millis(5))) {
                Ok((id, result)) => {
                    running.remove(&id);
                    report.attempts += 1;
                    result?;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        tracing::info!(
            running = running.len(),
            "worker stopping; waiting for running actions"
        );
        while !running.is_empty() {
            match done_rx.recv() {
                Ok((id, result)) => {
                    running.remove(&id);
                    report.attempts += 1;
                    result?;
                }
                Err(_) => break,
            }
        }
        Ok(())
    })?;
    store.flush()?;
    tracing::info!(?report, "worker stopped");
    Ok(report)
}

fn log_scheduled_run(rule: &str, counts: &EvaluationCounts) {
    tracing::info!(
        rule,
        evaluations = counts.evaluations,
        non_compliant = counts.non_compliant,
        "scheduled evaluation"
    );
}
