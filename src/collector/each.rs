//! Describing many resources at once: a few threads share the work, results keep their order.
//! AWS answers each call in tens of milliseconds, so a resource that takes ten calls (a bucket,
//! an IAM user) is described several times faster this way; the client's pacing still bounds
//! the request rate per service.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Threads describing resources of one listing at once.
pub const WORKERS: usize = 4;

/// `describe` applied to every item on up to [`WORKERS`] threads; the results in the items'
/// order.
pub fn describe_each<T: Send, R: Send>(items: Vec<T>, describe: impl Fn(T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    if count <= 1 {
        return items.into_iter().map(describe).collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate().collect::<VecDeque<_>>());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(count) {
            scope.spawn(|| loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .pop_front();
                let Some((index, item)) = next else {
                    return;
                };
                let result = describe(item);
                results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_item_is_described_once_and_results_keep_their_order() {
        let calls = AtomicUsize::new(0);
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let out = describe_each((0..50).collect(), |n: u64| {
            calls.fetch_add(1, Ordering::SeqCst);
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            n * 10
        });
        assert_eq!(out, (0..50).map(|n| n * 10).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 50);
        assert!(most.load(Ordering::SeqCst) <= WORKERS);
        assert!(most.load(Ordering::SeqCst) > 1, "ran in parallel");
        assert_eq!(describe_each(Vec::<u8>::new(), |n| n), Vec::<u8>::new());
    }
}
