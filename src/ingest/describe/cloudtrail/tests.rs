//! The trail mapping: AWS Config's own item for the same trail, what the collector adds, the
//! region, field errors, and a file of describe-trails output.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ConfigurationItem};

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

fn aws_item() -> ConfigurationItem {
    let path = format!(
        "{}/tests/data/realdata/config_items/rdk_example_ci/AWS_Cloudtrail_Trail.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match parse_document(&bytes).remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{path}: {other:?}"),
    }
}

/// `rdk_example_ci/AWS_Cloudtrail_Trail.json`'s trail as DescribeTrails lists it.
fn rdk_trail() -> Value {
    json!({
        "Name": "APJCCloudTrail",
        "S3BucketName": "mborch-apjc-cloudtrail-bucket",
        "S3KeyPrefix": "CloudTrail",
        "IncludeGlobalServiceEvents": true,
        "IsMultiRegionTrail": true,
        "HomeRegion": "ap-southeast-1",
        "TrailARN": "arn:aws:cloudtrail:ap-southeast-1:123456789012:trail/APJCCloudTrail",
        "LogFileValidationEnabled": true,
        "HasCustomEventSelectors": true
    })
}

#[test]
fn a_trail_is_aws_configs_item_for_it() {
    let aws = aws_item();
    let extras = TrailExtras {
        tags: Some(Vec::new()),
        ..TrailExtras::default()
    };
    let ours = trail_item(rdk_trail(), None, extras, at()).unwrap().item;
    assert_eq!(ours.configuration, aws.configuration);
    assert_eq!(
        ours.supplementary_configuration,
        aws.supplementary_configuration
    );
    assert_eq!(
        (
            &ours.resource_type,
            &ours.resource_id,
            &ours.aws_region,
            &ours.arn
        ),
        (
            &aws.resource_type,
            &aws.resource_id,
            &aws.aws_region,
            &aws.arn
        )
    );
    assert_eq!(ours.availability_zone, aws.availability_zone);
    // The item's account is the trail's (the RDK example's accountId is another one's).
    assert_eq!(ours.account_id, "123456789012");
}

#[test]
fn the_collector_adds_logging_status_selectors_and_tags() {
    let extras = TrailExtras {
        status: Some(json!({"IsLogging": false, "LatestDeliveryTime": "2025-03-01T09:00:00Z"})),
        event_selectors: Some(json!({
            "TrailARN": "arn:aws:cloudtrail:ap-southeast-1:123456789012:trail/APJCCloudTrail",
            "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]
        })),
        tags: Some(vec![json!({"Key": "team", "Value": "sec"})]),
    };
    let item = trail_item(rdk_trail(), Some("ap-southeast-1"), extras, at())
        .unwrap()
        .item;
    let supplementary = &item.supplementary_configuration;
    // The delivery times move on every delivery: left out.
    assert_eq!(supplementary["TrailStatus"], json!({"isLogging": false}));
    assert_eq!(
        supplementary["EventSelectors"],
        json!({"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true,
            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]})
    );
    assert_eq!(
        supplementary["Tags"],
        json!([{"key": "team", "value": "sec"}])
    );
    assert_eq!(item.tags.get("team").map(String::as_str), Some("sec"));
}

#[test]
fn the_region_is_the_trails_home() {
    let cases: [(Value, Option<&str>, &str); 3] = [
        (rdk_trail(), Some("us-east-1"), "ap-southeast-1"),
        (
            json!({"Name": "t", "TrailARN": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t"}),
            Some("eu-central-1"),
            "eu-central-1",
        ),
        (
            json!({"Name": "t", "TrailARN": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t"}),
            None,
            "eu-west-1",
        ),
    ];
    for (trail, region, expected) in cases {
        let item = trail_item(trail, region, TrailExtras::default(), at())
            .unwrap()
            .item;
        assert_eq!(item.aws_region, expected);
    }
}

#[test]
fn bad_trails_name_the_field() {
    let cases: [(Value, &str); 4] = [
        (
            json!({"TrailARN": "arn:aws:cloudtrail:eu-west-1:1:trail/t"}),
            "missing Name",
        ),
        (json!({"Name": "t"}), "missing TrailARN"),
        (
            json!({"Name": "t", "TrailARN": "arn:aws:cloudtrail:eu-west-1:1:trail/t", "IsMultiRegionTrail": "yes"}),
            "IsMultiRegionTrail: expected a boolean",
        ),
        (json!(["t"]), "expected a CloudTrail trail (an object)"),
    ];
    for (trail, expected) in cases {
        let e = trail_item(trail, None, TrailExtras::default(), at())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{e} (wanted {expected})");
    }
}

#[test]
fn a_file_of_describe_trails_output_gives_a_trail_each() {
    let path = format!(
        "{}/tests/data/describe/iam/describe-trails.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let records = parse_document(&std::fs::read(&path).unwrap());
    let names: Vec<(String, String)> = records
        .iter()
        .map(|r| match &r.outcome {
            RecordOutcome::Item(item) => (r.location.clone(), item.resource_id.clone()),
            other => panic!("{}: {other:?}", r.location),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("trailList[0]".to_string(), "audit".to_string()),
            ("trailList[1]".to_string(), "paused".to_string())
        ]
    );
    let records = parse_document(br#"{"trailList": {"Name": "t"}}"#);
    assert!(
        matches!(&records[0].outcome, RecordOutcome::Invalid(e) if e.contains("an array of trails")),
        "{records:?}"
    );
}
