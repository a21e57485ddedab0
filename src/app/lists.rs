//! Answers that wrap a list in a named field (`{"rules": [...]}`): the API's bodies, the CLI's
//! `--json`, and what the CLI reads back from a server, one type each so the three agree.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::evaluator::EvaluationCounts;
use crate::model::{
    AuditEntry, Delivery, RemediationConfig, RemediationException, RemediationJob, RuleDefinition,
    RuleErrors, Subscription,
};
use crate::query::ResourceEntry;

/// Entries of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    /// Oldest first.
    pub entries: Vec<AuditEntry>,
}

/// Recorded resources with their latest state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceList {
    /// One entry per resource.
    pub resources: Vec<ResourceEntry>,
}

/// Every rule with its settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleList {
    /// Managed and added rules, by name.
    pub rules: Vec<RuleView>,
}

/// A rule as answers show it: its definition, and how often it failed to decide.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleDefinition,
    /// Evaluations that failed (no verdict), and the last failure.
    pub evaluation_errors: RuleErrors,
}

/// What a manual evaluation produced.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Evaluations {
    /// Counts of evaluations and verdicts.
    pub evaluations: EvaluationCounts,
}

/// Remediation configurations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RemediationConfigList {
    /// One per rule that has remediation.
    pub configurations: Vec<RemediationConfig>,
}

/// Remediation jobs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobList {
    /// Jobs, newest first.
    pub jobs: Vec<RemediationJob>,
}

/// A remediation run asked for by an operator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueuedRemediation {
    /// False when an equivalent job was already queued or running (`job` is that one).
    pub queued: bool,
    /// The job.
    pub job: RemediationJob,
}

/// Remediation exceptions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExceptionList {
    /// Resources a rule's remediation leaves alone.
    pub exceptions: Vec<RemediationException>,
}

/// Webhook subscriptions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionList {
    /// Subscriptions, by name.
    pub subscriptions: Vec<Subscription>,
}

/// A subscription's deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Deliveries with every attempt.
    pub deliveries: Vec<Delivery>,
}
