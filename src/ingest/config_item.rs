//! Reading one configuration item in either spelling (API or stream, v1.2 or v1.3) or the
//! minimal generic shape, with errors that name the field.
//!
//! Identity, capture time, status and content must be right or the item is rejected. Optional
//! metadata that is malformed (a creation time written as a Python repr, say) is dropped with a
//! warning instead, so one odd field does not lose a whole configuration.

use super::budget::parse_embedded;
use super::json_type::type_name;
use crate::model::{
    epoch_to_time, looks_like_region, parse_timestamp_text, plausible_time, truncate_to_millis,
    ConfigurationItem, ItemStatus, Relationship, Timestamp,
};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// AWS's limit on resource id length.
const MAX_RESOURCE_ID_LEN: usize = 768;
/// How many times a supplementary value may be a JSON string inside a JSON string.
const MAX_EMBEDDED_DEPTH: usize = 3;

type FieldResult<T> = Result<T, String>;

/// An item read from JSON, with notes on optional fields that had to be dropped.
pub(super) struct ParsedItem {
    pub item: ConfigurationItem,
    pub warnings: Vec<String>,
}

/// Builds a [`ConfigurationItem`] from a JSON object, or says which field is wrong and why.
pub(super) fn parse_item(mut obj: Map<String, Value>) -> FieldResult<ParsedItem> {
    let mut warnings = Vec::new();
    let resource_type = required_text(&mut obj, "resourceType")?;
    let resource_id = required_text(&mut obj, "resourceId")?;
    if resource_id.len() > MAX_RESOURCE_ID_LEN {
        return Err(format!(
            "resourceId: longer than {MAX_RESOURCE_ID_LEN} characters"
        ));
    }
    let arn = opt_text(&mut obj, &["ARN", "arn"])?;
    let availability_zone = opt_text(&mut obj, &["availabilityZone"])?;
    let account_id = match opt_text(&mut obj, &["awsAccountId", "accountId"])? {
        Some(a) => a,
        None => arn_part(arn.as_deref(), 4).unwrap_or_default(),
    };
    let aws_region = match opt_text(&mut obj, &["awsRegion", "region"])? {
        Some(r) => r,
        // Old items (1.0) carry no region; their zone or ARN still says where they live.
        None => region_of_zone(availability_zone.as_deref())
            .or_else(|| arn_part(arn.as_deref(), 3).filter(|r| looks_like_region(r)))
            .unwrap_or_default(),
    };
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
    let capture_time = match take(&mut obj, &["configurationItemCaptureTime", "captureTime"]) {
        Some((name, v)) => timestamp(name, &v)?,
        // The generic shape may leave it out: the observation is "now".
        None => Utc::now(),
    };
    let status = match take(&mut obj, &["configurationItemStatus"]) {
        Some((name, Value::String(s))) if s.is_empty() => return Err(format!("{name}: empty")),
        Some((name, Value::String(s))) => ItemStatus::parse(&s).ok_or_else(|| {
            format!(
                "{name}: {} is not one of {}",
                short(&Value::String(s.clone())),
                ItemStatus::KNOWN.join(", ")
            )
        })?,
        Some((name, other)) => return Err(expected(name, "a string", &other)),
        None => ItemStatus::Ok,
    };
    let configuration = match obj.remove("configuration") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => decode_json_text("configuration", &s)?,
        Some(other) => other,
    };
    let supplementary_configuration = supplementary(obj.remove("supplementaryConfiguration"))?;
    let mut relationships = relationships(obj.remove("relationships"))?;
    // AWS does not keep relationships in a stable order; a reorder is not a change.
    relationships.sort();
    let item = ConfigurationItem {
        item_version: opt_text_or_number(&mut obj, &["configurationItemVersion", "version"])?,
        account_id,
        configuration_item_capture_time: truncate_to_millis(capture_time),
        configuration_item_status: status,
        configuration_state_id: state_id(&mut obj)?,
        md5_hash: opt_text(
            &mut obj,
            &["configurationStateMd5Hash", "configurationItemMD5Hash"],
        )?,
        arn,
        resource_type,
        resource_id,
        resource_name: opt_text(&mut obj, &["resourceName"])?,
        aws_region,
        availability_zone,
        resource_creation_time: optional_timestamp(&mut obj, "resourceCreationTime", &mut warnings),
        tags: tags(obj.remove("tags"))?,
        related_events: related_events(obj.remove("relatedEvents"))?,
        relationships,
        configuration,
        supplementary_configuration,
        recording_frequency: opt_text(&mut obj, &["recordingFrequency"])?,
        configuration_item_delivery_time: optional_timestamp(
            &mut obj,
            "configurationItemDeliveryTime",
            &mut warnings,
        ),
        meta: None,
    };
    super::limits::check_item(&item)?;
    Ok(ParsedItem { item, warnings })
}

/// Removes and returns the first of `names` present with a non-null value.
fn take(obj: &mut Map<String, Value>, names: &[&'static str]) -> Option<(&'static str, Value)> {
    for name in names {
        match obj.remove(*name) {
            Some(Value::Null) | None => continue,
            Some(v) => return Some((name, v)),
        }
    }
    None
}

fn expected(field: &str, what: &str, found: &Value) -> String {
    format!("{field}: expected {what}, found {}", type_name(found))
}

fn required_text(obj: &mut Map<String, Value>, name: &'static str) -> FieldResult<String> {
    match opt_text(obj, &[name])? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("{name}: empty")),
        None => Err(format!("missing {name}")),
    }
}

fn opt_text(obj: &mut Map<String, Value>, names: &[&'static str]) -> FieldResult<Option<String>> {
    match take(obj, names) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((name, other)) => Err(expected(name, "a string", &other)),
    }
}

fn opt_text_or_number(
    obj: &mut Map<String, Value>,
    names: &[&'static str],
) -> FieldResult<Option<String>> {
    match take(obj, names) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((_, Value::Number(n))) => Ok(Some(n.to_string())),
        Some((name, other)) => Err(expected(name, "a string", &other)),
    }
}

/// `arn:partition:service:region:account:resource` → the part at `index`, when not empty.
pub(super) fn arn_part(arn: Option<&str>, index: usize) -> Option<String> {
    let part = arn?.split(':').nth(index)?;
    (!part.is_empty()).then(|| part.to_string())
}

/// `us-west-2b` → `us-west-2`.
pub(super) fn region_of_zone(zone: Option<&str>) -> Option<String> {
    let zone = zone?;
    let region = zone.strip_suffix(|c: char| c.is_ascii_lowercase())?;
    looks_like_region(region).then(|| region.to_string())
}

/// AWS writes epoch milliseconds (a number, or a numeric string in the API spelling); a few
/// sources put other text there, which is kept as it is.
fn state_id(obj: &mut Map<String, Value>) -> FieldResult<Option<Value>> {
    match take(obj, &["configurationStateId"]) {
        None => Ok(None),
        Some((_, Value::Number(n))) => Ok(Some(Value::Number(n))),
        Some((_, Value::String(s))) if s.is_empty() => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(match s.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(s),
        })),
        Some((name, other)) => Err(expected(name, "a number or string", &other)),
    }
}

/// An optional timestamp; a malformed one is dropped with a warning.
fn optional_timestamp(
    obj: &mut Map<String, Value>,
    name: &'static str,
    warnings: &mut Vec<String>,
) -> Option<Timestamp> {
    match take(obj, &[name]) {
        None => None,
        Some((_, Value::String(s))) if s.is_empty() => None,
        Some((name, v)) => match timestamp(name, &v) {
            Ok(t) => Some(truncate_to_millis(t)),
            Err(reason) => {
                warnings.push(format!("{reason}; field left empty"));
                None
            }
        },
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
    let time = parsed.ok_or_else(|| format!("{name}: invalid timestamp {}", short(v)))?;
    plausible_time(time).map_err(|reason| format!("{name}: {reason}"))
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
    parse_embedded(s).map_err(|e| format!("{field}: {e}"))
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
        .map(|(k, v)| (k, decode_supplementary_value(v)))
        .collect())
}

fn decode_supplementary_value(mut value: Value) -> Value {
    // In the API spelling every value is a JSON string; S3's ACL is a string inside a string.
    for _ in 0..MAX_EMBEDDED_DEPTH {
        let Value::String(s) = &value else {
            return value;
        };
        match parse_embedded(s) {
            Ok(decoded) => value = decoded,
            // A plain string that is not JSON stays a string.
            Err(_) => return value,
        }
    }
    value
}

/// Tags as a map, or as a list of `{key, value}` / `{Key, Value}` pairs.
fn tags(value: Option<Value>) -> FieldResult<BTreeMap<String, String>> {
    let tag_value = |k: &str, v: Value| -> FieldResult<String> {
        match v {
            Value::String(s) => Ok(s),
            Value::Null => Ok(String::new()),
            Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
            other => Err(expected(&format!("tags.{k}"), "a string", &other)),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let v = tag_value(&k, v)?;
                Ok((k, v))
            })
            .collect(),
        Some(Value::Array(list)) => list
            .into_iter()
            .enumerate()
            .map(|(i, pair)| {
                let Value::Object(mut pair) = pair else {
                    return Err(expected(&format!("tags[{i}]"), "an object", &pair));
                };
                let key = match take(&mut pair, &["key", "Key"]) {
                    Some((_, Value::String(k))) => k,
                    _ => return Err(format!("tags[{i}]: expected an object with a string key")),
                };
                let value = take(&mut pair, &["value", "Value"]).map_or(Value::Null, |(_, v)| v);
                let value = tag_value(&key, value)?;
                Ok((key, value))
            })
            .collect(),
        Some(other) => Err(expected("tags", "an object", &other)),
    }
}

fn related_events(value: Option<Value>) -> FieldResult<Vec<String>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(expected(&format!("relatedEvents[{i}]"), "a string", &other)),
            })
            .collect(),
        Some(other) => Err(expected("relatedEvents", "an array", &other)),
    }
}

fn relationships(value: Option<Value>) -> FieldResult<Vec<Relationship>> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(expected("relationships", "an array", &other)),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, rel)| {
            let Value::Object(mut rel) = rel else {
                return Err(expected(&format!("relationships[{i}]"), "an object", &rel));
            };
            let mut text = |names: &[&'static str]| -> FieldResult<Option<String>> {
                opt_text(&mut rel, names).map_err(|e| format!("relationships[{i}].{e}"))
            };
            Ok(Relationship {
                resource_type: text(&["resourceType"])?
                    .ok_or_else(|| format!("missing relationships[{i}].resourceType"))?,
                resource_id: text(&["resourceId"])?,
                resource_name: text(&["resourceName"])?,
                name: text(&["name", "relationshipName"])?.unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_zones_and_arns() {
        assert!(looks_like_region("us-east-1"));
        assert!(looks_like_region("us-gov-west-1"));
        assert!(!looks_like_region("us-west-2b"));
        assert!(!looks_like_region("Regional"));
        assert_eq!(
            region_of_zone(Some("us-west-2b")).as_deref(),
            Some("us-west-2")
        );
        assert_eq!(region_of_zone(Some("Not Applicable")), None);
        assert_eq!(arn_part(Some("arn:aws:s3:::bucket"), 3), None);
        assert_eq!(
            arn_part(Some("arn:aws:ec2:eu-west-1:123:sg/x"), 4).as_deref(),
            Some("123")
        );
    }
}
