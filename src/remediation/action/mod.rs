//! Remediation actions (webhooks, local commands, changes through AWS's API), executed one
//! attempt at a time.

mod aws;
mod command;
mod webhook;

use std::time::Duration;

use crate::model::{format_duration, Action, ActionResult, AttemptOutcome};
use aws::run_aws;
pub use aws::{world_open_permissions, AwsTarget};
use command::run_command;
use webhook::run_webhook;

/// One attempt's input.
pub struct ActionRequest<'a> {
    /// The JSON document sent (webhook body / command stdin).
    pub document: &'a serde_json::Value,
    /// Extra environment variables for commands (name, value).
    pub env: &'a [(String, String)],
    /// Sent as the `Idempotency-Key` header / CONFTRAIL_IDEMPOTENCY_KEY.
    pub idempotency_key: &'a str,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// What an aws action changes, and the client to change it with (remediation only).
    pub aws: Option<AwsTarget<'a>>,
}

/// Runs one attempt. Never panics; every failure is an ActionResult.
pub fn run_action(action: &Action, request: &ActionRequest<'_>) -> ActionResult {
    // A bug in a dependency must not take the recorder down with it.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match action {
        Action::Webhook(webhook) => run_webhook(webhook, request),
        Action::Command(command) => run_command(command, request),
        Action::Aws(aws) => run_aws(aws, request),
    }))
    .unwrap_or_else(|_| {
        ActionResult::plain(
            AttemptOutcome::Permanent,
            "internal error: remediation attempt panicked".to_string(),
        )
    });
    tracing::debug!(
        action = %action.describe(),
        outcome = ?result.outcome,
        message = %result.message,
        "remediation attempt finished"
    );
    result
}

/// The result for an attempt that ran out of time.
fn timed_out(timeout: Duration) -> ActionResult {
    ActionResult::plain(
        AttemptOutcome::Retryable,
        format!("timed out after {}", format_duration(timeout)),
    )
}

/// Lossy UTF-8 without a replacement character for a multi-byte char cut at the end.
fn lossy_trimmed(bytes: &[u8]) -> String {
    let bytes = match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        _ => bytes,
    };
    String::from_utf8_lossy(bytes).trim().to_string()
}

#[cfg(test)]
mod tests;
