//! Differences between two versions: AWS's `configurationItemDiff` and a unified text diff.

use crate::model::ConfigurationItem;
use crate::recorder::canonical::canonical_string;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// CREATE, UPDATE or DELETE, for a whole item or one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
