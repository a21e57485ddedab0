//! A wake-up call between threads: a worker sleeps until it is told there is work, or until a
//! deadline (its next due time), instead of polling.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Set by producers, consumed by one waiting worker.
#[derive(Debug, Default)]
pub struct Wake {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    /// Tells the worker there is (or may be) work.
    pub fn notify(&self) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *pending = true;
        self.cv.notify_all();
    }

    /// Sleeps until notified or `timeout` has passed; returns whether it was notified. A
    /// notification that came before the call is not lost: it returns at once.
    pub fn wait(&self, timeout: Duration) -> bool {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (mut pending, _) = self
            .cv
            .wait_timeout_while(pending, timeout, |p| !*p)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *pending, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_notification_before_the_wait_is_kept_and_consumed_once() {
        let wake = Wake::default();
        wake.notify();
        assert!(wake.wait(Duration::from_secs(5)));
        assert!(!wake.wait(Duration::from_millis(1)));
    }

    #[test]
    fn a_waiting_thread_is_woken() {
        let wake = Arc::new(Wake::default());
        let waiter = {
            let wake = wake.clone();
            std::thread::spawn(move || wake.wait(Duration::from_secs(30)))
        };
        std::thread::sleep(Duration::from_millis(20));
        wake.notify();
        assert_eq!(waiter.join().ok(), Some(true));
    }
}
