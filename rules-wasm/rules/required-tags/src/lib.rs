//! `required-tags`: a resource is NON_COMPLIANT when it lacks one of the tags `tag1Key` ..
//! `tag6Key`, or when a tag's value is not one of the comma-separated `tagNValue` values (when
//! given). As in AWS, `tag1Key` is required and has no default: without it (or blank) every
//! evaluation is the error `parameter tag1Key: a tag key is required` (the host refuses to
//! register the rule without it, and installs this managed rule disabled until it is
//! configured). Blank `tag2Key`..`tag6Key` are skipped. Keys and values are case-sensitive, as
//! in AWS. Judges the resource types AWS's rule supports. An item without tags whose
//! configuration lists some (`Tags`, as EC2 API output has them) is an error: its tags are not
//! where AWS Config records them, so "missing" could not be told from "not seen".

use conftrail_rule_sdk::prelude::*;

pub struct RequiredTags;

impl Rule for RequiredTags {
    const RESOURCE_TYPES: &'static [&'static str] = &[
        "AWS::ACM::Certificate",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::CloudFormation::Stack",
        "AWS::CodeBuild::Project",
        "AWS::DynamoDB::Table",
        "AWS::EC2::CustomerGateway",
        "AWS::EC2::Instance",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NetworkAcl",
        "AWS::EC2::NetworkInterface",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Subnet",
        "AWS::EC2::Volume",
        "AWS::EC2::VPC",
        "AWS::EC2::VPNConnection",
        "AWS::EC2::VPNGateway",
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBSecurityGroup",
        "AWS::RDS::DBSnapshot",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::EventSubscription",
        "AWS::Redshift::Cluster",
        "AWS::Redshift::ClusterParameterGroup",
        "AWS::Redshift::ClusterSecurityGroup",
        "AWS::Redshift::ClusterSnapshot",
        "AWS::Redshift::ClusterSubnetGroup",
        "AWS::S3::Bucket",
    ];

    fn metadata() -> Metadata {
        let mut m = Metadata::new(
            "required-tags",
            "1.0.0",
            "Checks that resources have the required tags, optionally with allowed values.",
        )
        .parameter(Parameter::required(
            "tag1Key",
            "Key of the first required tag.",
        ))
        .parameter(Parameter::optional(
            "tag1Value",
            "Allowed values of tag1Key, comma-separated (any value when blank).",
        ));
        for n in 2..=6 {
            m = m
                .parameter(Parameter::optional(
                    &format!("tag{n}Key"),
                    "Key of another required tag.",
                ))
                .parameter(Parameter::optional(
                    &format!("tag{n}Value"),
                    &format!("Allowed values of tag{n}Key, comma-separated."),
                ));
        }
        m
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let mut problems = Vec::new();
        let mut tags = None;
        for n in 1..=6 {
            let key_param = format!("tag{n}Key");
            let key = match ctx.param_nonempty(&key_param) {
                Some(k) => k,
                None if n == 1 => return Err("parameter tag1Key: a tag key is required".into()),
                None => continue,
            };
            let allowed = ctx.param_csv(&format!("tag{n}Value"));
            // read once tag1Key is known good, so a missing parameter stays the first error
            let tags = match tags {
                Some(t) => t,
                None => *tags.insert(item.recorded_tags()?),
            };
            let value = tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
            match value {
                None => problems.push(format!("Missing tag {key}.")),
                Some(v) if !allowed.is_empty() && !allowed.contains(&v) => problems.push(format!(
                    "Tag {key} is {v:?}, not one of {}.",
                    allowed.join(",")
                )),
                Some(_) => {}
            }
        }
        Ok(if problems.is_empty() {
            Evaluation::compliant()
        } else {
            Evaluation::non_compliant(problems.join(" "))
        })
    }
}

conftrail_rule_sdk::export_rule!(RequiredTags);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::RequiredTags as Rule;

    fn tagged(tags: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(r#"{{"resourceType":"AWS::EC2::Volume","resourceId":"vol-1","tags":{tags},"configuration":{{}}}}"#)).unwrap()
    }

    #[test]
    fn metadata() {
        let m = testing::metadata::<Rule>();
        assert_eq!(m.parameters.len(), 12);
        assert_eq!(
            (
                m.parameters[0].name.as_str(),
                m.parameters[0].default.as_deref(),
                m.parameters[0].required
            ),
            ("tag1Key", None, true)
        );
        assert_eq!(m.parameters[11].name, "tag6Value");
        assert!(m.resource_types.contains(&"AWS::S3::Bucket".to_string()));
    }

    #[test]
    fn one_key() {
        let params = [("tag1Key", "CostCenter")];
        let e = testing::evaluate::<Rule>(&context(&params), &tagged(r#"{"CostCenter":"42"}"#))
            .unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e = testing::evaluate::<Rule>(&context(&params), &tagged(r#"{"costcenter":"42"}"#))
            .unwrap();
        assert_eq!(e.annotation(), "Missing tag CostCenter.");
    }

    #[test]
    fn values_and_several_keys() {
        let params = [
            ("tag1Key", "env"),
            ("tag1Value", "prod, staging"),
            ("tag2Key", "team"),
            ("tag3Key", ""),
            ("tag4Key", "owner"),
        ];
        let e = testing::evaluate::<Rule>(
            &context(&params),
            &tagged(r#"{"env":"prod","team":"web","owner":"x"}"#),
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e =
            testing::evaluate::<Rule>(&context(&params), &tagged(r#"{"env":"dev","owner":"x"}"#))
                .unwrap();
        assert_eq!(
            e.annotation(),
            r#"Tag env is "dev", not one of prod,staging. Missing tag team."#
        );
        // tags given as a list in the item, and an empty value
        let e = testing::evaluate::<Rule>(
            &context(&[("tag1Key", "Name"), ("tag1Value", "")]),
            &tagged(r#"[{"key":"Name","value":""}]"#),
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn realdata() {
        // rdk instance has no tags
        let e = testing::evaluate::<Rule>(
            &context(&[("tag1Key", "Name")]),
            &realdata_item("config_items/rdk_example_ci/AWS_EC2_Instance.json"),
        )
        .unwrap();
        assert_eq!(e.annotation(), "Missing tag Name.");
        // IAM users are not in AWS's list of types
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &realdata_item("config_items/rdk_example_ci/AWS_IAM_User.json"),
        )
        .unwrap();
        assert_eq!(e.compliance, Compliance::NotApplicable);
    }

    #[test]
    fn missing_or_blank_tag1_key_is_an_error() {
        let item = tagged(r#"{"CostCenter":"42"}"#);
        for params in [&[][..], &[("tag1Key", " ")], &[("tag2Key", "CostCenter")]] {
            let err = testing::evaluate::<Rule>(&context(params), &item).unwrap_err();
            assert_eq!(
                err, "parameter tag1Key: a tag key is required",
                "{params:?}"
            );
        }
        // other resource types are still screened out before the parameter is read
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &realdata_item("config_items/rdk_example_ci/AWS_IAM_User.json"),
        )
        .unwrap();
        assert_eq!(e.compliance, Compliance::NotApplicable);
    }

    #[test]
    fn tags_only_inside_the_configuration_are_an_error() {
        // describe-security-groups output recorded as is: the tags sit in configuration.Tags
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configuration":{"GroupId":"sg-1","Tags":[{"Key":"Name","Value":"web"}]}}"#,
        )
        .unwrap();
        let err = testing::evaluate::<Rule>(&context(&[("tag1Key", "Name")]), &item).unwrap_err();
        assert_eq!(
            err,
            "tags: the item has none, but configuration.Tags lists 1 (is the item in AWS Config's shape? it records a resource's tags in the item's tags)"
        );
        // no tags anywhere (configuration.tags empty, as AWS Config writes it): missing
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","tags":{},"configuration":{"groupId":"sg-1","tags":[]}}"#,
        )
        .unwrap();
        let e = testing::evaluate::<Rule>(&context(&[("tag1Key", "Name")]), &item).unwrap();
        assert_eq!(e.annotation(), "Missing tag Name.");
    }

    /// Every configuration item of the real-data set: the rule decides (no error), and items of
    /// other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        let ctx = conftrail_rule_sdk::testing::context(&[("tag1Key", "Name")]);
        let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |_, _| false);
        assert!(verdicts.len() > 20);
    }
}
