//! Remediation: per-rule actions (webhook, command), the durable job queue's rules (which
//! verdicts start jobs, admission, retries and backoff, settling), and one attempt of a job.
//! The application layer runs the queue and announces every job change.

pub mod action;
mod attempt;
mod queue;

pub use crate::model::{
    idempotency_key, Attempt, AttemptEnd, JobOrigin, JobState, JobVerdict, ParameterSource,
    RemediationConfig, RemediationException, RemediationJob, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS,
};
pub use attempt::execute;
pub use queue::{
    admit, finish, on_verdicts, recover_interrupted, request_run, Admission, RunError,
};
