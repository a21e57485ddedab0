//! The VPC and subnet mappings: AWS Config's own items for the same VPC and subnet, the members
//! it leaves out, the region, field errors, and the containers ingest finds them in.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ConfigurationItem, Relationship};
use serde_json::json;

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

/// The one configuration item of a real-data file, as ingest reads it.
fn aws_item(path: &str) -> ConfigurationItem {
    let path = format!(
        "{}/tests/data/realdata/config_items/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut records = parse_document(&bytes);
    assert_eq!(records.len(), 1, "{path}");
    match records.remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{path}: {other:?}"),
    }
}

/// `aws ec2 describe-vpcs` for the VPC of `rdk_example_ci/AWS_EC2_VPC.json`, written by hand
/// from that item in the CLI's shape, with the `OwnerId` EC2 writes today.
fn rdk_vpc() -> Value {
    json!({
        "CidrBlock": "172.31.0.0/16",
        "DhcpOptionsId": "dopt-3a32ab5f",
        "State": "available",
        "VpcId": "vpc-0990dc6d",
        "OwnerId": "264683526309",
        "InstanceTenancy": "default",
        "IsDefault": true
    })
}

/// `aws ec2 describe-subnets` for the subnet of `rdk_example_ci/AWS_EC2_Subnet.json`, written
/// the same way.
fn rdk_subnet() -> Value {
    json!({
        "AvailabilityZone": "us-east-1a",
        "AvailableIpAddressCount": 4089,
        "CidrBlock": "172.31.16.0/20",
        "DefaultForAz": true,
        "MapPublicIpOnLaunch": true,
        "State": "available",
        "SubnetId": "subnet-29428871",
        "VpcId": "vpc-0990dc6d",
        "OwnerId": "264683526309"
    })
}

/// Asserts that `mine` is AWS Config's item `theirs` in identity, account, region, ARN, zone
/// and tags, and in configuration but for `ownerId`: EC2's output has carried the owner since
/// 2018, the 2016 items do not show it. Left to AWS Config: the item version, capture time,
/// state id and hash, and the events it linked.
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
    assert_eq!(mine.tags, theirs.tags, "{what}");
    let mut configuration = mine.configuration.clone();
    let owner = configuration
        .as_object_mut()
        .and_then(|c| c.remove("ownerId"));
    assert_eq!(owner.as_ref(), Some(&json!(theirs.account_id)), "{what}");
    assert_eq!(configuration, theirs.configuration, "{what}");
}

#[test]
fn the_rdk_vpc_described_is_aws_configs_item() {
    let theirs = aws_item("rdk_example_ci/AWS_EC2_VPC.json");
    // Nothing in a VPC's description says its region: the caller does.
    let described = vpc_item(rdk_vpc(), Some("us-east-1"), at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let mine = described.item;
    assert_same_resource(&mine, &theirs, "vpc");
    assert_eq!(
        mine.arn.as_deref(),
        Some("arn:aws:ec2:us-east-1:264683526309:vpc/vpc-0990dc6d")
    );
    assert_eq!(
        mine.availability_zone.as_deref(),
        Some("Multiple Availability Zones")
    );
    // What a VPC contains (subnets, groups, interfaces, instances…) AWS Config learns from
    // those resources; the VPC's own description names none of them.
    assert!(mine.relationships.is_empty());
    assert_eq!(theirs.relationships.len(), 28);
}

#[test]
fn the_rdk_subnet_described_is_aws_configs_item() {
    let theirs = aws_item("rdk_example_ci/AWS_EC2_Subnet.json");
    // The zone says the region.
    let described = subnet_item(rdk_subnet(), None, at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let mine = described.item;
    assert_same_resource(&mine, &theirs, "subnet");
    assert_eq!(
        mine.arn.as_deref(),
        Some("arn:aws:ec2:us-east-1:264683526309:subnet/subnet-29428871")
    );
    assert_eq!(mine.availability_zone.as_deref(), Some("us-east-1a"));
    // The VPC the subnet is in; its network ACL, interfaces and instances AWS Config learns
    // from those resources.
    let in_vpc = Relationship {
        resource_type: "AWS::EC2::VPC".to_string(),
        resource_id: Some("vpc-0990dc6d".to_string()),
        resource_name: None,
        name: "Is contained in Vpc".to_string(),
    };
    assert!(theirs.relationships.contains(&in_vpc));
    assert_eq!(mine.relationships, [in_vpc]);
}

#[test]
fn newer_output_maps_what_aws_config_shows_and_nothing_else() {
    let mut vpc = rdk_vpc();
    vpc["CidrBlockAssociationSet"] = json!([{"AssociationId": "vpc-cidr-assoc-1",
        "CidrBlock": "172.31.0.0/16", "CidrBlockState": {"State": "associated"}}]);
    vpc["Ipv6CidrBlockAssociationSet"] = json!([{"AssociationId": "vpc-cidr-assoc-2",
        "Ipv6CidrBlock": "2600:1f18::/56", "Ipv6CidrBlockState": {"State": "associated"},
        "NetworkBorderGroup": "us-east-1", "Ipv6Pool": "Amazon"}]);
    vpc["BlockPublicAccessStates"] = json!({"InternetGatewayBlockMode": "off"});
    vpc["Tags"] = json!([{"Key": "Name", "Value": "main"}]);
    let item = vpc_item(vpc, Some("us-east-1"), at()).expect("mapped").item;
    assert_eq!(
        item.configuration,
        json!({
            "cidrBlock": "172.31.0.0/16",
            "cidrBlockAssociationSet": [{"associationId": "vpc-cidr-assoc-1",
                "cidrBlock": "172.31.0.0/16", "cidrBlockState": {"state": "associated"}}],
            "dhcpOptionsId": "dopt-3a32ab5f",
            "instanceTenancy": "default",
            "ipv6CidrBlockAssociationSet": [{"associationId": "vpc-cidr-assoc-2",
                "ipv6CidrBlock": "2600:1f18::/56", "ipv6CidrBlockState": {"state": "associated"}}],
            "isDefault": true,
            "ownerId": "264683526309",
            "state": "available",
            "tags": [{"key": "Name", "value": "main"}],
            "vpcId": "vpc-0990dc6d"
        })
    );
    assert_eq!(item.tags.get("Name").map(String::as_str), Some("main"));

    // A subnet with its own ARN, in another partition: its region and the ARN are its own.
    let mut subnet = rdk_subnet();
    subnet["AvailabilityZone"] = json!("cn-north-1a");
    subnet["SubnetArn"] = json!("arn:aws-cn:ec2:cn-north-1:264683526309:subnet/subnet-29428871");
    subnet["AvailabilityZoneId"] = json!("cnn1-az1");
    subnet["AssignIpv6AddressOnCreation"] = json!(false);
    subnet["Ipv6CidrBlockAssociationSet"] = json!([]);
    subnet["EnableDns64"] = json!(false);
    subnet["Ipv6Native"] = json!(false);
    subnet["MapCustomerOwnedIpOnLaunch"] = json!(false);
    subnet["PrivateDnsNameOptionsOnLaunch"] = json!({"HostnameType": "ip-name"});
    let described = subnet_item(subnet, None, at()).expect("mapped");
    assert!(described.warnings.is_empty(), "{:?}", described.warnings);
    let item = described.item;
    assert_eq!(item.aws_region, "cn-north-1");
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws-cn:ec2:cn-north-1:264683526309:subnet/subnet-29428871")
    );
    assert_eq!(
        item.configuration,
        json!({
            "assignIpv6AddressOnCreation": false,
            "availabilityZone": "cn-north-1a",
            "availableIpAddressCount": 4089,
            "cidrBlock": "172.31.16.0/20",
            "defaultForAz": true,
            "ipv6CidrBlockAssociationSet": [],
            "mapPublicIpOnLaunch": true,
            "ownerId": "264683526309",
            "state": "available",
            "subnetId": "subnet-29428871",
            "tags": [],
            "vpcId": "vpc-0990dc6d"
        })
    );
}

#[test]
fn without_a_region_the_item_says_so() {
    let described = vpc_item(rdk_vpc(), None, at()).expect("mapped");
    assert_eq!(described.item.aws_region, "");
    assert_eq!(
        described.item.arn.as_deref(),
        Some("arn:aws:ec2::264683526309:vpc/vpc-0990dc6d")
    );
    assert_eq!(described.warnings.len(), 1, "{:?}", described.warnings);
    assert!(described.warnings[0].starts_with("awsRegion: "));

    let mut subnet = rdk_subnet();
    subnet["AvailabilityZone"] = Value::Null;
    let described = subnet_item(subnet, None, at()).expect("mapped");
    assert_eq!(described.item.aws_region, "");
    assert_eq!(described.item.availability_zone, None);
    assert_eq!(described.warnings.len(), 1, "{:?}", described.warnings);
}

#[test]
fn malformed_vpcs_and_subnets_are_one_error_naming_the_field() {
    let vpc_cases: [(&str, Value, &str); 4] = [
        ("/VpcId", Value::Null, "missing VpcId"),
        ("/OwnerId", json!(""), "OwnerId: empty"),
        (
            "/IsDefault",
            json!("true"),
            "IsDefault: expected a boolean, found a string",
        ),
        (
            "/State",
            json!({"Name": "available"}),
            "State: expected a string, found an object",
        ),
    ];
    for (pointer, value, want) in vpc_cases {
        let mut vpc = rdk_vpc();
        *vpc.pointer_mut(pointer).expect(pointer) = value;
        assert_eq!(
            vpc_item(vpc, Some("us-east-1"), at())
                .map(|d| d.item.resource_id)
                .map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{pointer}"
        );
    }
    let mut vpc = rdk_vpc();
    vpc["CidrBlockAssociationSet"] = json!([{"CidrBlock": "10.0.0.0/16", "CidrBlockState": "ok"}]);
    assert_eq!(
        vpc_item(vpc, Some("us-east-1"), at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err(
            "CidrBlockAssociationSet[0].CidrBlockState: expected an object, found a string"
                .to_string()
        )
    );
    let subnet_cases: [(&str, Value, &str); 3] = [
        ("/SubnetId", Value::Null, "missing SubnetId"),
        ("/OwnerId", Value::Null, "missing OwnerId"),
        (
            "/AvailableIpAddressCount",
            json!("4089"),
            "AvailableIpAddressCount: expected an integer, found a string",
        ),
    ];
    for (pointer, value, want) in subnet_cases {
        let mut subnet = rdk_subnet();
        *subnet.pointer_mut(pointer).expect(pointer) = value;
        assert_eq!(
            subnet_item(subnet, None, at())
                .map(|d| d.item.resource_id)
                .map_err(|e| e.to_string()),
            Err(want.to_string()),
            "{pointer}"
        );
    }
    assert_eq!(
        vpc_item(json!(null), None, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err("expected a VPC (an object), found null".to_string())
    );
    assert_eq!(
        subnet_item(json!(["subnet-1"]), None, at())
            .map(|d| d.item.resource_id)
            .map_err(|e| e.to_string()),
        Err("expected a subnet (an object), found an array".to_string())
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
fn ingest_finds_vpcs_and_subnets_in_cli_output_and_bare() {
    let mut broken = rdk_subnet();
    broken["SubnetId"] = Value::Null;
    assert_eq!(
        records(&json!({"Subnets": [rdk_subnet(), broken], "NextToken": "abc"})),
        [
            ("Subnets[0]".to_string(), "item subnet-29428871".to_string()),
            ("Subnets[1]".to_string(), "missing SubnetId".to_string()),
        ]
    );
    assert_eq!(
        records(&json!({"Vpcs": [rdk_vpc()]})),
        [("Vpcs[0]".to_string(), "item vpc-0990dc6d".to_string())]
    );
    // --query 'Vpcs' / --query 'Subnets[0]'.
    assert_eq!(
        records(&json!([rdk_vpc(), rdk_subnet()])),
        [
            ("[0]".to_string(), "item vpc-0990dc6d".to_string()),
            ("[1]".to_string(), "item subnet-29428871".to_string()),
        ]
    );
    for (key, noun) in [("Vpcs", "VPCs"), ("Subnets", "subnets")] {
        assert_eq!(
            records(&json!({key: "none"})),
            [(
                key.to_string(),
                format!("expected an array of {noun}, found a string")
            )]
        );
    }
    // A VPC's description does not say its region; a subnet's zone does.
    let parsed = parse_document(json!({"Vpcs": [rdk_vpc()]}).to_string().as_bytes());
    assert_eq!(parsed[0].warnings.len(), 1, "{:?}", parsed[0].warnings);
    let parsed = parse_document(json!({"Subnets": [rdk_subnet()]}).to_string().as_bytes());
    assert!(parsed[0].warnings.is_empty(), "{:?}", parsed[0].warnings);
}
