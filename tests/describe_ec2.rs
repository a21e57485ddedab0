//! EC2 `DescribeInstances`, `DescribeVpcs` and `DescribeSubnets` output ingested end to end:
//! the `conftrail` binary on the hand-written CLI output under `tests/data/describe/` (see its
//! README), the items it stores, and the managed instance rules' verdicts on them.

mod common;

use common::{conftrail, json, repo};
use serde_json::Value;
use std::path::Path;

const ACCOUNT: &str = "111122223333";
/// The bastion: public IP 203.0.113.10, group `bastion` (SSH open to the world).
const BASTION: &str = "i-0a1b2c3d4e5f60718";
/// The app server: no public address, group `internal` (SSH from the VPC only).
const APP: &str = "i-0f1e2d3c4b5a69788";
const VPC: &str = "vpc-0a1b2c3d4e5f60718";
const PUBLIC_SUBNET: &str = "subnet-0aa11bb22cc33dd44";

fn fixture(name: &str) -> String {
    repo(&format!("tests/data/describe/{name}"))
}

/// Ingests `file` and returns its summary line, checking the run succeeded.
fn ingest(data: &Path, file: &str) -> (String, String) {
    let out = conftrail(data, &["ingest", file]);
    assert_eq!(out.status.code(), Some(0), "{}", common::describe(&out));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The latest verdict of `rule` on `id`: (compliance, annotation).
fn verdict(summary: &Value, rule: &str, id: &str) -> (Value, Value) {
    let found = summary["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["ruleName"] == rule && v["resourceId"] == id)
        .unwrap_or_else(|| panic!("no verdict of {rule} on {id}: {summary}"));
    (found["compliance"].clone(), found["annotation"].clone())
}

fn show(data: &Path, resource_type: &str, id: &str) -> Value {
    json(&conftrail(data, &["show", resource_type, id, "--json"]))
}

#[test]
fn described_instances_vpcs_and_subnets_are_stored_as_aws_configs_items_and_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    // The groups first, so the instance rule that reads them finds them.
    let (stdout, _) = ingest(data, &fixture("describe-security-groups.json"));
    assert!(stdout.contains("2 items, 2 new versions"), "{stdout}");
    let (stdout, stderr) = ingest(data, &fixture("describe-instances.json"));
    assert!(
        stdout.contains("2 items, 2 new versions") && stdout.contains("0 errors, 0 warnings"),
        "{stdout}\n{stderr}"
    );
    let (stdout, _) = ingest(data, &fixture("describe-subnets.json"));
    assert!(
        stdout.contains("2 items, 2 new versions") && stdout.contains("0 warnings"),
        "{stdout}"
    );
    // A VPC's description does not say its region.
    let (stdout, stderr) = ingest(data, &fixture("describe-vpcs.json"));
    assert!(
        stdout.contains("1 items, 1 new versions") && stdout.contains("1 warnings"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "warning: {}: Vpcs[0]: awsRegion: ",
            fixture("describe-vpcs.json")
        )),
        "{stderr}"
    );

    // The bastion, as AWS Config writes an instance: camelCase, the zone's region, the
    // placement's zone, AWS Config's times, its relationships.
    let bastion = show(data, "AWS::EC2::Instance", BASTION);
    assert_eq!(bastion["configurationItemVersion"], "1.3", "{bastion}");
    assert_eq!(bastion["awsAccountId"], ACCOUNT);
    assert_eq!(bastion["awsRegion"], "us-east-1");
    assert_eq!(bastion["availabilityZone"], "us-east-1a");
    assert_eq!(
        bastion["ARN"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{BASTION}")
    );
    assert_eq!(bastion["tags"]["Name"], "bastion");
    let configuration = &bastion["configuration"];
    assert_eq!(configuration["instanceId"], BASTION);
    assert_eq!(configuration["publicIpAddress"], "203.0.113.10");
    assert_eq!(
        configuration["networkInterfaces"][0]["association"]["publicIp"],
        "203.0.113.10"
    );
    assert_eq!(
        configuration["networkInterfaces"][0]["privateIpAddresses"][0]["association"]["publicIp"],
        "203.0.113.10"
    );
    assert_eq!(
        configuration["securityGroups"][0],
        serde_json::json!({"groupName": "bastion", "groupId": "sg-0b45710f4d5e6f701"})
    );
    assert_eq!(
        configuration["state"],
        serde_json::json!({"code": 16, "name": "running"})
    );
    assert_eq!(configuration["launchTime"], "2025-02-27T08:15:42.000Z");
    assert_eq!(configuration["placement"]["availabilityZone"], "us-east-1a");
    assert_eq!(
        configuration["tags"][0],
        serde_json::json!({"key": "Name", "value": "bastion"})
    );
    // Members AWS Config does not show are not copied.
    for member in [
        "usageOperationUpdateTime",
        "networkPerformanceOptions",
        "operator",
    ] {
        assert!(
            configuration.get(member).is_none(),
            "{member}: {configuration}"
        );
    }
    assert!(configuration["placement"]
        .get("availabilityZoneId")
        .is_none());
    let mut relationships: Vec<(String, String, String)> = bastion["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or_default().to_string();
            (text("name"), text("resourceType"), text("resourceId"))
        })
        .collect();
    relationships.sort();
    let owned = |name: &str, resource_type: &str, id: &str| {
        (name.to_string(), resource_type.to_string(), id.to_string())
    };
    assert_eq!(
        relationships,
        [
            owned(
                "Contains NetworkInterface",
                "AWS::EC2::NetworkInterface",
                "eni-0a1b2c3d4e5f60701"
            ),
            owned(
                "Is associated with SecurityGroup",
                "AWS::EC2::SecurityGroup",
                "sg-0b45710f4d5e6f701"
            ),
            owned(
                "Is attached to Volume",
                "AWS::EC2::Volume",
                "vol-0a1b2c3d4e5f60701"
            ),
            owned("Is contained in Subnet", "AWS::EC2::Subnet", PUBLIC_SUBNET),
            owned("Is contained in Vpc", "AWS::EC2::VPC", VPC),
        ]
    );
    // No public address: AWS Config's null.
    let app = show(data, "AWS::EC2::Instance", APP);
    assert!(app["configuration"]["publicIpAddress"].is_null(), "{app}");
    assert_eq!(app["availabilityZone"], "us-east-1b");

    // The subnet and the VPC, one version each.
    let history = json(&conftrail(
        data,
        &["history", "AWS::EC2::Subnet", PUBLIC_SUBNET, "--json"],
    ));
    let versions = history["configurationItems"]
        .as_array()
        .unwrap_or_else(|| panic!("history: {history}"));
    assert_eq!(versions.len(), 1, "{history}");
    let subnet = &versions[0];
    assert_eq!(subnet["awsRegion"], "us-east-1");
    assert_eq!(subnet["availabilityZone"], "us-east-1a");
    assert_eq!(
        subnet["ARN"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/{PUBLIC_SUBNET}")
    );
    assert_eq!(subnet["configuration"]["mapPublicIpOnLaunch"], true);
    assert!(subnet["configuration"].get("subnetArn").is_none());
    assert_eq!(subnet["relationships"][0]["name"], "Is contained in Vpc");
    assert_eq!(subnet["relationships"][0]["resourceId"], VPC);
    let vpc = show(data, "AWS::EC2::VPC", VPC);
    assert_eq!(vpc["awsRegion"], "");
    assert_eq!(vpc["availabilityZone"], "Multiple Availability Zones");
    assert_eq!(vpc["configuration"]["cidrBlock"], "10.0.0.0/16");
    assert_eq!(vpc["configuration"]["isDefault"], false);
    assert_eq!(vpc["tags"]["Name"], "main");

    // The managed rules judge the described instances as they judge AWS Config's items.
    let summary = json(&conftrail(data, &["compliance", "--json"]));
    let (compliance, annotation) = verdict(&summary, "ec2-instance-no-public-ip", BASTION);
    assert_eq!(compliance, "NON_COMPLIANT", "{summary}");
    assert_eq!(annotation, "The instance has public IP 203.0.113.10.");
    assert_eq!(
        verdict(&summary, "ec2-instance-no-public-ip", APP).0,
        "COMPLIANT",
        "{summary}"
    );
    let (compliance, annotation) = verdict(&summary, "ec2-instance-no-world-open-ssh", BASTION);
    assert_eq!(compliance, "NON_COMPLIANT", "{summary}");
    assert_eq!(
        annotation,
        "Security group sg-0b45710f4d5e6f701 (bastion) opens port 22 to 0.0.0.0/0 (tcp 22)."
    );
    assert_eq!(
        verdict(&summary, "ec2-instance-no-world-open-ssh", APP).0,
        "COMPLIANT",
        "{summary}"
    );
}

/// `aws ec2 describe-instances` output with one good instance and one without its id, next to
/// it in the same reservation, and a reservation without `Instances`.
const BROKEN: &str = r#"{
    "Reservations": [
        {
            "Groups": [],
            "Instances": [
                {
                    "InstanceId": "i-0123456789abcdef0",
                    "InstanceType": "t3.nano",
                    "LaunchTime": "2025-02-27T08:15:42+00:00",
                    "NetworkInterfaces": [],
                    "Placement": {"AvailabilityZone": "eu-west-1c", "GroupName": "", "Tenancy": "default"},
                    "SecurityGroups": [],
                    "State": {"Code": 16, "Name": "running"}
                },
                {
                    "InstanceType": "t3.nano",
                    "LaunchTime": "yesterday",
                    "State": {"Code": 16, "Name": "running"}
                }
            ],
            "OwnerId": "111122223333",
            "ReservationId": "r-0123456789abcdef0"
        },
        {
            "OwnerId": "111122223333",
            "ReservationId": "r-0123456789abcdef1"
        }
    ]
}"#;

#[test]
fn broken_instances_are_reported_by_place_and_the_others_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("describe-instances.json");
    std::fs::write(&file, BROKEN).expect("write");
    let data = dir.path().join("data");
    let out = conftrail(&data, &["ingest", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", common::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for want in [
        "describe-instances.json: Reservations[0].Instances[1]: missing InstanceId",
        "describe-instances.json: Reservations[1]: missing Instances",
    ] {
        assert!(stderr.contains(want), "{want}\n{}", common::describe(&out));
    }
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 items, 1 new versions"),
        "{}",
        common::describe(&out)
    );
    let shown = show(&data, "AWS::EC2::Instance", "i-0123456789abcdef0");
    assert_eq!(shown["awsRegion"], "eu-west-1");
    assert!(shown["configuration"]["publicIpAddress"].is_null());
    let summary = json(&conftrail(
        &data,
        &[
            "compliance",
            "--rule",
            "ec2-instance-no-public-ip",
            "--json",
        ],
    ));
    assert_eq!(
        verdict(&summary, "ec2-instance-no-public-ip", "i-0123456789abcdef0").0,
        "COMPLIANT",
        "{summary}"
    );
}
