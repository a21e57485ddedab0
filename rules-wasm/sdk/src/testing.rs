//! Native test support: configuration-item JSON → [`Item`], a `lookup` double, captured log
//! lines, and a runner that applies the same screening as the exported `evaluate`.
//!
//! Available on non-wasm targets (so `cargo test` needs no flag), and on wasm with the
//! `test-support` feature (item parsing only). Not for the hot path: it builds
//! `serde_json::Value`s.
//!
//! ```ignore
//! use conftrail_rule_sdk::testing;
//! let item = testing::item_from_json(include_str!("sg.json"))?;
//! let verdict = testing::evaluate::<RestrictedSsh>(&testing::context(&[]), &item)?;
//! ```

use serde_json::{Map, Value};

use crate::raw::{self, Relationship, ResourceIdentity, Trigger};
use crate::{Context, Evaluation, Item, Rule};

/// Parses a configuration item given in any of AWS's shapes into an [`Item`], the way the host
/// does: both spellings (1.2 API form `accountId`/`arn`/`relationshipName`/`version`, 1.3
/// stream form `awsAccountId`/`ARN`/`name`/`configurationItemVersion`), `configuration` as an
/// object or a JSON string, supplementary values decoded when they are JSON strings (once;
/// a double-encoded value stays a string, which the SDK decodes lazily), tags as a map or a
/// list of `{key, value}`.
///
/// Envelopes are unwrapped: a rule invocation (`invokingEvent`, JSON text or object), a change
/// notification (`configurationItem`), an SNS message (`Message`, JSON text), EventBridge (`detail`),
/// `{"configurationItems": [...]}` and API responses (`{"data": {...}}`), arrays (first item).
pub fn item_from_json(text: &str) -> Result<Item, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    item_from_value(&decode_string_envelopes(v))
}

/// [`item_from_json`] for a parsed value.
pub fn item_from_value(v: &Value) -> Result<Item, String> {
    let ci = unwrap_envelopes(v, 0).ok_or("no configuration item found")?;
    let ci = ci
        .as_object()
        .ok_or("the configuration item is not an object")?;
    let s = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match ci.get(*k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let resource_type = s(&["resourceType"]).ok_or("missing resourceType")?;
    let resource_id = s(&["resourceId"]).ok_or("missing resourceId")?;
    let identity = ResourceIdentity {
        account_id: s(&["awsAccountId", "accountId"]).unwrap_or_default(),
        region: s(&["awsRegion", "region"]).unwrap_or_default(),
        resource_type,
        resource_id,
        resource_name: s(&["resourceName"]),
        arn: s(&["ARN", "arn"]),
    };
    let tags = match ci.get("tags") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| {
                let k = t.get("key").or_else(|| t.get("Key"))?.as_str()?.to_string();
                let v = t
                    .get("value")
                    .or_else(|| t.get("Value"))
                    .map(scalar_text)
                    .unwrap_or_default();
                Some((k, v))
            })
            .collect(),
        _ => Vec::new(),
    };
    let relationships = match ci.get("relationships") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|r| {
                let r = r.as_object()?;
                let get = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
                Some(Relationship {
                    name: get("name")
                        .or_else(|| get("relationshipName"))
                        .unwrap_or_default(),
                    resource_type: get("resourceType").unwrap_or_default(),
                    resource_id: get("resourceId"),
                    resource_name: get("resourceName"),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let configuration = match ci.get("configuration") {
        None | Some(Value::Null) => "null".to_string(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) => v.to_string(),
            Err(_) => Value::String(s.clone()).to_string(),
        },
        Some(v) => v.to_string(),
    };
    let supplementary = match ci.get("supplementaryConfiguration") {
        Some(Value::Object(m)) => {
            let decoded: Map<String, Value> = m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => {
                            serde_json::from_str::<Value>(s).unwrap_or_else(|_| v.clone())
                        }
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Value::Object(decoded).to_string()
        }
        Some(Value::String(s)) => s.clone(),
        _ => "{}".to_string(),
    };
    Ok(Item::from_raw(raw::Item {
        identity,
        status: s(&["configurationItemStatus"]).unwrap_or_else(|| "OK".to_string()),
        capture_time: s(&["configurationItemCaptureTime", "captureTime"]).unwrap_or_default(),
        tags,
        relationships,
        configuration,
        supplementary_configuration: supplementary,
    }))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn unwrap_envelopes(v: &Value, depth: usize) -> Option<&Value> {
    if depth > 6 {
        return None;
    }
    match v {
        Value::Array(a) => unwrap_envelopes(a.first()?, depth + 1),
        Value::Object(m) => {
            if m.contains_key("resourceType") && m.contains_key("resourceId") {
                return Some(v);
            }
            for key in ["configurationItem", "detail", "data"] {
                if let Some(inner) = m.get(key) {
                    return unwrap_envelopes(inner, depth + 1);
                }
            }
            if let Some(items) = m.get("configurationItems") {
                return unwrap_envelopes(items, depth + 1);
            }
            for key in ["invokingEvent", "Message"] {
                match m.get(key) {
                    Some(Value::String(_)) => return None, // decoded by item_from_json
                    Some(inner) => return unwrap_envelopes(inner, depth + 1),
                    None => {}
                }
            }
            None
        }
        _ => None,
    }
}

fn decode_string_envelopes(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            for key in ["invokingEvent", "Message"] {
                if let Some(Value::String(s)) = m.get(key) {
                    if let Ok(inner) = serde_json::from_str::<Value>(s) {
                        m.insert(key.to_string(), decode_string_envelopes(inner));
                    }
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}

/// The supplementary configuration AWS Config records for a private bucket without policy or
/// versioning (`AccessControlList` granting the owner FullControl, `BucketPolicy` with
/// `policyText` null, `BucketVersioningConfiguration` `Off`), with the values of `overrides` (a
/// JSON object) put over it, as JSON text. For bucket items in tests: AWS Config always records
/// these three, and the S3 views treat their absence as an error.
pub fn bucket_supplementary(overrides: &str) -> String {
    let mut out = serde_json::json!({
        "AccessControlList": {"grantSet": null, "grantList": [{"grantee": {"id": "owner", "displayName": null}, "permission": "FullControl"}], "owner": {"id": "owner", "displayName": null}},
        "BucketPolicy": {"policyText": null},
        "BucketVersioningConfiguration": {"status": "Off", "isMfaDeleteEnabled": null},
    });
    let overrides: Value = serde_json::from_str(overrides)
        .unwrap_or_else(|e| panic!("bucket_supplementary: not JSON: {e}"));
    if let (Some(out), Some(overrides)) = (out.as_object_mut(), overrides.as_object()) {
        for (k, v) in overrides {
            out.insert(k.clone(), v.clone());
        }
    }
    out.to_string()
}

/// A context with these parameters (trigger change, rule name `test`).
pub fn context(params: &[(&str, &str)]) -> Context {
    params
        .iter()
        .fold(Context::new("test", Trigger::Change), |c, (k, v)| {
            c.with_param(k, v)
        })
}

/// Runs a rule the way the exported `evaluate` does (screening included).
pub fn evaluate<R: Rule>(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
    crate::__private::run::<R>(ctx, item)
}

/// The metadata the exported `metadata` returns (resource types filled in).
pub fn metadata<R: Rule>() -> crate::Metadata {
    crate::__private::metadata::<R>()
}

#[cfg(not(target_arch = "wasm32"))]
mod doubles {
    use super::*;
    use crate::host::imp::{LOGS, LOG_TO_STDERR, LOOKUPS, LOOKUP_CALLS};
    use crate::raw::LogLevel;

    /// Makes `lookup(type, id)` return this item (on this thread), keyed by its type and id.
    pub fn set_lookup(item: &Item) {
        let key = (
            item.resource_type().to_string(),
            item.resource_id().to_string(),
        );
        LOOKUPS.with(|m| m.borrow_mut().insert(key, item.raw().clone()));
    }

    /// Forgets every lookup answer and recorded lookup call (on this thread).
    pub fn clear_lookups() {
        LOOKUPS.with(|m| m.borrow_mut().clear());
        LOOKUP_CALLS.with(|c| c.borrow_mut().clear());
    }

    /// The `(type, id)` pairs looked up so far (on this thread), then forgets them.
    pub fn take_lookup_calls() -> Vec<(String, String)> {
        LOOKUP_CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
    }

    /// The log lines written so far (on this thread), then forgets them.
    pub fn take_logs() -> Vec<(LogLevel, String)> {
        LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    /// Whether log lines are also printed to stderr (default true; on this thread).
    pub fn log_to_stderr(yes: bool) {
        LOG_TO_STDERR.with(|c| c.set(yes));
    }

    /// Reads a file of the repository's real-data set, `tests/data/realdata/<relative>`.
    pub fn realdata(relative: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/realdata")
            .join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// [`realdata`] parsed with [`item_from_json`].
    pub fn realdata_item(relative: &str) -> Item {
        item_from_json(&realdata(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// A security group of the real `aws ec2 describe-security-groups` output in the real-data
    /// set (custodian's placebo recording, e.g. `sg-926a56e8`: tcp 22 open to 0.0.0.0/0) as
    /// an item of conftrail's generic shape: `{resourceType, resourceId, configuration}` with the
    /// group, keys in the EC2 API's PascalCase, as the configuration.
    pub fn described_security_group(group_id: &str) -> Item {
        let file = "config_items/custodian/placebo__test_sg_config_diff__ec2.DescribeSecurityGroups_1.json";
        let response: Value =
            serde_json::from_str(&realdata(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let group = response["data"]["SecurityGroups"]
            .as_array()
            .and_then(|groups| groups.iter().find(|g| g["GroupId"] == group_id))
            .unwrap_or_else(|| panic!("{file}: no group {group_id}"));
        let item = serde_json::json!({
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": group_id,
            "configuration": group,
        });
        item_from_value(&item).unwrap_or_else(|e| panic!("{group_id}: {e}"))
    }

    /// Every configuration item of the real-data set (`config_items/**/*.json` that parse as
    /// one; files holding several give their first), with its path relative to `realdata/`.
    pub fn realdata_items() -> Vec<(String, Item)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "json") {
                    out.push(p);
                }
            }
        }
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/realdata");
        let mut files = Vec::new();
        walk(&root.join("config_items"), &mut files);
        files
            .into_iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                let item = item_from_json(&text).ok()?;
                Some((p.strip_prefix(&root).unwrap().display().to_string(), item))
            })
            .collect()
    }

    /// Runs a rule on every real-data item ([`realdata_items`]) and panics listing the items
    /// it could not decide (`Err`), unless `expected_error(item, error)` says so. Returns the
    /// verdicts.
    pub fn sweep<R: Rule>(
        ctx: &Context,
        expected_error: impl Fn(&Item, &str) -> bool,
    ) -> Vec<(String, Evaluation)> {
        let mut verdicts = Vec::new();
        let mut failures = Vec::new();
        for (file, item) in realdata_items() {
            match evaluate::<R>(ctx, &item) {
                Ok(e) => verdicts.push((file, e)),
                Err(e) if expected_error(&item, &e) => {}
                Err(e) => failures.push(format!("{file}: {e}")),
            }
        }
        assert!(
            failures.is_empty(),
            "the rule could not decide:\n{}",
            failures.join("\n")
        );
        verdicts
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use doubles::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings() {
        let v12 = item_from_json(
            r#"{"version":"1.2","accountId":"1","arn":"arn:x","resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1",
                "awsRegion":"us-east-1","configurationItemStatus":"OK","configurationItemCaptureTime":"2016-06-09T08:59:59.139Z",
                "tags":{"a":"b"},"relationships":[{"resourceType":"AWS::EC2::VPC","resourceId":"vpc-1","relationshipName":"Is contained in Vpc"}],
                "configuration":"{\"groupId\":\"sg-1\"}","supplementaryConfiguration":{}}"#,
        )
        .unwrap();
        assert_eq!(v12.account_id(), "1");
        assert_eq!(v12.arn(), Some("arn:x"));
        assert_eq!(v12.tag("a"), Some("b"));
        assert_eq!(v12.relationships()[0].name, "Is contained in Vpc");
        assert_eq!(v12.configuration_json(), r#"{"groupId":"sg-1"}"#);
        let v13 = item_from_json(
            r#"{"configurationItemVersion":"1.3","awsAccountId":"2","ARN":"arn:y","resourceType":"AWS::S3::Bucket","resourceId":"b",
                "configurationItemStatus":"ResourceDeleted","tags":[{"key":"k","value":"v"}],
                "relationships":[{"resourceType":"AWS::X","name":"n"}],"configuration":null,"supplementaryConfiguration":{"A":"{\"x\":1}"}}"#,
        )
        .unwrap();
        assert_eq!(v13.account_id(), "2");
        assert_eq!(v13.tag("k"), Some("v"));
        assert!(v13.is_deleted());
        assert!(!v13.has_configuration());
        assert_eq!(
            v13.supplementary_value_json("A").unwrap(),
            Some(r#"{"x":1}"#)
        );
    }

    #[test]
    fn envelopes() {
        let inner = r#"{"resourceType":"T","resourceId":"i","configuration":{}}"#;
        let event = serde_json::json!({"invokingEvent": serde_json::json!({"configurationItem": serde_json::from_str::<Value>(inner).unwrap(), "messageType": "ConfigurationItemChangeNotification"}).to_string()});
        assert_eq!(
            item_from_json(&event.to_string()).unwrap().resource_id(),
            "i"
        );
        let api = format!(r#"{{"status_code":200,"data":{{"configurationItems":[{inner}]}}}}"#);
        assert_eq!(item_from_json(&api).unwrap().resource_id(), "i");
        assert!(item_from_json("{}").is_err());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod realdata_tests {
    use super::*;

    /// The real-data set parses into items: every file that holds a configuration item
    /// (truncated/invalid JSON files and EC2 API responses do not).
    #[test]
    fn realdata_items_parse() {
        let items = realdata_items();
        let types: std::collections::BTreeSet<&str> =
            items.iter().map(|(_, i)| i.resource_type()).collect();
        eprintln!(
            "{} real-data items, {} resource types",
            items.len(),
            types.len()
        );
        assert!(items.len() >= 100, "{}", items.len());
        assert!(types.contains("AWS::S3::Bucket") && types.contains("AWS::EC2::SecurityGroup"));
        for (file, item) in &items {
            assert!(!item.resource_id().is_empty(), "{file}");
        }
    }
}
