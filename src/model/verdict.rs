//! What evaluations leave behind: one record per evaluation and the latest verdict per
//! (rule, resource).

use serde::{Deserialize, Serialize};

use super::rule::{Compliance, EvaluationReport, Outcome, Trigger};
use super::{opt_time_serde, time_serde, ResourceKey, Timestamp};

/// The resource an evaluation judged, spelled as AWS Config spells it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct EvaluatedResource {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Account.
    #[serde(rename = "awsAccountId")]
    pub account_id: String,
    /// Region.
    pub aws_region: String,
}

impl From<&ResourceKey> for EvaluatedResource {
    fn from(key: &ResourceKey) -> Self {
        EvaluatedResource {
            resource_type: key.resource_type.clone(),
            resource_id: key.resource_id.clone(),
            account_id: key.account_id.clone(),
            aws_region: key.region.clone(),
        }
    }
}

impl EvaluatedResource {
    /// The store key of the resource.
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(
            self.account_id.clone(),
            self.aws_region.clone(),
            self.resource_type.clone(),
            self.resource_id.clone(),
        )
    }
}

/// One evaluation of one rule on one configuration version (kept in compliance history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerdictRecord {
    /// Registered rule name.
    pub rule_name: String,
    /// The rule's own version at the time.
    pub rule_version: String,
    /// The registration's revision (bumped by `rules update`).
    pub rule_revision: u32,
    /// The resource judged.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// The configuration version judged.
    pub configuration_version: u64,
    /// Its capture time (AWS's ordering timestamp for change-triggered results).
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub configuration_item_capture_time: Timestamp,
    /// What caused the evaluation.
    pub trigger: Trigger,
    /// When the evaluation ran.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub evaluated_at: Timestamp,
    /// Verdict or error, with the rule's log lines.
    #[serde(flatten)]
    pub report: EvaluationReport,
    /// Whether this verdict changed the resource's compliance for the rule (a first verdict
    /// counts as a change, as in AWS's ComplianceChangeNotification).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compliance_changed: bool,
    /// The compliance before the change, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_from: Option<Compliance>,
}

/// The current verdict of a rule on a resource: the one for its newest judged version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LatestVerdict {
    /// Registered rule name.
    pub rule_name: String,
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// Current verdict.
    pub compliance: Compliance,
    /// Its annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// The configuration version it judged.
    pub configuration_version: u64,
    /// That version's capture time.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub configuration_item_capture_time: Timestamp,
    /// When it was evaluated.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub evaluated_at: Timestamp,
    /// Since when the compliance has had this value.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// The reason of the newest failed evaluation, if it came after this verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When that failure happened.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_time_serde"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<Timestamp>,
}

impl LatestVerdict {
    /// Folds a new record into the current state. Returns the new state and whether the record
    /// changed the compliance; older configuration versions never replace newer ones.
    pub fn fold(
        current: Option<LatestVerdict>,
        record: &VerdictRecord,
    ) -> (Option<LatestVerdict>, bool) {
        let newer = |c: &LatestVerdict| {
            (
                record.configuration_item_capture_time,
                record.configuration_version,
            ) >= (c.configuration_item_capture_time, c.configuration_version)
        };
        match (&record.report.outcome, current) {
            (Outcome::Error { reason, .. }, Some(mut c)) => {
                if newer(&c) {
                    c.last_error = Some(reason.clone());
                    c.last_error_at = Some(record.evaluated_at);
                }
                (Some(c), false)
            }
            (Outcome::Error { .. }, None) => (None, false),
            (Outcome::Verdict(_), Some(c)) if !newer(&c) => (Some(c), false),
            (Outcome::Verdict(v), current) => {
                let changed = current.as_ref().map(|c| c.compliance) != Some(v.compliance);
                let since = match &current {
                    Some(c) if !changed => c.since,
                    _ => record.evaluated_at,
                };
                (
                    Some(LatestVerdict {
                        rule_name: record.rule_name.clone(),
                        resource: record.resource.clone(),
                        compliance: v.compliance,
                        annotation: v.annotation.clone(),
                        configuration_version: record.configuration_version,
                        configuration_item_capture_time: record.configuration_item_capture_time,
                        evaluated_at: record.evaluated_at,
                        since,
                        last_error: None,
                        last_error_at: None,
                    }),
                    changed,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_timestamp_text;
    use crate::model::{FailureKind, Verdict};

    fn record(version: u64, at: &str, outcome: Outcome) -> VerdictRecord {
        let time = parse_timestamp_text(at).unwrap_or_default();
        VerdictRecord {
            rule_name: "r".into(),
            rule_version: "1".into(),
            rule_revision: 1,
            resource: EvaluatedResource {
                resource_type: "AWS::EC2::SecurityGroup".into(),
                resource_id: "sg-1".into(),
                account_id: "1".into(),
                aws_region: "us-east-1".into(),
            },
            configuration_version: version,
            configuration_item_capture_time: time,
            trigger: Trigger::Change,
            evaluated_at: time,
            report: EvaluationReport {
                outcome,
                logs: Vec::new(),
                logs_dropped: 0,
            },
            compliance_changed: false,
            changed_from: None,
        }
    }

    fn verdict(c: Compliance) -> Outcome {
        Outcome::Verdict(Verdict {
            compliance: c,
            annotation: None,
        })
    }

    #[test]
    fn newer_versions_replace_older_ones_and_late_versions_do_not() {
        let (state, changed) = LatestVerdict::fold(
            None,
            &record(1, "2024-05-01T00:00:00Z", verdict(Compliance::Compliant)),
        );
        assert!(changed, "a first verdict is a change");
        let (state, changed) = LatestVerdict::fold(
            state,
            &record(2, "2024-05-02T00:00:00Z", verdict(Compliance::NonCompliant)),
        );
        assert!(changed);
        assert_eq!(
            state.as_ref().map(|s| s.compliance),
            Some(Compliance::NonCompliant)
        );
        // A late version (older capture time) is history, not the current verdict.
        let (state, changed) = LatestVerdict::fold(
            state,
            &record(3, "2024-04-01T00:00:00Z", verdict(Compliance::Compliant)),
        );
        assert!(!changed);
        assert_eq!(state.as_ref().map(|s| s.configuration_version), Some(2));
        // The same verdict again keeps `since`.
        let since = state.as_ref().map(|s| s.since);
        let (state, changed) = LatestVerdict::fold(
            state,
            &record(4, "2024-05-03T00:00:00Z", verdict(Compliance::NonCompliant)),
        );
        assert!(!changed);
        assert_eq!(state.as_ref().map(|s| s.since), since);
        // Errors never become verdicts; they are noted on the current one.
        let failure = Outcome::Error {
            kind: FailureKind::Timeout,
            reason: "slow".into(),
        };
        let (state, changed) =
            LatestVerdict::fold(state, &record(5, "2024-05-04T00:00:00Z", failure.clone()));
        assert!(!changed);
        assert_eq!(
            state.as_ref().map(|s| s.compliance),
            Some(Compliance::NonCompliant)
        );
        assert_eq!(state.and_then(|s| s.last_error), Some("slow".into()));
        assert_eq!(
            LatestVerdict::fold(None, &record(1, "2024-05-04T00:00:00Z", failure)).0,
            None
        );
    }

    #[test]
    fn records_round_trip_through_json() {
        let mut r = record(
            7,
            "2024-05-01T00:00:00Z",
            verdict(Compliance::NotApplicable),
        );
        r.compliance_changed = true;
        r.changed_from = Some(Compliance::Compliant);
        let text = serde_json::to_string(&r).unwrap_or_default();
        let back: Result<VerdictRecord, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(r));
    }
}

/// How many (resource, rule) pairs became non-compliant and stopped being so on one UTC day:
/// the dashboard walks back from today's count with these to draw compliance over time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Pairs whose latest verdict turned NON_COMPLIANT.
    pub became_non_compliant: u64,
    /// Pairs whose latest verdict stopped being NON_COMPLIANT (or was removed with its rule).
    pub left_non_compliant: u64,
}

/// How often a rule failed to decide, and the last failure: what `rules list`, `compliance`
/// and the API show so a broken rule is seen (its failures are not verdicts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleErrors {
    /// Evaluations that failed since the rule was registered.
    pub errors: u64,
    /// Why the last one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last one failed.
    #[serde(
        default,
        with = "opt_time_serde",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<Timestamp>,
}

impl RuleErrors {
    /// Counts `record` when it is a failure.
    pub fn add(&mut self, record: &VerdictRecord) {
        if let Outcome::Error { reason, .. } = &record.report.outcome {
            self.errors += 1;
            if self
                .last_error_at
                .is_none_or(|at| at <= record.evaluated_at)
            {
                self.last_error = Some(reason.clone());
                self.last_error_at = Some(record.evaluated_at);
            }
        }
    }
}
