//! The audit trail: who changed what, when, from where.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{time_serde, Timestamp};

/// Who makes a change and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The token's name, `local cli`, or `configuration file`.
    pub name: String,
    /// The client's address, for changes made over the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Actor {
    /// The CLI working on the store directly (no token: whoever can open the data directory).
    pub fn local_cli() -> Actor {
        Actor {
            name: "local cli".into(),
            source: None,
        }
    }

    /// Settings applied from a configuration file at start.
    pub fn configuration_file() -> Actor {
        Actor {
            name: "configuration file".into(),
            source: None,
        }
    }
}

/// One recorded change (or refused authentication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Unique, increasing with time.
    pub id: u64,
    /// When it happened.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub time: Timestamp,
    /// Who did it, from where.
    pub actor: Actor,
    /// What was done: `rule.add`, `remediation.set`, `auth.refused`, …
    pub action: String,
    /// What it was done to: a rule, a resource, a subscription, a route.
    pub target: String,
    /// What changed, with secrets hidden as answers show them.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}
