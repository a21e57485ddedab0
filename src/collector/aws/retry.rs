//! Which failures are worth another try, and how long to wait before it: capped exponential
//! backoff with full jitter, as the AWS SDKs do, and request pacing per service.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Error codes AWS answers when a caller goes too fast.
const THROTTLING_CODES: [&str; 9] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "BandwidthLimitExceeded",
];

/// Error codes of failures on AWS's side that may pass.
const TRANSIENT_CODES: [&str; 4] = [
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
];

/// Whether an answer is throttling.
pub fn is_throttling(status: u16, code: Option<&str>) -> bool {
    status == 429 || code.is_some_and(|c| THROTTLING_CODES.contains(&c))
}

/// Whether an answer may succeed if the same request is sent again.
pub fn is_retryable(status: u16, code: Option<&str>) -> bool {
    is_throttling(status, code)
        || matches!(status, 500 | 502 | 503 | 504)
        || code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
}

/// How many times to try and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    /// The first wait's upper bound; each retry doubles it.
    pub base: Duration,
    /// No wait is longer.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (from 1): uniformly random up to the capped
    /// exponential bound, so many throttled callers spread out instead of retrying together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.cap);
        bound.mul_f64(fastrand::f64())
    }
}

/// Spaces requests to each service at no more than its rate, across every thread of the
/// process that sends through the same pacer.
#[derive(Debug, Default)]
pub struct Pacer {
    /// Service → when its next request may leave.
    next: Mutex<HashMap<&'static str, Instant>>,
}

impl Pacer {
    /// Waits until a request to `service` may leave at `per_second` requests per second.
    pub fn wait(&self, service: &'static str, per_second: f64) {
        if per_second <= 0.0 || !per_second.is_finite() {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / per_second);
        let wait = {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let now = Instant::now();
            let slot = next.entry(service).or_insert(now);
            let at = (*slot).max(now);
            *slot = at + interval;
            at - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retried_client_errors_are_not() {
        assert!(is_retryable(400, Some("Throttling")));
        assert!(is_retryable(503, Some("RequestLimitExceeded")));
        assert!(is_retryable(503, Some("SlowDown")));
        assert!(is_retryable(429, None));
        assert!(is_retryable(500, None));
        assert!(is_retryable(503, None));
        assert!(!is_retryable(400, Some("InvalidGroup.NotFound")));
        assert!(!is_retryable(403, Some("AccessDenied")));
        assert!(!is_retryable(404, None));
        assert!(is_throttling(400, Some("Throttling")));
        assert!(!is_throttling(500, Some("InternalError")));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_below_the_bound() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
        };
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(3) <= Duration::from_millis(400));
            assert!(policy.backoff(30) <= Duration::from_millis(1000));
        }
        // Jitter: not every wait is the bound.
        let waits: std::collections::HashSet<Duration> =
            (0..50).map(|_| policy.backoff(4)).collect();
        assert!(waits.len() > 1);
    }

    #[test]
    fn the_pacer_spaces_requests_to_one_service() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait("ec2", 100.0);
        }
        // Five requests at 100/s: the fifth leaves no earlier than 40 ms after the first.
        assert!(start.elapsed() >= Duration::from_millis(40));
        // Another service has its own pace: its first request was not pushed back.
        pacer.wait("s3", 0.001);
        let next = pacer.next.lock().unwrap();
        assert!(next["s3"] > next["ec2"] + Duration::from_secs(900));
    }
}
