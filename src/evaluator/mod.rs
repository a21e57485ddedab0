//! Evaluation: judges configuration versions with the enabled rules in scope, on a small pool of
//! workers that each keep one instance per rule, and records verdicts and compliance changes.
//! What follows stored verdicts (notifications, remediation) is the caller's [`VerdictSink`].

mod summary;

pub use crate::model::{EvaluatedResource, LatestVerdict, VerdictRecord};
pub use summary::{
    compliance_summary, ComplianceFilter, ComplianceSummary, Counts, ResourceCompliance,
    RuleCompliance, SummaryState,
};

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasmtime::component::Component;

use crate::model::{now_millis, ConfigurationItem, ResourceKey};
use crate::rules::{
    Compliance, EvaluationReport, FailureKind, Outcome, ResourceLookup, RuleCall, RuleDefinition,
    RuleEngine, RuleError, RuleInput, RuleInstance, RuleRegistry, Trigger,
};
use crate::store::{Store, StoreError};

/// Jobs handed to the workers at once while streaming a rule's scope.
const SCOPE_BATCH: usize = 256;

/// Narrows a scope evaluation to a resource type and/or id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<String>,
}

/// One configuration version to judge.
#[derive(Debug, Clone)]
pub struct Job {
    /// The version (its `meta` need not be set).
    pub item: ConfigurationItem,
    /// Its version number.
    pub version: u64,
    /// What caused the evaluation.
    pub trigger: Trigger,
}

/// Counts of what evaluations produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationCounts {
    /// Rule evaluations run.
    pub evaluations: usize,
    /// COMPLIANT verdicts.
    pub compliant: usize,
    /// NON_COMPLIANT verdicts.
    pub non_compliant: usize,
    /// NOT_APPLICABLE verdicts.
    pub not_applicable: usize,
    /// Evaluations that failed (no verdict).
    pub errors: usize,
    /// Verdicts that changed a resource's compliance for a rule.
    pub compliance_changes: usize,
}

impl EvaluationCounts {
    fn add_record(&mut self, record: &VerdictRecord) {
        self.evaluations += 1;
        match record.report.outcome.compliance() {
            Some(Compliance::Compliant) => self.compliant += 1,
            Some(Compliance::NonCompliant) => self.non_compliant += 1,
            Some(Compliance::NotApplicable) => self.not_applicable += 1,
            None => self.errors += 1,
        }
        if record.compliance_changed {
            self.compliance_changes += 1;
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: EvaluationCounts) {
        self.evaluations += other.evaluations;
        self.compliant += other.compliant;
        self.non_compliant += other.non_compliant;
        self.not_applicable += other.not_applicable;
        self.errors += other.errors;
        self.compliance_changes += other.compliance_changes;
    }

    /// One line for the CLI.
    pub fn summary(&self) -> String {
        format!(
            "{} evaluations: {} compliant, {} non-compliant, {} not applicable, {} errors, {} compliance changes",
            self.evaluations,
            self.compliant,
            self.non_compliant,
            self.not_applicable,
            self.errors,
            self.compliance_changes
        )
    }
}

/// Cross-resource lookups read the latest recorded configuration.
impl ResourceLookup for Store {
    fn latest(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Option<ConfigurationItem> {
        let key = ResourceKey::new(account_id, region, resource_type, resource_id);
        let state = self.latest_state(&key).ok()??;
        if crate::model::ItemStatus::from(state.status.as_str()).is_deletion() {
            return None;
        }
        self.version(&key, state.latest.version).ok()?
    }
}

/// Told about every batch of stored verdicts (with `compliance_changed` set), while the
/// evaluation runs: the application layer decides what follows.
pub type VerdictSink = Arc<dyn Fn(&[VerdictRecord]) -> Result<(), StoreError> + Send + Sync>;

/// An enabled rule, compiled.
struct ActiveRule {
    definition: RuleDefinition,
    component: Component,
    parameters: String,
}

/// Evaluates jobs on `workers` threads; each worker keeps one instance per rule.
pub struct Evaluator {
    store: Store,
    engine: Arc<RuleEngine>,
    rules: Vec<Arc<ActiveRule>>,
    workers: Vec<Worker>,
    lookup: Arc<dyn ResourceLookup>,
    sink: Option<VerdictSink>,
}

#[derive(Default)]
struct Worker {
    instances: HashMap<String, RuleInstance>,
}

impl Evaluator {
    /// Loads the enabled rules of the registry (precompiled artifacts) for `workers` threads.
    pub fn new(
        registry: &RuleRegistry,
        store: &Store,
        workers: usize,
    ) -> Result<Evaluator, RuleError> {
        let mut rules = Vec::new();
        for definition in registry.list()? {
            if !definition.enabled {
                continue;
            }
            let component = registry.load(&definition)?;
            rules.push(Arc::new(ActiveRule {
                parameters: definition.effective_parameters(),
                definition,
                component,
            }));
        }
        Ok(Evaluator {
            store: store.clone(),
            engine: registry.engine().clone(),
            rules,
            workers: (0..workers.max(1)).map(|_| Worker::default()).collect(),
            lookup: Arc::new(store.clone()),
            sink: None,
        })
    }

    /// Hands every batch of stored verdicts to `sink`.
    pub fn with_sink(mut self, sink: VerdictSink) -> Evaluator {
        self.sink = Some(sink);
        self
    }

    /// Names of the rules this evaluator runs.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules
            .iter()
            .map(|r| r.definition.name.as_str())
            .collect()
    }

    /// Judges each job with every enabled rule in scope (change jobs only with rules that
    /// trigger on changes) and records the verdicts.
    pub fn evaluate(&mut self, jobs: Vec<Job>) -> Result<EvaluationCounts, StoreError> {
        self.evaluate_with(jobs, None)
    }

    /// Judges every resource in a rule's scope now (its latest version), streaming the store.
    pub fn evaluate_rule_scope(&mut self, rule: &str) -> Result<EvaluationCounts, StoreError> {
        self.evaluate_scope(rule, &ScopeFilter::default(), Trigger::Manual)
    }

    /// As [`Evaluator::evaluate_rule_scope`], recording `trigger` as the cause.
    pub fn evaluate_rule_scope_with(
        &mut self,
        rule: &str,
        trigger: Trigger,
    ) -> Result<EvaluationCounts, StoreError> {
        self.evaluate_scope(rule, &ScopeFilter::default(), trigger)
    }

    /// Judges the latest version of every resource in a rule's scope that also matches
    /// `filter`, streaming the store in pages of [`SCOPE_BATCH`].
    pub fn evaluate_scope(
        &mut self,
        rule: &str,
        filter: &ScopeFilter,
        trigger: Trigger,
    ) -> Result<EvaluationCounts, StoreError> {
        let Some(active) = self
            .rules
            .iter()
            .find(|r| r.definition.name == rule)
            .cloned()
        else {
            return Ok(EvaluationCounts::default());
        };
        let mut types: Vec<Option<String>> = match active.definition.resource_types() {
            [] => vec![None],
            types => types.iter().cloned().map(Some).collect(),
        };
        if let Some(wanted) = &filter.resource_type {
            if !active.definition.applies_to_type(wanted) {
                return Ok(EvaluationCounts::default());
            }
            types = vec![Some(wanted.clone())];
        }
        let mut counts = EvaluationCounts::default();
        let mut jobs = Vec::new();
        for resource_type in types {
            let store = self.store.clone();
            for summary in store.resources(resource_type.as_deref()) {
                let summary = summary?;
                if active
                    .definition
                    .scope
                    .resource_id
                    .as_ref()
                    .is_some_and(|id| id != &summary.key.resource_id)
                    || filter
                        .resource_id
                        .as_ref()
                        .is_some_and(|id| id != &summary.key.resource_id)
                {
                    continue;
                }
                let version = summary.state.latest.version;
                if let Some(item) = store.version(&summary.key, version)? {
                    jobs.push(Job {
                        item,
                        version,
                        trigger,
                    });
                }
                if jobs.len() >= SCOPE_BATCH {
                    counts.merge(self.evaluate_with(std::mem::take(&mut jobs), Some(rule))?);
                }
            }
        }
        counts.merge(self.evaluate_with(jobs, Some(rule))?);
        Ok(counts)
    }

    fn evaluate_with(
        &mut self,
        jobs: Vec<Job>,
        only_rule: Option<&str>,
    ) -> Result<EvaluationCounts, StoreError> {
        if jobs.is_empty() || self.rules.is_empty() {
            return Ok(EvaluationCounts::default());
        }
        let started = std::time::Instant::now();
        let result = self.evaluate_sharded(jobs, only_rule);
        crate::metrics::evaluation_batch(started.elapsed());
        result
    }

    fn evaluate_sharded(
        &mut self,
        jobs: Vec<Job>,
        only_rule: Option<&str>,
    ) -> Result<EvaluationCounts, StoreError> {
        let shared = Shared {
            store: &self.store,
            engine: &self.engine,
            rules: &self.rules,
            lookup: &self.lookup,
            sink: self.sink.as_ref(),
            only_rule,
        };
        // Versions of one resource always go to the same worker, in order.
        let workers = self.workers.len().min(jobs.len());
        let mut shards: Vec<Vec<Job>> = (0..workers).map(|_| Vec::new()).collect();
        for job in jobs {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            job.item.key().hash(&mut hasher);
            shards[(hasher.finish() as usize) % workers].push(job);
        }
        if workers == 1 {
            let jobs = shards.pop().unwrap_or_default();
            return self.workers[0].run(&shared, jobs);
        }
        let results: Vec<Result<EvaluationCounts, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .workers
                .iter_mut()
                .zip(shards)
                .map(|(worker, jobs)| {
                    let shared = &shared;
                    scope.spawn(move || worker.run(shared, jobs))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Encode {
                            what: "evaluation",
                            detail: "an evaluation worker panicked".to_string(),
                        })
                    })
                })
                .collect()
        });
        let mut counts = EvaluationCounts::default();
        for result in results {
            counts.merge(result?);
        }
        Ok(counts)
    }
}

/// Verdicts written per store batch.
const VERDICT_BATCH: usize = 256;

fn write_verdicts(
    store: &Store,
    sink: Option<&VerdictSink>,
    pending: &mut Vec<VerdictRecord>,
    counts: &mut EvaluationCounts,
) -> Result<(), StoreError> {
    let stored = store.record_verdicts(std::mem::take(pending))?;
    let mut by_verdict: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    for record in &stored {
        counts.add_record(record);
        let verdict = record
            .report
            .outcome
            .compliance()
            .map_or("ERROR", |c| c.as_str());
        *by_verdict.entry((&record.rule_name, verdict)).or_default() += 1;
    }
    for ((rule, verdict), n) in by_verdict {
        crate::metrics::evaluations(rule, verdict, n);
    }
    match sink {
        Some(sink) => sink(&stored),
        None => Ok(()),
    }
}

/// What every worker reads.
struct Shared<'a> {
    store: &'a Store,
    engine: &'a Arc<RuleEngine>,
    rules: &'a [Arc<ActiveRule>],
    lookup: &'a Arc<dyn ResourceLookup>,
    sink: Option<&'a VerdictSink>,
    only_rule: Option<&'a str>,
}

impl Worker {
    fn run(&mut self, shared: &Shared<'_>, jobs: Vec<Job>) -> Result<EvaluationCounts, StoreError> {
        let mut counts = EvaluationCounts::default();
        let mut pending = Vec::new();
        for job in jobs {
            let mut input = None;
            for rule in shared.rules {
                let definition = &rule.definition;
                let wanted = match shared.only_rule {
                    Some(name) => name == definition.name,
                    None => {
                        job.trigger != Trigger::Change
                            || definition.triggers.contains(&Trigger::Change)
                    }
                };
                if !wanted || !definition.applies_to(&job.item) {
                    continue;
                }
                let input = input.get_or_insert_with(|| RuleInput::from_item(&job.item));
                let previous =
                    if definition.metadata.wants_previous && job.trigger == Trigger::Change {
                        shared
                            .store
                            .previous_version(&job.item)?
                            .map(|p| RuleInput::from_item(&p))
                    } else {
                        None
                    };
                let report = self.evaluate_one(shared, rule, &job, input, previous.as_ref());
                let record = VerdictRecord {
                    rule_name: definition.name.clone(),
                    rule_version: definition.metadata.version.clone(),
                    rule_revision: definition.revision,
                    resource: EvaluatedResource::from(&job.item.key()),
                    configuration_version: job.version,
                    configuration_item_capture_time: job.item.configuration_item_capture_time,
                    trigger: job.trigger,
                    evaluated_at: now_millis(),
                    report,
                    compliance_changed: false,
                    changed_from: None,
                };
                if let Outcome::Error { reason, .. } = &record.report.outcome {
                    tracing::debug!(rule = %definition.name, resource = %job.item.resource_id, %reason, "rule evaluation failed");
                }
                pending.push(record);
            }
            // Verdicts are written in batches: one sled batch is far cheaper than many.
            if pending.len() >= VERDICT_BATCH {
                write_verdicts(shared.store, shared.sink, &mut pending, &mut counts)?;
            }
        }
        write_verdicts(shared.store, shared.sink, &mut pending, &mut counts)?;
        Ok(counts)
    }

    fn evaluate_one(
        &mut self,
        shared: &Shared<'_>,
        rule: &ActiveRule,
        job: &Job,
        input: &RuleInput,
        previous: Option<&RuleInput>,
    ) -> EvaluationReport {
        let name = &rule.definition.name;
        if self.instances.get(name).is_some_and(|i| !i.is_usable()) {
            // A trapped instance cannot be entered again; a fresh one starts clean.
            self.instances.remove(name);
        }
        let instance = match self.instances.entry(name.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => match RuleInstance::new(
                shared.engine,
                &rule.component,
                shared.lookup.clone(),
                rule.definition.limits(),
            ) {
                Ok(instance) => entry.insert(instance),
                Err(e) => {
                    return EvaluationReport {
                        outcome: Outcome::Error {
                            kind: FailureKind::Load,
                            reason: e.to_string(),
                        },
                        logs: Vec::new(),
                        logs_dropped: 0,
                    }
                }
            },
        };
        instance.evaluate(
            &RuleCall {
                rule_name: name,
                parameters: &rule.parameters,
                trigger: job.trigger,
                previous,
            },
            input,
        )
    }
}
