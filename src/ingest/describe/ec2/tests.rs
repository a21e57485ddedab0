//! The security group mapping: AWS Config's shape, the region, field errors, and the
//! containers ingest finds groups in.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ItemStatus, Relationship};
use serde_json::json;

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

/// A group as `aws ec2 describe-security-groups` prints it, with every kind of source.
fn web_group() -> Value {
    json!({
        "Description": "web tier",
        "GroupName": "web",
        "IpPermissions": [
            {"FromPort": 22, "IpProtocol": "tcp",
             "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "anywhere"}, {"CidrIp": "10.0.0.0/8"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
             "PrefixListIds": [{"PrefixListId": "pl-1234", "Description": "s3"}],
             "ToPort": 22,
             "UserIdGroupPairs": [{"GroupId": "sg-0peer", "UserId": "111122223333", "Description": null}]},
            {"FromPort": 8, "IpProtocol": "icmp", "IpRanges": [], "Ipv6Ranges": [],
             "PrefixListIds": [], "ToPort": -1, "UserIdGroupPairs": []}
        ],
        "OwnerId": "111122223333",
        "GroupId": "sg-0web",
        "IpPermissionsEgress": [
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
             "PrefixListIds": [], "UserIdGroupPairs": []}
        ],
        "Tags": [{"Key": "team", "Value": "web"}, {"Key": "Name", "Value": "web-sg"}],
        "VpcId": "vpc-0abc"
    })
}

#[test]
fn a_group_becomes_aws_configs_item() {
    let described = security_group_item(web_group(), Some("eu-west-1"), at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let item = described.item;
    // As AWS Config 1.3 writes it: camelCase, IpRanges as ipv4Ranges plus the legacy ipRanges,
    // no ports for protocol -1, null members left out.
    assert_eq!(
        item.configuration,
        json!({
            "description": "web tier",
            "groupName": "web",
            "ipPermissions": [
                {"fromPort": 22, "ipProtocol": "tcp",
                 "ipv6Ranges": [{"cidrIpv6": "::/0"}],
                 "prefixListIds": [{"prefixListId": "pl-1234", "description": "s3"}],
                 "toPort": 22,
                 "userIdGroupPairs": [{"groupId": "sg-0peer", "userId": "111122223333"}],
                 "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "anywhere"}, {"cidrIp": "10.0.0.0/8"}],
                 "ipRanges": ["0.0.0.0/0", "10.0.0.0/8"]},
                {"fromPort": 8, "ipProtocol": "icmp", "ipv6Ranges": [], "prefixListIds": [],
                 "toPort": -1, "userIdGroupPairs": [], "ipv4Ranges": [], "ipRanges": []}
            ],
            "ownerId": "111122223333",
            "groupId": "sg-0web",
            "ipPermissionsEgress": [
                {"ipProtocol": "-1", "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": [],
                 "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}
            ],
            "tags": [{"key": "team", "value": "web"}, {"key": "Name", "value": "web-sg"}],
            "vpcId": "vpc-0abc"
        })
    );
    assert_eq!(item.resource_type, "AWS::EC2::SecurityGroup");
    assert_eq!(item.resource_id, "sg-0web");
    assert_eq!(item.resource_name.as_deref(), Some("web"));
    assert_eq!(item.account_id, "111122223333");
    assert_eq!(item.aws_region, "eu-west-1");
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0web")
    );
    assert_eq!(item.availability_zone.as_deref(), Some("Not Applicable"));
    assert_eq!(item.item_version.as_deref(), Some("1.3"));
    assert_eq!(item.configuration_item_status, ItemStatus::Ok);
    assert_eq!(item.configuration_item_capture_time, at());
    assert_eq!(item.configuration_state_id, None);
    assert_eq!(
        item.tags.into_iter().collect::<Vec<_>>(),
        [
            ("Name".to_string(), "web-sg".to_string()),
            ("team".to_string(), "web".to_string())
        ]
    );
    assert_eq!(
        item.relationships,
        [Relationship {
            resource_type: "AWS::EC2::VPC".to_string(),
            resource_id: Some("vpc-0abc".to_string()),
            resource_name: None,
            name: "Is contained in Vpc".to_string(),
        }]
    );
    assert!(item.related_events.is_empty() && item.supplementary_configuration.is_empty());
}

#[test]
fn a_group_without_tags_vpc_or_lists_gets_empty_lists_and_no_relationship() {
    let group = json!({"GroupId": "sg-1", "OwnerId": "111122223333", "GroupName": "classic",
        "Description": "EC2-Classic"});
    let item = security_group_item(group, Some("us-east-1"), at())
        .expect("mapped")
        .item;
    assert_eq!(
        item.configuration,
        json!({"description": "EC2-Classic", "groupName": "classic", "ipPermissions": [],
            "ownerId": "111122223333", "groupId": "sg-1", "ipPermissionsEgress": [], "tags": []})
    );
    assert!(item.relationships.is_empty() && item.tags.is_empty());
}

#[test]
fn the_region_comes_from_the_caller_or_the_groups_own_arn_or_is_left_empty() {
    // Newer output carries the group's ARN: its region and partition are used.
    let mut group = web_group();
    group["SecurityGroupArn"] =
        json!("arn:aws-cn:ec2:cn-north-1:111122223333:security-group/sg-0web");
    let described = security_group_item(group.clone(), None, at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    assert_eq!(described.item.aws_region, "cn-north-1");
    assert_eq!(
        described.item.arn.as_deref(),
        Some("arn:aws-cn:ec2:cn-north-1:111122223333:security-group/sg-0web")
    );
    // AWS Config's configuration does not show the ARN.
    assert!(described
        .item
        .configuration
        .get("securityGroupArn")
        .is_none());

    let gov = security_group_item(web_group(), Some("us-gov-west-1"), at()).expect("mapped");
    assert_eq!(
        gov.item.arn.as_deref(),
        Some("arn:aws-us-gov:ec2:us-gov-west-1:111122223333:security-group/sg-0web")
    );

    for region in [None, Some("")] {
        let described = security_group_item(web_group(), region, at()).expect("mapped");
        assert_eq!(described.item.aws_region, "");
        assert_eq!(
            described.item.arn.as_deref(),
            Some("arn:aws:ec2::111122223333:security-group/sg-0web")
        );
        assert_eq!(described.warnings.len(), 1, "{:?}", described.warnings);
        assert!(
            described.warnings[0].starts_with("awsRegion: "),
            "{:?}",
            described.warnings
        );
    }
}

#[test]
fn a_malformed_group_is_one_error_naming_the_field() {
    let cases: [(&str, Value, &str); 10] = [
        ("/GroupId", Value::Null, "missing GroupId"),
        ("/GroupId", json!(""), "GroupId: empty"),
        (
            "/GroupId",
            json!(12),
            "GroupId: expected a string, found a number",
        ),
        ("/OwnerId", Value::Null, "missing OwnerId"),
        (
            "/GroupName",
            json!(["web"]),
            "GroupName: expected a string, found an array",
        ),
        (
            "/IpPermissions/0/FromPort",
            json!("22"),
            "IpPermissions[0].FromPort: expected an integer, found a string",
        ),
        (
            "/IpPermissions/0/IpRanges/1",
            json!({"Description": "no cidr"}),
            "missing IpPermissions[0].IpRanges[1].CidrIp",
        ),
        (
            "/IpPermissionsEgress/0",
            json!("all"),
            "IpPermissionsEgress[0]: expected an object, found a string",
        ),
        (
            "/Tags",
            json!({"team": "web"}),
            "Tags: expected an array, found an object",
        ),
        ("/Tags/1/Key", Value::Null, "missing Tags[1].Key"),
    ];
    for (pointer, value, want) in cases {
        let mut group = web_group();
        *group.pointer_mut(pointer).expect(pointer) = value;
        let got = security_group_item(group, Some("eu-west-1"), at()).map(|d| d.item.resource_id);
        assert_eq!(
            got.map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{pointer}"
        );
    }
    assert_eq!(
        security_group_item(json!([]), None, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err("expected a security group (an object), found an array".to_string())
    );
    // The checks every item passes apply too.
    let mut group = web_group();
    group["Tags"] = json!([{"Key": "k".repeat(200), "Value": "v"}]);
    let err = security_group_item(group, Some("eu-west-1"), at())
        .map(|d| d.item.resource_id)
        .map_err(|e| e.to_string());
    assert!(
        err.as_ref()
            .is_err_and(|e| e.starts_with("tags: a key: 200 characters")),
        "{err:?}"
    );
}

/// Each record's location and what became of it (`item <id>` or the reason).
fn records(doc: &Value) -> Vec<(String, String)> {
    parse_document(doc.to_string().as_bytes())
        .into_iter()
        .map(|r| {
            let what = match r.outcome {
                RecordOutcome::Item(item) => format!("item {}", item.resource_id),
                RecordOutcome::Invalid(reason) => reason,
                other => format!("{other:?}"),
            };
            (r.location, what)
        })
        .collect()
}

#[test]
fn ingest_finds_groups_in_cli_output_sdk_recordings_and_bare() {
    let mut broken = web_group();
    broken["GroupId"] = Value::Null;
    let groups = json!([web_group(), broken, {"GroupId": "sg-2", "OwnerId": "111122223333"}]);
    let want = |prefix: &str| {
        vec![
            (format!("{prefix}[0]"), "item sg-0web".to_string()),
            (format!("{prefix}[1]"), "missing GroupId".to_string()),
            (format!("{prefix}[2]"), "item sg-2".to_string()),
        ]
    };
    // aws ec2 describe-security-groups, paginated or not.
    assert_eq!(
        records(&json!({"SecurityGroups": groups.clone(), "NextToken": "abc"})),
        want("SecurityGroups")
    );
    // A boto response recorded by placebo.
    let recorded = json!({"status_code": 200, "data": {"SecurityGroups": groups,
        "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "r-1"}}});
    assert_eq!(records(&recorded), want("data > SecurityGroups"));
    // --query 'SecurityGroups': the groups on their own.
    assert_eq!(
        records(&json!([web_group()])),
        [("[0]".to_string(), "item sg-0web".to_string())]
    );
    assert_eq!(
        records(&json!({"SecurityGroups": "none"})),
        [(
            "SecurityGroups".to_string(),
            "expected an array of security groups, found a string".to_string()
        )]
    );
    // Each item says the region is unknown.
    let parsed = parse_document(
        json!({"SecurityGroups": [web_group()]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].warnings.len(), 1, "{:?}", parsed[0].warnings);
}
