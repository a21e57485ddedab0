//! Tests of the event-resource table on real records (trimmed excerpts from Stratus Red Team,
//! plaso, Cloud Custodian and Panther test data, Apache-2.0).

use super::*;
use crate::model::{parse_timestamp_text, EventResource, UserIdentity};
use serde_json::json;

/// An ApiEvent built directly from a (trimmed) record.
fn event(record: Value) -> ApiEvent {
    let text = |key: &str| {
        record
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let resources: Vec<EventResource> = record
        .get("resources")
        .filter(|r| !r.is_null())
        .map(|r| serde_json::from_value(r.clone()).unwrap())
        .unwrap_or_default();
    ApiEvent {
        event_id: text("eventID"),
        event_time: parse_timestamp_text("2024-08-01T12:23:55Z").unwrap(),
        event_source: text("eventSource"),
        event_name: text("eventName"),
        aws_region: text("awsRegion"),
        account_id: text("recipientAccountId"),
        user_identity: UserIdentity::default(),
        username: String::new(),
        source_ip_address: None,
        user_agent: None,
        access_key_id: None,
        error_code: record
            .get("errorCode")
            .and_then(Value::as_str)
            .map(str::to_string),
        error_message: None,
        read_only: record
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        event_type: None,
        request_id: None,
        resources,
        record,
    }
}

fn touched(record: Value) -> Vec<TouchedResource> {
    EventMap::builtin().touched(&event(record))
}

fn modify(prefixes: &[&str]) -> Effect {
    Effect::Modify(prefixes.iter().map(|p| p.to_string()).collect())
}

fn resource(
    resource_type: &str,
    identifier: &str,
    account_id: &str,
    region: &str,
    effect: Effect,
) -> TouchedResource {
    TouchedResource {
        resource_type: resource_type.into(),
        identifier: identifier.into(),
        account_id: account_id.into(),
        region: region.into(),
        effect,
    }
}

fn diff(change_type: ChangeType, paths: &[&str]) -> ItemDiff {
    crate::diff::diff_of_paths(change_type, paths)
}

#[test]
fn builtin_table_parses() {
    let map = EventMap::from_json(BUILTIN_TABLE, BUILTIN_NAME).unwrap();
    assert_eq!(map.len(), EventMap::builtin().len());
    assert!(map.len() >= 100, "only {} pairs", map.len());
    assert!(!map.is_empty());
    // Every IAM mapping is global, so IAM types named only in resources[] are too.
    assert_eq!(
        map.type_regions.get("AWS::IAM::Role").map(String::as_str),
        Some("global")
    );
}

#[test]
fn stratus_authorize_ingress_names_the_group_once() {
    // stratus-red-team aws.exfiltration.ec2-security-group-open-port-22-ingress.json
    let found = touched(json!({
        "awsRegion": "us-northeast-1r",
        "eventName": "AuthorizeSecurityGroupIngress",
        "eventSource": "ec2.amazonaws.com",
        "recipientAccountId": "032092706103",
        "requestParameters": {
            "cidrIp": "208.236.235.254/0", "fromPort": 22, "groupId": "sg-003dc7f1f1c686164",
            "ipPermissions": {}, "ipProtocol": "tcp", "toPort": 22
        },
        "responseElements": {
            "_return": true,
            "securityGroupRuleSet": {"items": [{
                "cidrIpv4": "208.236.235.254/0", "fromPort": 22, "groupId": "sg-003dc7f1f1c686164",
                "groupOwnerId": "032092706103", "ipProtocol": "tcp", "isEgress": false,
                "securityGroupRuleId": "sgr-09b3e3d2ca1edf2a2", "toPort": 22
            }]}
        }
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::EC2::SecurityGroup",
            "sg-003dc7f1f1c686164",
            "032092706103",
            "us-northeast-1r",
            modify(&["Configuration.IpPermissions"]),
        )]
    );
}

#[test]
fn failed_calls_are_still_mapped() {
    // Panther AWS.EC2.SecurityGroupModified test, UnauthorizedOperation
    let found = touched(json!({
        "awsRegion": "us-west-2",
        "errorCode": "UnauthorizedOperation",
        "eventName": "AuthorizeSecurityGroupEgress",
        "eventSource": "ec2.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {"groupId": "sg-03eee825d6bb78f54", "ipPermissions": {"items": [
            {"groups": {}, "ipProtocol": "-1", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
        ]}},
        "responseElements": null
    }));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].identifier, "sg-03eee825d6bb78f54");
    assert_eq!(
        found[0].effect,
        modify(&["Configuration.IpPermissionsEgress"])
    );
}

#[test]
fn plaso_create_security_group_is_a_create() {
    // plaso aws_cloudtrail_lookup_events.jsonl (CloudTrailEvent of the CreateSecurityGroup line)
    let found = touched(json!({
        "awsRegion": "us-east-1",
        "eventName": "CreateSecurityGroup",
        "eventSource": "ec2.amazonaws.com",
        "recipientAccountId": "012345678901",
        "requestParameters": {
            "groupDescription": "Nothing open", "groupName": "no-access",
            "vpcId": "vpc-0123456789012345"
        },
        "responseElements": {
            "_return": true, "groupId": "sg-01234567890123456",
            "requestId": "a3efc84b-80ef-42dd-8fc7-c37eb55cb9b6"
        }
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::EC2::SecurityGroup",
            "sg-01234567890123456",
            "012345678901",
            "us-east-1",
            Effect::Create,
        )]
    );
}

#[test]
fn run_instances_creates_every_instance() {
    // Cloud Custodian tests/data/cwe/event-cloud-trail-run-instances.json (detail)
    let found = touched(json!({
        "awsRegion": "us-west-1",
        "eventName": "RunInstances",
        "eventSource": "ec2.amazonaws.com",
        "recipientAccountId": "619193117841",
        "requestParameters": {
            "groupSet": {"items": [{"groupId": "sg-bd2d87d9"}]},
            "instanceType": "t2.micro",
            "instancesSet": {"items": [{"imageId": "ami-06116566", "maxCount": 2, "minCount": 1}]},
            "subnetId": "subnet-5f7a3106"
        },
        "responseElements": {
            "groupSet": {},
            "instancesSet": {"items": [
                {"amiLaunchIndex": 0, "instanceId": "i-784cdacd", "instanceState": {"code": 0, "name": "pending"}},
                {"amiLaunchIndex": 1, "instanceId": "i-7b4cdace", "instanceState": {"code": 0, "name": "pending"}}
            ]}
        }
    }));
    let ids: Vec<(&str, &str, &Effect)> = found
        .iter()
        .map(|t| (t.resource_type.as_str(), t.identifier.as_str(), &t.effect))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("AWS::EC2::Instance", "i-784cdacd", &Effect::Create),
            ("AWS::EC2::Instance", "i-7b4cdace", &Effect::Create),
        ]
    );
}

#[test]
fn put_bucket_policy_names_the_bucket() {
    // Panther AWS.S3.BucketPolicyModified test
    let found = touched(json!({
        "awsRegion": "us-west-2",
        "eventName": "PutBucketPolicy",
        "eventSource": "s3.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {
            "bucketName": "example-bucket",
            "bucketPolicy": {"Statement": [{
                "Action": "s3:GetBucketAcl", "Effect": "Allow", "Principal": {"AWS": "*"},
                "Resource": "arn:aws:s3:::example-bucket", "Sid": "Public Access"
            }], "Version": "2012-10-17"},
            "host": ["s3.us-west-2.amazonaws.com"], "policy": [""]
        },
        "responseElements": null
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::S3::Bucket",
            "example-bucket",
            "123456789012",
            "us-west-2",
            modify(&["SupplementaryConfiguration.BucketPolicy"]),
        )]
    );
}

#[test]
fn bucket_calls_name_the_bucket_in_the_events_region() {
    // What the collector describes again after a call: the bucket, by name, in the region
    // CloudTrail recorded the call in (the bucket's).
    for (event, effect) in [
        (
            "PutBucketAcl",
            modify(&["SupplementaryConfiguration.AccessControlList"]),
        ),
        (
            "PutBucketPublicAccessBlock",
            modify(&["SupplementaryConfiguration.PublicAccessBlockConfiguration"]),
        ),
        (
            "DeleteBucketOwnershipControls",
            modify(&["SupplementaryConfiguration.BucketOwnershipControls"]),
        ),
        ("DeleteBucket", Effect::Delete),
    ] {
        let found = touched(json!({
            "awsRegion": "eu-central-1",
            "eventName": event,
            "eventSource": "s3.amazonaws.com",
            "recipientAccountId": "123456789012",
            "requestParameters": {"bucketName": "reports", "Host": "reports.s3.eu-central-1.amazonaws.com"},
            "responseElements": null
        }));
        assert_eq!(
            found,
            vec![resource(
                "AWS::S3::Bucket",
                "reports",
                "123456789012",
                "eu-central-1",
                effect
            )],
            "{event}"
        );
    }
}

#[test]
fn put_user_policy_is_global() {
    // Panther AWS.IAM.PolicyModified-style test
    let found = touched(json!({
        "awsRegion": "us-east-1",
        "eventName": "PutUserPolicy",
        "eventSource": "iam.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {
            "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
            "policyName": "TestUserDenyAll", "userName": "test-user"
        },
        "responseElements": null
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::IAM::User",
            "test-user",
            "123456789012",
            "global",
            modify(&["Configuration.UserPolicyList"]),
        )]
    );
}

#[test]
fn attach_user_policy_touches_user_and_policy() {
    // stratus-red-team aws.persistence.iam-create-admin-user.json
    let found = touched(json!({
        "awsRegion": "us-east-1",
        "eventName": "AttachUserPolicy",
        "eventSource": "iam.amazonaws.com",
        "recipientAccountId": "229654561268",
        "requestParameters": {
            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
            "userName": "malicious-iam-user"
        },
        "responseElements": null
    }));
    let names: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|t| {
            (
                t.resource_type.as_str(),
                t.identifier.as_str(),
                t.region.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("AWS::IAM::User", "malicious-iam-user", "global"),
            (
                "AWS::IAM::Policy",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "global"
            ),
        ]
    );
}

#[test]
fn create_policy_names_id_and_name() {
    let found = touched(json!({
        "awsRegion": "us-east-1",
        "eventName": "CreatePolicy",
        "eventSource": "iam.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {"policyName": "ELB-policy", "policyDocument": "{}"},
        "responseElements": {"policy": {
            "policyName": "ELB-policy", "policyId": "ANPAIJWML3NX3NT6UAGO4",
            "arn": "arn:aws:iam::123456789012:policy/ELB-policy"
        }}
    }));
    let ids: Vec<&str> = found.iter().map(|t| t.identifier.as_str()).collect();
    assert_eq!(ids, vec!["ANPAIJWML3NX3NT6UAGO4", "ELB-policy"]);
    assert!(found.iter().all(|t| t.effect == Effect::Create));
}

#[test]
fn trails_are_named_by_name_or_arn() {
    // stratus-red-team aws.defense-evasion.cloudtrail-stop.json; Panther CreateTrail test
    let stop = touched(json!({
        "awsRegion": "us-east-1", "eventName": "StopLogging",
        "eventSource": "cloudtrail.amazonaws.com", "recipientAccountId": "111122223333",
        "requestParameters": {"name": "stratus-red-team-ct-stop-trail-buykxbqejv"},
        "responseElements": null
    }));
    assert_eq!(stop.len(), 1);
    assert_eq!(
        stop[0].identifier,
        "stratus-red-team-ct-stop-trail-buykxbqejv"
    );
    assert_eq!(stop[0].resource_type, "AWS::CloudTrail::Trail");
    let create = touched(json!({
        "awsRegion": "us-west-2", "eventName": "CreateTrail",
        "eventSource": "cloudtrail.amazonaws.com", "recipientAccountId": "123456789012",
        "requestParameters": {"name": "arn:aws:cloudtrail:us-west-2:123456789012:trail/example-trail"},
        "responseElements": null
    }));
    assert_eq!(
        create[0].identifier,
        "arn:aws:cloudtrail:us-west-2:123456789012:trail/example-trail"
    );
    assert_eq!(create[0].effect, Effect::Create);
    let selectors = touched(json!({
        "awsRegion": "us-west-2", "eventName": "PutEventSelectors",
        "eventSource": "cloudtrail.amazonaws.com", "recipientAccountId": "111122223333",
        "requestParameters": {"eventSelectors": [], "trailName": "sample-cloudtrail-name"},
        "responseElements": {"trailARN": "arn:aws:cloudtrail:us-west-2:111122223333:trail/sample-cloudtrail-name"}
    }));
    assert_eq!(selectors[0].identifier, "sample-cloudtrail-name");
}

#[test]
fn resources_only_event_is_an_unknown_touch() {
    // Panther test: a kms-ish StartLogging record carrying only resources[] (no trail name)
    let found = touched(json!({
        "awsRegion": "us-west-2",
        "eventName": "StartLogging",
        "eventSource": "cloudtrail.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {"encryptionContext": {
            "aws:lambda:FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:test-function"
        }},
        "resources": [{"ARN": "arn:aws:kms:us-west-2:123456789012:key/1", "accountId": "123456789012", "type": "AWS::KMS::Key"}],
        "responseElements": null
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::KMS::Key",
            "1",
            "123456789012",
            "us-west-2",
            Effect::Unknown
        )]
    );
}

#[test]
fn s3_data_event_resources_keep_bucket_and_object_names() {
    let found = touched(json!({
        "awsRegion": "us-east-1",
        "eventName": "GetObject",
        "eventSource": "s3.amazonaws.com",
        "readOnly": true,
        "recipientAccountId": "111111111111",
        "requestParameters": {"bucketName": "www.example.com", "key": "css/site.css"},
        "resources": [
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::www.example.com/css/site.css"},
            {"accountId": "222222222222", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::www.example.com"},
            {"accountId": "222222222222", "ARN": "arn:aws:s3:::no-type"}
        ]
    }));
    assert_eq!(
        found,
        vec![
            resource(
                "AWS::S3::Object",
                "www.example.com/css/site.css",
                "111111111111",
                "us-east-1",
                Effect::Unknown
            ),
            resource(
                "AWS::S3::Bucket",
                "www.example.com",
                "222222222222",
                "us-east-1",
                Effect::Unknown
            ),
        ]
    );
}

#[test]
fn resources_entries_take_the_tables_effect() {
    // Panther AWS.S3.BucketLoggingDisabled-style test: resources[] names another bucket.
    let found = touched(json!({
        "awsRegion": "us-west-2",
        "eventName": "PutBucketLogging",
        "eventSource": "s3.amazonaws.com",
        "recipientAccountId": "111111111111",
        "requestParameters": {
            "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"},
            "bucketName": "critical-data-bucket", "logging": ""
        },
        "resources": [{"ARN": "arn:aws:s3:::critical-data-bucket", "accountId": "111111111111", "type": "AWS::S3::Bucket"},
                      {"ARN": "arn:aws:s3:::sample-bucket-great-proskuriakova", "accountId": "111111111111", "type": "AWS::S3::Bucket"}],
        "responseElements": null
    }));
    let logging = modify(&["SupplementaryConfiguration.BucketLoggingConfiguration"]);
    assert_eq!(
        found,
        vec![
            resource(
                "AWS::S3::Bucket",
                "critical-data-bucket",
                "111111111111",
                "us-west-2",
                logging.clone()
            ),
            resource(
                "AWS::S3::Bucket",
                "sample-bucket-great-proskuriakova",
                "111111111111",
                "us-west-2",
                logging
            ),
        ]
    );
}

#[test]
fn iam_resources_entries_are_global() {
    let found = touched(json!({
        "awsRegion": "us-east-1", "eventName": "GetRole", "eventSource": "iam.amazonaws.com",
        "recipientAccountId": "123456789012", "readOnly": true,
        "requestParameters": {"roleName": "app"},
        "resources": [{"ARN": "arn:aws:iam::123456789012:role/team/app", "type": "AWS::IAM::Role"}]
    }));
    assert_eq!(
        found,
        vec![resource(
            "AWS::IAM::Role",
            "app",
            "123456789012",
            "global",
            Effect::Unknown
        )]
    );
}

#[test]
fn create_tags_splits_ids_by_prefix() {
    let found = touched(json!({
        "awsRegion": "eu-west-1",
        "eventName": "CreateTags",
        "eventSource": "ec2.amazonaws.com",
        "recipientAccountId": "123456789012",
        "requestParameters": {
            "resourcesSet": {"items": [
                {"resourceId": "sg-0aebfa21f302bded9"}, {"resourceId": "i-0d7e4b9be8a0de6ea"},
                {"resourceId": "ami-026b57f3c383c2eec"}, {"resourceId": ""}, {"resourceId": 7}
            ]},
            "tagSet": {"items": [{"key": "team", "value": "red"}]}
        },
        "responseElements": {"_return": true}
    }));
    let tags = modify(&["Tags", "Configuration.Tags"]);
    assert_eq!(
        found,
        vec![
            resource(
                "AWS::EC2::SecurityGroup",
                "sg-0aebfa21f302bded9",
                "123456789012",
                "eu-west-1",
                tags.clone()
            ),
            resource(
                "AWS::EC2::Instance",
                "i-0d7e4b9be8a0de6ea",
                "123456789012",
                "eu-west-1",
                tags
            ),
        ]
    );
}

#[test]
fn unmapped_events_touch_nothing() {
    let found = touched(json!({
        "awsRegion": "us-east-1", "eventName": "DescribeInstances",
        "eventSource": "ec2.amazonaws.com", "recipientAccountId": "1",
        "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-1"}]}}
    }));
    assert!(found.is_empty());
    assert_eq!(found.capacity(), 0);
}

#[test]
fn numbers_are_ids_and_effects_merge() {
    let map = EventMap::from_json(
        r#"{"mappings": [
            {"eventSource": "x.amazonaws.com", "eventNames": ["Touch"], "resourceType": "AWS::X::Thing",
             "ids": ["requestParameters.id", "requestParameters.list[].id"], "changes": ["Configuration.A"]},
            {"eventSource": "x.amazonaws.com", "eventNames": ["Touch"], "resourceType": "AWS::X::Thing",
             "ids": ["requestParameters.id"], "changes": ["Configuration.B", "Configuration.A"]}
        ]}"#,
        "test",
    )
    .unwrap();
    let found = map.touched(&event(json!({
        "awsRegion": "r", "eventName": "Touch", "eventSource": "x.amazonaws.com",
        "recipientAccountId": "1",
        "requestParameters": {"id": 42, "list": [{"id": "42"}, {"id": "43"}, {"nope": 1}, 5]},
        "resources": [{"ARN": "arn:aws:x:r:1:thing/42", "type": "AWS::X::Thing"}]
    })));
    assert_eq!(
        found,
        vec![
            resource(
                "AWS::X::Thing",
                "42",
                "1",
                "r",
                modify(&["Configuration.A", "Configuration.B"])
            ),
            resource(
                "AWS::X::Thing",
                "43",
                "1",
                "r",
                modify(&["Configuration.A"])
            ),
        ]
    );
}

#[test]
fn effect_matching() {
    let ingress = modify(&["Configuration.IpPermissions"]);
    assert!(ingress.matches(&diff(
        ChangeType::Update,
        &["Configuration.IpPermissions.0"]
    )));
    assert!(ingress.matches(&diff(ChangeType::Update, &["Configuration.IpPermissions"])));
    // AWS's own capitalisation differs from conftrail's in places.
    assert!(ingress.matches(&diff(
        ChangeType::Update,
        &["configuration.ipPermissions.1.ipRanges.0"]
    )));
    // A segment boundary, not a string prefix.
    assert!(!ingress.matches(&diff(
        ChangeType::Update,
        &["Configuration.IpPermissionsEgress.0"]
    )));
    assert!(!ingress.matches(&diff(ChangeType::Update, &["Configuration"])));
    assert!(!ingress.matches(&diff(ChangeType::Update, &["Tags.team"])));
    assert!(!ingress.matches(&diff(
        ChangeType::Delete,
        &["Configuration.IpPermissions.0"]
    )));
    let tags = modify(&["Tags", "Relationships"]);
    assert!(tags.matches(&diff(
        ChangeType::Update,
        &["Configuration.VpcId", "Tags.team"]
    )));
    assert!(tags.matches(&diff(ChangeType::Update, &["Relationships.1"])));
    assert!(!modify(&[]).matches(&diff(ChangeType::Update, &["Tags.team"])));

    assert!(Effect::Create.matches(&diff(ChangeType::Create, &[])));
    assert!(!Effect::Create.matches(&diff(ChangeType::Update, &["Tags.a"])));
    assert!(Effect::Delete.matches(&diff(ChangeType::Delete, &["Configuration"])));
    assert!(!Effect::Delete.matches(&diff(ChangeType::Create, &[])));
    for change_type in [ChangeType::Create, ChangeType::Update, ChangeType::Delete] {
        assert!(!Effect::Unknown.matches(&diff(change_type, &["Tags.a"])));
    }
    let names: Vec<&str> = [Effect::Create, Effect::Delete, modify(&[]), Effect::Unknown]
        .iter()
        .map(Effect::as_str)
        .collect();
    assert_eq!(names, vec!["create", "delete", "modify", "unknown"]);
}

fn entry_error(mapping: &str) -> (usize, String, String) {
    let text = format!(
        r#"{{"mappings": [
            {{"eventSource": "s3.amazonaws.com", "eventNames": ["A"], "resourceType": "AWS::S3::Bucket",
              "ids": ["requestParameters.bucketName"]}},
            {mapping}
        ]}}"#
    );
    match EventMap::from_json(&text, "mine.json") {
        Err(EventMapError::InvalidEntry {
            source_name,
            index,
            field,
            reason,
        }) => {
            assert_eq!(source_name, "mine.json");
            (index, field, reason)
        }
        other => panic!("expected an entry error, got {other:?}"),
    }
}

#[test]
fn entry_errors_name_index_and_field() {
    let base = r#""eventSource": "s3.amazonaws.com", "eventNames": ["B"], "resourceType": "AWS::S3::Bucket""#;
    let (index, field, _) = entry_error(&format!(
        r#"{{{base}, "ids": ["requestParameters.bucketName"], "idprefix": "x"}}"#
    ));
    assert_eq!((index, field.as_str()), (1, "idprefix"));
    let (_, field, reason) = entry_error(&format!(r#"{{{base}, "ids": []}}"#));
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("ids", "must not be empty")
    );
    let (_, field, _) = entry_error(&format!(r#"{{{base}}}"#));
    assert_eq!(field, "ids");
    let (_, field, reason) = entry_error(&format!(r#"{{{base}, "ids": ["bucketName"]}}"#));
    assert_eq!(field, "ids");
    assert!(reason.contains("requestParameters"), "{reason}");
    let (_, field, _) = entry_error(&format!(
        r#"{{{base}, "ids": ["requestParameters.a[].[]"]}}"#
    ));
    assert_eq!(field, "ids");
    let (_, field, _) = entry_error(&format!(
        r#"{{{base}, "ids": ["requestParameters.a"], "effect": "create", "changes": ["Tags"]}}"#
    ));
    assert_eq!(field, "changes");
    let (_, field, _) = entry_error(&format!(
        r#"{{{base}, "ids": ["requestParameters.a"], "effect": "update"}}"#
    ));
    assert_eq!(field, "effect");
    let (_, field, _) = entry_error(&format!(
        r#"{{{base}, "ids": ["requestParameters.a"], "changes": ["Configuration..A"]}}"#
    ));
    assert_eq!(field, "changes");
    let (_, field, _) = entry_error(
        r#"{"eventSource": "s3.amazonaws.com", "eventNames": ["B", "B"], "resourceType": "T", "ids": ["requestParameters.a"]}"#,
    );
    assert_eq!(field, "eventNames");
    let (_, field, _) = entry_error(
        r#"{"eventSource": "", "eventNames": ["B"], "resourceType": "T", "ids": ["requestParameters.a"]}"#,
    );
    assert_eq!(field, "eventSource");
    // Comments are allowed anywhere.
    let ok = EventMap::from_json(
        r#"{"_comment": "x", "mappings": [{"_note": 1, "eventSource": "s", "eventNames": ["N"],
            "resourceType": "T", "ids": ["responseElements.id"]}]}"#,
        "ok",
    )
    .unwrap();
    assert_eq!(ok.len(), 1);
    let message = EventMapError::InvalidEntry {
        source_name: "mine.json".into(),
        index: 3,
        field: "ids".into(),
        reason: "must not be empty".into(),
    }
    .to_string();
    assert_eq!(message, "mine.json: mappings[3].ids: must not be empty");
}

#[test]
fn table_level_errors() {
    for text in [
        "not json",
        "[]",
        r#"{"mapping": []}"#,
        r#"{"mappings": {}}"#,
    ] {
        assert!(
            matches!(
                EventMap::from_json(text, "t"),
                Err(EventMapError::InvalidJson { .. })
            ),
            "{text}"
        );
    }
    let missing = EventMap::load(Some(Path::new("/nonexistent/event-resources.json")));
    assert!(matches!(missing, Err(EventMapError::Unreadable { .. })));
}

#[test]
fn a_user_table_overrides_and_extends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.json");
    std::fs::write(
        &path,
        r#"{"mappings": [
            {"eventSource": "ec2.amazonaws.com", "eventNames": ["AuthorizeSecurityGroupIngress"],
             "resourceType": "AWS::EC2::SecurityGroup", "ids": ["requestParameters.groupId"],
             "changes": ["Configuration.IpPermissions", "Tags"]},
            {"eventSource": "ec2.amazonaws.com", "eventNames": ["AuthorizeSecurityGroupIngress"],
             "resourceType": "AWS::EC2::VPC", "ids": ["requestParameters.vpcId"]},
            {"eventSource": "lambda.amazonaws.com", "eventNames": ["DeleteFunction20150331"],
             "resourceType": "AWS::Lambda::Function", "ids": ["requestParameters.functionName"],
             "effect": "delete"}
        ]}"#,
    )
    .unwrap();
    let builtin = EventMap::builtin();
    let map = EventMap::load(Some(&path)).unwrap();
    assert_eq!(map.len(), builtin.len() + 1);
    assert_eq!(EventMap::load(None).unwrap().len(), builtin.len());
    let found = map.touched(&event(json!({
        "awsRegion": "us-east-1", "eventName": "AuthorizeSecurityGroupIngress",
        "eventSource": "ec2.amazonaws.com", "recipientAccountId": "1",
        "requestParameters": {"groupId": "sg-1", "groupName": "web", "vpcId": "vpc-9"}
    })));
    // The built-in groupName path is gone with the replaced mapping.
    assert_eq!(
        found,
        vec![
            resource(
                "AWS::EC2::SecurityGroup",
                "sg-1",
                "1",
                "us-east-1",
                modify(&["Configuration.IpPermissions", "Tags"])
            ),
            resource("AWS::EC2::VPC", "vpc-9", "1", "us-east-1", modify(&[])),
        ]
    );
    // Other built-in mappings of the same event source stay.
    let egress = map.touched(&event(json!({
        "awsRegion": "us-east-1", "eventName": "AuthorizeSecurityGroupEgress",
        "eventSource": "ec2.amazonaws.com", "recipientAccountId": "1",
        "requestParameters": {"groupId": "sg-1"}
    })));
    assert_eq!(egress.len(), 1);
}
