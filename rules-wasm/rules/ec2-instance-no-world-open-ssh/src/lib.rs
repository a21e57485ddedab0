//! `ec2-instance-no-world-open-ssh` (cross-resource): an instance is NON_COMPLIANT when one of
//! its security groups (from `securityGroups`, the network interfaces' `groups` and the
//! item's SecurityGroup relationships) lets `0.0.0.0/0` or `::/0` reach TCP port 22. Each
//! group is read with the host `lookup`. A group that could not be checked (not recorded, or
//! its configuration unreadable, e.g. `ipPermissions` absent) is named in the annotation of a
//! NON_COMPLIANT verdict; when no checked group is open, it makes the evaluation an error
//! naming it: the rule cannot say COMPLIANT for groups it has not seen.

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::{Ingress, Instance, SecurityGroup};

pub struct Ec2InstanceNoWorldOpenSsh;

const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

impl Rule for Ec2InstanceNoWorldOpenSsh {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::Instance"];

    fn metadata() -> Metadata {
        Metadata::new(
            "ec2-instance-no-world-open-ssh",
            "1.0.0",
            "Checks that no security group attached to an EC2 instance lets the whole internet reach TCP port 22 (reads the groups' recorded configurations).",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let instance: Instance = item.configuration()?;
        let mut group_ids: Vec<&str> = instance.security_group_ids()?;
        for r in item.related(SECURITY_GROUP) {
            if let Some(id) = r
                .resource_id
                .as_deref()
                .filter(|id| !group_ids.contains(id))
            {
                group_ids.push(id);
            }
        }
        let (mut open, mut not_recorded, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
        for id in &group_ids {
            let Some(group_item) =
                lookup(SECURITY_GROUP, id).filter(|g| !g.is_deleted() && g.has_configuration())
            else {
                not_recorded.push(*id);
                continue;
            };
            match Ingress::of(&group_item).and_then(|i| i.world_open_tcp_port(22)) {
                Ok(Some(hole)) => {
                    let name = SecurityGroup::from_item(&group_item)
                        .ok()
                        .and_then(|g| g.group_name)
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    open.push(format!("{id}{name} opens port 22 to {hole}"));
                }
                Ok(None) => {}
                Err(e) => unreadable.push((*id, e)),
            }
        }
        if open.is_empty() {
            // Nothing open among the groups seen: only a full check may say COMPLIANT.
            let mut problems = Vec::new();
            if !not_recorded.is_empty() {
                problems.push(format!(
                    "could not check security groups not recorded: {}",
                    not_recorded.join(", ")
                ));
            }
            for (id, e) in &unreadable {
                problems.push(format!("could not read security group {id}: {e}"));
            }
            return if problems.is_empty() {
                Ok(Evaluation::compliant())
            } else {
                Err(problems.join("; "))
            };
        }
        let mut annotation = format!("Security group {}.", open.join("; "));
        if !not_recorded.is_empty() {
            annotation.push_str(&format!(
                " Not recorded, not checked: {}.",
                not_recorded.join(", ")
            ));
        }
        if !unreadable.is_empty() {
            let ids: Vec<&str> = unreadable.iter().map(|(id, _)| *id).collect();
            annotation.push_str(&format!(" Unreadable, not checked: {}.", ids.join(", ")));
        }
        Ok(Evaluation::non_compliant(annotation))
    }
}

conftrail_rule_sdk::export_rule!(Ec2InstanceNoWorldOpenSsh);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::Ec2InstanceNoWorldOpenSsh as Rule;

    /// The rdk security group (tcp 22 from 0.0.0.0/0), recorded under another id.
    fn open_group(id: &str) -> conftrail_rule_sdk::Item {
        item_from_json(
            &realdata("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json")
                .replace("sg-1d56fc66", id),
        )
        .unwrap()
    }

    #[test]
    fn rdk_instance_with_open_group() {
        testing::clear_lookups();
        testing::set_lookup(&open_group("sg-fd215482"));
        let instance = realdata_item("config_items/rdk_example_ci/AWS_EC2_Instance.json");
        let e = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap();
        assert_eq!(
            e.annotation(),
            "Security group sg-fd215482 (launch-wizard-7) opens port 22 to 0.0.0.0/0 (tcp 22)."
        );
        assert_eq!(
            testing::take_lookup_calls(),
            vec![(
                "AWS::EC2::SecurityGroup".to_string(),
                "sg-fd215482".to_string()
            )]
        );
        testing::clear_lookups();
    }

    #[test]
    fn not_recorded_groups_are_an_error_not_compliant() {
        testing::clear_lookups();
        let instance = realdata_item("config_items/rdk_example_ci/AWS_EC2_Instance.json");
        let err = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap_err();
        assert_eq!(
            err,
            "could not check security groups not recorded: sg-fd215482"
        );
    }

    /// Real `aws ec2 describe-security-groups` output recorded as is (PascalCase): the group
    /// opens 22 to the world, but its ipPermissions cannot be seen; the rule must not say
    /// COMPLIANT.
    #[test]
    fn pascal_case_group_is_an_error_not_compliant() {
        testing::clear_lookups();
        testing::set_lookup(&testing::described_security_group("sg-926a56e8"));
        let instance = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"securityGroups":[{"groupId":"sg-926a56e8"}],"networkInterfaces":[]}}"#,
        )
        .unwrap();
        let err = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap_err();
        assert!(
            err.starts_with("could not read security group sg-926a56e8: configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions: "),
            "{err}"
        );
        testing::clear_lookups();
    }

    #[test]
    fn group_with_empty_ip_permissions_is_compliant() {
        testing::clear_lookups();
        testing::set_lookup(
            &item_from_json(r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-empty","configuration":{"groupId":"sg-empty","ipPermissions":[]}}"#).unwrap(),
        );
        let instance = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"securityGroups":[{"groupId":"sg-empty"}],"networkInterfaces":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            testing::evaluate::<Rule>(&context(&[]), &instance).unwrap(),
            Evaluation::compliant()
        );
        testing::clear_lookups();
    }

    /// An open group is an answer: groups that could not be checked are noted, not an error.
    #[test]
    fn open_group_stands_when_others_could_not_be_checked() {
        testing::clear_lookups();
        testing::set_lookup(&open_group("sg-open"));
        testing::set_lookup(&testing::described_security_group("sg-926a56e8"));
        let instance = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"securityGroups":[{"groupId":"sg-926a56e8"},{"groupId":"sg-gone"},{"groupId":"sg-open"}],"networkInterfaces":[]}}"#,
        )
        .unwrap();
        let e = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap();
        assert_eq!(
            e,
            Evaluation::non_compliant("Security group sg-open (launch-wizard-7) opens port 22 to 0.0.0.0/0 (tcp 22). Not recorded, not checked: sg-gone. Unreadable, not checked: sg-926a56e8.")
        );
        testing::clear_lookups();
    }

    #[test]
    fn awsdocs_instance_and_its_recorded_group() {
        testing::clear_lookups();
        // the awsdocs security group sg-3f1fef43 has no ingress rules
        testing::set_lookup(&realdata_item(
            "config_items/awsdocs_examples/sns_ci_change_notification_ec2_securitygroup_diff.json",
        ));
        let instance = realdata_item("config_items/awsdocs_examples/sns_ci_change_notification_ec2_instance_relationships.json");
        let e = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap();
        assert_eq!(e, Evaluation::compliant());
        testing::clear_lookups();
    }

    #[test]
    fn several_groups() {
        testing::clear_lookups();
        testing::set_lookup(&open_group("sg-open"));
        testing::set_lookup(
            &item_from_json(r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-closed","configuration":{"groupName":"closed","ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":["10.0.0.0/8"]}]}}"#).unwrap(),
        );
        testing::set_lookup(
            &item_from_json(r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-v6","configuration":{"groupName":"v6","ipPermissions":[{"ipProtocol":"-1","ipv6Ranges":[{"cidrIpv6":"::/0"}]}]}}"#).unwrap(),
        );
        let instance = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","relationships":[{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-missing","name":"Is associated with SecurityGroup"}],
                "configuration":{"securityGroups":[{"groupId":"sg-closed"},{"groupId":"sg-open"}],"networkInterfaces":[{"groups":[{"groupId":"sg-v6"},{"groupId":"sg-open"}]}]}}"#,
        )
        .unwrap();
        let e = testing::evaluate::<Rule>(&context(&[]), &instance).unwrap();
        assert_eq!(e.compliance, Compliance::NonCompliant);
        assert_eq!(
            e.annotation(),
            "Security group sg-open (launch-wizard-7) opens port 22 to 0.0.0.0/0 (tcp 22); sg-v6 (v6) opens port 22 to ::/0 (all traffic). Not recorded, not checked: sg-missing."
        );
        testing::clear_lookups();
    }

    #[test]
    fn instance_without_groups_and_deleted_instance() {
        testing::clear_lookups();
        let instance = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"securityGroups":[],"networkInterfaces":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            testing::evaluate::<Rule>(&context(&[]), &instance).unwrap(),
            Evaluation::compliant()
        );
        // securityGroups absent (here: EC2 API output) is not "no groups"
        let described = item_from_json(
            r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configuration":{"InstanceId":"i-1","SecurityGroups":[{"GroupId":"sg-1"}]}}"#,
        )
        .unwrap();
        let err = testing::evaluate::<Rule>(&context(&[]), &described).unwrap_err();
        assert!(
            err.starts_with("configuration.securityGroups is absent")
                && err.contains("found SecurityGroups"),
            "{err}"
        );
        let deleted = item_from_json(r#"{"resourceType":"AWS::EC2::Instance","resourceId":"i-1","configurationItemStatus":"ResourceDeleted","configuration":null}"#).unwrap();
        assert_eq!(
            testing::evaluate::<Rule>(&context(&[]), &deleted)
                .unwrap()
                .compliance,
            Compliance::NotApplicable
        );
        assert!(testing::take_lookup_calls().is_empty());
    }

    /// Every configuration item of the real-data set, with the others recorded for `lookup`:
    /// the rule decides, except where a group is not in the set (the real instances use groups
    /// that were not published) and for the AWS documentation's placeholder instance, whose
    /// configuration is `{"foo": "bar"}`; items of other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        testing::clear_lookups();
        for (_, item) in testing::realdata_items() {
            testing::set_lookup(&item);
        }
        let ctx = conftrail_rule_sdk::testing::context(&[]);
        let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |item, e| {
            e.starts_with("could not check security groups not recorded: sg-")
                || (item.resource_id() == "i-00000000"
                    && e.starts_with("configuration.securityGroups is absent"))
        });
        testing::clear_lookups();
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
