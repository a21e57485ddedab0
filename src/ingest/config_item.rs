//! Reading one configuration item in either spelling (API or stream, v1.2 or v1.3) or the
//! minimal generic shape, with errors that name the field.

use super::shapes::type_name;
use crate::model::{
    epoch_to_time, parse_timestamp_text, truncate_to_millis, ConfigurationItem, ItemStatus,
    Relationship, Timestamp,
};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// AWS's limit on resource id length.
const MAX_RESOURCE_ID_LEN: usize = 768;
/// How many times a supplementary value may be a JSON string inside a JSON string.
const MAX_EMBEDDED_DEPTH: usize = 3;

type FieldResult<T> = Result<T, String>;

/// Builds a [`ConfigurationItem`] from a JSON object, or says which field is wrong and why.
pub(super) fn parse_item(mut obj: Map<String, Value>) -> FieldResult<ConfigurationItem> {
    let resource_type = required_text(&obj, "resourceType")?;
    let resource_id = required_text(&obj, "resourceId")?;
    if resource_id.len() > MAX_RESOURCE_ID_LEN {
        return Err(format!(
            "resourceId: longer than {MAX_RESOURCE_ID_LEN} characters"
        ));
    }
    let account_id = opt_text(&obj, &["awsAccountId", "accountId"])?.unwrap_or_default();
    let aws_region = opt_text(&obj, &["awsRegion", "region"])?.unwrap_or_default();
    for (field, value) in [
        ("resourceType", &resource_type),
        ("resourceId", &resource_id),
        ("accountId", &account_id),
        ("awsRegion", &aws_region),
    ] {
        if value.contains('\0') {
            return Err(format!("{field}: contains a NUL character"));
        }
    }
    let capture_time = match pick(&obj, &["configurationItemCaptureTime", "captureTime"]) {
        Some((name, v)) => timestamp(name, v)?,
        // The generic shape may leave it out: the observation is "now".
        None => Utc::now(),
    };
    let status = match pick(&obj, &["configurationItemStatus"]) {
        Some((name, Value::String(s))) => {
            if s.is_empty() {
                return Err(format!("{name}: empty"));
            }
            ItemStatus::from(s.as_str())
        }
        Some((name, other)) => return Err(expected(name, "a string", other)),
        None => ItemStatus::Ok,
    };
    let configuration = match obj.remove("configuration") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => decode_json_text("configuration", &s)?,
        Some(other) => other,
    };
    let supplementary_configuration = supplementary(obj.remove("supplementaryConfiguration"))?;
    let mut relationships = relationships(obj.get("relationships"))?;
    // AWS does not keep relationships in a stable order; a reorder is not a change.
    relationships.sort();
    Ok(ConfigurationItem {
        item_version: opt_text_or_number(&obj, &["configurationItemVersion", "version"])?,
        account_id,
        configuration_item_capture_time: truncate_to_millis(capture_time),
        configuration_item_status: status,
        configuration_state_id: state_id(&obj)?,
        md5_hash: opt_text(
            &obj,
            &["configurationStateMd5Hash", "configurationItemMD5Hash"],
        )?,
        arn: opt_text(&obj, &["ARN", "arn"])?,
        resource_type,
        resource_id,
        resource_name: opt_text(&obj, &["resourceName"])?,
        aws_region,
        availability_zone: opt_text(&obj, &["availabilityZone"])?,
        resource_creation_time: opt_timestamp(&obj, "resourceCreationTime")?,
        tags: tags(obj.get("tags"))?,
        related_events: related_events(obj.get("relatedEvents"))?,
        relationships,
        configuration,
        supplementary_configuration,
        recording_frequency: opt_text(&obj, &["recordingFrequency"])?,
        configuration_item_delivery_time: opt_timestamp(&obj, "configurationItemDeliveryTime")?,
        meta: None,
    })
}

/// The first of `names` present with a non-null value.
fn pick<'a>(
    obj: &'a Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| obj.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
}

fn expected(field: &str, what: &str, found: &Value) -> String {
    format!("{field}: expected {what}, found {}", type_name(found))
}

fn required_text(obj: &Map<String, Value>, name: &'static str) -> FieldResult<String> {
    match opt_text(obj, &[name])? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("{name}: empty")),
        None => Err(format!("missing {name}")),
    }
}

fn opt_text(obj: &Map<String, Value>, names: &[&'static str]) -> FieldResult<Option<String>> {
    match pick(obj, names) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s.clone())),
        Some((name, other)) => Err(expected(name, "a string", other)),
    }
}

fn opt_text_or_number(
    obj: &Map<String, Value>,
    names: &[&'static str],
) -> FieldResult<Option<String>> {
    match pick(obj, names) {
        Some((_, Value::Number(n))) => Ok(Some(n.to_string())),
        _ => opt_text(obj, names),
    }
}

fn state_id(obj: &Map<String, Value>) -> FieldResult<Option<i64>> {
    match pick(obj, &["configurationStateId"]) {
        None => Ok(None),
        Some((_, Value::Number(n))) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("configurationStateId: {n} is not an integer")),
        Some((_, Value::String(s))) if s.is_empty() => Ok(None),
        Some((_, Value::String(s))) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("configurationStateId: {s:?} is not an integer")),
        Some((name, other)) => Err(expected(name, "an integer", other)),
    }
}

fn opt_timestamp(obj: &Map<String, Value>, name: &'static str) -> FieldResult<Option<Timestamp>> {
    match pick(obj, &[name]) {
        None => Ok(None),
        Some((_, Value::String(s))) if s.is_empty() => Ok(None),
        Some((name, v)) => timestamp(name, v).map(|t| Some(truncate_to_millis(t))),
    }
}

/// A timestamp as an ISO string, epoch seconds or milliseconds, or a recorded Python datetime.
fn timestamp(name: &str, v: &Value) -> FieldResult<Timestamp> {
    let parsed = match v {
        Value::String(s) => parse_timestamp_text(s),
        Value::Number(n) => n.as_f64().and_then(epoch_to_time),
        Value::Object(o) if o.get("__class__").and_then(Value::as_str) == Some("datetime") => {
            python_datetime(o)
        }
        other => return Err(expected(name, "a timestamp", other)),
    };
    parsed.ok_or_else(|| format!("{name}: invalid timestamp {}", short(v)))
}

/// `{"__class__": "datetime", "year": …}` as placebo records boto responses (naive, taken as UTC).
fn python_datetime(o: &Map<String, Value>) -> Option<Timestamp> {
    let part = |k: &str| o.get(k).and_then(Value::as_u64).map(|n| n as u32);
    let date = NaiveDate::from_ymd_opt(part("year")? as i32, part("month")?, part("day")?)?;
    let time = date.and_hms_micro_opt(
        part("hour").unwrap_or(0),
        part("minute").unwrap_or(0),
        part("second").unwrap_or(0),
        part("microsecond").unwrap_or(0),
    )?;
    Some(Utc.from_utc_datetime(&time))
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

fn decode_json_text(field: &str, s: &str) -> FieldResult<Value> {
    serde_json::from_str(s).map_err(|e| format!("{field}: string is not valid JSON: {e}"))
}

/// Decodes supplementary values given as JSON strings, however many times they were encoded.
fn supplementary(value: Option<Value>) -> FieldResult<BTreeMap<String, Value>> {
    let map = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map,
        Some(Value::String(s)) => match decode_json_text("supplementaryConfiguration", &s)? {
            Value::Object(map) => map,
            Value::Null => return Ok(BTreeMap::new()),
            other => return Err(expected("supplementaryConfiguration", "an object", &other)),
        },
        Some(other) => return Err(expected("supplementaryConfiguration", "an object", &other)),
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let decoded = decode_supplementary_value(v);
            (k, decoded)
        })
        .collect())
}

fn decode_supplementary_value(mut value: Value) -> Value {
    // In the API spelling every value is a JSON string; S3's ACL is a string inside a string.
    for _ in 0..MAX_EMBEDDED_DEPTH {
        let Value::String(s) = &value else {
            return value;
        };
        match serde_json::from_str::<Value>(s) {
            Ok(decoded) => value = decoded,
            // A plain string that is not JSON stays a string.
            Err(_) => return value,
        }
    }
    value
}

/// Tags as a map, or as a list of `{key, value}` / `{Key, Value}` pairs.
fn tags(value: Option<&Value>) -> FieldResult<BTreeMap<String, String>> {
    let tag_value = |k: &str, v: &Value| -> FieldResult<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Null => Ok(String::new()),
            Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
            other => Err(expected(&format!("tags.{k}"), "a string", other)),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), tag_value(k, v)?)))
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, pair)| {
                let key = pair
                    .get("key")
                    .or_else(|| pair.get("Key"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("tags[{i}]: expected an object with a string key"))?;
                let value = pair
                    .get("value")
                    .or_else(|| pair.get("Value"))
                    .unwrap_or(&Value::Null);
                Ok((key.to_string(), tag_value(key, value)?))
            })
            .collect(),
        Some(other) => Err(expected("tags", "an object", other)),
    }
}

fn related_events(value: Option<&Value>) -> FieldResult<Vec<String>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(expected(&format!("relatedEvents[{i}]"), "a string", other)),
            })
            .collect(),
        Some(other) => Err(expected("relatedEvents", "an array", other)),
    }
}

fn relationships(value: Option<&Value>) -> FieldResult<Vec<Relationship>> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(expected("relationships", "an array", other)),
    };
    list.iter()
        .enumerate()
        .map(|(i, rel)| {
            let field = |name: &str| format!("relationships[{i}].{name}");
            let Value::Object(rel) = rel else {
                return Err(expected(&format!("relationships[{i}]"), "an object", rel));
            };
            let text = |names: &[&'static str]| -> FieldResult<Option<String>> {
                opt_text(rel, names).map_err(|e| format!("relationships[{i}].{e}"))
            };
            Ok(Relationship {
                resource_type: text(&["resourceType"])?
                    .ok_or_else(|| format!("missing {}", field("resourceType")))?,
                resource_id: text(&["resourceId"])?,
                resource_name: text(&["resourceName"])?,
                name: text(&["name", "relationshipName"])?.unwrap_or_default(),
            })
        })
        .collect()
}
