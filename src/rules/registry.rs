//! The rules registered in a store: add, update, enable, disable, remove, and the managed
//! rules installed (and upgraded) automatically.

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::component::{check_component_imports, to_component};
use super::definition::{check_parameters, check_resource_type, validate_rule_name};
use super::engine::RuleEngine;
use super::instance::{Limits, NoLookup, RuleInstance, DEFAULT_DEADLINE};
use super::managed::MANAGED_RULES;
use super::RuleError;
use crate::model::{
    closest_resource_type, hash_hex, is_aws_resource_type, known_resource_type, now_millis,
    RuleDefinition, RuleMetadata, RuleScope, TagFilter, Trigger,
};
use crate::store::Store;

/// Deadlines above this are refused (a rule is a check, not a job).
const MAX_DEADLINE_MS: u64 = 60_000;
/// Memory caps above this are refused.
const MAX_MEMORY_MIB: u64 = 4096;
/// Default memory cap in MiB.
const DEFAULT_MEMORY_MIB: u64 = 64;

/// Settings given when a rule is added (`None` = the rule's own default).
#[derive(Debug, Clone, Default)]
pub struct AddRule {
    /// Registered name; the rule's own name when none.
    pub name: Option<String>,
    /// Resource types (overrides the rule's own).
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag.
    pub tag: Option<TagFilter>,
    /// Only this resource id.
    pub resource_id: Option<String>,
    /// Parameters (JSON object).
    pub parameters: Option<Map<String, Value>>,
    /// Triggers (overrides the rule's own).
    pub triggers: Option<Vec<Trigger>>,
    /// Per-evaluation deadline in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    pub memory_limit_mib: Option<u64>,
    /// Register disabled.
    pub disabled: bool,
}

/// Changes made by `rules update` (`None` = keep as is).
#[derive(Debug, Clone, Default)]
pub struct UpdateRule {
    /// A new binary.
    pub wasm: Option<Vec<u8>>,
    /// New resource types.
    pub resource_types: Option<Vec<String>>,
    /// New tag filter (`Some(None)` clears it).
    pub tag: Option<Option<TagFilter>>,
    /// New resource id filter (`Some(None)` clears it).
    pub resource_id: Option<Option<String>>,
    /// New parameters (replace the old ones).
    pub parameters: Option<Map<String, Value>>,
    /// New triggers.
    pub triggers: Option<Vec<Trigger>>,
    /// New deadline.
    pub deadline_ms: Option<u64>,
    /// New memory cap.
    pub memory_limit_mib: Option<u64>,
}

/// A checked rule binary: its component form, compiled, with the metadata it reports.
pub struct InspectedRule {
    /// Component bytes (converted from a core module if needed).
    pub component_bytes: Vec<u8>,
    /// SHA-256 of the component.
    pub component_hash: String,
    /// SHA-256 of the uploaded bytes.
    pub source_hash: String,
    /// Compiled.
    pub component: Component,
    /// What it says about itself.
    pub metadata: RuleMetadata,
}

/// Validates, converts, compiles and asks a rule binary for its metadata. With a store, the
/// precompiled artifact is kept in its data directory.
pub fn inspect(
    engine: &RuleEngine,
    store: Option<&Store>,
    wasm: &[u8],
) -> Result<InspectedRule, RuleError> {
    let source_hash = hash_hex(&Sha256::digest(wasm));
    let component_bytes = to_component(wasm)?;
    let component_hash = hash_hex(&Sha256::digest(&component_bytes));
    let component = match store {
        Some(store) => engine.load_or_compile(store, &component_hash, &component_bytes)?,
        None => engine.compile(&component_bytes)?,
    };
    check_component_imports(engine.engine(), &component)?;
    let mut instance =
        RuleInstance::new(engine, &component, Arc::new(NoLookup), Limits::default())?;
    let metadata = instance.metadata()?;
    Ok(InspectedRule {
        component_bytes,
        component_hash,
        source_hash,
        component,
        metadata,
    })
}

/// The rules of one store.
pub struct RuleRegistry {
    store: Store,
    engine: Arc<RuleEngine>,
}

impl RuleRegistry {
    /// Opens the registry, installing managed rules that are missing and upgrading those
    /// whose shipped binary changed (keeping their settings).
    pub fn open(store: &Store, engine: Arc<RuleEngine>) -> Result<RuleRegistry, RuleError> {
        let registry = RuleRegistry {
            store: store.clone(),
            engine,
        };
        registry.install_managed()?;
        Ok(registry)
    }

    /// The engine rules are compiled with.
    pub fn engine(&self) -> &Arc<RuleEngine> {
        &self.engine
    }

    fn install_managed(&self) -> Result<(), RuleError> {
        for managed in MANAGED_RULES {
            let source_hash = hash_hex(&Sha256::digest(managed.wasm));
            let existing = self.store.rule_definition(managed.name)?;
            if existing
                .as_ref()
                .is_some_and(|d| d.source_hash == source_hash)
            {
                continue;
            }
            let inspected = inspect(&self.engine, Some(&self.store), managed.wasm)?;
            let now = now_millis();
            let definition = match existing {
                Some(old) => RuleDefinition {
                    metadata: inspected.metadata,
                    component_hash: inspected.component_hash.clone(),
                    source_hash,
                    revision: old.revision + 1,
                    updated_at: now,
                    ..old
                },
                None => RuleDefinition {
                    name: managed.name.to_string(),
                    managed: true,
                    // A rule that needs a value nobody gave yet (required-tags) waits disabled.
                    enabled: inspected
                        .metadata
                        .parameters
                        .iter()
                        .all(|p| !p.required || p.default.is_some()),
                    triggers: inspected.metadata.triggers.clone(),
                    schedule: None,
                    metadata: inspected.metadata,
                    scope: RuleScope::default(),
                    parameters: Map::new(),
                    deadline_ms: DEFAULT_DEADLINE.as_millis() as u64,
                    memory_limit_mib: DEFAULT_MEMORY_MIB,
                    component_hash: inspected.component_hash.clone(),
                    source_hash,
                    revision: 1,
                    created_at: now,
                    updated_at: now,
                },
            };
            tracing::info!(rule = managed.name, "installed managed rule");
            self.store
                .put_rule(&definition, &inspected.component_bytes)?;
        }
        Ok(())
    }

    /// All rules, by name.
    pub fn list(&self) -> Result<Vec<RuleDefinition>, RuleError> {
        Ok(self.store.rule_definitions()?)
    }

    /// One rule.
    pub fn get(&self, name: &str) -> Result<RuleDefinition, RuleError> {
        self.store
            .rule_definition(name)?
            .ok_or_else(|| RuleError::NotFound {
                name: name.to_string(),
            })
    }

    /// Registers a custom rule.
    pub fn add(&self, wasm: &[u8], options: AddRule) -> Result<RuleDefinition, RuleError> {
        let inspected = inspect(&self.engine, Some(&self.store), wasm)?;
        let name = options
            .name
            .clone()
            .unwrap_or_else(|| inspected.metadata.name.clone());
        validate_rule_name(&name)?;
        if self.store.rule_definition(&name)?.is_some() {
            return Err(RuleError::Exists { name });
        }
        let parameters =
            check_parameters(&inspected.metadata, options.parameters.unwrap_or_default())?;
        let now = now_millis();
        let definition = RuleDefinition {
            name,
            managed: false,
            scope: RuleScope {
                resource_types: self
                    .check_scope_types(&inspected.metadata, options.resource_types)?,
                tag: options.tag,
                resource_id: options.resource_id,
            },
            parameters,
            enabled: !options.disabled,
            triggers: options
                .triggers
                .unwrap_or_else(|| inspected.metadata.triggers.clone()),
            schedule: None,
            deadline_ms: check_deadline(options.deadline_ms)?,
            memory_limit_mib: check_memory(options.memory_limit_mib)?,
            metadata: inspected.metadata,
            component_hash: inspected.component_hash,
            source_hash: inspected.source_hash,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        self.store
            .put_rule(&definition, &inspected.component_bytes)?;
        Ok(definition)
    }

    /// Changes a rule's binary or settings; bumps its revision.
    pub fn update(&self, name: &str, changes: UpdateRule) -> Result<RuleDefinition, RuleError> {
        let mut definition = self.get(name)?;
        let mut component_bytes = None;
        if let Some(wasm) = &changes.wasm {
            let inspected = inspect(&self.engine, Some(&self.store), wasm)?;
            definition.metadata = inspected.metadata;
            definition.component_hash = inspected.component_hash;
            definition.source_hash = inspected.source_hash;
            component_bytes = Some(inspected.component_bytes);
        }
        // A new binary may declare other types: the scope kept must still be within them.
        if changes.resource_types.is_some() || changes.wasm.is_some() {
            let types = changes
                .resource_types
                .or_else(|| definition.scope.resource_types.clone());
            definition.scope.resource_types =
                self.check_scope_types(&definition.metadata, types)?;
        }
        if let Some(tag) = changes.tag {
            definition.scope.tag = tag;
        }
        if let Some(id) = changes.resource_id {
            definition.scope.resource_id = id;
        }
        let parameters = changes
            .parameters
            .unwrap_or_else(|| definition.parameters.clone());
        definition.parameters = check_parameters(&definition.metadata, parameters)?;
        if let Some(triggers) = changes.triggers {
            definition.triggers = triggers;
        }
        if changes.deadline_ms.is_some() {
            definition.deadline_ms = check_deadline(changes.deadline_ms)?;
        }
        if changes.memory_limit_mib.is_some() {
            definition.memory_limit_mib = check_memory(changes.memory_limit_mib)?;
        }
        definition.revision += 1;
        definition.updated_at = now_millis();
        let bytes = match component_bytes {
            Some(bytes) => bytes,
            None => self.component_bytes(&definition)?,
        };
        self.store.put_rule(&definition, &bytes)?;
        Ok(definition)
    }

    /// Enables or disables a rule.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> Result<RuleDefinition, RuleError> {
        let mut definition = self.get(name)?;
        if definition.enabled != enabled {
            definition.enabled = enabled;
            definition.updated_at = now_millis();
            let bytes = self.component_bytes(&definition)?;
            self.store.put_rule(&definition, &bytes)?;
        }
        Ok(definition)
    }

    /// Sets (or clears) a rule's cron schedule. The first scheduled run is the schedule's next
    /// fire time from now; `schedule` must already be validated ([`crate::scheduler::CronSchedule`]).
    pub fn set_schedule(
        &self,
        name: &str,
        schedule: Option<&crate::scheduler::CronSchedule>,
    ) -> Result<RuleDefinition, RuleError> {
        let mut definition = self.get(name)?;
        definition.schedule = schedule.map(|s| s.as_str().to_string());
        definition.triggers.retain(|t| *t != Trigger::Schedule);
        if schedule.is_some() {
            definition.triggers.push(Trigger::Schedule);
        }
        let now = now_millis();
        definition.updated_at = now;
        let bytes = self.component_bytes(&definition)?;
        self.store.put_rule(&definition, &bytes)?;
        self.store
            .set_last_run(&crate::scheduler::rule_task(name), now)?;
        Ok(definition)
    }

    /// Removes a custom rule and its latest verdicts (its history stays).
    pub fn remove(&self, name: &str) -> Result<(), RuleError> {
        let definition = self.get(name)?;
        if definition.managed {
            return Err(RuleError::Managed {
                name: name.to_string(),
            });
        }
        self.store.delete_rule(name)?;
        self.store.delete_verdicts_of_rule(name)?;
        Ok(())
    }

    /// The compiled rule, from its kept artifact (compiled again from the stored component if
    /// the artifact is missing, unusable or not the one recorded).
    pub fn load(&self, definition: &RuleDefinition) -> Result<Component, RuleError> {
        // Fast path: no need to read the component bytes from the store.
        if let Some(component) = self
            .engine
            .load_artifact(&self.store, &definition.component_hash)
        {
            return Ok(component);
        }
        let bytes = self.component_bytes(definition)?;
        self.engine
            .load_or_compile(&self.store, &definition.component_hash, &bytes)
    }

    fn component_bytes(&self, definition: &RuleDefinition) -> Result<Vec<u8>, RuleError> {
        self.store
            .rule_component(&definition.component_hash)?
            .ok_or_else(|| RuleError::Invalid {
                reason: format!(
                    "the component of rule {} is missing from the store",
                    definition.name
                ),
            })
    }
}

impl RuleRegistry {
    /// A rule's scope types in their known spelling: each one the rule declares (when it
    /// declares any), else one AWS lists or the store has recorded; a typo names the closest.
    fn check_scope_types(
        &self,
        metadata: &RuleMetadata,
        types: Option<Vec<String>>,
    ) -> Result<Option<Vec<String>>, RuleError> {
        let Some(types) = types else {
            return Ok(None);
        };
        let declared = &metadata.resource_types;
        let recorded = if declared.is_empty() && !types.iter().all(|t| is_aws_resource_type(t)) {
            self.store.recorded_types()?
        } else {
            Vec::new()
        };
        let invalid = |reason: String| RuleError::Invalid { reason };
        types
            .iter()
            .map(|t| {
                check_resource_type(t)?;
                if declared.is_empty() {
                    return known_resource_type(t, &recorded).map_err(|e| invalid(e.to_string()));
                }
                if let Some(d) = declared.iter().find(|d| d.eq_ignore_ascii_case(t)) {
                    return Ok(d.clone());
                }
                let hint = closest_resource_type(t, declared.iter().map(String::as_str))
                    .map(|d| format!(" (did you mean {d}?)"))
                    .unwrap_or_default();
                Err(invalid(format!(
                    "rule {} judges only {}; it cannot be scoped to {t}{hint}",
                    metadata.name,
                    declared.join(", ")
                )))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

fn check_deadline(ms: Option<u64>) -> Result<u64, RuleError> {
    let ms = ms.unwrap_or(DEFAULT_DEADLINE.as_millis() as u64);
    if !(1..=MAX_DEADLINE_MS).contains(&ms) {
        return Err(RuleError::Invalid {
            reason: format!("deadline must be 1 to {MAX_DEADLINE_MS} ms, not {ms}"),
        });
    }
    Ok(ms)
}

fn check_memory(mib: Option<u64>) -> Result<u64, RuleError> {
    let mib = mib.unwrap_or(DEFAULT_MEMORY_MIB);
    if !(1..=MAX_MEMORY_MIB).contains(&mib) {
        return Err(RuleError::Invalid {
            reason: format!("memory limit must be 1 to {MAX_MEMORY_MIB} MiB, not {mib}"),
        });
    }
    Ok(mib)
}
