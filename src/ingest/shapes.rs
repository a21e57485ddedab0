//! Recognising the containers configuration items arrive in and unwrapping them.

use super::config_item::parse_item;
use super::{ParsedRecord, RecordOutcome};
use serde_json::{Map, Value};

/// Envelopes nest (SNS around EventBridge around a rule event…) but never deeply.
const MAX_ENVELOPE_DEPTH: usize = 8;

/// Parses a whole document: one JSON value, or JSON lines.
pub(super) fn parse_document(bytes: &[u8], out: &mut Vec<ParsedRecord>) {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if text.iter().all(u8::is_ascii_whitespace) {
        out.push(invalid(String::new(), "empty document".to_string()));
        return;
    }
    match serde_json::from_slice::<Value>(text) {
        Ok(value) => classify(value, String::new(), 0, out),
        Err(whole_err) => {
            if looks_like_json_lines(text) {
                parse_json_lines(text, out);
            } else {
                out.push(invalid(
                    String::new(),
                    format!("not valid JSON: {whole_err}"),
                ));
            }
        }
    }
}

/// JSON lines when the first non-blank line is a complete JSON value on its own.
fn looks_like_json_lines(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n')
        .find(|line| !line.iter().all(u8::is_ascii_whitespace))
        .is_some_and(|line| serde_json::from_slice::<Value>(line).is_ok())
}

fn parse_json_lines(text: &[u8], out: &mut Vec<ParsedRecord>) {
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let location = format!("line {}", i + 1);
        match serde_json::from_slice::<Value>(line) {
            Ok(value) => classify(value, location, 0, out),
            Err(e) => out.push(invalid(location, format!("not valid JSON: {e}"))),
        }
    }
}

fn invalid(location: String, reason: String) -> ParsedRecord {
    ParsedRecord {
        location,
        outcome: RecordOutcome::Invalid(reason),
        warnings: Vec::new(),
    }
}

fn skipped(location: String, note: String) -> ParsedRecord {
    ParsedRecord {
        location,
        outcome: RecordOutcome::Skipped(note),
        warnings: Vec::new(),
    }
}

fn join(location: &str, part: &str) -> String {
    if location.is_empty() {
        part.to_string()
    } else if part.starts_with('[') {
        format!("{location}{part}")
    } else {
        format!("{location} > {part}")
    }
}

/// Name of a JSON value's type, for error messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Turns a value that may be a JSON string holding JSON into the decoded value.
fn decode_embedded(value: Value, field: &str) -> Result<Value, String> {
    match value {
        Value::String(s) => {
            serde_json::from_str(&s).map_err(|e| format!("{field}: string is not valid JSON: {e}"))
        }
        other => Ok(other),
    }
}

fn classify(value: Value, location: String, depth: usize, out: &mut Vec<ParsedRecord>) {
    if depth > MAX_ENVELOPE_DEPTH {
        out.push(invalid(location, "envelopes nested too deeply".to_string()));
        return;
    }
    let obj = match value {
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                classify(item, join(&location, &format!("[{i}]")), depth + 1, out);
            }
            return;
        }
        Value::Object(obj) => obj,
        other => {
            out.push(invalid(
                location,
                format!("expected a JSON object, found {}", type_name(&other)),
            ));
            return;
        }
    };
    classify_object(obj, location, depth, out);
}

fn classify_object(
    mut obj: Map<String, Value>,
    location: String,
    depth: usize,
    out: &mut Vec<ParsedRecord>,
) {
    // History and snapshot files, GetResourceConfigHistory and BatchGetResourceConfig output.
    for list_key in ["configurationItems", "baseConfigurationItems"] {
        if let Some(list) = obj.remove(list_key) {
            match list {
                Value::Array(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        let loc = join(&location, &format!("{list_key}[{i}]"));
                        classify(item, loc, depth + 1, out);
                    }
                }
                Value::Null => {}
                other => out.push(invalid(
                    join(&location, list_key),
                    format!("expected an array, found {}", type_name(&other)),
                )),
            }
            return;
        }
    }
    if obj.contains_key("Records") {
        out.push(skipped(
            location,
            "CloudTrail records: API events are not ingested by this version".to_string(),
        ));
        return;
    }
    // A recorded SDK response: {"status_code": 200, "data": {...}}.
    if obj.contains_key("status_code") {
        if let Some(data) = obj.remove("data") {
            classify(data, join(&location, "data"), depth + 1, out);
            return;
        }
    }
    // SNS notification: the payload is `Message`, usually a JSON string.
    if obj.contains_key("Message") && (obj.contains_key("Type") || obj.contains_key("TopicArn")) {
        if obj.get("Type").and_then(Value::as_str) == Some("SubscriptionConfirmation") {
            out.push(skipped(
                location,
                "SNS subscription confirmation".to_string(),
            ));
            return;
        }
        let loc = join(&location, "Message");
        match obj.remove("Message").map(|m| decode_embedded(m, "Message")) {
            Some(Ok(message)) => classify(message, loc, depth + 1, out),
            Some(Err(reason)) => out.push(invalid(location, reason)),
            None => {}
        }
        return;
    }
    // EventBridge event: the payload is `detail`.
    if obj.contains_key("detail") && (obj.contains_key("detail-type") || obj.contains_key("source"))
    {
        if let Some(detail) = obj.remove("detail") {
            classify(detail, join(&location, "detail"), depth + 1, out);
        }
        return;
    }
    // AWS Config rule invocation: the payload is `invokingEvent`, a JSON string.
    if let Some(event) = obj.remove("invokingEvent") {
        match decode_embedded(event, "invokingEvent") {
            Ok(event) => classify(event, join(&location, "invokingEvent"), depth + 1, out),
            Err(reason) => out.push(invalid(location, reason)),
        }
        return;
    }
    if let Some(message_type) = obj.get("messageType").and_then(Value::as_str) {
        let message_type = message_type.to_string();
        match message_type.as_str() {
            "ConfigurationItemChangeNotification" => {}
            "OversizedConfigurationItemChangeNotification" => {
                out.push(skipped(
                    location,
                    "oversized change notification: it carries only configurationItemSummary; \
                     ingest the item from a history file or the API"
                        .to_string(),
                ));
                return;
            }
            _ if !obj.contains_key("configurationItem") => {
                out.push(skipped(
                    location,
                    format!("{message_type}: carries no configuration item"),
                ));
                return;
            }
            _ => {}
        }
    }
    if let Some(item) = obj.remove("configurationItem") {
        let loc = join(&location, "configurationItem");
        match item {
            Value::Object(item) => push_item(item, loc, out),
            // Early notifications (item version 1.0) hold a list of items.
            Value::Array(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let loc = format!("{loc}[{i}]");
                    match item {
                        Value::Object(item) => push_item(item, loc, out),
                        other => out.push(invalid(
                            loc,
                            format!("expected an object, found {}", type_name(&other)),
                        )),
                    }
                }
            }
            other => out.push(invalid(
                loc,
                format!("expected an object, found {}", type_name(&other)),
            )),
        }
        return;
    }
    if obj.contains_key("resourceType") || obj.contains_key("resourceId") {
        push_item(obj, location, out);
        return;
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    if obj.len() > keys.len() {
        keys.push("…");
    }
    out.push(invalid(
        location,
        format!(
            "unrecognized shape: an object with keys [{}] is not a configuration item, \
             change notification, history/snapshot file or known envelope",
            keys.join(", ")
        ),
    ));
}

fn push_item(obj: Map<String, Value>, location: String, out: &mut Vec<ParsedRecord>) {
    out.push(match parse_item(obj) {
        Ok(parsed) => ParsedRecord {
            location,
            outcome: RecordOutcome::Item(Box::new(parsed.item)),
            warnings: parsed.warnings,
        },
        Err(reason) => invalid(location, reason),
    });
}
