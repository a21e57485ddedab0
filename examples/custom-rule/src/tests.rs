use conftrail_rule_sdk::testing::{self, context, item_from_json};
use conftrail_rule_sdk::{Compliance, Evaluation, Item};

use super::{Net, SgIngressFromApprovedCidrs as Rule};

const APPROVED: &[(&str, &str)] = &[("approvedCidrs", "10.0.0.0/8, 192.168.0.0/16,fd00::/8")];

fn sg(permissions: &str) -> Item {
    item_from_json(&format!(
        r#"{{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configurationItemStatus":"OK",
            "configuration":{{"groupId":"sg-1","ipPermissions":{permissions}}}}}"#
    ))
    .unwrap()
}

fn judge(params: &[(&str, &str)], permissions: &str) -> Result<Evaluation, String> {
    testing::evaluate::<Rule>(&context(params), &sg(permissions))
}

fn inside(outer: &str, inner: &str) -> bool {
    Net::parse(outer)
        .unwrap()
        .contains(&Net::parse(inner).unwrap())
}

#[test]
fn metadata() {
    let m = testing::metadata::<Rule>();
    assert_eq!(m.name, "sg-ingress-from-approved-cidrs");
    assert_eq!(m.resource_types, ["AWS::EC2::SecurityGroup"]);
    assert_eq!(m.parameters.len(), 1);
    let p = &m.parameters[0];
    assert_eq!(
        (p.name.as_str(), p.required, p.default.as_deref()),
        ("approvedCidrs", true, None)
    );
}

#[test]
fn cidr_containment() {
    assert!(inside("10.0.0.0/8", "10.20.0.0/16"));
    assert!(inside("10.0.0.0/8", "10.0.0.0/8"));
    assert!(inside("10.0.0.0/8", "10.255.255.255/32"));
    assert!(inside("10.0.0.0/8", "10.1.2.3")); // a bare address is one host
    assert!(!inside("10.0.0.0/8", "10.0.0.0/7")); // wider
    assert!(!inside("10.0.0.0/8", "11.0.0.0/8"));
    assert!(!inside("192.168.0.0/16", "192.169.0.0/24"));
    assert!(inside("0.0.0.0/0", "203.0.113.0/24"));
    assert!(!inside("10.0.0.0/8", "0.0.0.0/0"));
    assert!(inside("172.16.0.0/12", "172.31.255.0/24"));
    assert!(!inside("172.16.0.0/12", "172.32.0.0/24"));
    // IPv6
    assert!(inside("fd00::/8", "fd12:3456:789a::/48"));
    assert!(!inside("fd00::/8", "fe80::/10"));
    assert!(inside("2001:db8::/32", "2001:db8:ffff:ffff::1/128"));
    assert!(!inside("2001:db8::/32", "2001:db9::/48"));
    assert!(inside("::/0", "2001:db8::/32"));
    // never across IP versions, not even ::/0 and 0.0.0.0/0
    assert!(!inside("::/0", "10.0.0.0/8"));
    assert!(!inside("0.0.0.0/0", "::/0"));
    assert!(inside("::/0", "::ffff:10.0.0.0/104")); // IPv4-mapped addresses count as IPv6
}

#[test]
fn compliant_when_every_cidr_is_approved() {
    let e = judge(
        APPROVED,
        r#"[{"ipProtocol":"tcp","fromPort":443,"toPort":443,
             "ipv4Ranges":[{"cidrIp":"10.20.0.0/16","description":"office"}],"ipRanges":["10.20.0.0/16"],
             "ipv6Ranges":[{"cidrIpv6":"fd00:1::/64"}]},
            {"ipProtocol":"tcp","fromPort":5432,"toPort":5432,"ipv4Ranges":[],"ipv6Ranges":[],
             "userIdGroupPairs":[{"groupId":"sg-2","userId":"111122223333"}],"prefixListIds":[{"prefixListId":"pl-1"}]},
            {"ipProtocol":"-1","ipv4Ranges":[{"cidrIp":"192.168.1.0/24"}]}]"#,
    )
    .unwrap();
    assert_eq!(e, Evaluation::compliant());
    // no ingress at all
    assert_eq!(judge(APPROVED, "[]").unwrap(), Evaluation::compliant());
}

#[test]
fn names_the_first_unapproved_cidr_and_ports() {
    let perms = r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"cidrIp":"10.1.0.0/16"}]},
                    {"ipProtocol":"tcp","fromPort":8000,"toPort":8080,"ipv4Ranges":[{"cidrIp":"10.2.0.0/16"},{"cidrIp":"198.51.100.7/32"}]},
                    {"ipProtocol":"-1","ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}]}]"#;
    let e = judge(APPROVED, perms).unwrap();
    assert_eq!(e.compliance, Compliance::NonCompliant);
    assert_eq!(
        e.annotation(),
        "Ingress from 198.51.100.7/32 (tcp 8000-8080) is not inside an approved CIDR (10.0.0.0/8,192.168.0.0/16,fd00::/8)."
    );
    let e = judge(
        APPROVED,
        r#"[{"ipProtocol":"-1","ipRanges":["0.0.0.0/0"]}]"#,
    )
    .unwrap();
    assert!(
        e.annotation()
            .starts_with("Ingress from 0.0.0.0/0 (all traffic) "),
        "{}",
        e.annotation()
    );
}

#[test]
fn ipv6_sources_are_judged_too() {
    let e = judge(
        &[("approvedCidrs", "10.0.0.0/8")],
        r#"[{"ipProtocol":"udp","fromPort":53,"toPort":53,"ipv4Ranges":[{"cidrIp":"10.0.0.0/8"}],"ipv6Ranges":[{"cidrIpv6":"::/0"}]}]"#,
    )
    .unwrap();
    assert_eq!(
        e.annotation(),
        "Ingress from ::/0 (udp 53) is not inside an approved CIDR (10.0.0.0/8)."
    );
    let e = judge(
        APPROVED,
        r#"[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipv6Ranges":[{"cidrIpv6":"2001:db8::/32"}]}]"#,
    )
    .unwrap();
    assert_eq!(e.compliance, Compliance::NonCompliant);
}

#[test]
fn bad_parameters_are_errors() {
    let perms = r#"[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"cidrIp":"10.1.0.0/16"}]}]"#;
    for (value, why) in [
        (None, "at least one CIDR is required (e.g. 10.0.0.0/8)"),
        (
            Some(" , "),
            "at least one CIDR is required (e.g. 10.0.0.0/8)",
        ),
        (
            Some("10.0.0.0/8,banana"),
            r#""banana" is not an IPv4 or IPv6 CIDR"#,
        ),
        (
            Some("10.0.0.0/33"),
            r#""10.0.0.0/33": the prefix length must be 0 to 32"#,
        ),
        (
            Some("fd00::/129"),
            r#""fd00::/129": the prefix length must be 0 to 128"#,
        ),
        (
            Some("10.0.0.0/x"),
            r#""10.0.0.0/x": the prefix length must be 0 to 32"#,
        ),
        (
            Some("10.1.0.0/8"),
            r#""10.1.0.0/8" has bits set after its /8 prefix"#,
        ),
        (
            Some("10.0.0.256/32"),
            r#""10.0.0.256/32" is not an IPv4 or IPv6 CIDR"#,
        ),
    ] {
        let params: Vec<_> = value.map(|v| ("approvedCidrs", v)).into_iter().collect();
        assert_eq!(
            judge(&params, perms).unwrap_err(),
            format!("parameter approvedCidrs: {why}"),
            "{value:?}"
        );
    }
}

#[test]
fn unreadable_configuration_is_an_error() {
    let err = judge(
        APPROVED,
        r#"[{"ipProtocol":"tcp","ipv4Ranges":[{"cidrIp":"10.0.0.0/99"}]}]"#,
    )
    .unwrap_err();
    assert_eq!(
        err,
        r#"configuration: "10.0.0.0/99": the prefix length must be 0 to 32"#
    );
}

/// EC2 API output recorded as is (PascalCase `IpPermissions`): an error naming the field, not
/// COMPLIANT.
#[test]
fn pascal_case_groups_are_an_error_not_compliant() {
    let item = item_from_json(
        r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}}"#,
    )
    .unwrap();
    let err = testing::evaluate::<Rule>(&context(APPROVED), &item).unwrap_err();
    assert!(
        err.starts_with("configuration.ipPermissions is absent")
            && err.contains("found IpPermissions"),
        "{err}"
    );
    assert_eq!(judge(APPROVED, "[]"), Ok(Evaluation::compliant()));
}

#[test]
fn other_types_and_deleted_groups_are_not_applicable() {
    let bucket =
        item_from_json(r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{}}"#)
            .unwrap();
    let deleted = item_from_json(
        r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configurationItemStatus":"ResourceDeleted"}"#,
    )
    .unwrap();
    for item in [bucket, deleted] {
        let e = testing::evaluate::<Rule>(&context(APPROVED), &item).unwrap();
        assert_eq!(e.compliance, Compliance::NotApplicable);
    }
}

/// The security groups of the repository's examples/data snapshot (the README's walkthrough).
#[test]
fn example_data() {
    let snapshot: serde_json::Value =
        serde_json::from_str(include_str!("../../data/01-config-snapshot.json")).unwrap();
    let mut verdicts = Vec::new();
    for ci in snapshot["configurationItems"].as_array().unwrap() {
        let item = testing::item_from_value(ci).unwrap();
        if item.resource_type() == "AWS::EC2::SecurityGroup" {
            let e = testing::evaluate::<Rule>(&context(&[("approvedCidrs", "10.0.0.0/8")]), &item)
                .unwrap();
            verdicts.push((
                item.resource_id().to_string(),
                e.compliance,
                e.annotation().to_string(),
            ));
        }
    }
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = [
        ("sg-0123456789abcdef0", Compliance::Compliant, ""),
        (
            "sg-0a1b2c3d4e5f60718",
            Compliance::NonCompliant,
            "Ingress from 0.0.0.0/0 (tcp 443) is not inside an approved CIDR (10.0.0.0/8).",
        ),
        ("sg-0fedcba9876543210", Compliance::Compliant, ""),
    ];
    assert_eq!(verdicts.len(), expected.len());
    for ((id, c, a), (eid, ec, ea)) in verdicts.iter().zip(expected) {
        assert_eq!((id.as_str(), *c, a.as_str()), (eid, ec, ea));
    }
}

/// items/sg-partner-api.json, the README's `conftrail rules test` example.
#[test]
fn partner_api_item() {
    let item = item_from_json(include_str!("../items/sg-partner-api.json")).unwrap();
    let judge = |approved: &str| {
        testing::evaluate::<Rule>(&context(&[("approvedCidrs", approved)]), &item).unwrap()
    };
    assert_eq!(
        judge("10.0.0.0/8,192.168.0.0/16,fd00::/8").annotation(),
        "Ingress from 203.0.113.0/24 (tcp 8443-8444) is not inside an approved CIDR (10.0.0.0/8,192.168.0.0/16,fd00::/8)."
    );
    assert_eq!(
        judge("10.0.0.0/8,192.168.0.0/16,fd00::/8,203.0.113.0/24"),
        Evaluation::compliant()
    );
    assert_eq!(
        judge("10.20.0.0/16,192.168.0.0/16").annotation(),
        "Ingress from fd00:20::/48 (tcp 443) is not inside an approved CIDR (10.20.0.0/16,192.168.0.0/16)."
    );
}
