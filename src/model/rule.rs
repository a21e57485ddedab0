//! The host's own view of rules and their results (serializable, independent of wasmtime).

use serde::{Deserialize, Serialize};

/// The verdict of a rule on one resource.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// The resource follows the rule.
    Compliant,
    /// The resource breaks the rule.
    NonCompliant,
    /// The rule does not judge this resource (wrong type, deleted, nothing to check).
    NotApplicable,
}

impl Compliance {
    /// The AWS spelling, e.g. `NON_COMPLIANT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }

    /// Parses the AWS spelling (case-insensitive, `-` or `_`).
    pub fn parse(text: &str) -> Option<Compliance> {
        match text.to_ascii_uppercase().replace('-', "_").as_str() {
            "COMPLIANT" => Some(Compliance::Compliant),
            "NON_COMPLIANT" => Some(Compliance::NonCompliant),
            "NOT_APPLICABLE" => Some(Compliance::NotApplicable),
            _ => None,
        }
    }
}

/// What caused an evaluation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A new configuration version was recorded.
    Change,
    /// A cron schedule fired.
    Schedule,
    /// Someone asked (rule added or updated, `rules test`, manual evaluation).
    Manual,
}

impl Trigger {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Change => "change",
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }

    /// The trigger of a lower-case name.
    pub fn parse(text: &str) -> Option<Trigger> {
        [Trigger::Change, Trigger::Schedule, Trigger::Manual]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// A parameter a rule accepts, as its metadata declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleParameter {
    /// Parameter name, e.g. `blockedPort1`.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Used when the rule is registered without a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether registration fails without a value (and no default).
    pub required: bool,
}

/// What a rule says about itself (its exported `metadata()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleMetadata {
    /// The rule's own name.
    pub name: String,
    /// The rule's version, e.g. `1.0.0`.
    pub version: String,
    /// One-line description.
    pub description: String,
    /// Resource types judged; empty = all types.
    pub resource_types: Vec<String>,
    /// Accepted parameters.
    pub parameters: Vec<RuleParameter>,
    /// Default triggers.
    pub triggers: Vec<Trigger>,
    /// Whether the previous version is passed on change triggers.
    pub wants_previous: bool,
}

/// A verdict with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.
    pub compliance: Compliance,
    /// Why (at most [`MAX_ANNOTATION_CHARS`] characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
}

/// AWS Config keeps annotations of 1 to 256 characters; longer ones are cut.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// Cuts an annotation to [`MAX_ANNOTATION_CHARS`] characters; empty becomes none.
pub fn truncate_annotation(annotation: Option<String>) -> Option<String> {
    let text = annotation?;
    if text.is_empty() {
        return None;
    }
    match text.char_indices().nth(MAX_ANNOTATION_CHARS) {
        Some((cut, _)) => Some(text[..cut].to_string()),
        None => Some(text),
    }
}

/// Why an evaluation produced no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum FailureKind {
    /// The evaluation ran past its deadline.
    Timeout,
    /// The rule tried to use more memory than allowed.
    MemoryLimit,
    /// The rule panicked (its message is in the reason).
    Panic,
    /// The rule trapped for another reason (unreachable, out of bounds, …).
    Trap,
    /// The rule returned an error (e.g. a bad parameter).
    RuleError,
    /// The rule could not be loaded or instantiated.
    Load,
}

/// The result of one evaluation: a verdict or a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    /// The rule decided.
    Verdict(Verdict),
    /// The rule could not decide; never counted as a verdict.
    Error {
        /// What kind of failure.
        kind: FailureKind,
        /// The reason, with the panic or trap message.
        reason: String,
    },
}

impl Outcome {
    /// The verdict's compliance, none for failures.
    pub fn compliance(&self) -> Option<Compliance> {
        match self {
            Outcome::Verdict(v) => Some(v.compliance),
            Outcome::Error { .. } => None,
        }
    }

    /// The verdict's annotation, none for failures or when the rule gave none.
    pub fn annotation(&self) -> Option<&str> {
        match self {
            Outcome::Verdict(v) => v.annotation.as_deref(),
            Outcome::Error { .. } => None,
        }
    }
}

/// A log line a rule wrote during an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// debug, info, warn or error.
    pub level: String,
    /// The text (cut at [`MAX_LOG_LINE_BYTES`]).
    pub message: String,
}

/// At most this many log lines are kept per evaluation; later ones are counted.
pub const MAX_LOG_LINES: usize = 50;
/// Longer log lines are cut.
pub const MAX_LOG_LINE_BYTES: usize = 1024;

/// An evaluation's outcome with the rule's log lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationReport {
    /// Verdict or failure.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The rule's log lines (first [`MAX_LOG_LINES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogLine>,
    /// How many lines did not fit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub logs_dropped: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_cut_at_256_characters_on_a_char_boundary() {
        let long = "é".repeat(300);
        let cut = truncate_annotation(Some(long)).unwrap_or_default();
        assert_eq!(cut.chars().count(), 256);
        assert_eq!(truncate_annotation(Some(String::new())), None);
        assert_eq!(
            truncate_annotation(Some("short".into())),
            Some("short".into())
        );
    }

    #[test]
    fn compliance_parses_aws_and_cli_spellings() {
        assert_eq!(
            Compliance::parse("non-compliant"),
            Some(Compliance::NonCompliant)
        );
        assert_eq!(
            Compliance::parse("NOT_APPLICABLE"),
            Some(Compliance::NotApplicable)
        );
        assert_eq!(Compliance::parse("bogus"), None);
        assert_eq!(Compliance::NonCompliant.as_str(), "NON_COMPLIANT");
    }
}
