//! Rule use cases: register, replace, configure, enable, disable, schedule, remove and
//! evaluate rules. A change that can alter verdicts judges the rule's scope again at once, and
//! every change retires the evaluators and wakes the schedules.

use serde::{Deserialize, Serialize};

use super::lists::RuleView;
use super::{App, AppError};
use crate::config_file::RuleSettings;
use crate::evaluator::{EvaluationCounts, ScopeFilter};
use crate::model::{RuleDefinition, Trigger};
use crate::rules::AddRule;

/// A rule as changed, and what judging its scope again found (when it was judged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleChange {
    /// The rule as stored now.
    pub rule: RuleDefinition,
    /// The counts of the evaluation that followed the change, if one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<EvaluationCounts>,
}

impl App {
    /// Every rule, by name.
    pub fn rules(&self) -> Result<Vec<RuleDefinition>, AppError> {
        Ok(self.registry()?.list()?)
    }

    /// Every rule as answers show it, with its failures.
    pub fn rule_views(&self) -> Result<Vec<RuleView>, AppError> {
        self.rules()?
            .into_iter()
            .map(|rule| self.view(rule))
            .collect()
    }

    /// One rule as answers show it, with its failures.
    pub fn rule_view(&self, name: &str) -> Result<RuleView, AppError> {
        self.view(self.rule(name)?)
    }

    fn view(&self, rule: RuleDefinition) -> Result<RuleView, AppError> {
        let evaluation_errors = self.store().rule_errors(&rule.name)?;
        Ok(RuleView {
            rule,
            evaluation_errors,
        })
    }

    /// One rule.
    pub fn rule(&self, name: &str) -> Result<RuleDefinition, AppError> {
        Ok(self.registry()?.get(name)?)
    }

    /// Registers a rule from its WebAssembly binary, then judges its scope (when enabled).
    pub fn add_rule(&self, wasm: &[u8], options: AddRule) -> Result<RuleChange, AppError> {
        let rule = self.registry()?.add(wasm, options)?;
        self.audit("rule.add", &rule.name, audited_rule(&rule))?;
        self.after_rule_change(rule, true)
    }

    /// Changes a rule: its settings (only the keys given, checked as the configuration file's
    /// are) and, when given, its binary. A change that can alter verdicts (a new binary,
    /// parameters, scope, enabling) judges the scope again.
    pub fn change_rule(
        &self,
        name: &str,
        wasm: Option<Vec<u8>>,
        settings: &RuleSettings,
        key: &str,
    ) -> Result<RuleChange, AppError> {
        let new_binary = wasm.is_some();
        let rule =
            crate::settings::apply_rule_settings(self.registry()?, name, settings, key, wasm)?;
        let judge = new_binary
            || settings.enabled == Some(true)
            || settings.parameters.is_some()
            || settings.resource_types.is_some()
            || settings.tag.is_some()
            || settings.resource_id.is_some();
        let mut detail = serde_json::json!({ "settings": settings });
        if new_binary {
            detail["componentHash"] = serde_json::json!(rule.component_hash);
        }
        self.audit("rule.change", &rule.name, detail)?;
        self.after_rule_change(rule, judge)
    }

    /// Removes an added rule (managed rules can only be disabled); its history is kept.
    pub fn remove_rule(&self, name: &str) -> Result<(), AppError> {
        self.registry()?.remove(name)?;
        self.audit("rule.remove", name, serde_json::Value::Null)?;
        self.rules_changed();
        Ok(())
    }

    /// Judges the latest versions in scope now: of one rule (which must be enabled), or of
    /// every enabled rule.
    pub fn evaluate_now(
        &self,
        rule: Option<&str>,
        filter: &ScopeFilter,
    ) -> Result<EvaluationCounts, AppError> {
        let names: Vec<String> = match rule {
            Some(name) => {
                let definition = self.rule(name)?;
                if !definition.enabled {
                    return Err(AppError::Conflict(format!(
                        "rule {name} is disabled; enable it first (conftrail rules enable {name})"
                    )));
                }
                vec![definition.name]
            }
            None => self
                .rules()?
                .into_iter()
                .filter(|d| d.enabled)
                .map(|d| d.name)
                .collect(),
        };
        self.audit(
            "rules.evaluate",
            rule.unwrap_or("every enabled rule"),
            serde_json::json!({ "resourceType": filter.resource_type, "resourceId": filter.resource_id }),
        )?;
        let filter = ScopeFilter {
            resource_type: self.known_type_filter(filter.resource_type.as_deref())?,
            ..filter.clone()
        };
        let mut counts = EvaluationCounts::default();
        for name in &names {
            counts.merge(self.evaluate_rule(name, &filter, Trigger::Manual)?);
        }
        Ok(counts)
    }

    fn after_rule_change(&self, rule: RuleDefinition, judge: bool) -> Result<RuleChange, AppError> {
        self.rules_changed();
        let evaluations = if judge && rule.enabled {
            Some(self.evaluate_rule(&rule.name, &ScopeFilter::default(), Trigger::Manual)?)
        } else {
            None
        };
        Ok(RuleChange { rule, evaluations })
    }
}

/// The audit detail of a registered rule: which binary, where it applies, how it is set.
fn audited_rule(rule: &RuleDefinition) -> serde_json::Value {
    serde_json::json!({
        "componentHash": rule.component_hash,
        "scope": rule.scope,
        "parameters": rule.parameters,
        "enabled": rule.enabled,
    })
}
