//! Differences between two versions: AWS's `configurationItemDiff` and a unified text diff.

use crate::model::ConfigurationItem;
use crate::recorder::canonical::canonical_string;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// CREATE, UPDATE or DELETE, for a whole item or one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeType {
    /// Something new.
    Create,
    /// Something changed.
    Update,
    /// Something gone.
    Delete,
}

/// One changed property, as in `changedProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropertyChange {
    /// Value before (null when created).
    pub previous_value: Value,
    /// Value after (null when deleted).
    pub updated_value: Value,
    /// Kind of change.
    pub change_type: ChangeType,
}

/// AWS's `configurationItemDiff`: the item-level change type and changed properties by path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemDiff {
    /// Paths such as `Configuration.IpPermissions.0` mapped to their change.
    pub changed_properties: BTreeMap<String, PropertyChange>,
    /// CREATE for a first version, DELETE for a deletion, else UPDATE.
    pub change_type: ChangeType,
}

/// Computes the structural diff of `current` against `previous` (none for a first version).
///
/// Objects are compared key by key (keys capitalised as AWS writes them); arrays as multisets,
/// so an element that moved is no change, a removed one is a DELETE at its old index, an added
/// one a CREATE at its new index, and both at one index an UPDATE.
pub fn diff_items(previous: Option<&ConfigurationItem>, current: &ConfigurationItem) -> ItemDiff {
    let Some(previous) = previous else {
        return ItemDiff {
            changed_properties: BTreeMap::new(),
            change_type: ChangeType::Create,
        };
    };
    let mut changes = BTreeMap::new();
    diff_values(
        "Configuration",
        present(&previous.configuration),
        present(&current.configuration),
        &mut changes,
    );
    let keys: std::collections::BTreeSet<&String> = previous
        .supplementary_configuration
        .keys()
        .chain(current.supplementary_configuration.keys())
        .collect();
    for key in keys {
        diff_values(
            &format!("SupplementaryConfiguration.{}", capitalise(key)),
            previous
                .supplementary_configuration
                .get(key)
                .and_then(present),
            current
                .supplementary_configuration
                .get(key)
                .and_then(present),
            &mut changes,
        );
    }
    let relationships =
        |item: &ConfigurationItem| serde_json::to_value(&item.relationships).unwrap_or(Value::Null);
    diff_values(
        "Relationships",
        Some(&relationships(previous)),
        Some(&relationships(current)),
        &mut changes,
    );
    let tag_keys: std::collections::BTreeSet<&String> =
        previous.tags.keys().chain(current.tags.keys()).collect();
    for key in tag_keys {
        let as_value = |v: Option<&String>| v.map(|s| Value::String(s.clone()));
        diff_values(
            &format!("Tags.{key}"),
            as_value(previous.tags.get(key)).as_ref(),
            as_value(current.tags.get(key)).as_ref(),
            &mut changes,
        );
    }
    if previous.configuration_item_status != current.configuration_item_status {
        changes.insert(
            "ConfigurationItemStatus".to_string(),
            PropertyChange {
                previous_value: Value::String(previous.configuration_item_status.to_string()),
                updated_value: Value::String(current.configuration_item_status.to_string()),
                change_type: ChangeType::Update,
            },
        );
    }
    ItemDiff {
        changed_properties: changes,
        change_type: if current.configuration_item_status.is_deletion() {
            ChangeType::Delete
        } else {
            ChangeType::Update
        },
    }
}

/// Null counts as absent: AWS reports null → value as a CREATE.
fn present(v: &Value) -> Option<&Value> {
    (!v.is_null()).then_some(v)
}

fn capitalise(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn record(
    path: String,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut BTreeMap<String, PropertyChange>,
) {
    let change_type = match (before, after) {
        (None, _) => ChangeType::Create,
        (_, None) => ChangeType::Delete,
        _ => ChangeType::Update,
    };
    out.insert(
        path,
        PropertyChange {
            previous_value: before.cloned().unwrap_or(Value::Null),
            updated_value: after.cloned().unwrap_or(Value::Null),
            change_type,
        },
    );
}

fn diff_values(
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut BTreeMap<String, PropertyChange>,
) {
    match (before, after) {
        (None, None) => {}
        (Some(a), Some(b)) if a == b => {}
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                diff_values(
                    &format!("{path}.{}", capitalise(key)),
                    a.get(key).and_then(present),
                    b.get(key).and_then(present),
                    out,
                );
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => diff_arrays(path, a, b, out),
        _ => record(path.to_string(), before, after, out),
    }
}

fn diff_arrays(
    path: &str,
    before: &[Value],
    after: &[Value],
    out: &mut BTreeMap<String, PropertyChange>,
) {
    // Match equal elements regardless of position, by their canonical text.
    let mut unmatched_before: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, v) in before.iter().enumerate().rev() {
        unmatched_before
            .entry(canonical_string(v))
            .or_default()
            .push(i);
    }
    let mut removed = vec![true; before.len()];
    let mut added = Vec::new();
    for (j, v) in after.iter().enumerate() {
        match unmatched_before
            .get_mut(&canonical_string(v))
            .and_then(Vec::pop)
        {
            Some(i) => removed[i] = false,
            None => added.push(j),
        }
    }
    let mut at_index: BTreeMap<usize, (Option<&Value>, Option<&Value>)> = BTreeMap::new();
    for (i, gone) in removed.iter().enumerate() {
        if *gone {
            at_index.entry(i).or_default().0 = Some(&before[i]);
        }
    }
    for j in added {
        at_index.entry(j).or_default().1 = Some(&after[j]);
    }
    for (index, (b, a)) in at_index {
        record(format!("{path}.{index}"), b, a, out);
    }
}

/// Pretty JSON of an item without conftrail's own metadata, for text diffs.
pub fn pretty_item(item: &ConfigurationItem) -> String {
    let mut plain = item.clone();
    plain.meta = None;
    serde_json::to_string_pretty(&plain).unwrap_or_default()
}

/// A unified diff (3 lines of context) of the pretty-printed items.
pub fn unified_diff(
    previous: Option<&ConfigurationItem>,
    current: &ConfigurationItem,
    previous_label: &str,
    current_label: &str,
) -> String {
    let before = previous.map(pretty_item).unwrap_or_default();
    let after = pretty_item(current);
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(previous_label, current_label)
        .to_string()
}

/// A diff that changed `paths` (values left out), for tests of code that reads diffs.
#[cfg(test)]
pub(crate) fn diff_of_paths(change_type: ChangeType, paths: &[&str]) -> ItemDiff {
    ItemDiff {
        change_type,
        changed_properties: paths
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    PropertyChange {
                        previous_value: Value::Null,
                        updated_value: Value::Null,
                        change_type: ChangeType::Update,
                    },
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemStatus, Relationship};
    use serde_json::json;

    fn item(configuration: Value) -> ConfigurationItem {
        serde_json::from_value(json!({
            "configurationItemVersion": "1.3", "awsAccountId": "1", "configurationItemCaptureTime": "2024-01-01T00:00:00.000Z",
            "configurationItemStatus": "OK", "configurationStateId": null, "configurationStateMd5Hash": null, "ARN": null,
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "resourceName": null, "awsRegion": "r",
            "availabilityZone": null, "resourceCreationTime": null, "tags": {"team": "web"}, "relatedEvents": [],
            "relationships": [], "configuration": configuration, "supplementaryConfiguration": {}
        }))
        .expect("test item")
    }

    fn paths(diff: &ItemDiff) -> Vec<(String, ChangeType)> {
        diff.changed_properties
            .iter()
            .map(|(p, c)| (p.clone(), c.change_type))
            .collect()
    }

    fn perm(port: u16, cidr: &str) -> Value {
        json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipv4Ranges": [{"cidrIp": cidr}]})
    }

    #[test]
    fn first_version_is_a_create_without_properties() {
        let d = diff_items(None, &item(json!({"a": 1})));
        assert_eq!(d.change_type, ChangeType::Create);
        assert!(d.changed_properties.is_empty());
    }

    #[test]
    fn array_element_changed_in_place_is_an_update_at_its_index() {
        let a = item(json!({"ipPermissions": [perm(22, "0.0.0.0/0"), perm(443, "0.0.0.0/0")]}));
        let b = item(json!({"ipPermissions": [perm(22, "10.0.0.0/8"), perm(443, "0.0.0.0/0")]}));
        let d = diff_items(Some(&a), &b);
        assert_eq!(d.change_type, ChangeType::Update);
        assert_eq!(
            paths(&d),
            vec![(
                "Configuration.IpPermissions.0".to_string(),
                ChangeType::Update
            )]
        );
        let change = &d.changed_properties["Configuration.IpPermissions.0"];
        assert_eq!(change.previous_value, perm(22, "0.0.0.0/0"));
        assert_eq!(change.updated_value, perm(22, "10.0.0.0/8"));
    }

    #[test]
    fn arrays_compare_as_multisets() {
        let a = item(json!({"ipPermissions": [perm(22, "0.0.0.0/0"), perm(443, "0.0.0.0/0")]}));
        let reordered =
            item(json!({"ipPermissions": [perm(443, "0.0.0.0/0"), perm(22, "0.0.0.0/0")]}));
        assert!(diff_items(Some(&a), &reordered)
            .changed_properties
            .is_empty());
        let removed_first = item(json!({"ipPermissions": [perm(443, "0.0.0.0/0")]}));
        assert_eq!(
            paths(&diff_items(Some(&a), &removed_first)),
            vec![(
                "Configuration.IpPermissions.0".to_string(),
                ChangeType::Delete
            )]
        );
        let added = item(
            json!({"ipPermissions": [perm(22, "0.0.0.0/0"), perm(443, "0.0.0.0/0"), perm(80, "0.0.0.0/0")]}),
        );
        let d = diff_items(Some(&a), &added);
        assert_eq!(
            paths(&d),
            vec![(
                "Configuration.IpPermissions.2".to_string(),
                ChangeType::Create
            )]
        );
        assert_eq!(
            d.changed_properties["Configuration.IpPermissions.2"].previous_value,
            Value::Null
        );
    }

    #[test]
    fn nested_scalars_supplementary_relationships_and_tags() {
        let mut a = item(json!({"description": "old", "vpcId": "vpc-1"}));
        a.supplementary_configuration.insert(
            "BucketVersioningConfiguration".into(),
            json!({"status": "Off"}),
        );
        let mut b = item(json!({"description": "new", "vpcId": "vpc-1", "groupName": "g"}));
        b.supplementary_configuration.insert(
            "BucketVersioningConfiguration".into(),
            json!({"status": "Enabled"}),
        );
        b.relationships.push(Relationship {
            resource_type: "AWS::EC2::VPC".into(),
            resource_id: Some("vpc-1".into()),
            resource_name: None,
            name: "Is contained in Vpc".into(),
        });
        b.tags.insert("team".into(), "data".into());
        b.tags.insert("env".into(), "prod".into());
        assert_eq!(
            paths(&diff_items(Some(&a), &b)),
            vec![
                ("Configuration.Description".to_string(), ChangeType::Update),
                ("Configuration.GroupName".to_string(), ChangeType::Create),
                ("Relationships.0".to_string(), ChangeType::Create),
                (
                    "SupplementaryConfiguration.BucketVersioningConfiguration.Status".to_string(),
                    ChangeType::Update
                ),
                ("Tags.env".to_string(), ChangeType::Create),
                ("Tags.team".to_string(), ChangeType::Update),
            ]
        );
    }

    #[test]
    fn deletion_is_a_delete() {
        let a = item(json!({"groupId": "sg-1"}));
        let mut b = item(Value::Null);
        b.configuration_item_status = ItemStatus::ResourceDeleted;
        b.tags.clear();
        let d = diff_items(Some(&a), &b);
        assert_eq!(d.change_type, ChangeType::Delete);
        assert_eq!(
            paths(&d),
            vec![
                ("Configuration".to_string(), ChangeType::Delete),
                ("ConfigurationItemStatus".to_string(), ChangeType::Update),
                ("Tags.team".to_string(), ChangeType::Delete),
            ]
        );
        let json = serde_json::to_value(&d).expect("serializes");
        assert_eq!(json["changeType"], "DELETE");
        assert_eq!(
            json["changedProperties"]["Configuration"]["previousValue"],
            json!({"groupId": "sg-1"})
        );
    }

    #[test]
    fn unified_diff_shows_changed_lines() {
        let a = item(json!({"description": "old"}));
        let b = item(json!({"description": "new"}));
        let text = unified_diff(Some(&a), &b, "v1", "v2");
        assert!(text.starts_with("--- v1\n+++ v2\n"), "{text}");
        assert!(text.contains("-    \"description\": \"old\""), "{text}");
        assert!(text.contains("+    \"description\": \"new\""), "{text}");
    }
}
