//! Recognising the containers configuration items and CloudTrail records arrive in and
//! unwrapping them.

use super::budget::parse_embedded;
use super::cloudtrail::{parse_event, parse_event_with, Fallbacks};
use super::config_item::parse_item;
use super::describe::iam::{self, DetailOutcome};
use super::describe::{cloudtrail, ec2, ec2_instance, ec2_network, DescribeError, DescribedItem};
use super::json_type::type_name;
use super::{ParsedRecord, RecordOutcome};
use chrono::Utc;
use serde_json::{Map, Value};

/// Envelopes nest (SNS around EventBridge around a rule event…) but never deeply.
const MAX_ENVELOPE_DEPTH: usize = 8;

/// The lists of envelopes that hold records, in the order [`classify_object`] looks for them:
/// history and snapshot files, GetResourceConfigHistory and BatchGetResourceConfig output,
/// CloudTrail log files (and Lambda, SQS and S3 batches), `aws cloudtrail lookup-events` output,
/// EC2 DescribeSecurityGroups, DescribeInstances, DescribeVpcs and DescribeSubnets output,
/// CloudTrail DescribeTrails output. (IAM's authorization details are read whole: a user's
/// item needs the ids of groups and policies listed elsewhere in the file.)
const LIST_KEYS: [&str; 9] = [
    "configurationItems",
    "baseConfigurationItems",
    "Records",
    "Events",
    ec2::SECURITY_GROUPS,
    ec2_instance::RESERVATIONS,
    ec2_network::VPCS,
    ec2_network::SUBNETS,
    cloudtrail::TRAIL_LIST,
];

/// The list key `key` is, if it is one (for reading such lists one element at a time).
pub(super) fn list_key(key: &str) -> Option<&'static str> {
    LIST_KEYS.iter().copied().find(|k| *k == key)
}

/// Classifies one element of an envelope's list (`list` from [`list_key`]); `location` says
/// where it is (`Records[4]`).
pub(super) fn classify_list_entry(
    list: &str,
    entry: Value,
    location: String,
    out: &mut Vec<ParsedRecord>,
) {
    classify_entry(list, entry, location, 0, out);
}

/// One element of the list `list` of an envelope at `depth`.
fn classify_entry(
    list: &str,
    entry: Value,
    location: String,
    depth: usize,
    out: &mut Vec<ParsedRecord>,
) {
    if list == "Records" {
        classify_record(entry, location, depth, out);
    } else if list == ec2::SECURITY_GROUPS {
        push_security_group(entry, location, out);
    } else if list == ec2_instance::RESERVATIONS {
        push_reservation(entry, location, out);
    } else if list == ec2_network::VPCS {
        push_described(
            ec2_network::vpc_item(entry, None, Utc::now()),
            location,
            out,
        );
    } else if list == ec2_network::SUBNETS {
        push_described(
            ec2_network::subnet_item(entry, None, Utc::now()),
            location,
            out,
        );
    } else if list == cloudtrail::TRAIL_LIST {
        push_described(
            cloudtrail::trail_item(entry, None, Default::default(), Utc::now()),
            location,
            out,
        );
    } else {
        classify(entry, location, depth + 1, out);
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

/// Turns a value that may be a JSON string holding JSON into the decoded value.
fn decode_embedded(value: Value, field: &str) -> Result<Value, String> {
    match value {
        Value::String(s) => parse_embedded(&s).map_err(|e| format!("{field}: {e}")),
        other => Ok(other),
    }
}

/// Classifies one JSON value (at `depth` envelopes down) into records.
pub(super) fn classify(value: Value, location: String, depth: usize, out: &mut Vec<ParsedRecord>) {
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
    // One instance of DescribeInstances output on its own (`--query
    // 'Reservations[].Instances[]'` gives an array of them): before the envelopes, since an
    // instance's `SecurityGroups` is no list of groups to map.
    if obj.contains_key("InstanceId") && obj.contains_key("InstanceType") {
        let item = ec2_instance::instance_item(Value::Object(obj), None, None, Utc::now());
        push_described(item, location, out);
        return;
    }
    for list_key in LIST_KEYS {
        if let Some(list) = obj.remove(list_key) {
            match list {
                Value::Array(entries) => {
                    if list_key == "Records" {
                        out.reserve(entries.len());
                    }
                    for (i, entry) in entries.into_iter().enumerate() {
                        let loc = join(&location, &format!("{list_key}[{i}]"));
                        classify_entry(list_key, entry, loc, depth, out);
                    }
                }
                Value::Null => {}
                other => out.push(invalid(
                    join(&location, list_key),
                    format!(
                        "expected {}, found {}",
                        list_noun(list_key),
                        type_name(&other)
                    ),
                )),
            }
            return;
        }
    }
    if iam::is_authorization_details(&obj) {
        push_authorization_details(obj, location, out);
        return;
    }
    if let Some(record) = obj.remove("CloudTrailEvent") {
        push_lookup_entry(record, obj, location, out);
        return;
    }
    if obj.contains_key("EventId") && obj.contains_key("EventName") {
        out.push(invalid(
            location,
            "lookup-events entry without CloudTrailEvent: the record itself is needed \
             (do not filter it out with --query)"
                .to_string(),
        ));
        return;
    }
    if is_bare_record(&obj) {
        push_event(obj, location, out);
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
    // SQS message (ReceiveMessage output, or a record of a Lambda SQS event): the payload is
    // the body, a JSON string.
    for (body, id) in [("Body", "MessageId"), ("body", "messageId")] {
        if obj.contains_key(body) && obj.contains_key(id) {
            match obj.remove(body).map(|b| decode_embedded(b, body)) {
                Some(Ok(message)) => classify(message, join(&location, body), depth + 1, out),
                Some(Err(reason)) => out.push(invalid(location, reason)),
                None => {}
            }
            return;
        }
    }
    // A record of a Lambda SNS event: the notification is `Sns`.
    if obj.contains_key("EventSource") {
        if let Some(sns) = obj.remove("Sns") {
            classify(sns, join(&location, "Sns"), depth + 1, out);
            return;
        }
    }
    // Panther rule test: the record is `Log`.
    if obj.contains_key("Log")
        && ["RuleID", "test_name", "ExpectedResult"]
            .iter()
            .any(|k| obj.contains_key(*k))
    {
        let loc = join(&location, "Log");
        match obj.remove("Log") {
            // Panther's CloudTrail tests are records, some deliberately incomplete: read them
            // as records so the report names the missing field.
            Some(Value::Object(log)) if log.contains_key("eventName") => push_event(log, loc, out),
            Some(log) => classify(log, loc, depth + 1, out),
            None => {}
        }
        return;
    }
    if obj.contains_key("s3Bucket") && obj.contains_key("s3ObjectKey") {
        out.push(skipped(location, delivery_note(&obj)));
        return;
    }
    if obj.contains_key("digestStartTime") && obj.contains_key("digestEndTime") {
        out.push(skipped(
            location,
            "CloudTrail digest file (integrity chain), no events".to_string(),
        ));
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
    // One group of DescribeSecurityGroups output on its own (`--query 'SecurityGroups'` gives
    // an array of them); the same for reservations, subnets and VPCs (instances on their own
    // are recognised first).
    if obj.contains_key("GroupId") && obj.contains_key("IpPermissions") {
        push_security_group(Value::Object(obj), location, out);
        return;
    }
    if obj.contains_key("ReservationId") && obj.contains_key("Instances") {
        push_reservation(Value::Object(obj), location, out);
        return;
    }
    if obj.contains_key("SubnetId") && obj.contains_key("CidrBlock") {
        push_described(
            ec2_network::subnet_item(Value::Object(obj), None, Utc::now()),
            location,
            out,
        );
        return;
    }
    if obj.contains_key("VpcId") && obj.contains_key("DhcpOptionsId") {
        push_described(
            ec2_network::vpc_item(Value::Object(obj), None, Utc::now()),
            location,
            out,
        );
        return;
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    if obj.len() > keys.len() {
        keys.push("…");
    }
    out.push(invalid(
        location,
        format!(
            "unrecognized shape: an object with keys [{}] is not a CloudTrail record, \
             configuration item, change notification, history/snapshot file or known envelope",
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

/// One group of DescribeSecurityGroups output, as AWS Config's item for it.
fn push_security_group(group: Value, location: String, out: &mut Vec<ParsedRecord>) {
    // A file does not say which region it was described in, nor when: the item is of now.
    push_described(
        ec2::security_group_item(group, None, Utc::now()),
        location,
        out,
    );
}

/// One reservation of DescribeInstances output: an item for each of its instances, each at
/// its own location (`Reservations[0].Instances[1]`).
fn push_reservation(reservation: Value, location: String, out: &mut Vec<ParsedRecord>) {
    match ec2_instance::reservation_items(reservation, None, Utc::now()) {
        Ok(instances) => {
            for (path, described) in instances {
                let location = if location.is_empty() {
                    path
                } else {
                    format!("{location}.{path}")
                };
                push_described(described, location, out);
            }
        }
        Err(reason) => out.push(invalid(location, reason.to_string())),
    }
}

/// `aws iam get-account-authorization-details` output: an item for each user, role and
/// customer managed policy, each at its own location (`UserDetailList[2]`).
fn push_authorization_details(
    details: Map<String, Value>,
    location: String,
    out: &mut Vec<ParsedRecord>,
) {
    for (path, outcome) in iam::authorization_details_items(details, Utc::now()) {
        let location = join(&location, &path);
        match outcome {
            DetailOutcome::Item(described) => push_described(*described, location, out),
            DetailOutcome::Skipped(note) => out.push(skipped(location, note)),
        }
    }
}

/// A resource of describe output, mapped to AWS Config's item for it.
fn push_described(
    described: Result<DescribedItem, DescribeError>,
    location: String,
    out: &mut Vec<ParsedRecord>,
) {
    out.push(match described {
        Ok(described) => ParsedRecord {
            location,
            outcome: RecordOutcome::Item(Box::new(described.item)),
            warnings: described.warnings,
        },
        Err(reason) => invalid(location, reason.to_string()),
    });
}

/// A CloudTrail record on its own: it names the call and at least one other core field, and
/// nothing in it says configuration item.
fn is_bare_record(obj: &Map<String, Value>) -> bool {
    obj.contains_key("eventName")
        && ["eventSource", "eventTime", "eventID"]
            .iter()
            .any(|k| obj.contains_key(*k))
        && !obj.contains_key("resourceType")
        && !obj.keys().any(|k| k.starts_with("configurationItem"))
}

/// What a list of an envelope holds, for the error when it is not an array.
fn list_noun(list_key: &str) -> &'static str {
    match list_key {
        "Records" => "an array of CloudTrail records",
        "Events" => "an array of lookup-events entries",
        ec2::SECURITY_GROUPS => "an array of security groups",
        ec2_instance::RESERVATIONS => "an array of reservations",
        ec2_network::VPCS => "an array of VPCs",
        ec2_network::SUBNETS => "an array of subnets",
        cloudtrail::TRAIL_LIST => "an array of trails",
        _ => "an array",
    }
}

/// One of the `Records` of a CloudTrail log file; also those of Lambda's SQS and SNS events and
/// of S3 event notifications, which arrive the same way.
fn classify_record(record: Value, loc: String, depth: usize, out: &mut Vec<ParsedRecord>) {
    match record {
        Value::Object(obj) if is_s3_notification(&obj) => {
            out.push(skipped(loc, s3_notification_note(&obj)));
        }
        Value::Object(obj) if is_lambda_message(&obj) => {
            classify_object(obj, loc, depth + 1, out);
        }
        // Anything else in `Records` is a CloudTrail record, however incomplete: the parser
        // names what is missing.
        Value::Object(obj) => push_event(obj, loc, out),
        other => out.push(invalid(
            loc,
            format!(
                "expected a CloudTrail record (an object), found {}",
                type_name(&other)
            ),
        )),
    }
}

/// An S3 event notification (`ObjectCreated:Put` …): it names an object, it is not an API call.
fn is_s3_notification(obj: &Map<String, Value>) -> bool {
    obj.get("eventSource").and_then(Value::as_str) == Some("aws:s3") && obj.contains_key("s3")
}

fn s3_notification_note(obj: &Map<String, Value>) -> String {
    let s3 = obj.get("s3");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("?").to_string();
    let bucket = text(s3.and_then(|s| s.get("bucket")).and_then(|b| b.get("name")));
    let key = text(s3.and_then(|s| s.get("object")).and_then(|o| o.get("key")));
    format!(
        "S3 event notification ({}): names s3://{bucket}/{key}; ingest that file",
        text(obj.get("eventName"))
    )
}

/// A record of a Lambda SQS or SNS event: a message that wraps the payload.
fn is_lambda_message(obj: &Map<String, Value>) -> bool {
    (obj.contains_key("body") && obj.contains_key("messageId")) || obj.contains_key("Sns")
}

/// CloudTrail's SNS message on delivering log files: it names them, it holds no events.
fn delivery_note(obj: &Map<String, Value>) -> String {
    let bucket = obj.get("s3Bucket").and_then(Value::as_str).unwrap_or("?");
    let files = match obj.get("s3ObjectKey") {
        Some(Value::Array(keys)) => keys.len(),
        Some(Value::String(_)) => 1,
        _ => 0,
    };
    let plural = if files == 1 { "" } else { "s" };
    format!(
        "CloudTrail delivery notification: names {files} log file{plural} in s3://{bucket}; \
         ingest those files"
    )
}

/// One entry of `aws cloudtrail lookup-events` output: the record is `CloudTrailEvent`, a JSON
/// string (or, from some tools, an object); the entry's own fields fill in what it lacks.
fn push_lookup_entry(
    record: Value,
    entry: Map<String, Value>,
    location: String,
    out: &mut Vec<ParsedRecord>,
) {
    let loc = join(&location, "CloudTrailEvent");
    let record = match decode_embedded(record, "CloudTrailEvent") {
        Ok(Value::Object(record)) => record,
        Ok(other) => {
            out.push(invalid(
                loc,
                format!(
                    "CloudTrailEvent: expected a CloudTrail record (an object), found {}",
                    type_name(&other)
                ),
            ));
            return;
        }
        Err(reason) => {
            out.push(invalid(loc, reason));
            return;
        }
    };
    let fallbacks = Fallbacks::from_lookup_entry(&entry);
    out.push(event_record(parse_event_with(record, &fallbacks), loc));
}

fn push_event(obj: Map<String, Value>, location: String, out: &mut Vec<ParsedRecord>) {
    out.push(event_record(parse_event(obj), location));
}

fn event_record(
    parsed: Result<super::cloudtrail::ParsedEvent, String>,
    location: String,
) -> ParsedRecord {
    match parsed {
        Ok(parsed) => ParsedRecord {
            location,
            outcome: RecordOutcome::Event(Box::new(parsed.event)),
            warnings: parsed.warnings,
        },
        Err(reason) => invalid(location, reason),
    }
}
