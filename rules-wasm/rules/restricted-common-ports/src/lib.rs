//! `restricted-common-ports` (AWS: RESTRICTED_INCOMING_TRAFFIC): a security group is
//! NON_COMPLIANT when an ingress permission lets `0.0.0.0/0` or `::/0` reach one of the blocked
//! TCP ports (protocol tcp or -1). Blocked ports: `blockedPort1`..`blockedPort5` (defaults 20,
//! 21, 3389, 3306, 4333; a blank value drops that port) plus the optional `blockedPorts` list
//! (`"8080,9000-9100"`).

use conftrail_rule_sdk::net::{PortList, PortRange};
use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::Ingress;

pub struct RestrictedCommonPorts;

/// The numbered parameters and their defaults, as AWS defines them.
pub const BLOCKED_PORT_DEFAULTS: [(&str, &str); 5] = [
    ("blockedPort1", "20"),
    ("blockedPort2", "21"),
    ("blockedPort3", "3389"),
    ("blockedPort4", "3306"),
    ("blockedPort5", "4333"),
];

impl Rule for RestrictedCommonPorts {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];

    fn metadata() -> Metadata {
        let mut m = Metadata::new(
            "restricted-common-ports",
            "1.0.0",
            "Checks that no security group lets the whole internet (0.0.0.0/0 or ::/0) reach the blocked TCP ports.",
        );
        for (name, default) in BLOCKED_PORT_DEFAULTS {
            m = m.parameter(
                Parameter::optional(
                    name,
                    "A TCP port that must not be open to the world (blank: none).",
                )
                .with_default(default),
            );
        }
        m.parameter(Parameter::optional(
            "blockedPorts",
            "More blocked TCP ports, comma-separated, ranges allowed (e.g. 8080,9000-9100).",
        ))
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let mut blocked = Vec::new();
        for (name, default) in BLOCKED_PORT_DEFAULTS {
            // absent = AWS default; present but blank = no port
            let port = match ctx.param(name) {
                None => Some(default.parse().unwrap()),
                Some(_) => ctx.param_port(name)?,
            };
            blocked.extend(port.map(PortRange::single));
        }
        blocked.extend(ctx.param_ports("blockedPorts")?.unwrap_or_default().0);
        let mut ports = PortList::default();
        for range in blocked {
            if !ports.0.contains(&range) {
                ports.0.push(range);
            }
        }
        let open = Ingress::of(item)?.world_open_tcp_ports(&ports)?;
        if open.is_empty() {
            return Ok(Evaluation::compliant());
        }
        let list: Vec<String> = open
            .iter()
            .map(|(port, via)| format!("{port} via {via}"))
            .collect();
        Ok(Evaluation::non_compliant(format!(
            "Blocked TCP ports open to the world: {}.",
            list.join(", ")
        )))
    }
}

conftrail_rule_sdk::export_rule!(RestrictedCommonPorts);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::RestrictedCommonPorts;

    fn sg(perms: &str, params: &[(&str, &str)]) -> Result<Evaluation, String> {
        let item = item_from_json(&format!(
            r#"{{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{{"ipPermissions":{perms}}}}}"#
        ))
        .unwrap();
        testing::evaluate::<RestrictedCommonPorts>(&context(params), &item)
    }

    /// Real `aws ec2 describe-security-groups` output recorded as is (PascalCase).
    #[test]
    fn pascal_case_describe_output_is_an_error_naming_the_field() {
        // sg-6c7fa917: all traffic from one address; the rule must not judge it unseen
        for id in ["sg-926a56e8", "sg-6c7fa917"] {
            let item = testing::described_security_group(id);
            let err = testing::evaluate::<RestrictedCommonPorts>(&context(&[]), &item).unwrap_err();
            assert_eq!(err, "configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's ipPermissions)", "{id}");
        }
        assert_eq!(sg("[]", &[]), Ok(Evaluation::compliant()));
    }

    #[test]
    fn metadata() {
        let m = testing::metadata::<RestrictedCommonPorts>();
        assert_eq!(m.name, "restricted-common-ports");
        let p: Vec<(String, Option<String>)> = m
            .parameters
            .iter()
            .map(|p| (p.name.clone(), p.default.clone()))
            .collect();
        assert_eq!(p[0], ("blockedPort1".to_string(), Some("20".to_string())));
        assert_eq!(p[4], ("blockedPort5".to_string(), Some("4333".to_string())));
        assert_eq!(p[5], ("blockedPorts".to_string(), None));
    }

    #[test]
    fn realdata() {
        // tcp 22 only: not a default blocked port
        let item = realdata_item("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
        let e = testing::evaluate::<RestrictedCommonPorts>(&context(&[]), &item).unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e =
            testing::evaluate::<RestrictedCommonPorts>(&context(&[("blockedPorts", "22")]), &item)
                .unwrap();
        assert_eq!(
            e.annotation(),
            "Blocked TCP ports open to the world: 22 via 0.0.0.0/0 (tcp 22)."
        );
        // 8080 open to the world in custodian's placebo group
        let item = realdata_item("config_items/custodian/placebo__test_sg_config_diff__config.GetResourceConfigHistory_1.json");
        let e = testing::evaluate::<RestrictedCommonPorts>(
            &context(&[("blockedPort1", "8080")]),
            &item,
        )
        .unwrap();
        assert_eq!(
            e.annotation(),
            "Blocked TCP ports open to the world: 8080 via 0.0.0.0/0 (tcp 8080)."
        );
    }

    #[test]
    fn defaults_and_ranges() {
        let e = sg(r#"[{"ipProtocol":"tcp","fromPort":3389,"toPort":3389,"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}]}]"#, &[]).unwrap();
        assert_eq!(
            e.annotation(),
            "Blocked TCP ports open to the world: 3389 via 0.0.0.0/0 (tcp 3389)."
        );
        let e = sg(r#"[{"ipProtocol":"tcp","fromPort":0,"toPort":1000,"ipv6Ranges":[{"cidrIpv6":"::/0"}]}]"#, &[]).unwrap();
        assert_eq!(e.annotation(), "Blocked TCP ports open to the world: 20 via ::/0 (tcp 0-1000), 21 via ::/0 (tcp 0-1000).");
        let e = sg(
            r#"[{"ipProtocol":"-1","ipRanges":["0.0.0.0/0"]}]"#,
            &[("blockedPorts", "9000-9100")],
        )
        .unwrap();
        assert_eq!(e.compliance, Compliance::NonCompliant);
        assert!(
            e.annotation()
                .ends_with("9000-9100 via 0.0.0.0/0 (all traffic)."),
            "{}",
            e.annotation()
        );
    }

    #[test]
    fn compliant_cases() {
        for perms in [
            r#"[{"ipProtocol":"udp","fromPort":3389,"toPort":3389,"ipRanges":["0.0.0.0/0"]}]"#,
            r#"[{"ipProtocol":"tcp","fromPort":3389,"toPort":3389,"ipRanges":["10.0.0.0/8"]}]"#,
            r#"[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":["0.0.0.0/0"]}]"#,
        ] {
            assert_eq!(sg(perms, &[]).unwrap(), Evaluation::compliant(), "{perms}");
        }
        // a blank parameter drops its port
        let e = sg(
            r#"[{"ipProtocol":"tcp","fromPort":20,"toPort":20,"ipRanges":["0.0.0.0/0"]}]"#,
            &[("blockedPort1", "")],
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn bad_parameters() {
        let perms = r#"[]"#;
        assert_eq!(
            sg(perms, &[("blockedPort2", "ssh")]).unwrap_err(),
            "parameter blockedPort2: \"ssh\" is not a port number (0-65535)"
        );
        assert_eq!(
            sg(perms, &[("blockedPorts", "10-5")]).unwrap_err(),
            "parameter blockedPorts: \"10-5\": the range is reversed (write 5-10)"
        );
    }

    /// Every configuration item of the real-data set: the rule decides (no error), and items of
    /// other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        let ctx = conftrail_rule_sdk::testing::context(&[]);
        let verdicts =
            conftrail_rule_sdk::testing::sweep::<RestrictedCommonPorts>(&ctx, |_, _| false);
        assert!(verdicts
            .iter()
            .any(|(_, e)| !e.annotation().starts_with("This rule does not judge")));
        for (file, item) in conftrail_rule_sdk::testing::realdata_items() {
            if item.resource_type() != "AWS::EC2::SecurityGroup" {
                let e = conftrail_rule_sdk::testing::evaluate::<RestrictedCommonPorts>(
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
}
