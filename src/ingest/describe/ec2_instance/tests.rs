//! The instance mapping: AWS Config's own items for the same instances, the members it leaves
//! out, the account and region, field errors, and the containers ingest finds instances in.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ConfigurationItem, ItemStatus, Relationship};
use serde_json::json;

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

fn realdata(path: &str) -> String {
    format!(
        "{}/tests/data/realdata/config_items/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The one configuration item of a real-data file, as ingest reads it.
fn aws_item(path: &str) -> ConfigurationItem {
    let path = realdata(path);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut records = parse_document(&bytes);
    assert_eq!(records.len(), 1, "{path}");
    match records.remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{path}: {other:?}"),
    }
}

/// What `aws ec2 describe-instances` printed for the instance of the rdk example item
/// `rdk_example_ci/AWS_EC2_Instance.json` (i-03402838daac1d611), written by hand from that
/// item: the same members, PascalCase, times as the CLI prints them, no `Tags` (EC2 leaves
/// the list out when an instance has none), and the reservation around it.
fn rdk_reservation() -> Value {
    let public = json!({
        "IpOwnerId": "amazon",
        "PublicDnsName": "ec2-34-205-29-138.compute-1.amazonaws.com",
        "PublicIp": "34.205.29.138"
    });
    let interface = json!({
        "Association": public,
        "Attachment": {
            "AttachTime": "2017-04-05T22:15:53+00:00",
            "AttachmentId": "eni-attach-e8d5c971",
            "DeleteOnTermination": true,
            "DeviceIndex": 0,
            "Status": "attached"
        },
        "Description": "",
        "Groups": [{"GroupName": "launch-wizard-2", "GroupId": "sg-fd215482"}],
        "Ipv6Addresses": [],
        "MacAddress": "02:3e:c3:cb:e9:da",
        "NetworkInterfaceId": "eni-d055cfc4",
        "OwnerId": "681361479661",
        "PrivateDnsName": "ip-172-31-74-239.ec2.internal",
        "PrivateIpAddress": "172.31.74.239",
        "PrivateIpAddresses": [{
            "Association": public,
            "Primary": true,
            "PrivateDnsName": "ip-172-31-74-239.ec2.internal",
            "PrivateIpAddress": "172.31.74.239"
        }],
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": "subnet-1aaccc7f",
        "VpcId": "vpc-79b3ea1e"
    });
    let volume = json!({
        "DeviceName": "/dev/xvda",
        "Ebs": {
            "AttachTime": "2017-04-05T22:15:54+00:00",
            "DeleteOnTermination": true,
            "Status": "attached",
            "VolumeId": "vol-0c24aa343c564eda8"
        }
    });
    let metadata = json!({
        "State": "applied",
        "HttpTokens": "optional",
        "HttpPutResponseHopLimit": 1,
        "HttpEndpoint": "enabled",
        "HttpProtocolIpv6": "disabled",
        "InstanceMetadataTags": "disabled"
    });
    let instance = json!({
        "AmiLaunchIndex": 0,
        "ImageId": "ami-22ce4934",
        "InstanceId": "i-03402838daac1d611",
        "InstanceType": "t2.micro",
        "KeyName": "ssm-key",
        "LaunchTime": "2017-04-05T22:15:53+00:00",
        "Monitoring": {"State": "disabled"},
        "Placement": {"AvailabilityZone": "us-east-1b", "GroupName": "", "Tenancy": "default"},
        "PrivateDnsName": "ip-172-31-74-239.ec2.internal",
        "PrivateIpAddress": "172.31.74.239",
        "ProductCodes": [],
        "PublicDnsName": "ec2-34-205-29-138.compute-1.amazonaws.com",
        "PublicIpAddress": "34.205.29.138",
        "State": {"Code": 16, "Name": "running"},
        "StateTransitionReason": "",
        "SubnetId": "subnet-1aaccc7f",
        "VpcId": "vpc-79b3ea1e",
        "Architecture": "x86_64",
        "BlockDeviceMappings": [volume],
        "ClientToken": "UuPNx1491430552432",
        "EbsOptimized": true,
        "EnaSupport": true,
        "Hypervisor": "xen",
        "NetworkInterfaces": [interface],
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "SecurityGroups": [{"GroupName": "launch-wizard-2", "GroupId": "sg-fd215482"}],
        "SourceDestCheck": true,
        "VirtualizationType": "hvm",
        "MetadataOptions": metadata
    });
    json!({
        "Groups": [],
        "Instances": [instance],
        "OwnerId": "681361479661",
        "ReservationId": "r-0d1e2f3a4b5c6d7e8"
    })
}

/// Asserts that `mine` is AWS Config's item `theirs` in all that describe output can know:
/// identity, account, region, ARN, zone, tags, relationships and configuration. Left to AWS
/// Config: the item version (1.2 there), status (`ResourceDiscovered` for the first item AWS
/// Config records, OK for a description), capture time, state id and hash, the CloudTrail
/// events AWS Config linked, and `resourceCreationTime` (describe output has only the last
/// `LaunchTime`).
fn assert_same_resource(mine: &ConfigurationItem, theirs: &ConfigurationItem, what: &str) {
    assert_eq!(
        (&mine.resource_type, &mine.resource_id, &mine.account_id),
        (
            &theirs.resource_type,
            &theirs.resource_id,
            &theirs.account_id
        ),
        "{what}"
    );
    assert_eq!(mine.resource_name, theirs.resource_name, "{what}");
    assert_eq!(mine.aws_region, theirs.aws_region, "{what}");
    assert_eq!(mine.arn, theirs.arn, "{what}");
    assert_eq!(mine.availability_zone, theirs.availability_zone, "{what}");
    assert_eq!(mine.relationships, theirs.relationships, "{what}");
}

#[test]
fn the_rdk_instance_described_is_aws_configs_item() {
    let theirs = aws_item("rdk_example_ci/AWS_EC2_Instance.json");
    let mut mapped = reservation_items(rdk_reservation(), None, at()).expect("a reservation");
    assert_eq!(mapped.len(), 1);
    let (path, described) = mapped.remove(0);
    assert_eq!(path, "Instances[0]");
    let described = described.expect("mapped");
    // The zone says the region: nothing is left unknown.
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let mine = described.item;
    assert_same_resource(&mine, &theirs, "rdk");
    // Configuration, tags and ARN as AWS Config wrote them, to the last member.
    assert_eq!(mine.configuration, theirs.configuration);
    assert_eq!(mine.tags, theirs.tags);
    assert_eq!(
        mine.arn.as_deref(),
        Some("arn:aws:ec2:us-east-1:681361479661:instance/i-03402838daac1d611")
    );
    assert_eq!(mine.availability_zone.as_deref(), Some("us-east-1b"));
    assert_eq!(mine.relationships.len(), 5);
    assert_eq!(mine.item_version.as_deref(), Some("1.3"));
    assert_eq!(mine.configuration_item_status, ItemStatus::Ok);
    assert_eq!(mine.configuration_item_capture_time, at());
    assert_eq!(mine.resource_creation_time, None);
    assert!(mine.related_events.is_empty() && mine.supplementary_configuration.is_empty());
}

/// PascalCases an AWS Config instance configuration back into what DescribeInstances returns:
/// members AWS Config wrote null are members EC2 left out, and times are as the CLI prints
/// them (`2017-01-09T20:13:28+00:00`).
fn to_describe_output(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key: String = chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                    let v = match v.as_str() {
                        Some(time) if k.ends_with("Time") => {
                            Value::from(time.replace(".000Z", "+00:00"))
                        }
                        _ => to_describe_output(v),
                    };
                    (key, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_describe_output).collect()),
        other => other.clone(),
    }
}

/// AWS Config 1.2 wrote members EC2 left out as null; 1.3 and describe output leave them out.
/// `publicIpAddress` stays: AWS Config writes it on every instance, and so does the mapping.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !v.is_null() || k.as_str() == "publicIpAddress")
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_other_real_instances_described_are_aws_configs_items() {
    // AWS's documentation's change notification (public address) and cloud-custodian's rule
    // event (a stopped instance: no public address, two volumes).
    for (file, same_tags) in [
        (
            "awsdocs_examples/sns_ci_change_notification_ec2_instance_relationships.json",
            true,
        ),
        // Its item's tags (Name=redrum-redrum) are not its configuration's (Name=redum-storage):
        // describe output has only the latter.
        ("custodian/cwe__event-config-rule-instance.json", false),
    ] {
        let theirs = aws_item(file);
        let instance = to_describe_output(&theirs.configuration);
        let described = instance_item(instance, Some(&theirs.account_id), None, at())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(described.warnings.is_empty(), "{file}");
        let mine = described.item;
        assert_same_resource(&mine, &theirs, file);
        assert_eq!(
            mine.configuration,
            without_nulls(&theirs.configuration),
            "{file}"
        );
        if same_tags {
            assert_eq!(mine.tags, theirs.tags, "{file}");
        }
    }
}

/// A minimal instance: the lists AWS Config always writes are there, empty, and
/// `publicIpAddress` is null.
#[test]
fn an_instance_ec2_says_little_of_still_shows_what_rules_read() {
    let instance = json!({
        "InstanceId": "i-0a", "InstanceType": "t3.micro",
        "Placement": {"AvailabilityZone": "eu-west-1a", "Tenancy": "default"},
        "State": {"Code": 80, "Name": "stopped"}, "PrivateIpAddress": null
    });
    let described = instance_item(instance, Some("111122223333"), None, at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let item = described.item;
    assert_eq!(
        item.configuration,
        json!({
            "instanceId": "i-0a", "instanceType": "t3.micro",
            "placement": {"availabilityZone": "eu-west-1a", "tenancy": "default"},
            "state": {"code": 80, "name": "stopped"},
            "publicIpAddress": null,
            "blockDeviceMappings": [], "networkInterfaces": [], "productCodes": [],
            "securityGroups": [], "tags": []
        })
    );
    assert_eq!(item.aws_region, "eu-west-1");
    assert!(item.relationships.is_empty() && item.tags.is_empty());
    assert_eq!(item.resource_name, None);
}

#[test]
fn members_aws_config_does_not_show_are_not_copied() {
    let mut reservation = rdk_reservation();
    let instance = &mut reservation["Instances"][0];
    // Members of newer describe output.
    instance["Ipv6Address"] = json!("2001:db8::1");
    instance["TpmSupport"] = json!("v2.0");
    instance["UsageOperationUpdateTime"] = json!("2017-04-05T22:15:53+00:00");
    instance["NetworkPerformanceOptions"] = json!({"BandwidthWeighting": "default"});
    instance["Operator"] = json!({"Managed": false});
    instance["Placement"]["AvailabilityZoneId"] = json!("use1-az4");
    instance["NetworkInterfaces"][0]["Ipv4Prefixes"] = json!([]);
    instance["NetworkInterfaces"][0]["Operator"] = json!({"Managed": false});
    instance["NetworkInterfaces"][0]["Attachment"]["EnaQueueCount"] = json!(2);
    instance["NetworkInterfaces"][0]["Association"]["CustomerOwnedIp"] = json!("10.9.9.9");
    instance["NetworkInterfaces"][0]["Ipv6Addresses"] =
        json!([{"Ipv6Address": "2001:db8::1", "IsPrimaryIpv6": true}]);
    instance["BlockDeviceMappings"][0]["Ebs"]["VolumeOwnerId"] = json!("681361479661");
    instance["MaintenanceOptions"] =
        json!({"AutoRecovery": "default", "RebootMigration": "default"});
    let instance = instance.take();
    let item = instance_item(instance, Some("681361479661"), None, at())
        .expect("mapped")
        .item;
    let mut want = aws_item("rdk_example_ci/AWS_EC2_Instance.json").configuration;
    want["networkInterfaces"][0]["ipv6Addresses"] = json!([{"ipv6Address": "2001:db8::1"}]);
    want["maintenanceOptions"] = json!({"autoRecovery": "default"});
    assert_eq!(item.configuration, want);
}

#[test]
fn the_account_comes_from_the_reservation_or_the_first_interface() {
    let instance = rdk_reservation()["Instances"][0].clone();
    let described = instance_item(instance.clone(), None, None, at()).expect("mapped");
    assert_eq!(described.item.account_id, "681361479661");
    assert_eq!(
        described.warnings,
        [
            "awsAccountId: the reservation's OwnerId was not given; taken from \
          NetworkInterfaces[0].OwnerId"
        ]
    );
    let mut bare = instance;
    bare["NetworkInterfaces"] = json!([]);
    assert_eq!(
        instance_item(bare, Some(""), None, at()).map(|d| d.item.resource_id),
        Err(DescribeError::Missing(
            "OwnerId of the reservation (and no network interface names an owner)".to_string()
        ))
    );
}

#[test]
fn the_region_comes_from_the_caller_or_the_zone_or_is_left_empty() {
    let instance = || rdk_reservation()["Instances"][0].clone();
    let china =
        instance_item(instance(), Some("681361479661"), Some("cn-north-1"), at()).expect("mapped");
    assert_eq!(china.item.aws_region, "cn-north-1");
    assert_eq!(
        china.item.arn.as_deref(),
        Some("arn:aws-cn:ec2:cn-north-1:681361479661:instance/i-03402838daac1d611")
    );
    // The zone stays the placement's.
    assert_eq!(china.item.availability_zone.as_deref(), Some("us-east-1b"));

    let mut nowhere = instance();
    nowhere["Placement"] = json!({"Tenancy": "default"});
    let described = instance_item(nowhere, Some("681361479661"), None, at()).expect("mapped");
    assert_eq!(described.item.aws_region, "");
    assert_eq!(described.item.availability_zone, None);
    assert_eq!(
        described.item.arn.as_deref(),
        Some("arn:aws:ec2::681361479661:instance/i-03402838daac1d611")
    );
    assert_eq!(described.warnings.len(), 1, "{:?}", described.warnings);
    assert!(described.warnings[0].starts_with("awsRegion: "));
}

#[test]
fn relationships_are_named_as_aws_config_names_them() {
    let mut instance = rdk_reservation()["Instances"][0].clone();
    // A second interface with its own group, and a second volume.
    instance["NetworkInterfaces"]
        .as_array_mut()
        .expect("interfaces")
        .push(json!({"NetworkInterfaceId": "eni-2", "Groups": [{"GroupId": "sg-2"}]}));
    instance["SecurityGroups"]
        .as_array_mut()
        .expect("groups")
        .push(json!({"GroupId": "sg-2", "GroupName": "two"}));
    instance["BlockDeviceMappings"]
        .as_array_mut()
        .expect("devices")
        .push(json!({"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": "vol-2"}}));
    let item = instance_item(instance, Some("681361479661"), None, at())
        .expect("mapped")
        .item;
    let rel = |resource_type: &str, id: &str, name: &str| Relationship {
        resource_type: resource_type.to_string(),
        resource_id: Some(id.to_string()),
        resource_name: None,
        name: name.to_string(),
    };
    let mut want = vec![
        rel(
            "AWS::EC2::NetworkInterface",
            "eni-d055cfc4",
            "Contains NetworkInterface",
        ),
        rel(
            "AWS::EC2::NetworkInterface",
            "eni-2",
            "Contains NetworkInterface",
        ),
        rel(
            "AWS::EC2::SecurityGroup",
            "sg-fd215482",
            "Is associated with SecurityGroup",
        ),
        rel(
            "AWS::EC2::SecurityGroup",
            "sg-2",
            "Is associated with SecurityGroup",
        ),
        rel(
            "AWS::EC2::Subnet",
            "subnet-1aaccc7f",
            "Is contained in Subnet",
        ),
        rel(
            "AWS::EC2::Volume",
            "vol-0c24aa343c564eda8",
            "Is attached to Volume",
        ),
        rel("AWS::EC2::Volume", "vol-2", "Is attached to Volume"),
        rel("AWS::EC2::VPC", "vpc-79b3ea1e", "Is contained in Vpc"),
    ];
    want.sort();
    assert_eq!(item.relationships, want);
}

#[test]
fn a_malformed_instance_is_one_error_naming_the_field() {
    let cases: [(&str, Value, &str); 10] = [
        ("/InstanceId", Value::Null, "missing InstanceId"),
        ("/InstanceId", json!(""), "InstanceId: empty"),
        (
            "/LaunchTime",
            json!("yesterday"),
            "LaunchTime: expected an ISO 8601 time, found \"yesterday\"",
        ),
        (
            "/State/Code",
            json!("16"),
            "State.Code: expected an integer, found a string",
        ),
        (
            "/Placement",
            json!("us-east-1b"),
            "Placement: expected an object, found a string",
        ),
        (
            "/SourceDestCheck",
            json!("true"),
            "SourceDestCheck: expected a boolean, found a string",
        ),
        (
            "/NetworkInterfaces/0/Association/PublicIp",
            json!(34),
            "NetworkInterfaces[0].Association.PublicIp: expected a string, found a number",
        ),
        (
            "/NetworkInterfaces/0/PrivateIpAddresses",
            json!({}),
            "NetworkInterfaces[0].PrivateIpAddresses: expected an array, found an object",
        ),
        (
            "/BlockDeviceMappings/0/Ebs/AttachTime",
            json!(1491430554),
            "BlockDeviceMappings[0].Ebs.AttachTime: expected a string, found a number",
        ),
        (
            "/SecurityGroups/0",
            json!("sg-fd215482"),
            "SecurityGroups[0]: expected an object, found a string",
        ),
    ];
    for (pointer, value, want) in cases {
        let mut instance = rdk_reservation()["Instances"][0].clone();
        *instance.pointer_mut(pointer).expect(pointer) = value;
        let got =
            instance_item(instance, Some("681361479661"), None, at()).map(|d| d.item.resource_id);
        assert_eq!(
            got.map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{pointer}"
        );
    }
    let mut instance = rdk_reservation()["Instances"][0].clone();
    instance["Tags"] = json!([{"Value": "web"}]);
    assert_eq!(
        instance_item(instance, Some("681361479661"), None, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err("missing Tags[0].Key".to_string())
    );
    assert_eq!(
        instance_item(json!("i-1"), Some("681361479661"), None, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err("expected an instance (an object), found a string".to_string())
    );
    // The reservation itself.
    for (reservation, want) in [
        (
            json!([]),
            "expected a reservation (an object), found an array",
        ),
        (json!({"OwnerId": "1"}), "missing Instances"),
        (
            json!({"OwnerId": 1, "Instances": []}),
            "OwnerId: expected a string, found a number",
        ),
        (
            json!({"OwnerId": "1", "Instances": {}}),
            "Instances: expected an array, found an object",
        ),
    ] {
        assert_eq!(
            reservation_items(reservation.clone(), None, at())
                .map(|items| items.len())
                .map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{reservation}"
        );
    }
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
fn ingest_finds_instances_in_cli_output_sdk_recordings_and_bare() {
    let good = rdk_reservation();
    let mut broken = rdk_reservation()["Instances"][0].clone();
    broken["InstanceId"] = Value::Null;
    let second = json!({"OwnerId": "681361479661", "ReservationId": "r-2",
        "Instances": [{"InstanceId": "i-2", "InstanceType": "t3.nano"}, broken]});
    let reservations = json!([good, second, {"ReservationId": "r-3"}]);
    let want = |prefix: &str| {
        vec![
            (
                format!("{prefix}[0].Instances[0]"),
                "item i-03402838daac1d611".to_string(),
            ),
            (format!("{prefix}[1].Instances[0]"), "item i-2".to_string()),
            (
                format!("{prefix}[1].Instances[1]"),
                "missing InstanceId".to_string(),
            ),
            (format!("{prefix}[2]"), "missing Instances".to_string()),
        ]
    };
    // aws ec2 describe-instances, paginated or not.
    assert_eq!(
        records(&json!({"Reservations": reservations.clone(), "NextToken": "abc"})),
        want("Reservations")
    );
    // A boto response recorded by placebo.
    let recorded = json!({"status_code": 200, "data": {"Reservations": reservations,
        "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "r-1"}}});
    assert_eq!(records(&recorded), want("data > Reservations"));
    // --query 'Reservations[].Instances[]': the instances on their own; and one reservation.
    assert_eq!(
        records(&json!([rdk_reservation()["Instances"][0]])),
        [("[0]".to_string(), "item i-03402838daac1d611".to_string())]
    );
    assert_eq!(
        records(&rdk_reservation()),
        [(
            "Instances[0]".to_string(),
            "item i-03402838daac1d611".to_string()
        )]
    );
    assert_eq!(
        records(&json!({"Reservations": {"OwnerId": "1"}})),
        [(
            "Reservations".to_string(),
            "expected an array of reservations, found an object".to_string()
        )]
    );
    // The owner is the reservation's; the zone gives the region: no warnings.
    let parsed = parse_document(
        json!({"Reservations": [rdk_reservation()]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(parsed.len(), 1);
    assert!(parsed[0].warnings.is_empty(), "{:?}", parsed[0].warnings);
}
