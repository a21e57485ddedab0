//! Every supported input shape, written inline so each case shows what it covers.

use super::*;
use crate::model::ItemStatus;
use serde_json::json;

fn items(doc: &str) -> Vec<ConfigurationItem> {
    parse_document(doc.as_bytes())
        .into_iter()
        .map(|r| match r.outcome {
            RecordOutcome::Item(item) => *item,
            other => panic!("{}: expected an item, got {other:?}", r.location),
        })
        .collect()
}

fn single_problem(doc: &str) -> (String, String) {
    let records = parse_document(doc.as_bytes());
    assert_eq!(records.len(), 1, "{records:?}");
    match &records[0].outcome {
        RecordOutcome::Invalid(reason) | RecordOutcome::Skipped(reason) => {
            (records[0].location.clone(), reason.clone())
        }
        RecordOutcome::Item(_) | RecordOutcome::Event(_) => {
            panic!("expected a problem, got a record")
        }
    }
}

const STREAM_V13: &str = r#"{
  "configurationItemVersion": "1.3", "awsAccountId": "111122223333",
  "configurationItemCaptureTime": "2024-05-01T09:00:00.123Z", "configurationItemStatus": "OK",
  "configurationStateId": 1714554000123, "configurationStateMd5Hash": "",
  "ARN": "arn:aws:ec2:us-east-1:111122223333:security-group/sg-1", "resourceType": "AWS::EC2::SecurityGroup",
  "resourceId": "sg-1", "resourceName": "web", "awsRegion": "us-east-1", "availabilityZone": "Not Applicable",
  "resourceCreationTime": null, "tags": {"team": "web"}, "relatedEvents": [],
  "relationships": [{"resourceId": "vpc-1", "resourceName": null, "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"}],
  "configuration": {"groupId": "sg-1", "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}]},
  "supplementaryConfiguration": {}, "recordingFrequency": "CONTINUOUS"
}"#;

#[test]
fn stream_form_v13() {
    let item = &items(STREAM_V13)[0];
    assert_eq!(item.item_version.as_deref(), Some("1.3"));
    assert_eq!(item.account_id, "111122223333");
    assert_eq!(item.aws_region, "us-east-1");
    assert_eq!(item.configuration_state_id, Some(json!(1714554000123_i64)));
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws:ec2:us-east-1:111122223333:security-group/sg-1")
    );
    assert_eq!(item.relationships[0].name, "Is contained in Vpc");
    assert_eq!(item.configuration["ipPermissions"][0]["fromPort"], 22);
    assert_eq!(item.recording_frequency.as_deref(), Some("CONTINUOUS"));
    assert_eq!(
        crate::model::format_time(&item.configuration_item_capture_time),
        "2024-05-01T09:00:00.123Z"
    );
}

#[test]
fn api_form_v12_with_string_configuration_and_double_encoded_acl() {
    let acl = json!({"grantList": [{"grantee": "AllUsers", "permission": "Read"}]}).to_string();
    let doc = json!({
        "version": "1.2", "accountId": "111122223333", "configurationItemCaptureTime": 1481454243.8,
        "configurationItemStatus": "ResourceDiscovered", "configurationStateId": "1481454243800",
        "configurationItemMD5Hash": "abc", "arn": "arn:aws:s3:::b", "resourceType": "AWS::S3::Bucket",
        "resourceId": "b", "awsRegion": "us-east-2",
        "relationships": [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-1", "relationshipName": "Is contained in Vpc"}],
        "configuration": json!({"name": "b"}).to_string(),
        "supplementaryConfiguration": {
            "AccessControlList": serde_json::to_string(&acl).unwrap(),
            "BucketVersioningConfiguration": "{\"status\":\"Enabled\"}",
            "IsRequesterPaysEnabled": "false",
            "SomePlainText": "Enabled"
        }
    });
    let item = &items(&doc.to_string())[0];
    assert_eq!(item.item_version.as_deref(), Some("1.2"));
    assert_eq!(item.md5_hash.as_deref(), Some("abc"));
    assert_eq!(item.configuration_state_id, Some(json!(1481454243800_i64)));
    assert_eq!(
        item.configuration_item_status,
        ItemStatus::ResourceDiscovered
    );
    assert_eq!(
        crate::model::format_time(&item.configuration_item_capture_time),
        "2016-12-11T11:04:03.800Z"
    );
    assert_eq!(item.configuration, json!({"name": "b"}));
    let sup = &item.supplementary_configuration;
    assert_eq!(
        sup["AccessControlList"]["grantList"][0]["grantee"],
        "AllUsers"
    );
    assert_eq!(sup["BucketVersioningConfiguration"]["status"], "Enabled");
    assert_eq!(sup["IsRequesterPaysEnabled"], json!(false));
    assert_eq!(sup["SomePlainText"], "Enabled");
    assert_eq!(item.relationships[0].name, "Is contained in Vpc");
}

#[test]
fn containers_arrays_history_files_and_json_lines() {
    let one = STREAM_V13.replace('\n', " ");
    assert_eq!(items(&format!("[{one}, {one}]")).len(), 2);
    assert_eq!(
        items(&format!(
            "{{\"fileVersion\": \"1.0\", \"configurationItems\": [{one}, {one}, {one}]}}"
        ))
        .len(),
        3
    );
    assert_eq!(items(&format!("{one}\n\n{one}\n")).len(), 2);
    assert_eq!(
        items(&format!(
            "{{\"status_code\": 200, \"data\": {{\"configurationItems\": [{one}]}}}}"
        ))
        .len(),
        1
    );
}

#[test]
fn notifications_bare_sns_eventbridge_and_rule_invocation() {
    let notification = format!(
        "{{\"configurationItemDiff\": null, \"configurationItem\": {STREAM_V13}, \"messageType\": \"ConfigurationItemChangeNotification\", \"notificationCreationTime\": \"2024-05-01T09:00:01Z\"}}"
    );
    assert_eq!(items(&notification)[0].resource_id, "sg-1");
    let value: serde_json::Value = serde_json::from_str(&notification).unwrap();
    let sns_string =
        json!({"Type": "Notification", "TopicArn": "arn:aws:sns:x", "Message": value.to_string()});
    let sns_object =
        json!({"Type": "Notification", "TopicArn": "arn:aws:sns:x", "Message": value.clone()});
    let eventbridge = json!({"detail-type": "Config Configuration Item Change", "source": "aws.config", "detail": value.clone()});
    let invocation =
        json!({"invokingEvent": value.to_string(), "ruleParameters": "{}", "configRuleName": "r"});
    for doc in [sns_string, sns_object, eventbridge, invocation] {
        let records = parse_document(doc.to_string().as_bytes());
        assert_eq!(records.len(), 1, "{doc}");
        assert!(
            matches!(records[0].outcome, RecordOutcome::Item(_)),
            "{doc}: {records:?}"
        );
    }
    let (location, _) = {
        let records = parse_document(sns_string_with_bad_item().as_bytes());
        (records[0].location.clone(), ())
    };
    assert_eq!(location, "Message > configurationItem");
}

fn sns_string_with_bad_item() -> String {
    let message = json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {"resourceType": "AWS::S3::Bucket"}});
    json!({"Type": "Notification", "TopicArn": "t", "Message": message.to_string()}).to_string()
}

#[test]
fn generic_shape_defaults_account_region_and_time() {
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let item = &items(
        r#"{"resourceType": "Custom::Thing", "resourceId": "t-1", "configuration": {"a": 1}, "tags": [{"Key": "k", "Value": "v"}]}"#,
    )[0];
    assert_eq!(item.account_id, "");
    assert_eq!(item.aws_region, "");
    assert_eq!(item.configuration_item_status, ItemStatus::Ok);
    assert!(item.configuration_item_capture_time >= before);
    assert_eq!(item.tags["k"], "v");
    let with_time = &items(
        r#"{"resourceType": "Custom::Thing", "resourceId": "t-1", "captureTime": "2024-01-02", "accountId": "a", "region": "r"}"#,
    )[0];
    assert_eq!(
        crate::model::format_time(&with_time.configuration_item_capture_time),
        "2024-01-02T00:00:00.000Z"
    );
    assert_eq!(
        (with_time.account_id.as_str(), with_time.aws_region.as_str()),
        ("a", "r")
    );
}

#[test]
fn notes_for_records_without_items() {
    let (_, note) =
        single_problem(r#"{"messageType": "ScheduledNotification", "awsAccountId": "1"}"#);
    assert!(note.contains("ScheduledNotification"), "{note}");
    let (_, note) = single_problem(
        r#"{"invokingEvent": "{\"messageType\":\"OversizedConfigurationItemChangeNotification\",\"configurationItemSummary\":{}}"}"#,
    );
    assert!(note.contains("oversized"), "{note}");
    let (_, note) = single_problem(
        r#"{"awsAccountId": "1", "digestStartTime": "2024-05-01T08:00:00Z", "digestEndTime": "2024-05-01T09:00:00Z", "logFiles": []}"#,
    );
    assert!(note.contains("CloudTrail digest"), "{note}");
}

#[test]
fn precise_errors_name_the_field_and_place() {
    let cases = [
        (
            r#"{"resourceType": "AWS::S3::Bucket"}"#,
            "",
            "missing resourceId",
        ),
        (
            r#"{"resourceType": "T", "resourceId": 7}"#,
            "",
            "resourceId: expected a string, found a number",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x", "configurationItemCaptureTime": "datetime.datetime(2020, 4, 22)"}"#,
            "",
            "configurationItemCaptureTime: invalid timestamp",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x", "configuration": "{not json"}"#,
            "",
            "configuration: string is not valid JSON",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x", "relationships": [{"name": "n"}]}"#,
            "",
            "missing relationships[0].resourceType",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x", "tags": 5}"#,
            "",
            "tags: expected an object",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x", "configurationStateId": [1]}"#,
            "",
            "configurationStateId: expected a number or string, found an array",
        ),
        (
            r#"{"resourceType": "T", "resourceId": "x\u0000y"}"#,
            "",
            "resourceId: contains a NUL character",
        ),
        (r#"{"hello": 1}"#, "", "unrecognized shape"),
        (r#"[1]"#, "[0]", "expected a JSON object, found a number"),
        (
            r#"{"configurationItems": [{"resourceType": "T"}]}"#,
            "configurationItems[0]",
            "missing resourceId",
        ),
        (
            "{\"resourceType\": \"T\",",
            "",
            "not valid JSON: EOF while parsing a value at line 1 column 21",
        ),
        ("  \n ", "", "empty document"),
    ];
    for (doc, want_location, want_reason) in cases {
        let (location, reason) = single_problem(doc);
        assert_eq!(location, want_location, "{doc}");
        assert!(
            reason.contains(want_reason),
            "{doc}: {reason:?} lacks {want_reason:?}"
        );
    }
}

#[test]
fn json_lines_report_bad_lines_and_keep_the_rest() {
    let doc = format!(
        "{}\n{{broken\n{}\n",
        STREAM_V13.replace('\n', " "),
        STREAM_V13.replace('\n', " ")
    );
    let records = parse_document(doc.as_bytes());
    assert_eq!(records.len(), 3);
    assert!(matches!(records[0].outcome, RecordOutcome::Item(_)));
    assert_eq!(records[1].location, "line 2");
    assert!(
        matches!(&records[1].outcome, RecordOutcome::Invalid(r) if r.contains("not valid JSON"))
    );
    assert!(matches!(records[2].outcome, RecordOutcome::Item(_)));
}

#[test]
fn relationships_are_put_in_canonical_order() {
    let doc = json!({"resourceType": "T", "resourceId": "x", "relationships": [
        {"resourceType": "B", "resourceId": "2", "name": "n"},
        {"resourceType": "A", "resourceId": "1", "name": "n"}
    ]});
    let item = &items(&doc.to_string())[0];
    assert_eq!(item.relationships[0].resource_type, "A");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (_, reason) = single_problem(&deep);
    assert!(reason.contains("recursion limit"), "{reason}");
}

#[test]
fn odd_optional_fields_are_kept_or_dropped_with_a_warning() {
    let records = parse_document(
        br#"{"resourceType": "T", "resourceId": "x", "configurationStateId": "test",
             "resourceCreationTime": "datetime.datetime(2020, 1, 16, 0, 0)"}"#,
    );
    let RecordOutcome::Item(item) = &records[0].outcome else {
        panic!("expected an item: {records:?}");
    };
    assert_eq!(item.configuration_state_id, Some(json!("test")));
    assert_eq!(item.resource_creation_time, None);
    assert_eq!(records[0].warnings.len(), 1);
    assert!(records[0].warnings[0].starts_with("resourceCreationTime: invalid timestamp"));
}

#[test]
fn early_notifications_hold_a_list_and_no_region() {
    let doc = json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": [{
        "configurationItemVersion": "1.0", "resourceType": "AWS::EC2::VOLUME", "resourceId": "vol-1",
        "accountId": "123", "availabilityZone": "us-west-2b", "configurationItemCaptureTime": "2014-03-07T23:47:08.918Z"
    }]});
    let records = parse_document(doc.to_string().as_bytes());
    assert_eq!(records[0].location, "configurationItem[0]");
    let RecordOutcome::Item(item) = &records[0].outcome else {
        panic!("expected an item: {records:?}");
    };
    assert_eq!(item.aws_region, "us-west-2");
}

fn stream_v13_with(field: &str, value: serde_json::Value) -> String {
    let mut item: serde_json::Value = serde_json::from_str(STREAM_V13).unwrap_or_default();
    item[field] = value;
    item.to_string()
}

#[test]
fn loose_fields_are_refused_naming_the_field() {
    let huge = "x".repeat(10_000);
    let cases = [
        (
            stream_v13_with("resourceType", json!(huge)),
            "resourceType: 10000 characters, more than the 196 allowed",
        ),
        (
            stream_v13_with("tags", json!({ huge.clone(): "v" })),
            "tags: a key: 10000 characters, more than the 128 allowed",
        ),
        (
            stream_v13_with("tags", json!({ "team": huge })),
            "tags.team: 10000 characters, more than the 256 allowed",
        ),
        (
            stream_v13_with("configurationItemStatus", json!("Whatever")),
            "configurationItemStatus: \"Whatever\" is not one of OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, ResourceDeletedNotRecorded",
        ),
        (
            stream_v13_with("configurationItemCaptureTime", json!("0000-01-01T00:00:00Z")),
            "configurationItemCaptureTime: 0000-01-01T00:00:00.000Z is outside the years 1970 to 2199",
        ),
        (
            stream_v13_with("configurationItemCaptureTime", json!("-2024-05-01")),
            "configurationItemCaptureTime:",
        ),
    ];
    for (doc, want) in cases {
        let (_, reason) = single_problem(&doc);
        assert!(reason.contains(want), "{reason} (wanted {want})");
    }
}

#[test]
fn epoch_microseconds_are_read_as_microseconds() {
    let doc = stream_v13_with("configurationItemCaptureTime", json!(1714554000123000_u64));
    let item = &items(&doc)[0];
    assert_eq!(
        crate::model::format_time(&item.configuration_item_capture_time),
        "2024-05-01T09:00:00.123Z"
    );
}
