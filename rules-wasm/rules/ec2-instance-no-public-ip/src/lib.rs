//! `ec2-instance-no-public-ip`: an instance is NON_COMPLIANT when it has a public IPv4 address
//! (`publicIpAddress`, `publicIp`, or a network interface's `association.publicIp`). IPv6
//! addresses are not considered, as in AWS's rule. An item that cannot show its addresses
//! (`publicIpAddress` or `networkInterfaces` absent, and no address found) is an error.

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
        // Err when the item cannot show the addresses (e.g. publicIpAddress absent)
        let ips = instance.public_ips()?;
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

    #[test]
    fn absent_addresses_are_an_error_not_compliant() {
        // `aws ec2 describe-instances` output recorded as is: PascalCase, no public address
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"InstanceId":"i-1","PrivateIpAddress":"10.0.0.5","NetworkInterfaces":[]}}"#,
        )
        .unwrap();
        let err = testing::evaluate::<Rule>(&context(&[]), &item).unwrap_err();
        assert_eq!(
            err,
            "configuration.publicIpAddress is absent (is the item in AWS Config's shape? keys are camelCase)"
        );
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"PublicIpAddress":"3.3.3.3","NetworkInterfaces":[]}}"#,
        )
        .unwrap();
        let err = testing::evaluate::<Rule>(&context(&[]), &item).unwrap_err();
        assert!(err.contains("found PublicIpAddress: PascalCase"), "{err}");
        // present and empty: no public address
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"publicIpAddress":null,"networkInterfaces":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            testing::evaluate::<Rule>(&context(&[]), &item).unwrap(),
            Evaluation::compliant()
        );
    }

    /// Every configuration item of the real-data set: the rule decides (no error) except for
    /// the AWS documentation's placeholder instance (configuration `{"foo": "bar"}`), and items
    /// of other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        let ctx = conftrail_rule_sdk::testing::context(&[]);
        let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |item, e| {
            item.resource_id() == "i-00000000"
                && e.starts_with("configuration.publicIpAddress is absent")
        });
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
