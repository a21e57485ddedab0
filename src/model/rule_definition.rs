//! A registered rule as stored: its metadata, where it applies, its parameters and sandbox settings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rule::{RuleMetadata, Trigger};
use super::{time_serde, ConfigurationItem, Timestamp};

/// A tag a resource must carry (with this value, when one is given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TagFilter {
    /// Tag key.
    pub key: String,
    /// Required value; any value when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Which resources a rule judges (AWS: resource types, or one resource id, and/or a tag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
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
