//! `ec2-instance-no-public-ip`: an instance is NON_COMPLIANT when it has a public IPv4 address
//! (`publicIpAddress`, `publicIp`, or a network interface's `association.publicIp`). IPv6
//! addresses are not considered, as in AWS's rule.

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::Instance;

pub struct Ec2InstanceNoPublicIp;

impl Rule for Ec2InstanceNoPublicIp {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::Instance"];

    fn metadata() -> Metadata {
        Metadata::new(
            "ec2-instance-no-public-ip",
            "1.0.0",
            "Checks that EC2 instances have no public IPv4 address.",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let instance: Instance = item.configuration()?;
        let ips = instance.public_ips();
        Ok(match ips.as_slice() {
            [] => Evaluation::compliant(),
            [ip] => Evaluation::non_compliant(format!("The instance has public IP {ip}.")),
            _ => Evaluation::non_compliant(format!(
                "The instance has public IPs {}.",
                ips.join(", ")
            )),
        })
    }
}

conftrail_rule_sdk::export_rule!(Ec2InstanceNoPublicIp);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::Ec2InstanceNoPublicIp as Rule;

    #[test]
    fn realdata() {
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &realdata_item("config_items/rdk_example_ci/AWS_EC2_Instance.json"),
        )
        .unwrap();
        assert_eq!(e.annotation(), "The instance has public IP 34.205.29.138.");
        let e = testing::evaluate::<Rule>(&context(&[]), &realdata_item("config_items/awsdocs_examples/sns_ci_change_notification_ec2_instance_relationships.json")).unwrap();
        assert_eq!(e.annotation(), "The instance has public IP 54.175.43.43.");
        // stopped instance without public address
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &realdata_item("config_items/custodian/cwe__event-config-rule-instance.json"),
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn interface_only_address_and_other_types() {
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"publicIpAddress":null,
                "networkInterfaces":[{"association":{"publicIp":"3.3.3.3"}},{"privateIpAddresses":[{"association":{"publicIp":"4.4.4.4"}}]}]}}"#,
        )
        .unwrap();
        let e = testing::evaluate::<Rule>(&context(&[]), &item).unwrap();
        assert_eq!(
            e.annotation(),
            "The instance has public IPs 3.3.3.3, 4.4.4.4."
        );
        let sg = realdata_item("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
        assert_eq!(
            testing::evaluate::<Rule>(&context(&[]), &sg)
                .unwrap()
                .compliance,
            Compliance::NotApplicable
        );
    }

    /// Every configuration item of the real-data set: the rule decides (no error), and items of
    /// other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        let ctx = conftrail_rule_sdk::testing::context(&[]);
        let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |_, _| false);
        assert!(verdicts
            .iter()
            .any(|(_, e)| !e.annotation().starts_with("This rule does not judge")));
        for (file, item) in conftrail_rule_sdk::testing::realdata_items() {
            if item.resource_type() != "AWS::EC2::Instance" {
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
}
