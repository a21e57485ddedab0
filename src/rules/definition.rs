//! Rule definitions: checks of names, types, tag filters and parameters.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::RuleError;
pub use crate::model::with_defaults;
use crate::model::{RuleMetadata, TagFilter};

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
    use crate::model::{RuleParameter, Trigger};

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
