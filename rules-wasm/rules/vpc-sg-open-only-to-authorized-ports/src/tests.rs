use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata};
use conftrail_rule_sdk::{Compliance, Context, Evaluation, Trigger};

use super::VpcSgOpenOnlyToAuthorizedPorts as Rule;

fn sg(perms: &str, params: &[(&str, &str)]) -> Result<Evaluation, String> {
    let item = item_from_json(&format!(
        r#"{{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{{"ipPermissions":{perms}}}}}"#
    ))
    .unwrap();
    testing::evaluate::<Rule>(&context(params), &item)
}

/// The 8 awslabs test cases, verdicts and annotations exactly.
#[test]
fn oracle_cases() {
    let oracle: serde_json::Value = serde_json::from_str(&realdata(
        "oracle/aws_config_rules_VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS_cases.json",
    ))
    .unwrap();
    let cases = oracle["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    let mut seen = std::collections::BTreeMap::new();
    for case in cases {
        let name = case["test_name"].as_str().unwrap();
        let item = testing::item_from_value(&case["invoking_event"]).unwrap();
        let mut ctx = Context::new("vpc-sg-open-only-to-authorized-ports", Trigger::Change);
        for (k, v) in case["rule_parameters"].as_object().unwrap() {
            ctx = ctx.with_param(k, v.as_str().unwrap());
        }
        let e = testing::evaluate::<Rule>(&ctx, &item).unwrap();
        let expected =
            Compliance::from_aws_str(case["expected_compliance"].as_str().unwrap()).unwrap();
        assert_eq!(e.compliance, expected, "{name}");
        // Absent or null: the reference rule gives no annotation.
        let annotation = match case.get("expected_annotation") {
            None | Some(serde_json::Value::Null) => None,
            Some(a) => Some(
                a.as_str()
                    .expect("expected_annotation is a string")
                    .to_string(),
            ),
        };
        assert_eq!(e.annotation, annotation, "{name}");
        *seen.entry(expected.as_aws_str()).or_insert(0) += 1;
    }
    assert_eq!(seen.get("NOT_APPLICABLE"), Some(&1));
    assert_eq!(seen.get("NON_COMPLIANT"), Some(&4));
    assert_eq!(seen.get("COMPLIANT"), Some(&3));
}

/// The same cases from the copied invoking-event files.
#[test]
fn oracle_event_files() {
    for (file, params, expected) in [
        (
            "test_one_tcp_open_authorized",
            vec![
                ("authorizedTcpPorts", "10000"),
                ("authorizedUdpPorts", "80"),
            ],
            Compliance::Compliant,
        ),
        (
            "test_one_tcp_open_not_authorized",
            vec![("authorizedTcpPorts", "443"), ("authorizedUdpPorts", "80")],
            Compliance::NonCompliant,
        ),
        (
            "test_sg_no_port_open_to_world",
            vec![("authorizedTcpPorts", "443"), ("authorizedUdpPorts", "80")],
            Compliance::NotApplicable,
        ),
        (
            "test_tcp_and_udp_open_authorized",
            vec![
                ("authorizedTcpPorts", "10000-20000"),
                ("authorizedUdpPorts", "80-100"),
            ],
            Compliance::Compliant,
        ),
    ] {
        let item = testing::realdata_item(&format!(
            "config_items/aws_config_rules_tests/VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS__{file}__invokingEvent.json"
        ));
        assert_eq!(
            testing::evaluate::<Rule>(&context(&params), &item)
                .unwrap()
                .compliance,
            expected,
            "{file}"
        );
    }
}

#[test]
fn v12_ip_ranges_and_ipv6_count_as_open() {
    let item = testing::realdata_item("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
    let e = testing::evaluate::<Rule>(&context(&[("authorizedTcpPorts", "443")]), &item).unwrap();
    assert_eq!(
        e.annotation(),
        "One or more TCP ports (22) are not in range of the authorizedTcpPorts parameter (443)."
    );
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipv6Ranges":[{"cidrIpv6":"::/0"}]}]"#,
        &[("authorizedTcpPorts", "443")],
    )
    .unwrap();
    assert_eq!(e, Evaluation::compliant());
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":80,"toPort":80,"ipv6Ranges":[{"cidrIpv6":"::/0"}]}]"#,
        &[("authorizedTcpPorts", "443")],
    )
    .unwrap();
    assert_eq!(e.compliance, Compliance::NonCompliant);
}

#[test]
fn not_open_to_the_world_is_not_applicable_without_annotation() {
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"cidrIp":"10.0.0.0/8"}]}]"#,
        &[("authorizedTcpPorts", "443")],
    )
    .unwrap();
    assert_eq!(e, Evaluation::new(Compliance::NotApplicable, None));
    assert_eq!(
        sg("[]", &[]).unwrap(),
        Evaluation::new(Compliance::NotApplicable, None)
    );
}

/// Real `aws ec2 describe-security-groups` output recorded as is (PascalCase): an error naming
/// the field, not NOT_APPLICABLE ("not open to the world") for a group whose ingress is unseen.
#[test]
fn pascal_case_describe_output_is_an_error_naming_the_field() {
    let item = testing::described_security_group("sg-926a56e8");
    let err =
        testing::evaluate::<Rule>(&context(&[("authorizedTcpPorts", "443")]), &item).unwrap_err();
    assert_eq!(err, "configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's ipPermissions)");
}

#[test]
fn protocol_all_checks_udp_first() {
    let perms = r#"[{"ipProtocol":"-1","ipRanges":["0.0.0.0/0"]}]"#;
    let e = sg(perms, &[("authorizedTcpPorts", "0-65535")]).unwrap();
    assert_eq!(
        e.annotation(),
        "No UDP port is authorized to be open, according to the authorizedUdpPorts parameter."
    );
    let e = sg(
        perms,
        &[
            ("authorizedTcpPorts", "443"),
            ("authorizedUdpPorts", "0-65535"),
        ],
    )
    .unwrap();
    assert_eq!(e.annotation(), "One or more TCP ports (0-65535) are not in range of the authorizedTcpPorts parameter (443).");
    let e = sg(
        perms,
        &[
            ("authorizedTcpPorts", "0-65535"),
            ("authorizedUdpPorts", "0-65535"),
        ],
    )
    .unwrap();
    assert_eq!(e, Evaluation::compliant());
}

#[test]
fn ranges_must_fit_in_one_authorized_range() {
    let perms = r#"[{"ipProtocol":"tcp","fromPort":1020,"toPort":1030,"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}]}]"#;
    let e = sg(perms, &[("authorizedTcpPorts", "443,1020-1025,1026-1030")]).unwrap();
    assert_eq!(e.annotation(), "One or more TCP ports (1020-1030) are not in range of the authorizedTcpPorts parameter (443,1020-1025,1026-1030).");
    assert_eq!(
        sg(perms, &[("authorizedTcpPorts", " 443 , 1000-2000 ")]).unwrap(),
        Evaluation::compliant()
    );
}

#[test]
fn numeric_protocols_and_other_protocols() {
    let e = sg(
        r#"[{"ipProtocol":"17","fromPort":53,"toPort":53,"ipRanges":["0.0.0.0/0"]}]"#,
        &[("authorizedUdpPorts", "123")],
    )
    .unwrap();
    assert_eq!(
        e.annotation(),
        "One or more UDP ports (53) are not in range of the authorizedUdpPorts parameter (123)."
    );
    // icmp open to the world: judged (COMPLIANT), as in the reference
    let e = sg(
        r#"[{"ipProtocol":"icmp","fromPort":-1,"toPort":-1,"ipRanges":["0.0.0.0/0"]}]"#,
        &[],
    )
    .unwrap();
    assert_eq!(e, Evaluation::compliant());
}

#[test]
fn bad_parameters_are_errors() {
    let perms = r#"[]"#;
    assert_eq!(
        sg(perms, &[("authorizedTcpPorts", "443,abc")]).unwrap_err(),
        "parameter authorizedTcpPorts: \"abc\" is not a port number (0-65535)"
    );
    assert_eq!(
        sg(perms, &[("authorizedUdpPorts", "2-1")]).unwrap_err(),
        "parameter authorizedUdpPorts: \"2-1\": the range is reversed (write 1-2)"
    );
    // blank = not set
    let e = sg(
        r#"[{"ipProtocol":"tcp","fromPort":1,"toPort":1,"ipRanges":["0.0.0.0/0"]}]"#,
        &[("authorizedTcpPorts", " ")],
    )
    .unwrap();
    assert_eq!(
        e.annotation(),
        "No TCP port is authorized to be open, according to the authorizedTcpPorts parameter."
    );
}

/// Every configuration item of the real-data set: the rule decides (no error), and items of
/// other resource types are NOT_APPLICABLE.
#[test]
fn realdata_sweep() {
    let ctx = conftrail_rule_sdk::testing::context(&[
        ("authorizedTcpPorts", "443"),
        ("authorizedUdpPorts", "53"),
    ]);
    let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |_, _| false);
    assert!(verdicts
        .iter()
        .any(|(_, e)| !e.annotation().starts_with("This rule does not judge")));
    for (file, item) in conftrail_rule_sdk::testing::realdata_items() {
        if item.resource_type() != "AWS::EC2::SecurityGroup" {
            let e = conftrail_rule_sdk::testing::evaluate::<Rule>(
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
