//! A registered rule: its metadata, where it applies, its parameters and sandbox settings.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::instance::Limits;
use super::types::{RuleMetadata, Trigger};
use super::RuleError;
use crate::model::{time_serde, ConfigurationItem, Timestamp};

/// A tag a resource must carry (with this value, when one is given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    /// Tag key.
    pub key: String,
    /// Required value; any value when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl TagFilter {
    /// Parses `KEY` or `KEY=VALUE`.
    pub fn parse(text: &str) -> Result<TagFilter, RuleError> {
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (text, None),
        };
        if key.is_empty() {
            return Err(RuleError::Invalid {
                reason: format!("tag filter {text:?} needs a key (KEY or KEY=VALUE)"),
            });
        }
        Ok(TagFilter {
            key: key.to_string(),
            value,
        })
    }
}

/// Which resources a rule judges (AWS: resource types, or one resource id, and/or a tag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleScope {
    /// Resource types; the rule's own types when none are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<TagFilter>,
    /// Only this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// A rule as registered in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleDefinition {
    /// Registered name (unique).
    pub name: String,
    /// Shipped with conftrail (installed and upgraded automatically).
    pub managed: bool,
    /// What the rule says about itself.
    pub metadata: RuleMetadata,
    /// Where it applies.
    pub scope: RuleScope,
    /// Parameters given at registration (defaults are applied at evaluation).
    pub parameters: Map<String, Value>,
    /// Disabled rules are not evaluated.
    pub enabled: bool,
    /// When it runs.
    pub triggers: Vec<Trigger>,
    /// Cron expression of its periodic evaluation (the `cron` crate's syntax), when scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Per-evaluation deadline in milliseconds.
    pub deadline_ms: u64,
    /// Memory cap in MiB.
    pub memory_limit_mib: u64,
    /// SHA-256 of the component binary.
    pub component_hash: String,
    /// SHA-256 of the uploaded binary (core module or component).
    pub source_hash: String,
    /// Bumped by every update.
    pub revision: u32,
    /// First registration.
    #[serde(with = "time_serde")]
    pub created_at: Timestamp,
    /// Last change.
    #[serde(with = "time_serde")]
    pub updated_at: Timestamp,
}

impl RuleDefinition {
    /// The resource types judged (the scope's, else the rule's own; empty = all).
    pub fn resource_types(&self) -> &[String] {
        self.scope
            .resource_types
            .as_deref()
            .unwrap_or(&self.metadata.resource_types)
    }

    /// Whether the rule judges resources of this type (case-insensitive, as AWS spellings vary).
    pub fn applies_to_type(&self, resource_type: &str) -> bool {
        let types = self.resource_types();
        types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(resource_type))
    }

    /// Whether the rule judges this item (type, resource id and tag).
    pub fn applies_to(&self, item: &ConfigurationItem) -> bool {
        if !self.applies_to_type(&item.resource_type) {
            return false;
        }
        if let Some(id) = &self.scope.resource_id {
            if id != &item.resource_id {
                return false;
            }
        }
        match &self.scope.tag {
            None => true,
            Some(filter) => match item.tags.get(&filter.key) {
                None => false,
                Some(v) => filter.value.as_ref().is_none_or(|want| want == v),
            },
        }
    }

    /// Parameters with the rule's defaults filled in, as JSON text.
    pub fn effective_parameters(&self) -> String {
        with_defaults(&self.metadata, self.parameters.clone())
    }

    /// The sandbox limits.
    pub fn limits(&self) -> Limits {
        Limits {
            deadline: Duration::from_millis(self.deadline_ms),
            memory: (self.memory_limit_mib as usize) << 20,
        }
    }
}

/// Checks parameters against the rule's declared ones: unknown names and missing required
/// values are errors; non-string scalars are turned into strings (AWS parameters are strings).
pub fn check_parameters(
    metadata: &RuleMetadata,
    given: Map<String, Value>,
) -> Result<Map<String, Value>, RuleError> {
    let declared: BTreeMap<&str, _> = metadata
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let mut out = Map::new();
    for (name, value) in given {
        if !declared.contains_key(name.as_str()) && !declared.is_empty() {
            let known: Vec<&str> = declared.keys().copied().collect();
            return Err(RuleError::Invalid {
                reason: format!(
                    "unknown parameter {name:?} for rule {}; it accepts: {}",
                    metadata.name,
                    known.join(", ")
                ),
            });
        }
        if declared.is_empty() {
            return Err(RuleError::Invalid {
                reason: format!("rule {} takes no parameters (got {name:?})", metadata.name),
            });
        }
        let value = match value {
            Value::String(_) => value,
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => {
                return Err(RuleError::Invalid {
                    reason: format!(
                        "parameter {name:?} must be a string (AWS rule parameters are strings), not {other}"
                    ),
                })
            }
        };
        out.insert(name, value);
    }
    for p in &metadata.parameters {
        if p.required && p.default.is_none() && !out.contains_key(&p.name) {
            return Err(RuleError::Invalid {
                reason: format!(
                    "rule {} needs parameter {:?} ({})",
                    metadata.name, p.name, p.description
                ),
            });
        }
    }
    Ok(out)
}

/// Rule names become CLI arguments and store keys: keep them simple.
pub fn validate_rule_name(name: &str) -> Result<(), RuleError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(RuleError::Invalid {
            reason: format!(
                "rule name {name:?} must be 1-128 characters of letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        })
    }
}

/// Resource types look like `AWS::EC2::SecurityGroup`.
pub fn check_resource_type(resource_type: &str) -> Result<(), RuleError> {
    let parts: Vec<&str> = resource_type.split("::").collect();
    if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(RuleError::Invalid {
            reason: format!(
                "resource type {resource_type:?} is not of the form Provider::Service::Type (e.g. AWS::EC2::SecurityGroup)"
            ),
        });
    }
    Ok(())
}

/// Parameters with the rule's declared defaults filled in, as the JSON text rules receive.
pub fn with_defaults(metadata: &RuleMetadata, mut params: Map<String, Value>) -> String {
    for p in &metadata.parameters {
        if let (false, Some(default)) = (params.contains_key(&p.name), &p.default) {
            params.insert(p.name.clone(), Value::String(default.clone()));
        }
    }
    Value::Object(params).to_string()
}

/// Parses `--params` text: a JSON object.
pub fn parse_parameters(text: &str) -> Result<Map<String, Value>, RuleError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(RuleError::Invalid {
            reason: format!(
                "parameters must be a JSON object, e.g. '{{\"blockedPort1\":\"22\"}}', not {other}"
            ),
        }),
        Err(e) => Err(RuleError::Invalid {
            reason: format!("parameters are not valid JSON: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::types::RuleParameter;

    fn metadata() -> RuleMetadata {
        RuleMetadata {
            name: "r".into(),
            version: "1".into(),
            description: String::new(),
            resource_types: vec!["AWS::EC2::SecurityGroup".into()],
            parameters: vec![
                RuleParameter {
                    name: "port".into(),
                    description: "a port".into(),
                    default: Some("22".into()),
                    required: false,
                },
                RuleParameter {
                    name: "must".into(),
                    description: "needed".into(),
                    default: None,
                    required: true,
                },
            ],
            triggers: vec![Trigger::Change],
            wants_previous: false,
        }
    }

    #[test]
    fn parameters_are_checked_against_the_declared_ones() {
        let meta = metadata();
        let ok = check_parameters(
            &meta,
            parse_parameters(r#"{"must": 5}"#).unwrap_or_default(),
        );
        assert_eq!(
            ok.ok().and_then(|m| m.get("must").cloned()),
            Some(Value::String("5".into()))
        );
        let unknown = check_parameters(
            &meta,
            parse_parameters(r#"{"must":"x","prot":"1"}"#).unwrap_or_default(),
        );
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("unknown parameter \"prot\""));
        let missing = check_parameters(&meta, Map::new());
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("needs parameter \"must\""));
        assert!(parse_parameters("[1]").is_err());
        assert!(parse_parameters("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
    }

    #[test]
    fn tag_filters_parse_key_and_optional_value() {
        assert_eq!(
            TagFilter::parse("env=prod").ok(),
            Some(TagFilter {
                key: "env".into(),
                value: Some("prod".into())
            })
        );
        assert_eq!(TagFilter::parse("env").ok().and_then(|t| t.value), None);
        assert!(TagFilter::parse("=x").is_err());
    }
}
