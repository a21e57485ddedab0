//! Remediation: per-rule actions (webhook, command), the durable job queue with retries and
//! backoff, exceptions, and the worker that runs the queue and the rule schedules.

pub mod action;
mod queue;
mod worker;

pub use crate::model::{
    idempotency_key, Attempt, AttemptEnd, JobOrigin, JobState, JobVerdict, ParameterSource,
    RemediationConfig, RemediationException, RemediationJob, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS,
};
pub use queue::{
    admit, finish, on_verdicts, recover_interrupted, request_run, Admission, RunError,
};
pub use worker::{
    execute, rule_task, run_now, run_worker, WorkerOptions, WorkerReport, PURGE_TASK,
};
