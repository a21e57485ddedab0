//! A rule's remediation configuration: the action, its parameters and the retry policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action::Action;
use super::backoff::{Backoff, Jitter};
use super::{time_serde, ConfigurationItem, Timestamp};

/// Attempts per job unless configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Per-attempt timeout unless configured.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Jobs of one rule running at once unless configured.
pub const DEFAULT_CONCURRENCY: u32 = 4;
/// Upper bound on attempts, so a job's record stays small.
pub const MAX_ATTEMPTS_LIMIT: u32 = 100;

/// The default backoff: 2 s doubling up to 5 min, full jitter.
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    base_ms: 2_000,
    max_ms: 300_000,
    jitter: Jitter::Full,
};

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", tag = "from", content = "value")]
pub enum ParameterSource {
    /// A fixed value.
    Static(String),
    /// The resource id.
    ResourceId,
    /// The resource type.
    ResourceType,
    /// The account id.
    AccountId,
    /// The region.
    Region,
    /// A JSON path (`$.configuration.groupId`, `$.tags.owner`, `$.configuration.ipPermissions[0].fromPort`)
    /// into the configuration item judged.
    Path(String),
}

impl ParameterSource {
    /// Parses the value part of `--param name=VALUE`.
    pub fn parse(value: &str) -> Result<ParameterSource, String> {
        Ok(match value {
            "RESOURCE_ID" => ParameterSource::ResourceId,
            "RESOURCE_TYPE" => ParameterSource::ResourceType,
            "ACCOUNT_ID" => ParameterSource::AccountId,
            "REGION" => ParameterSource::Region,
            path if path.starts_with("$.") => {
                parse_path(path)?;
                ParameterSource::Path(path.to_string())
            }
            other => ParameterSource::Static(other.to_string()),
        })
    }

    /// The text it was parsed from.
    pub fn describe(&self) -> String {
        match self {
            ParameterSource::Static(v) | ParameterSource::Path(v) => v.clone(),
            ParameterSource::ResourceId => "RESOURCE_ID".into(),
            ParameterSource::ResourceType => "RESOURCE_TYPE".into(),
            ParameterSource::AccountId => "ACCOUNT_ID".into(),
            ParameterSource::Region => "REGION".into(),
        }
    }

    /// The value for one configuration item (`item_json` is the item in stream form).
    pub fn resolve(&self, item: &ConfigurationItem, item_json: &Value) -> Result<Value, String> {
        Ok(match self {
            ParameterSource::Static(v) => Value::String(v.clone()),
            ParameterSource::ResourceId => Value::String(item.resource_id.clone()),
            ParameterSource::ResourceType => Value::String(item.resource_type.clone()),
            ParameterSource::AccountId => Value::String(item.account_id.clone()),
            ParameterSource::Region => Value::String(item.aws_region.clone()),
            ParameterSource::Path(path) => {
                let mut at = item_json;
                for step in parse_path(path)? {
                    let next = match step {
                        PathStep::Key(k) => at.get(k.as_str()),
                        PathStep::Index(i) => at.get(i),
                    };
                    at = next.ok_or_else(|| format!("{path} is not in the configuration item"))?;
                }
                at.clone()
            }
        })
    }
}

enum PathStep {
    Key(String),
    Index(usize),
}

/// `$.a.b[0].c` → steps; keys are matched exactly.
fn parse_path(path: &str) -> Result<Vec<PathStep>, String> {
    let bad = |why: &str| {
        format!("invalid JSON path {path:?}: {why} (e.g. $.configuration.groupId or $.configuration.ipPermissions[0].fromPort)")
    };
    let rest = path
        .strip_prefix("$.")
        .ok_or_else(|| bad("must start with $."))?;
    let mut steps = Vec::new();
    for segment in rest.split('.') {
        let (key, mut indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        steps.push(PathStep::Key(key.to_string()));
        while let Some(inner) = indexes.strip_prefix('[') {
            let end = inner.find(']').ok_or_else(|| bad("unclosed ["))?;
            let index = inner[..end]
                .parse()
                .map_err(|_| bad("an index must be a number"))?;
            steps.push(PathStep::Index(index));
            indexes = &inner[end + 1..];
        }
        if !indexes.is_empty() {
            return Err(bad("unexpected text after ]"));
        }
    }
    Ok(steps)
}

/// How a rule's non-compliant resources are fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationConfig {
    /// The rule.
    pub rule_name: String,
    /// What to run.
    pub action: Action,
    /// Named parameters passed to the action.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSource>,
    /// Start a job by itself on every new NON_COMPLIANT verdict (else only `remediation run`).
    pub automatic: bool,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: Backoff,
    /// Per-attempt timeout in milliseconds.
    pub timeout_ms: u64,
    /// Jobs of this rule running at once.
    pub concurrency: u32,
    /// When first configured.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When last changed.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl RemediationConfig {
    /// The configuration as answers show it: webhook header values and stored secrets hidden.
    pub fn redacted(&self) -> RemediationConfig {
        RemediationConfig {
            action: self.action.redacted(),
            ..self.clone()
        }
    }

    /// Checks limits and the action; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.action.validate()?;
        if self.max_attempts == 0 || self.max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(format!(
                "max attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}, not {}",
                self.max_attempts
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 3_600_000 {
            return Err("timeout must be between 1ms and 1h".to_string());
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".to_string());
        }
        for name in self.parameters.keys() {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "parameter name {name:?} must be letters, digits, _ or - (it becomes an environment variable)"
                ));
            }
        }
        Ok(())
    }

    /// The parameter values for one configuration item.
    pub fn resolve_parameters(
        &self,
        item: &ConfigurationItem,
    ) -> Result<BTreeMap<String, Value>, String> {
        let item_json = serde_json::to_value(item).map_err(|e| e.to_string())?;
        self.parameters
            .iter()
            .map(|(name, source)| {
                source
                    .resolve(item, &item_json)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| format!("parameter {name}: {e}"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> ConfigurationItem {
        serde_json::from_value(serde_json::json!({
            "configurationItemVersion": "1.3", "awsAccountId": "111122223333",
            "configurationItemCaptureTime": "2024-05-01T10:00:00.000Z", "configurationItemStatus": "OK",
            "configurationStateId": null, "configurationStateMd5Hash": null, "ARN": null,
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "resourceName": null,
            "awsRegion": "eu-west-1", "availabilityZone": null, "resourceCreationTime": null,
            "tags": {"owner": "web-team"}, "relatedEvents": [],
            "configuration": {"groupId": "sg-1", "ipPermissions": [{"fromPort": 22}]},
            "supplementaryConfiguration": {}, "relationships": []
        }))
        .expect("item")
    }

    #[test]
    fn parameters_come_from_the_resource_or_stay_static() {
        let item = item();
        let json = serde_json::to_value(&item).expect("json");
        let cases = [
            ("RESOURCE_ID", serde_json::json!("sg-1")),
            ("REGION", serde_json::json!("eu-west-1")),
            ("ACCOUNT_ID", serde_json::json!("111122223333")),
            ("22", serde_json::json!("22")),
            (
                "$.configuration.ipPermissions[0].fromPort",
                serde_json::json!(22),
            ),
            ("$.tags.owner", serde_json::json!("web-team")),
        ];
        for (text, want) in cases {
            let source = ParameterSource::parse(text).expect(text);
            assert_eq!(source.describe(), text);
            assert_eq!(source.resolve(&item, &json), Ok(want), "{text}");
        }
        let missing = ParameterSource::parse("$.configuration.vpcId").expect("path");
        assert_eq!(
            missing.resolve(&item, &json),
            Err("$.configuration.vpcId is not in the configuration item".to_string())
        );
        let err = ParameterSource::parse("$.a[x]").expect_err("bad index");
        assert!(err.contains("an index must be a number"), "{err}");
    }
}
