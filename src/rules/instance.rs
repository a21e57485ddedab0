//! One instantiated rule in its own sandbox (a wasmtime store with a memory cap and a deadline),
//! reused across evaluations until it traps.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{ResourceLimiter, Store, Trap};

use super::bindings::conftrail::rule::{host, types as wit};
use super::bindings::{Rule, RulePre};
use super::definition::{check_resource_type, validate_rule_name};
use super::engine::{RuleEngine, EPOCH_TICK};
use super::RuleError;
use crate::model::{
    truncate_annotation, Compliance, ConfigurationItem, EvaluationReport, FailureKind, LogLine,
    Outcome, RuleDefinition, RuleMetadata, RuleParameter, Trigger, Verdict, MAX_LOG_LINES,
    MAX_LOG_LINE_BYTES,
};

/// Default wall-clock deadline of one evaluation.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(1);
/// Default cap on a rule's linear memory.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
/// An instance whose memory grew past this is recreated after the call, to give memory back.
const RECYCLE_MEMORY_ABOVE: usize = 16 << 20;

/// The sandbox limits of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock deadline per call.
    pub deadline: Duration,
    /// Maximum linear memory in bytes.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: DEFAULT_DEADLINE,
            memory: DEFAULT_MEMORY_LIMIT,
        }
    }
}

impl RuleDefinition {
    /// The sandbox limits.
    pub fn limits(&self) -> Limits {
        Limits {
            deadline: Duration::from_millis(self.deadline_ms),
            memory: (self.memory_limit_mib as usize) << 20,
        }
    }
}

/// Read-only access to other resources' latest configuration, for cross-resource rules.
pub trait ResourceLookup: Send + Sync {
    /// The latest non-deleted configuration of a resource, if recorded.
    fn latest(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Option<ConfigurationItem>;
}

/// A lookup that knows no resources (e.g. `rules test` without `--resource`).
pub struct NoLookup;

impl ResourceLookup for NoLookup {
    fn latest(&self, _: &str, _: &str, _: &str, _: &str) -> Option<ConfigurationItem> {
        None
    }
}

/// Resources given up front (`rules test --resource FILE`).
impl ResourceLookup for Vec<ConfigurationItem> {
    fn latest(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Option<ConfigurationItem> {
        let matches = |i: &&ConfigurationItem| {
            i.resource_type == resource_type && i.resource_id == resource_id
        };
        let same_place = self
            .iter()
            .filter(matches)
            .find(|i| i.account_id == account_id && i.aws_region == region);
        same_place
            .or_else(|| self.iter().find(matches))
            .filter(|i| !i.configuration_item_status.is_deletion())
            .cloned()
    }
}

/// Caps memory growth and remembers whether the cap was hit.
struct MemoryLimiter {
    limit: usize,
    size: usize,
    exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} exceeded (asked for {})",
                mib(self.limit),
                mib(desired)
            )));
        }
        self.size = self.size.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

fn mib(bytes: usize) -> String {
    format!("{} MiB", bytes as f64 / (1 << 20) as f64)
}

/// What a rule's host imports see: its log lines, the lookup and where the item lives.
pub struct HostState {
    limiter: MemoryLimiter,
    logs: Vec<LogLine>,
    logs_dropped: u32,
    lookup: Arc<dyn ResourceLookup>,
    account_id: String,
    region: String,
}

impl wit::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        if self.logs.len() >= MAX_LOG_LINES {
            self.logs_dropped = self.logs_dropped.saturating_add(1);
            return;
        }
        let level = match level {
            host::LogLevel::Debug => "debug",
            host::LogLevel::Info => "info",
            host::LogLevel::Warn => "warn",
            host::LogLevel::Error => "error",
        };
        self.logs.push(LogLine {
            level: level.to_string(),
            message: cut_bytes(message, MAX_LOG_LINE_BYTES),
        });
    }

    fn lookup(&mut self, resource_type: String, resource_id: String) -> Option<wit::Item> {
        self.lookup
            .latest(&self.account_id, &self.region, &resource_type, &resource_id)
            .map(|item| RuleInput::from_item(&item).0)
    }
}

fn cut_bytes(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// An item converted once into the rule interface's shape, reusable across rules.
#[derive(Clone)]
pub struct RuleInput(wit::Item);

impl RuleInput {
    /// Converts a recorded configuration item (configuration and supplementary as JSON text).
    pub fn from_item(item: &ConfigurationItem) -> RuleInput {
        let configuration = item.configuration.to_string();
        let supplementary = serde_json::to_string(&item.supplementary_configuration)
            .unwrap_or_else(|_| "{}".to_string());
        RuleInput(wit::Item {
            identity: wit::ResourceIdentity {
                account_id: item.account_id.clone(),
                region: item.aws_region.clone(),
                resource_type: item.resource_type.clone(),
                resource_id: item.resource_id.clone(),
                resource_name: item.resource_name.clone(),
                arn: item.arn.clone(),
            },
            status: item.configuration_item_status.as_str().to_string(),
            capture_time: crate::model::format_time(&item.configuration_item_capture_time),
            tags: item
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            relationships: item
                .relationships
                .iter()
                .map(|r| wit::Relationship {
                    name: r.name.clone(),
                    resource_type: r.resource_type.clone(),
                    resource_id: r.resource_id.clone(),
                    resource_name: r.resource_name.clone(),
                })
                .collect(),
            configuration,
            supplementary_configuration: supplementary,
        })
    }

    /// The resource's account.
    pub fn account_id(&self) -> &str {
        &self.0.identity.account_id
    }

    /// The resource's region.
    pub fn region(&self) -> &str {
        &self.0.identity.region
    }
}

/// Why a rule is being run, and with what.
pub struct RuleCall<'a> {
    /// Registered name.
    pub rule_name: &'a str,
    /// Parameters as a JSON object text.
    pub parameters: &'a str,
    /// Cause.
    pub trigger: Trigger,
    /// The previous version, when the rule wants it.
    pub previous: Option<&'a RuleInput>,
}

/// An instantiated rule. Recreate it (with [`RuleInstance::new`]) once [`Self::is_usable`] is false.
pub struct RuleInstance {
    store: Store<HostState>,
    rule: Rule,
    limits: Limits,
    usable: bool,
}

impl RuleInstance {
    /// Instantiates a compiled rule in a fresh sandbox.
    pub fn new(
        engine: &RuleEngine,
        component: &Component,
        lookup: Arc<dyn ResourceLookup>,
        limits: Limits,
    ) -> Result<RuleInstance, RuleError> {
        let pre = engine
            .linker()
            .instantiate_pre(component)
            .map_err(|e| RuleError::Invalid {
                reason: format!("the component does not fit the conftrail:rule@0.1.0 world: {e:#}"),
            })?;
        let pre = RulePre::new(pre).map_err(|e| RuleError::Invalid {
            reason: format!(
                "the component does not export the conftrail:rule@0.1.0 functions (build rules with the conftrail rule SDK or wit-bindgen): {e:#}"
            ),
        })?;
        let mut store = Store::new(
            engine.engine(),
            HostState {
                limiter: MemoryLimiter {
                    limit: limits.memory,
                    size: 0,
                    exceeded: false,
                },
                logs: Vec::new(),
                logs_dropped: 0,
                lookup,
                account_id: String::new(),
                region: String::new(),
            },
        );
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(limits.deadline));
        let rule = pre
            .instantiate(&mut store)
            .map_err(|e| RuleError::Invalid {
                reason: format!(
                    "cannot instantiate the rule: {}",
                    describe_trap(&e, &store, limits).1
                ),
            })?;
        Ok(RuleInstance {
            store,
            rule,
            limits,
            usable: true,
        })
    }

    /// Whether the instance can be called again (false after a trap or when its memory grew large).
    pub fn is_usable(&self) -> bool {
        self.usable
    }

    /// Calls the rule's `metadata()` export and checks what it says.
    pub fn metadata(&mut self) -> Result<RuleMetadata, RuleError> {
        self.begin_call("", "");
        let result = self.rule.call_metadata(&mut self.store);
        let meta = match result {
            Ok(meta) => meta,
            Err(e) => {
                self.usable = false;
                let (_, reason) = describe_trap(&e, &self.store, self.limits);
                return Err(RuleError::Invalid {
                    reason: format!("metadata() failed: {reason}"),
                });
            }
        };
        let metadata = RuleMetadata {
            name: meta.name,
            version: meta.version,
            description: meta.description,
            resource_types: meta.resource_types,
            parameters: meta
                .parameters
                .into_iter()
                .map(|p| RuleParameter {
                    name: p.name,
                    description: p.description,
                    default: p.default,
                    required: p.required,
                })
                .collect(),
            triggers: meta.triggers.into_iter().map(trigger_from_wit).collect(),
            wants_previous: meta.wants_previous,
        };
        validate_metadata(&metadata)?;
        Ok(metadata)
    }

    /// Evaluates one item. Never fails: a trap, timeout or rule error becomes an error outcome.
    pub fn evaluate(&mut self, call: &RuleCall<'_>, input: &RuleInput) -> EvaluationReport {
        if !self.usable {
            return EvaluationReport {
                outcome: Outcome::Error {
                    kind: FailureKind::Load,
                    reason: "the rule instance is no longer usable".to_string(),
                },
                logs: Vec::new(),
                logs_dropped: 0,
            };
        }
        self.begin_call(input.account_id(), input.region());
        let context = wit::Context {
            rule_name: call.rule_name.to_string(),
            parameters: call.parameters.to_string(),
            trigger: trigger_to_wit(call.trigger),
            previous: call.previous.map(|p| p.0.clone()),
        };
        let result = self.rule.call_evaluate(&mut self.store, &context, &input.0);
        let outcome = match result {
            Ok(Ok(evaluation)) => Outcome::Verdict(Verdict {
                compliance: match evaluation.compliance {
                    wit::Compliance::Compliant => Compliance::Compliant,
                    wit::Compliance::NonCompliant => Compliance::NonCompliant,
                    wit::Compliance::NotApplicable => Compliance::NotApplicable,
                },
                annotation: truncate_annotation(evaluation.annotation),
            }),
            Ok(Err(message)) => Outcome::Error {
                kind: FailureKind::RuleError,
                reason: cut_bytes(message, MAX_LOG_LINE_BYTES),
            },
            Err(e) => {
                self.usable = false;
                let (kind, reason) = describe_trap(&e, &self.store, self.limits);
                Outcome::Error { kind, reason }
            }
        };
        if self.store.data().limiter.size > RECYCLE_MEMORY_ABOVE {
            self.usable = false;
        }
        let state = self.store.data_mut();
        EvaluationReport {
            outcome,
            logs: std::mem::take(&mut state.logs),
            logs_dropped: std::mem::take(&mut state.logs_dropped),
        }
    }

    fn begin_call(&mut self, account_id: &str, region: &str) {
        let state = self.store.data_mut();
        state.logs.clear();
        state.logs_dropped = 0;
        if state.account_id != account_id {
            state.account_id = account_id.to_string();
        }
        if state.region != region {
            state.region = region.to_string();
        }
        // The deadline counts from now, for this call only.
        self.store
            .set_epoch_deadline(deadline_ticks(self.limits.deadline));
    }
}

fn deadline_ticks(deadline: Duration) -> u64 {
    let ticks = deadline.as_micros() / EPOCH_TICK.as_micros().max(1);
    (ticks as u64).max(1) + 1
}

/// Turns a failed call into a failure kind and a reason naming what happened.
fn describe_trap(
    error: &wasmtime::Error,
    store: &Store<HostState>,
    limits: Limits,
) -> (FailureKind, String) {
    let state = store.data();
    if state.limiter.exceeded {
        return (
            FailureKind::MemoryLimit,
            format!(
                "the rule exceeded its memory limit of {}",
                mib(limits.memory)
            ),
        );
    }
    if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
        return (
            FailureKind::Timeout,
            format!(
                "the rule ran past its deadline of {} ms and was stopped",
                limits.deadline.as_millis()
            ),
        );
    }
    // The SDK's panic hook logs `panic: <message> (at file:line:col)` at level error just
    // before the module traps.
    if let Some(panic) = state
        .logs
        .iter()
        .rev()
        .find(|l| l.level == "error" && l.message.starts_with("panic: "))
    {
        let message = panic.message.trim_start_matches("panic: ");
        return (FailureKind::Panic, format!("the rule panicked: {message}"));
    }
    let trap = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    (FailureKind::Trap, format!("the rule trapped: {trap}"))
}

fn trigger_to_wit(trigger: Trigger) -> wit::Trigger {
    match trigger {
        Trigger::Change => wit::Trigger::Change,
        Trigger::Schedule => wit::Trigger::Schedule,
        Trigger::Manual => wit::Trigger::Manual,
    }
}

fn trigger_from_wit(trigger: wit::Trigger) -> Trigger {
    match trigger {
        wit::Trigger::Change => Trigger::Change,
        wit::Trigger::Schedule => Trigger::Schedule,
        wit::Trigger::Manual => Trigger::Manual,
    }
}

fn validate_metadata(meta: &RuleMetadata) -> Result<(), RuleError> {
    validate_rule_name(&meta.name).map_err(|e| RuleError::Invalid {
        reason: format!("metadata(): {e}"),
    })?;
    for t in &meta.resource_types {
        check_resource_type(t).map_err(|e| RuleError::Invalid {
            reason: format!("metadata(): {e}"),
        })?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in &meta.parameters {
        if p.name.is_empty() || !seen.insert(p.name.as_str()) {
            return Err(RuleError::Invalid {
                reason: format!(
                    "metadata(): parameter name {:?} is empty or repeated",
                    p.name
                ),
            });
        }
    }
    Ok(())
}
