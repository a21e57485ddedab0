//! One worker loop for a durable queue (remediation jobs, webhook deliveries): claims due items
//! while there is room, runs each on its own thread, and sleeps until woken (new work, a
//! finished item) or until the next item comes due.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::app::{AppError, Wake};
use crate::model::{now_millis, Timestamp};

/// Longest sleep without a wake-up: a safety net, not a polling interval.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Pause after a failed round, so a broken store is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// A durable queue as the worker sees it.
pub trait Queue: Sync {
    /// What is queued.
    type Item: Send;
    /// Its name, for logs.
    fn name(&self) -> &'static str;
    /// Up to `limit` items due at `now`, soonest first.
    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<Self::Item>, AppError>;
    /// When the soonest queued item is due.
    fn next_due(&self) -> Result<Option<Timestamp>, AppError>;
    /// The item's id.
    fn id(&self, item: &Self::Item) -> u64;
    /// Items of one group run at most this many at once (`None`: no limit but the worker's).
    fn group_limit(&self, item: &Self::Item) -> Result<Option<(String, u32)>, AppError>;
    /// Runs one item to the end of its attempt.
    fn run(&self, item: Self::Item) -> Result<(), AppError>;
    /// Where producers announce new work.
    fn wake(&self) -> &Wake;
}

/// Runs `queue` until `stop` is set (and its wake notified), with at most `max` items at once;
/// waits for running items before it returns. Counts attempts in `attempts`.
pub fn run_queue<Q: Queue>(queue: &Q, max: usize, stop: &AtomicBool, attempts: &AtomicUsize) {
    let max = max.max(1);
    let (done_tx, done_rx) = mpsc::channel::<u64>();
    // Running items: id → group, for the per-group limits.
    let mut running: HashMap<u64, Option<String>> = HashMap::new();
    std::thread::scope(|scope| {
        while !stop.load(Ordering::SeqCst) {
            let sleep = match claim(queue, max, &mut running, |item, id| {
                let tx = done_tx.clone();
                scope.spawn(move || {
                    if let Err(e) = queue.run(item) {
                        tracing::error!(queue = queue.name(), id, error = %e, "queue item failed");
                    }
                    // The receiver outlives every sender in this scope.
                    let _ = tx.send(id);
                    queue.wake().notify();
                });
            }) {
                Ok(sleep) => sleep,
                Err(e) => {
                    tracing::error!(queue = queue.name(), error = %e, "queue worker round failed");
                    ERROR_PAUSE
                }
            };
            queue.wake().wait(sleep);
            while let Ok(id) = done_rx.try_recv() {
                running.remove(&id);
                attempts.fetch_add(1, Ordering::SeqCst);
            }
        }
        tracing::info!(
            queue = queue.name(),
            running = running.len(),
            "worker stopping; waiting for running items"
        );
        while !running.is_empty() {
            match done_rx.recv() {
                Ok(id) => {
                    running.remove(&id);
                    attempts.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => break,
            }
        }
    });
}

/// Claims due items while there is room and hands each to `spawn`; returns how long to sleep.
fn claim<Q: Queue>(
    queue: &Q,
    max: usize,
    running: &mut HashMap<u64, Option<String>>,
    mut spawn: impl FnMut(Q::Item, u64),
) -> Result<Duration, AppError> {
    let now = now_millis();
    if running.len() < max {
        let mut per_group: HashMap<String, u32> = HashMap::new();
        for group in running.values().flatten() {
            *per_group.entry(group.clone()).or_default() += 1;
        }
        // Items already running can still be in the due index until their attempt is marked.
        for item in queue.due(now, (max - running.len()) * 4 + running.len() + 16)? {
            if running.len() >= max {
                break;
            }
            let id = queue.id(&item);
            if running.contains_key(&id) {
                continue;
            }
            let group = match queue.group_limit(&item)? {
                Some((group, limit)) => {
                    let busy = per_group.entry(group.clone()).or_default();
                    if *busy >= limit {
                        continue;
                    }
                    *busy += 1;
                    Some(group)
                }
                None => None,
            };
            running.insert(id, group);
            spawn(item, id);
        }
    }
    Ok(match queue.next_due()? {
        // Due items that could not be claimed wait for a running one to finish (which wakes).
        Some(due) if due > now => (due - now).to_std().unwrap_or(MAX_SLEEP).min(MAX_SLEEP),
        _ => MAX_SLEEP,
    })
}
