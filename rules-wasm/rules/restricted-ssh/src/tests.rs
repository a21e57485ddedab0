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

/// The 1,000 generated security groups of `shared/bench/gen_security_groups.py`, when
/// `CONFTRAIL_BENCH_SG_DIR` points at them: verdicts match `cis_expected.json`, and the time
/// per evaluation is printed (native; run with `--release -- --ignored --nocapture`).
#[test]
#[ignore]
fn bench_generated_security_groups() {
    let Ok(dir) = std::env::var("CONFTRAIL_BENCH_SG_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    let expected: Vec<String> =
        serde_json_expected(&std::fs::read_to_string(dir.join("../cis_expected.json")).unwrap());
    let mut items = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        items.push(item_from_json(&text).unwrap());
    }
    let ctx = context(&[]);
    let mut flagged: Vec<String> = items
        .iter()
        .filter(|i| {
            testing::evaluate::<RestrictedSsh>(&ctx, i)
                .unwrap()
                .compliance
                == Compliance::NonCompliant
        })
        .map(|i| i.resource_id().to_string())
        .collect();
    flagged.sort();
    assert_eq!(flagged, expected);
    // the lazy scanner answers as the serde view on every generated group
    for i in &items {
        let sg: conftrail_rule_sdk::views::ec2::SecurityGroup = i.configuration().unwrap();
        let fast = conftrail_rule_sdk::views::ec2::Ingress::of(i).unwrap();
        assert_eq!(
            fast.world_open().unwrap(),
            sg.world_open().collect::<Vec<_>>()
        );
        assert_eq!(
            fast.world_open_tcp_port(22).unwrap(),
            sg.world_open_tcp_port(22)
        );
        assert_eq!(
            format!(
                "{:?}",
                conftrail_rule_sdk::views::ec2::SecurityGroup::from_item(i).unwrap()
            ),
            format!("{sg:?}")
        );
    }
    let rounds = 20;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for i in &items {
            // fresh wrappers each time, as the exported function builds them
            let item = conftrail_rule_sdk::Item::from_raw(i.raw().clone());
            std::hint::black_box(testing::evaluate::<RestrictedSsh>(&ctx, &item).unwrap());
        }
    }
    let per = start.elapsed() / (rounds * items.len() as u32);
    println!("restricted-ssh: {per:?} per evaluation (native, including an item clone)");
}

fn serde_json_expected(text: &str) -> Vec<String> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
#[ignore]
fn bench_breakdown() {
    let Ok(dir) = std::env::var("CONFTRAIL_BENCH_SG_DIR") else {
        return;
    };
    let mut items = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        items.push(item_from_json(&text).unwrap());
    }
    fn min_of<F: FnMut()>(n: u32, mut f: F) -> std::time::Duration {
        (0..15)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed() / n
            })
            .min()
            .unwrap()
    }
    let n = items.len() as u32;
    let report = |name: &str, d: std::time::Duration| println!("{name}: {d:?}");
    report(
        "ignored-any parse",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(
                    serde_json::from_str::<serde::de::IgnoredAny>(i.configuration_json()).unwrap(),
                );
            }
        }),
    );
    report(
        "SecurityGroup serde",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(
                    serde_json::from_str::<conftrail_rule_sdk::views::ec2::SecurityGroup>(
                        i.configuration_json(),
                    )
                    .unwrap(),
                );
            }
        }),
    );
    report(
        "SecurityGroup scan",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(
                    conftrail_rule_sdk::views::ec2::SecurityGroup::from_item(i).unwrap(),
                );
            }
        }),
    );
    report(
        "Ingress world_open_tcp_port(22)",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(
                    conftrail_rule_sdk::views::ec2::Ingress::of(i)
                        .unwrap()
                        .world_open_tcp_port(22)
                        .unwrap(),
                );
            }
        }),
    );
    report(
        "scanner skip whole",
        min_of(n, || {
            for i in &items {
                let mut s = conftrail_rule_sdk::scan::Scanner::new(i.configuration_json());
                s.skip_value().unwrap();
                std::hint::black_box(s.position());
            }
        }),
    );
    report(
        "Value parse",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(
                    serde_json::from_str::<serde_json::Value>(i.configuration_json()).unwrap(),
                );
            }
        }),
    );
    report(
        "item clone",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(i.raw().clone());
            }
        }),
    );
    let ctx = context(&[]);
    report(
        "evaluate",
        min_of(n, || {
            for i in &items {
                std::hint::black_box(testing::evaluate::<RestrictedSsh>(&ctx, i).unwrap());
            }
        }),
    );
    println!(
        "avg configuration bytes: {}",
        items
            .iter()
            .map(|i| i.configuration_json().len())
            .sum::<usize>()
            / items.len()
    );
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
