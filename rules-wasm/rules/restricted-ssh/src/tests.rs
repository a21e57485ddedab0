use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
use conftrail_rule_sdk::{Compliance, Evaluation};

use super::RestrictedSsh;

fn eval_json(json: &str) -> Evaluation {
    let item = item_from_json(json).unwrap();
    testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap()
}

fn sg(perms: &str) -> Evaluation {
    eval_json(&format!(
        r#"{{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configurationItemStatus":"OK",
            "configuration":{{"groupId":"sg-1","ipPermissions":{perms}}}}}"#
    ))
}

#[test]
fn metadata() {
    let m = testing::metadata::<RestrictedSsh>();
    assert_eq!(m.name, "restricted-ssh");
    assert_eq!(m.version, "1.0.0");
    assert_eq!(m.resource_types, vec!["AWS::EC2::SecurityGroup"]);
    assert!(m.parameters.is_empty());
    assert_eq!(m.triggers, vec![conftrail_rule_sdk::Trigger::Change]);
    assert!(!m.wants_previous);
}

#[test]
fn rdk_v12_security_group_is_non_compliant() {
    let item = realdata_item("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
    let e = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap();
    assert_eq!(e.compliance, Compliance::NonCompliant);
    assert_eq!(
        e.annotation(),
        "Port 22 (SSH) is open to 0.0.0.0/0 (tcp 22)."
    );
}

#[test]
fn custodian_config_rule_event_is_non_compliant() {
    let item = realdata_item("config_items/custodian/cwe__event-config-rule-security-group.json");
    assert_eq!(item.resource_id(), "sg-e2fb6999");
    let e = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap();
    assert_eq!(e.compliance, Compliance::NonCompliant);
}

#[test]
fn placebo_group_with_8080_open_is_compliant() {
    let item = realdata_item("config_items/custodian/placebo__test_sg_config_diff__config.GetResourceConfigHistory_1.json");
    assert_eq!(item.resource_id(), "sg-a38ed1de");
    let e = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap();
    assert_eq!(e, Evaluation::compliant());
}

#[test]
fn awsdocs_group_without_ingress_is_compliant() {
    let item = realdata_item(
        "config_items/awsdocs_examples/sns_ci_change_notification_ec2_securitygroup_diff.json",
    );
    let e = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap();
    assert_eq!(e, Evaluation::compliant());
}

#[test]
fn oracle_groups_with_odd_cidrs_are_compliant() {
    // tcp 0-65535 from 15.0.0.0/0 is not "the world" (string comparison, as AWS)
    let item = realdata_item(
        "config_items/aws_config_rules_tests/VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS__test_sg_no_port_open_to_world__invokingEvent.json",
    );
    let e = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap();
    assert_eq!(e.compliance, Compliance::Compliant);
}

#[test]
fn ipv6_world_is_open() {
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv6Ranges":[{"cidrIpv6":"::/0"}]}]"#,
    );
    assert_eq!(e.annotation(), "Port 22 (SSH) is open to ::/0 (tcp 22).");
}

#[test]
fn all_protocols_is_open() {
    let e = sg(
        r#"[{"ipProtocol":"-1","ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}],"ipRanges":["0.0.0.0/0"]}]"#,
    );
    assert_eq!(
        e.annotation(),
        "Port 22 (SSH) is open to 0.0.0.0/0 (all traffic)."
    );
}

#[test]
fn ranges_spanning_22() {
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":20,"toPort":30,"ipv4Ranges":[{"cidrIp":"10.1.0.0/16"},{"cidrIp":"0.0.0.0/0"}]}]"#,
    );
    assert_eq!(
        e.annotation(),
        "Port 22 (SSH) is open to 0.0.0.0/0 (tcp 20-30)."
    );
    let e = sg(r#"[{"ipProtocol":"6","fromPort":"0","toPort":"65535","ipRanges":["0.0.0.0/0"]}]"#);
    assert_eq!(e.compliance, Compliance::NonCompliant);
    let e = sg(r#"[{"ipProtocol":"tcp","fromPort":23,"toPort":25,"ipRanges":["0.0.0.0/0"]}]"#);
    assert_eq!(e, Evaluation::compliant());
}

#[test]
fn near_misses_are_compliant() {
    for perms in [
        r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"cidrIp":"10.0.0.0/8"}]}]"#,
        r#"[{"ipProtocol":"udp","fromPort":22,"toPort":22,"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}]}]"#,
        r#"[{"ipProtocol":"-1","userIdGroupPairs":[{"groupId":"sg-2"}],"ipRanges":[]}]"#,
        r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv6Ranges":[{"cidrIpv6":"2001:db8::/32"}]}]"#,
        r#"[{"ipProtocol":"icmp","fromPort":-1,"toPort":-1,"ipRanges":["0.0.0.0/0"]}]"#,
        r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":["10.0.0.0/0"]}]"#,
        r#"[]"#,
        r#"null"#,
    ] {
        assert_eq!(sg(perms), Evaluation::compliant(), "{perms}");
    }
}

/// Real `aws ec2 describe-security-groups` output recorded as is (PascalCase): the group opens
/// 22 to 0.0.0.0/0, but the rule cannot see ipPermissions, so it must not say COMPLIANT.
#[test]
fn pascal_case_describe_output_is_an_error_naming_the_field() {
    let item = testing::described_security_group("sg-926a56e8");
    let err = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap_err();
    assert_eq!(err, "configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's ipPermissions)");
    // no ipPermissions at all
    let err = testing::evaluate::<RestrictedSsh>(
        &context(&[]),
        &item_from_json(r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{"groupId":"sg-1"}}"#).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("configuration.ipPermissions is absent"),
        "{err}"
    );
    // present and empty: no ingress, COMPLIANT
    assert_eq!(sg("[]"), Evaluation::compliant());
}

#[test]
fn deleted_and_other_types_are_not_applicable() {
    let e = eval_json(
        r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configurationItemStatus":"ResourceDeleted","configuration":null}"#,
    );
    assert_eq!(e.compliance, Compliance::NotApplicable);
    assert_eq!(e.annotation(), "The resource is deleted (ResourceDeleted).");
    let e = eval_json(r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{}}"#);
    assert_eq!(e.compliance, Compliance::NotApplicable);
}

#[test]
fn broken_configuration_is_an_error() {
    let item = item_from_json(r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{"ipPermissions":{"x":1}}}"#).unwrap();
    let err = testing::evaluate::<RestrictedSsh>(&context(&[]), &item).unwrap_err();
    assert!(err.starts_with("configuration: "), "{err}");
}

/// Every configuration item of the real-data set: the rule decides (no error), and items of
/// other resource types are NOT_APPLICABLE.
#[test]
fn realdata_sweep() {
    let ctx = conftrail_rule_sdk::testing::context(&[]);
    let verdicts = conftrail_rule_sdk::testing::sweep::<RestrictedSsh>(&ctx, |_, _| false);
    assert!(verdicts
        .iter()
        .any(|(_, e)| !e.annotation().starts_with("This rule does not judge")));
    for (file, item) in conftrail_rule_sdk::testing::realdata_items() {
        if item.resource_type() != "AWS::EC2::SecurityGroup" {
            let e = conftrail_rule_sdk::testing::evaluate::<RestrictedSsh>(
                &conftrail_rule_sdk::testing::context(&[]),
                &item,
            )
            .unwrap();
            assert_eq!(
                e.compliance,
                conftrail_rule_sdk::Compliance::NotApplicable,
                "{file}"
            );
        }
    }
}
