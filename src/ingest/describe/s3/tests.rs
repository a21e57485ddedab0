//! The bucket and account Block Public Access mappings: AWS Config's own items for the same
//! buckets, every supplementary value with everything configured, and field errors.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ConfigurationItem, ItemStatus};
use serde_json::json;

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &str) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The only item in a file of AWS Config's, through ingest's parser (which decodes the 1.2 API
/// form's JSON-string values, the ACL's twice).
fn real_item(file: &str) -> ConfigurationItem {
    let path = repo(&format!("tests/data/realdata/config_items/{file}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut records = parse_document(&bytes);
    assert_eq!(records.len(), 1, "{file}");
    match records.remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{file}: {other:?}"),
    }
}

/// A [`BucketDescription`] written as JSON: the struct's members by name, `creation_date` as
/// text, null for `None`. Every member must be there and nothing else.
fn description(mut d: Value) -> BucketDescription {
    let mut take = |key: &str| {
        d.as_object_mut()
            .and_then(|o| o.remove(key))
            .unwrap_or_else(|| panic!("the description has no {key}"))
    };
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => panic!("expected text, found {other}"),
    };
    let optional = |v: Value| (!v.is_null()).then_some(v);
    let description = BucketDescription {
        name: text(take("name")),
        creation_date: optional(take("creation_date"))
            .map(|t| parse_timestamp_text(&text(t)).expect("creation_date")),
        region: text(take("region")),
        account_id: text(take("account_id")),
        acl: take("acl"),
        policy: optional(take("policy")).map(text),
        policy_status: optional(take("policy_status")),
        public_access_block: optional(take("public_access_block")),
        encryption: optional(take("encryption")),
        versioning: take("versioning"),
        logging: take("logging"),
        tagging: optional(take("tagging")),
        ownership_controls: optional(take("ownership_controls")),
        lifecycle: optional(take("lifecycle")),
    };
    assert_eq!(d, json!({}), "members the description does not have");
    description
}

/// The supplementary values describe output cannot give: S3 calls the description does not
/// carry (AWS Config records them for every bucket, or when configured).
const NOT_DESCRIBED: [&str; 5] = [
    "BucketAccelerateConfiguration",
    "BucketNotificationConfiguration",
    "BucketReplicationConfiguration",
    "BucketWebsiteConfiguration",
    "IsRequesterPaysEnabled",
];

/// Each file of `tests/data/describe/s3/` holds what S3 would answer for a bucket AWS Config
/// recorded (written from that item: see the folder's README) and names the item; the mapping
/// gives back the item's configuration and supplementary configuration.
#[test]
fn described_buckets_give_back_aws_configs_items() {
    let dir = repo("tests/data/describe/s3");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "{files:?}");
    for path in files {
        let file = path.display().to_string();
        let mut fixture = read_json(&file);
        let aws = real_item(
            fixture["aws_config_item"]
                .as_str()
                .expect("aws_config_item"),
        );
        let described = bucket_item(description(fixture["description"].take()), at())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            described.warnings.is_empty(),
            "{file}: {:?}",
            described.warnings
        );
        let mine = described.item;

        assert_eq!(mine.configuration, aws.configuration, "{file}");
        let mut theirs = aws.supplementary_configuration.clone();
        for key in NOT_DESCRIBED {
            theirs.remove(key);
        }
        assert_eq!(mine.supplementary_configuration, theirs, "{file}");
        // Identity and the rest AWS Config derives from the same answers.
        assert_eq!(
            (&mine.resource_type, &mine.resource_id, &mine.resource_name),
            (&aws.resource_type, &aws.resource_id, &aws.resource_name),
            "{file}"
        );
        assert_eq!(
            (&mine.account_id, &mine.aws_region, &mine.arn),
            (&aws.account_id, &aws.aws_region, &aws.arn),
            "{file}"
        );
        assert_eq!(mine.availability_zone, aws.availability_zone, "{file}");
        assert_eq!(
            mine.resource_creation_time, aws.resource_creation_time,
            "{file}"
        );
        assert_eq!(mine.tags, aws.tags, "{file}");
        assert_eq!(mine.relationships, aws.relationships, "{file}");
        // Not compared, AWS Config's own: the state id and MD5 hash (counters and hashes of
        // its store), the capture time and status (when and why it recorded), related events
        // (CloudTrail ids it linked; none since 1.3) and the item version (1.2 for custodian's
        // items, whose shapes for these values are the same).
        assert_eq!(mine.item_version.as_deref(), Some("1.3"));
        assert_eq!(mine.configuration_item_status, ItemStatus::Ok);
        assert_eq!(mine.configuration_item_capture_time, at());
        assert!(mine.related_events.is_empty() && mine.configuration_state_id.is_none());
    }
}

/// A bucket with every setting the description carries, in boto3's shape.
fn full_description() -> Value {
    json!({
        "name": "logs-cn",
        "creation_date": "2024-05-06T07:08:09Z",
        "region": "cn-north-1",
        "account_id": "111122223333",
        "acl": {
            "Owner": {"ID": "canon-owner", "DisplayName": "ops"},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": "canon-owner", "DisplayName": "ops"},
                 "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
                 "Permission": "READ_ACP"},
                {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                 "Permission": "WRITE"},
                {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/Robots"},
                 "Permission": "WRITE_ACP"},
                {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "ops@example.com"},
                 "Permission": "READ"},
                {"Grantee": {"Type": "CanonicalUser", "ID": "canon-other"}, "Permission": "READ"}
            ],
            "ResponseMetadata": {"HTTPStatusCode": 200}
        },
        "policy": "{\"Statement\":[]}",
        "policy_status": {"PolicyStatus": {"IsPublic": false}},
        "public_access_block": {"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true, "IgnorePublicAcls": false, "BlockPublicPolicy": true}},
        "encryption": {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws-cn:kms:cn-north-1:111122223333:key/k"},
             "BucketKeyEnabled": true},
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]}},
        "versioning": {"Status": "Enabled", "MFADelete": "Disabled"},
        "logging": {"LoggingEnabled": {"TargetBucket": "audit-logs", "TargetPrefix": "logs-cn/",
            "TargetObjectKeyFormat": {"SimplePrefix": {}}}},
        "tagging": {"TagSet": [{"Key": "team", "Value": "ops"}, {"Key": "cost", "Value": ""}]},
        "ownership_controls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}},
        "lifecycle": {"Rules": [
            {"ID": "archive", "Status": "Enabled",
             "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}],
                                "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 4096}},
             "Expiration": {"Date": "2030-01-01T00:00:00+00:00"},
             "Transitions": [{"Date": "2029-01-01T00:00:00Z", "StorageClass": "GLACIER"}],
             "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER_IR",
                                               "NewerNoncurrentVersions": 2}],
             "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3}},
            {"Prefix": "old/", "Status": "Disabled", "Expiration": {"Days": 7}},
            {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1048576}}
        ]}
    })
}

#[test]
fn every_setting_is_written_as_aws_config_writes_it() {
    let described = bucket_item(description(full_description()), at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let item = described.item;
    assert_eq!(item.resource_type, "AWS::S3::Bucket");
    assert_eq!(item.resource_id, "logs-cn");
    assert_eq!(item.resource_name.as_deref(), Some("logs-cn"));
    assert_eq!(item.arn.as_deref(), Some("arn:aws-cn:s3:::logs-cn"));
    assert_eq!(item.account_id, "111122223333");
    assert_eq!(item.aws_region, "cn-north-1");
    assert_eq!(item.availability_zone.as_deref(), Some("Regional"));
    assert_eq!(
        item.resource_creation_time,
        parse_timestamp_text("2024-05-06T07:08:09Z")
    );
    assert_eq!(
        item.tags.into_iter().collect::<Vec<_>>(),
        [
            ("cost".to_string(), String::new()),
            ("team".to_string(), "ops".to_string())
        ]
    );
    assert!(item.relationships.is_empty());
    assert_eq!(
        item.configuration,
        json!({"name": "logs-cn", "owner": {"displayName": "ops", "id": "canon-owner"},
               "creationDate": "2024-05-06T07:08:09.000Z"})
    );
    let want = json!({
        "AccessControlList": {
            "grantSet": null,
            "grantList": [
                {"grantee": {"id": "canon-owner", "displayName": "ops"}, "permission": "FullControl"},
                {"grantee": "AuthenticatedUsers", "permission": "ReadAcp"},
                {"grantee": "LogDelivery", "permission": "Write"},
                // A group S3 does not document keeps its URI.
                {"grantee": "http://acs.amazonaws.com/groups/global/Robots", "permission": "WriteAcp"},
                {"grantee": {"emailAddress": "ops@example.com"}, "permission": "Read"},
                {"grantee": {"id": "canon-other", "displayName": null}, "permission": "Read"}
            ],
            "owner": {"displayName": "ops", "id": "canon-owner"},
            "isRequesterCharged": false
        },
        "BucketPolicy": {"policyText": "{\"Statement\":[]}"},
        "BucketVersioningConfiguration": {"status": "Enabled", "isMfaDeleteEnabled": false},
        "BucketLoggingConfiguration": {"destinationBucketName": "audit-logs", "logFilePrefix": "logs-cn/"},
        // A setting S3 leaves out is off.
        "PublicAccessBlockConfiguration": {"blockPublicAcls": true, "ignorePublicAcls": false,
            "blockPublicPolicy": true, "restrictPublicBuckets": false},
        "ServerSideEncryptionConfiguration": {"rules": [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                "kmsMasterKeyID": "arn:aws-cn:kms:cn-north-1:111122223333:key/k"},
             "bucketKeyEnabled": true},
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256", "kmsMasterKeyID": null},
             "bucketKeyEnabled": null}
        ]},
        "BucketTaggingConfiguration": {"tagSets": [{"tags": {"team": "ops", "cost": ""}}]},
        "BucketOwnershipControls": {"rules": [{"objectOwnership": "BucketOwnerPreferred"}]},
        "BucketLifecycleConfiguration": {"rules": [
            {"id": "archive", "prefix": null, "status": "Enabled",
             "filter": {"predicate": {"type": "LifecycleAndOperator", "operands": [
                 {"type": "LifecyclePrefixPredicate", "prefix": "a/"},
                 {"type": "LifecycleTagPredicate", "tag": {"key": "k", "value": "v"}},
                 {"type": "LifecycleObjectSizeGreaterThanPredicate", "objectSizeGreaterThan": 1024},
                 {"type": "LifecycleObjectSizeLessThanPredicate", "objectSizeLessThan": 4096}
             ]}},
             "expirationInDays": -1, "expiredObjectDeleteMarker": false,
             "noncurrentVersionExpirationInDays": 90,
             "expirationDate": "2030-01-01T00:00:00.000Z",
             "transitions": [{"days": -1, "date": "2029-01-01T00:00:00.000Z", "storageClass": "GLACIER"}],
             "noncurrentVersionTransitions": [{"days": 30, "storageClass": "GLACIER_IR"}],
             "abortIncompleteMultipartUpload": null},
            // The legacy rule-wide prefix, no filter.
            {"id": null, "prefix": "old/", "status": "Disabled", "filter": null,
             "expirationInDays": 7, "expiredObjectDeleteMarker": false,
             "noncurrentVersionExpirationInDays": -1, "expirationDate": null,
             "transitions": null, "noncurrentVersionTransitions": null,
             "abortIncompleteMultipartUpload": null},
            {"id": "big", "prefix": null, "status": "Enabled",
             "filter": {"predicate": {"type": "LifecycleObjectSizeGreaterThanPredicate",
                                      "objectSizeGreaterThan": 1048576}},
             "expirationInDays": -1, "expiredObjectDeleteMarker": false,
             "noncurrentVersionExpirationInDays": -1, "expirationDate": null,
             "transitions": null, "noncurrentVersionTransitions": null,
             "abortIncompleteMultipartUpload": null}
        ]}
    });
    let got: Map<String, Value> = item.supplementary_configuration.into_iter().collect();
    assert_eq!(Value::Object(got), want);
}

#[test]
fn settings_not_configured_are_recorded_as_aws_config_records_them() {
    let mut d = full_description();
    for key in [
        "policy",
        "policy_status",
        "public_access_block",
        "encryption",
        "tagging",
        "ownership_controls",
        "lifecycle",
        "creation_date",
    ] {
        d[key] = Value::Null;
    }
    d["versioning"] = json!({});
    d["logging"] = json!({});
    d["acl"] = json!({"Owner": {"ID": "canon-owner"}, "Grants": []});
    let described = bucket_item(description(d), at()).expect("mapped");
    // Without ListBuckets' creation date: left out, and said.
    assert_eq!(described.warnings.len(), 1, "{:?}", described.warnings);
    assert!(described.warnings[0].starts_with("configuration.creationDate: "));
    let item = described.item;
    assert_eq!(item.resource_creation_time, None);
    assert_eq!(
        item.configuration,
        json!({"name": "logs-cn", "owner": {"displayName": null, "id": "canon-owner"}})
    );
    // Always recorded: the ACL, the policy (null text), versioning (Off) and logging (nulls).
    // The rest only when configured.
    let got: Map<String, Value> = item.supplementary_configuration.into_iter().collect();
    assert_eq!(
        Value::Object(got),
        json!({
            "AccessControlList": {"grantSet": null, "grantList": [],
                "owner": {"displayName": null, "id": "canon-owner"}, "isRequesterCharged": false},
            "BucketPolicy": {"policyText": null},
            "BucketVersioningConfiguration": {"status": "Off", "isMfaDeleteEnabled": null},
            "BucketLoggingConfiguration": {"destinationBucketName": null, "logFilePrefix": null}
        })
    );
    assert!(item.tags.is_empty());
}

#[test]
fn a_malformed_answer_is_one_error_naming_the_field() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/name", json!(""), "name: empty"),
        ("/region", json!(""), "region: empty"),
        ("/account_id", json!(""), "account_id: empty"),
        ("/policy", json!(""), "policy: empty"),
        ("/acl", json!([]), "acl: expected an object, found an array"),
        ("/acl/Owner", Value::Null, "missing acl.Owner"),
        (
            "/acl/Owner/ID",
            json!(12),
            "acl.Owner.ID: expected a string, found a number",
        ),
        (
            "/acl/Grants",
            json!({}),
            "acl.Grants: expected an array, found an object",
        ),
        (
            "/acl/Grants/1/Permission",
            json!("READ_ALL"),
            "acl.Grants[1].Permission: expected one of FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP, found \"READ_ALL\"",
        ),
        (
            "/acl/Grants/1/Grantee/Type",
            json!("Robot"),
            "acl.Grants[1].Grantee.Type: expected one of CanonicalUser, Group, AmazonCustomerByEmail, found \"Robot\"",
        ),
        (
            "/acl/Grants/1/Grantee/URI",
            Value::Null,
            "missing acl.Grants[1].Grantee.URI",
        ),
        (
            "/acl/Grants/4/Grantee/EmailAddress",
            Value::Null,
            "missing acl.Grants[4].Grantee.EmailAddress",
        ),
        (
            "/policy_status/PolicyStatus/IsPublic",
            json!("no"),
            "policy_status.PolicyStatus.IsPublic: expected a boolean, found a string",
        ),
        (
            "/versioning",
            json!("Enabled"),
            "versioning: expected an object, found a string",
        ),
        (
            "/versioning/MFADelete",
            json!(true),
            "versioning.MFADelete: expected a string, found a boolean",
        ),
        (
            "/versioning/MFADelete",
            json!("On"),
            "versioning.MFADelete: expected Enabled or Disabled, found \"On\"",
        ),
        (
            "/logging/LoggingEnabled/TargetBucket",
            Value::Null,
            "missing logging.LoggingEnabled.TargetBucket",
        ),
        (
            "/public_access_block/PublicAccessBlockConfiguration/BlockPublicAcls",
            json!("true"),
            "public_access_block.PublicAccessBlockConfiguration.BlockPublicAcls: expected a boolean, found a string",
        ),
        (
            "/public_access_block/PublicAccessBlockConfiguration",
            Value::Null,
            "missing public_access_block.PublicAccessBlockConfiguration",
        ),
        (
            "/encryption/ServerSideEncryptionConfiguration/Rules",
            Value::Null,
            "missing encryption.ServerSideEncryptionConfiguration.Rules",
        ),
        (
            "/encryption/ServerSideEncryptionConfiguration/Rules/1/ApplyServerSideEncryptionByDefault/SSEAlgorithm",
            Value::Null,
            "missing encryption.ServerSideEncryptionConfiguration.Rules[1].ApplyServerSideEncryptionByDefault.SSEAlgorithm",
        ),
        (
            "/encryption/ServerSideEncryptionConfiguration/Rules/0/BucketKeyEnabled",
            json!("yes"),
            "encryption.ServerSideEncryptionConfiguration.Rules[0].BucketKeyEnabled: expected a boolean, found a string",
        ),
        ("/tagging/TagSet", Value::Null, "missing tagging.TagSet"),
        ("/tagging/TagSet/1/Key", Value::Null, "missing tagging.TagSet[1].Key"),
        (
            "/ownership_controls/OwnershipControls/Rules/0/ObjectOwnership",
            json!(1),
            "ownership_controls.OwnershipControls.Rules[0].ObjectOwnership: expected a string, found a number",
        ),
        ("/lifecycle/Rules", Value::Null, "missing lifecycle.Rules"),
        (
            "/lifecycle/Rules/1/Status",
            Value::Null,
            "missing lifecycle.Rules[1].Status",
        ),
        (
            "/lifecycle/Rules/0/Expiration/Date",
            json!("someday"),
            "lifecycle.Rules[0].Expiration.Date: expected an ISO 8601 time, found \"someday\"",
        ),
        (
            "/lifecycle/Rules/0/NoncurrentVersionTransitions/0/NoncurrentDays",
            json!("30"),
            "lifecycle.Rules[0].NoncurrentVersionTransitions[0].NoncurrentDays: expected an integer, found a string",
        ),
        (
            "/lifecycle/Rules/0/Filter/And/Tags/0/Key",
            Value::Null,
            "missing lifecycle.Rules[0].Filter.And.Tags[0].Key",
        ),
        (
            "/lifecycle/Rules/2/Filter",
            json!({"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}}),
            "lifecycle.Rules[2].Filter: expected one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, And, found several",
        ),
    ];
    for (pointer, value, want) in cases {
        let mut d = full_description();
        *d.pointer_mut(pointer).expect(pointer) = value;
        let got = bucket_item(description(d), at()).map(|d| d.item.resource_id);
        assert_eq!(
            got.map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{pointer}"
        );
    }
    // The checks every item passes apply too.
    let mut d = full_description();
    d["tagging"] = json!({"TagSet": [{"Key": "k".repeat(200), "Value": "v"}]});
    let err = bucket_item(description(d), at())
        .map(|d| d.item.resource_id)
        .map_err(|e| e.to_string());
    assert!(
        err.as_ref()
            .is_err_and(|e| e.starts_with("tags: a key: 200 characters")),
        "{err:?}"
    );
}

#[test]
fn account_settings_give_back_aws_configs_item() {
    let aws = real_item("rdk_example_ci/AWS_S3_AccountPublicAccessBlock.json");
    let answer = json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true,
        "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}});
    let described =
        account_public_access_block_item("123456789012", "us-east-1", Some(answer), at())
            .expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let mine = described.item;
    assert_eq!(mine.configuration, aws.configuration);
    assert_eq!(
        mine.supplementary_configuration,
        aws.supplementary_configuration
    );
    assert_eq!(
        (&mine.resource_type, &mine.resource_id, &mine.resource_name),
        (&aws.resource_type, &aws.resource_id, &aws.resource_name)
    );
    assert_eq!(
        (&mine.account_id, &mine.aws_region, &mine.arn),
        (&aws.account_id, &aws.aws_region, &aws.arn)
    );
    assert_eq!(mine.availability_zone, aws.availability_zone);
    assert_eq!(mine.tags, aws.tags);
    assert_eq!(mine.relationships, aws.relationships);
    // Not compared: AWS Config's state id, capture time and status (ResourceDiscovered for the
    // first item it records).
    assert_eq!(mine.configuration_item_status, ItemStatus::Ok);
}

#[test]
fn account_settings_not_set_are_a_deletion_and_malformed_ones_an_error() {
    let item = account_public_access_block_item("123456789012", "eu-west-1", None, at())
        .expect("mapped")
        .item;
    assert_eq!(item.configuration_item_status, ItemStatus::ResourceDeleted);
    assert_eq!(item.configuration, Value::Null);
    assert_eq!(item.resource_id, "123456789012");
    assert_eq!(item.aws_region, "eu-west-1");

    // Settings S3 leaves out are off.
    let item = account_public_access_block_item(
        "123456789012",
        "eu-west-1",
        Some(json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true}})),
        at(),
    )
    .expect("mapped")
    .item;
    assert_eq!(
        item.configuration,
        json!({"blockPublicAcls": true, "ignorePublicAcls": false, "blockPublicPolicy": false,
               "restrictPublicBuckets": false})
    );

    let cases: [(&str, &str, Option<Value>, &str); 4] = [
        ("", "us-east-1", None, "account_id: empty"),
        ("123456789012", "", None, "region: empty"),
        (
            "123456789012",
            "us-east-1",
            Some(json!({})),
            "missing block.PublicAccessBlockConfiguration",
        ),
        (
            "123456789012",
            "us-east-1",
            Some(json!({"PublicAccessBlockConfiguration": {"RestrictPublicBuckets": 1}})),
            "block.PublicAccessBlockConfiguration.RestrictPublicBuckets: expected a boolean, found a number",
        ),
    ];
    for (account, region, block, want) in cases {
        let got = account_public_access_block_item(account, region, block, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string());
        assert_eq!(got, Err(want.to_string()));
    }
}
