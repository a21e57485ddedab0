//! Remediation jobs and exceptions as stored, and the job state machine.
//!
//! queued → inProgress → succeeded → verified | notEffective, or → queued again (retryable
//! failure, after a backoff), or → failed (permanent failure, attempts used up) / cancelled
//! (the resource became compliant, an exception applies, the configuration was removed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action::{ActionResult, AttemptOutcome};
use super::remediation_config::RemediationConfig;
use super::rule::Compliance;
use super::verdict::EvaluatedResource;
use super::{hash_hex, opt_time_serde, time_serde, Timestamp};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum JobState {
    /// Waiting for its next attempt (`nextAttemptAt`).
    Queued,
    /// An attempt is running.
    InProgress,
    /// The action succeeded; waiting for the next configuration version to be judged.
    Succeeded,
    /// The next version was judged COMPLIANT (or not applicable).
    Verified,
    /// The action succeeded but the next version is still NON_COMPLIANT.
    NotEffective,
    /// Permanent failure or attempts used up.
    Failed,
    /// Not needed any more (resource compliant, exception, configuration removed).
    Cancelled,
}

impl JobState {
    /// Every state, for argument parsing.
    pub const ALL: [JobState; 7] = [
        JobState::Queued,
        JobState::InProgress,
        JobState::Succeeded,
        JobState::Verified,
        JobState::NotEffective,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The JSON spelling, e.g. `notEffective`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::InProgress => "inProgress",
            JobState::Succeeded => "succeeded",
            JobState::Verified => "verified",
            JobState::NotEffective => "notEffective",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses a state name (case-insensitive, `-`/`_` ignored: `in-progress`, `not_effective`).
    pub fn parse(text: &str) -> Option<JobState> {
        let norm: String = text
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        JobState::ALL
            .into_iter()
            .find(|s| s.as_str().to_ascii_lowercase() == norm)
    }

    /// Whether the job will not run again by itself.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Queued | JobState::InProgress)
    }
}

/// What started a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum JobOrigin {
    /// A NON_COMPLIANT verdict with automatic remediation.
    Automatic,
    /// `remediation run`.
    Manual,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum AttemptEnd {
    /// The action reported success.
    Succeeded,
    /// A failure worth retrying (5xx, 408, 429, timeout, connection error, other exit codes).
    Retryable,
    /// A failure retrying cannot fix (other 4xx, listed exit codes, bad parameters).
    Permanent,
    /// The worker stopped while the attempt ran; its result is unknown.
    Interrupted,
}

impl Attempt {
    /// Attempt `number`, started at `now`, not ended yet.
    pub fn started(number: u32, now: Timestamp) -> Attempt {
        Attempt {
            number,
            started_at: now,
            ended_at: None,
            outcome: None,
            message: String::new(),
            http_status: None,
            exit_code: None,
            output: String::new(),
        }
    }
}

impl AttemptEnd {
    /// The camelCase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptEnd::Succeeded => "succeeded",
            AttemptEnd::Retryable => "retryable",
            AttemptEnd::Permanent => "permanent",
            AttemptEnd::Interrupted => "interrupted",
        }
    }
}

impl From<AttemptOutcome> for AttemptEnd {
    fn from(outcome: AttemptOutcome) -> Self {
        match outcome {
            AttemptOutcome::Succeeded => AttemptEnd::Succeeded,
            AttemptOutcome::Retryable => AttemptEnd::Retryable,
            AttemptOutcome::Permanent => AttemptEnd::Permanent,
        }
    }
}

/// One try of the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// When it ended (absent while running).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_time_serde"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// How it ended (absent while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AttemptEnd>,
    /// What happened, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The webhook's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The command's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The command's output (bounded).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
}

/// The verdict that a job remediates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobVerdict {
    /// NON_COMPLIANT, as a rule.
    pub compliance: Compliance,
    /// The rule's annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// The configuration version's capture time.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub configuration_item_capture_time: Timestamp,
}

/// A remediation job: one per (rule, resource, configuration version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationJob {
    /// Store-assigned id.
    pub id: u64,
    /// The rule.
    pub rule_name: String,
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// The configuration version found non-compliant.
    pub configuration_version: u64,
    /// The verdict.
    pub verdict: JobVerdict,
    /// Sent with every attempt so the receiver can drop repeats.
    pub idempotency_key: String,
    /// Automatic or manual.
    pub origin: JobOrigin,
    /// Current state.
    pub state: JobState,
    /// Why it is in this state (for failed, cancelled, verified, notEffective).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// When the next attempt is due (queued jobs).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_time_serde"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    /// Attempts allowed since the job was (re)queued.
    pub max_attempts: u32,
    /// Attempts made before the last manual re-run (they do not count against `max_attempts`).
    #[serde(default)]
    pub attempts_before_rerun: u32,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// The version whose verdict verified (or not) the fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by_version: Option<u64>,
    /// Created.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl RemediationJob {
    /// A new queued job, due now.
    pub fn new(
        id: u64,
        config: &RemediationConfig,
        resource: EvaluatedResource,
        configuration_version: u64,
        verdict: JobVerdict,
        origin: JobOrigin,
        now: Timestamp,
    ) -> RemediationJob {
        let idempotency_key = idempotency_key(&config.rule_name, &resource, configuration_version);
        RemediationJob {
            id,
            rule_name: config.rule_name.clone(),
            resource,
            configuration_version,
            verdict,
            idempotency_key,
            origin,
            state: JobState::Queued,
            state_reason: None,
            next_attempt_at: Some(now),
            max_attempts: config.max_attempts,
            attempts_before_rerun: 0,
            attempts: Vec::new(),
            verified_by_version: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Attempts counted against `max_attempts`.
    pub fn counted_attempts(&self) -> u32 {
        (self.attempts.len() as u32).saturating_sub(self.attempts_before_rerun)
    }

    /// Starts an attempt: in progress, with a new open attempt record.
    pub fn start_attempt(&mut self, now: Timestamp) -> u32 {
        let number = self.attempts.len() as u32 + 1;
        self.attempts.push(Attempt::started(number, now));
        self.state = JobState::InProgress;
        self.next_attempt_at = None;
        self.updated_at = now;
        number
    }

    /// Ends the running attempt and moves the job on; `retry_at` is when a retry would run.
    pub fn finish_attempt(
        &mut self,
        end: AttemptEnd,
        result: Option<&ActionResult>,
        message: String,
        now: Timestamp,
        retry_at: Timestamp,
    ) {
        if let Some(attempt) = self.attempts.last_mut() {
            attempt.ended_at = Some(now);
            attempt.outcome = Some(end);
            attempt.message = message.clone();
            if let Some(r) = result {
                attempt.http_status = r.http_status;
                attempt.exit_code = r.exit_code;
                attempt.output = r.output.clone();
            }
        }
        self.updated_at = now;
        match end {
            AttemptEnd::Succeeded => {
                self.state = JobState::Succeeded;
                self.state_reason = Some("waiting for the next configuration version".into());
            }
            AttemptEnd::Permanent => {
                self.state = JobState::Failed;
                self.state_reason = Some(format!("permanent failure: {message}"));
            }
            AttemptEnd::Retryable | AttemptEnd::Interrupted => {
                if self.counted_attempts() >= self.max_attempts {
                    self.state = JobState::Failed;
                    self.state_reason = Some(format!(
                        "gave up after {} attempts: {message}",
                        self.counted_attempts()
                    ));
                } else {
                    self.state = JobState::Queued;
                    self.state_reason = None;
                    self.next_attempt_at = Some(retry_at);
                }
            }
        }
    }

    /// Ends the job without (another) attempt.
    pub fn cancel(&mut self, reason: String, now: Timestamp) {
        self.state = JobState::Cancelled;
        self.state_reason = Some(reason);
        self.next_attempt_at = None;
        self.updated_at = now;
    }

    /// Queues a finished job again with a fresh attempt budget (`remediation run`).
    pub fn rerun(&mut self, max_attempts: u32, now: Timestamp) {
        self.attempts_before_rerun = self.attempts.len() as u32;
        self.max_attempts = max_attempts;
        self.state = JobState::Queued;
        self.state_reason = None;
        self.next_attempt_at = Some(now);
        self.origin = JobOrigin::Manual;
        self.updated_at = now;
    }

    /// Records what the next judged version said about the fix.
    pub fn verify(&mut self, compliance: Compliance, version: u64, now: Timestamp) {
        self.verified_by_version = Some(version);
        self.updated_at = now;
        if compliance == Compliance::NonCompliant {
            self.state = JobState::NotEffective;
            self.state_reason = Some(format!(
                "version {version} is still NON_COMPLIANT after the action succeeded"
            ));
        } else {
            self.state = JobState::Verified;
            self.state_reason = Some(format!("version {version} is {}", compliance.as_str()));
        }
    }

    /// The document sent to the action.
    pub fn document(&self, parameters: &BTreeMap<String, Value>, attempt: u32) -> Value {
        serde_json::json!({
            "jobId": self.id,
            "ruleName": self.rule_name,
            "resourceType": self.resource.resource_type,
            "resourceId": self.resource.resource_id,
            "awsAccountId": self.resource.account_id,
            "awsRegion": self.resource.aws_region,
            "configurationVersion": self.configuration_version,
            "configurationItemCaptureTime": crate::model::format_time(&self.verdict.configuration_item_capture_time),
            "compliance": self.verdict.compliance.as_str(),
            "annotation": self.verdict.annotation,
            "parameters": parameters,
            "attempt": attempt,
            "idempotencyKey": self.idempotency_key,
        })
    }
}

/// The idempotency key of (rule, resource, version): stable, printable, no separators to escape.
pub fn idempotency_key(rule: &str, resource: &EvaluatedResource, version: u64) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [
        rule,
        &resource.resource_type,
        &resource.resource_id,
        &resource.account_id,
        &resource.aws_region,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(version.to_be_bytes());
    let digest = hasher.finalize();
    format!("ct-{}", hash_hex(&digest[..16]))
}

/// An exception: no automatic remediation of a rule on a resource, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationException {
    /// The rule.
    pub rule_name: String,
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// Why.
    pub reason: String,
    /// When it stops applying (never when absent).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_time_serde"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// When it was added.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl RemediationException {
    /// Whether it applies at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, WebhookAction, DEFAULT_BACKOFF};

    fn config(max_attempts: u32) -> RemediationConfig {
        RemediationConfig {
            rule_name: "restricted-ssh".into(),
            action: Action::Webhook(WebhookAction {
                url: "http://127.0.0.1:1/fix".into(),
                headers: Vec::new(),
                ..WebhookAction::default()
            }),
            parameters: BTreeMap::new(),
            automatic: true,
            max_attempts,
            backoff: DEFAULT_BACKOFF,
            timeout_ms: 1000,
            concurrency: 1,
            created_at: crate::model::now_millis(),
            updated_at: crate::model::now_millis(),
        }
    }

    fn job(max_attempts: u32) -> RemediationJob {
        let now = crate::model::now_millis();
        RemediationJob::new(
            1,
            &config(max_attempts),
            EvaluatedResource {
                resource_type: "AWS::EC2::SecurityGroup".into(),
                resource_id: "sg-1".into(),
                account_id: "1".into(),
                aws_region: "eu-west-1".into(),
            },
            3,
            JobVerdict {
                compliance: Compliance::NonCompliant,
                annotation: None,
                configuration_item_capture_time: now,
            },
            JobOrigin::Automatic,
            now,
        )
    }

    #[test]
    fn retries_until_attempts_are_used_up_then_a_rerun_gets_a_fresh_budget() {
        let now = crate::model::now_millis();
        let mut j = job(2);
        j.start_attempt(now);
        j.finish_attempt(AttemptEnd::Retryable, None, "HTTP 500".into(), now, now);
        assert_eq!(j.state, JobState::Queued);
        j.start_attempt(now);
        j.finish_attempt(AttemptEnd::Retryable, None, "HTTP 500".into(), now, now);
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(
            j.state_reason.as_deref(),
            Some("gave up after 2 attempts: HTTP 500")
        );
        j.rerun(2, now);
        assert_eq!((j.state, j.counted_attempts()), (JobState::Queued, 0));
        assert_eq!(j.start_attempt(now), 3);
        j.finish_attempt(AttemptEnd::Succeeded, None, "HTTP 200".into(), now, now);
        assert_eq!(j.state, JobState::Succeeded);
        j.verify(Compliance::NonCompliant, 4, now);
        assert_eq!(j.state, JobState::NotEffective);
    }

    #[test]
    fn permanent_failures_stop_at_once_and_keys_differ_per_version() {
        let now = crate::model::now_millis();
        let mut j = job(5);
        j.start_attempt(now);
        j.finish_attempt(AttemptEnd::Permanent, None, "HTTP 400".into(), now, now);
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.attempts[0].outcome, Some(AttemptEnd::Permanent));
        let r = &j.resource;
        assert_ne!(idempotency_key("r", r, 1), idempotency_key("r", r, 2));
        assert_eq!(idempotency_key("r", r, 1), idempotency_key("r", r, 1));
        assert_eq!(
            JobState::parse("not-effective"),
            Some(JobState::NotEffective)
        );
        assert_eq!(JobState::parse("in_progress"), Some(JobState::InProgress));
    }
}
