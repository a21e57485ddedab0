//! Every supported CloudTrail shape and field rule, written inline so each case shows what it
//! covers.

use super::cloudtrail::{derived_event_id, name_reads_only};
use super::*;
use crate::model::format_time;
use serde_json::{json, Value};

/// A complete record as S3 delivery files hold it.
fn record() -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole", "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
            "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/Admin", "userName": "Admin"},
                "attributes": {"mfaAuthenticated": "false"}
            }
        },
        "eventTime": "2024-05-01T09:00:00.123456Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [{"fromPort": 22}]}},
        "responseElements": {"_return": true},
        "requestID": "req-1",
        "eventID": "11111111-2222-3333-4444-555555555555",
        "readOnly": false,
        "resources": [{"ARN": "arn:aws:ec2:us-east-1:111122223333:security-group/sg-1", "accountId": "111122223333", "type": "AWS::EC2::SecurityGroup"}],
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
}

fn with(mut value: Value, key: &str, field: Value) -> Value {
    if let Some(obj) = value.as_object_mut() {
        obj.insert(key.to_string(), field);
    }
    value
}

fn without(mut value: Value, key: &str) -> Value {
    if let Some(obj) = value.as_object_mut() {
        obj.remove(key);
    }
    value
}

/// The events of a document with their locations; panics on anything else.
fn events(doc: &str) -> Vec<(String, ApiEvent, Vec<String>)> {
    parse_document(doc.as_bytes())
        .into_iter()
        .map(|r| match r.outcome {
            RecordOutcome::Event(event) => (r.location, *event, r.warnings),
            other => panic!("{}: expected an event, got {other:?}", r.location),
        })
        .collect()
}

fn one_event(doc: &str) -> ApiEvent {
    let mut all = events(doc);
    assert_eq!(all.len(), 1, "{doc}");
    all.remove(0).1
}

/// The only record of a document, which must be a problem: (location, reason, skipped?).
fn single_problem(doc: &str) -> (String, String, bool) {
    let records = parse_document(doc.as_bytes());
    assert_eq!(records.len(), 1, "{doc}: {records:?}");
    let location = records[0].location.clone();
    match &records[0].outcome {
        RecordOutcome::Invalid(reason) => (location, reason.clone(), false),
        RecordOutcome::Skipped(note) => (location, note.clone(), true),
        other => panic!("{doc}: expected a problem, got {other:?}"),
    }
}

#[test]
fn delivery_file_fields() {
    let doc = json!({"Records": [record()]}).to_string();
    let all = events(&doc);
    assert_eq!(all.len(), 1);
    let (location, e, warnings) = &all[0];
    assert_eq!(location, "Records[0]");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(e.event_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(format_time(&e.event_time), "2024-05-01T09:00:00.123Z");
    assert_eq!(e.event_source, "ec2.amazonaws.com");
    assert_eq!(e.event_name, "AuthorizeSecurityGroupIngress");
    assert_eq!(e.aws_region, "us-east-1");
    assert_eq!(e.account_id, "111122223333");
    assert_eq!(
        e.user_identity.identity_type.as_deref(),
        Some("AssumedRole")
    );
    assert_eq!(
        e.user_identity.session_issuer_arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/Admin")
    );
    assert_eq!(
        e.user_identity.session_issuer_name.as_deref(),
        Some("Admin")
    );
    assert_eq!(e.username, "Admin");
    assert_eq!(e.access_key_id.as_deref(), Some("ASIAEXAMPLE"));
    assert_eq!(e.source_ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(e.user_agent.as_deref(), Some("aws-cli/2"));
    assert_eq!(e.request_id.as_deref(), Some("req-1"));
    assert_eq!(e.event_type.as_deref(), Some("AwsApiCall"));
    assert_eq!(e.error_code, None);
    assert!(!e.read_only);
    assert!(e.is_successful_write());
    assert_eq!(e.resources.len(), 1);
    assert_eq!(
        e.resources[0].resource_type.as_deref(),
        Some("AWS::EC2::SecurityGroup")
    );
    // The record is kept as it came, sub-millisecond time included.
    assert_eq!(e.record, record());
    assert_eq!(e.request_parameters()["groupId"], "sg-1");
}

#[test]
fn records_container_edge_cases() {
    assert!(parse_document(br#"{"Records": null}"#).is_empty());
    assert!(parse_document(br#"{"Records": []}"#).is_empty());
    let (location, reason, _) = single_problem(r#"{"Records": {"eventName": "x"}}"#);
    assert_eq!(location, "Records");
    assert!(reason.contains("expected an array"), "{reason}");
    let (location, reason, _) = single_problem(r#"{"Records": [7]}"#);
    assert_eq!(location, "Records[0]");
    assert!(reason.contains("found a number"), "{reason}");
    // A bad record does not stop the others.
    let doc = json!({"Records": [record(), without(record(), "eventSource"), record()]});
    let records = parse_document(doc.to_string().as_bytes());
    assert_eq!(records.len(), 3);
    assert!(matches!(records[0].outcome, RecordOutcome::Event(_)));
    assert_eq!(records[1].location, "Records[1]");
    assert!(matches!(&records[1].outcome, RecordOutcome::Invalid(r) if r == "missing eventSource"));
    assert!(matches!(records[2].outcome, RecordOutcome::Event(_)));
}

#[test]
fn bare_records_arrays_and_json_lines() {
    let one = record().to_string();
    assert_eq!(events(&one)[0].0, "");
    let array = events(&format!("[{one}, {one}]"));
    assert_eq!(
        array.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["[0]", "[1]"]
    );
    let lines = events(&format!("{one}\n\n{one}\n"));
    assert_eq!(
        lines.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["line 1", "line 3"]
    );
    // eventName alone is not enough to call an object a record.
    let (_, reason, _) = single_problem(r#"{"eventName": "x", "other": 1}"#);
    assert!(reason.contains("unrecognized shape"), "{reason}");
    assert!(reason.contains("CloudTrail record"), "{reason}");
}

#[test]
fn eventbridge_envelope() {
    let doc = json!({
        "version": "0", "id": "e-1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "111122223333", "time": "2024-05-01T09:00:01Z",
        "region": "us-east-1", "resources": [], "detail": record()
    });
    let all = events(&doc.to_string());
    assert_eq!(all[0].0, "detail");
    assert_eq!(all[0].1.event_name, "AuthorizeSecurityGroupIngress");
}

fn lookup_entry(cloudtrail_event: Value) -> Value {
    json!({
        "EventId": "lookup-id", "EventName": "AuthorizeSecurityGroupIngress", "ReadOnly": "true",
        "AccessKeyId": "AKIALOOKUP", "EventTime": 1714554000.5, "EventSource": "ec2.amazonaws.com",
        "Username": "lookup-user", "Resources": [], "CloudTrailEvent": cloudtrail_event
    })
}

#[test]
fn lookup_events_output_and_single_entries() {
    let doc =
        json!({"Events": [lookup_entry(Value::String(record().to_string()))], "NextToken": "t"});
    let all = events(&doc.to_string());
    assert_eq!(all[0].0, "Events[0] > CloudTrailEvent");
    let e = &all[0].1;
    // The record's own fields win over the entry's.
    assert_eq!(e.event_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(format_time(&e.event_time), "2024-05-01T09:00:00.123Z");
    assert_eq!(e.username, "Admin");
    assert!(!e.read_only);
    assert_eq!(e.record, record());

    // A sparse record takes what it lacks from the entry; CloudTrailEvent may be an object.
    let sparse = json!({"eventVersion": "1.08", "awsRegion": "eu-west-1"});
    let line = lookup_entry(sparse.clone()).to_string();
    let all = events(&format!("{line}\n{line}\n"));
    assert_eq!(all[1].0, "line 2 > CloudTrailEvent");
    let e = &all[0].1;
    assert_eq!(e.event_id, "lookup-id");
    assert_eq!(e.event_name, "AuthorizeSecurityGroupIngress");
    assert_eq!(e.event_source, "ec2.amazonaws.com");
    assert_eq!(format_time(&e.event_time), "2024-05-01T09:00:00.500Z");
    assert_eq!(e.username, "lookup-user");
    assert_eq!(e.access_key_id.as_deref(), Some("AKIALOOKUP"));
    assert!(e.read_only);
    assert!(all[0].2.is_empty(), "{:?}", all[0].2);
    assert_eq!(e.record, sparse);

    // EventTime as plaso and the SDKs print it.
    let entry = with(
        lookup_entry(sparse),
        "EventTime",
        json!("2022-02-08 09:23:37+11:00"),
    );
    assert_eq!(
        format_time(&one_event(&entry.to_string()).event_time),
        "2022-02-07T22:23:37.000Z"
    );

    let (location, reason, _) = single_problem(
        &json!({"Events": [lookup_entry(Value::String("{not json".into()))]}).to_string(),
    );
    assert_eq!(location, "Events[0] > CloudTrailEvent");
    assert!(
        reason.starts_with("CloudTrailEvent: string is not valid JSON"),
        "{reason}"
    );
    let (location, reason, _) = single_problem(&lookup_entry(json!([1])).to_string());
    assert_eq!(location, "CloudTrailEvent");
    assert!(reason.contains("found an array"), "{reason}");
    let (_, reason, _) = single_problem(r#"{"Events": 3}"#);
    assert!(reason.contains("lookup-events"), "{reason}");
    let (_, reason, _) = single_problem(r#"{"EventId": "x", "EventName": "y"}"#);
    assert!(reason.contains("without CloudTrailEvent"), "{reason}");
}

#[test]
fn sns_sqs_and_delivery_notifications() {
    let notification =
        json!({"s3Bucket": "my-test-bucket", "s3ObjectKey": ["a.json.gz", "b.json.gz"]});
    let sns = json!({"Type": "Notification", "TopicArn": "arn:aws:sns:x", "Message": notification.to_string()});
    let (location, note, skipped) = single_problem(&sns.to_string());
    assert!(skipped);
    assert_eq!(location, "Message");
    assert_eq!(
        note,
        "CloudTrail delivery notification: names 2 log files in s3://my-test-bucket; ingest those files"
    );
    // SQS around SNS around the notification.
    let sqs = json!({"MessageId": "m-1", "ReceiptHandle": "r", "Body": sns.to_string()});
    let (location, note, skipped) = single_problem(&sqs.to_string());
    assert!(skipped, "{note}");
    assert_eq!(location, "Body > Message");
    // SQS carrying a record, as a Lambda SQS event does.
    let lambda = json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": record().to_string()}]});
    assert_eq!(events(&lambda.to_string())[0].0, "Records[0] > body");
    // SNS to Lambda.
    let lambda_sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "TopicArn": "t", "Message": record().to_string()}}]});
    assert_eq!(
        events(&lambda_sns.to_string())[0].0,
        "Records[0] > Sns > Message"
    );
    let (location, reason, _) =
        single_problem(&json!({"MessageId": "m", "Body": "{oops"}).to_string());
    assert_eq!(location, "");
    assert!(
        reason.starts_with("Body: string is not valid JSON"),
        "{reason}"
    );
    // S3 event notifications share the Records container but are not API calls.
    let s3 = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2024-05-01T09:00:00Z", "s3": {"bucket": {"name": "trail"}, "object": {"key": "AWSLogs/x.json.gz"}}}]});
    let (location, note, skipped) = single_problem(&s3.to_string());
    assert!(skipped);
    assert_eq!(location, "Records[0]");
    assert!(note.contains("s3://trail/AWSLogs/x.json.gz"), "{note}");
}

#[test]
fn digest_files_are_skipped() {
    let digest = json!({
        "awsAccountId": "111122223333", "digestStartTime": "2024-05-01T08:00:00Z",
        "digestEndTime": "2024-05-01T09:00:00Z", "digestS3Bucket": "trail",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz",
        "digestPublicKeyFingerprint": "f", "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": null, "oldestEventTime": null, "previousDigestS3Bucket": null,
        "logFiles": []
    });
    let (_, note, skipped) = single_problem(&digest.to_string());
    assert!(skipped);
    assert_eq!(note, "CloudTrail digest file (integrity chain), no events");
}

#[test]
fn panther_rule_test_lines() {
    let line = |log: Value| {
        json!({"source_path": "rules/x.yml", "RuleID": "R", "test_name": "t", "ExpectedResult": true, "has_mocks": false, "Log": log})
            .to_string()
    };
    let panther_time = with(record(), "eventTime", json!("2021-01-24 04:55:45.000"));
    let doc = format!(
        "{}\n{}\n",
        line(panther_time),
        line(without(record(), "eventTime"))
    );
    let records = parse_document(doc.as_bytes());
    assert_eq!(records[0].location, "line 1 > Log");
    let RecordOutcome::Event(e) = &records[0].outcome else {
        panic!("{records:?}");
    };
    assert_eq!(format_time(&e.event_time), "2021-01-24T04:55:45.000Z");
    assert_eq!(records[1].location, "line 2 > Log");
    assert!(
        matches!(&records[1].outcome, RecordOutcome::Invalid(r) if r == "missing eventTime"),
        "{records:?}"
    );
}

#[test]
fn required_fields_name_what_is_wrong() {
    let cases = [
        (
            with(record(), "eventTime", json!(1714554000)),
            "eventTime: expected a string, found a number",
        ),
        (
            with(record(), "eventTime", json!("yesterday")),
            "eventTime: \"yesterday\" is not a time",
        ),
        (without(record(), "eventName"), "missing eventName"),
        (
            with(record(), "eventSource", json!("")),
            "eventSource: empty",
        ),
        (
            with(
                with(record(), "eventName", Value::Null),
                "eventTime",
                Value::Null,
            ),
            "eventTime: expected a string, found null; eventName: expected a string, found null",
        ),
    ];
    for (rec, want) in cases {
        let doc = json!({"Records": [rec]}).to_string();
        let (location, reason, skipped) = single_problem(&doc);
        assert!(!skipped);
        assert_eq!(location, "Records[0]");
        assert_eq!(reason, want);
    }
}

#[test]
fn missing_event_id_is_derived_stably() {
    let rec = without(record(), "eventID");
    let doc = json!({"Records": [rec.clone()]}).to_string();
    let all = events(&doc);
    let (_, e, warnings) = &all[0];
    assert!(e.event_id.starts_with("conftrail-"), "{}", e.event_id);
    assert_eq!(e.event_id.len(), "conftrail-".len() + 32);
    assert_eq!(
        warnings,
        &vec![format!("eventID missing: derived {}", e.event_id)]
    );
    // Same record, other key order and spacing: same id. Another record: another id.
    let reordered = format!(
        "{{\n  \"eventName\": \"AuthorizeSecurityGroupIngress\", {}",
        &rec.to_string()[1..]
    );
    assert_eq!(one_event(&reordered).event_id, e.event_id);
    assert_eq!(derived_event_id(&rec), e.event_id);
    let other = with(rec, "awsRegion", json!("eu-west-1"));
    assert_ne!(derived_event_id(&other), e.event_id);
    let empty = one_event(&with(record(), "eventID", json!("")).to_string());
    assert!(empty.event_id.starts_with("conftrail-"));
    let (_, numeric, warnings) = events(&with(record(), "eventID", json!(7)).to_string()).remove(0);
    assert!(numeric.event_id.starts_with("conftrail-"));
    assert_eq!(
        warnings,
        [format!(
            "eventID: expected a string, found a number; derived {}",
            numeric.event_id
        )]
    );
}

#[test]
fn odd_values_are_tolerated() {
    let mut rec = record();
    if let Some(obj) = rec.as_object_mut() {
        obj.insert("requestParameters".into(), Value::Null);
        obj.insert("readOnly".into(), json!("True"));
        obj.insert("@timestamp".into(), json!("2024-05-01T09:00:00.000Z"));
        obj.insert("@version".into(), json!("1"));
        obj.insert("brandNewField".into(), json!({"x": [1, 2]}));
        obj.insert(
            "resources".into(),
            json!([{"arn": "arn:aws:iam::1:role/R"}, "junk", {}]),
        );
        obj.insert(
            "userIdentity".into(),
            json!({"type": "IAMUser", "userName": 5, "invokedBy": null, "arn": "arn:aws:iam::1:user/bob", "sessionContext": "x"}),
        );
        obj.insert("sourceIPAddress".into(), json!(["a"]));
        obj.remove("recipientAccountId");
    }
    let all = events(&rec.to_string());
    let (_, e, warnings) = &all[0];
    assert!(e.read_only);
    assert_eq!(e.request_parameters(), &Value::Null);
    assert_eq!(e.resources[0].arn.as_deref(), Some("arn:aws:iam::1:role/R"));
    assert_eq!(e.resources.len(), 2);
    assert_eq!(e.user_identity.user_name, None);
    assert_eq!(e.username, "bob");
    assert_eq!(e.source_ip_address, None);
    assert_eq!(e.account_id, "");
    assert_eq!(e.record["brandNewField"]["x"][1], 2);
    let joined = warnings.join("\n");
    for want in [
        "resources[1]: expected an object, found a string; skipped",
        "userIdentity.userName: expected a string, found a number; ignored",
        "userIdentity.sessionContext: expected an object, found a string; ignored",
        "sourceIPAddress: expected a string, found an array; left empty",
    ] {
        assert!(joined.contains(want), "{joined} lacks {want}");
    }
    assert_eq!(warnings.len(), 4, "{joined}");

    // A Logstash export without eventTime: @timestamp is the time.
    let logstash = with(
        without(record(), "eventTime"),
        "@timestamp",
        json!("2020-09-14T00:44:23.000Z"),
    );
    let all = events(&logstash.to_string());
    assert_eq!(
        format_time(&all[0].1.event_time),
        "2020-09-14T00:44:23.000Z"
    );
    assert!(all[0].2[0].contains("@timestamp"), "{:?}", all[0].2);
}

#[test]
fn account_falls_back_to_caller_then_resources() {
    let no_recipient = without(record(), "recipientAccountId");
    let mut caller = no_recipient.clone();
    caller["userIdentity"]["accountId"] = json!("222233334444");
    assert_eq!(one_event(&caller.to_string()).account_id, "222233334444");
    let resource_only = with(no_recipient, "userIdentity", Value::Null);
    let e = one_event(&resource_only.to_string());
    assert_eq!(e.account_id, "111122223333");
    assert_eq!(e.username, "");
    assert_eq!(e.user_identity, crate::model::UserIdentity::default());
}

#[test]
fn read_only_is_inferred_from_the_name_when_absent() {
    for name in [
        "GetObject",
        "DescribeInstances",
        "ListBuckets",
        "HeadObject",
        "LookupEvents",
        "BatchGetSecretValue",
        "Search",
        "ScanTable",
        "Query",
        "Get",
    ] {
        assert!(name_reads_only(name), "{name}");
    }
    for name in [
        "Listen",
        "Getaway",
        "ConsoleLogin",
        "PutBucketPolicy",
        "CreateSecurityGroup",
        "",
    ] {
        assert!(!name_reads_only(name), "{name}");
    }
    let rec = with(
        without(record(), "readOnly"),
        "eventName",
        json!("DescribeSecurityGroups"),
    );
    assert!(one_event(&rec.to_string()).read_only);
    let rec = with(
        without(record(), "readOnly"),
        "eventName",
        json!("ConsoleLogin"),
    );
    assert!(!one_event(&rec.to_string()).read_only);
    let (_, e, warnings) =
        events(&with(record(), "readOnly", json!("maybe")).to_string()).remove(0);
    assert!(!e.read_only);
    assert!(warnings[0].starts_with("readOnly: expected true or false"));
}

#[test]
fn config_items_are_not_mistaken_for_records() {
    // A configuration item that happens to carry CloudTrail-like keys stays an item.
    let doc = json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "eventName": "x", "eventTime": "2024-01-01"});
    let records = parse_document(doc.to_string().as_bytes());
    assert!(
        matches!(records[0].outcome, RecordOutcome::Item(_)),
        "{records:?}"
    );
}

#[test]
fn loose_fields_are_refused_naming_the_field() {
    let huge = "x".repeat(10_000);
    let mut identity = record()["userIdentity"].clone();
    identity["userName"] = json!(huge);
    let cases = [
        (
            with(record(), "eventName", json!(huge)),
            "eventName: 10000 characters, more than the 256 allowed",
        ),
        (
            with(record(), "userIdentity", identity),
            "userIdentity.userName: 10000 characters, more than the 2048 allowed",
        ),
        (
            with(record(), "eventTime", json!("0000-01-01T00:00:00Z")),
            "eventTime: 0000-01-01T00:00:00.000Z is outside the years 1970 to 2199",
        ),
        (
            with(record(), "eventTime", json!("-2024-05-01T00:00:00Z")),
            "eventTime:",
        ),
    ];
    for (doc, want) in cases {
        let (_, reason, skipped) = single_problem(&doc.to_string());
        assert!(!skipped, "{reason}");
        assert!(reason.contains(want), "{reason} (wanted {want})");
    }
}
