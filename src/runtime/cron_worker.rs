//! One worker loop for cron tasks (rule schedules, retention): runs the tasks that are due,
//! remembers each run in the store, and sleeps until the next fire time or a wake-up (the task
//! list changed, or the runtime stops).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::app::{App, AppError, Wake};
use crate::model::{now_millis, Timestamp};
use crate::scheduler::CronSchedule;

/// Longest sleep: tasks are re-read at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// Pause after a failed round.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// A task with its schedule.
pub struct CronTask {
    /// Store key of its last run.
    pub name: String,
    /// What it works on (a rule's name), for the runner.
    pub subject: String,
    /// When it fires.
    pub schedule: CronSchedule,
}

/// Runs the tasks from `load` (re-read after every wake-up) with `run` until `stop` is set and
/// `wake` notified. Counts runs in `runs`.
pub fn run_cron(
    app: &App,
    name: &'static str,
    wake: &Wake,
    stop: &AtomicBool,
    runs: &AtomicUsize,
    load: impl Fn() -> Result<Vec<CronTask>, AppError>,
    run: impl Fn(&CronTask) -> Result<(), AppError>,
) {
    while !stop.load(Ordering::SeqCst) {
        let sleep = match round(app, &load, &run, runs) {
            Ok(next) => next
                .and_then(|at| (at - now_millis()).to_std().ok())
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP),
            Err(e) => {
                tracing::error!(worker = name, error = %e, "scheduled work failed");
                ERROR_PAUSE
            }
        };
        wake.wait(sleep);
    }
}

/// Runs what is due; returns the next fire time of any task.
fn round(
    app: &App,
    load: &impl Fn() -> Result<Vec<CronTask>, AppError>,
    run: &impl Fn(&CronTask) -> Result<(), AppError>,
    runs: &AtomicUsize,
) -> Result<Option<Timestamp>, AppError> {
    let store = app.store();
    let mut next: Option<Timestamp> = None;
    for task in load()? {
        let now = now_millis();
        // A task seen for the first time starts counting from now.
        let last = match store.last_run(&task.name)? {
            Some(last) => last,
            None => {
                store.set_last_run(&task.name, now)?;
                now
            }
        };
        let mut fire = task.schedule.next_after(last);
        if fire.is_some_and(|at| at <= now) {
            run(&task)?;
            let finished = now_millis();
            store.set_last_run(&task.name, finished)?;
            runs.fetch_add(1, Ordering::SeqCst);
            fire = task.schedule.next_after(finished);
        }
        if let Some(at) = fire {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    Ok(next)
}
