//! EC2 `DescribeSecurityGroups` output as configuration items, checked against AWS Config's own
//! items for the same group (cloud-custodian's placebo recordings under
//! `tests/data/realdata/config_items/custodian/`, see `tests/data/realdata/SOURCES.md`) and
//! against the 1.3 items of the awslabs rule cases. `tests/cli.rs` ingests describe output end
//! to end and checks the managed rules' verdicts on it.

mod common;

use common::repo;
use conftrail::ingest::describe::ec2::security_group_item;
use conftrail::ingest::{parse_document, RecordOutcome};
use conftrail::model::ConfigurationItem;
use serde_json::{json, Map, Value};

const CUSTODIAN: &str = "tests/data/realdata/config_items/custodian";
const SG: &str = "sg-a38ed1de";

/// Each DescribeSecurityGroups recording with sg-a38ed1de, the history recording of the same
/// custodian test, and whether the two show the same state of the group.
///
/// Both history recordings hold the same two items for sg-a38ed1de, captured
/// 2016-12-11T06:04:02.376Z and 06:04:03.800Z with equal content: ingress tcp 8080 from
/// 0.0.0.0/0 and tcp 443 from 10.42.1.0/24, tags App and NetworkLocation=DMZ. custodian's
/// `test_sg_config_diff` describes the group after it was changed (22 from 10.0.0.0/24 and
/// 8485 from itself added, tag Scope added) and diffs it against that history;
/// `test_sg_config_patch_pitr` describes it changed (`_1`), patches it back to the history state
/// and describes it again (`_2`): only `_2` shows what AWS Config recorded.
const RECORDINGS: [(&str, &str, bool); 3] = [
    (
        "placebo__test_sg_config_diff__ec2.DescribeSecurityGroups_1.json",
        "placebo__test_sg_config_diff__config.GetResourceConfigHistory_1.json",
        false,
    ),
    (
        "placebo__test_sg_config_patch_pitr__ec2.DescribeSecurityGroups_1.json",
        "placebo__test_sg_config_patch_pitr__config.GetResourceConfigHistory_1.json",
        false,
    ),
    (
        "placebo__test_sg_config_patch_pitr__ec2.DescribeSecurityGroups_2.json",
        "placebo__test_sg_config_patch_pitr__config.GetResourceConfigHistory_1.json",
        true,
    ),
];

fn custodian(file: &str) -> String {
    repo(&format!("{CUSTODIAN}/{file}"))
}

fn read_json(path: &str) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The configuration items a document parses into (every record must be one).
fn parsed_items(path: &str) -> Vec<(ConfigurationItem, Vec<String>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_document(&bytes)
        .into_iter()
        .map(|r| match r.outcome {
            RecordOutcome::Item(item) => (*item, r.warnings),
            other => panic!("{path}: {}: expected an item, got {other:?}", r.location),
        })
        .collect()
}

/// What a 1.2 item can show of a 1.3 configuration: 1.2 items have only the legacy `ipRanges`
/// (AWS Config added `ipv4Ranges` and `ipv6Ranges` in 1.3). Checks first that what is dropped
/// holds nothing `ipRanges` does not: the `ipv4Ranges` CIDRs are the `ipRanges`, and there are
/// no IPv6 ranges (a 1.2 item could not show them; none of the recordings has any).
fn as_v12(mut configuration: Value) -> Value {
    for list in ["ipPermissions", "ipPermissionsEgress"] {
        let Some(permissions) = configuration[list].as_array_mut() else {
            panic!("{list} is not an array: {configuration}");
        };
        for p in permissions {
            let Some(p) = p.as_object_mut() else {
                panic!("a permission is not an object");
            };
            let v4 = p.remove("ipv4Ranges").expect("ipv4Ranges");
            let cidrs: Vec<Value> = v4
                .as_array()
                .expect("ipv4Ranges array")
                .iter()
                .map(|r| r["cidrIp"].clone())
                .collect();
            assert_eq!(Value::Array(cidrs), p["ipRanges"], "ipv4Ranges vs ipRanges");
            assert_eq!(p.remove("ipv6Ranges"), Some(json!([])), "ipv6Ranges");
        }
    }
    configuration
}

/// AWS Config 1.2 wrote members the SDK left unset as null (the ports of protocol -1, a group
/// pair's `groupName`, `vpcId`, …); 1.3 and describe output leave them out.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The group `id` of a DescribeSecurityGroups recording, as described.
fn described_group(recording: &Value, id: &str) -> Value {
    recording["data"]["SecurityGroups"]
        .as_array()
        .expect("SecurityGroups")
        .iter()
        .find(|g| g["GroupId"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not in the recording"))
}

#[test]
fn mapped_items_match_aws_configs_items_for_the_same_group() {
    for (describe_file, history_file, same_state) in RECORDINGS {
        let history = parsed_items(&custodian(history_file));
        let aws: Vec<&ConfigurationItem> = history
            .iter()
            .map(|(item, _)| item)
            .filter(|item| item.resource_id == SG)
            .collect();
        assert_eq!(aws.len(), 2, "{history_file}: two items for {SG}");
        assert_eq!(aws[0].configuration, aws[1].configuration, "{history_file}");
        let aws = aws[0];

        // Through ingest's parser, as `conftrail ingest FILE` reads it: no region known.
        let ingested = parsed_items(&custodian(describe_file));
        let (mapped, warnings) = ingested
            .iter()
            .find(|(item, _)| item.resource_id == SG)
            .unwrap_or_else(|| panic!("{describe_file}: {SG} not mapped"));
        assert_eq!(mapped.aws_region, "", "{describe_file}");
        assert_eq!(warnings.len(), 1, "{describe_file}: {warnings:?}");
        // Through the mapping, with the region AWS Config's item is in.
        let group = described_group(&read_json(&custodian(describe_file)), SG);
        let with_region = security_group_item(group, Some(&aws.aws_region), chrono::Utc::now())
            .unwrap_or_else(|e| panic!("{describe_file}: {e}"));
        assert!(with_region.warnings.is_empty(), "{describe_file}");
        let with_region = with_region.item;
        assert_eq!(
            with_region.configuration, mapped.configuration,
            "{describe_file}"
        );

        // Identity: the same resource as AWS Config's item.
        for item in [mapped, &with_region] {
            assert_eq!(
                (&item.resource_type, &item.resource_id, &item.account_id),
                (&aws.resource_type, &aws.resource_id, &aws.account_id),
                "{describe_file}"
            );
            assert_eq!(
                item.availability_zone, aws.availability_zone,
                "{describe_file}"
            );
            // The 1.2 API form carries no resourceName; 1.3 items name a group by its name.
            assert_eq!(
                item.resource_name.as_deref(),
                aws.configuration["groupName"].as_str(),
                "{describe_file}"
            );
        }
        assert_eq!(
            (&with_region.aws_region, &with_region.arn),
            (&aws.aws_region, &aws.arn),
            "{describe_file}"
        );

        let mine = as_v12(mapped.configuration.clone());
        let theirs = without_nulls(aws.configuration.clone());
        if same_state {
            // Differences left to AWS Config's own: the item version (1.2 there) and the status
            // (ResourceDiscovered for the first item AWS Config records, OK for a description).
            assert_eq!(mine, theirs, "{describe_file} vs {history_file}");
            assert_eq!(mapped.tags, aws.tags, "{describe_file}");
            assert_eq!(mapped.relationships, aws.relationships, "{describe_file}");
        } else {
            assert_ne!(mine, theirs, "{describe_file} shows a later state");
            for key in ["groupId", "groupName", "description", "ownerId", "vpcId"] {
                assert_eq!(mine[key], theirs[key], "{describe_file}: {key}");
            }
            // The permissions AWS Config recorded are still there, mapped the same.
            let ingress = mine["ipPermissions"].as_array().expect("ipPermissions");
            for p in theirs["ipPermissions"].as_array().expect("ipPermissions") {
                assert!(
                    ingress.contains(p),
                    "{describe_file}: {p} not in {ingress:?}"
                );
            }
            assert_eq!(mapped.relationships, aws.relationships, "{describe_file}");
        }
    }
}

/// PascalCases an AWS Config 1.3 security group configuration back into what
/// DescribeSecurityGroups returns: `ipv4Ranges` is `IpRanges`, the legacy `ipRanges` is not
/// there.
fn to_describe_output(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "ipRanges")
                .map(|(k, v)| {
                    let key = match k.as_str() {
                        "ipv4Ranges" => "IpRanges".to_string(),
                        other => {
                            let mut chars = other.chars();
                            chars
                                .next()
                                .map(|c| c.to_uppercase().chain(chars).collect())
                                .unwrap_or_default()
                        }
                    };
                    (key, to_describe_output(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_describe_output).collect()),
        other => other.clone(),
    }
}

#[test]
fn mapping_gives_back_the_v13_configurations_of_the_awslabs_cases() {
    let oracle = read_json(&repo(
        "tests/data/realdata/oracle/aws_config_rules_VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS_cases.json",
    ));
    let cases = oracle["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let name = &case["test_name"];
        let event: Value = match &case["invoking_event"] {
            Value::String(text) => serde_json::from_str(text).expect("invoking event"),
            other => other.clone(),
        };
        let aws = &event["configurationItem"];
        let configuration = &aws["configuration"];
        let group = to_describe_output(configuration);
        let item = security_group_item(group, aws["awsRegion"].as_str(), chrono::Utc::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .item;
        assert_eq!(&item.configuration, configuration, "{name}");
        assert_eq!(
            item.resource_name.as_deref(),
            aws["resourceName"].as_str(),
            "{name}"
        );
    }
}
