//! Read use cases: resources, history, versions, diffs, timelines, compliance, remediation
//! configurations, jobs, exceptions and subscriptions. Each returns the one typed
//! result that the CLI renders and the API serialises.

use serde::{Deserialize, Serialize};

use super::{App, AppError};
use crate::evaluator::{compliance_summary, ComplianceFilter, ComplianceSummary};
use crate::model::{
    format_time, is_aws_resource_type, known_resource_type, ConfigurationItem, Delivery,
    EvaluatedResource, JobState, LatestVerdict, RemediationConfig, RemediationException,
    RemediationJob, ResourceKey, Subscription, VerdictRecord,
};
use crate::query::{
    self, DiffResponse, HistoryResponse, ResourceEntry, ResourceSelector, VersionSelector,
};
use crate::store::HistoryQuery;
use crate::timeline::Timeline;

/// A resource's compliance: the latest verdict per rule and, when asked, every verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceComplianceView {
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// The latest verdict of each rule that judged it.
    pub latest: Vec<LatestVerdict>,
    /// Every verdict over time, oldest first (absent unless asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<VerdictRecord>>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this rule.
    pub rule: Option<String>,
}

impl App {
    /// The one recorded resource a selector means.
    pub fn resolve(&self, sel: &ResourceSelector) -> Result<ResourceKey, AppError> {
        match query::resolve(self.store(), sel) {
            // Not found under a type nobody knows: most likely a typo, so say which type was meant.
            Err(err @ query::QueryError::NotFound { .. }) => {
                let resource_type = self
                    .known_type(&sel.resource_type)
                    .map_err(|e| AppError::NotFound(e.to_string()))?;
                if resource_type == sel.resource_type {
                    return Err(err.into());
                }
                let sel = ResourceSelector {
                    resource_type,
                    ..sel.clone()
                };
                Ok(query::resolve(self.store(), &sel)?)
            }
            other => Ok(other?),
        }
    }

    /// The spelling of a resource type the user gave: AWS's or a recorded one, matched
    /// ignoring case; a type neither knows is an error naming the closest known type.
    pub fn known_type(&self, given: &str) -> Result<String, AppError> {
        if is_aws_resource_type(given) {
            return Ok(given.to_string());
        }
        let recorded = self.store().recorded_types()?;
        known_resource_type(given, &recorded).map_err(|e| AppError::Invalid(e.to_string()))
    }

    /// The resource types recorded, sorted.
    pub fn recorded_types(&self) -> Result<Vec<String>, AppError> {
        Ok(self.store().recorded_types()?)
    }

    /// [`App::known_type`] of an optional filter.
    pub fn known_type_filter(&self, given: Option<&str>) -> Result<Option<String>, AppError> {
        given.map(|t| self.known_type(t)).transpose()
    }

    /// Every recorded resource (of a type, when given) with its latest state.
    pub fn resources(&self, resource_type: Option<&str>) -> Result<Vec<ResourceEntry>, AppError> {
        let resource_type = self.known_type_filter(resource_type)?;
        Ok(query::resources(self.store(), resource_type.as_deref()).collect::<Result<_, _>>()?)
    }

    /// One page of a resource's versions, each with the API calls linked to it.
    pub fn history(
        &self,
        sel: &ResourceSelector,
        page: &HistoryQuery,
    ) -> Result<HistoryResponse, AppError> {
        if let (Some(since), Some(until)) = (page.since, page.until) {
            if since > until {
                return Err(AppError::Invalid(format!(
                    "since ({}) is after until ({})",
                    format_time(&since),
                    format_time(&until)
                )));
            }
        }
        let key = self.resolve(sel)?;
        let mut history = query::history(self.store(), &key, page)?;
        crate::timeline::add_related_events(self.store(), &mut history.configuration_items)?;
        Ok(history)
    }

    /// One version of a resource, with the API calls linked to it.
    pub fn show(
        &self,
        sel: &ResourceSelector,
        which: VersionSelector,
    ) -> Result<ConfigurationItem, AppError> {
        let mut item = self.stored_version(sel, which)?;
        item.related_events = crate::timeline::related_events(self.store(), &item)?;
        Ok(item)
    }

    /// One version of a resource as stored: `relatedEvents` only as the item brought them
    /// (linking the calls reads the whole history; [`App::show`] does it).
    pub fn stored_version(
        &self,
        sel: &ResourceSelector,
        which: VersionSelector,
    ) -> Result<ConfigurationItem, AppError> {
        let key = self.resolve(sel)?;
        Ok(query::show(self.store(), &key, which)?)
    }

    /// What changed between two versions (default: the latest against the one before).
    pub fn diff(
        &self,
        sel: &ResourceSelector,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<DiffResponse, AppError> {
        let key = self.resolve(sel)?;
        Ok(query::diff(self.store(), &key, from, to)?)
    }

    /// A resource's versions with the calls that caused them, its verdicts and remediation.
    pub fn timeline(&self, sel: &ResourceSelector) -> Result<Timeline, AppError> {
        let key = self.resolve(sel)?;
        Ok(crate::timeline::timeline(self.store(), &key)?)
    }

    /// One page of a resource's timeline, newest first: `versions` versions older than
    /// `before` (a previous page's token) with what happened around them.
    pub fn timeline_page(
        &self,
        sel: &ResourceSelector,
        before: Option<&str>,
        versions: usize,
    ) -> Result<crate::timeline::TimelinePage, AppError> {
        let key = self.resolve(sel)?;
        let before = before
            .map(|token| {
                crate::store::PageToken::decode(token)
                    .map_err(|e| AppError::Invalid(format!("before: {e}")))
            })
            .transpose()?;
        Ok(crate::timeline::timeline_window(
            self.store(),
            &key,
            before,
            versions,
        )?)
    }

    /// Latest verdicts summarised per rule and resource; an unknown rule is an error.
    pub fn compliance(&self, filter: &ComplianceFilter) -> Result<ComplianceSummary, AppError> {
        let definitions = self.store().rule_definitions()?;
        if let Some(rule) = &filter.rule {
            self.require_rule(&definitions, rule)?;
        }
        let filter = ComplianceFilter {
            resource_type: self.known_type_filter(filter.resource_type.as_deref())?,
            ..filter.clone()
        };
        Ok(compliance_summary(self.store(), &definitions, &filter)?)
    }

    /// A resource's latest verdict per rule and (with `history`) every verdict over time.
    pub fn resource_compliance(
        &self,
        sel: &ResourceSelector,
        rule: Option<&str>,
        history: bool,
    ) -> Result<ResourceComplianceView, AppError> {
        let key = self.resolve(sel)?;
        let definitions = self.store().rule_definitions()?;
        if let Some(rule) = rule {
            self.require_rule(&definitions, rule)?;
        }
        let wanted = |name: &str| rule.is_none_or(|r| r == name);
        let mut latest = Vec::new();
        for definition in definitions.iter().filter(|d| wanted(&d.name)) {
            if let Some(verdict) = self.store().latest_verdict(&definition.name, &key)? {
                latest.push(verdict);
            }
        }
        let history = if history {
            let mut records = self.store().verdict_history(&key)?;
            records.retain(|r| wanted(&r.rule_name));
            Some(records)
        } else {
            None
        };
        Ok(ResourceComplianceView {
            resource: EvaluatedResource::from(&key),
            latest,
            history,
        })
    }

    /// Every remediation configuration, or one rule's (an error when it has none), secrets
    /// hidden as answers show them.
    pub fn remediation_configs(
        &self,
        rule: Option<&str>,
    ) -> Result<Vec<RemediationConfig>, AppError> {
        match rule {
            None => Ok(self
                .store()
                .remediation_configs()?
                .iter()
                .map(RemediationConfig::redacted)
                .collect()),
            Some(rule) => match self.store().remediation_config(rule)? {
                Some(config) => Ok(vec![config.redacted()]),
                None => Err(AppError::NotFound(format!(
                    "rule {rule} has no remediation configured"
                ))),
            },
        }
    }

    /// Remediation jobs, oldest first.
    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<RemediationJob>, AppError> {
        let mut jobs = Vec::new();
        for job in self.store().jobs() {
            let job = job?;
            if filter.state.is_none_or(|s| s == job.state)
                && filter.rule.as_ref().is_none_or(|r| r == &job.rule_name)
            {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }

    /// One job with every attempt.
    pub fn job(&self, id: u64) -> Result<RemediationJob, AppError> {
        self.store()
            .job(id)?
            .ok_or_else(|| AppError::NotFound(format!("no remediation job {id}")))
    }

    /// Every remediation exception.
    pub fn exceptions(&self) -> Result<Vec<RemediationException>, AppError> {
        Ok(self.store().exceptions()?)
    }

    /// Every webhook subscription, secrets hidden as answers show them.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, AppError> {
        Ok(self
            .store()
            .subscriptions()?
            .iter()
            .map(Subscription::redacted)
            .collect())
    }

    /// One subscription.
    pub fn subscription(&self, name: &str) -> Result<Subscription, AppError> {
        self.subscriptions()?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| AppError::NotFound(format!("no subscription named {name:?}")))
    }

    /// A subscription's deliveries with every attempt (an error for an unknown subscription).
    pub fn deliveries(&self, name: &str) -> Result<Vec<Delivery>, AppError> {
        self.subscription(name)?;
        let mut out = Vec::new();
        for delivery in self.store().deliveries() {
            let delivery = delivery?;
            if delivery.subscription == name {
                out.push(delivery.redacted());
            }
        }
        Ok(out)
    }

    fn require_rule(
        &self,
        definitions: &[crate::model::RuleDefinition],
        rule: &str,
    ) -> Result<(), AppError> {
        if definitions.iter().any(|d| d.name == rule) {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "no rule named {rule:?} (see `conftrail rules list`)"
            )))
        }
    }
}
