//! Reading one CloudTrail record into an [`ApiEvent`], with errors that name the field.
//!
//! Time, source and name must be right or the record is rejected. Everything else is taken as
//! found: a missing or malformed optional field is left empty with a warning, and unknown fields
//! stay in the stored record. Fields are read by reference and the record is then moved into the
//! event, so a large delivery file is not copied record by record.

use super::json_type::type_name;
use crate::model::{
    epoch_to_time, hash_hex, parse_timestamp_text, plausible_time, resolve_username,
    truncate_to_millis, ApiEvent, EventResource, Timestamp, UserIdentity,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Prefix of event ids conftrail derives for records that have none.
pub(super) const DERIVED_ID_PREFIX: &str = "conftrail-";

/// Event-name prefixes of calls that only read (CloudTrail's own `readOnly` rule of thumb).
const READ_ONLY_PREFIXES: [&str; 9] = [
    "Get", "Describe", "List", "Head", "Lookup", "BatchGet", "Search", "Scan", "Query",
];

/// An event read from JSON, with notes on optional fields that were missing or malformed.
pub(super) struct ParsedEvent {
    pub event: ApiEvent,
    pub warnings: Vec<String>,
}

/// What a wrapper knows about the record it carries, used where the record itself is silent:
/// the top-level fields of an `aws cloudtrail lookup-events` entry.
#[derive(Debug, Default)]
pub(super) struct Fallbacks {
    event_id: Option<String>,
    event_name: Option<String>,
    event_source: Option<String>,
    event_time: Option<Timestamp>,
    username: Option<String>,
    access_key_id: Option<String>,
    read_only: Option<bool>,
}

impl Fallbacks {
    /// The fields of a lookup-events entry (`EventId`, `EventTime`, `Username`, …).
    pub(super) fn from_lookup_entry(entry: &Map<String, Value>) -> Self {
        let text = |name: &str| entry.get(name).and_then(non_empty_str).map(str::to_string);
        Fallbacks {
            event_id: text("EventId"),
            event_name: text("EventName"),
            event_source: text("EventSource"),
            event_time: entry.get("EventTime").and_then(|v| match v {
                Value::String(s) => parse_timestamp_text(s),
                // The CLI prints times as epoch seconds; SDK dumps as text.
                Value::Number(n) => n.as_f64().and_then(epoch_to_time),
                _ => None,
            }),
            username: text("Username"),
            access_key_id: text("AccessKeyId"),
            read_only: entry.get("ReadOnly").and_then(bool_like),
        }
    }
}

/// Builds an [`ApiEvent`] from one CloudTrail record, or says which fields are wrong and why.
pub(super) fn parse_event(obj: Map<String, Value>) -> Result<ParsedEvent, String> {
    parse_event_with(obj, &Fallbacks::default())
}

/// [`parse_event`] for a record whose wrapper supplies values the record may lack.
pub(super) fn parse_event_with(
    obj: Map<String, Value>,
    fallbacks: &Fallbacks,
) -> Result<ParsedEvent, String> {
    let mut warnings = Vec::new();
    // All required fields are checked so one report names every problem of the record.
    let mut problems = Vec::new();
    let event_time = event_time(&obj, fallbacks, &mut warnings)
        .and_then(|t| plausible_time(t).map_err(|reason| format!("eventTime: {reason}")))
        .map_err(|p| problems.push(p))
        .ok();
    let event_source = required_text(&obj, "eventSource", fallbacks.event_source.as_deref())
        .map_err(|p| problems.push(p))
        .ok();
    let event_name = required_text(&obj, "eventName", fallbacks.event_name.as_deref())
        .map_err(|p| problems.push(p))
        .ok();
    let (Some(event_time), Some(event_source), Some(event_name)) =
        (event_time, event_source, event_name)
    else {
        return Err(problems.join("; "));
    };

    let aws_region = match obj.get("awsRegion") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            warnings.push("awsRegion missing: left empty".to_string());
            String::new()
        }
        Some(other) => {
            warnings.push(format!("{}; left empty", expected("awsRegion", other)));
            String::new()
        }
    };
    let (user_identity, access_key_id) = user_identity(obj.get("userIdentity"), &mut warnings);
    let resources = resources(obj.get("resources"), &mut warnings);
    let account_id = opt_text(&obj, "recipientAccountId", &mut warnings)
        .or_else(|| user_identity.account_id.clone())
        .or_else(|| resources.iter().find_map(|r| r.account_id.clone()))
        .unwrap_or_default();
    let mut username = resolve_username(&user_identity);
    if username.is_empty() {
        username = fallbacks.username.clone().unwrap_or_default();
    }
    let read_only = match obj.get("readOnly") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let parsed = bool_like(v);
            if parsed.is_none() {
                warnings.push(format!(
                    "readOnly: expected true or false, found {}; inferred from eventName",
                    short(v)
                ));
            }
            parsed
        }
    }
    .or(fallbacks.read_only)
    .unwrap_or_else(|| name_reads_only(&event_name));

    let source_ip_address = opt_text(&obj, "sourceIPAddress", &mut warnings);
    let user_agent = opt_text(&obj, "userAgent", &mut warnings);
    let error_code = opt_text(&obj, "errorCode", &mut warnings);
    let error_message = opt_text(&obj, "errorMessage", &mut warnings);
    let event_type = opt_text(&obj, "eventType", &mut warnings);
    let request_id = opt_text(&obj, "requestID", &mut warnings);
    let access_key_id = access_key_id.or_else(|| fallbacks.access_key_id.clone());
    let record = Value::Object(obj);
    let event_id = event_id(&record, fallbacks, &mut warnings);

    let event = ApiEvent {
        event_id,
        event_time: truncate_to_millis(event_time),
        event_source,
        event_name,
        aws_region,
        account_id,
        user_identity,
        username,
        source_ip_address,
        user_agent,
        access_key_id,
        error_code,
        error_message,
        read_only,
        event_type,
        request_id,
        resources,
        record,
    };
    super::limits::check_event(&event)?;
    Ok(ParsedEvent { event, warnings })
}

fn expected(field: &str, found: &Value) -> String {
    format!("{field}: expected a string, found {}", type_name(found))
}

fn non_empty_str(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// `true`/`false`, or those words as text in any case (Panther writes `"True"`).
fn bool_like(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn required_text(
    obj: &Map<String, Value>,
    name: &str,
    fallback: Option<&str>,
) -> Result<String, String> {
    match (obj.get(name), fallback) {
        (Some(Value::String(s)), _) if !s.is_empty() => Ok(s.clone()),
        (Some(Value::String(_)), _) => Err(format!("{name}: empty")),
        (None | Some(Value::Null), Some(fallback)) => Ok(fallback.to_string()),
        (None, None) => Err(format!("missing {name}")),
        (Some(other), _) => Err(expected(name, other)),
    }
}

fn event_time(
    obj: &Map<String, Value>,
    fallbacks: &Fallbacks,
    warnings: &mut Vec<String>,
) -> Result<Timestamp, String> {
    match obj.get("eventTime") {
        Some(v @ Value::String(s)) => {
            parse_timestamp_text(s).ok_or_else(|| format!("eventTime: {} is not a time", short(v)))
        }
        None | Some(Value::Null) => {
            if let Some(t) = fallbacks.event_time {
                return Ok(t);
            }
            // Logstash's date filter moves eventTime into @timestamp (OTRF's exports look so).
            if let Some(t) = obj
                .get("@timestamp")
                .and_then(Value::as_str)
                .and_then(parse_timestamp_text)
            {
                warnings.push(
                    "eventTime missing: taken from @timestamp (a Logstash export)".to_string(),
                );
                return Ok(t);
            }
            Err(if obj.contains_key("eventTime") {
                expected("eventTime", &Value::Null)
            } else {
                "missing eventTime".to_string()
            })
        }
        Some(other) => Err(expected("eventTime", other)),
    }
}

/// An optional text field: empty and null are absent; numbers and booleans are kept as text;
/// anything else is dropped with a warning.
fn opt_text(obj: &Map<String, Value>, name: &str, warnings: &mut Vec<String>) -> Option<String> {
    match obj.get(name)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        other => {
            warnings.push(format!("{}; left empty", expected(name, other)));
            None
        }
    }
}

/// `userIdentity` flattened, and its `accessKeyId`; malformed parts are left out with a warning.
fn user_identity(
    value: Option<&Value>,
    warnings: &mut Vec<String>,
) -> (UserIdentity, Option<String>) {
    let ui = match value {
        None | Some(Value::Null) => return (UserIdentity::default(), None),
        Some(Value::Object(ui)) => ui,
        Some(other) => {
            warnings.push(format!(
                "userIdentity: expected an object, found {}; left empty",
                type_name(other)
            ));
            return (UserIdentity::default(), None);
        }
    };
    let issuer = match ui.get("sessionContext") {
        None | Some(Value::Null) => None,
        Some(Value::Object(ctx)) => match ctx.get("sessionIssuer") {
            None | Some(Value::Null) => None,
            Some(Value::Object(issuer)) => Some(issuer),
            Some(other) => {
                warnings.push(format!(
                    "userIdentity.sessionContext.sessionIssuer: expected an object, found {}; ignored",
                    type_name(other)
                ));
                None
            }
        },
        Some(other) => {
            warnings.push(format!(
                "userIdentity.sessionContext: expected an object, found {}; ignored",
                type_name(other)
            ));
            None
        }
    };
    let mut field = |obj: &Map<String, Value>, prefix: &str, name: &str| -> Option<String> {
        match obj.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                warnings.push(format!(
                    "{}; ignored",
                    expected(&format!("{prefix}.{name}"), other)
                ));
                None
            }
        }
    };
    let identity = UserIdentity {
        identity_type: field(ui, "userIdentity", "type"),
        principal_id: field(ui, "userIdentity", "principalId"),
        arn: field(ui, "userIdentity", "arn"),
        account_id: field(ui, "userIdentity", "accountId"),
        user_name: field(ui, "userIdentity", "userName"),
        session_issuer_arn: issuer.and_then(|i| field(i, ISSUER, "arn")),
        session_issuer_name: issuer.and_then(|i| field(i, ISSUER, "userName")),
        invoked_by: field(ui, "userIdentity", "invokedBy"),
    };
    let access_key_id = field(ui, "userIdentity", "accessKeyId");
    (identity, access_key_id)
}

const ISSUER: &str = "userIdentity.sessionContext.sessionIssuer";

/// `resources[]`: objects with `ARN` (or `arn`), `accountId` and `type`; other entries are skipped.
fn resources(value: Option<&Value>, warnings: &mut Vec<String>) -> Vec<EventResource> {
    let list = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(list)) => list,
        Some(other) => {
            warnings.push(format!(
                "resources: expected an array, found {}; left empty",
                type_name(other)
            ));
            return Vec::new();
        }
    };
    let text = |r: &Map<String, Value>, name: &str| {
        r.get(name).and_then(non_empty_str).map(str::to_string)
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, entry)| match entry {
            Value::Object(r) => Some(EventResource {
                arn: text(r, "ARN").or_else(|| text(r, "arn")),
                resource_type: text(r, "type"),
                account_id: text(r, "accountId"),
            }),
            other => {
                warnings.push(format!(
                    "resources[{i}]: expected an object, found {}; skipped",
                    type_name(other)
                ));
                None
            }
        })
        .collect()
}

/// Whether an event name reads only, by its first CamelCase word(s): `ListBuckets` does,
/// `ListenerCreate` would not.
pub(super) fn name_reads_only(name: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|prefix| {
        name.strip_prefix(prefix).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

/// `eventID`, else the wrapper's, else one derived from the record's content so that ingesting
/// the same record again finds the same event.
fn event_id(record: &Value, fallbacks: &Fallbacks, warnings: &mut Vec<String>) -> String {
    let problem = match record.get("eventID") {
        Some(Value::String(s)) if !s.is_empty() => return s.clone(),
        None | Some(Value::Null) => "eventID missing:".to_string(),
        Some(Value::String(_)) => "eventID empty:".to_string(),
        Some(other) => format!("{};", expected("eventID", other)),
    };
    if let Some(id) = &fallbacks.event_id {
        return id.clone();
    }
    let id = derived_event_id(record);
    warnings.push(format!("{problem} derived {id}"));
    id
}

/// `conftrail-` and the first 32 hex digits of the SHA-256 of the record's canonical JSON.
pub(super) fn derived_event_id(record: &Value) -> String {
    let mut canonical = Vec::new();
    write_canonical(record, &mut canonical);
    let digest = Sha256::digest(&canonical);
    let hex = hash_hex(&digest[..16]);
    format!("{DERIVED_ID_PREFIX}{hex}")
}

/// Compact JSON with object keys sorted, whatever order the map keeps them in.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(key.as_str(), out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing a scalar into a Vec cannot fail; an error would only drop bytes from the hash.
    let _ = serde_json::to_writer(&mut *out, value);
}
