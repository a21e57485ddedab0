//! Compliance summaries from the latest verdicts: per rule, per resource and overall.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{EvaluatedResource, LatestVerdict, RuleErrors};
use crate::rules::{Compliance, RuleDefinition};
use crate::store::{Store, StoreError};

/// The compliance of a rule, a resource or everything (AWS's summary values).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SummaryState {
    /// At least one NON_COMPLIANT verdict.
    NonCompliant,
    /// At least one COMPLIANT verdict and no NON_COMPLIANT one.
    Compliant,
    /// Only NOT_APPLICABLE verdicts.
    NotApplicable,
    /// No verdict yet.
    InsufficientData,
}

impl SummaryState {
    /// The state of a resource or rule with these verdicts.
    pub fn of(counts: &Counts) -> SummaryState {
        if counts.non_compliant > 0 {
            SummaryState::NonCompliant
        } else if counts.compliant > 0 {
            SummaryState::Compliant
        } else if counts.not_applicable > 0 {
            SummaryState::NotApplicable
        } else {
            SummaryState::InsufficientData
        }
    }

    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryState::NonCompliant => "NON_COMPLIANT",
            SummaryState::Compliant => "COMPLIANT",
            SummaryState::NotApplicable => "NOT_APPLICABLE",
            SummaryState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// Verdict counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// COMPLIANT.
    pub compliant: usize,
    /// NON_COMPLIANT.
    pub non_compliant: usize,
    /// NOT_APPLICABLE.
    pub not_applicable: usize,
}

impl Counts {
    /// Counts one verdict.
    pub fn add(&mut self, compliance: Compliance) {
        match compliance {
            Compliance::Compliant => self.compliant += 1,
            Compliance::NonCompliant => self.non_compliant += 1,
            Compliance::NotApplicable => self.not_applicable += 1,
        }
    }
}

/// One rule's compliance: resources judged, by verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleCompliance {
    /// Rule name.
    pub rule_name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// NON_COMPLIANT if any resource fails it.
    pub compliance: SummaryState,
    /// Resources by latest verdict.
    pub resources: Counts,
    /// Evaluations that failed (no verdict), and the last failure.
    pub evaluation_errors: RuleErrors,
}

/// One resource's compliance over all rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceCompliance {
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// NON_COMPLIANT if any rule says so.
    pub compliance: SummaryState,
    /// Rules by latest verdict.
    pub rules: Counts,
    /// The rules it fails.
    pub non_compliant_rules: Vec<String>,
}

/// Which latest verdicts to summarise.
#[derive(Debug, Clone, Default)]
pub struct ComplianceFilter {
    /// Only this rule.
    pub rule: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only verdicts (and summaries) in this state.
    pub state: Option<SummaryState>,
}

/// Latest verdicts with summaries per rule, per resource and overall.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceSummary {
    /// Overall: NON_COMPLIANT if any resource is.
    pub compliance: SummaryState,
    /// Resources by their compliance.
    pub resource_counts: BTreeMap<String, usize>,
    /// Per rule.
    pub rules: Vec<RuleCompliance>,
    /// Per resource.
    pub resources: Vec<ResourceCompliance>,
    /// The latest verdicts matching the filter.
    pub verdicts: Vec<LatestVerdict>,
    /// Active remediation exceptions on those verdicts' rules and resources.
    pub exceptions: Vec<crate::remediation::RemediationException>,
}

/// Builds the summary from the store's latest verdicts and the registered rules.
pub fn compliance_summary(
    store: &Store,
    definitions: &[RuleDefinition],
    filter: &ComplianceFilter,
) -> Result<ComplianceSummary, StoreError> {
    let mut per_rule: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_resource: BTreeMap<EvaluatedResource, (Counts, Vec<String>)> = BTreeMap::new();
    let mut verdicts = Vec::new();
    for verdict in store.latest_verdicts(filter.rule.as_deref()) {
        let verdict = verdict?;
        if filter
            .resource_type
            .as_ref()
            .is_some_and(|t| !t.eq_ignore_ascii_case(&verdict.resource.resource_type))
        {
            continue;
        }
        per_rule
            .entry(verdict.rule_name.clone())
            .or_default()
            .add(verdict.compliance);
        let entry = per_resource.entry(verdict.resource.clone()).or_default();
        entry.0.add(verdict.compliance);
        if verdict.compliance == Compliance::NonCompliant {
            entry.1.push(verdict.rule_name.clone());
        }
        verdicts.push(verdict);
    }
    let keep = |state: SummaryState| filter.state.is_none_or(|s| s == state);
    let mut rules = Vec::new();
    for d in definitions
        .iter()
        .filter(|d| filter.rule.as_ref().is_none_or(|r| r == &d.name))
    {
        let resources = per_rule.get(&d.name).copied().unwrap_or_default();
        let rule = RuleCompliance {
            rule_name: d.name.clone(),
            enabled: d.enabled,
            compliance: SummaryState::of(&resources),
            resources,
            evaluation_errors: store.rule_errors(&d.name)?,
        };
        if keep(rule.compliance) {
            rules.push(rule);
        }
    }
    rules.sort_by(|a, b| (a.compliance, &a.rule_name).cmp(&(b.compliance, &b.rule_name)));
    let mut resource_counts = BTreeMap::new();
    let mut overall = Counts::default();
    let mut resources = Vec::new();
    for (resource, (counts, non_compliant_rules)) in per_resource {
        let compliance = SummaryState::of(&counts);
        *resource_counts
            .entry(compliance.as_str().to_string())
            .or_insert(0) += 1;
        match compliance {
            SummaryState::NonCompliant => overall.add(Compliance::NonCompliant),
            SummaryState::Compliant => overall.add(Compliance::Compliant),
            _ => overall.add(Compliance::NotApplicable),
        }
        if keep(compliance) {
            resources.push(ResourceCompliance {
                resource,
                compliance,
                rules: counts,
                non_compliant_rules,
            });
        }
    }
    resources.sort_by(|a, b| (a.compliance, &a.resource).cmp(&(b.compliance, &b.resource)));
    if let Some(state) = filter.state {
        verdicts.retain(|v| state.as_str() == v.compliance.as_str());
    }
    let now = crate::model::now_millis();
    let mut exceptions = store.exceptions()?;
    exceptions.retain(|e| {
        e.is_active(now)
            && verdicts
                .iter()
                .any(|v| v.rule_name == e.rule_name && v.resource == e.resource)
    });
    Ok(ComplianceSummary {
        compliance: SummaryState::of(&overall),
        exceptions,
        resource_counts,
        rules,
        resources,
        verdicts,
    })
}

impl SummaryState {
    /// Parses the AWS spelling (case-insensitive, `-` or `_`).
    pub fn parse(text: &str) -> Option<SummaryState> {
        match text.to_ascii_uppercase().replace('-', "_").as_str() {
            "NON_COMPLIANT" => Some(SummaryState::NonCompliant),
            "COMPLIANT" => Some(SummaryState::Compliant),
            "NOT_APPLICABLE" => Some(SummaryState::NotApplicable),
            "INSUFFICIENT_DATA" => Some(SummaryState::InsufficientData),
            _ => None,
        }
    }
}
