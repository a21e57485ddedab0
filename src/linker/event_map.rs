//! Which resources a CloudTrail event touches, from a data table.
//!
//! The table maps (`eventSource`, `eventName`) to an AWS Config resource type, JSON paths to the
//! id(s) the event names the resource by, and what the call does to it (create, delete, or modify
//! some property paths). The built-in table is `event-resources.json` next to this file; users
//! add to it (and override it) with a file of the same format, see [`EventMap::load`].
//!
//! Entry keys: `eventSource`, `eventNames` (list), `resourceType`, `ids` (paths, at least one),
//! `effect` (`create` | `delete` | `modify`, default `modify`), `changes` (modify only: prefixes
//! of `configurationItemDiff` paths such as `Configuration.IpPermissions`), `region` (fixed
//! region, `global` for IAM), `idPrefix` (keep only ids starting with it, e.g. `sg-`). Keys
//! starting with `_` are comments; other unknown keys are errors.
//!
//! Id paths: dotted keys, matched exactly, starting at `requestParameters` or
//! `responseElements`; `key[]` iterates the array under `key`. EC2's `{"items": [...]}` wrappers
//! are written out: `responseElements.instancesSet.items[].instanceId`. Every non-empty string
//! (or number) a path reaches is an id.

use crate::diff::{ChangeType, ItemDiff};
use crate::model::{arn_last_part, ApiEvent};
pub use crate::model::{Effect, TouchedResource};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The built-in table.
const BUILTIN_TABLE: &str = include_str!("event-resources.json");
/// How errors in the built-in table name it.
const BUILTIN_NAME: &str = "built-in event-resources.json";

/// Why a table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EventMapError {
    /// The user's table file could not be read.
    #[error("cannot read event-resource table {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The table is not JSON, or not an object with a `mappings` array.
    #[error("{source_name}: invalid event-resource table: {detail}")]
    InvalidJson {
        /// The file (or built-in table) name.
        source_name: String,
        /// What is wrong.
        detail: String,
    },
    /// One mapping is malformed.
    #[error("{source_name}: mappings[{index}].{field}: {reason}")]
    InvalidEntry {
        /// The file (or built-in table) name.
        source_name: String,
        /// Position of the mapping in `mappings`.
        index: usize,
        /// The offending key.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where an id path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Request,
    Response,
}

/// One step of an id path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Each,
}

/// An id path, split once at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IdPath {
    root: Root,
    steps: Vec<Step>,
}

/// One mapping for one (eventSource, eventName).
#[derive(Debug, Clone)]
struct Entry {
    resource_type: String,
    ids: Vec<IdPath>,
    effect: Effect,
    region: Option<String>,
    id_prefix: Option<String>,
}

impl Entry {
    fn accepts(&self, identifier: &str) -> bool {
        self.id_prefix
            .as_deref()
            .is_none_or(|prefix| identifier.starts_with(prefix))
    }
}

/// The event-resource table, indexed by (eventSource, eventName).
#[derive(Debug, Clone, Default)]
pub struct EventMap {
    /// eventSource → eventName → entries; nested so lookups borrow `&str` without allocating.
    by_source: HashMap<String, HashMap<String, Vec<Entry>>>,
    /// Fixed regions by resource type, for types named only in `resources[]`.
    type_regions: HashMap<String, String>,
}

impl EventMap {
    /// The table shipped in the repository (empty, with an error logged, if it fails to parse).
    pub fn builtin() -> EventMap {
        match EventMap::from_json(BUILTIN_TABLE, BUILTIN_NAME) {
            Ok(map) => map,
            Err(error) => {
                tracing::error!(%error, "built-in event-resource table is invalid; using none");
                EventMap::default()
            }
        }
    }

    /// Parses a table; `source_name` names it in errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<EventMap, EventMapError> {
        let invalid_json = |detail: String| EventMapError::InvalidJson {
            source_name: source_name.to_string(),
            detail,
        };
        let root: Value = serde_json::from_str(text).map_err(|e| invalid_json(e.to_string()))?;
        let Value::Object(top) = root else {
            return Err(invalid_json(
                "expected an object with a \"mappings\" array".into(),
            ));
        };
        if let Some(key) = top
            .keys()
            .find(|k| k.as_str() != "mappings" && !k.starts_with('_'))
        {
            return Err(invalid_json(format!("unknown top-level key \"{key}\"")));
        }
        let Some(Value::Array(mappings)) = top.get("mappings") else {
            return Err(invalid_json("missing \"mappings\" array".into()));
        };
        let mut map = EventMap::default();
        for (index, raw) in mappings.iter().enumerate() {
            let (source, names, entry) =
                parse_entry(raw).map_err(|e| EventMapError::InvalidEntry {
                    source_name: source_name.to_string(),
                    index,
                    field: e.field,
                    reason: e.reason,
                })?;
            let by_name = map.by_source.entry(source).or_default();
            for name in names {
                by_name.entry(name).or_default().push(entry.clone());
            }
        }
        map.refresh_type_regions();
        Ok(map)
    }

    /// The built-in table, then the mappings of the user's file `extra` (if any) added.
    pub fn load(extra: Option<&Path>) -> Result<EventMap, EventMapError> {
        let mut map = EventMap::builtin();
        if let Some(path) = extra {
            let text =
                std::fs::read_to_string(path).map_err(|source| EventMapError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                })?;
            map.merge(EventMap::from_json(&text, &path.display().to_string())?);
        }
        Ok(map)
    }

    /// Adds `other`'s mappings; for each (eventSource, eventName, resourceType) that `other`
    /// maps, its mappings replace this table's.
    pub fn merge(&mut self, other: EventMap) {
        for (source, names) in other.by_source {
            let by_name = self.by_source.entry(source).or_default();
            for (name, entries) in names {
                let existing = by_name.entry(name).or_default();
                let replaced: HashSet<&str> =
                    entries.iter().map(|e| e.resource_type.as_str()).collect();
                existing.retain(|e| !replaced.contains(e.resource_type.as_str()));
                existing.extend(entries);
            }
        }
        self.refresh_type_regions();
    }

    /// Number of (eventSource, eventName) pairs the table maps.
    pub fn len(&self) -> usize {
        self.by_source.values().map(HashMap::len).sum()
    }

    /// Whether the table maps nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The resources `event` names, through the table and its `resources[]`, each once.
    ///
    /// Read-only and failed calls are mapped too (they are searchable by resource); whether to
    /// link them to versions is the caller's decision.
    pub fn touched(&self, event: &ApiEvent) -> Vec<TouchedResource> {
        let entries: &[Entry] = self
            .by_source
            .get(event.event_source.as_str())
            .and_then(|names| names.get(event.event_name.as_str()))
            .map_or(&[], Vec::as_slice);
        let mut out = Vec::new();
        if entries.is_empty() && event.resources.is_empty() {
            return out;
        }
        for entry in entries {
            let region = entry.region.as_deref().unwrap_or(&event.aws_region);
            for path in &entry.ids {
                let root = match path.root {
                    Root::Request => event.request_parameters(),
                    Root::Response => event.response_elements(),
                };
                visit(root, &path.steps, &mut |value| {
                    let identifier = match value {
                        Value::String(s) if !s.is_empty() => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => return,
                    };
                    if entry.accepts(&identifier) {
                        add(
                            &mut out,
                            TouchedResource {
                                resource_type: entry.resource_type.clone(),
                                identifier,
                                account_id: event.account_id.clone(),
                                region: region.to_string(),
                                effect: entry.effect.clone(),
                            },
                        );
                    }
                });
            }
        }
        for resource in &event.resources {
            let (Some(arn), Some(resource_type)) = (
                resource.arn.as_deref(),
                resource.resource_type.as_deref().filter(|t| !t.is_empty()),
            ) else {
                continue;
            };
            let Some(identifier) = arn_identifier(arn) else {
                continue;
            };
            let mut effect = Effect::Unknown;
            let mut region = None;
            for entry in entries
                .iter()
                .filter(|e| e.resource_type == resource_type && e.accepts(identifier))
            {
                merge_effect(&mut effect, &entry.effect);
                region = region.or(entry.region.as_deref());
            }
            let region = region
                .or_else(|| self.type_regions.get(resource_type).map(String::as_str))
                .unwrap_or(&event.aws_region);
            let account_id = resource
                .account_id
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or(&event.account_id);
            add(
                &mut out,
                TouchedResource {
                    resource_type: resource_type.to_string(),
                    identifier: identifier.to_string(),
                    account_id: account_id.to_string(),
                    region: region.to_string(),
                    effect,
                },
            );
        }
        out
    }

    fn refresh_type_regions(&mut self) {
        self.type_regions = self
            .by_source
            .values()
            .flat_map(HashMap::values)
            .flatten()
            .filter_map(|e| Some((e.resource_type.clone(), e.region.clone()?)))
            .collect();
    }
}

impl Effect {
    /// Whether a version's diff is the kind of change this call makes (the "likely cause").
    ///
    /// Create matches a CREATE, Delete a DELETE, Modify an UPDATE with a changed path equal to
    /// one of its prefixes or below one (segments compared ignoring ASCII case, since AWS
    /// capitalises paths its own way); Unknown never matches.
    pub fn matches(&self, diff: &ItemDiff) -> bool {
        match self {
            Effect::Create => diff.change_type == ChangeType::Create,
            Effect::Delete => diff.change_type == ChangeType::Delete,
            Effect::Modify(prefixes) => {
                diff.change_type == ChangeType::Update
                    && diff
                        .changed_properties
                        .keys()
                        .any(|path| prefixes.iter().any(|p| path_under(path, p)))
            }
            Effect::Unknown => false,
        }
    }

    /// `create`, `delete`, `modify` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Effect::Create => "create",
            Effect::Delete => "delete",
            Effect::Modify(_) => "modify",
            Effect::Unknown => "unknown",
        }
    }
}

/// Whether `path` is `prefix` or below it, ignoring ASCII case.
fn path_under(path: &str, prefix: &str) -> bool {
    let (path, prefix) = (path.as_bytes(), prefix.as_bytes());
    path.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        && matches!(path.get(prefix.len()), None | Some(b'.'))
}

/// Calls `found` with every value `steps` reach from `value`.
fn visit<'v>(value: &'v Value, steps: &[Step], found: &mut dyn FnMut(&'v Value)) {
    match steps.split_first() {
        None => found(value),
        Some((Step::Key(key), rest)) => {
            if let Some(inner) = value.get(key.as_str()) {
                visit(inner, rest, found);
            }
        }
        Some((Step::Each, rest)) => {
            if let Value::Array(items) = value {
                for item in items {
                    visit(item, rest, found);
                }
            }
        }
    }
}

/// Adds `touched`, or folds its effect into the entry already there for the same resource.
fn add(out: &mut Vec<TouchedResource>, touched: TouchedResource) {
    match out.iter_mut().find(|t| {
        t.resource_type == touched.resource_type
            && t.identifier == touched.identifier
            && t.account_id == touched.account_id
            && t.region == touched.region
    }) {
        Some(existing) => merge_effect(&mut existing.effect, &touched.effect),
        None => out.push(touched),
    }
}

/// Keeps the more specific effect (create/delete over modify over unknown); two modifies
/// combine their prefixes.
fn merge_effect(current: &mut Effect, new: &Effect) {
    fn rank(effect: &Effect) -> u8 {
        match effect {
            Effect::Unknown => 0,
            Effect::Modify(_) => 1,
            Effect::Create | Effect::Delete => 2,
        }
    }
    if let (Effect::Modify(have), Effect::Modify(more)) = (&mut *current, new) {
        for prefix in more {
            if !have.contains(prefix) {
                have.push(prefix.clone());
            }
        }
    } else if rank(new) > rank(current) {
        *current = new.clone();
    }
}

/// What a `resources[]` ARN names the resource by: an S3 ARN's bucket (or `bucket/key`),
/// else the ARN's last part.
fn arn_identifier(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if let (Some("arn"), Some(_), Some("s3"), Some(""), Some(""), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        return (!name.is_empty()).then_some(name);
    }
    arn_last_part(arn)
}

/// A problem with one key of a mapping.
struct FieldError {
    field: String,
    reason: String,
}

fn field_error(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// The keys a mapping may have (besides `_` comments).
const ENTRY_KEYS: [&str; 8] = [
    "eventSource",
    "eventNames",
    "resourceType",
    "ids",
    "effect",
    "changes",
    "region",
    "idPrefix",
];

/// Parses one mapping into its event source, event names and entry.
fn parse_entry(raw: &Value) -> Result<(String, Vec<String>, Entry), FieldError> {
    let Value::Object(fields) = raw else {
        return Err(field_error("", "a mapping must be a JSON object"));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !k.starts_with('_') && !ENTRY_KEYS.contains(&k.as_str()))
    {
        return Err(field_error(key, "unknown key"));
    }
    let source = required_string(fields, "eventSource")?;
    let names = required_list(fields, "eventNames")?;
    let mut seen = HashSet::new();
    if let Some(twice) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(field_error(
            "eventNames",
            format!("\"{twice}\" is listed twice"),
        ));
    }
    let resource_type = required_string(fields, "resourceType")?;
    let ids = required_list(fields, "ids")?
        .iter()
        .map(|text| {
            parse_id_path(text)
                .map_err(|reason| field_error("ids", format!("\"{text}\": {reason}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let changes = optional_list(fields, "changes")?;
    if let Some(bad) = changes
        .iter()
        .flatten()
        .find(|c| c.split('.').any(str::is_empty))
    {
        return Err(field_error(
            "changes",
            format!("\"{bad}\" is not a dotted path"),
        ));
    }
    let effect = match optional_string(fields, "effect")?.as_deref() {
        None | Some("modify") => Effect::Modify(changes.unwrap_or_default()),
        Some(kind @ ("create" | "delete")) => {
            if changes.is_some() {
                return Err(field_error(
                    "changes",
                    format!("only a modify mapping lists changes, this one is {kind}"),
                ));
            }
            if kind == "create" {
                Effect::Create
            } else {
                Effect::Delete
            }
        }
        Some(other) => {
            return Err(field_error(
                "effect",
                format!("\"{other}\" is not create, delete or modify"),
            ))
        }
    };
    let entry = Entry {
        resource_type,
        ids,
        effect,
        region: optional_string(fields, "region")?,
        id_prefix: optional_string(fields, "idPrefix")?,
    };
    Ok((source, names, entry))
}

/// A non-empty string under `key`, or None when absent.
fn optional_string(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, FieldError> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(field_error(key, "must be a non-empty string")),
    }
}

fn required_string(fields: &Map<String, Value>, key: &str) -> Result<String, FieldError> {
    optional_string(fields, key)?.ok_or_else(|| field_error(key, "missing"))
}

/// A list of non-empty strings under `key`, or None when absent.
fn optional_list(
    fields: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, FieldError> {
    let Some(value) = fields.get(key) else {
        return Ok(None);
    };
    let not_a_list = || field_error(key, "must be a list of non-empty strings");
    let Value::Array(items) = value else {
        return Err(not_a_list());
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(not_a_list()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A list of at least one non-empty string under `key`.
fn required_list(fields: &Map<String, Value>, key: &str) -> Result<Vec<String>, FieldError> {
    match optional_list(fields, key)? {
        None => Err(field_error(key, "missing")),
        Some(list) if list.is_empty() => Err(field_error(key, "must not be empty")),
        Some(list) => Ok(list),
    }
}

/// Splits `requestParameters.a.b[].c` into its root and steps.
fn parse_id_path(text: &str) -> Result<IdPath, String> {
    let mut segments = text.split('.');
    let root = match segments.next() {
        Some("requestParameters") => Root::Request,
        Some("responseElements") => Root::Response,
        _ => return Err("must start with requestParameters. or responseElements.".into()),
    };
    let mut steps = Vec::new();
    for segment in segments {
        let (key, each) = match segment.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (segment, false),
        };
        if key.is_empty() || key.contains(['[', ']']) {
            return Err(format!("bad segment \"{segment}\""));
        }
        steps.push(Step::Key(key.to_string()));
        if each {
            steps.push(Step::Each);
        }
    }
    if steps.is_empty() {
        return Err("names no key below the root".into());
    }
    Ok(IdPath { root, steps })
}

#[cfg(test)]
#[path = "event_map_tests.rs"]
mod tests;
